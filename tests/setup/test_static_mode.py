"""Static mode's limits are said, and its token file stays out of git (issue 12, item 6)."""

from __future__ import annotations

import subprocess

from tests.helpers.mgmt import run_setup
from tests.rig.sandbox import Sandbox
from tests.rig.workspace import FakeWorkspace


def git(cwd: object, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=str(cwd), capture_output=True, text=True, check=False)


def test_the_static_token_file_is_git_ignored_and_uninstall_restores_the_exclude_file(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    repo = sandbox.home / "work" / "repo"
    repo.mkdir(parents=True)
    assert git(repo, "init", "-q").returncode == 0
    exclude = repo / ".git" / "info" / "exclude"
    before = exclude.read_bytes()
    sandbox.signed_in(workspace)
    out = run_setup(
        sandbox,
        workspace,
        "--settings-location",
        "cwd",
        "--token-mode",
        "static",
        "--no-verify",
        cwd=repo,
    )
    assert out.code == 0, out
    assert "a session cannot outlive it" in out.stdout
    assert "--token-mode helper" in out.stdout
    assert git(repo, "check-ignore", "-q", ".claude/settings.json").returncode == 0
    assert git(repo, "status", "--porcelain", "--untracked-files=all").stdout == ""
    assert exclude.read_bytes().startswith(before)
    again = run_setup(
        sandbox,
        workspace,
        "--settings-location",
        "cwd",
        "--token-mode",
        "static",
        "--no-verify",
        cwd=repo,
    )
    assert again.code == 0 and "already configured" in again.stdout, again
    assert exclude.read_text().count("dbx-fmapi-claude >>>") == 1
    un = sandbox.run(["dbx-fmapi", "uninstall", "--yes"], cwd=repo, timeout=120)
    assert un.code == 0, un
    assert exclude.read_bytes() == before


def test_helper_mode_leaves_git_alone(sandbox: Sandbox, workspace: FakeWorkspace) -> None:
    repo = sandbox.home / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    before = (repo / ".git" / "info" / "exclude").read_bytes()
    sandbox.signed_in(workspace)
    out = run_setup(sandbox, workspace, "--settings-location", "cwd", "--no-verify", cwd=repo)
    assert out.code == 0, out
    assert "cannot outlive" not in out.stdout
    assert (repo / ".git" / "info" / "exclude").read_bytes() == before
