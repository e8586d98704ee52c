"""Uninstall's part for MCP: our servers leave each agent's file, by the agent's writer
(`Agent.mcp`): the by_name writers' (Claude Code's ~/.claude.json) for every configuration that
goes at once, then the others' per configuration, each composed with the agent's own uninstall
change of the same file when it made one."""

from __future__ import annotations

from collections.abc import Sequence

from .. import agents
from ..changes import engine
from ..core.context import Context
from ..record import config
from . import servers

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def plan_uninstall(ctx: Context, cfgs: Sequence[dict[str, Any]], plan: engine.Plan) -> None:
    """The by_name writers' part (a server of the user's, or one they changed to their own,
    stays)."""
    for agent in agents.every():
        if agent.mcp is None or not agent.mcp.by_name:
            continue
        gone = [
            (cfg, [e["name"] for e in servers.entries(cfg)])
            for cfg in cfgs
            if agent.name in config.agents_of(cfg)
        ]
        agent.mcp.plan_uninstall_every(ctx.paths, gone, plan)


def plan_agent_files(ctx: Context, cfgs: Sequence[dict[str, Any]], plan: engine.Plan) -> None:
    """Our MCP servers out of the other agents' own config files, each by its writer."""
    from . import agentfiles

    for cfg in cfgs:
        if not servers.entries(cfg):
            continue
        for agent, writer, path in agentfiles.writers(cfg, ctx.paths):
            if not writer.by_name:
                writer.plan_uninstall(ctx.paths, path, cfg[agent.name], plan)
