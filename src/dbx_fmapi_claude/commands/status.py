"""`dbx-fmapi status [--json] [--check]`: what is configured and how long the token lives.

Read-only and fast: no network and no Databricks CLI call unless `--check` asks for one (then
the CLI is asked for the profile's current token, which may refresh it, and the workspace is
asked, with one request, whether it accepts it; a rejected one is replaced as the token helper
would; never a login).
"""

from __future__ import annotations

import json

from ..auth import credentials
from ..core import ui
from ..core.context import Context
from ..core.errors import ExitCode, UserError
from ..record import config, setupstate
from ..shell import rcblock
from .status_token import token_info, token_line

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# 2: "credential", token sources "workspace" and "credential"; 3: "route", the models "fable" and
# "subagent", the settings level "admin" (managed settings, an administrator's)
SCHEMA_VERSION = 4  # 4: "agents" (Codex, Gemini CLI, OpenCode beside Claude Code)


def collect(
    ctx: Context, cfg: config.Configuration, check: bool, fields: dict[str, Any]
) -> dict[str, Any]:
    """The configuration's report; `fields`: what the agents add at its top level."""
    mode = setupstate.token_mode(cfg)
    managed = setupstate.managed_settings(cfg)
    rc = setupstate.rc_file(cfg)
    shell = {
        "name": cfg.shell or "none",
        "rc_file": str(rc) if rc else None,
        "block": rc is not None and rcblock.block_state(rc) == "present",
    }
    ttl = cfg.ttl_seconds
    from ..workspace.routes import for_record  # not at import: status stays light

    route = for_record(cfg)
    return {
        "version": SCHEMA_VERSION,
        "configured": True,
        "workspace": str(cfg.host),
        "profile": str(cfg["profile"]),
        "credential": cfg.auth,
        **({"team": cfg.team} if cfg.team else {}),
        "models": setupstate.configured_models(cfg),
        "route": {
            "name": route.name,
            "base_url": route.base_url(str(cfg.host)),
            "auto": cfg.get("route_auto") is not False,
        },
        "token_mode": mode,
        "ttl_seconds": int(ttl) if mode == "helper" and ttl else None,
        "settings_file": str(managed) if managed else None,
        **fields,
        "shell": shell,
        "token": token_info(ctx, cfg, check),
    }


def render(ctx: Context, data: dict[str, Any]) -> None:
    paint = ui.painter(ctx)

    def row(label: str, value: str) -> None:
        ctx.out(f"{paint(f'{label:<12}', 'bold')}{value}")

    row("Workspace", data["workspace"])
    if data["profile"]:
        row("Profile", data["profile"])
    where = f"profile {data['profile']}" if data["profile"] else "DATABRICKS_* variables"
    row("Credential", f"{credentials.NAMES[data['credential']]}, {where}")
    if data.get("team"):
        row("Team file", f"{data['team']} (setup-fmapi-claudecode --yes reads it again)")
    models = data["models"]
    first = True
    for role in setupstate.ROLES:
        if role in models:
            row("Models" if first else "", f"{role + ' ':<7}{models[role]}")
            first = False
    if first:
        row("Models", "none configured")
    route = data["route"]
    how = "chosen by setup" if route["auto"] else "as asked with --route"
    from ..workspace import routes

    label = routes.get(route["name"]).label
    row("Route", f"{label}, {route['base_url']} ({how})")
    mode = data["token_mode"]
    if mode == "helper":
        ttl = data["ttl_seconds"]
        detail = f"apiKeyHelper runs `dbx-fmapi token`, TTL {ui.duration(ttl)}" if ttl else ""
        row("Token mode", f"helper ({detail})" if detail else "helper")
    else:
        row("Token mode", "static (ANTHROPIC_AUTH_TOKEN in the settings file)")
    row("Token", token_line(data["token"], mode, paint))
    first = True
    for f in data["settings_files"]:
        notes = [f["level"]]
        if f["managed"]:
            notes.append("managed by setup")
        if not f["exists"]:
            notes.append(paint("missing", "red"))
        elif not f["valid"]:
            notes.append(paint("not valid JSON", "red"))
        else:
            over: dict[str, str] = f.get("overridden_by") or {}
            wins = [k for k in f["keys"] if k not in over]
            if wins and not f["managed"]:
                notes.append("also sets " + ", ".join(wins))
            by: dict[str, list[str]] = {}
            for key, level_name in over.items():
                by.setdefault(level_name, []).append(key)
            for level_name, keys in by.items():
                notes.append(f"{', '.join(keys)} overridden by the {level_name} settings")
        row("Settings" if first else "", f"{f['path']} ({'; '.join(notes)})")
        first = False
    shell = data["shell"]
    if shell["rc_file"]:
        where = "block in" if shell["block"] else paint("no block in", "yellow")
        row("Shell", f"{shell['name']}: {where} {shell['rc_file']}")
    else:
        row("Shell", "no shell wrapper (--shell none)")
    for i, agent in enumerate(data.get("agents") or []):
        line = f"{agent['label']}: {agent['model']} at {agent['base_url']}; {agent['file']}"
        line += f"; {agent['tokens']}; start: {agent['launch']}"
        if agent["problem"]:
            line += "; " + paint(agent["problem"], "red")
        row("Agents" if i == 0 else "", line)
    for i, server in enumerate(data.get("mcp") or []):
        kept = [(label, shown, server.get(name)) for name, label, shown in _by_name_writers()]
        lost = [shown for _, shown, ours in kept if not ours]
        where = ", ".join(label for label, _, ours in kept if ours)
        if lost:
            where = paint(f"missing from {', '.join(lost)}", "red")
        row("MCP servers" if i == 0 else "", f"{server['name']}: {server['url']} ({where})")
    if data.get("mlflow"):
        from ..tracing import status as tracing

        row("MLflow", tracing.line(data["mlflow"]))
    if data.get("telemetry"):
        prefix = data["telemetry"]["tables"]["logs"].removesuffix("_otel_logs")
        spans = data["telemetry"].get("spans")
        row(
            "Telemetry",
            f"{prefix}_otel_{{metrics,logs{',spans' if spans else ''}}} at "
            f"{data['telemetry']['endpoint']} (spans {'on' if spans else 'off'}; checked by "
            "dbx-fmapi doctor)",
        )
    for i, other in enumerate(data.get("elsewhere") or []):
        who = f"profile {other['profile']}" if other["profile"] else "DATABRICKS_* variables"
        row(
            "Also set up" if i == 0 else "",
            f"{other['settings_file']}: {other['workspace']} ({who})",
        )
    if data["token"]["state"] in ("login_needed", "missing", "error") and data["token"]["fix"]:
        ctx.out(f"\nfix: {data['token']['fix']}")
    ctx.out("\nFull check: dbx-fmapi doctor")


def agent_views(
    ctx: Context, cfg: config.Configuration
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """What each agent this configuration set up shows, asked the same way of every one: its
    keys at the top of the report (Claude Code's settings levels) and its row in "agents" (the
    others': file, model, route, how tokens stay fresh, how to start it, what is wrong)."""
    from .. import agents

    fields: dict[str, Any] = {}
    rows = []
    for name in config.agents_of(cfg):
        state = cfg.state(name)
        if state is None:  # setup recorded nothing for it
            continue
        view = agents.get(name).status_view(state, ctx.paths, ctx.env, ctx.cwd)
        fields.update(view.fields)
        if view.row is not None:
            rows.append(view.row)
    return fields, rows


def others(record: dict[str, Any] | None, cfg: config.Configuration | None) -> list[dict[str, Any]]:
    """Every configuration but the one in effect here: where, which workspace and profile."""
    return [
        {
            "settings_file": v.settings_file,
            "workspace": v.host,
            "profile": v.profile,
        }
        for v in config.views(record)
        if config.is_set_up(v) and (cfg is None or v.settings_file != cfg.settings_file)
    ]


def run(*, ctx: Context, json: bool = False, check: bool = False) -> int:
    record = config.load_record(ctx.paths)
    cfg = config.in_effect(record, ctx.paths, ctx.cwd)
    elsewhere = others(record, cfg)
    if cfg is None or not config.is_set_up(cfg):
        if json:
            data: dict[str, Any] = {"version": SCHEMA_VERSION, "configured": False}
            if elsewhere:  # set up, but for other folders: Claude Code here uses none of it
                data["elsewhere"] = elsewhere
            ctx.out(_dumps(data))
            return ExitCode.ERROR
        raise config.elsewhere(ctx.paths, ctx.cwd) or UserError(
            "dbx-fmapi-claude is not set up yet", "setup-fmapi-claudecode"
        )
    fields, extra = agent_views(ctx, cfg)
    if check:
        progress = ui.Progress(ctx)
        with progress.step("asking the Databricks CLI and the workspace about the token"):
            data = collect(ctx, cfg, check, fields)
    else:
        data = collect(ctx, cfg, check, fields)
    if elsewhere:  # several configurations: the others too (a single one reads as before)
        data["elsewhere"] = elsewhere
    if extra:  # only when agents beside Claude Code are set up: the shape stays as it was
        data["agents"] = extra
    servers = mcp_rows(ctx, cfg)
    if servers:  # only when `dbx-fmapi mcp add` gave the agents some
        data["mcp"] = servers
    from ..tracing import status as tracing

    traced = tracing.row(ctx.env, ctx.paths.home_path, cfg)
    if traced:  # only with --mlflow-experiment
        data["mlflow"] = traced
    from ..telemetry import tables

    prefix = tables.prefix_of(cfg)
    if prefix is not None:  # only when setup was given --otel-tables
        spans = tables.spans_on(cfg)
        names = tables.names(prefix)
        data["telemetry"] = {
            "tables": {s: names[s] for s in tables.signals_of(spans)},
            "spans": spans,
            "endpoint": tables.endpoint(str(cfg.get("host") or "")),
        }
    if json:
        ctx.out(_dumps(data))
    else:
        render(ctx, data)
    return ExitCode.OK


def _by_name_writers() -> list[tuple[str, str, str]]:
    """(name, label, how its file is named) of each agent whose MCP writer keeps each server by
    name (Claude Code: ~/.claude.json); mcp_rows says under its name whether it holds ours."""
    from .. import agents

    return [(a.name, a.label, a.mcp.shown) for a in agents.every() if a.mcp and a.mcp.by_name]


def mcp_rows(ctx: Context, cfg: config.Configuration) -> list[dict[str, Any]]:
    """The MCP servers of this configuration: name, kind, URL, and whether each by_name writer's
    file (Claude Code's ~/.claude.json: "claude") still holds ours (read only: no request)."""
    from ..core.fileio import read_bytes
    from ..mcp import agentfiles, servers

    entries = servers.entries(cfg)
    if not entries:
        return []
    held: dict[str, dict[str, bool]] = {}
    for agent, writer, path in agentfiles.by_name(cfg, ctx.paths):
        try:
            held[agent.name] = writer.servers_in(ctx.paths, cfg, path, read_bytes(path))
        except UserError:
            held[agent.name] = {}
    return [
        {
            "name": e["name"],
            "kind": e.get("kind"),
            "url": servers.url_of(str(cfg.host), e),
            **{name: found.get(e["name"]) is True for name, found in held.items()},
        }
        for e in entries
    ]


def _dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2)
