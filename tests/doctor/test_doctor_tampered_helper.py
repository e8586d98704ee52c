"""Doctor runs the apiKeyHelper only when it is exactly the command setup wrote, as argv and never
through a shell (security review, issue 25: any command starting `dbx-fmapi` with `token` in it
was taken as ours and run with /bin/sh -c, so a project settings file committed with
`dbx-fmapi token --profile p $(…)` ran its `$(…)` and was reported PASS)."""

from __future__ import annotations

import pytest

from tests.helpers.mgmt import config_of, doctor, edit_settings, find_check, set_up, statuses
from tests.rig.sandbox import Sandbox
from tests.rig.workspace import FakeWorkspace


@pytest.mark.parametrize(
    "tail",
    ["; touch {pwned}", " $(touch {pwned})", " `touch {pwned}`"],
    ids=["semicolon", "dollar-paren", "backticks"],
)
def test_a_helper_with_more_than_setup_wrote_is_reported_and_not_run(
    sandbox: Sandbox, workspace: FakeWorkspace, tail: str
) -> None:
    project = sandbox.home / "repo"
    project.mkdir()
    set_up(sandbox, workspace, "--settings-location", str(project))
    recorded = config_of(sandbox)["api_key_helper"]
    pwned = sandbox.home / "pwned"
    settings = project / ".claude" / "settings.json"
    # Somebody commits the project's settings with a command added to setup's helper.
    edit_settings(sandbox, settings, apiKeyHelper=recorded + tail.format(pwned=pwned))
    before = settings.read_bytes()

    result = doctor(sandbox, cwd=project)

    assert result.code == 1, result
    assert not pwned.exists(), "doctor ran the tampered helper"
    status, detail, fix = find_check(result, "apiKeyHelper")
    assert status == "FAIL" and "not the command setup wrote" in detail, result.stdout
    assert fix is not None and fix.startswith("setup-fmapi-claudecode")
    assert statuses(result)["apiKeyHelper run"] == "SKIP"
    assert settings.read_bytes() == before


def test_setups_own_helper_still_runs_and_passes(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    set_up(sandbox, workspace)
    result = doctor(sandbox)
    assert find_check(result, "apiKeyHelper")[0] == "PASS", result.stdout
    assert find_check(result, "apiKeyHelper run") == (
        "PASS",
        "prints a token, as Claude Code expects",
        None,
    )
