"""Claude Code as an Agent, the required one: every configuration sets it up. Its setup merges our
part into the configuration's settings file (setupplan.py) and its uninstall takes it back out
(undo.py), as each agent does with its own file."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from ...changes import engine
from ...core.paths import Paths
from ...workspace.routes import ANTHROPIC
from ..base import WRAPPER, Agent, AgentSetup


class Claude(Agent):
    name = "claude"
    label = "Claude Code"
    program = "claude"
    package = "@anthropic-ai/claude-code"
    tested = "2.1.332"
    model_prefix = "databricks-claude-"
    api = ANTHROPIC
    freshness = "apiKeyHelper (dbx-fmapi token) every TTL, or dbx-fmapi-claude in static mode"
    launch = "dbx-fmapi-claude (or claude)"
    required = True
    launch_mode = WRAPPER

    def find(self, env: Mapping[str, str], home: str | os.PathLike[str]) -> str | None:
        from .wrapper import find_claude

        return find_claude(env, home)

    def plan_setup(self, s: AgentSetup, plan: engine.Plan) -> dict[str, Any]:
        """The configuration's settings file (and the one it used until now, and the onboarding
        flag); returns what the configuration's record keeps of them."""
        from .setupplan import plan as plan_claude

        return plan_claude(s, plan)

    def plan_uninstall(
        self, paths: Paths, env: Mapping[str, str], state: Mapping[str, Any], plan: engine.Plan
    ) -> None:
        """Our keys out of the configuration's settings file, the values setup replaced back."""
        from .undo import plan_settings

        plan_settings(paths, state, plan)


AGENT = Claude()
