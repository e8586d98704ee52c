"""Each MCP server `dbx-fmapi mcp add` configured: still in the file of each agent whose writer
keeps servers by name (Claude Code's ~/.claude.json, with our headersHelper), and answering
initialize + tools/list with the current token; a refusal names the permission the server needs
(mcp/servers.py PERMISSIONS)."""

from __future__ import annotations

import shlex

from ..core import ui
from ..core.errors import UserError
from ..core.fileio import read_bytes
from ..mcp import agentfiles, servers
from .report import LOGIN, Run, need

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def configured(r: Run) -> list[str]:
    return [e["name"] for e in servers.entries(need(r.cfg))]


def _entry(r: Run) -> dict[str, Any]:
    return next(e for e in servers.entries(need(r.cfg)) if e["name"] == r.item)


def _add_again(entry: dict[str, Any]) -> str:
    words = ["dbx-fmapi", "mcp", "add", str(entry.get("kind") or "url")]
    if entry.get("target"):
        words.append(str(entry["target"]))
    return " ".join(shlex.quote(w) for w in [*words, "--name", str(entry["name"])])


def server(r: Run) -> None:
    from ..mcp import probe
    from ..workspace.client import WorkspaceError, diagnose, error_label

    cfg, tok, entry = need(r.cfg), need(r.token), _entry(r)
    host, kind = str(cfg.host), str(entry.get("kind") or "url")
    url = servers.url_of(host, entry)
    keepers = agentfiles.by_name(cfg, r.ctx.paths)
    for _, writer, path in keepers:
        try:
            found = writer.servers_in(r.ctx.paths, cfg, path, read_bytes(path))
        except UserError as exc:
            r.add(ui.FAIL, exc.message, exc.fix)
            return
        if found.get(entry["name"]) is not True:
            r.add(ui.FAIL, writer.lost(path), f"add it again: {_add_again(entry)}")
            return
    try:
        with r.progress.step(f"asking MCP server {entry['name']} for its tools"):
            _, tools = probe.tools(url, tok.access_token, r.ctx.env)
    except WorkspaceError as exc:
        label, low = error_label(exc), exc.message.lower()
        remove = f"dbx-fmapi mcp remove {entry['name']}"
        if exc.status == 403 and "scope" in low:
            r.add(
                ui.FAIL,
                f"{url} refused the token: its OAuth scopes do not cover this server "
                f"({label}: {exc.message})",
                f"log in again so the token carries the all-apis scope: {LOGIN}",
            )
        elif exc.status == 403 and not ("invalid" in low and "token" in low):
            r.add(
                ui.FAIL,
                f"{url} refused you ({label}: {exc.message}); this server needs "
                f"{servers.PERMISSIONS.get(kind, servers.PERMISSIONS['url'])}",
                "ask a workspace admin to grant it, then: dbx-fmapi doctor",
            )
        elif exc.status == 404:
            r.add(
                ui.FAIL,
                f"the workspace has no such {kind} server ({label}: {exc.message}): {url}",
                f"check the id or name, then: {remove} && {_add_again(entry)}",
            )
        elif exc.status == 400 and "suspended" in low:
            r.add(ui.FAIL, f"{url}: {exc.message}", f"{remove}, then add the workspace endpoint")
        else:
            detail, fix = diagnose(exc, host, f"reach MCP server {entry['name']}", login=LOGIN)
            r.add(ui.WARN if exc.status == 429 else ui.FAIL, detail, fix)
        return
    shown = ", ".join(tools[:4]) + (f", … ({len(tools)} in all)" if len(tools) > 4 else "")
    has = " and ".join(agent.label for agent, _, _ in keepers)
    r.add(ui.PASS, f"{url} answers: {shown or 'no tools'}; {has} {_has(len(keepers))}")


def _has(count: int) -> str:
    return "has it" if count == 1 else "have it"
