"""Uninstall's part for MCP: the servers `dbx-fmapi mcp add` put into ~/.claude.json leave it
(a server of the user's, or one they changed to their own, stays). When what is left is what
the file held before our first change, its original bytes come back."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ..agents import jsonfile
from ..changes import engine, undo
from ..core.context import Context
from ..core.fileio import read_bytes
from ..record import originals
from . import claudejson, servers

EMPTY = b"{}\n"  # an agent's JSON config with nothing in it


def plan_uninstall(ctx: Context, cfgs: Sequence[dict[str, Any]], plan: engine.Plan) -> None:
    path = ctx.paths.claude_json
    scopes: dict[str | None, list[str]] = {}
    for cfg in cfgs:
        names = [e["name"] for e in servers.entries(cfg)]
        if names:
            folder = claudejson.scope_folder(cfg, ctx.paths.home_path)
            scopes.setdefault(folder, []).extend(names)
    if not scopes:
        return
    known, original = originals.load_original(ctx.paths, path)

    def take(now: bytes | None) -> bytes | None:
        for folder, names in scopes.items():
            now = claudejson.without_servers(now, str(path), folder, names)
        if known and original is not None and claudejson.same_json(now, original):
            return original
        return now

    earlier = next((c for c in plan.changes if c.path == path), None)
    if earlier is not None:  # the onboarding flag leaves the same file: one change for both
        first = earlier.redo
        earlier.new = take(earlier.new)
        earlier.what += ", and the MCP servers dbx-fmapi mcp added"
        earlier.redo = lambda now: take(first(now) if first else now)
        return
    raw = read_bytes(path)
    new = take(raw)
    if new != raw:
        plan.changes.append(
            engine.Change(path, raw, new, "remove the MCP servers dbx-fmapi mcp added", redo=take)
        )


def plan_agent_files(ctx: Context, cfgs: Sequence[dict[str, Any]], plan: engine.Plan) -> None:
    """Our MCP members out of Gemini CLI's and OpenCode's config (composed with the agent's own
    uninstall change of the same file, when it made one)."""
    from pathlib import Path

    from . import agentfiles

    for cfg in cfgs:
        if not servers.entries(cfg):
            continue
        for agent in agentfiles.AGENTS:
            path = agentfiles.state_file(cfg, agent)
            if path is None:
                continue
            state = cfg.get(agent)
            created = isinstance(state, dict) and state.get("created") is True

            def take(
                now: bytes | None, path: Path = path, agent: str = agent, created: bool = created
            ) -> bytes | None:
                if now is None:
                    return None
                try:
                    new = agentfiles.put(now, path, agent, [])
                except Exception:  # noqa: BLE001 - not JSON: the agent's own uninstall says so
                    return now
                left = new if new is None or json.loads(new or b"{}") else None
                result, _, _ = undo.left_behind(
                    ctx.paths,
                    path,
                    left,
                    created=created,
                    same=lambda original: jsonfile.same_document(
                        original, jsonfile.parse(left, path, "")
                    ),
                    empty=EMPTY,
                )
                return result

            earlier = next((c for c in plan.changes if c.path == path), None)
            if earlier is not None:
                first = earlier.redo
                earlier.new = take(earlier.new)
                earlier.redo = lambda now, f=first, t=take: t(f(now) if f else now)
                continue
            raw = read_bytes(path)
            new = take(raw)
            if new != raw:
                plan.changes.append(
                    engine.Change(path, raw, new, "remove the MCP servers", redo=take)
                )
