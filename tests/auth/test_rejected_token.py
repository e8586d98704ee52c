"""Issue 19, item 1: a token the workspace rejects although its expiry says it is good (revoked,
rotated) is replaced within seconds, with the real Claude Code and the real Databricks CLI.

What Claude Code 2.1.332 does (measured, docs/rejected-tokens.md): on a 401 or 403 in helper mode
it runs the helper again about a second later, then retries; the AI Gateway's `400 Invalid Token`
is fatal at once, with no helper run. So the helper checks, with one request, a token it handed
out before (the only one that can have been rejected since) and refreshes a rejected one.
`CLAUDE_CODE_MAX_RETRIES=0` keeps failures short; Claude Code's 401/403 helper re-runs happen
with it too (three attempts).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from dbx_fmapi_claude.auth.rejected import CHECK_PATH, FRESH_FOR
from tests.helpers.rejected import (
    FAST,
    ROUTES,
    later,
    set_up,
    statuses,
)
from tests.rig.sandbox import Sandbox
from tests.rig.workspace import FakeWorkspace


@pytest.mark.parametrize("route", ROUTES)
def test_plain_claude_after_the_token_was_revoked_gets_a_new_one(
    sandbox: Sandbox, workspace: FakeWorkspace, route: str
) -> None:
    set_up(sandbox, workspace, route)
    first = sandbox.claude(["-p", "hi"], env=FAST)
    assert first.code == 0 and "pong" in first.stdout, first
    revoked = sandbox.cached_token()
    workspace.revoke_token(revoked)  # the CLI's cache still says it lives ~an hour
    later()
    workspace.clear_log()

    second = sandbox.claude(["-p", "hi"], env=FAST)

    assert second.code == 0 and "pong" in second.stdout, second
    # the rejected token never reached the model: one check found it, one refresh replaced it
    assert statuses(workspace) == [(200, "valid")]
    checks = workspace.requests(CHECK_PATH)
    assert [(c.status, c.token.state if c.token else None) for c in checks] == [(403, "revoked")]
    assert workspace.refresh_count() == 1
    assert sandbox.cached_token() != revoked


@pytest.mark.parametrize("status", [401, 403])
def test_a_token_revoked_mid_session_is_replaced_at_claudes_next_helper_run(
    sandbox: Sandbox, workspace: FakeWorkspace, status: int
) -> None:
    """Serving endpoints: the first turn asks for a tool; while it runs, the workspace revokes
    every access token (a rotation). The next request is refused (401 or 403); Claude Code runs
    the helper again, which finds the token rejected and refreshes it; the retry succeeds."""
    set_up(sandbox, workspace, "serving-endpoints")
    workspace.invalid_token_status = status
    turns: list[int] = []

    def reply(body: dict[str, Any]) -> str | dict[str, Any]:
        turns.append(1)
        if len(turns) == 1:
            workspace.revoke_access_tokens()
            call = {"command": f"sleep {FRESH_FOR + 1}", "description": "wait"}
            return {"tool_use": {"name": "Bash", "input": call}}
        return "all done"

    workspace.reply = reply
    workspace.clear_log()
    result = sandbox.claude(["-p", "wait a bit", "--allowedTools", "Bash"], env=FAST)

    assert result.code == 0 and "all done" in result.stdout, result
    assert statuses(workspace) == [(200, "valid"), (status, "revoked"), (200, "valid")]
    assert workspace.refresh_count() == 1


@pytest.mark.parametrize("route", ROUTES)
def test_the_wrapper_after_the_token_was_revoked_gets_a_new_one(
    sandbox: Sandbox, workspace: FakeWorkspace, route: str
) -> None:
    set_up(sandbox, workspace, route)
    assert sandbox.run(["dbx-fmapi-claude", "-p", "hi"], env=FAST).code == 0
    workspace.revoke_access_tokens()  # a rotation: every access token refused
    later()
    workspace.clear_log()

    result = sandbox.run(["dbx-fmapi-claude", "-p", "hi"], env=FAST)

    assert result.code == 0 and "pong" in result.stdout, result
    assert statuses(workspace) == [(200, "valid")]
    assert workspace.refresh_count() == 1


@pytest.mark.parametrize("route", ROUTES)
def test_a_refused_refresh_names_the_login_within_one_run(
    sandbox: Sandbox, workspace: FakeWorkspace, route: str
) -> None:
    """The login itself was revoked: no new token can be had. Claude Code shows the helper's
    one line naming `dbx-fmapi login` (it gives up after a few helper failures, seconds); the
    helper alone exits 4 with it and changes nothing."""
    set_up(sandbox, workspace, route)
    assert sandbox.claude(["-p", "hi"], env=FAST).code == 0
    workspace.revoke_access_tokens()
    workspace.revoke_refresh_tokens()
    later()
    workspace.clear_log()

    result = sandbox.claude(["-p", "hi"], env=FAST)

    assert result.code == 1, result
    assert "apiKeyHelper failed: exited 4" in result.stderr, result
    assert "dbx-fmapi login --profile DEFAULT" in result.stderr, result
    assert "Your apiKeyHelper script is failing" in result.stdout, result
    assert all(r.token is None or r.token.state != "valid" for r in workspace.messages_requests())

    later()
    before = sandbox.snapshot()
    helper = sandbox.run_here(["dbx-fmapi", "token"])
    assert helper.code == 4, helper
    assert helper.stdout == ""
    assert "rejected the token of profile 'DEFAULT'" in helper.stderr
    assert "fix: dbx-fmapi login --profile DEFAULT" in helper.stderr
    assert sandbox.snapshot() == before


def test_status_check_asks_the_workspace(sandbox: Sandbox, workspace: FakeWorkspace) -> None:
    set_up(sandbox, workspace, "serving-endpoints")
    ok = sandbox.run_here(["dbx-fmapi", "status", "--check"])
    assert ok.code == 0, ok
    assert "[checked with the workspace]" in ok.stdout
    assert [c.status for c in workspace.requests(CHECK_PATH)] == [200]
    revoked = sandbox.cached_token()
    workspace.revoke_token(revoked)
    workspace.clear_log()

    result = sandbox.run_here(["dbx-fmapi", "status", "--check"])

    assert result.code == 0, result
    assert "the workspace had rejected the token (revoked or rotated)" in result.stdout, result
    assert "[checked with the workspace]" in result.stdout
    assert [c.status for c in workspace.requests(CHECK_PATH)][:1] == [403]
    assert sandbox.cached_token() != revoked  # replaced, as the helper would
    assert workspace.refresh_count() == 1


def test_status_check_reports_a_revoked_pat_as_rejected(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    pat = workspace.issue_pat()
    (sandbox.home / ".databrickscfg").write_text(f"[pat]\nhost = {workspace.url}\ntoken = {pat}\n")
    setup = sandbox.run_here(
        ["setup-fmapi-claudecode", "--host", workspace.url, "--profile", "pat", "--skip-install"]
        + ["--no-verify", "--shell", "none"]
    )
    assert setup.code == 0, setup
    ok = sandbox.run_here(["dbx-fmapi", "status", "--check", "--json"])
    assert json.loads(ok.stdout)["token"]["workspace"] == "accepted", ok
    workspace.revoke_pat(pat)
    before = sandbox.snapshot()

    result = sandbox.run_here(["dbx-fmapi", "status", "--check"])

    assert result.code == 0, result
    assert "rejected — rejected by the workspace although it has not expired" in result.stdout
    assert "fix: create a new personal access token" in result.stdout
    assert pat not in result.output
    data = json.loads(sandbox.run_here(["dbx-fmapi", "status", "--check", "--json"]).stdout)
    assert (data["token"]["state"], data["token"]["workspace"]) == ("rejected", "rejected")
    assert sandbox.snapshot() == before


def test_a_service_principals_revoked_token_is_replaced(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    """M2M: the cached token was handed out before; once the workspace revoked it, the next
    helper run asks the workspace and fetches a new one with the principal's secret."""
    workspace.ai_gateway = "on"
    (sandbox.home / ".databrickscfg").write_text(
        f"[sp]\nhost = {workspace.url}\nclient_id = test-sp\nclient_secret = test-sp-secret\n"
    )
    setup = sandbox.run_here(
        ["setup-fmapi-claudecode", "--host", workspace.url, "--profile", "sp", "--skip-install"]
        + ["--no-verify", "--shell", "none", "--route", "ai-gateway"]
    )
    assert setup.code == 0, setup
    first = sandbox.claude(["-p", "hi"], env=FAST)
    assert first.code == 0 and "pong" in first.stdout, first
    workspace.revoke_access_tokens()
    later()
    workspace.clear_log()

    second = sandbox.claude(["-p", "hi"], env=FAST)

    assert second.code == 0 and "pong" in second.stdout, second
    assert statuses(workspace) == [(200, "valid")]
    assert [c.status for c in workspace.requests(CHECK_PATH)] == [403]
    assert [g for g, ok in workspace.token_requests if ok] == ["client_credentials"]


@pytest.mark.parametrize("name", ["127.0.0.1", "localhost"])
def test_the_check_speaks_tls_and_checks_the_certificate(
    tls_workspace: FakeWorkspace, name: str
) -> None:
    """The check over HTTPS as on every real workspace (the host name goes to socket and ssl as
    ASCII bytes, which skips the idna codec's import): a good token accepted, a revoked one
    rejected, and a certificate not trusted here or not issued for the name says nothing."""
    from dbx_fmapi_claude.auth import rejected

    url = tls_workspace.url.replace("127.0.0.1", name)
    trusted = {"SSL_CERT_FILE": str(tls_workspace.ca_file)}
    good, bad = tls_workspace.issue_token(), tls_workspace.issue_token()
    tls_workspace.revoke_token(bad)
    assert rejected.check(url, good, trusted) == rejected.ACCEPTED
    assert rejected.check(url, bad, trusted) == rejected.REJECTED
    assert rejected.check(url, good, {}) == rejected.UNKNOWN  # its CA is not trusted here
    wrong = url.replace(name, "127.0.0.2")  # the same server, a name its certificate lacks
    assert rejected.check(wrong, good, trusted) == rejected.UNKNOWN
