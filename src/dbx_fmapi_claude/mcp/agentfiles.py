"""The MCP servers in the agents' own config files: each agent of the registry with a writer
(`Agent.mcp`, agents/mcpfiles.py) that this configuration set up, in the registry's order.
Claude Code's ~/.claude.json is claudejson.py's."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .. import agents
from ..agents.base import Agent
from ..agents.mcpfiles import ENV_KEY, ENV_URL, McpServer, McpWriter
from ..record import config
from . import servers

__all__ = ["ENV_KEY", "ENV_URL", "writers", "server_list"]


def state_file(cfg: dict[str, Any], agent: str) -> Path | None:
    """The file setup recorded for `agent` in `cfg` (None: not set up there)."""
    state = cfg.get(agent)
    if agent not in config.agents_of(cfg) or not isinstance(state, dict):
        return None
    return Path(str(state["file"])) if state.get("file") else None


def writers(cfg: dict[str, Any]) -> Iterator[tuple[Agent, McpWriter, Path]]:
    """(agent, its writer, its file) for each agent `cfg` set up that takes MCP servers."""
    for agent in agents.every():
        path = state_file(cfg, agent.name) if agent.mcp is not None else None
        if agent.mcp is not None and path is not None:
            yield agent, agent.mcp, path


def server_list(host: str, entries: list[dict[str, Any]]) -> list[McpServer]:
    """The record's entries as the writers take them."""
    return [McpServer(str(e["name"]), servers.url_of(host, e), str(e["path"])) for e in entries]
