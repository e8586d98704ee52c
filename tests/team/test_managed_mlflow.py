"""`dbx-fmapi team managed-settings` with `mlflow_experiment`: the managed settings carry setup's
MLflow Stop hook (`dbx-fmapi mlflow-hook`), and the real Claude Code runs it from
/etc/claude-code even where the managed settings allow managed hooks only."""

from __future__ import annotations

import json
import os
import plistlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.mgmt import claude_under_managed_settings, team_file
from tests.rig.sandbox import Sandbox
from tests.rig.workspace import FakeWorkspace

EXPERIMENT = "/Users/dev@example.com/claude code"


def render(
    sandbox: Sandbox, workspace: FakeWorkspace, tmp_path: Path, *args: str, **extra: object
) -> Path:
    tmp_path.mkdir(exist_ok=True)
    team = tmp_path / "team.json"
    team.write_text(json.dumps(team_file(workspace, **extra)))
    out = tmp_path / "managed"
    argv = ["dbx-fmapi", "team", "managed-settings", str(team), "--out", str(out), *args]
    result = sandbox.run(argv)
    assert result.code == 0, result
    return out


def test_the_mlflow_hook_is_in_the_managed_settings(
    sandbox: Sandbox, workspace: FakeWorkspace, tmp_path: Path
) -> None:
    out = render(sandbox, workspace, tmp_path, "--os", "macos", mlflow_experiment=EXPERIMENT)
    managed = json.loads((out / "managed-settings.json").read_text())
    command = f'dbx-fmapi mlflow-hook --experiment "{EXPERIMENT}" --profile acme'
    assert managed["hooks"] == {
        "Stop": [{"hooks": [{"type": "command", "command": command, "timeout": 60}]}]
    }
    profile = plistlib.loads((out / "dbx-fmapi-claude.mobileconfig").read_bytes())
    forced = profile["PayloadContent"][0]["PayloadContent"]["com.anthropic.claudecode"]
    assert forced["Forced"][0]["mcx_preference_settings"]["hooks"] == managed["hooks"]

    off = render(sandbox, workspace, tmp_path / "off", mlflow_experiment="none")
    assert "hooks" not in json.loads((off / "managed-settings.json").read_text())


def test_an_experiment_path_no_shell_can_take_is_refused(
    sandbox: Sandbox, workspace: FakeWorkspace, tmp_path: Path
) -> None:
    team = tmp_path / "team.json"
    team.write_text(json.dumps(team_file(workspace, mlflow_experiment="/Users/dev/exp$HOME")))
    out = tmp_path / "managed"
    argv = ["dbx-fmapi", "team", "managed-settings", str(team), "--out", str(out)]
    result = sandbox.run_here(argv)
    assert result.code == 2, result
    assert "mlflow_experiment '/Users/dev/exp$HOME' cannot be used in a managed hook" in (
        result.stderr
    )
    assert "fix: rename the experiment in the team file" in result.stderr
    assert not out.exists()


def _can_unshare() -> bool:
    if sys.platform != "linux" or os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode == 0


@pytest.mark.e2e
def test_claude_code_runs_the_managed_mlflow_hook_with_managed_hooks_only(
    sandbox: Sandbox, workspace: FakeWorkspace, tmp_path: Path, claude_bin: str
) -> None:
    """The rendered managed-settings.json (plus the admin's own `allowManagedHooksOnly`) in
    /etc/claude-code of a private mount namespace; a developer's own Stop hook in their
    settings. At the end of the turn our managed hook runs (no MLflow in this HOME: it says so
    in its log and the turn ends as usual) and the developer's does not."""
    if not _can_unshare():
        if os.environ.get("CI") == "true":
            pytest.fail("CI runs as root on Linux with unshare: this test must run there")
        pytest.skip("needs root and unshare -m (a private mount namespace)")
    workspace.reply_text = "pong from managed settings"
    helper = shutil.which("dbx-fmapi", path=sandbox.env["PATH"])
    assert helper
    out = render(sandbox, workspace, tmp_path, "--helper", helper, mlflow_experiment=EXPERIMENT)
    path = out / "managed-settings.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "allowManagedHooksOnly": True}))
    sandbox.signed_in(workspace, profile="acme")
    marker = tmp_path / "users-hook-ran"
    own = {"type": "command", "command": f"touch {marker}"}
    (sandbox.home / ".claude").mkdir()
    (sandbox.home / ".claude" / "settings.json").write_text(
        json.dumps({"hooks": {"Stop": [{"hooks": [own]}]}})
    )
    sandbox.seed_onboarding()
    result = claude_under_managed_settings(sandbox, tmp_path, out, claude_bin, "-p", "hi")
    assert result.code == 0, result
    assert result.stdout.strip() == "pong from managed settings"
    log = sandbox.home / ".config" / "dbx-fmapi-claude" / "mlflow-hook.log"
    assert "MLflow 3.12.0 is not installed: no trace" in log.read_text()
    assert not marker.exists()  # managed hooks only: the developer's own did not run
