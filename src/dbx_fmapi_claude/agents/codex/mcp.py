"""Codex's MCP servers: our block of `[mcp_servers.NAME]` tables in its config.toml
(configtoml.render_mcp), each with the token command (`--mcp-headers`) as its
http_headers_helper. Codex's own uninstall takes the block out with the rest of ours
(configtoml.unmerge)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ...changes import engine
from ...core.paths import Paths
from ..mcpfiles import McpServer, McpWriter
from . import configtoml

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class CodexMcp(McpWriter):
    def change(
        self, path: Path, raw: bytes, servers: list[McpServer], helper: str
    ) -> engine.Change:
        pairs = [(s.name, s.url) for s in servers]
        block = configtoml.render_mcp(pairs, helper) if pairs else None

        def put(now: bytes | None) -> bytes:
            text = (now or b"").decode("utf-8", "surrogateescape")
            return configtoml.with_mcp(text, block).encode("utf-8", "surrogateescape")

        return engine.Change(path, raw, put(raw), "Codex: MCP servers", redo=put)

    def said(self, paths: Paths, cfg: Mapping[str, Any], path: Path, changed: bool) -> str | None:
        return f"  Codex: {path} (its http_headers_helper runs dbx-fmapi)" if changed else None
