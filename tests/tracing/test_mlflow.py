"""`--mlflow-experiment`, in process: MLflow's Stop hook in the settings (added beside the user's
hooks, once, removed exactly), the experiment path rules, the hook's environment (our workspace
and token only), and the hook's fast path."""

from __future__ import annotations

from typing import Any

import pytest

from dbx_fmapi_claude.agents.claude import mlflowhook as claudehook
from dbx_fmapi_claude.cli import main
from dbx_fmapi_claude.commands.mlflow_hook import hook_env
from dbx_fmapi_claude.core.errors import UserError
from dbx_fmapi_claude.tracing import mlflowenv

HOOK = claudehook.command("/opt/my tools/dbx-fmapi", "/Users/a@b.com/claude", "dev")
THEIRS = {"type": "command", "command": "notify-send done"}


def stop_hooks(settings: dict[str, Any]) -> list[str]:
    return [h["command"] for g in settings["hooks"]["Stop"] for h in g["hooks"]]


def test_the_hook_command_quotes_every_word() -> None:
    assert HOOK == (
        "'/opt/my tools/dbx-fmapi' mlflow-hook --experiment /Users/a@b.com/claude --profile dev"
    )
    assert main._mlflow_hook_fast_path(
        ["mlflow-hook", "--experiment", "/Users/a@b.com/claude", "--profile", "dev"]
    ) == {"experiment": "/Users/a@b.com/claude", "profile": "dev"}
    assert main._mlflow_hook_fast_path(["mlflow-hook", "--profile", "dev"]) is None


def test_added_beside_the_users_hooks_once_and_removed_exactly() -> None:
    mine = {
        "model": "x",
        "hooks": {"Stop": [{"hooks": [THEIRS]}], "PreToolUse": [{"matcher": "Bash"}]},
    }
    once = claudehook.add(mine, HOOK, [])
    assert stop_hooks(once) == ["notify-send done", HOOK]
    assert claudehook.add(once, HOOK, [HOOK]) == once  # a re-run changes nothing
    assert claudehook.without(once, [HOOK]) == mine
    assert claudehook.without(claudehook.add({}, HOOK, []), [HOOK]) == {}


def test_an_earlier_command_of_ours_is_replaced_in_place() -> None:
    old = claudehook.command("/old/dbx-fmapi", "/Users/a@b.com/other", "dev")
    before = claudehook.add({"hooks": {"Stop": [{"hooks": [THEIRS]}]}}, old, [])
    after = claudehook.add(before, HOOK, [old])
    assert stop_hooks(after) == ["notify-send done", HOOK]
    assert not claudehook.present(after, old) and claudehook.present(after, HOOK)


@pytest.mark.parametrize(
    "value",
    ["claude", "Users/a/claude", "/claude", "/Users/a/../b", "/Users//claude", "/Users/a/", ""],
)
def test_an_experiment_that_is_not_an_absolute_workspace_path_is_a_usage_error(
    value: str,
) -> None:
    with pytest.raises(UserError) as err:
        mlflowenv.check_experiment(value, "setup-fmapi-claudecode")
    assert err.value.code == 2
    assert "--mlflow-experiment" in err.value.message
    assert err.value.fix and "--mlflow-experiment /Users/" in err.value.fix


def test_good_experiment_paths_and_none() -> None:
    for good in ("/Users/a@b.com/claude code", "/Shared/agents", "/Workspace/Users/a/x"):
        assert mlflowenv.check_experiment(good, "p") == good
    assert mlflowenv.check_experiment(" None ", "p") == "none"


def test_the_hooks_environment_holds_our_workspace_and_token_only() -> None:
    env = {
        "PATH": "/bin",
        "DATABRICKS_CONFIG_PROFILE": "other",
        "DATABRICKS_CLIENT_SECRET": "s3cret",
        "MLFLOW_EXPERIMENT_ID": "42",
        "MLFLOW_TRACKING_TOKEN": "old",
        "SSL_CERT_FILE": "/etc/corp-ca.pem",
    }
    out = hook_env(env, host="https://ws.example.com", token="tok", experiment="/Users/a/x")
    assert out == {
        "PATH": "/bin",
        "SSL_CERT_FILE": "/etc/corp-ca.pem",
        "REQUESTS_CA_BUNDLE": "/etc/corp-ca.pem",
        "DATABRICKS_HOST": "https://ws.example.com",
        "DATABRICKS_TOKEN": "tok",
        "DATABRICKS_AUTH_TYPE": "pat",
        "DATABRICKS_CONFIG_FILE": "/dev/null",
        "MLFLOW_CLAUDE_TRACING_ENABLED": "true",
        "MLFLOW_TRACKING_URI": "databricks",
        "MLFLOW_EXPERIMENT_NAME": "/Users/a/x",
        "MLFLOW_DISABLE_TELEMETRY": "true",
    }
