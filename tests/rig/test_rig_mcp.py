"""The fake workspace's managed MCP servers (tests/rig/mcp_api.py, the official MCP SDK behind
the workspace's own authentication), and what the real Claude Code does with them: the facts
the product's MCP support is built on (shared/notes/claude-code.md, "MCP servers")."""

from __future__ import annotations

import gc
import http.client
import json
import logging
import shlex
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.rig.sandbox import Sandbox, claude_env
from tests.rig.workspace import FakeWorkspace

SPACE = "01f0c0ffee0000000000000000000001"
INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "test", "version": "1"},
    },
}


def _post(
    url: str, payload: dict[str, Any], token: str | None, session: str | None = None
) -> tuple[int, dict[str, str], bytes]:
    headers = {
        "content-type": "application/json",
        "accept": "application/json, text/event-stream",
    }
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    if session is not None:
        headers["mcp-session-id"] = session
        headers["mcp-protocol-version"] = "2025-06-18"
    req = urllib.request.Request(url, json.dumps(payload).encode(), headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, {k.lower(): v for k, v in err.headers.items()}, err.read()


def _messages(body: bytes) -> list[dict[str, Any]]:
    """JSON-RPC messages from an SSE or JSON answer."""
    text = body.decode()
    if text.lstrip().startswith("{"):
        return [json.loads(text)]
    return [json.loads(line[5:]) for line in text.splitlines() if line.startswith("data:")]


def _tools(ws: FakeWorkspace, path: str, token: str) -> list[str]:
    url = ws.url + path
    status, headers, body = _post(url, INIT, token)
    assert status == 200, body
    session = headers["mcp-session-id"]
    [init] = _messages(body)
    assert init["result"]["serverInfo"]["name"] == "databricks-managed-mcp"
    note = {"jsonrpc": "2.0", "method": "notifications/initialized"}
    assert _post(url, note, token, session)[0] == 202
    status, _, body = _post(
        url, {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}, token, session
    )
    assert status == 200, body
    [listed] = _messages(body)
    return [t["name"] for t in listed["result"]["tools"]]


@pytest.mark.parametrize(
    ("path", "tools"),
    [
        ("/api/2.0/mcp/genie", ["genie_ask", "genie_poll_response"]),
        (f"/api/2.0/mcp/genie/{SPACE}", [f"query_space_{SPACE}", f"poll_response_{SPACE}"]),
        ("/api/2.0/mcp/sql", ["execute_sql", "execute_sql_read_only", "poll_sql_result"]),
        (
            "/api/2.0/mcp/functions/main/tools",
            ["main__tools__lookup_customer", "main__tools__echo"],
        ),
        ("/api/2.0/mcp/functions/main/tools/echo", ["main__tools__echo"]),
        ("/api/2.0/mcp/ai-search/main/docs/handbook_index", ["main__docs__handbook_index"]),
        ("/api/2.0/mcp/external/github_conn", ["external_echo"]),
        (
            "/ai-gateway/mcp-services/system.ai.dbsql",
            ["execute_sql", "execute_sql_read_only", "poll_sql_result"],
        ),
    ],
)
def test_each_documented_path_speaks_mcp_with_a_valid_token(
    workspace: FakeWorkspace, path: str, tools: list[str]
) -> None:
    workspace.ai_gateway = "on"
    token = workspace.issue_token()
    assert _tools(workspace, path, token) == tools
    records = workspace.mcp_requests()
    assert records and all(r.path == path and r.token and r.token.valid for r in records)
    assert token not in repr(workspace.log)


def test_a_rejected_or_missing_token_and_an_unknown_server_never_reach_mcp(
    workspace: FakeWorkspace,
) -> None:
    url = f"{workspace.url}/api/2.0/mcp/genie/{SPACE}"
    assert _post(url, INIT, None)[0] == 401
    token = workspace.issue_token()
    workspace.revoke_access_tokens()
    status, _, body = _post(url, INIT, token)
    assert status == 403 and json.loads(body)["message"] == "Invalid access token."
    fresh = workspace.issue_token()
    status, _, body = _post(f"{workspace.url}/api/2.0/mcp/genie/nope", INIT, fresh)
    assert status == 404 and json.loads(body)["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    workspace.ai_gateway = "on"
    workspace.mcp.suspended_services.add("system.ai.dbsql")
    status, _, body = _post(f"{workspace.url}/ai-gateway/mcp-services/system.ai.dbsql", INIT, fresh)
    assert status == 400 and "administratively suspended" in json.loads(body)["message"]
    assert workspace._mcp_host is None  # nothing reached the MCP server


@pytest.mark.e2e
def test_stopping_the_workspace_ends_an_open_stream_and_leaves_no_task_behind(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An agent's GET stream stays open until a side closes it: stopping the workspace ends
    it, the MCP server's thread finishes, and no pending task is left to be garbage collected
    ("Task was destroyed but it is pending!" at the end of a run)."""
    ws = FakeWorkspace().start()
    try:
        url = f"{ws.url}/api/2.0/mcp/genie/{SPACE}"
        token = ws.issue_token()
        status, headers, _ = _post(url, INIT, token)
        assert status == 200
        session = headers["mcp-session-id"]
        note = {"jsonrpc": "2.0", "method": "notifications/initialized"}
        assert _post(url, note, token, session)[0] == 202
        stream = http.client.HTTPConnection("127.0.0.1", ws.port, timeout=60)
        stream.request(
            "GET",
            f"/api/2.0/mcp/genie/{SPACE}",
            headers={
                "accept": "text/event-stream",
                "authorization": f"Bearer {token}",
                "mcp-session-id": session,
                "mcp-protocol-version": "2025-06-18",
            },
        )
        assert stream.getresponse().status == 200  # open, and kept open by this client
        assert ws._mcp_host is not None
        thread = ws._mcp_host._thread
        assert thread is not None
    finally:
        ws.stop()
    assert not thread.is_alive()
    stream.close()
    with caplog.at_level(logging.ERROR, logger="asyncio"):
        gc.collect()
    assert "Task was destroyed" not in caplog.text


def test_claude_code_runs_the_headers_helper_again_after_a_403_on_a_tool_call(
    sandbox: Sandbox, workspace: FakeWorkspace, claude_bin: str, tmp_path: Path
) -> None:
    """Measured fact behind the product's choice for Claude Code: an http MCP server with a
    `headersHelper` connects with the helper's header, and when a tool call gets a 403 (the
    token was revoked mid-session) Claude Code runs the helper again and retries, so the call
    succeeds with the new token."""
    current = tmp_path / "current"
    calls = tmp_path / "helper-calls"
    helper = tmp_path / "helper.py"
    helper.write_text(
        "import json, sys\n"
        f"open({str(calls)!r}, 'a').write('x')\n"
        f"tok = open({str(current)!r}).read().strip()\n"
        "print(json.dumps({'Authorization': 'Bearer ' + tok}))\n"
    )
    current.write_text(workspace.issue_token())
    tool = f"mcp__genie__query_space_{SPACE}"

    def reply(parsed: dict[str, Any]) -> str | dict[str, Any]:
        content = parsed["messages"][-1].get("content")
        if isinstance(content, list) and any(
            isinstance(c, dict) and c.get("type") == "tool_result" for c in content
        ):
            [result] = [c for c in content if c.get("type") == "tool_result"]
            return "ANSWER " + json.dumps(result["content"])
        # Mid-session, every MCP token the workspace gave out is rejected from now on.
        with workspace._lock:
            mcp_tokens = {r.token.id for r in workspace.mcp_requests() if r.token}
            for tok in workspace._access.values():
                if tok.id in mcp_tokens:
                    tok.revoked = True
        current.write_text(workspace.issue_token())
        return {"tool_use": {"name": tool, "input": {"question": "orders?"}}}

    workspace.reply = reply
    claude_json = sandbox.home / ".claude.json"
    command = f"{shlex.quote(sys.executable)} {shlex.quote(str(helper))}"
    claude_json.write_text(
        json.dumps(
            {
                "hasCompletedOnboarding": True,
                "mcpServers": {
                    "genie": {
                        "type": "http",
                        "url": f"{workspace.url}/api/2.0/mcp/genie/{SPACE}",
                        "headersHelper": command,
                    }
                },
            }
        )
    )
    model_token = workspace.issue_token()
    env = claude_env(workspace.anthropic_base_url, token=model_token)
    result = sandbox.claude(
        ["-p", "ask genie", "--allowedTools", tool], settings={"env": env}, onboarded=False
    )
    assert result.code == 0, result
    assert "GENIE says: 42 orders match" in result.stdout
    statuses = [r.status for r in workspace.mcp_requests()]
    assert 403 in statuses and statuses[-1] == 200
    assert len(calls.read_text()) >= 2  # once to connect, again after the 403
    assert [c[1] for c in workspace.mcp.calls] == [f"query_space_{SPACE}"]
