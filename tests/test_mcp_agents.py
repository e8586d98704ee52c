"""The MCP servers `dbx-fmapi mcp add` configures, in the agents beside Claude Code, with the real
binaries: Codex gets each as a streamable-HTTP server with our `http_headers_helper` (measured
on Codex 0.171.0: run at connection and again when a tool call gets a 403, and the call is
retried); uninstall restores its config.toml byte for byte."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.mgmt import set_up
from tests.rig.agents import Agents, NetTrap
from tests.rig.sandbox import Sandbox
from tests.rig.workspace import FakeWorkspace
from tests.test_rig_agent_setup import CODEX_USER, GPT, link

pytestmark = pytest.mark.e2e

SPACE = "01f0c0ffee0000000000000000000001"
# `codex exec` starts its first turn before optional MCP servers are ready unless it waits: a
# setting of the user's (docs/mcp.md), not one dbx-fmapi writes.
GRACE = "mcp_optional_startup_grace_ms = 20000\n"


def _has_rejected_check() -> bool:
    import importlib.util

    return importlib.util.find_spec("dbx_fmapi_claude.auth.rejected") is not None


@pytest.mark.parametrize("revoke", [False, True], ids=["plain", "every-token-rejected"])
def test_codex_calls_a_genie_tool_through_our_headers_helper(
    sandbox: Sandbox,
    workspace: FakeWorkspace,
    agents: Agents,
    net_trap: NetTrap,
    codex_bin: str,
    revoke: bool,
) -> None:
    if revoke and not _has_rejected_check():
        pytest.skip("needs the token helper's rejected-token check (auth/rejected.py)")
    link(sandbox, "codex", codex_bin)
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
        if revoke:
            workspace.revoke_access_tokens()
        tool = {"name": f"query_space_{SPACE}", "namespace": "mcp__genie"}
        return {"tool_use": {**tool, "input": {"question": "orders?"}}}

    workspace.reply = reply
    result = agents.codex("ask genie", args=["--dangerously-bypass-approvals-and-sandbox"])
    assert result.code == 0, result
    assert "GENIE says: 42 orders match" in result.stdout, result
    assert [c[1] for c in workspace.mcp.calls] == [f"query_space_{SPACE}"]
    statuses = [r.status for r in workspace.mcp_requests() if r.method == "POST"]
    assert (403 in statuses) == revoke and statuses[-1] == 200, statuses
    assert net_trap.hosts() == []

    second = sandbox.run(["dbx-fmapi", "mcp", "add", "sql"], env=env)  # a block of two
    assert second.code == 0 and text.count("[mcp_servers.") == 1
    assert config_toml.read_text().count("[mcp_servers.") == 2
    uninstall = sandbox.run(["dbx-fmapi", "uninstall", "--yes"], env=env)
    assert uninstall.code == 0, uninstall
    assert config_toml.read_bytes() == before
