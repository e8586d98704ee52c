"""The MCP servers `dbx-fmapi mcp add` configures, in the agents beside Claude Code, with the real
binaries: Codex gets each as a streamable-HTTP server with our `http_headers_helper` (measured
on Codex 0.171.0: run at connection and again when a tool call gets a 403, and the call is
retried); uninstall restores its config.toml byte for byte. Gemini CLI's and OpenCode's MCP calls
(through the loopback proxy `dbx-fmapi run` starts) are asserted in each one's session through
what setup configures (tests/agents/test_rig_agent_setup.py): each start costs seconds of CPU."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.agent_users import CODEX_USER, GPT
from tests.helpers.mgmt import set_up
from tests.helpers.programs import token_command
from tests.rig.agents import Agents, NetTrap, codex_toml
from tests.rig.sandbox import Sandbox
from tests.rig.workspace import FakeWorkspace

pytestmark = pytest.mark.e2e

SPACE = "01f0c0ffee0000000000000000000001"
# `codex exec` starts its first turn before optional MCP servers are ready unless it waits: a
# setting of the user's (docs/mcp.md), not one dbx-fmapi writes.
GRACE = "mcp_optional_startup_grace_ms = 20000\n"


def test_codex_calls_a_genie_tool_through_our_headers_helper(
    sandbox: Sandbox,
    workspace: FakeWorkspace,
    agents: Agents,
    net_trap: NetTrap,
    codex_bin: str,
) -> None:
    sandbox.link_program("codex", codex_bin)
    config_toml = agents.write_codex_config(GRACE + CODEX_USER)
    before = config_toml.read_bytes()
    env = agents.codex_env()
    set_up(sandbox, workspace, "--agents", "claude,codex", "--codex-model", GPT, env=env)
    added = sandbox.run(["dbx-fmapi", "mcp", "add", "genie", SPACE, "--name", "genie"], env=env)
    assert added.code == 0, added
    assert f"Codex: {config_toml}" in added.stdout
    assert "note: " not in added.stdout  # no agent left out
    text = config_toml.read_text()
    assert "[mcp_servers.genie]" in text and "Bearer" not in text

    def reply(body: dict[str, Any]) -> str | dict[str, Any]:
        outputs = [
            i
            for i in body.get("input") or []
            if isinstance(i, dict) and i.get("type") == "function_call_output"
        ]
        if outputs:
            return "ANSWER " + json.dumps(outputs[-1].get("output"))
        tool = {"name": f"query_space_{SPACE}", "namespace": "mcp__genie"}
        return {"tool_use": {**tool, "input": {"question": "orders?"}}}

    workspace.reply = reply
    result = agents.codex("ask genie", args=["--dangerously-bypass-approvals-and-sandbox"])
    assert result.code == 0, result
    assert "GENIE says: 42 orders match" in result.stdout, result
    assert [c[1] for c in workspace.mcp.calls] == [f"query_space_{SPACE}"]
    statuses = [r.status for r in workspace.mcp_requests() if r.method == "POST"]
    assert statuses and all(s == 200 for s in statuses), statuses
    assert net_trap.hosts() == []

    second = sandbox.run(["dbx-fmapi", "mcp", "add", "sql"], env=env)  # a block of two
    assert second.code == 0 and text.count("[mcp_servers.") == 1
    assert config_toml.read_text().count("[mcp_servers.") == 2
    uninstall = sandbox.run(["dbx-fmapi", "uninstall", "--yes"], env=env)
    assert uninstall.code == 0, uninstall
    assert config_toml.read_bytes() == before


def test_codex_runs_the_headers_helper_again_after_a_403_and_retries_the_call(
    agents: Agents, workspace: FakeWorkspace, codex_bin: str, tmp_path: Path
) -> None:
    """Measured fact behind giving Codex the helper (no bridge): with `http_headers_helper`,
    Codex 0.171.0 runs it to connect, and when a tool call gets a 403 (the token was revoked
    mid-session) runs it again and retries the call, which succeeds with the new token."""
    current, calls, helper = tmp_path / "current", tmp_path / "calls", tmp_path / "helper.py"
    helper.write_text(
        "import json\n"
        f"open({str(calls)!r}, 'a').write('x')\n"
        f"tok = open({str(current)!r}).read().strip()\n"
        "print(json.dumps({'Authorization': 'Bearer ' + tok}))\n"
    )
    current.write_text(workspace.issue_token())

    def reply(body: dict[str, Any]) -> str | dict[str, Any]:
        outputs = [
            i
            for i in body.get("input") or []
            if isinstance(i, dict) and i.get("type") == "function_call_output"
        ]
        if outputs:
            return "ANSWER " + json.dumps(outputs[-1].get("output"))
        with workspace._lock:  # every token an MCP request carried is rejected from now on
            used = {r.token.id for r in workspace.mcp_requests() if r.token}
            for tok in workspace._access.values():
                tok.revoked = tok.revoked or tok.id in used
        current.write_text(workspace.issue_token())
        tool = {"name": f"query_space_{SPACE}", "namespace": "mcp__genie"}
        return {"tool_use": {**tool, "input": {"question": "orders?"}}}

    workspace.reply = reply
    model = token_command(agents.sandbox.root, [workspace.issue_token()] * 5)
    text = codex_toml(
        base_url=workspace.url + "/serving-endpoints/openai/v1",
        model=GPT,
        auth_command=[str(model)],
    )
    command = f"{shlex.quote(sys.executable)} {shlex.quote(str(helper))}"
    text += (
        f"\n[mcp_servers.genie]\nurl = {json.dumps(workspace.url + '/api/2.0/mcp/genie/' + SPACE)}"
        f"\nhttp_headers_helper = {json.dumps(command)}\n"
    )
    agents.write_codex_config(GRACE + text)
    result = agents.codex("ask genie", args=["--dangerously-bypass-approvals-and-sandbox"])
    assert result.code == 0, result
    assert "GENIE says: 42 orders match" in result.stdout, result
    statuses = [r.status for r in workspace.mcp_requests() if r.method == "POST"]
    assert 403 in statuses and statuses[-1] == 200, statuses
    assert len(calls.read_text()) == 2  # once to connect, once after the 403
