"""Claude Code as an Agent. Its files (the settings, ~/.claude.json, the shell block) are planned
by setup/plan.py and taken back by commands/uninstall.py, not here, so this agent only names
Claude Code, finds it and says how it stays fresh."""

from __future__ import annotations

import os
from collections.abc import Mapping

from ...workspace.routes import ANTHROPIC
from ..base import WRAPPER, Agent


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
    launch_mode = WRAPPER

    def find(self, env: Mapping[str, str], home: str | os.PathLike[str]) -> str | None:
        from .wrapper import find_claude

        return find_claude(env, home)


AGENT = Claude()
