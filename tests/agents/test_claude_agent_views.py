"""Claude Code through the Agent interface, as doctor and status ask every agent (issue 20):
its program judged by the agent, what overrides setup's settings where it starts (`findings`,
each named by the key it is about) and its settings levels (`status_view`). And the one rule
for our hooks in its settings (agents/claude/hooks.py), the same for the three hooks setup
writes: ours goes in after the user's and comes out exactly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dbx_fmapi_claude import agents
from dbx_fmapi_claude.agents.claude import failurehook, mlflowhook, statusline
from dbx_fmapi_claude.core.paths import Paths

URL = "https://x.cloud.databricks.com/serving-endpoints/anthropic"
HELPER = "/opt/bin/dbx-fmapi token --profile DEFAULT"


@pytest.fixture
def home(tmp_path: Path) -> tuple[Paths, dict[str, str], Path, dict[str, Any]]:
    env = {"HOME": str(tmp_path / "home"), "DBX_FMAPI_MANAGED_SETTINGS_DIR": str(tmp_path / "etc")}
    paths = Paths.from_env(env)
    user = paths.user_settings
    user.parent.mkdir(parents=True)
    ours = {"apiKeyHelper": HELPER, "env": {"ANTHROPIC_BASE_URL": URL}}
    user.write_text(json.dumps(ours))
    project = tmp_path / "project"
    project.mkdir()
    state = {"settings_file": str(user), "file": str(user), "token_mode": "helper"}
    return paths, env, project, state


def test_claude_reports_what_overrides_its_settings_as_findings_named_by_key(
    home: tuple[Paths, dict[str, str], Path, dict[str, Any]],
) -> None:
    paths, env, project, state = home
    claude = agents.get("claude")
    assert claude.findings(state, paths, env, project) == []
    local = project / ".claude" / "settings.local.json"
    local.parent.mkdir()
    local.write_text(json.dumps({"env": {"ANTHROPIC_BASE_URL": "https://elsewhere.example"}}))
    (found,) = claude.findings(state, paths, env, project)
    assert found.id == "ANTHROPIC_BASE_URL" and not found.warn
    assert found.detail == (
        f"ANTHROPIC_BASE_URL is overridden by local settings ({local}): Claude Code sends "
        "requests to https://elsewhere.example, not to your workspace"
    )
    assert str(local) in str(found.fix)


def test_claude_shows_its_settings_levels_in_status_and_no_row(
    home: tuple[Paths, dict[str, str], Path, dict[str, Any]],
) -> None:
    paths, env, project, state = home
    view = agents.get("claude").status_view(state, paths, env, project)
    assert view.row is None
    assert view.fields == {
        "settings_files": [
            {
                "level": "user",
                "path": state["settings_file"],
                "exists": True,
                "valid": True,
                "managed": True,
                "keys": ["ANTHROPIC_BASE_URL", "apiKeyHelper"],
            }
        ]
    }


def test_claude_judges_its_own_program() -> None:
    claude = agents.get("claude")
    assert claude.judge_program("/b/claude", "2.1.332 (Claude Code)", None) == (
        "PASS",
        "2.1.332 (Claude Code) at /b/claude",
        None,
    )
    status, detail, fix = claude.judge_program(None, None, None)
    assert (status, detail) == ("FAIL", "not installed (no `claude` on PATH)")
    assert "npm install -g @anthropic-ai/claude-code" in str(fix)


THEIRS = {"type": "command", "command": "notify-send done"}


def _user_settings(event: str) -> dict[str, Any]:
    return {
        "model": "x",
        "hooks": {
            event: [{"matcher": "*", "hooks": [THEIRS]}],
            "PreToolUse": [{"hooks": [{"type": "command", "command": "lint"}]}],
        },
    }


@pytest.mark.parametrize(
    ("event", "add", "remove"),
    [
        (
            "UserPromptSubmit",
            lambda s: statusline.add(s, line="l", hook="ours", before={})[0],
            lambda s: statusline.remove(s, {"statusline_command": "l", "prompt_hook": "ours"}),
        ),
        (
            "StopFailure",
            lambda s: failurehook.add(s, "ours", {})[0],
            lambda s: failurehook.remove(s, {"failure_hook": "ours"}),
        ),
        (
            "Stop",
            lambda s: mlflowhook.add(s, "ours", []),
            lambda s: mlflowhook.without(s, ["ours"]),
        ),
    ],
)
def test_every_hook_of_ours_goes_after_the_users_and_comes_out_exactly(
    event: str, add: Any, remove: Any
) -> None:
    mine = _user_settings(event)
    once = add(mine)
    groups = once["hooks"][event]
    assert groups[0] == {"matcher": "*", "hooks": [THEIRS]}  # the user's first, untouched
    assert [h["command"] for h in groups[1]["hooks"]] == ["ours"]
    assert add(once) == once  # a re-run changes nothing
    assert list(once["hooks"]) == [event, "PreToolUse"]  # the user's order of events
    back = remove(once)
    back.pop("statusLine", None)
    assert back == mine
    # ours beside the user's in one group: only ours goes
    shared = {"hooks": {event: [{"hooks": [THEIRS, groups[1]["hooks"][0]]}]}}
    assert remove(shared) == {"hooks": {event: [{"hooks": [THEIRS]}]}}
