"""The real Claude Code against the fake workspace: the facts in shared/notes/claude-code.md."""

from __future__ import annotations

import shlex
import sys

import pytest

from tests.rig.sandbox import CODING_AGENT_HEADER, Sandbox, claude_env
from tests.rig.workspace import FakeWorkspace

pytestmark = pytest.mark.e2e

MODEL = "databricks-claude-sonnet-4-5"
FAIL_FAST = {"CLAUDE_CODE_MAX_RETRIES": "0"}


@pytest.fixture(autouse=True)
def _need_claude(claude_bin: str) -> None:
    """Skips (with the reason) when DBX_TEST_CLAUDE_BIN is unset."""


@pytest.mark.parametrize("route", ["serving-endpoints", "ai-gateway"])
def test_claude_gets_reply_with_static_token(
    sandbox: Sandbox, workspace: FakeWorkspace, route: str
) -> None:
    workspace.reply_text = "pong from the fake workspace"
    workspace.ai_gateway = "on"
    token = workspace.issue_token()
    env = claude_env(f"{workspace.url}/{route}/anthropic", token=token, model=MODEL)
    result = sandbox.claude(["-p", "say hi"], settings={"env": env})
    assert result.code == 0, result
    assert result.stdout.strip() == "pong from the fake workspace"

    [req] = workspace.log  # one request, nothing else (no count_tokens, no probes)
    assert req.path == f"/{route}/anthropic/v1/messages" and req.query == {"beta": "true"}
    assert req.token is not None and req.token.matches(token) and req.token.valid
    assert req.api_key is None
    name, value = CODING_AGENT_HEADER.split(": ")
    assert req.headers[name] == value
    assert req.model == MODEL and req.stream
    assert req.headers["anthropic-beta"] == "claude-code-20250219,interleaved-thinking-2025-05-14"
    assert token not in repr(workspace.log)


def test_invalid_token_is_403_once(sandbox: Sandbox, workspace: FakeWorkspace) -> None:
    token = workspace.issue_token()
    workspace.revoke_access_tokens()
    env = claude_env(workspace.anthropic_base_url, token=token)
    result = sandbox.claude(["-p", "say hi"], settings={"env": env})
    assert result.code == 1
    assert result.stdout.startswith("Failed to authenticate. API Error: 403"), result
    [req] = workspace.messages_requests()  # no retry on 403
    assert req.status == 403 and req.token is not None and req.token.state == "revoked"


def test_api_key_helper_through_fake_cli(sandbox: Sandbox, workspace: FakeWorkspace) -> None:
    sandbox.login(workspace)
    extract = "import json,sys; print(json.load(sys.stdin)['access_token'])"
    helper = (
        f"databricks auth token --profile DEFAULT | {shlex.quote(sys.executable)} -c "
        f"{shlex.quote(extract)}"
    )
    settings = {"apiKeyHelper": helper, "env": claude_env(workspace.anthropic_base_url)}
    result = sandbox.claude(["-p", "say hi"], settings=settings)
    assert (result.code, result.stdout.strip()) == (0, "pong"), result
    [req] = workspace.messages_requests()
    token = sandbox.cached_token()
    assert req.token is not None and req.token.matches(token)
    assert req.api_key is not None and req.api_key.matches(token)  # helper: x-api-key too
    assert [c["argv"][:2] for c in sandbox.databricks_calls()] == [
        ["auth", "login"],
        ["auth", "token"],
    ]


def test_not_logged_in_sends_nothing(sandbox: Sandbox, workspace: FakeWorkspace) -> None:
    result = sandbox.claude(
        ["-p", "say hi"], settings={"env": claude_env(workspace.anthropic_base_url)}
    )
    assert result.code == 1 and "Not logged in" in result.output, result
    assert workspace.messages_requests() == []


def test_unknown_model_is_404_twice(sandbox: Sandbox, workspace: FakeWorkspace) -> None:
    env = claude_env(
        workspace.anthropic_base_url, token=workspace.issue_token(), model="databricks-claude-x"
    )
    result = sandbox.claude(["-p", "say hi"], settings={"env": env})
    assert result.code == 1
    assert result.stdout.startswith("There's an issue with the selected model"), result
    reqs = workspace.messages_requests()
    assert [r.status for r in reqs] == [404, 404]
    assert [r.stream for r in reqs] == [True, False]  # the second try is non-streaming


def test_rate_limit_honours_retry_after(sandbox: Sandbox, workspace: FakeWorkspace) -> None:
    env = claude_env(workspace.anthropic_base_url, token=workspace.issue_token())
    workspace.fail("/serving-endpoints/anthropic", 429, times=1, retry_after=1)
    result = sandbox.claude(["-p", "say hi"], settings={"env": env})
    assert (result.code, result.stdout.strip()) == (0, "pong"), result
    first, second = workspace.messages_requests()
    assert (first.status, second.status) == (429, 200)
    assert second.time - first.time >= 0.9

    workspace.clear_log()
    workspace.fail("/serving-endpoints/anthropic", 429, times=1, retry_after=30)
    result = sandbox.claude(["-p", "say hi"], env=FAIL_FAST)
    assert result.code == 1
    assert result.stdout.startswith("API Error: Request rejected (429)"), result
    assert "rate limit" in result.stdout
    assert len(workspace.messages_requests()) == 1


def test_tls_workspace_with_node_extra_ca_certs(
    sandbox: Sandbox, tls_workspace: FakeWorkspace
) -> None:
    env = claude_env(tls_workspace.anthropic_base_url, token=tls_workspace.issue_token())
    untrusted = sandbox.claude(["-p", "say hi"], settings={"env": env}, env=FAIL_FAST)
    assert untrusted.code == 1 and "certificate" in untrusted.stdout.lower(), untrusted
    assert tls_workspace.messages_requests() == []

    assert tls_workspace.ca_file
    env["NODE_EXTRA_CA_CERTS"] = tls_workspace.ca_file
    result = sandbox.claude(["-p", "say hi"], settings={"env": env})
    assert (result.code, result.stdout.strip()) == (0, "pong"), result
    assert len(tls_workspace.messages_requests()) == 1
