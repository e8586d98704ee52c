"""The MCP servers in the agents' own files: each agent of the registry with a writer
(`Agent.mcp`, agents/mcpfiles.py) that this configuration set up, in the registry's order
(Claude Code's, which writes ~/.claude.json for every configuration, first)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from .. import agents
from ..agents.base import Agent
from ..agents.mcpfiles import ENV_KEY, ENV_URL, McpServer, McpWriter
from ..core.paths import Paths
from ..record import config
from . import servers

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["ENV_KEY", "ENV_URL", "writers", "server_list"]


def state_file(cfg: dict[str, Any], agent: str) -> Path | None:
    """The file setup recorded for `agent` in `cfg` (None: not set up there)."""
    state = cfg.get(agent)
    if agent not in config.agents_of(cfg) or not isinstance(state, dict):
        return None
    return Path(str(state["file"])) if state.get("file") else None


def writers(cfg: dict[str, Any], paths: Paths) -> Iterator[tuple[Agent, McpWriter, Path]]:
    """(agent, its writer, its file) for each agent `cfg` set up that takes MCP servers."""
    for agent in agents.every():
        if agent.mcp is None or agent.name not in config.agents_of(cfg):
            continue
        path = agent.mcp.file(paths, state_file(cfg, agent.name))
        if path is not None:
            yield agent, agent.mcp, path


def by_name(cfg: dict[str, Any], paths: Paths) -> list[tuple[Agent, McpWriter, Path]]:
    """The writers that keep each server by name (McpWriter.by_name)."""
    return [found for found in writers(cfg, paths) if found[1].by_name]


def server_list(host: str, entries: list[dict[str, Any]]) -> list[McpServer]:
    """The record's entries as the writers take them."""
    return [McpServer(str(e["name"]), servers.url_of(host, e), str(e["path"])) for e in entries]
