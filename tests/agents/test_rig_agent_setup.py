"""`setup --agents` with the real agents and the real (or rig) Databricks CLI: each agent answers
a one-shot prompt through the workspace with the configuration our setup wrote, keeps working
after its token has expired (Gemini CLI's and OpenCode's sessions that outlive several tokens:
tests/agents/test_long_session_agents.py), and `uninstall` leaves each agent's files
byte-identical.

The user's own agent files carry the switches that keep each agent off the network (update
checks, telemetry: docs/agents.md) plus providers, profiles and comments of their own, which
setup must keep. Gemini CLI's session also calls an MCP tool, OpenCode's calls one and exports its
spans and logs: one start (seconds of CPU each) serves the setup, MCP and telemetry checks.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

import pytest

from dbx_fmapi_claude.agents import otelproxy
from tests.helpers.agent_exports import (
    METRICS,
    PREFIX,
    SPANS,
    check_exports,
    no_prompt,
    no_token_in_files,
)
from tests.helpers.agent_users import (
    CODEX_USER,
    GPT,
    gemini_env,
    users_gemini_settings,
)
from tests.helpers.agent_versions import version_of
from tests.helpers.mgmt import config_of, set_up
from tests.rig import otlp_api
from tests.rig.agents import Agents, NetTrap, seed_opencode_plugin
from tests.rig.sandbox import Sandbox
from tests.rig.workspace import FakeWorkspace

pytestmark = pytest.mark.e2e


def uninstall(sandbox: Sandbox, env: dict[str, str | None] | None = None) -> None:
    result = sandbox.run(["dbx-fmapi", "uninstall", "--yes"], env=env)
    assert result.code == 0, result


def test_codex_set_up_answers_and_uninstall_restores_its_file(
    sandbox: Sandbox, workspace: FakeWorkspace, agents: Agents, net_trap: NetTrap, codex_bin: str
) -> None:
    sandbox.link_program("codex", codex_bin)
    config_toml = agents.write_codex_config(CODEX_USER)
    before = config_toml.read_bytes()
    env = agents.codex_env()
    workspace.reply_text = "pong from the workspace"

    out = set_up(sandbox, workspace, "--agents", "claude,codex", "--codex-model", GPT, env=env)
    assert "Codex" in out.stdout and GPT in out.stdout
    text = config_toml.read_text()
    assert "[model_providers.azure]" in text and "[profiles.home]" in text
    cache = json.loads((sandbox.home / ".databricks" / "token-cache.json").read_text())
    tokens = [t["access_token"] for t in cache["tokens"].values()]
    assert tokens and all(t not in text for t in tokens)
    if sys.version_info >= (3, 11):
        import tomllib

        data = tomllib.loads(text)
        auth = data["model_providers"]["databricks"]["auth"]
        assert os.path.basename(auth["command"]) == "dbx-fmapi"
        assert auth["args"][0] == "token"

    result = agents.codex("say hi")
    assert result.code == 0, result
    assert result.stdout.strip() == "pong from the workspace"
    posts = [r for r in workspace.log if r.path.endswith("/responses") and r.method == "POST"]
    answered = [r for r in posts if r.stream]
    assert answered and all(r.model == GPT and r.status == 200 for r in answered)
    assert all(r.token is not None and r.token.valid for r in answered)
    assert net_trap.hosts() == []

    status = sandbox.run(["dbx-fmapi", "status", "--json"], env=env)
    assert status.code == 0, status
    [row] = json.loads(status.stdout)["agents"]
    assert row["name"] == "codex" and row["model"] == GPT and row["problem"] is None
    assert row["file"] == str(config_toml)

    uninstall(sandbox, env)
    assert config_toml.read_bytes() == before


def test_codex_keeps_working_after_its_token_expires(
    sandbox: Sandbox, workspace: FakeWorkspace, agents: Agents, codex_bin: str
) -> None:
    """Short-lived tokens and a short TTL: a Codex run long after the first token died still
    gets a valid one from `dbx-fmapi token`, run by Codex itself."""
    sandbox.link_program("codex", codex_bin)
    agents.write_codex_config(CODEX_USER)
    env = agents.codex_env()
    workspace.access_token_lifetime = 12
    set_up(
        sandbox,
        workspace,
        "--agents",
        "claude,codex",
        "--ttl",
        "3s",
        "--margin",
        "3s",
        "--no-verify",
        env=env,
    )
    first = agents.codex("say hi")
    assert first.code == 0, first
    time.sleep(13)  # the first run's token is dead by now
    second = agents.codex("say hi again")
    assert second.code == 0, second
    answered = [r for r in workspace.log if r.path.endswith("/responses") and r.stream]
    assert len(answered) == 2
    assert all(r.status == 200 and r.token is not None and r.token.valid for r in answered)
    assert answered[0].token.id != answered[1].token.id  # type: ignore[union-attr]  # checked


def test_setup_refuses_an_agent_model_the_workspace_lacks_and_changes_nothing(
    sandbox: Sandbox, workspace: FakeWorkspace, agents: Agents
) -> None:
    config_toml = agents.write_codex_config(CODEX_USER)
    sandbox.signed_in(workspace)
    result = sandbox.run(
        ["setup-fmapi-claudecode", "--host", workspace.url, "--skip-install", "--shell", "none"]
        + ["--agents", "codex", "--codex-model", "databricks-gpt-0-nope"],
        env=agents.codex_env(),
    )
    assert result.code == 2, result
    assert "databricks-gpt-0-nope" in result.stderr and GPT in result.stderr
    assert "fix:" in result.stderr
    assert config_toml.read_text() == CODEX_USER
    assert not (sandbox.home / ".claude" / "settings.json").exists()


# --------------------------------------------------------------------------- Gemini CLI

SPACE = "01f0c0ffee0000000000000000000001"


def test_gemini_runs_through_the_proxy_with_mcp_and_uninstall_restores_its_settings(
    sandbox: Sandbox, workspace: FakeWorkspace, agents: Agents, net_trap: NetTrap, gemini_bin: str
) -> None:
    """One Gemini CLI session (each start costs seconds of CPU) through what setup and `dbx-fmapi
    mcp add` configure: its model requests go through the loopback proxy with a fresh token;
    Gemini CLI has no header helper, so its settings name the proxy `dbx-fmapi run gemini`
    starts ($DBX_FMAPI_MCP_URL, with the proxy's per-launch secret), which puts a fresh token on
    every MCP request; no token in the file; uninstall restores it byte for byte."""
    sandbox.link_program("gemini", gemini_bin)
    settings = users_gemini_settings(agents)
    before = settings.read_bytes()
    env = gemini_env(agents)
    set_up(sandbox, workspace, "--agents", "claude,gemini", env=env)
    assert json.loads(settings.read_text())["security"]["auth"]["selectedType"] == "gemini-api-key"
    assert json.loads(settings.read_text())["ui"] == {"theme": "Dracula"}
    added = sandbox.run(["dbx-fmapi", "mcp", "add", "genie", SPACE, "--name", "genie"], env=env)
    assert added.code == 0, added
    assert f"Gemini CLI: {settings}, when started with: dbx-fmapi run gemini" in added.stdout
    server = json.loads(settings.read_text())["mcpServers"]["genie"]
    assert server["url"] == f"$DBX_FMAPI_MCP_URL/api/2.0/mcp/genie/{SPACE}"
    assert server["headers"] == {"Authorization": "Bearer $DBX_FMAPI_MCP_KEY"}

    def reply(body: dict[str, Any]) -> str | dict[str, Any]:
        last = (body.get("contents") or [{}])[-1]
        answers = [p["functionResponse"] for p in last.get("parts", []) if "functionResponse" in p]
        if answers:
            return "ANSWER " + json.dumps(answers)
        return {"tool_use": {"name": f"mcp_genie_query_space_{SPACE}", "input": {"question": "q"}}}

    workspace.reply = reply
    result = sandbox.run(
        ["dbx-fmapi", "run", "gemini", "--yolo", "-p", "ask genie"],
        env=env,
        cwd=agents.project,
        timeout=120,
    )
    assert result.code == 0, result

    # The model's requests (the tool call's turn and the answer's): through the proxy.
    reqs = [r for r in workspace.log if ":streamGenerateContent" in r.path]
    assert [r.status for r in reqs] == [200, 200], ("model requests", reqs)
    model = config_of(sandbox)["gemini"]["model"]
    assert all(r.model == model for r in reqs), "model requests' model"
    assert str(model).startswith("databricks-gemini-")  # the newest READY one by default
    assert all(r.token is not None and r.token.valid and r.bearer_exact for r in reqs), (
        "model requests' tokens"
    )
    assert all(r.api_key is None for r in reqs)  # the proxy's secret never reaches the workspace

    # MCP: the Genie tool called once through the proxy, with a fresh token each request.
    assert "GENIE says: 42 orders match" in result.stdout, ("the MCP tool's answer", result)
    assert [c[1] for c in workspace.mcp.calls] == [f"query_space_{SPACE}"]
    posts = [r for r in workspace.mcp_requests() if r.method == "POST"]
    assert posts and all(r.status == 200 and r.token and r.token.valid for r in posts), (
        "MCP requests",
        posts,
    )
    assert all(r.bearer_exact for r in posts)  # the proxy's secret was replaced, not passed on
    assert net_trap.hosts() == []

    uninstall(sandbox, env)
    assert settings.read_bytes() == before, "uninstall did not restore Gemini CLI's settings"


# --------------------------------------------------------------------------- OpenCode


def test_opencode_runs_through_the_proxy_with_mcp_and_telemetry_and_uninstall_restores_it(
    sandbox: Sandbox, workspace: FakeWorkspace, agents: Agents, net_trap: NetTrap, opencode_bin: str
) -> None:
    """One OpenCode session (each start costs seconds of CPU) through everything setup and
    `dbx-fmapi mcp add` configure: its model requests go through the loopback proxy with a
    fresh token; a Genie tool is called through the proxy `dbx-fmapi run opencode` starts
    (`mcp.NAME` of type remote naming {env:DBX_FMAPI_MCP_URL}, with the proxy's per-launch
    secret); its spans and logs reach the workspace's tables (`--otel-tables`, `--otel-spans
    on`); no token in any file; uninstall restores opencode.json byte for byte."""
    sandbox.link_program("opencode", opencode_bin)
    path = agents.xdg["XDG_CONFIG_HOME"] / "opencode" / "opencode.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(  # with the $schema OpenCode would add itself
        '{\n  "$schema": "https://opencode.ai/config.json",\n  "autoupdate": false,\n'
        '  "share": "disabled"\n}\n'
    )
    seed_opencode_plugin(path.parent, version_of("opencode"))
    before = path.read_bytes()
    env = agents.opencode_env()
    env[otelproxy.ENV_DRAIN] = str(30_000)  # counting exports: no drain cut-off under load
    # Its spans sent while it runs (the OpenTelemetry SDK's batch delay, 5 s by default), not
    # only in its flush at exit, which a loaded machine cut short once in a full suite run.
    env["OTEL_BSP_SCHEDULE_DELAY"] = "200"
    tele = ("--otel-tables", PREFIX, "--otel-spans", "on")
    set_up(
        sandbox, workspace, "--agents", "claude,opencode", "--opencode-model", GPT, *tele, env=env
    )
    added = sandbox.run(["dbx-fmapi", "mcp", "add", "genie", SPACE, "--name", "genie"], env=env)
    assert added.code == 0, added
    server = json.loads(path.read_text())["mcp"]["genie"]
    assert server["url"] == f"{{env:DBX_FMAPI_MCP_URL}}/api/2.0/mcp/genie/{SPACE}", server
    configured = path.read_bytes()
    otlp_api.state(workspace).create_tables(PREFIX)
    seen: list[list[str]] = []

    def reply(body: dict[str, Any]) -> str | dict[str, Any]:
        messages = body.get("messages") or []
        results = [m for m in messages if isinstance(m, dict) and m.get("role") == "tool"]
        if results:
            return "ANSWER " + json.dumps(results[-1].get("content"))
        if not body.get("tools"):
            return "a title"  # the session-title request offers no tools
        names = [str((t.get("function") or {}).get("name")) for t in body.get("tools") or []]
        seen.append(names)
        name = next((n for n in names if "query_space" in n), "none")
        return {"tool_use": {"name": name, "input": {"question": "orders?"}}}

    workspace.reply = reply
    result = sandbox.run(
        ["dbx-fmapi", "run", "opencode", "run", "ask genie"],
        env=env,
        cwd=agents.project,
        timeout=180,
    )
    assert result.code == 0, result

    # The model's requests: through the proxy, each with a fresh, valid token.
    reqs = [r for r in workspace.log if r.path.endswith("/chat/completions") and r.stream]
    assert reqs and all(r.status == 200 and r.model == GPT for r in reqs), "model requests"
    assert all(r.token is not None and r.token.valid and r.bearer_exact for r in reqs), (
        "model requests' tokens"
    )

    # MCP: the Genie tool was offered, called once, and answered through the proxy.
    assert "GENIE says: 42 orders match" in result.stdout, ("the MCP tool's answer", result, seen)
    assert [c[1] for c in workspace.mcp.calls] == [f"query_space_{SPACE}"]
    posts = [r for r in workspace.mcp_requests() if r.method == "POST"]
    assert posts and all(r.status == 200 and r.token and r.token.valid for r in posts), (
        "MCP requests",
        posts,
    )

    # Telemetry: spans and logs (OpenCode has no metrics) with a valid token, no prompt.
    check_exports(workspace, ("logs", "traces"))
    otel = otlp_api.state(workspace)
    spans = otel.records(SPANS)
    calls = [s for s in spans if s["name"] == "ai.streamText"]
    assert calls, ("OpenCode's model-call spans", sorted({s["name"] for s in spans}))
    assert all(s["attributes"].get("ai.model.id") == GPT for s in calls)
    assert any("ai.usage.inputTokens" in s["attributes"] for s in calls)
    assert otel.exports_to(METRICS) == []  # OpenCode has no metrics
    no_prompt(workspace, "ask genie", answer="GENIE says")

    assert path.read_bytes() == configured, "the run changed opencode.json"
    no_token_in_files(sandbox)
    assert net_trap.hosts() == []

    uninstall(sandbox, env)
    assert path.read_bytes() == before, "uninstall did not restore opencode.json"
