"""`dbx-fmapi status [--json] [--check]`: what is configured and how long the token lives.

Read-only and fast: no network and no Databricks CLI call unless `--check` asks for one (then
the CLI is asked for the profile's current token, which may refresh it, and the workspace is
asked, with one request, whether it accepts it; a rejected one is replaced as the token helper
would; never a login).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from ..agents.claude import effective, settings
from ..auth import credentials, tokens
from ..core import ui
from ..core.context import Context
from ..core.errors import ExitCode, UserError
from ..record import config, setupstate
from ..shell import rcblock

# 2: "credential", token sources "workspace" and "credential"; 3: "route", the models "fable" and
# "subagent", the settings level "admin" (managed settings, an administrator's)
SCHEMA_VERSION = 4  # 4: "agents" (Codex, Gemini CLI, OpenCode beside Claude Code)


def _token_from_settings(path: Path) -> str | None:
    try:
        data, _ = settings.load(path)
    except UserError:
        return None
    tok = (data.get("env") or {}).get(settings.ENV_TOKEN)
    return tok if isinstance(tok, str) and tok else None


def token_info(ctx: Context, cfg: config.Configuration, check: bool) -> dict[str, Any]:
    """{state, source, expires_at, seconds_left, checked, message, fix}; never the token."""
    profile = str(cfg["profile"])
    need = tokens.needed_lifetime(ctx.env, cfg)
    info: dict[str, Any] = {
        "state": "unknown",
        "source": None,
        "expires_at": None,
        "seconds_left": None,
        "checked": check,
        "workspace": None,  # with --check: accepted, replaced, rejected, unknown
        "message": None,
        "fix": None,
    }
    expiry: float | None = None
    if check:
        from ..auth import dbcli, rejected

        try:
            source = credentials.for_record(cfg, ctx.env, ctx.paths.home_path)
            request = tokens.request_for(ctx, cfg, need=0)
            request.always_check = True  # one request to the workspace, not only the CLI
            tok = credentials.token(source, request)
            expiry = tok.expiry
            info["source"] = source.credential_kind.status_source
        except credentials.CredentialError as exc:
            info["state"] = "error"
            info["message"] = exc.message
            info["fix"] = exc.fix
            return info
        except (dbcli.CliError, rejected.RejectedLogin) as exc:
            info["state"] = "login_needed" if exc.kind == "login" else "error"
            info["message"] = exc.message
            info["fix"] = "dbx-fmapi login" if exc.kind == "login" else exc.fix
            return info
        verdict = request.verdict
        if verdict is None and source.host:  # a service principal's or a PAT's token
            verdict = rejected.check(source.host, tok.access_token, ctx.env)
        info["workspace"] = verdict or rejected.UNKNOWN
        if verdict == rejected.REPLACED:
            info["message"] = (
                "the workspace had rejected the token (revoked or rotated); a fresh one replaced it"
            )
        elif verdict == rejected.REJECTED:
            info["state"] = "rejected"
            info["message"] = (
                "rejected by the workspace although it has not expired (revoked or rotated)"
            )
            info["fix"] = source.credential_kind.rejected_fix
            return info
    elif setupstate.token_mode(cfg) == "static":
        path = setupstate.managed_settings(cfg)
        tok_text = _token_from_settings(path) if path else None
        if tok_text is None:
            info["state"] = "missing"
            info["message"] = "no ANTHROPIC_AUTH_TOKEN in the settings file"
            info["fix"] = "dbx-fmapi-claude  (writes a fresh token before it starts claude)"
            return info
        expiry = tokens.known_expiry(ctx.paths, profile, tok_text)
        if expiry is None:
            expiry = tokens.jwt_expiry(tok_text)
        info["source"] = "settings"
    elif not credentials.of(cfg.auth).browser_login:
        try:
            source = credentials.for_record(cfg, ctx.env, ctx.paths.home_path)
        except UserError as exc:
            info["state"], info["message"], info["fix"] = "error", exc.message, exc.fix
            return info
        expiry = credentials.known_expiry(source, ctx.paths)
        info["source"] = "record" if expiry is not None else None
    else:
        expiry = tokens.known_expiry(ctx.paths, profile)
        info["source"] = "record" if expiry is not None else None
    if expiry == credentials.NO_EXPIRY:
        info["state"] = "valid"
        info["message"] = (
            "a personal access token: its expiry is not known here (doctor checks it against "
            "the workspace)"
        )
        return info
    if expiry is None:
        info["message"] = "no token fetched yet; ask the CLI with: dbx-fmapi status --check"
        return info
    left = expiry - time.time()
    info["expires_at"] = ui.iso(expiry)
    info["seconds_left"] = int(left)
    if left <= 0:
        info["state"] = "expired"
    elif left < need:
        info["state"] = "expiring"
    else:
        info["state"] = "valid"
    return info


def _token_line(info: dict[str, Any], mode: str, paint: ui.Painter) -> str:
    state = info["state"]
    left = info["seconds_left"]
    if state == "valid" and left is None:
        return paint("valid", "green") + f" — {info['message']}"
    if state == "valid":
        text = paint("valid", "green") + f", {ui.duration(left)} left"
    elif state == "expiring":
        renew = "refreshed on next use" if mode == "helper" else "dbx-fmapi-claude refreshes it"
        text = paint("valid", "yellow") + f", {ui.duration(left)} left ({renew})"
    elif state == "expired":
        renew = (
            "the helper fetches a new one on next use"
            if mode == "helper"
            else "plain `claude` fails until dbx-fmapi-claude refreshes it"
        )
        text = paint("expired", "red") + f" {ui.duration(-left)} ago ({renew})"
    elif state == "login_needed":
        why = info.get("message") or ""
        rejected_first = "rejected" in why
        text = paint("login needed", "red") + (
            f" — {why}; fix: dbx-fmapi login" if rejected_first else " — fix: dbx-fmapi login"
        )
    elif state == "missing":
        text = paint("missing", "red") + f" — {info['message']}"
    elif state == "error":
        text = paint("unknown", "yellow") + f" — {info['message']}"
    elif state == "rejected":
        text = paint("rejected", "red") + f" — {info['message']}; fix: {info['fix']}"
    else:
        text = "unknown — " + str(info["message"])
    if info["expires_at"] and state in ("valid", "expiring"):
        text += f" (until {ui.clock(time.time() + left)})"
    if info.get("workspace") == "replaced" and state in ("valid", "expiring"):
        text += f" — {info['message']}"
    if info["checked"] and state != "rejected":
        asked = info.get("workspace")
        text += (
            " [checked with the workspace]"
            if asked in ("accepted", "replaced")
            else " [checked with the Databricks CLI; the workspace did not answer]"
            if asked == "unknown"
            else " [checked with the Databricks CLI]"
        )
    return text


def collect(ctx: Context, cfg: config.Configuration, check: bool) -> dict[str, Any]:
    mode = setupstate.token_mode(cfg)
    managed = setupstate.managed_settings(cfg)
    project = effective.project_dir(ctx.paths, managed, ctx.cwd)
    levels = effective.load_levels(ctx.paths, project, managed, ctx.env)
    files = []

    def keys_of(level: effective.Level) -> list[str]:
        if level.data is None:
            return []
        env = level.data.get("env") or {}
        keys = [k for k in env if k in settings.ALL_ENV_KEYS or k == "ANTHROPIC_API_KEY"]
        if settings.HELPER_KEY in level.data:
            keys.append(settings.HELPER_KEY)
        return keys

    for i, level in enumerate(levels):  # lowest precedence first
        if not level.exists and not level.managed:
            continue
        keys = keys_of(level)
        # A key a level above sets too is not this file's: Claude Code uses the other value.
        overridden = {
            k: above.name for k in keys for above in levels[i + 1 :] if k in keys_of(above)
        }
        files.append(
            {
                "level": level.name,
                "path": str(level.path),
                "exists": level.exists,
                "valid": level.exists and level.error is None,
                "managed": level.managed,
                "keys": keys,
                **({"overridden_by": overridden} if overridden else {}),
            }
        )
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
        "credential": cfg.auth or credentials.OAUTH,
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
        "settings_files": files,
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
    row("Token", _token_line(data["token"], mode, paint))
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
        where = "Claude Code" if server["claude"] else paint("missing from ~/.claude.json", "red")
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


def agent_rows(ctx: Context, cfg: config.Configuration) -> list[dict[str, Any]]:
    """The agents beside Claude Code this configuration set up: their file, model, route, how
    their tokens stay fresh, how to start them, and what is wrong with their file (None: it
    holds what setup wrote)."""
    from .. import agents

    rows = []
    for name in config.agents_of(cfg):
        agent = agents.get(name)
        state = cfg.state(name)
        if agent.required or state is None:  # the required agent's: the heading above
            continue
        rows.append(
            {
                "name": name,
                "label": agent.label,
                "file": state.get("file"),
                "model": state.get("model"),
                "route": state.get("route"),
                "base_url": state.get("base_url"),
                "tokens": agent.freshness,
                "launch": agent.launch,
                "problem": agent.in_effect(state, ctx.paths),
            }
        )
    return rows


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
    if check:
        progress = ui.Progress(ctx)
        with progress.step("asking the Databricks CLI and the workspace about the token"):
            data = collect(ctx, cfg, check)
    else:
        data = collect(ctx, cfg, check)
    if elsewhere:  # several configurations: the others too (a single one reads as before)
        data["elsewhere"] = elsewhere
    extra = agent_rows(ctx, cfg)
    if extra:  # only when agents beside Claude Code are set up: the shape stays as it was
        data["agents"] = extra
    servers = mcp_rows(ctx, cfg)
    if servers:  # only when `dbx-fmapi mcp add` gave the agents some
        data["mcp"] = servers
    from ..tracing import status as tracing

    traced = tracing.row(ctx.env, ctx.paths.home_path, cfg)
    if traced:  # only with --mlflow-experiment
        data["mlflow"] = traced
    if cfg.get("otel_tables"):  # only when setup was given --otel-tables
        from ..telemetry import tables

        spans = tables.spans_on(cfg)
        names = tables.names(str(cfg["otel_tables"]))
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


def mcp_rows(ctx: Context, cfg: config.Configuration) -> list[dict[str, Any]]:
    """The MCP servers of this configuration: name, kind, URL, and whether Claude Code's
    ~/.claude.json still holds ours (read only: no request)."""
    from ..core.fileio import read_bytes
    from ..mcp import claudejson, servers

    entries = servers.entries(cfg)
    if not entries:
        return []
    folder = claudejson.scope_folder(cfg, ctx.paths.home_path)
    try:
        raw = read_bytes(ctx.paths.claude_json)
        found = claudejson.servers(claudejson.load(raw, str(ctx.paths.claude_json)), folder)
    except UserError:
        found = {}
    return [
        {
            "name": e["name"],
            "kind": e.get("kind"),
            "url": servers.url_of(str(cfg.host), e),
            "claude": claudejson.is_ours(found.get(e["name"])),
        }
        for e in entries
    ]


def _dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2)
