"""Issue 19 item 4, what a newcomer hit in the first ten minutes, on the rig (the real Databricks
CLI, a fake workspace over real HTTP): the picker's highlighted default is the one setup chose
(never a retired model), doctor never suggests a retired model, and a failure on one route never
blames the other."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from tests.helpers.mgmt import VOLATILE, doctor, fake_claude, find_check, run_setup
from tests.rig.sandbox import Sandbox
from tests.rig.workspace import FakeWorkspace, endpoint

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
    spawn: Any,
) -> None:
    only_retired_sonnets(workspace)
    sandbox.signed_in(workspace)
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
    sandbox.signed_in(workspace)
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
    sandbox.signed_in(workspace)
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
    sandbox.signed_in(workspace)
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


# --- a project whose .claude/settings.json git tracks -------------------------------------------


def git(cwd: object, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-c", "user.email=dev@example.com", "-c", "user.name=dev", *args],
        cwd=str(cwd),
        capture_output=True,
        text=True,
        check=False,
    )


def team_repo(sandbox: Sandbox) -> Path:
    """A repository whose team committed .claude/settings.json (its own permissions)."""
    repo = sandbox.home / "work" / "team repo"
    (repo / ".claude").mkdir(parents=True)
    (repo / ".claude" / "settings.json").write_text(
        '{\n  "permissions": {"allow": ["Bash(make test)"]}\n}\n'
    )
    assert git(repo, "init", "-q").returncode == 0
    assert git(repo, "add", ".claude/settings.json").returncode == 0
    assert git(repo, "commit", "-qm", "team settings").returncode == 0
    return repo


def test_a_tracked_project_settings_file_gets_no_personal_values_and_claude_answers(
    sandbox: Sandbox, workspace: FakeWorkspace, claude_bin: str
) -> None:
    repo = team_repo(sandbox)
    shared = repo / ".claude" / "settings.json"
    local = repo / ".claude" / "settings.local.json"
    shared_before = shared.read_bytes()
    exclude = repo / ".git" / "info" / "exclude"
    exclude_before = exclude.read_bytes()
    sandbox.signed_in(workspace, profile="fake")
    out = run_setup(sandbox, workspace, "--profile", "fake", "--settings-location", "cwd", cwd=repo)
    assert out.code == 0, out
    assert shared.read_bytes() == shared_before  # nothing personal (or at all) in the team's file
    assert f"{shared} is tracked by git" in out.stdout and str(local) in out.stdout
    mine = json.loads(local.read_text())
    assert mine["apiKeyHelper"].endswith("dbx-fmapi' token --profile 'fake'")
    assert mine["env"]["ANTHROPIC_BASE_URL"].startswith(workspace.url)
    # git shows nothing to commit: the personal file is ignored like static mode's token file
    assert git(repo, "status", "--porcelain", "--untracked-files=all").stdout == ""
    # the real Claude Code, in the project, answers through the workspace with the helper
    workspace.reply_text = "from the team repo"
    fast = {"CLAUDE_CODE_MAX_RETRIES": "0"}
    answer = sandbox.run(["claude", "-p", "hi"], cwd=repo, timeout=120, env=fast)
    assert answer.code == 0 and "from the team repo" in answer.stdout, answer
    # status and doctor name the file in effect; a re-run changes nothing
    status = sandbox.run_here(["dbx-fmapi", "status"], cwd=repo)
    assert status.code == 0 and str(local) in status.stdout, status
    report = doctor(sandbox, cwd=repo)
    assert report.code == 0 and "FAIL" not in report.stdout, report
    again = run_setup(
        sandbox, workspace, "--profile", "fake", "--settings-location", "cwd", cwd=repo
    )
    assert again.code == 0 and "already configured" in again.stdout, again
    # uninstall restores both files
    un = sandbox.run(["dbx-fmapi", "uninstall", "--yes"], cwd=repo, timeout=120)
    assert un.code == 0, un
    assert shared.read_bytes() == shared_before and not local.exists()
    assert exclude.read_bytes() == exclude_before


def test_a_re_run_takes_personal_values_out_of_a_tracked_file_an_earlier_run_wrote(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    repo = sandbox.home / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    sandbox.signed_in(workspace)
    first = run_setup(sandbox, workspace, "--settings-location", "cwd", "--no-verify", cwd=repo)
    assert first.code == 0, first
    shared = repo / ".claude" / "settings.json"
    assert "apiKeyHelper" in json.loads(shared.read_text())  # not tracked yet: written there
    git(repo, "add", ".claude/settings.json")
    git(repo, "commit", "-qm", "oops")
    again = run_setup(sandbox, workspace, "--settings-location", "cwd", "--no-verify", cwd=repo)
    assert again.code == 0, again
    # setup created it: with our keys out nothing is left, so it goes (git shows the deletion)
    assert not shared.exists()
    assert "removed" in again.stdout and "previous Claude settings" in again.stdout
    local = json.loads((repo / ".claude" / "settings.local.json").read_text())
    assert "apiKeyHelper" in local


# --- messages -------------------------------------------------------------------------------------


def test_token_for_a_profile_that_is_not_there_says_so_with_the_fix(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    sandbox.signed_in(workspace)
    assert run_setup(sandbox, workspace, "--no-verify").code == 0
    before = sandbox.snapshot(exclude=VOLATILE)
    result = sandbox.run_here(["dbx-fmapi", "token", "--profile", "nope"])
    assert result.code == 1 and result.stdout == "", result
    assert "profile 'nope' is not in ~/.databrickscfg (its profiles: DEFAULT)" in result.stderr
    assert "fix: databricks auth profiles   (then use one of them; or create this one: " in (
        result.stderr
    )
    assert "databricks auth login --host <workspace-url> --profile nope)" in result.stderr
    assert "--host" not in result.stderr.split("fix:")[0]  # not the CLI's "specify a host"
    assert sandbox.snapshot(exclude=VOLATILE) == before


def test_a_re_run_without_host_suggests_the_configured_workspace(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    sandbox.signed_in(workspace)
    assert run_setup(sandbox, workspace, "--no-verify").code == 0
    before = sandbox.snapshot(exclude=VOLATILE)
    # No terminal, no --host.
    result = sandbox.run_here(["setup-fmapi-claudecode", "--skip-install"])
    assert result.code == 2, result
    assert f"fix: {PROG} --host {workspace.url}" in result.stderr
    assert "my-workspace" not in result.stderr
    assert sandbox.snapshot(exclude=VOLATILE) == before


def test_status_says_overridden_for_keys_another_level_wins(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    project = sandbox.home / "proj"
    project.mkdir()
    sandbox.signed_in(workspace)
    assert run_setup(sandbox, workspace, "--settings-location", "cwd", cwd=project).code == 0
    user = sandbox.home / ".claude" / "settings.json"
    user.parent.mkdir(exist_ok=True)
    user.write_text('{"env": {"ANTHROPIC_MODEL": "mine", "ANTHROPIC_BASE_URL": "https://x"}}')
    local = project / ".claude" / "settings.local.json"
    local.write_text('{"env": {"ANTHROPIC_DEFAULT_HAIKU_MODEL": "my-haiku"}}')
    status = sandbox.run_here(["dbx-fmapi", "status"], cwd=project)
    assert status.code == 0, status
    [user_line] = [line for line in status.stdout.splitlines() if str(user) in line]
    assert "also sets" not in user_line, user_line
    assert "ANTHROPIC_MODEL, ANTHROPIC_BASE_URL overridden by the project settings" in user_line
    [local_line] = [line for line in status.stdout.splitlines() if str(local) in line]
    assert "also sets ANTHROPIC_DEFAULT_HAIKU_MODEL" in local_line
    [ours] = [line for line in status.stdout.splitlines() if "managed by setup" in line]
    assert "ANTHROPIC_DEFAULT_HAIKU_MODEL overridden by the local settings" in ours
    data = json.loads(sandbox.run_here(["dbx-fmapi", "status", "--json"], cwd=project).stdout)
    [u] = [f for f in data["settings_files"] if f["path"] == str(user)]
    assert u["overridden_by"] == {"ANTHROPIC_MODEL": "project", "ANTHROPIC_BASE_URL": "project"}
