"""`--mlflow-experiment` on the rig, without MLflow itself (a stand-in laid out like the pinned
MLflow's environment): setup adds one Stop hook beside the user's, a re-run changes nothing,
`none` and uninstall take exactly ours out; status and doctor say what is set up and what to do;
bad input and a missing MLflow change nothing. The real MLflow and Claude Code:
test_mlflow_claude.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import mlflow_world
from tests.helpers.mgmt import config_of, doctor_json, settings_path
from tests.helpers.usage_world import pat_setup
from tests.rig.checks import assert_refused
from tests.rig.sandbox import Sandbox
from tests.rig.workspace import FakeWorkspace

EXPERIMENT = "/Users/test.user@example.com/claude"
THEIRS = {"type": "command", "command": "echo mine"}


@pytest.fixture
def fake_mlflow(sandbox: Sandbox, tmp_path: Path) -> Path:
    folder = mlflow_world.fake(tmp_path / "mlflow-env")
    sandbox.env["DBX_FMAPI_MLFLOW_VENV"] = str(folder)
    return folder


def users_settings(sandbox: Sandbox) -> bytes:
    path = settings_path(sandbox)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"hooks": {"Stop": [{"hooks": [THEIRS]}]}, "env": {"A": "1"}}
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path.read_bytes()


def stop_commands(sandbox: Sandbox) -> list[str]:
    data = json.loads(settings_path(sandbox).read_text())
    return [h["command"] for g in data.get("hooks", {}).get("Stop", []) for h in g["hooks"]]


def test_setup_adds_the_hook_beside_the_users_and_takes_exactly_it_out(
    sandbox: Sandbox, workspace: FakeWorkspace, fake_mlflow: Path
) -> None:
    before = users_settings(sandbox)
    pat_setup(sandbox, workspace, "--mlflow-experiment", EXPERIMENT)
    cfg = config_of(sandbox)
    assert cfg["mlflow_experiment"] == EXPERIMENT
    hook = cfg["mlflow_hook"]
    assert hook.endswith(f" mlflow-hook --experiment {EXPERIMENT} --profile DEFAULT")
    assert stop_commands(sandbox) == ["echo mine", hook]
    assert "MLFLOW_TRACKING_URI" not in settings_path(sandbox).read_text()

    once = settings_path(sandbox).read_bytes()
    again = pat_setup(sandbox, workspace)  # remembered; nothing to change
    assert settings_path(sandbox).read_bytes() == once, again
    assert stop_commands(sandbox) == ["echo mine", hook]

    status = sandbox.run(["dbx-fmapi", "status"])
    assert f"traces to {EXPERIMENT} (MLflow 3.12.0" in status.stdout, status
    data = json.loads(sandbox.run(["dbx-fmapi", "status", "--json"]).stdout)
    assert data["mlflow"] == {"experiment": EXPERIMENT, "version": "3.12.0", "installed": True}

    pat_setup(sandbox, workspace, "--mlflow-experiment", "none")
    assert stop_commands(sandbox) == ["echo mine"]
    assert "mlflow_experiment" not in config_of(sandbox)

    pat_setup(sandbox, workspace, "--mlflow-experiment", EXPERIMENT)
    result = sandbox.run(["dbx-fmapi", "uninstall", "--yes"])
    assert result.code == 0, result
    assert settings_path(sandbox).read_bytes() == before
    assert sandbox.run(["dbx-fmapi", "uninstall", "--yes"]).code == 0  # twice is harmless


def test_doctor_checks_mlflow_and_the_experiment(
    sandbox: Sandbox, workspace: FakeWorkspace, fake_mlflow: Path
) -> None:
    pat_setup(sandbox, workspace, "--mlflow-experiment", EXPERIMENT)
    _, report = doctor_json(sandbox)
    checks = {c["id"]: c for c in report["checks"]}
    assert checks["mlflow"]["status"] == "PASS", checks["mlflow"]
    missing = checks["mlflow-experiment"]
    assert missing["status"] == "WARN" and "does not exist yet" in missing["detail"], missing
    assert missing["fix"] == (
        f"create it now: databricks experiments create-experiment {EXPERIMENT} --profile DEFAULT"
    )

    workspace.mlflow_experiments[EXPERIMENT] = "1234"
    _, report = doctor_json(sandbox)
    found = {c["id"]: c for c in report["checks"]}["mlflow-experiment"]
    assert (found["status"], found["detail"]) == (
        "PASS",
        f"{EXPERIMENT} exists (experiment id 1234)",
    )

    for item in fake_mlflow.rglob("*.dist-info"):
        item.rmdir()  # MLflow gone
    _, report = doctor_json(sandbox)
    gone = {c["id"]: c for c in report["checks"]}["mlflow"]
    assert gone["status"] == "FAIL" and "MLflow 3.12.0 is not installed" in gone["detail"]
    assert (
        gone["fix"]
        == f"install it: setup-fmapi-claudecode --install --mlflow-experiment {EXPERIMENT}"
    )


def test_the_hook_runs_mlflows_with_a_token_and_never_fails_the_turn(
    sandbox: Sandbox, workspace: FakeWorkspace, fake_mlflow: Path
) -> None:
    pat_setup(sandbox, workspace, "--mlflow-experiment", EXPERIMENT)
    (fake_mlflow / "bin" / "mlflow").write_text(
        '#!/bin/sh\n{ echo "$@"; [ -n "$DATABRICKS_TOKEN" ] && echo token;'
        ' echo "$DATABRICKS_HOST $MLFLOW_TRACKING_URI $MLFLOW_EXPERIMENT_NAME"; cat; }'
        ' > "$(dirname "$0")/ran.tmp"; mv "$(dirname "$0")/ran.tmp" "$(dirname "$0")/ran"\n'
    )
    hook = config_of(sandbox)["mlflow_hook"]
    result = sandbox.run(["/bin/sh", "-c", hook], input='{"session_id": "s"}')
    assert result.code == 0, result
    assert (result.stdout, result.stderr) == ("", "")  # MLflow runs on, in the background
    ran = mlflow_world.ran(fake_mlflow, 4)
    assert ran == [
        "autolog claude stop-hook",
        "token",
        f"{workspace.url} databricks {EXPERIMENT}",
        '{"session_id": "s"}',
    ]

    for item in fake_mlflow.rglob("*.dist-info"):
        item.rmdir()
    result = sandbox.run(["/bin/sh", "-c", hook], input="{}")
    assert (result.code, result.stdout, result.stderr) == (0, "", "")
    log = (sandbox.home / ".config/dbx-fmapi-claude/mlflow-hook.log").read_text()
    assert "MLflow 3.12.0 is not installed: no trace (run dbx-fmapi doctor)" in log


@pytest.mark.parametrize("bad", ["claude", "Users/me/claude", "/Users/me/../claude"])
def test_a_bad_experiment_path_changes_nothing(
    sandbox: Sandbox, workspace: FakeWorkspace, fake_mlflow: Path, bad: str
) -> None:
    pat_setup(sandbox, workspace)
    before = sandbox.snapshot()
    result = sandbox.run(
        ["setup-fmapi-claudecode", "--skip-install", "--host", workspace.url, "--shell", "none"]
        + ["--no-verify", "--mlflow-experiment", bad]
    )
    assert_refused(
        result, 2, says=f"--mlflow-experiment {bad!r} is not", fix="--mlflow-experiment /Users/"
    )
    assert sandbox.snapshot() == before


def test_without_mlflow_and_without_consent_setup_changes_nothing(
    sandbox: Sandbox, workspace: FakeWorkspace, tmp_path: Path
) -> None:
    sandbox.env["DBX_FMAPI_MLFLOW_VENV"] = str(tmp_path / "no-mlflow")
    pat_setup(sandbox, workspace)
    before = sandbox.snapshot(exclude=(".config/dbx-fmapi-claude/locks/*",))
    result = sandbox.run(
        ["setup-fmapi-claudecode", "--skip-install", "--host", workspace.url, "--shell", "none"]
        + ["--no-verify", "--mlflow-experiment", EXPERIMENT]
    )
    assert_refused(
        result, 1, says="MLflow 3.12.0 is not installed", fix="setup-fmapi-claudecode --install"
    )
    assert sandbox.snapshot(exclude=(".config/dbx-fmapi-claude/locks/*",)) == before
    assert not (tmp_path / "no-mlflow").exists()


def test_the_turn_ends_while_mlflows_hook_is_still_running(
    sandbox: Sandbox, workspace: FakeWorkspace, fake_mlflow: Path
) -> None:
    """MLflow's hook takes seconds (its import alone); Claude Code waits for Stop hooks, so ours
    hands the turn over and returns: here MLflow's stand-in blocks until the test lets it go,
    and the hook has returned before that."""
    pat_setup(sandbox, workspace, "--mlflow-experiment", EXPERIMENT)
    (fake_mlflow / "bin" / "mlflow").write_text(
        '#!/bin/sh\ncat > /dev/null\nhere="$(dirname "$0")"\n'
        'while [ ! -e "$here/go" ]; do sleep 0.1; done\necho finished > "$here/ran"\n'
    )
    hook = config_of(sandbox)["mlflow_hook"]
    result = sandbox.run(["/bin/sh", "-c", hook], input="{}", timeout=60)
    assert result.code == 0, result
    assert not (fake_mlflow / "bin" / "ran").exists()  # still waiting for "go"
    (fake_mlflow / "bin" / "go").touch()
    assert mlflow_world.ran(fake_mlflow, 1) == ["finished"]


def test_managed_settings_that_trace_the_experiment_get_no_second_hook(
    sandbox: Sandbox, workspace: FakeWorkspace, fake_mlflow: Path
) -> None:
    """`team managed-settings` puts the same Stop hook where Claude Code runs it beside the
    user's: setup then adds none of its own (each turn would be traced twice), takes out one
    it added before, and says why; another experiment still gets its own hook."""
    users_settings(sandbox)
    pat_setup(sandbox, workspace, "--mlflow-experiment", EXPERIMENT)
    ours = config_of(sandbox)["mlflow_hook"]
    assert stop_commands(sandbox) == ["echo mine", ours]

    managed = sandbox.rig / "managed-settings"
    managed.mkdir(parents=True, exist_ok=True)
    command = f'dbx-fmapi mlflow-hook --experiment "{EXPERIMENT}" --profile acme'
    hook = {"type": "command", "command": command, "timeout": 60}
    (managed / "managed-settings.json").write_text(
        json.dumps({"hooks": {"Stop": [{"hooks": [hook]}]}})
    )
    _, report = doctor_json(sandbox)
    twice = {c["id"]: c for c in report["checks"]}["mlflow"]
    assert (twice["status"], twice["fix"]) == ("WARN", "take ours out: setup-fmapi-claudecode")
    assert "trace into " + EXPERIMENT + " too: every turn is traced twice" in twice["detail"]

    result = pat_setup(sandbox, workspace, "--mlflow-experiment", EXPERIMENT)
    assert (
        f"note  MLflow tracing into {EXPERIMENT} already comes from the managed settings "
        f"({managed / 'managed-settings.json'}): setup adds no Stop hook of its own"
    ) in result.stdout, result
    assert stop_commands(sandbox) == ["echo mine"]
    assert "mlflow_experiment" not in config_of(sandbox)
    again = pat_setup(sandbox, workspace, "--mlflow-experiment", EXPERIMENT)
    assert stop_commands(sandbox) == ["echo mine"], again

    other = "/Users/test.user@example.com/mine"
    pat_setup(sandbox, workspace, "--mlflow-experiment", other)
    assert stop_commands(sandbox) == ["echo mine", config_of(sandbox)["mlflow_hook"]]
    assert config_of(sandbox)["mlflow_experiment"] == other
