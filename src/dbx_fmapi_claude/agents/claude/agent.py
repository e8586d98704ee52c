"""Claude Code as an Agent, the required one: every configuration sets it up. Its setup merges our
part into the configuration's settings file (setupplan.py) and its uninstall takes it back out
(undo.py), as each agent does with its own file."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from ...changes import engine
from ...core.paths import Paths
from ...record import setupstate
from ...workspace.routes import ANTHROPIC
from ..aspects import Aspect, Verdict
from ..base import WRAPPER, Agent, AgentSetup, Finding, StatusView
from .mcp import ClaudeMcp

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ...record.view import Configuration
    from ..usagelog import Reader


def _helper_mode(cfg: Mapping[str, Any]) -> bool:
    return setupstate.token_mode(cfg) == "helper"


def _static_mode(cfg: Mapping[str, Any]) -> bool:
    return setupstate.token_mode(cfg) == "static"


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
    mcp = ClaudeMcp()  # its servers in ~/.claude.json (mcp.py)

    @property
    def usage_source(self) -> Reader:
        from .usage import read

        return read

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

    # --- what doctor and status see of it (findings.py, settingsfindings.py) ----------------

    # Doctor's lines on the configuration's path: the settings file (listed as needed without a
    # setup record), what overrides it where Claude Code starts, the apiKeyHelper; after the
    # token, the apiKeyHelper run as Claude Code runs it, or (static mode) the token in the file.
    aspects = (
        Aspect("settings", "Settings file", "a valid settings file", requires=("config",)),
        Aspect("effective", "Effective settings", requires=("settings",), within=("config",)),
        Aspect(
            "helper",
            "apiKeyHelper",
            "a working apiKeyHelper",
            requires=("settings",),
            within=("config",),
            when=_helper_mode,
        ),
        Aspect(
            "helper-run",
            "apiKeyHelper run",
            requires=("helper", "token"),
            within=("config", "settings"),
            when=_helper_mode,
            after="token",
            progress="running the apiKeyHelper",
        ),
        Aspect(
            "static-token",
            "Token in settings",
            within=("config", "settings"),
            when=_static_mode,
            after="token",
        ),
    )

    def examine(
        self,
        aspect: str,
        cfg: Configuration,
        paths: Paths,
        env: Mapping[str, str],
        cwd: Path,
        found: Mapping[str, Any],
    ) -> Verdict:
        from . import settingsfindings

        if aspect == "settings":
            return settingsfindings.settings_file(cfg, paths, env, cwd)
        if aspect == "helper":
            return settingsfindings.helper(cfg, found["settings"], env)
        if aspect == "helper-run":
            return settingsfindings.helper_run(found["helper"], found["settings"], env, cwd)
        if aspect == "static-token":
            return settingsfindings.stored_token(cfg, found["settings"], paths)
        state = cfg.state(self.name) or {}
        return Verdict(
            tuple(self.findings(state, paths, env, cwd)), passed=self.in_effect_line(state)
        )

    def judge_program(
        self, exe: str | None, said: str | None, why: str | None
    ) -> tuple[str, str, str | None]:
        from .findings import judge_program

        return judge_program(exe, said, why)

    def findings(
        self, state: Mapping[str, Any], paths: Paths, env: Mapping[str, str], cwd: Path
    ) -> list[Finding]:
        """What another settings level or the environment sets over or beside setup's keys
        when Claude Code starts in `cwd` (doctor checks the settings file itself first)."""
        from .findings import levels, overrides

        return overrides(state, levels(state, paths, env, cwd), env)

    def in_effect_line(self, state: Mapping[str, Any]) -> str:
        return "no other settings level or environment variable overrides or conflicts with ours"

    def status_view(
        self, state: Mapping[str, Any], paths: Paths, env: Mapping[str, str], cwd: Path
    ) -> StatusView:
        """Every settings level Claude Code reads here, with the keys of ours each sets."""
        from .findings import levels, settings_files

        return StatusView(fields={"settings_files": settings_files(levels(state, paths, env, cwd))})


AGENT = Claude()
