"""Setup's steps for the coding agents beside Claude Code (`--agents`, issue 15): which agents,
their programs, their models from the live catalogue, the route each one's API answers on (a
one-token request, which is also its verify), and the changes to their config files.

Claude Code is always configured: each configuration is anchored to its settings file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from .. import agents
from ..agents.base import Agent, AgentSetup
from ..changes import engine
from ..core.errors import UserError, usage_error
from ..core.prompts import Choice
from ..record import config
from ..workspace import catalogue, routes
from ..workspace.client import Workspace, WorkspaceError, diagnose, newest_first
from .answers import MODEL_RE, OTHER, PROG, check_model
from .context import SetupContext
from .results import AgentRoutes, Agents, Credential, Flags, Models, RouteChoice, SignedIn

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def parse_agents(text: str) -> list[str]:
    """`claude,codex` -> the agents in registry order, Claude Code always first."""
    names = [n.strip().lower() for n in str(text).replace(" ", ",").split(",") if n.strip()]
    unknown = [n for n in names if n not in agents.NAMES]
    if unknown:
        raise usage_error(
            f"unknown agent {unknown[0]!r} (choose from {', '.join(agents.NAMES)})",
            f"{PROG} --agents {','.join(agents.NAMES)}",
        )
    return [n for n in agents.NAMES if n in names or agents.get(n).required]


def agent_answers(sc: SetupContext, flags: Flags) -> Agents:
    """--agents, else the previous run's agents for this configuration, else Claude Code;
    the model flags checked (their models are checked against the workspace later)."""
    o = sc.opts
    given = o.agents is not None
    names = parse_agents(str(o.agents)) if given else list(config.agents_of(flags.defaults()))
    models: list[tuple[str, str]] = []
    for agent in agents.every():
        value = o.agent_models.get(agent.name) if agent.model_flag else None
        if value is not None:
            models.append((agent.name, check_model(str(value), agent.model_flag)))
            if o.agents is None and agent.name not in names:
                names.append(agent.name)  # a model for an agent asks for the agent
    return Agents(tuple(n for n in agents.NAMES if n in names), tuple(models))


def ask_agents(sc: SetupContext, chosen: Agents) -> Agents:
    p = sc.prompter
    if p is None or sc.opts.agents is not None:
        return chosen
    # Asked only when there is something to choose: an agent beside Claude Code installed
    # here or set up before (--agents names any other, and installs it).
    present = [n for n in agents.NAMES[1:] if agents.get(n).find(sc.env, sc.paths.home)]
    if not present and all(agents.get(n).required for n in chosen.names):
        return chosen
    choices = [Choice(n, agents.get(n).label) for n in agents.NAMES]
    picked = p.choose_many(
        "Coding agents to set up (Claude Code always)", choices, set(chosen.names)
    )
    names = tuple(n for n in agents.NAMES if n in picked or agents.get(n).required)
    return Agents(names, chosen.models)


def others(chosen: Agents) -> list[Agent]:
    """The agents chosen beyond the required one, whose setup is this module's (the
    required agent's files are the configuration's own: plan.py)."""
    return [a for a in map(agents.get, chosen.names) if not a.required]


# --- their programs -------------------------------------------------------------------------


def agent_dependencies(sc: SetupContext, chosen: Agents, env: Mapping[str, str]) -> None:
    """Each chosen agent's program: found (its version checked), else installed from npm
    when the user agrees (a prompt, or no --skip-install without one), else a warning: its
    files are configured all the same, for when it is installed."""
    for agent in others(chosen):
        exe = agent.find(env, sc.paths.home)
        command = agent.install_command
        if exe is None and command and sc.may_install(agent.label, command):
            exe = _install(sc, agent, chosen, env)
        if exe is None:
            if sc.dry_run and sc.opts.install and command:
                continue  # "would install" said it
            sc.not_installed(agent.label, str(command))
            continue
        version = agent.version(exe, env)
        if not agent.supported(version):
            low = ".".join(map(str, agent.min_version))
            sc.warn(
                f"{agent.label} {version or '(version unknown)'} is older than {low}, the "
                f"oldest this setup works with; update it: {agent.install_command}"
            )
        sc.out(f"  ok    {agent.label}: {exe}" + (f" ({version})" if version else ""))


def _install(sc: SetupContext, agent: Agent, chosen: Agents, env: Mapping[str, str]) -> str | None:
    command = str(agent.install_command)
    if sc.dry_run:
        sc.out(f"  would install {agent.label}: {command}")
        return None
    from ..core.paths import which

    npm = which("npm", env)
    if npm is None:
        raise UserError(
            f"cannot install {agent.label}: npm is not installed",
            f"install Node.js (which brings npm), then: {command}   (or leave it out: "
            f"{PROG} --agents {chosen.but(agent.name)})",
        )
    sc.info(f"  running: {command}")
    import subprocess  # only to install an agent

    try:
        done = subprocess.run(
            [npm, "install", "-g", agent.pinned_package],
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=2,
            timeout=15 * 60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        done = None
    exe = agent.find(env, sc.paths.home)
    if done is None or done.returncode != 0 or exe is None:
        raise UserError(
            f"could not install {agent.label} ({command} failed); nothing was written",
            f"install it by hand, then re-run setup: {command}",
        )
    return exe


# --- their models ---------------------------------------------------------------------------


def agent_model_names(listed: catalogue.Catalogue, agent: Agent) -> list[str]:
    """The workspace's models for `agent`: READY ones first, newest first."""
    every = listed.every
    prefix = agent.model_prefix
    names = [n for n in every if prefix is None or n.startswith(prefix)]
    ready = newest_first([n for n in names if every[n] != "NOT_READY"])
    return ready + newest_first([n for n in names if every[n] == "NOT_READY"])


def _agent_default(
    listed: catalogue.Catalogue, flags: Flags, main: str, agent: Agent
) -> str | None:
    prev = (flags.defaults().get(agent.name) or {}).get("model")
    known = listed.every
    if isinstance(prev, str) and MODEL_RE.fullmatch(prev) and (not known or prev in known):
        return prev
    if agent.model_prefix is None:
        return main or None
    names = agent_model_names(listed, agent)
    return names[0] if names and known.get(names[0]) != "NOT_READY" else None


def _check_agent_model(listed: catalogue.Catalogue, agent: Agent, name: str) -> str:
    known = listed.every
    if not listed.read or name in known:
        return name
    have = ", ".join(agent_model_names(listed, agent)) or "none"
    raise usage_error(
        f"the workspace has no model endpoint {name!r} for {agent.label}; its models: {have}",
        f"{PROG} {agent.model_flag} NAME   (list them: dbx-fmapi models)",
    )


def ask_agent_models(
    sc: SetupContext, chosen: Agents, flags: Flags, claude: Models, route: RouteChoice
) -> Agents:
    """Each other agent's model: its flag's (checked against the workspace), else asked,
    else the previous run's or the newest READY one."""
    listed = route.listing.catalogue()
    models: list[tuple[str, str]] = []
    for agent in others(chosen):
        given = chosen.model(agent.name)
        if given:
            _check_agent_model(listed, agent, given)
            models.append((agent.name, given))
            continue
        default = _agent_default(listed, flags, claude.model, agent)
        p = sc.prompter
        if p is not None:
            names = agent_model_names(listed, agent)
            if default and default not in names:
                names.insert(0, default)
            choices = [Choice(n, n) for n in names] + [Choice(OTHER, "other (type a name)")]
            index = names.index(default) if default in names else 0
            value = p.choose(f"{agent.label} model", choices, index)
            if value == OTHER:

                def valid(v: str, agent: Agent = agent) -> str:
                    return _check_agent_model(listed, agent, check_model(v, agent.model_flag))

                value = p.text("Endpoint name", None, valid)
            default = value
        if not default:
            have = ", ".join(agent_model_names(listed, agent)) or "none"
            raise usage_error(
                f"the workspace lists no READY model for {agent.label} "
                f"({agent.model_prefix}*; it has: {have})",
                f"name one: {PROG} {agent.model_flag} NAME, or leave {agent.label} out: "
                f"{PROG} --agents {chosen.but(agent.name)}",
            )
        models.append((agent.name, default))
    return Agents(chosen.names, tuple(models))


# --- their routes (and the verify) ----------------------------------------------------------


def choose_agent_routes(
    sc: SetupContext,
    chosen: Agents,
    signed: SignedIn,
    claude_route: RouteChoice,
    credential: Credential,
    env: Mapping[str, str],
) -> AgentRoutes:
    """For each agent, the first of its API's routes that answers a one-token request with
    its model (the Claude route's kind first; --route allows only its own). --no-verify, a
    dry run that could not sign in: the first route, unprobed."""
    found: list[tuple[str, str, str]] = []
    for agent in others(chosen):
        assert agent.api is not None
        model = str(chosen.model(agent.name))
        forced = not claude_route.auto
        candidates = routes.candidates(agent.api, claude_route.name, forced)
        host = credential.host.rstrip("/")
        if sc.opts.no_verify or signed.token is None:
            route, path = candidates[0]
            found.append((agent.name, route, f"{host}{path}"))
            continue
        ws = Workspace(credential.host, signed.token, dict(env), timeout=60.0)
        failures: list[tuple[str, WorkspaceError]] = []
        for route, path in candidates:
            base = f"{host}{path}"
            try:
                with sc.progress.step(f"one-token request to {model} ({agent.label})"):
                    agent.ping(ws, base, model)
            except WorkspaceError as exc:
                if exc.status != 429:
                    failures.append((path, exc))
                    continue
            found.append((agent.name, route, base))
            label = routes.get(route).label
            sc.out(f"  ok    {agent.label}: {model} on the {label}, {base}")
            break
        else:
            _agent_failed(sc, agent, model, failures, chosen, credential.host)
    return AgentRoutes(tuple(found))


def _agent_failed(
    sc: SetupContext,
    agent: Agent,
    model: str,
    failures: list[tuple[str, WorkspaceError]],
    chosen: Agents,
    host: str,
) -> None:
    for path, exc in failures:
        sc.out(f"  FAIL  {agent.label}: {model} at {path}: {exc.message}")
    path, error = failures[-1] if failures else ("", WorkspaceError("http", "no route"))
    message, fix = diagnose(error, host, f"reach {model} for {agent.label}", retry=PROG)
    rest = chosen.but(agent.name)
    raise UserError(
        f"{message}; nothing was written",
        f"{fix}; or pick another model: {PROG} {agent.model_flag} NAME; or leave "
        f"{agent.label} out: {PROG} --agents {rest}",
    )


# --- their files ----------------------------------------------------------------------------


def plan_agents(
    sc: SetupContext,
    plan: engine.Plan,
    here: Mapping[str, Any],
    base: AgentSetup,
    configs: list[dict[str, Any]],
    chosen: Agents,
    agent_routes: AgentRoutes,
) -> dict[str, Any]:
    """The changes to each chosen agent's config file, and to those of agents this
    configuration drops; returns the record's fields for this configuration. An agent file
    another configuration set up moves to this one (one file cannot serve two), with what
    that one recorded (so uninstall still restores the user's bytes). `base`: the required
    agent's setup, which each agent's replaces the model, route and state of. `configs`: the
    record's configurations as this run leaves them (this function's own copies)."""
    fields: dict[str, Any] = {"agents": list(chosen.names)}
    env = base.env
    for agent in others(chosen):
        state = dict(here.get(agent.name) or {})
        path = str(agent.config_file(sc.paths, env))
        for other in configs:
            theirs = other.get(agent.name)
            if other is here or not isinstance(theirs, dict) or theirs.get("file") != path:
                continue
            if not state:
                state = dict(theirs)
            other.pop(agent.name, None)
            other["agents"] = [a for a in config.agents_of(other) if a != agent.name]
            sc.warn(
                f"{agent.label}'s {path} served the configuration for "
                f"{other.get('settings_file')}; it now serves this one"
            )
        route, base_url = agent_routes.of(agent.name)
        setup = replace(
            base,
            model=str(chosen.model(agent.name)),
            route=route,
            base_url=base_url,
            state=state,
        )
        fields[agent.name] = agent.plan_setup(setup, plan)
    for name in config.agents_of(here):
        dropped = here.get(name)
        if name in chosen.names or not isinstance(dropped, dict):
            continue
        agents.get(name).plan_uninstall(sc.paths, env, dropped, plan)
    return fields
