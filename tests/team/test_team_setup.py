"""Developers set up from a team file (`setup-fmapi-claudecode --team SOURCE`) with the real
Databricks CLI and the real Claude Code against the fake workspace: an admin publishes it to
/Workspace, two developers (two HOMEs) get its profile, models and TTL and `claude -p` answers for
both; a locked key cannot be overridden; the admin changes a model and a plain re-run picks it up;
an unreadable source changes nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.mgmt import VOLATILE, config_of, settings_path, team_file
from tests.rig.sandbox import Sandbox
from tests.rig.workspace import FakeWorkspace

SHARED = "/Workspace/Shared/dbx-fmapi/team.json"


_team = team_file


def _publish(workspace: FakeWorkspace, data: dict[str, Any]) -> None:
    workspace.files.workspace[SHARED] = json.dumps(data, indent=2).encode()


def _setup(sandbox: Sandbox, workspace: FakeWorkspace, *args: str) -> Any:
    argv = ["setup-fmapi-claudecode", "--skip-install", "--shell", "none", "--host", workspace.url]
    return sandbox.run_here([*argv, *args], timeout=180)


@pytest.mark.e2e
def test_two_developers_set_up_from_the_team_file_and_claude_answers_for_both(
    tmp_path: Path, workspace: FakeWorkspace, claude_bin: str
) -> None:
    _publish(workspace, _team(workspace))
    workspace.reply_text = "pong from the team setup"
    for name in ("ann", "bob"):
        dev = Sandbox(tmp_path / name, claude_bin=claude_bin)
        dev.home.mkdir(parents=True, exist_ok=True)
        dev.signed_in(workspace, profile="acme")  # each developer's own login (no terminal here)
        result = _setup(dev, workspace, "--profile", "acme", "--team", SHARED)
        assert result.code == 0, result
        assert f"Team file: {SHARED} (locked: models, ttl)" in result.stdout
        cfg = config_of(dev)
        assert cfg["team"] == SHARED and cfg["profile"] == "acme"
        assert cfg["ttl_seconds"] == 1800 and cfg["opus"] == "databricks-claude-opus-4-6"
        env = json.loads(settings_path(dev).read_text())["env"]
        assert env["CLAUDE_CODE_API_KEY_HELPER_TTL_MS"] == "1800000"
        assert env["ANTHROPIC_DEFAULT_SONNET_MODEL"] == "databricks-claude-sonnet-4-5"
        status = dev.run_here(["dbx-fmapi", "status"])
        assert f"Team file   {SHARED}" in status.stdout, status
        seen = len(workspace.messages_requests())
        answer = dev.claude(["-p", "hi"], onboarded=False)
        assert answer.code == 0, answer
        assert answer.stdout.strip() == "pong from the team setup"
        [request] = workspace.messages_requests()[seen:]
        assert request.token is not None and request.token.valid
        assert request.model == "databricks-claude-opus-4-6"


def test_a_locked_key_cannot_be_overridden_and_a_changed_file_is_picked_up_by_a_rerun(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    _publish(workspace, _team(workspace))
    sandbox.signed_in(workspace, profile="acme")
    result = _setup(sandbox, workspace, "--profile", "acme", "--team", SHARED, "--no-verify")
    assert result.code == 0, result
    before = sandbox.snapshot(exclude=VOLATILE)
    for flags, words in (
        (["--ttl", "5m"], "--ttl 5m is locked by the team file"),
        (["--opus", "databricks-claude-opus-4-5"], "--opus databricks-claude-opus-4-5 is locked"),
    ):
        refused = _setup(sandbox, workspace, "--team", SHARED, *flags)
        assert refused.code == 2, refused
        assert words in refused.stderr and SHARED in refused.stderr
        assert "fix: leave out" in refused.stderr
        assert sandbox.snapshot(exclude=VOLATILE) == before
    # An unlocked key: the developer's flag wins over the file's default.
    same = _setup(sandbox, workspace, "--team", SHARED, "--ttl", "30m", "--no-verify")
    assert same.code == 0, same
    # The admin changes a model: a plain re-run (no --team) reads the file again.
    changed = _team(workspace)
    changed["models"]["opus"] = "databricks-claude-opus-4-5"
    _publish(workspace, changed)
    rerun = sandbox.run(["setup-fmapi-claudecode", "--yes", "--no-verify"], timeout=180)
    assert rerun.code == 0, rerun
    assert (
        f"Team file {SHARED} changed: models.opus databricks-claude-opus-4-6 -> "
        "databricks-claude-opus-4-5"
    ) in rerun.stdout
    assert config_of(sandbox)["opus"] == "databricks-claude-opus-4-5"
    doctor = sandbox.run(["dbx-fmapi", "doctor"], timeout=180)
    assert f"Team file: the configuration matches {SHARED}" in doctor.stdout, doctor
    # The admin changes it again; doctor says so before anyone re-runs.
    changed["models"]["opus"] = "databricks-claude-opus-4-6"
    _publish(workspace, changed)
    doctor = sandbox.run(["dbx-fmapi", "doctor"], timeout=180)
    assert f"{SHARED} now says: models.opus databricks-claude-opus-4-5 -> " in doctor.stdout
    assert "setup-fmapi-claudecode --yes" in doctor.stdout


def test_an_unreadable_team_file_changes_nothing(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    _publish(workspace, _team(workspace))
    sandbox.signed_in(workspace, profile="acme")
    result = _setup(sandbox, workspace, "--profile", "acme", "--team", SHARED, "--no-verify")
    assert result.code == 0, result
    before = sandbox.snapshot(exclude=VOLATILE)
    # Given explicitly: a missing file is an error, nothing written.
    missing = _setup(sandbox, workspace, "--team", "/Workspace/Shared/nope.json")
    assert missing.code == 1, missing
    assert "team file /Workspace/Shared/nope.json not found in" in missing.stderr
    assert sandbox.snapshot(exclude=VOLATILE) == before
    # Remembered, and now refused (403): the re-run keeps the last configuration and says so.
    workspace.files.denied.add("/Workspace/Shared/dbx-fmapi")
    rerun = sandbox.run(["setup-fmapi-claudecode", "--yes", "--no-verify"], timeout=180)
    assert rerun.code == 0, rerun
    assert f"no permission to read team file {SHARED}" in rerun.stderr
    assert "keeping the configuration from the team file's last reading" in rerun.stderr
    assert sandbox.snapshot(exclude=VOLATILE) == before
    # A bad value in the file is refused even on a re-run: the file is wrong, not the network.
    workspace.files.denied.clear()
    _publish(workspace, dict(_team(workspace), ttl="soon"))
    bad = sandbox.run(["setup-fmapi-claudecode", "--yes", "--no-verify"], timeout=180)
    assert bad.code == 2, bad
    assert "ttl = 'soon': not a duration" in bad.stderr
    assert sandbox.snapshot(exclude=VOLATILE) == before


def test_the_team_files_prices_and_budget_reach_usage_and_the_budget_hook(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    prices = {"databricks-claude-opus-4-6": {"input": 15, "output": 75, "currency": "USD"}}
    budget = {"monthly": 200, "warn": 80, "block": True, "contact": "#ai-platform"}
    _publish(workspace, _team(workspace, prices=prices, budget=budget))
    sandbox.signed_in(workspace, profile="acme")
    result = _setup(sandbox, workspace, "--profile", "acme", "--team", SHARED, "--no-verify")
    assert result.code == 0, result
    kept = sandbox.home / ".config" / "dbx-fmapi-claude" / "team-prices.json"
    assert json.loads(kept.read_text()) == {"version": 1, "prices": prices, "budget": budget}

    def hooks() -> list[str]:
        data = json.loads(settings_path(sandbox).read_text())
        groups = (data.get("hooks") or {}).get("UserPromptSubmit") or []
        return [h["command"] for g in groups for h in g["hooks"]]

    assert any("budget --hook" in c for c in hooks())
    spend = sandbox.run_here(["dbx-fmapi", "budget"])
    assert spend.code == 0 and "of the $200.00 budget (0%)" in spend.stdout, spend
    # The admin drops the budget: a plain re-run takes the hook out and keeps the prices.
    _publish(workspace, _team(workspace, prices=prices))
    rerun = sandbox.run(["setup-fmapi-claudecode", "--yes", "--no-verify"], timeout=180)
    assert rerun.code == 0, rerun
    assert json.loads(kept.read_text()) == {"version": 1, "prices": prices}
    assert not any("budget --hook" in c for c in hooks())
    # A prices file of the developer's own comes first.
    own = sandbox.home / ".config" / "dbx-fmapi-claude" / "prices.json"
    own.write_text(json.dumps({"version": 1, "prices": prices, "budget": {"monthly": 50}}))
    assert "of the $50.00 budget" in sandbox.run_here(["dbx-fmapi", "budget"]).stdout
    own.unlink()
    gone = sandbox.run(["dbx-fmapi", "uninstall", "--all", "--yes"], timeout=120)
    assert gone.code == 0, gone
    assert not kept.exists()
