"""Issue 15's proof for the other agents: one Codex, one Gemini CLI and one OpenCode session,
each spanning more than three token lifetimes with a shell tool turn after another, sends no
request with a stale token and has no request fail.

Access tokens live LIFETIME (15 s); setup's TTL is 3 s and its margin 6 s, so every token handed
out has at least 9 s left. Each session is TURNS tool calls of `sleep SLEEP` (6 x 9 s = 54 s of
sleeping, more than three lifetimes), set up with our own setup and started the way docs/agents.md
says: plain `codex` (it runs `dbx-fmapi token` itself every TTL), `dbx-fmapi run gemini` and
`dbx-fmapi run opencode` (the loopback proxy puts a fresh token on each request).

With lifetimes this short the real Databricks CLI refreshes on every call (its own window is
5 minutes), so these prove that each agent asks for a token again before each request that
needs one and never sends a dead one; reusing a token until the margin is test_long_session.py's
(400 s tokens, Claude Code) and test_agent_run.py's (the proxy's held token).

The assertions are on counts and order, never on how much fits in a time window: the sleeps are
lower bounds, so on a busy machine a session only gets longer. Since every request must carry a
token valid at that moment, and requests two sleeps apart are more than a lifetime apart, at
least three distinct tokens must have been used.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from tests.helpers.agent_versions import real_after, version_of
from tests.helpers.mgmt import set_up
from tests.rig.agents import Agents, NetTrap, gemini_settings, seed_opencode_plugin
from tests.rig.sandbox import Result, Sandbox
from tests.rig.workspace import FakeWorkspace, RequestRecord

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

LIFETIME = 15  # seconds an access token lives
TTL, MARGIN = "3s", "6s"  # every token handed out outlives 9 s
TURNS = 6
SLEEP = 9  # seconds per tool call: TURNS * SLEEP = 54 s > 3 * LIFETIME
GPT = "databricks-gpt-5"
GEMINI = "databricks-gemini-2-5-pro"
MARK = re.compile(r"slept-(\d+)")
DONE = "all done: " + " ".join(str(11 * k) for k in range(1, TURNS + 1))


def command(turn: int) -> str:
    """The shell command of turn `turn` (1-based). Its output, `slept-<11*turn>`, is made by
    printf, so it appears in a tool's output but never in the call that asked for it (Gemini
    CLI refuses `$(...)`); each turn's command differs (Gemini CLI stops a run that repeats one
    tool call five times)."""
    return f"sleep {SLEEP} && printf 'slept-%d\\n' {11 * turn}"


def long_session(
    outputs: Callable[[dict[str, Any]], list[str]], call: Callable[[int], dict[str, Any]]
) -> Callable[[dict[str, Any]], str | dict[str, Any]]:
    """The fake model's answer: the next turn's tool call until TURNS tool outputs are back, then
    DONE-like text listing the marks the outputs carried (so the answer proves every command ran
    to its end)."""

    def reply(body: dict[str, Any]) -> str | dict[str, Any]:
        done = outputs(body)
        if len(done) < TURNS:
            return {"tool_use": call(len(done) + 1)}
        return "all done: " + " ".join(m for text in done for m in MARK.findall(text))

    return reply


def responses_outputs(body: dict[str, Any]) -> list[str]:
    return [
        json.dumps(i.get("output"))
        for i in body.get("input") or []
        if isinstance(i, dict) and i.get("type") == "function_call_output"
    ]


def gemini_outputs(body: dict[str, Any]) -> list[str]:
    return [
        json.dumps(part["functionResponse"].get("response"))
        for c in body.get("contents") or []
        if isinstance(c, dict)
        for part in c.get("parts") or []
        if isinstance(part, dict) and "functionResponse" in part
    ]


def chat_outputs(body: dict[str, Any]) -> list[str]:
    return [
        json.dumps(m.get("content"))
        for m in body.get("messages") or []
        if isinstance(m, dict) and m.get("role") == "tool"
    ]


def short_lived_setup(
    sandbox: Sandbox, workspace: FakeWorkspace, env: dict[str, str | None], *agent_args: str
) -> None:
    workspace.access_token_lifetime = LIFETIME
    set_up(sandbox, workspace, *agent_args, "--ttl", TTL, "--margin", MARGIN, env=env)
    workspace.clear_log()  # from here on: the session only


def assert_fresh_all_along(
    workspace: FakeWorkspace, model_requests: list[RequestRecord], answer: Result
) -> dict[str, Any]:
    """Zero failed requests, each model request with a token valid when it arrived, the session
    spanning more than three lifetimes, several tokens; returns the figures for the report."""
    assert answer.code == 0, answer
    assert DONE in answer.stdout, answer
    log = list(workspace.log)
    assert [r for r in log if r.status != 200] == []  # zero failed requests, token refreshes too
    assert len(model_requests) >= TURNS + 1
    refs = [r.token for r in model_requests]
    assert all(ref is not None and ref.state == "valid" for ref in refs), [repr(r) for r in refs]
    span = model_requests[-1].time - model_requests[0].time
    assert span >= 3 * LIFETIME  # a lower bound the sleeps guarantee
    distinct = {ref.id for ref in refs if ref is not None}
    assert len(distinct) >= 3  # two sleeps apart is more than a lifetime: tokens rotated
    least = min(ref.seconds_left or 0.0 for ref in refs if ref is not None)
    return {
        "requests": len(model_requests),
        "distinct tokens": len(distinct),
        "span s": round(span, 1),
        "lifetimes": round(span / LIFETIME, 1),
        "least s left": round(least, 1),
        "wall s": round(answer.duration, 1),
    }


def report(name: str, figures: dict[str, Any]) -> None:
    print(f"\n{name} long session: " + ", ".join(f"{k} {v}" for k, v in figures.items()))


# --------------------------------------------------------------------------- Codex


def codex_call(turn: int) -> dict[str, Any]:
    # yield_time_ms: unified exec hands back a still-running command after its yield time (10 s
    # by default); the sleep ends well before this one.
    return {"name": "exec_command", "input": {"cmd": command(turn), "yield_time_ms": 30000}}


def test_codex_session_across_several_token_lifetimes(
    sandbox: Sandbox, workspace: FakeWorkspace, agents: Agents, net_trap: NetTrap, codex_bin: str
) -> None:
    sandbox.link_program("codex", codex_bin)
    agents.write_codex_config(
        "check_for_update_on_startup = false\n\n[analytics]\nenabled = false\n\n"
        "[feedback]\nenabled = false\n\n[features]\nplugins = false\n"
    )
    env = agents.codex_env()
    short_lived_setup(sandbox, workspace, env, "--agents", "claude,codex", "--codex-model", GPT)
    workspace.reply = long_session(responses_outputs, codex_call)
    result = sandbox.run(
        ["codex", "exec", "--skip-git-repo-check", "--sandbox", "workspace-write", "wait"],
        env=env,
        cwd=agents.project,
        timeout=300,
    )
    model = [r for r in workspace.log if r.path.startswith(("/serving-endpoints/", "/ai-gateway/"))]
    posts = [r for r in model if r.path.endswith("/responses")]
    assert len(posts) == TURNS + 1 and all(r.model == GPT for r in posts), result
    figures = assert_fresh_all_along(workspace, model, result)
    assert net_trap.hosts() == []
    report("Codex", figures)


# --------------------------------------------------------------------------- Gemini CLI


def gemini_call(turn: int) -> dict[str, Any]:
    return {"name": "run_shell_command", "input": {"command": command(turn)}}


def test_gemini_session_across_several_token_lifetimes(
    sandbox: Sandbox, workspace: FakeWorkspace, agents: Agents, net_trap: NetTrap, gemini_bin: str
) -> None:
    agents.write_gemini_settings(gemini_settings())
    env = agents.gemini_env(None, "")
    for key in ("GOOGLE_GEMINI_BASE_URL", "GEMINI_API_KEY", "GEMINI_API_KEY_AUTH_MECHANISM"):
        env[key] = None  # `dbx-fmapi run gemini` sets them
    with real_after(sandbox, gemini=gemini_bin):  # setup only asks its --version
        short_lived_setup(
            sandbox, workspace, env, "--agents", "claude,gemini", "--gemini-model", GEMINI
        )
    workspace.reply = long_session(gemini_outputs, gemini_call)
    result = sandbox.run(
        ["dbx-fmapi", "run", "gemini", "--yolo", "-p", "wait"],
        env=env,
        cwd=agents.project,
        timeout=300,
    )
    model = [r for r in workspace.log if ":streamGenerateContent" in r.path]
    assert all(r.model == GEMINI for r in model), result
    assert all(r.api_key is None and r.bearer_exact for r in model)  # only our token went out
    # Tool turns that outlast a token: each next request still reaches the workspace with a
    # valid one (Gemini CLI alone would end the run on a 403).
    figures = assert_fresh_all_along(workspace, model, result)
    assert net_trap.hosts() == []
    report("Gemini CLI", figures)


# --------------------------------------------------------------------------- OpenCode


def opencode_reply(body: dict[str, Any]) -> str | dict[str, Any]:
    if not body.get("tools"):
        return "a title"  # the session-title request offers no tools
    return long_session(chat_outputs, opencode_call)(body)


def opencode_call(turn: int) -> dict[str, Any]:
    return {"name": "bash", "input": {"command": command(turn), "description": "Wait a while"}}


def test_opencode_session_across_several_token_lifetimes(
    sandbox: Sandbox, workspace: FakeWorkspace, agents: Agents, net_trap: NetTrap, opencode_bin: str
) -> None:
    folder = agents.xdg["XDG_CONFIG_HOME"] / "opencode"
    folder.mkdir(parents=True)
    (folder / "opencode.json").write_text('{"autoupdate": false, "share": "disabled"}\n')
    seed_opencode_plugin(folder, version_of("opencode"))
    env = agents.opencode_env()
    with real_after(sandbox, opencode=opencode_bin):  # setup only asks its --version
        short_lived_setup(
            sandbox, workspace, env, "--agents", "claude,opencode", "--opencode-model", GPT
        )
    workspace.reply = opencode_reply
    result = sandbox.run(
        ["dbx-fmapi", "run", "opencode", "run", "wait"],
        env=env,
        cwd=agents.project,
        timeout=300,
    )
    model = [r for r in workspace.log if r.path.endswith("/chat/completions")]
    assert all(r.model == GPT for r in model), result
    assert all(r.bearer_exact for r in model)
    figures = assert_fresh_all_along(workspace, model, result)
    assert net_trap.hosts() == []
    report("OpenCode", figures)
