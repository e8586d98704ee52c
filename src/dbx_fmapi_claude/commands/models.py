"""`dbx-fmapi models [--json] [--validate]`: the workspace's Claude endpoints, configured ones
marked; with Codex, Gemini CLI or OpenCode set up, its GPT and Gemini endpoints too (Codex: GPT,
Gemini CLI: Gemini, OpenCode: both, since it speaks chat completions to any model). `--validate`
exits 1 when a configured model (Claude's roles and each agent's) is missing or not READY."""

from __future__ import annotations

import json

from .. import agents
from ..agents.base import Agent, ModelFamily
from ..auth import credentials, tokens
from ..core import ui
from ..core.context import Context
from ..core.errors import ExitCode, UserError
from ..record import config, setupstate
from ..workspace import client as workspace

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

SCHEMA_VERSION = 3  # 2: family "fable", roles "fable" and "subagent", "retires"; 3: the
# agents' models (their families, such as "gpt" and "gemini", and roles named after them)
SETUP = "setup-fmapi-claudecode"


def _roles() -> dict[str, Agent]:
    """The agents whose model is a role of its own (setup's model flag for it), by name."""
    return {a.name: a for a in agents.every() if a.model_flag}


def agent_families() -> dict[str, tuple[ModelFamily, list[str]]]:
    """family name -> the family, and the agents beside Claude Code that use it (the registry's
    order)."""
    out: dict[str, tuple[ModelFamily, list[str]]] = {}
    for agent in _roles().values():
        for fam in agent.families:
            out.setdefault(fam.name, (fam, []))[1].append(agent.name)
    return out


def agent_models(cfg: dict[str, Any]) -> dict[str, str]:
    """agent name -> its configured model, for the agents beside Claude Code set up here."""
    out = {}
    roles = _roles()
    for name in config.agents_of(cfg):
        state = cfg.get(name)
        if name in roles and isinstance(state, dict) and state.get("model"):
            out[name] = str(state["model"])
    return out


def _served_by_anthropic(entry: dict[str, Any]) -> bool:
    """An external-model endpoint whose provider is Anthropic (also served by the route)."""
    from ..workspace import catalogue

    return catalogue.endpoint_kind(entry) == "external" and (
        catalogue.external_model(entry) is not None
    )


def _state(entry: dict[str, Any]) -> str:
    state = entry.get("state") or {}
    value = state.get("ready") if isinstance(state, dict) else None
    return str(value) if value else "UNKNOWN"


def _kind(entry: dict[str, Any]) -> str:
    """foundation, external or other: from the served entities, as the SDKs define them."""
    from ..workspace import catalogue

    return catalogue.endpoint_kind(entry)


def _row(
    e: dict[str, Any], family: str | None, roles: list[str], retires: str | None
) -> dict[str, Any]:
    return {
        "name": str(e["name"]),
        "state": _state(e),
        "ready": workspace.is_ready(e),
        "family": family,
        "kind": _kind(e),
        "configured_as": roles,
        "retires": retires,
    }


def collect(cfg: dict[str, Any], endpoints: list[dict[str, Any]]) -> dict[str, Any]:
    roles = setupstate.roles_by_model(cfg)
    theirs = agent_models(cfg)
    for agent, name in theirs.items():
        roles.setdefault(name, []).append(agent)
    claude = workspace.claude_endpoints(endpoints)  # READY first, newest first
    order = {fam: i for i, fam in enumerate(workspace.FAMILIES)}
    claude.sort(key=lambda e: order.get(workspace.family(str(e["name"])) or "", len(order)))
    names = {str(e["name"]) for e in claude}
    claude += sorted(
        (e for e in endpoints if str(e["name"]) not in names and _served_by_anthropic(e)),
        key=lambda e: str(e["name"]),
    )
    from ..workspace import catalogue  # not at import: only here

    rows = [
        _row(
            e,
            workspace.family(str(e["name"])),
            roles.get(str(e["name"]), []),
            when.isoformat() if (when := catalogue.retirement(str(e["name"]))) else None,
        )
        for e in claude
    ]
    by_name = {str(e["name"]): e for e in endpoints}
    # The agents' families, when an agent that uses them is set up: READY first, newest first.
    for fam, (family, users) in agent_families().items():
        if not any(a in theirs for a in users):
            continue
        found = [n for n in by_name if n.startswith(family.prefix)]
        ready = [n for n in found if workspace.is_ready(by_name[n])]
        ordered = workspace.newest_first(ready) + workspace.newest_first(
            [n for n in found if n not in ready]
        )
        rows += [_row(by_name[n], fam, roles.get(n, []), None) for n in ordered]
    # An agent's model of no family listed above (OpenCode on another chat model).
    listed = {r["name"] for r in rows}
    for name in dict.fromkeys(theirs.values()):
        if name not in listed and name in by_name:
            rows.append(_row(by_name[name], None, roles.get(name, []), None))
            listed.add(name)
    configured = []
    wanted = [*setupstate.configured_models(cfg).items(), *theirs.items()]
    for role, name in wanted:
        entry = by_name.get(name)
        configured.append(
            {"role": role, "name": name, "state": "MISSING" if entry is None else _state(entry)}
        )
    return {
        "version": SCHEMA_VERSION,
        "workspace": str(cfg["host"]),
        "endpoints": rows,
        "configured": configured,
        "valid": all(c["state"] == "READY" for c in configured),
    }


def render(ctx: Context, data: dict[str, Any]) -> None:
    from ..workspace import catalogue

    paint = ui.painter(ctx)
    today = catalogue.today(ctx.env)
    rows = data["endpoints"]
    families = agent_families()
    roles = _roles()
    claude = [r for r in rows if r["family"] not in families and _claude_row(r)]
    ctx.out(f"Claude endpoints in {data['workspace']} (* = configured):")
    if not claude:
        ctx.out("  none: this workspace serves no Claude model you can see")
    width = max([len(r["name"]) for r in rows] + [len(c["name"]) for c in data["configured"]])

    def line(r: dict[str, Any]) -> None:
        mark = paint("*", "bold") if r["configured_as"] else " "
        state = paint(f"{r['state']:<9}", "green" if r["ready"] else "yellow")
        extra = "  " + ", ".join(r["configured_as"]) if r["configured_as"] else ""
        if r["kind"] == "external":
            extra += "  (external model)"
        retires = catalogue.retiring(r["name"], today)
        if retires:
            verb = "retired on" if retires == "retired" else "retires on"
            extra += f"  ({verb} {r['retires']})"
        ctx.out(f"{mark} {r['name']:<{width}}  {state}{extra}".rstrip())

    for r in claude:
        line(r)
    set_up = {c["role"] for c in data["configured"]}
    for fam, (family, users) in families.items():
        using = [roles[a].label for a in users if a in set_up]
        if not using:
            continue
        ctx.out(f"{family.title} (for {' and '.join(using)}):")
        part = [r for r in rows if r["family"] == fam]
        if not part:
            ctx.out("  none: this workspace serves none you can see")
        for r in part:
            line(r)
    other = [r for r in rows if r not in claude and r["family"] not in families]
    if other:
        ctx.out("Other endpoints:")
        for r in other:
            line(r)
    listed = {r["name"] for r in rows}
    for c in data["configured"]:
        if c["state"] == "MISSING" and c["name"] not in listed:
            listed.add(c["name"])
            named = ", ".join(x["role"] for x in data["configured"] if x["name"] == c["name"])
            ctx.out(
                f"{paint('!', 'red')} {c['name']:<{width}}  {paint('MISSING  ', 'red')}  {named}"
            )


def _claude_row(r: dict[str, Any]) -> bool:
    return r["family"] is not None or r["kind"] == "external"


def check_configured(ctx: Context, data: dict[str, Any]) -> int:
    bad = [c for c in data["configured"] if c["state"] != "READY"]
    if not bad:
        ctx.out("All configured models are READY.")
        return ExitCode.OK
    ready = [r["name"] for r in data["endpoints"] if r["ready"]]
    roles = _roles()
    for c in bad:
        why = "does not exist" if c["state"] == "MISSING" else f"is {c['state']}"
        whose = f"{roles[c['role']].label}'s" if c["role"] in roles else c["role"]
        ctx.err(f"dbx-fmapi: {whose} model {c['name']} {why} in {data['workspace']}")
    flags = " ".join(
        f"{roles[c['role']].model_flag} NAME" if c["role"] in roles else f"--{c['role']} NAME"
        for c in bad
    )
    hint = f" (READY: {', '.join(ready[:6])})" if ready else ""
    ctx.err(f"  fix: {SETUP} {flags}{hint}")
    return ExitCode.ERROR


def run(*, ctx: Context, json: bool = False, validate: bool = False) -> int:
    cfg = config.require(ctx.paths, ctx.cwd)
    host = str(cfg["host"])
    progress = ui.Progress(ctx)
    with progress.step("getting a token"):
        source = credentials.for_record(cfg, ctx.env, ctx.paths.home_path)
        tok = credentials.token(source, tokens.request_for(ctx, cfg, allow_login=True))
    ws = workspace.Workspace(host, tok.access_token, ctx.env)
    try:
        with progress.step(f"listing the serving endpoints of {host}"):
            endpoints = ws.endpoints()
    except workspace.WorkspaceError as exc:
        # The host is setup's record, which setup checked: the network is the suspect.
        raise UserError(
            *workspace.diagnose(
                exc, host, "list the models", retry="dbx-fmapi models", url_checked=True
            )
        ) from None
    data = collect(cfg, endpoints)
    if json:
        ctx.out(_dumps(data))
        return ExitCode.ERROR if validate and not data["valid"] else ExitCode.OK
    render(ctx, data)
    if validate:
        return check_configured(ctx, data)
    return ExitCode.OK


def _dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2)
