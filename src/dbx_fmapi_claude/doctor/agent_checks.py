"""The coding agents beside Claude Code that the configuration in effect set up (`--agents`):
per agent, its program and version, its config as the agent will read it, and a real one-token
request through its route with a fresh token. A configuration with Claude Code alone has none
of these lines.

The request does not need the program: it goes through our own client on the agent's API, so
a missing program and a broken route are told apart.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping, Sequence

from .. import agents
from ..core import ui
from ..record import config
from .deps import _version_of
from .graph import Spec
from .report import LOGIN, SETUP, Run, need

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..agents.base import Agent, Finding
    from ..workspace.client import WorkspaceError


def setup_again(cfg: Mapping[str, Any]) -> str:
    """Setup, run again for this configuration's agents (it rewrites each one's part)."""
    return f"{SETUP} --agents {','.join(config.agents_of(cfg))}"


def version_of(exe: str, env: Mapping[str, str]) -> tuple[str | None, str | None]:
    """(first line of `exe --version`, None) or (None, why it failed)."""
    return _version_of(exe, env)


def binary(r: Run, agent: Agent) -> None:
    """The agent's program: found, runs, recent enough (the agent judges what it said)."""
    exe = agent.find(r.ctx.env, r.ctx.paths.home)
    said, why = version_of(exe, r.ctx.env) if exe is not None else (None, None)
    r.add(*agent.judge_program(exe, said, why))


def agent_config(r: Run, agent: Agent) -> None:
    cfg = need(r.cfg)
    state = cfg.state(agent.name)
    again = setup_again(cfg)
    if not isinstance(state, dict):
        r.add(ui.FAIL, f"setup recorded nothing for {agent.label}", again)
        return
    found = agent.findings(state, r.ctx.paths, r.ctx.env, r.ctx.cwd)
    _report(r, again, found, agent.in_effect_line(state))


def _report(r: Run, again: str, found: Sequence[Finding], passed: str) -> None:
    """Each finding on a line of its own (named by what it is about), or `passed` (nothing when
    there is neither)."""
    for i, f in enumerate(found):
        fix = (f.fix or "{setup}").replace("{setup}", again)
        line_id = f"{r.id}:{f.id}" if f.id else r.id if i == 0 else f"{r.id}:{i + 1}"
        r.add(ui.WARN if f.warn else ui.FAIL, f.detail, fix, id=line_id)
    if not found and passed:
        r.add(ui.PASS, passed)


def aspect(r: Run, agent: Agent, name: str, progress: str = "") -> None:
    """One part of the agent's config (Agent.aspects): its findings, each on a line, or the line
    saying it holds; what it found is handed on to the checks after it (`r.found`)."""
    cfg = need(r.cfg)
    with r.progress.step(progress) if progress else contextlib.nullcontext():
        verdict = agent.examine(name, cfg, r.ctx.paths, r.ctx.env, r.ctx.cwd, r.found)
    if verdict.value is not None:
        r.found[r.id] = verdict.value
    _report(r, setup_again(cfg), verdict.findings, verdict.passed)


def aspect_specs(agent: Agent, after: str | None = None) -> tuple[Spec, ...]:
    """The agent's aspects as doctor's checks, those listed `after` that check only when given
    (the required agent's, on the configuration's path: checks.CHECKS)."""

    def run(name: str, progress: str) -> Callable[[Run], None]:
        return lambda r: aspect(r, agent, name, progress)

    def when(test: Callable[[Mapping[str, Any]], bool]) -> Callable[[Run], bool]:
        return lambda r: test(need(r.cfg))

    return tuple(
        Spec(
            a.id,
            a.title,
            run(a.id, a.progress),
            needed_as=a.needed_as,
            requires=a.requires,
            within=a.within,
            when=when(a.when) if a.when is not None else None,
        )
        for a in agent.aspects
        if after is None or a.after == after
    )


def request(r: Run, agent: Agent) -> None:
    from ..workspace.client import WorkspaceError

    cfg, ws = need(r.cfg), need(r.ws)
    state = cfg.state(agent.name) or {}
    model, base = str(state.get("model") or ""), str(state.get("base_url") or "")
    started = time.monotonic()
    try:
        with r.progress.step(f"sending a one-token request to {model} ({agent.label})"):
            agent.ping(ws, base, model)
    except WorkspaceError as exc:
        r.add(*_diagnosis(exc, cfg, agent, model, base))
        return
    took = time.monotonic() - started
    r.add(ui.PASS, f"{model} answered a one-token request at {base} in {took:.1f}s")


def _diagnosis(
    exc: WorkspaceError, cfg: config.Configuration, agent: Agent, model: str, base: str
) -> tuple[str, str, str]:
    """What the agent's route answered, and its fix; the workspace's own reading otherwise."""
    from ..workspace.client import diagnose, error_label

    host = str(cfg.host)
    msg = str(exc.message)
    label = error_label(exc) if exc.kind == "http" else ""
    again = setup_again(cfg)
    if exc.kind == "http" and exc.status == 403 and "token" not in msg.lower():
        return (
            ui.FAIL,
            f"the workspace refused the request at {base} ({label}: {msg}): you are not "
            f"allowed to query {model}",
            f"ask a workspace admin for CAN_QUERY on serving endpoint {model}",
        )
    if exc.kind == "http" and exc.status == 404 and exc.code != "FEATURE_DISABLED":
        return (
            ui.FAIL,
            f"the workspace does not serve {model} at {base} ({label}: {msg})",
            f"pick another model or route: {again} {agent.model_flag} NAME",
        )
    if exc.kind == "http" and exc.status in (400, 401, 403) and "token" in msg.lower():
        return (ui.FAIL, f"the workspace rejected the token ({label}: {msg})", LOGIN)
    detail, fix = diagnose(exc, host, f"send a one-token request to {model}", login=LOGIN)
    if exc.code == "FEATURE_DISABLED" or exc.status in (301, 302, 303, 307, 308):
        fix = f"re-run setup, which picks the route that works: {again}   ({fix})"
    return (ui.WARN if exc.status == 429 else ui.FAIL, detail, fix)


def program(agent: Agent) -> Callable[[Run], None]:
    return lambda r: binary(r, agent)


def required() -> Agent:
    """The agent every configuration sets up: its checks are the configuration's own
    (checks.CHECKS), in the order of the path to a working setup."""
    return next(agent for agent in agents.every() if agent.required)


def _has(name: str) -> Any:
    def when(r: Run) -> bool:
        return name in config.agents_of(need(r.cfg))

    return when


def specs() -> tuple[Spec, ...]:
    """Three checks per agent beside Claude Code, in the registry's order."""
    out: list[Spec] = []
    for name in agents.NAMES:
        agent = agents.get(name)
        if agent.required:  # its checks are the configuration's own: checks.CHECKS
            continue
        base = f"agent:{name}"

        def bound(fn: Any, agent: Agent = agent) -> Any:
            return lambda r: fn(r, agent)

        out += [
            Spec(
                f"{base}:binary",
                agent.label,
                bound(binary),
                needed_as=agent.label,
                within=("config",),
                when=_has(name),
            ),
            Spec(
                f"{base}:config",
                f"{agent.label} config",
                bound(agent_config),
                needed_as=f"a valid {agent.label} config",
                within=("config",),
                when=_has(name),
            ),
            Spec(
                f"{base}:request",
                f"{agent.label} request",
                bound(request),
                requires=("token", "workspace", f"{base}:config"),
                within=("config",),
                when=_has(name),
            ),
        ]
    return tuple(out)
