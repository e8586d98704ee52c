"""`dbx-fmapi status`: read-only and fast: what is configured and how long the token lives, with no
network and no CLI call unless --check asks for one."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.helpers.json_shapes import STATUS_NOT_SET_UP, STATUS_SHAPE, assert_shape
from tests.helpers.mgmt import ANSI, edit_settings, set_up, settings_path
from tests.rig.sandbox import Sandbox
from tests.rig.workspace import FakeWorkspace


def status(sandbox: Sandbox, *args: str, **kw: Any) -> tuple[int, str, str]:
    result = sandbox.run_here(["dbx-fmapi", "status", *args], **kw)
    return result.code, ANSI.sub("", result.stdout), result.stderr


def test_shows_everything_without_network_or_cli_calls(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    set_up(sandbox, workspace)
    before_files = sandbox.snapshot()
    before_cli = len(sandbox.databricks_calls())
    workspace.clear_log()
    code, out, err = status(sandbox)
    assert code == 0, (out, err)
    assert f"Workspace   {workspace.url}" in out
    assert "Profile     DEFAULT" in out
    for role, model in (
        ("model", "databricks-claude-opus-4-6"),
        ("opus", "databricks-claude-opus-4-6"),
        ("sonnet", "databricks-claude-sonnet-4-5"),
        ("haiku", "databricks-claude-haiku-4-5"),
    ):
        assert f"{role:<7}{model}" in out
    assert "Token mode  helper" in out and "TTL 15m" in out
    assert "Token       valid, 59m left" in out or "Token       valid, 60m left" in out
    assert f"{settings_path(sandbox)} (user; managed by setup)" in out
    assert f"bash: block in {sandbox.home / '.bashrc'}" in out
    # Read-only and offline.
    assert workspace.log == []
    assert len(sandbox.databricks_calls()) == before_cli
    assert sandbox.snapshot() == before_files
    assert sandbox.cached_token() not in out + err


def test_json_matches_the_documented_shape(sandbox: Sandbox, workspace: FakeWorkspace) -> None:
    set_up(sandbox, workspace)
    code, out, _ = status(sandbox, "--json")
    assert code == 0
    data = json.loads(out)
    assert_shape(data, STATUS_SHAPE)
    assert data["workspace"] == workspace.url and data["profile"] == "DEFAULT"
    assert data["models"]["haiku"] == "databricks-claude-haiku-4-5"
    assert data["token_mode"] == "helper" and data["ttl_seconds"] == 900
    assert data["settings_file"] == str(settings_path(sandbox))
    managed = [f for f in data["settings_files"] if f["managed"]]
    assert len(managed) == 1 and managed[0]["level"] == "user" and managed[0]["valid"]
    assert "apiKeyHelper" in managed[0]["keys"]
    assert data["shell"] == {
        "name": "bash",
        "rc_file": str(sandbox.home / ".bashrc"),
        "block": True,
    }
    token = data["token"]
    assert token["state"] == "valid" and token["source"] == "record" and not token["checked"]
    assert 3000 < token["seconds_left"] <= 3600
    assert token["expires_at"].endswith("Z")


def test_not_set_up(sandbox: Sandbox) -> None:
    result = sandbox.run_here(["dbx-fmapi", "status"])
    assert result.code == 1
    assert "not set up" in result.stderr and "fix: setup-fmapi-claudecode" in result.stderr
    code, out, _ = status(sandbox, "--json")
    assert code == 1
    assert_shape(json.loads(out), STATUS_NOT_SET_UP)


def test_check_asks_the_cli_and_reports_login_needed(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    set_up(sandbox, workspace)
    before = len(sandbox.databricks_calls())
    code, out, _ = status(sandbox, "--check", "--json")
    assert code == 0
    data = json.loads(out)
    assert_shape(data, STATUS_SHAPE)
    assert data["token"]["checked"] and data["token"]["source"] == "cli"
    assert data["token"]["state"] == "valid"
    assert len(sandbox.databricks_calls()) == before + 1
    # The refresh token is revoked and the access token about to expire: login needed.
    workspace.revoke_refresh_tokens()
    sandbox.set_token_expiry(-5)
    code, out, _ = status(sandbox, "--check", "--json")
    data = json.loads(out)
    assert_shape(data, STATUS_SHAPE)
    assert data["token"]["state"] == "login_needed" and data["token"]["fix"] == "dbx-fmapi login"
    code, out, _ = status(sandbox, "--check")
    assert code == 0 and "login needed" in out and "fix: dbx-fmapi login" in out


def test_expired_recorded_token_is_reported(sandbox: Sandbox, workspace: FakeWorkspace) -> None:
    set_up(sandbox, workspace)
    state = sandbox.home / ".config/dbx-fmapi-claude/token-state.json"
    data = json.loads(state.read_text())
    data["DEFAULT"]["expiry"] -= 3700
    state.write_text(json.dumps(data))
    code, out, _ = status(sandbox)
    assert code == 0
    assert "Token       expired" in out and "the helper fetches a new one" in out


def test_static_mode_reads_the_token_in_the_settings_file(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    set_up(sandbox, workspace, "--token-mode", "static")
    code, out, _ = status(sandbox, "--json")
    data = json.loads(out)
    assert_shape(data, STATUS_SHAPE)
    assert data["token_mode"] == "static" and data["ttl_seconds"] is None
    assert data["token"]["source"] == "settings" and data["token"]["state"] == "valid"
    stale = workspace.issue_token(lifetime=-600)
    edit_settings(sandbox, env={"ANTHROPIC_AUTH_TOKEN": stale})
    code, out, _ = status(sandbox)
    assert "Token       expired 10m ago" in out and "dbx-fmapi-claude refreshes it" in out
    assert stale not in out


def test_lists_other_settings_levels_that_set_our_keys(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    set_up(sandbox, workspace)
    project = sandbox.home / "repo"
    local = edit_settings(
        sandbox, project / ".claude" / "settings.local.json", env={"ANTHROPIC_MODEL": "x"}
    )
    code, out, _ = status(sandbox, cwd=project)
    assert f"{local} (local; also sets ANTHROPIC_MODEL)" in out
    settings_path(sandbox).write_text("{broken")
    code, out, _ = status(sandbox)
    assert code == 0 and "not valid JSON" in out


def test_is_light_no_network_and_no_program(sandbox: Sandbox, workspace: FakeWorkspace) -> None:
    """Status is fast by what it does not do (its speed is the benchmark's to measure): no
    request to the workspace, no `databricks` run, no file written."""
    set_up(sandbox, workspace)
    calls = len(sandbox.databricks_calls())
    workspace.clear_log()
    before = sandbox.snapshot()
    result = sandbox.run_here(["dbx-fmapi", "status"])
    assert result.code == 0, result
    assert workspace.log == []
    assert len(sandbox.databricks_calls()) == calls
    assert sandbox.snapshot() == before


def test_no_colour_unless_a_tty(sandbox: Sandbox, workspace: FakeWorkspace) -> None:
    set_up(sandbox, workspace)
    assert "\x1b[" not in sandbox.run_here(["dbx-fmapi", "status"], env={"TERM": "xterm"}).output
    pexpect = pytest.importorskip("pexpect")
    env = dict(sandbox.env, TERM="xterm-256color")
    child = pexpect.spawn("dbx-fmapi", ["status"], env=env, encoding="utf-8", timeout=60)
    child.expect(pexpect.EOF)
    assert "\x1b[" in (child.before or "")
    env["NO_COLOR"] = ""
    child = pexpect.spawn("dbx-fmapi", ["status"], env=env, encoding="utf-8", timeout=60)
    child.expect(pexpect.EOF)
    assert "\x1b[" not in (child.before or "") and "Workspace" in (child.before or "")


def test_json_lists_the_agents_beside_claude_code(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    """`agents`: one entry per agent set up, in the documented shape, absent with Claude Code
    alone; an agent file edited after setup shows up as its problem."""
    set_up(sandbox, workspace)
    assert "agents" not in json.loads(status(sandbox, "--json")[1])
    set_up(sandbox, workspace, "--agents", "claude,codex,gemini,opencode")
    code, out, _ = status(sandbox, "--json")
    assert code == 0
    data = json.loads(out)
    assert_shape(data, STATUS_SHAPE)
    rows = {a["name"]: a for a in data["agents"]}
    assert list(rows) == ["codex", "gemini", "opencode"]
    assert rows["codex"]["file"] == str(sandbox.home / ".codex" / "config.toml")
    assert rows["codex"]["model"].startswith("databricks-gpt-")
    assert rows["codex"]["launch"] == "codex"
    assert rows["gemini"]["launch"] == "dbx-fmapi run gemini"
    assert rows["opencode"]["model"] == data["models"]["model"]  # Claude's main model
    assert all(a["problem"] is None and a["route"] == data["route"]["name"] for a in rows.values())
    assert all(a["base_url"].startswith(workspace.url) for a in rows.values())
    assert sandbox.cached_token() not in out

    (sandbox.home / ".gemini" / "settings.json").write_text("{}\n")
    data = json.loads(status(sandbox, "--json")[1])
    assert_shape(data, STATUS_SHAPE)
    gemini = next(a for a in data["agents"] if a["name"] == "gemini")
    assert gemini["problem"] and "security.auth.selectedType" in gemini["problem"]
