"""The platform team's commands against the fake workspace, with the real Databricks CLI for the
admin's own login: publish a team file to /Workspace and /Volumes, read it back, and what a bad
file, a missing permission, a missing file or a workspace that is down say (nothing written).
And the managed settings it renders, read by the real Claude Code from /etc/claude-code."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.mgmt import claude_under_managed_settings, team_file
from tests.rig.sandbox import Sandbox
from tests.rig.workspace import FakeWorkspace

SHARED = "/Workspace/Shared/dbx-fmapi/team.json"
VOLUME = "/Volumes/main/tools/config/team.json"


_team = team_file


def _write(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data, indent=2) if not isinstance(data, str) else data)
    return path


@pytest.mark.parametrize("to", [SHARED, VOLUME])
def test_an_admin_publishes_a_team_file_and_a_developer_reads_it_back(
    sandbox: Sandbox, workspace: FakeWorkspace, tmp_path: Path, to: str
) -> None:
    sandbox.signed_in(workspace, profile="admin")
    file = _write(tmp_path / "team.json", _team(workspace))
    result = sandbox.run_here(
        ["dbx-fmapi", "team", "publish", str(file), "--to", to, "--profile", "admin"]
    )
    assert result.code == 0, result
    assert f"published {file} to {to} in {workspace.url}" in result.stdout
    assert (
        f"setup-fmapi-claudecode --host {workspace.url} --profile acme --team {to}" in result.stdout
    )
    stored = workspace.files.workspace.get(to) or workspace.files.volumes.get(to)
    assert stored == file.read_bytes()
    result = sandbox.run_here(
        ["dbx-fmapi", "team", "validate", to, "--host", workspace.url, "--profile", "admin"]
    )
    assert result.code == 0, result
    assert result.stdout.startswith(f"team file {to} is valid (version 1): host, profile")
    assert "locked: models, ttl" in result.stdout


def test_validate_checks_the_models_exist_in_the_workspace(
    sandbox: Sandbox, workspace: FakeWorkspace, tmp_path: Path
) -> None:
    sandbox.signed_in(workspace, profile="acme")
    data = _team(workspace)
    data["models"]["opus"] = "databricks-claude-opus-9-9"
    file = _write(tmp_path / "team.json", data)
    result = sandbox.run_here(["dbx-fmapi", "team", "validate", str(file)])
    assert result.code == 1, result
    assert "has no model models.opus = 'databricks-claude-opus-9-9'" in result.stderr
    assert "fix: dbx-fmapi models" in result.stderr
    result = sandbox.run_here(["dbx-fmapi", "team", "validate", str(file), "--offline"])
    assert result.code == 0, result


@pytest.mark.parametrize(
    ("case", "code", "words", "fix"),
    [
        ("missing", 1, f"team file {SHARED} not found in", "check the path"),
        ("denied", 1, f"no permission to read team file {SHARED}", "CAN READ on the file's folder"),
        ("down", 1, f"cannot read team file {SHARED}", "check the URL, your network or VPN"),
        ("bad-json", 2, "is not valid JSON", "dbx-fmapi team validate"),
        ("bad-value", 2, "ttl = 'soon': not a duration", "dbx-fmapi team validate"),
    ],
)
def test_an_unreadable_or_bad_team_file_says_why_and_writes_nothing(
    sandbox: Sandbox,
    workspace: FakeWorkspace,
    tmp_path: Path,
    case: str,
    code: int,
    words: str,
    fix: str,
) -> None:
    sandbox.signed_in(workspace, profile="acme")
    if case == "denied":
        workspace.files.workspace[SHARED] = b"{}"
        workspace.files.denied.add("/Workspace/Shared/dbx-fmapi")
    elif case == "bad-json":
        workspace.files.workspace[SHARED] = b'{"version": 1,'
    elif case == "bad-value":
        workspace.files.workspace[SHARED] = json.dumps({"version": 1, "ttl": "soon"}).encode()
    out = tmp_path / "out"
    before = sandbox.snapshot(
        exclude=(".databricks/*", ".config/dbx-fmapi-claude/locks/*", "*/token-state.json")
    )
    if case == "down":
        # The token is cached and valid; only the workspace's answer is missing.
        sandbox.run_here(["dbx-fmapi", "token", "--profile", "acme"])
        workspace.down()
    result = sandbox.run_here(
        [
            "dbx-fmapi",
            "team",
            "managed-settings",
            SHARED,
            "--out",
            str(out),
            "--host",
            workspace.url,
            "--profile",
            "acme",
        ],
        env={"DBX_FMAPI_HTTP_TIMEOUT": "5"},
    )
    assert result.code == code, result
    [line, fix_line] = result.stderr.strip().splitlines()[-2:]
    assert words in line, result.stderr
    assert fix_line.startswith("  fix: ") and fix in fix_line, result.stderr
    assert not out.exists()
    after = sandbox.snapshot(
        exclude=(".databricks/*", ".config/dbx-fmapi-claude/locks/*", "*/token-state.json")
    )
    assert after == before


def test_managed_settings_never_go_into_the_system_folder_and_need_a_host_for_workspace_paths(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    result = sandbox.run_here(
        ["dbx-fmapi", "team", "managed-settings", SHARED, "--out", "/etc/claude-code"]
    )
    assert result.code == 2
    assert "is the system folder Claude Code reads" in result.stderr
    result = sandbox.run_here(["dbx-fmapi", "team", "validate", SHARED])
    assert result.code == 2 and "needs --host" in result.stderr
    result = sandbox.run_here(
        ["dbx-fmapi", "team", "publish", str(tmp_path / "x.json"), "--to", "/tmp/x"]
    )
    assert result.code == 2 and "is published to /Workspace/... or /Volumes/..." in result.stderr


def _can_unshare() -> bool:
    if sys.platform != "linux" or os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True)
    return probe.returncode == 0


@pytest.mark.e2e
def test_claude_code_reads_the_rendered_managed_settings_with_only_a_cli_login(
    sandbox: Sandbox, workspace: FakeWorkspace, tmp_path: Path, claude_bin: str
) -> None:
    """A developer's HOME with nothing of ours in it, only `databricks auth login` for the team's
    profile; the rendered managed-settings.json bind-mounted over /etc/claude-code in a private
    mount namespace (the real /etc is never touched). Plain `claude -p` answers through the
    workspace with a valid token, and again after every token the workspace gave out expired."""
    if not _can_unshare():
        if os.environ.get("CI") == "true":
            pytest.fail("CI runs as root on Linux with unshare: this test must run there")
        pytest.skip("needs root and unshare -m (a private mount namespace)")
    workspace.reply_text = "pong from managed settings"
    # Tokens of 20 s, a 10 s TTL and a 5 s margin: the second run comes after the first run's
    # token has expired.
    workspace.access_token_lifetime = 20
    team = _write(tmp_path / "team.json", _team(workspace, ttl="10s", margin="5s"))
    out = tmp_path / "managed"
    helper = shutil.which("dbx-fmapi", path=sandbox.env["PATH"])
    assert helper
    result = sandbox.run_here(
        ["dbx-fmapi", "team", "managed-settings", str(team), "--out", str(out), "--helper", helper]
    )
    assert result.code == 0, result
    sandbox.signed_in(workspace, profile="acme")
    assert not (sandbox.home / ".claude").exists()
    # In the namespace, /etc becomes an overlay whose writes land in tmp_path: the managed
    # settings go to /etc/claude-code there, and the real /etc is never written.
    real_etc = Path("/etc/claude-code").exists()

    def ask() -> Any:
        return claude_under_managed_settings(sandbox, tmp_path, out, claude_bin, "-p", "hi")

    sandbox.seed_onboarding()
    first = ask()
    assert first.code == 0, first
    assert first.stdout.strip() == "pong from managed settings"
    [used] = workspace.messages_requests()
    assert used.token is not None and used.token.seconds_left is not None
    time.sleep(used.token.seconds_left + 1)  # until the first run's token has expired
    second = ask()
    assert second.code == 0, second
    requests = workspace.messages_requests()
    assert len(requests) == 2
    assert all(r.token is not None and r.token.valid for r in requests)
    assert requests[0].token is not None and requests[1].token is not None
    assert requests[0].token.id != requests[1].token.id
    assert Path("/etc/claude-code").exists() == real_etc  # the real /etc is as it was
    assert (tmp_path / "etc-overlay" / "upper" / "claude-code" / "managed-settings.json").exists()
