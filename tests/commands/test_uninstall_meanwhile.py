"""Uninstall asks "Proceed?" and then writes: whatever Claude Code, another agent or the user
wrote to a file meanwhile stays. Only our part goes; a file setup created is deleted only when
nothing but ours is left in it at the time of writing (security review, issue 25: uninstall
wrote the bytes it had planned, losing the change or deleting the file).

The plan is built and applied in process, with the file changed between the two, exactly where
the question sits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dbx_fmapi_claude import agents
from dbx_fmapi_claude.changes import engine
from dbx_fmapi_claude.commands import uninstall
from dbx_fmapi_claude.core.context import Context
from tests.helpers.agent_transforms import CASES, _apply, _setup
from tests.helpers.claude_user_files import (
    USER_BASHRC,
    USER_CLAUDE_JSON,
    USER_SETTINGS,
    seed_user_files,
)
from tests.helpers.contexts import quiet_context
from tests.helpers.mgmt import edit_settings, set_up, settings_path
from tests.rig.sandbox import Sandbox
from tests.rig.workspace import FakeWorkspace


def _ctx(sandbox: Sandbox) -> Context:
    return quiet_context(sandbox.env, sandbox.home)


def test_what_changed_while_uninstall_asked_stays(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    seed_user_files(sandbox)
    set_up(sandbox, workspace)
    ctx = _ctx(sandbox)
    plan = uninstall.build(ctx)
    # At "Proceed?": the user adds a setting, Claude Code saves ~/.claude.json, a line goes
    # into ~/.bashrc.
    edit_settings(sandbox, includeCoAuthoredBy=False, env={"BAR": "baz"})
    cj = sandbox.home / ".claude.json"
    data = json.loads(cj.read_text())
    data["numStartups"] = 13
    cj.write_text(json.dumps(data, indent=2))
    with open(sandbox.home / ".bashrc", "ab") as fh:
        fh.write(b"export EDITOR=vim\n")

    uninstall.apply(ctx, plan)

    want = json.loads(USER_SETTINGS)
    want["includeCoAuthoredBy"] = False
    want["env"]["BAR"] = "baz"
    assert json.loads(settings_path(sandbox).read_text()) == want
    expected_cj = json.loads(USER_CLAUDE_JSON)
    expected_cj["numStartups"] = 13
    assert json.loads(cj.read_text()) == expected_cj
    rc = (sandbox.home / ".bashrc").read_bytes()
    assert b"dbx-fmapi-claude" not in rc
    assert rc.startswith(USER_BASHRC) and rc.endswith(b"export EDITOR=vim\n")


def test_a_file_setup_created_is_kept_when_something_else_was_added_meanwhile(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    set_up(sandbox, workspace)  # from an empty home: setup creates both files
    ctx = _ctx(sandbox)
    plan = uninstall.build(ctx)
    assert any("setup created it" in ch.what for ch in plan.changes)
    edit_settings(sandbox, theme="light")
    cj = sandbox.home / ".claude.json"
    cj.write_text(json.dumps({**json.loads(cj.read_text()), "numStartups": 1}))

    uninstall.apply(ctx, plan)

    assert json.loads(settings_path(sandbox).read_text()) == {"theme": "light"}
    assert json.loads(cj.read_text()) == {"numStartups": 1}


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("exists", [True, False], ids=["users-file", "no-file"])
def test_an_agents_file_changed_while_uninstall_asked_keeps_the_change(
    tmp_path: Path, name: str, exists: bool
) -> None:
    rel, original = CASES[name]
    target = tmp_path / rel
    if exists:
        target.parent.mkdir(parents=True)
        target.write_bytes(original)
    agent = agents.get(name)
    s = _setup(tmp_path, name)
    plan = engine.Plan()
    state = agent.plan_setup(s, plan)
    _apply(s, plan)
    undo = engine.Plan()
    agent.plan_uninstall(s.paths, {}, state, undo)
    # At "Proceed?": the agent (or the user) saves a setting of its own.
    now = target.read_bytes()
    if name == "codex":
        target.write_bytes(now + b"\n[tui]\nnotifications = true\n")
    else:
        target.write_bytes(json.dumps({**json.loads(now), "mine": 1}).encode())

    _apply(s, undo)

    after = target.read_bytes()
    assert b"databricks" not in after.lower() and b"dbx-fmapi" not in after
    if name == "codex":
        assert after.endswith(b"[tui]\nnotifications = true\n")
        assert not exists or after.startswith(original)
    else:
        data = json.loads(after)
        assert data["mine"] == 1
        if exists:
            assert {**json.loads(original), "mine": 1} == data
