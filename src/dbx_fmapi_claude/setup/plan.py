"""Step 5, the plan: the new bytes of every file setup touches, computed in memory."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from .. import agents
from ..agents.base import AgentSetup
from ..auth import credentials
from ..changes import engine, undo
from ..core.errors import UserError
from ..core.fileio import q, read_bytes
from ..core.paths import tilde
from ..record import config
from ..shell import rcblock
from ..workspace import routes
from .agentsteps import others, plan_agents
from .answers import STATIC, Answers, Change
from .context import SetupContext
from .gitignore import exclude_block
from .location import personal_key
from .models import context_tokens
from .results import AgentRoutes, Agents, Credential, SignedIn, Target

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


@dataclass
class SetupPlan(engine.Plan):
    """Setup's plan: the change engine's file changes, and the record this run leaves."""

    record: dict[str, Any] = field(default_factory=dict)  # config.json, as this run leaves it
    settings_file: Path | None = None  # the settings file of the configuration written


@dataclass(frozen=True)
class Planned:
    """The plan step's result: every file change in the order setup shows them, the notes, the
    record this run leaves (as the JSON it is written as) and the configuration's settings
    file; `plan()` hands them to the change engine."""

    changes: tuple[engine.Change, ...]
    notes: tuple[str, ...]
    record_text: str
    settings_file: Path

    @classmethod
    def of(cls, plan: SetupPlan, target: Path) -> Planned:
        return cls(
            tuple(plan.changes),
            tuple(plan.notes),
            json.dumps(plan.record),
            plan.settings_file or target,
        )

    def plan(self) -> SetupPlan:
        record = json.loads(self.record_text)
        return SetupPlan(list(self.changes), list(self.notes), record, self.settings_file)


@dataclass(frozen=True)
class Inputs:
    """What the plan is made from: the answers, and the results of the steps it needs."""

    a: Answers
    record: Mapping[str, Any]  # config.json as setup found it (the plan's own copy)
    env: Mapping[str, str]  # the environment after the dependencies
    chosen: Target
    helper_cmd: str
    executable: str
    helper: str | None
    agents: Agents
    agent_routes: AgentRoutes
    experiment: str | None
    signed: SignedIn
    credential: Credential


def plan(sc: SetupContext, i: Inputs) -> SetupPlan:
    """Every change, in memory. The configuration for `target` is this run's; every other
    configuration (another settings location, another workspace) is left as it is."""
    plan = SetupPlan()
    a = i.a
    target = i.chosen.path
    here = config_for(i.record, target) or {}
    # Every agent is set up from one AgentSetup: the required one (Claude Code, whose file
    # is the configuration's own) first, the others after the shell block with their own
    # model, route and state.
    base = agent_setup(sc, i, here)
    claude = next(agent for agent in map(agents.get, i.agents.names) if agent.required)
    fields = claude.plan_setup(base, plan)
    shared = {key: fields.pop(key) for key in config.SHARED if key in fields}
    rc = _plan_rc(sc, plan, i)
    _plan_exclude(plan, a, target, i.chosen.exclude)
    source = i.credential.source
    one = {
        "host": a.host,
        "profile": a.profile,
        "auth": source.kind if source else credentials.OAUTH,
        "model": a.model,
        "opus": a.opus,
        "sonnet": a.sonnet,
        "haiku": a.haiku,
        **({"fable": a.fable} if a.fable else {}),
        **({"subagent": a.subagent} if a.subagent else {}),
        **({"context_tokens": env_context} if (env_context := context_tokens(a.model)) else {}),
        "route": a.route,
        "route_auto": a.route_auto,
        "settings_location": a.location,
        "settings_file": str(target),
        "token_mode": a.token_mode,
        "ttl_seconds": a.ttl_seconds,
        "margin_seconds": a.margin_seconds,
        **({"git_exclude": str(i.chosen.exclude[0])} if i.chosen.exclude else {}),
        "api_key_helper": i.helper_cmd,
        **({"team": str(sc.opts.team)} if sc.opts.team else {}),
        **fields,
    }
    configs = [dict(c) for c in i.record.get("configs") or []]
    at = next(
        (n for n, c in enumerate(configs) if config_for({"configs": [c]}, target)),
        len(configs),
    )
    if i.helper is not None and (others(i.agents) or "agents" in here):
        own = configs[at] if at < len(configs) else here
        one.update(plan_agents(sc, plan, own, base, configs, i.agents, i.agent_routes))
    if at < len(configs) and configs[at].get("mcp"):
        one["mcp"] = configs[at]["mcp"]  # `dbx-fmapi mcp add`'s servers stay
    configs[at : at + 1] = [config.nest(one)]
    plan.record = {
        "version": config.RECORD_VERSION,
        "shell": a.shell,
        "rc_file": str(rc) if rc else None,
        "executable": i.executable,
        **shared,
        "configs": configs,
    }
    plan.settings_file = target
    _plan_team_prices(sc, plan)
    paths = sc.paths
    cfg_raw = read_bytes(paths.config_file)
    cfg_new = (json.dumps(plan.record, indent=2, sort_keys=True) + "\n").encode()
    plan.add(
        Change(paths.config_file, cfg_raw, cfg_new, "setup record", True, redo=lambda now: cfg_new)
    )
    return plan


def _plan_team_prices(sc: SetupContext, plan: SetupPlan) -> None:
    """The team file's prices and budget, kept for usage, the status line and the hook."""
    from ..usage.prices import TEAM_FILE_NAME

    if sc.opts.team_prices is None:  # not set up from a team file: leave what is there
        return
    kept = dict(sc.opts.team_prices)
    path = sc.paths.config_dir / TEAM_FILE_NAME
    raw = read_bytes(path)
    new = (
        (json.dumps(kept, indent=2, sort_keys=True) + "\n").encode()
        if set(kept) - {"version"}
        else None
    )
    plan.add(Change(path, raw, new, "team prices and budget", redo=lambda now: new))


def _plan_rc(sc: SetupContext, plan: SetupPlan, i: Inputs) -> Path | None:
    """The shell block (one for every configuration: the wrapper finds the one in effect)
    and, for ~/.local/bin, the PATH block in the shell's login file; a block in a file of
    another shell chosen before leaves it."""
    shell, env, paths, executable = i.a.shell, i.env, sc.paths, i.executable
    rc = paths.rc_file(shell, env)
    if rc is not None:
        _plan_block(plan, rc, rcblock.render(shell, executable), "shell function dbx-fmapi-claude")
    folder = rcblock.path_folder(executable)
    # bash login shells never read ~/.bashrc: the program's folder on PATH there, or (an
    # executable elsewhere) the function itself.
    function = folder is None and shell == "bash"
    login = paths.login_file(shell, env) if folder or function else None
    if login is not None and folder is not None and login != rc:
        what = f"{tilde(Path(folder), paths.home)} on PATH for login shells"
        _plan_block(plan, login, rcblock.render_path(shell, folder), what)
    elif login is not None and function and login != rc:
        what = "shell function dbx-fmapi-claude for bash login shells"
        _plan_block(plan, login, rcblock.render_login_function(executable), what)
    prev_rc = i.record.get("rc_file")
    if isinstance(prev_rc, str) and prev_rc and prev_rc != (str(rc) if rc else None):
        _plan_old_rc(sc, plan, Path(prev_rc))
    planned = {c.path for c in plan.changes} | {rc, login}
    for other in paths.login_candidates(env):
        if other not in planned:  # the shell or the login file changed since
            _plan_old_rc(sc, plan, other, "previous PATH line")
    return rc


def _plan_block(plan: SetupPlan, path: Path, block: str, what: str) -> None:
    def with_block(now: bytes | None) -> bytes:
        text = (now or b"").decode("utf-8", "surrogateescape")
        try:
            new_text = rcblock.upsert_block(text, block)
        except rcblock.HalfBlock as exc:
            raise UserError(
                f"{path} has {exc}: cannot tell where the dbx-fmapi-claude block ends",
                f"remove the stray marker line, then re-run setup: grep -n "
                f"'dbx-fmapi-claude <<<\\|dbx-fmapi-claude >>>' {q(path)}",
            ) from None
        return new_text.encode("utf-8", "surrogateescape")

    raw = read_bytes(path)
    plan.add(Change(path, raw, with_block(raw), what, keep_original=True, redo=with_block))


def _plan_exclude(
    plan: SetupPlan, a: Answers, target: Path, found: tuple[Path, str] | None
) -> None:
    """Static mode in a git work tree: the token file goes into the repository's own exclude
    file (never committed, never shared), so no `git add .` picks it up."""
    if found is None:
        return
    static = a.token_mode == STATIC
    exclude, block = found[0], exclude_block(found[1], static)

    def with_exclude(now: bytes | None) -> bytes:
        text = (now or b"").decode("utf-8", "surrogateescape")
        return rcblock.upsert_block(text, block).encode("utf-8", "surrogateescape")

    ex_raw = read_bytes(exclude)
    plan.add(
        Change(
            exclude,
            ex_raw,
            with_exclude(ex_raw),
            "git exclude: "
            + ("the static token file" if static else "your own settings file")
            + " stays out of commits",
            keep_original=True,
            redo=with_exclude,
        )
    )
    what = "a token" if static else "your own settings"
    plan.notes.append(f"{target} holds {what}: git now ignores it ({exclude})")


def agent_setup(sc: SetupContext, i: Inputs, here: Mapping[str, Any]) -> AgentSetup:
    """What the agents' setup needs from this run: the configuration's own answers (the
    required agent's model, route and state: the configuration as it was)."""
    from ..usage.prices import budget_set

    a, paths, opts, env = i.a, sc.paths, sc.opts, i.env
    return AgentSetup(
        paths=paths,
        env=env,
        host=a.host,
        profile=a.profile or None,
        helper=i.helper or "",
        model=a.model,
        route=a.route,
        base_url=routes.get(a.route).base_url(a.host),
        ttl_seconds=a.ttl_seconds,
        state=here,
        settings_file=i.chosen.path,
        helper_command=i.helper_cmd,
        token_mode=a.token_mode,
        token=i.signed.token if a.token_mode == STATIC else None,
        roles=MappingProxyType(
            {"opus": a.opus, "sonnet": a.sonnet, "haiku": a.haiku, "fable": a.fable}
            | {"subagent": a.subagent}
        ),
        context_tokens=context_tokens(a.model),
        statusline=opts.statusline,
        budget=lambda: budget_set(paths.config_dir_path, opts.team_prices),
        mlflow_experiment=i.experiment,
        otel_tables=a.otel_tables,
        otel_spans=a.otel_spans,
        onboarding_added=bool(i.record.get("onboarding_added")),
        personal_key=lambda target: personal_key(sc, env, target),
        out=sc.out,
        warn=sc.warn,
    )


def config_for(record: Mapping[str, Any], target: Path) -> dict[str, Any] | None:
    """The configuration of `target`'s location: the one for `target`, or for the other of
    settings.json / settings.local.json in the same folder."""
    other = "settings.local.json" if target.name == "settings.json" else "settings.json"
    return config.view_for(record, target) or config.view_for(record, target.with_name(other))


def _plan_old_rc(
    sc: SetupContext, plan: SetupPlan, path: Path, what: str = "previous shell function"
) -> None:
    raw = read_bytes(path)
    if raw is None:
        return
    try:
        left = undo.rc_left_behind(sc.paths, path, raw)
    except rcblock.HalfBlock:
        sc.warn(f"{path} has a half dbx-fmapi-claude block; left as it is")
        return
    if left is None:
        return
    new, how, mode = left
    if how == undo.ORIGINAL:
        what += " (the file as it was before setup)"
    elif how == undo.DELETE:
        what = f"{what} (a file setup created: deleted)"
    plan.add(Change(path, raw, new, what, mode=mode))
