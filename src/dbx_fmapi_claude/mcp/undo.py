"""Uninstall's part for MCP: the servers `dbx-fmapi mcp add` put into ~/.claude.json leave it
(a server of the user's, or one they changed to their own, stays). When what is left is what
the file held before our first change, its original bytes come back."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..changes import engine
from ..core.context import Context
from ..core.fileio import read_bytes
from ..record import originals
from . import claudejson, servers


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
        plan.then(path, take, earlier.what + ", and the MCP servers dbx-fmapi mcp added")
        return
    raw = read_bytes(path)
    new = take(raw)
    if new != raw:
        plan.changes.append(
            engine.Change(path, raw, new, "remove the MCP servers dbx-fmapi mcp added", redo=take)
        )


def plan_agent_files(ctx: Context, cfgs: Sequence[dict[str, Any]], plan: engine.Plan) -> None:
    """Our MCP servers out of the agents' own config files, each by its writer (composed with
    the agent's own uninstall change of the same file, when it made one)."""
    from . import agentfiles

    for cfg in cfgs:
        if not servers.entries(cfg):
            continue
        for agent, writer, path in agentfiles.writers(cfg):
            writer.plan_uninstall(ctx.paths, path, cfg[agent.name], plan)
