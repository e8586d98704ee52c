"""Issue 19 item 4, what a newcomer hit in the first ten minutes, on the rig (the real Databricks
CLI, a fake workspace over real HTTP): the picker's highlighted default is the one setup chose
(never a retired model), doctor never suggests a retired model, and a failure on one route never
blames the other."""

from __future__ import annotations

import json
from typing import Any

from tests.mgmt import VOLATILE, doctor, fake_claude, find_check, run_setup
from tests.rig.sandbox import Sandbox
from tests.rig.workspace import FakeWorkspace, endpoint
from tests.test_setup_interactive import spawn  # noqa: F401 - the pexpect fixture

# After sonnet-4-5's retirement (2026-11-30) and sonnet-4's (2026-06-15).
AFTER = {"DBX_FMAPI_TODAY": "2026-12-06"}
PROG = "setup-fmapi-claudecode"


def only_retired_sonnets(workspace: FakeWorkspace) -> None:
    workspace.set_endpoints(
        [
            endpoint("databricks-claude-opus-4-6"),
            endpoint("databricks-claude-sonnet-4-5"),
            endpoint("databricks-claude-sonnet-4"),
            endpoint("databricks-claude-haiku-4-5"),
        ]
    )


def test_the_highlighted_default_is_the_model_setup_chose_never_a_retired_one(
    sandbox: Sandbox,
    workspace: FakeWorkspace,
    spawn: Any,  # noqa: F811 - the fixture imported above
) -> None:
    only_retired_sonnets(workspace)
    sandbox.login(workspace)
    sandbox.env.update(AFTER)
    s = spawn("--profile", "DEFAULT", "--no-verify")
    s.answer("Workspace URL", workspace.url)
    for prompt in ("Model (ANTHROPIC_MODEL)", "Opus model"):
        s.pick(prompt)
    s.expect("Sonnet model")
    s.expect("> databricks-claude-opus-4-6")  # what the warning says sonnet uses
    s.child.send("\r")
    s.pick("Haiku model")
    s.pick("Settings location")
    assert s.finish() == 0, s.transcript
    assert "sonnet uses databricks-claude-opus-4-6" in s.transcript
    env = json.loads((sandbox.home / ".claude/settings.json").read_text())["env"]
    assert env["ANTHROPIC_DEFAULT_SONNET_MODEL"] == "databricks-claude-opus-4-6"


def test_a_retired_previous_choice_is_not_the_default_of_a_re_run(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    only_retired_sonnets(workspace)
    sandbox.login(workspace)
    first = run_setup(sandbox, workspace, "--sonnet", "databricks-claude-sonnet-4-5", "--no-verify")
    assert first.code == 0, first  # in October: not retired yet
    again = run_setup(sandbox, workspace, "--no-verify", env=AFTER)
    assert again.code == 0, again
    env = json.loads((sandbox.home / ".claude/settings.json").read_text())["env"]
    assert env["ANTHROPIC_DEFAULT_SONNET_MODEL"] == "databricks-claude-opus-4-6"
    assert "databricks-claude-sonnet-4-5 was retired on 2026-11-30" in again.stderr
    assert f"{PROG} --sonnet databricks-claude-sonnet-4-5" in again.stderr  # how to keep it


def test_doctor_never_suggests_a_retired_model(sandbox: Sandbox, workspace: FakeWorkspace) -> None:
    only_retired_sonnets(workspace)
    sandbox.login(workspace)
    chosen = run_setup(
        sandbox, workspace, "--sonnet", "databricks-claude-sonnet-4-5", "--no-verify", env=AFTER
    )
    assert chosen.code == 0, chosen
    fake_claude(sandbox)
    report = doctor(sandbox, env=AFTER)
    status, detail, fix = find_check(report, "Model databricks-claude-sonnet-4-5")
    assert status == "WARN" and "was retired on 2026-11-30" in detail, report
    assert fix is not None and "databricks-claude-sonnet-4\b" not in fix
    assert fix.startswith(f"{PROG} --sonnet databricks-claude-opus-4-6"), fix


# --- the route a failure is about ---------------------------------------------------------------


def test_a_serving_endpoints_failure_does_not_blame_the_ai_gateway(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    sandbox.login(workspace)
    before = sandbox.snapshot(exclude=VOLATILE)
    workspace.fail(
        "/serving-endpoints/anthropic",
        404,
        times=None,
        body={"error_code": "FEATURE_DISABLED", "message": "Feature is not enabled."},
    )
    result = run_setup(sandbox, workspace, "--route", "serving-endpoints")
    assert result.code == 1, result
    assert "AI Gateway is not enabled" not in result.stderr, result.stderr
    assert "--route serving-endpoints" not in result.stderr, result.stderr
    assert "serving endpoints" in result.stderr and "FEATURE_DISABLED" in result.stderr
    assert f"{PROG} --route ai-gateway" in result.stderr
    assert "nothing was written" in result.stderr
    after = sandbox.snapshot(exclude=VOLATILE)
    assert after == before
