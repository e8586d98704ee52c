"""`dbx-fmapi login`: re-authenticate the configured profile through `databricks auth login`, then
show the new token's lifetime (never the token)."""

from __future__ import annotations

import json
import os

from tests.helpers.cli_versions import CLI_VERSIONS, cli  # noqa: F401 - the fixture
from tests.helpers.mgmt import checks_by_id, doctor_json, fake_claude, set_up, settings_path
from tests.rig.sandbox import Sandbox
from tests.rig.workspace import FakeWorkspace


def login_calls(sandbox: Sandbox) -> list[list[str]]:
    return [c["argv"] for c in sandbox.databricks_calls() if c["argv"][:2] == ["auth", "login"]]


@CLI_VERSIONS
def test_login_repairs_a_revoked_login(sandbox: Sandbox, workspace: FakeWorkspace) -> None:
    fake_claude(sandbox)
    set_up(sandbox, workspace)
    workspace.revoke_refresh_tokens()
    sandbox.set_token_expiry(-5)
    _, report = doctor_json(sandbox)
    assert checks_by_id(report)["token"]["status"] == "FAIL"
    before = len(login_calls(sandbox))

    result = sandbox.run(["dbx-fmapi", "login"], timeout=90)
    assert result.code == 0, result
    calls = login_calls(sandbox)
    assert len(calls) == before + 1
    assert calls[-1][:6] == ["auth", "login", "--host", workspace.url, "--profile", "DEFAULT"]
    assert f"Logged in: profile 'DEFAULT' on {workspace.url}." in result.stdout
    assert "The new token is valid for 59m" in result.stdout or "valid for 60m" in result.stdout
    token = sandbox.cached_token()
    assert workspace.token_state(token) == "valid"
    assert token not in result.output
    # The CLI's login chatter stays off stdout.
    assert "successfully saved" not in result.stdout

    code, report = doctor_json(sandbox)
    assert code == 0 and checks_by_id(report)["token"]["status"] == "PASS"


@CLI_VERSIONS
def test_denied_login_exits_4_with_the_command(sandbox: Sandbox, workspace: FakeWorkspace) -> None:
    set_up(sandbox, workspace)
    workspace.deny_login = True
    result = sandbox.run(["dbx-fmapi", "login"], timeout=90)
    assert result.code == 4, result
    assert f"fix: databricks auth login --host {workspace.url} --profile DEFAULT" in result.stderr


def test_not_set_up(sandbox: Sandbox) -> None:
    result = sandbox.run_here(["dbx-fmapi", "login"])
    assert result.code == 1
    assert "not set up" in result.stderr and "fix: setup-fmapi-claudecode" in result.stderr


def test_unknown_profile_is_a_usage_error(sandbox: Sandbox, workspace: FakeWorkspace) -> None:
    set_up(sandbox, workspace)
    result = sandbox.run_here(["dbx-fmapi", "login", "--profile", "nope"])
    assert result.code == 2, result
    assert "'nope'" in result.stderr and "fix: databricks auth login" in result.stderr
    assert not any(c[-1] == "nope" for c in login_calls(sandbox))


def test_another_profile_uses_its_own_host(sandbox: Sandbox, workspace: FakeWorkspace) -> None:
    set_up(sandbox, workspace)
    with FakeWorkspace() as other:
        sandbox.login(other, profile="second")
        result = sandbox.run(["dbx-fmapi", "login", "--profile", "second"], timeout=90)
        assert result.code == 0, result
        assert login_calls(sandbox)[-1][:6] == [
            "auth",
            "login",
            "--host",
            other.url,
            "--profile",
            "second",
        ]
        assert f"profile 'second' on {other.url}" in result.stdout


def test_static_mode_puts_the_fresh_token_into_settings(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    set_up(sandbox, workspace, "--token-mode", "static")
    path = settings_path(sandbox)
    old = json.loads(path.read_text())["env"]["ANTHROPIC_AUTH_TOKEN"]
    workspace.revoke_access_tokens()
    result = sandbox.run(["dbx-fmapi", "login"], timeout=90)
    assert result.code == 0, result
    new = json.loads(path.read_text())["env"]["ANTHROPIC_AUTH_TOKEN"]
    assert new != old and workspace.token_state(new) == "valid"
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert f"Updated the token in {path}." in result.stdout
    assert new not in result.output


def test_over_ssh_prints_the_port_forwarding_hint(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    set_up(sandbox, workspace)
    result = sandbox.run(
        ["dbx-fmapi", "login"], env={"SSH_CONNECTION": "10.0.0.1 5000 10.0.0.2 22"}, timeout=90
    )
    assert result.code == 0, result
    assert "ssh -L 8020:localhost:8020" in result.stderr
