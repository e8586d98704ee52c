"""Claude Code's setup goes through its Agent like every other agent's (agents/claude/setupplan.py):
given the one frozen AgentSetup, `plan_setup` plans its settings file (the apiKeyHelper, the
status line, the StopFailure hook) and the onboarding flag, and returns what the record keeps."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from dbx_fmapi_claude import agents
from dbx_fmapi_claude.agents.base import AgentSetup
from dbx_fmapi_claude.changes import engine
from dbx_fmapi_claude.core.paths import Paths
from dbx_fmapi_claude.workspace import routes

HOST = "https://x.cloud.databricks.com"


def _setup(tmp_path: Path) -> AgentSetup:
    env = {"HOME": str(tmp_path)}
    route = routes.get(routes.SERVING_NAME)
    return AgentSetup(
        paths=Paths.from_env(env),
        env=env,
        host=HOST,
        profile="p",
        helper="/opt/bin/dbx-fmapi",
        model="databricks-claude-sonnet-4-5",
        route=routes.SERVING_NAME,
        base_url=route.base_url(HOST),
        ttl_seconds=900,
        settings_file=tmp_path / ".claude" / "settings.json",
        helper_command="/opt/bin/dbx-fmapi token --profile p",
    )


def test_claude_code_plans_its_settings_through_its_agent(tmp_path: Path) -> None:
    s = _setup(tmp_path)
    claude = agents.get("claude")
    assert claude.required
    plan = engine.Plan()
    kept = claude.plan_setup(s, plan)
    assert [c.what for c in plan.changes] == ["Claude settings", "onboarding flag"]
    settings = json.loads(plan.changes[0].new or b"")
    assert settings["apiKeyHelper"] == s.helper_command
    assert "StopFailure" in settings["hooks"]
    assert settings["statusLine"]["command"].startswith("/opt/bin/dbx-fmapi ")
    assert kept["settings_created"] is True and kept["onboarding_added"] is True
    assert kept["statusline"] == "on" and kept["failure_hook"]
    assert not (tmp_path / ".claude").exists()  # planned, nothing written


def test_an_agents_setup_cannot_change_under_it(tmp_path: Path) -> None:
    s = _setup(tmp_path)
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.model = "databricks-claude-opus-4-1"  # type: ignore[misc]
    assert "token=" not in repr(dataclasses.replace(s, token_mode="static", token="dapi-x"))
