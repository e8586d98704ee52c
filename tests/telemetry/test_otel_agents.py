"""Codex, Gemini CLI and OpenCode send their own OpenTelemetry exports into the workspace's
tables (`--otel-tables CATALOG.SCHEMA.PREFIX`) through the OTLP proxy `dbx-fmapi run` starts
(agents/otelproxy.py), with the real binaries: what each agent exports (measured:
docs/telemetry-agents.md) arrives decoded by the real opentelemetry-proto in the right table,
with a valid token; the same when the workspace rejected every token it gave out before; no
token in any file; the agents' config files are not touched (a plain `codex` has no telemetry).
OpenCode's exports are asserted in its one session through everything setup configures
(tests/agents/test_rig_agent_setup.py): each OpenCode start costs seconds of CPU."""

from __future__ import annotations

from typing import Any

import pytest

from dbx_fmapi_claude.agents import otelproxy
from tests.helpers.agent_exports import (
    LOGS,
    METRICS,
    PREFIX,
    SPANS,
    check_exports,
    events,
    no_prompt,
    no_token_in_files,
)
from tests.helpers.agent_users import CODEX_USER, GPT, gemini_env, link, users_gemini_settings
from tests.helpers.agent_versions import real_after
from tests.helpers.mgmt import set_up
from tests.rig import otlp_api
from tests.rig.agents import Agents, NetTrap
from tests.rig.sandbox import Sandbox
from tests.rig.workspace import FakeWorkspace

pytestmark = pytest.mark.e2e


def test_codex_exports_into_the_tables_through_dbx_fmapi_run(
    sandbox: Sandbox, workspace: FakeWorkspace, agents: Agents, net_trap: NetTrap, codex_bin: str
) -> None:
    link(sandbox, "codex", codex_bin)
    config_toml = agents.write_codex_config(CODEX_USER)
    env = agents.codex_env()
    env[otelproxy.ENV_DRAIN] = str(30_000)  # counting exports: no drain cut-off under load
    before = config_toml.read_bytes()
    tele = ("--otel-tables", PREFIX)
    set_up(sandbox, workspace, "--agents", "claude,codex", "--codex-model", GPT, *tele, env=env)
    set_up_bytes = config_toml.read_bytes()
    otlp_api.state(workspace).create_tables(PREFIX)
    workspace.reply_text = "pong from the workspace"

    plain = agents.codex("say hi")  # plain codex: no telemetry (no fresh token for it)
    assert plain.code == 0, plain
    assert otlp_api.state(workspace).exports == []

    result = sandbox.run(
        ["dbx-fmapi", "run", "codex", "exec", "--skip-git-repo-check", "say hi"],
        env=env,
        cwd=agents.project,
        timeout=120,
    )
    assert result.code == 0, result
    assert result.stdout.strip() == "pong from the workspace"
    check_exports(workspace, ("metrics", "logs"))  # spans off (the default): no traces
    otel = otlp_api.state(workspace)
    assert otel.exports_to(SPANS) == []
    assert {"codex.api_request", "codex.sse_event"} <= events(otel.records(LOGS))
    metrics = {r["name"] for r in otel.records(METRICS)}
    assert {"codex.api_request", "codex.turn.token_usage"} <= metrics, metrics

    spans = ("--otel-spans", "on")
    set_up(sandbox, workspace, "--agents", "claude,codex", *spans, env=env)
    assert config_toml.read_bytes() == set_up_bytes
    result = sandbox.run(
        ["dbx-fmapi", "run", "codex", "exec", "--skip-git-repo-check", "say hi"],
        env=env,
        cwd=agents.project,
        timeout=120,
    )
    assert result.code == 0, result
    check_exports(workspace, ("metrics", "logs", "traces"))
    assert otel.records(SPANS)
    no_prompt(workspace, "say hi")
    assert config_toml.read_bytes() == set_up_bytes  # nothing of telemetry in config.toml
    no_token_in_files(sandbox)
    assert net_trap.hosts() == []

    sent = len(otel.exports)
    set_up(sandbox, workspace, "--agents", "claude,codex", "--otel-tables", "none", env=env)
    off = sandbox.run(
        ["dbx-fmapi", "run", "codex", "exec", "--skip-git-repo-check", "say hi"],
        env=env,
        cwd=agents.project,
        timeout=120,
    )
    assert off.code == 0, off
    assert len(otel.exports) == sent  # telemetry off: nothing sent
    uninstall = sandbox.run(["dbx-fmapi", "uninstall", "--yes"], env=env)
    assert uninstall.code == 0, uninstall
    assert config_toml.read_bytes() == before


def test_gemini_exports_into_the_tables_after_every_token_was_rejected(
    sandbox: Sandbox, workspace: FakeWorkspace, agents: Agents, net_trap: NetTrap, gemini_bin: str
) -> None:
    """Gemini CLI exports OTLP/JSON: the proxy makes it protobuf. While the model answers,
    every token the workspace gave out is revoked (their expiry still says good): the first
    export is refused, the proxy gets a new token and sends it again."""
    settings = users_gemini_settings(agents)  # telemetry.enabled false in the user's settings
    env = gemini_env(agents)
    env[otelproxy.ENV_DRAIN] = str(30_000)  # counting exports: no drain cut-off under load
    before = settings.read_bytes()
    tele = ("--otel-tables", PREFIX, "--otel-spans", "on")
    with real_after(sandbox, gemini=gemini_bin):  # setup only asks its --version
        set_up(sandbox, workspace, "--agents", "claude,gemini", *tele, env=env)
    set_up_bytes = settings.read_bytes()
    otlp_api.state(workspace).create_tables(PREFIX)

    def reply(body: dict[str, Any]) -> str:
        with workspace._lock:  # every token given out so far is rejected from now on
            for tok in workspace._access.values():
                tok.revoked = True
        return "pong from the workspace"

    workspace.reply = reply

    result = sandbox.run(
        ["dbx-fmapi", "run", "gemini", "-p", "say hi"], env=env, cwd=agents.project, timeout=120
    )
    assert result.code == 0, result
    assert "pong from the workspace" in result.stdout
    check_exports(workspace, ("metrics", "logs", "traces"))
    otel = otlp_api.state(workspace)
    assert {"gemini_cli.api_response", "gemini_cli.api_request"} <= events(otel.records(LOGS))
    assert "gemini_cli.user_prompt" in events(otel.records(LOGS))
    no_prompt(workspace, "say hi")
    metrics = {r["name"] for r in otel.records(METRICS)}
    assert {"gemini_cli.token.usage", "gemini_cli.api.request.count"} <= metrics, metrics
    assert "llm_call" in {r["name"] for r in otel.records(SPANS)}
    sent = [r for r in workspace.log if r.path.startswith(otlp_api.PREFIX)]
    assert sent[0].status in (401, 403) and sent[0].token and sent[0].token.state == "revoked"
    assert sent[-1].status == 200 and sent[-1].token and sent[-1].token.valid
    assert settings.read_bytes() == set_up_bytes
    no_token_in_files(sandbox)
    assert net_trap.hosts() == []
    uninstall = sandbox.run(["dbx-fmapi", "uninstall", "--yes"], env=env)
    assert uninstall.code == 0, uninstall
    assert settings.read_bytes() == before


def test_a_hanging_or_dropping_endpoint_breaks_no_codex_run(
    sandbox: Sandbox,
    workspace: FakeWorkspace,
    agents: Agents,
    net_trap: NetTrap,
    codex_bin: str,
) -> None:
    """The endpoint takes each export and never answers (or closes without an answer): the run
    answers and exits 0 all the same (its cost in time: docs/telemetry-agents.md). One setup,
    a run with each."""
    link(sandbox, "codex", codex_bin)
    agents.write_codex_config(CODEX_USER)
    env = agents.codex_env()
    tele = ("--otel-tables", PREFIX)
    set_up(sandbox, workspace, "--agents", "claude,codex", "--codex-model", GPT, *tele, env=env)
    otel = otlp_api.state(workspace)
    otel.create_tables(PREFIX)
    workspace.reply_text = "pong from the workspace"
    for mode in ("hang", "drop"):
        otel.mode = mode
        otel.release.clear()
        try:
            result = sandbox.run(
                ["dbx-fmapi", "run", "codex", "exec", "--skip-git-repo-check", "say hi"],
                env=env,
                cwd=agents.project,
                timeout=120,
            )
        finally:
            otel.release.set()
        assert result.code == 0, (mode, result)
        assert result.stdout.strip() == "pong from the workspace", (mode, result)
        assert result.stderr.count("\n") < 40 and "Traceback" not in result.stderr, mode
        assert all(e.status != 200 for e in otel.exports), mode  # none was taken
