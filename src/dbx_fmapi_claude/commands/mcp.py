"""`dbx-fmapi mcp add|list|remove`: the workspace's managed MCP servers (Genie spaces, Databricks
SQL, Unity Catalog functions, AI Search indexes, external servers through a UC connection) in
the agents of the configuration in effect in this folder, with tokens that never go stale.

Each agent of the configuration gets them in its own file through its writer (`Agent.mcp`,
mcp/agentfiles.py; Claude Code: an http server with our headersHelper in ~/.claude.json); the
record keeps the list (its `mcp` key) so that list, status, doctor and uninstall know exactly
what is ours. Every file changes through the change engine, all or nothing; --dry-run shows the
diff. A malformed kind, name, id or path is refused before anything is read or written.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable

from ..agents.mcpfiles import McpServer, headers_command
from ..changes import engine
from ..core.context import Context
from ..core.errors import ExitCode, UserError
from ..core.fileio import read_bytes
from ..mcp import agentfiles, servers
from ..record import config

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def _bad(exc: servers.BadInput) -> UserError:
    return UserError(exc.message, exc.fix, ExitCode.USAGE)


def _settings_file(cfg: dict[str, Any]) -> str:
    return str(cfg.get("settings_file") or "")


def _with_entries(
    raw: bytes | None, ctx: Context, cfg: dict[str, Any], edit: Callable[[list[Any]], list[Any]]
) -> bytes:
    """The record's bytes with `edit` applied to the `mcp` list of `cfg`'s configuration."""
    record = config.load_record(ctx.paths) if raw is not None else None
    if record is None:
        raise UserError("dbx-fmapi-claude is not set up yet", "setup-fmapi-claudecode")
    want = _settings_file(cfg)
    for one in record.get("configs") or []:
        if str(one.get("settings_file") or "") == want:
            one["mcp"] = edit(servers.entries(one))
            if not one["mcp"]:
                del one["mcp"]
            break
    else:
        raise UserError(
            f"the configuration for {want} is gone from the record", "setup-fmapi-claudecode"
        )
    return (json.dumps(record, indent=2, sort_keys=True) + "\n").encode()


def _record_change(
    ctx: Context, cfg: dict[str, Any], edit: Callable[[list[Any]], list[Any]]
) -> engine.Change:
    path = ctx.paths.config_file
    raw = read_bytes(path)
    return engine.Change(
        path,
        raw,
        _with_entries(raw, ctx, cfg, edit),
        "setup record: its MCP servers",
        secret=True,
        redo=lambda now: _with_entries(now, ctx, cfg, edit),
    )


def _finish(ctx: Context, plan: engine.Plan, dry_run: bool) -> bool:
    """Show (dry run) or write the plan; True when written."""
    if dry_run:
        engine.show(plan, ctx.stdout)
        ctx.out("Dry run: nothing was written.")
        return False
    engine.preflight(plan.changes, name="dbx-fmapi mcp")
    engine.apply(plan, paths=ctx.paths, say=ctx.out, name="dbx-fmapi mcp", again="dbx-fmapi mcp")
    return True


def _agent_changes(
    ctx: Context, cfg: dict[str, Any], after: list[dict[str, Any]], helper: str
) -> dict[str, engine.Change]:
    """Each agent's own config with `after` as our servers (mcp/agentfiles.py), by agent name,
    for the agents this configuration set up whose file is there (not the by_name writers')."""
    out = {}
    listed = agentfiles.server_list(str(cfg["host"]), after)
    for agent, writer, path in agentfiles.writers(cfg, ctx.paths):
        if writer.by_name:
            continue
        raw = read_bytes(path)
        if raw is not None:
            out[agent.name] = writer.change(path, raw, listed, helper)
    return out


def _helper(ctx: Context, cfg: dict[str, Any]) -> str:
    exe = shutil.which("dbx-fmapi", path=ctx.env.get("PATH")) or "dbx-fmapi"
    return headers_command(cfg, exe)


def _say_agents(ctx: Context, cfg: dict[str, Any], changed: dict[str, engine.Change]) -> None:
    for agent, writer, path in agentfiles.writers(cfg, ctx.paths):
        line = writer.said(ctx.paths, cfg, path, agent.name in changed)
        if line is not None:
            ctx.out(line)


def add(
    ctx: Context,
    kind: str,
    arg: str | None,
    name: str | None,
    dry_run: bool,
    cfg: dict[str, Any] | None = None,
) -> int:
    """`mcp add` on the configuration in effect here, or on `cfg` (setup's, from a team file)."""
    try:  # before anything is read: the same answer whether set up or not
        if kind not in servers.KINDS:
            servers.parse(kind, arg, name, "")
        if name is not None:
            servers.check_name(name)
    except servers.BadInput as exc:
        raise _bad(exc) from None
    if cfg is None:
        cfg = config.require(ctx.paths, ctx.cwd_path)
    host = str(cfg["host"])
    try:
        server = servers.parse(kind, arg, name, host)
    except servers.BadInput as exc:
        raise _bad(exc) from None
    url = servers.url_of(host, server.entry())
    mine = {e["name"]: e for e in servers.entries(cfg)}
    again = mine.get(server.name, {}).get("path") == server.path
    if server.name in mine and not again:
        raise UserError(
            f"an MCP server called {server.name} is already configured "
            f"({servers.url_of(host, mine[server.name])}); nothing was changed",
            f"pick another name: --name OTHER, or first: dbx-fmapi mcp remove {server.name}",
            ExitCode.USAGE,
        )
    keepers = agentfiles.by_name(cfg, ctx.paths)  # Claude Code's ~/.claude.json
    raws = {agent.name: read_bytes(path) for agent, _, path in keepers}
    held = {
        agent.name: writer.servers_in(ctx.paths, cfg, path, raws[agent.name]).get(server.name)
        for agent, writer, path in keepers
    }
    if again and all(ours is True for ours in held.values()):
        ctx.out(f"MCP server {server.name} is already configured ({url}); nothing to do.")
        return ExitCode.OK
    for agent, _, path in keepers:
        if held[agent.name] is False:
            raise UserError(
                f"{path} already has an MCP server called {server.name} (not one of ours); "
                "nothing was changed",
                f"pick another name: dbx-fmapi mcp add {kind} {arg or ''} --name OTHER".replace(
                    "  ", " "
                ),
                ExitCode.USAGE,
            )
    helper = _helper(ctx, cfg)
    plan = engine.Plan()
    wanted = McpServer(server.name, url, server.path)
    for agent, writer, path in keepers:
        plan.add(writer.added(ctx.paths, cfg, path, raws[agent.name], wanted, helper))
    changed: dict[str, engine.Change] = {}
    if not again:  # else only put back what a Claude Code session wrote away
        plan.add(_record_change(ctx, cfg, lambda found: [*found, server.entry()]))
        after = [*servers.entries(cfg), server.entry()]
        changed = _agent_changes(ctx, cfg, after, helper)
        for change in changed.values():
            plan.add(change)
    if not _finish(ctx, plan, dry_run):
        return ExitCode.OK
    ctx.out(f"Added MCP server {server.name}: {url}")
    _say_agents(ctx, cfg, changed)
    ctx.out(f"  It needs {servers.PERMISSIONS[server.kind]}. Check it: dbx-fmapi doctor")
    return ExitCode.OK


def remove(ctx: Context, name: str, dry_run: bool) -> int:
    try:
        servers.check_name(name)
    except servers.BadInput as exc:
        raise _bad(exc) from None
    cfg = config.require(ctx.paths, ctx.cwd_path)
    mine = [e["name"] for e in servers.entries(cfg)]
    if name not in mine:
        listed = ", ".join(mine) or "none"
        raise UserError(
            f"no MCP server called {name} is configured here (configured: {listed}); nothing "
            "was changed",
            "dbx-fmapi mcp list",
            ExitCode.USAGE,
        )
    plan = engine.Plan()
    for _, writer, path in agentfiles.by_name(cfg, ctx.paths):
        plan.add(writer.removed(ctx.paths, cfg, path, read_bytes(path), name))
    plan.add(_record_change(ctx, cfg, lambda found: [e for e in found if e["name"] != name]))
    rest = [e for e in servers.entries(cfg) if e["name"] != name]
    for change in _agent_changes(ctx, cfg, rest, _helper(ctx, cfg)).values():
        plan.add(change)
    if _finish(ctx, plan, dry_run):
        ctx.out(f"Removed MCP server {name}.")
    return ExitCode.OK


def listing(ctx: Context, as_json: bool) -> int:
    cfg = config.require(ctx.paths, ctx.cwd_path)
    host = str(cfg["host"])
    keepers = agentfiles.by_name(cfg, ctx.paths)
    held = {
        agent.name: writer.servers_in(ctx.paths, cfg, path, read_bytes(path))
        for agent, writer, path in keepers
    }
    rows = []
    for e in servers.entries(cfg):
        row = {**e, "url": servers.url_of(host, e)}
        for agent, _, _ in keepers:  # "claude": ~/.claude.json still holds ours
            row[agent.name] = held[agent.name].get(e["name"]) is True
        rows.append(row)
    if as_json:
        ctx.out(json.dumps({"servers": rows}, indent=2))
        return ExitCode.OK
    if not rows:
        ctx.out("No MCP servers configured. Add one: dbx-fmapi mcp add genie SPACE_ID")
        return ExitCode.OK
    for r in rows:
        has = [agent.label for agent, _, _ in keepers if r[agent.name]]
        lost = [writer.shown for agent, writer, _ in keepers if not r[agent.name]]
        where = f"missing from {', '.join(lost)} (add it again)" if lost else ", ".join(has)
        ctx.out(f"{r['name']}  {r['kind']} {r['target']}".rstrip() + f"  {r['url']}  [{where}]")
    return ExitCode.OK


def run(
    *,
    ctx: Context,
    action: str,
    kind: str | None = None,
    arg: str | None = None,
    name: str | None = None,
    dry_run: bool = False,
    as_json: bool = False,
) -> int:
    if action == "add":
        return add(ctx, str(kind), arg, name, dry_run)
    if action == "remove":
        return remove(ctx, str(name), dry_run)
    return listing(ctx, as_json)
