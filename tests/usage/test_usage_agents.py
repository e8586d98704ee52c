"""`dbx-fmapi usage` counts what the real Codex, Gemini CLI and OpenCode recorded of their runs
against the fake workspace: one row per agent, the tokens the workspace answered with."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.helpers.json_shapes import USAGE_SHAPE, assert_shape
from tests.helpers.programs import token_command
from tests.rig.agent_routes import _tokens
from tests.rig.agents import Agents, codex_toml, opencode_config
from tests.rig.workspace import FakeWorkspace

pytestmark = pytest.mark.e2e

GPT = "databricks-gpt-5"
GEMINI = "databricks-gemini-2-5-pro"


def usage_rows(agents: Agents) -> dict[str, dict[str, Any]]:
    env = {k: str(v) for k, v in agents.xdg.items()}
    env["CODEX_HOME"] = str(agents.codex_home)
    result = agents.sandbox.run(["dbx-fmapi", "usage", "--json"], env=env)
    assert result.code == 0, result
    data = json.loads(result.stdout)
    assert_shape(data, USAGE_SHAPE)
    return {r["agent"]: r for r in data["rows"]}


def posts(workspace: FakeWorkspace, suffix: str) -> list[Any]:
    return [r for r in workspace.log if r.method == "POST" and r.status == 200 and suffix in r.path]


def test_codex_gemini_and_opencode_runs_are_counted(
    agents: Agents,
    workspace: FakeWorkspace,
    codex_bin: str,
    gemini_bin: str,
    opencode_bin: str,
) -> None:
    workspace.reply_text = "the quick brown fox jumps over the lazy dog"
    token = workspace.issue_token()
    script = token_command(agents.sandbox.root, [token] * 5)
    base = workspace.url + "/serving-endpoints"
    agents.write_codex_config(
        codex_toml(base_url=base + "/openai/v1", model=GPT, auth_command=[str(script)])
    )
    assert agents.codex("say hi").code == 0
    result = agents.gemini(GEMINI, "say hi", base_url=base + "/gemini", api_key=token)
    assert result.code == 0, result
    config = opencode_config(
        provider="databricks",
        npm="@ai-sdk/openai-compatible",
        base_url=base,
        models=[GPT],
        api_key="{env:DBX_RIG_TOKEN}",
    )
    agents.write_opencode_config(config)
    result = agents.opencode(f"databricks/{GPT}", "say hi", env={"DBX_RIG_TOKEN": token})
    assert result.code == 0, result

    rows = usage_rows(agents)
    assert set(rows) == {"codex", "gemini", "opencode"}
    [codex] = posts(workspace, "/openai/v1/responses")
    assert (rows["codex"]["model"], rows["codex"]["requests"]) == (GPT, 1)
    assert rows["codex"]["input_tokens"] == _tokens(codex.json.get("input"))
    [gemini] = posts(workspace, ":streamGenerateContent")
    assert (rows["gemini"]["model"], rows["gemini"]["requests"]) == (GEMINI, 1)
    assert rows["gemini"]["input_tokens"] == _tokens(gemini.json.get("contents"))
    chats = posts(workspace, "/chat/completions")
    assert (rows["opencode"]["model"], rows["opencode"]["requests"]) == (GPT, 1)
    assert rows["opencode"]["input_tokens"] in [_tokens(r.json.get("messages")) for r in chats]
    assert all(r["output_tokens"] > 0 for r in rows.values())
