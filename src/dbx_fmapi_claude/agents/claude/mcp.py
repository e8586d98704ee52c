"""Claude Code's MCP writer (`Claude.mcp`): each server by name in ~/.claude.json (the pure
transforms are mcpjson.py's), in the scope of the configuration: the top-level `mcpServers`
for the home folder's, `projects[<folder>].mcpServers` for a project folder's. A server of the
user's with the same name is refused, not replaced; `mcp list`, status and doctor ask which
servers are still ours there (a Claude Code session can write its own copy of the file back)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from ...changes import engine
from ...core.errors import UserError
from ...core.fileio import read_bytes
from ...core.paths import Paths
from ...record import originals
from ..mcpfiles import McpServer, McpWriter
from . import mcpjson

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

TRUST = (
    "  Claude Code runs its helper here only once you trust this folder: start claude in it "
    "once and accept"
)


def _where(folder: str | None) -> str:
    return (
        "~/.claude.json (every folder)"
        if folder is None
        else f"~/.claude.json, for {folder} only (Claude Code's local scope)"
    )


def _trusted(raw: bytes | None, folder: str) -> bool:
    """Has the user accepted Claude Code's trust dialog for `folder` (or a folder above it)?"""
    try:
        projects = mcpjson.load(raw, "").get("projects")
    except UserError:
        return False
    if not isinstance(projects, dict):
        return False
    here = folder
    while True:
        entry = projects.get(here)
        if isinstance(entry, dict) and entry.get("hasTrustDialogAccepted") is True:
            return True
        parent = os.path.dirname(here)
        if parent == here:
            return False
        here = parent


class ClaudeMcp(McpWriter):
    by_name = True
    shown = "~/.claude.json"

    def file(self, paths: Paths, recorded: Path | None) -> Path:
        return paths.claude_json

    def servers_in(
        self, paths: Paths, cfg: Mapping[str, Any], path: Path, raw: bytes | None
    ) -> dict[str, bool]:
        folder = mcpjson.scope_folder(cfg, paths.home_path)
        found = mcpjson.servers(mcpjson.load(raw, str(path)), folder)
        return {name: mcpjson.is_ours(value) for name, value in found.items()}

    def added(
        self,
        paths: Paths,
        cfg: Mapping[str, Any],
        path: Path,
        raw: bytes | None,
        server: McpServer,
        helper: str,
    ) -> engine.Change:
        folder = mcpjson.scope_folder(cfg, paths.home_path)
        value = mcpjson.member(server.url, helper)

        def put(now: bytes | None) -> bytes:
            return mcpjson.with_server(now, str(path), folder, server.name, value)

        return engine.Change(
            path, raw, put(raw), "Claude Code: MCP server", keep_original=True, redo=put
        )

    def removed(
        self, paths: Paths, cfg: Mapping[str, Any], path: Path, raw: bytes | None, name: str
    ) -> engine.Change:
        folder = mcpjson.scope_folder(cfg, paths.home_path)

        def take(now: bytes | None) -> bytes | None:
            return mcpjson.without_servers(now, str(path), folder, [name])

        return engine.Change(path, raw, take(raw), "Claude Code: MCP server", redo=take)

    def said(self, paths: Paths, cfg: Mapping[str, Any], path: Path, changed: bool) -> str:
        folder = mcpjson.scope_folder(cfg, paths.home_path)
        line = (
            f"  Claude Code: {_where(folder)}, with a fresh token from dbx-fmapi on each connection"
        )
        if folder is not None and not _trusted(read_bytes(path), folder):
            return f"{line}\n{TRUST}"
        return line

    def lost(self, path: Path) -> str:
        return (
            f"not in {path} any more (a Claude Code session running while it was added can "
            "write its own copy of the file back)"
        )

    def plan_uninstall_every(
        self, paths: Paths, gone: Sequence[tuple[Mapping[str, Any], list[str]]], plan: engine.Plan
    ) -> None:
        """The servers `dbx-fmapi mcp add` put into ~/.claude.json leave it (a server of the
        user's, or one they changed to their own, stays). When what is left is what the file
        held before our first change, its original bytes come back."""
        path = paths.claude_json
        scopes: dict[str | None, list[str]] = {}
        for cfg, names in gone:
            if names:
                folder = mcpjson.scope_folder(cfg, paths.home_path)
                scopes.setdefault(folder, []).extend(names)
        if not scopes:
            return
        known, original = originals.load_original(paths, path)

        def take(now: bytes | None) -> bytes | None:
            for folder, names in scopes.items():
                now = mcpjson.without_servers(now, str(path), folder, names)
            if known and original is not None and mcpjson.same_json(now, original):
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
                engine.Change(
                    path, raw, new, "remove the MCP servers dbx-fmapi mcp added", redo=take
                )
            )
