"""Claude Code as an Agent, the required one: every configuration sets it up. Its setup plans its
settings file and the onboarding flag (setupplan.py), its uninstall takes our part back out
(undo.py), as each agent does with its own file."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from ...changes import engine
from ...core.paths import Paths
from ..base import Agent, AgentSetup


class Claude(Agent):
    name = "claude"
    label = "Claude Code"
    program = "claude"
    package = "@anthropic-ai/claude-code"
    tested = "2.1.332"
    model_prefix = "databricks-claude-"
    freshness = "apiKeyHelper (dbx-fmapi token) every TTL, or dbx-fmapi-claude in static mode"
    launch = "dbx-fmapi-claude (or claude)"
    required = True

    def find(self, env: Mapping[str, str], home: str | os.PathLike[str]) -> str | None:
        from .wrapper import find_claude

        return find_claude(env, home)

    def plan_setup(self, s: AgentSetup, plan: engine.Plan) -> dict[str, Any]:
        """Its settings file (the configuration's), the file it used before when the location
        moved, and the onboarding flag in ~/.claude.json; `s` is a ClaudeSetup (setupplan.py)."""
        from . import setupplan

        if not isinstance(s, setupplan.ClaudeSetup):
            raise TypeError("Claude Code's setup needs a ClaudeSetup")
        return setupplan.plan(s, plan)

    def plan_uninstall(
        self, paths: Paths, env: Mapping[str, str], state: Mapping[str, Any], plan: engine.Plan
    ) -> None:
        """Our keys out of the configuration's settings file, the values setup replaced back."""
        from .undo import plan_settings

        plan_settings(paths, state, plan)


AGENT = Claude()
