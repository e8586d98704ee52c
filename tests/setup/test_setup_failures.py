"""Setup's input and failure rules: every bad input or failing dependency gives a one-line reason,
the fix as a command, a non-zero exit, and no file changed (byte-identical home)."""

from __future__ import annotations

import json
import stat
import subprocess
from pathlib import Path

import pytest

from tests.helpers.mgmt import VOLATILE, config_of, record_of
from tests.helpers.programs import git
from tests.helpers.setup_runs import settings_of, setup
from tests.rig.checks import assert_refused
from tests.rig.sandbox import Sandbox
from tests.rig.workspace import FakeWorkspace, endpoint


@pytest.fixture
def user_files(sandbox: Sandbox) -> dict[str, bytes]:
    """A home with the user's own settings, rc file and Claude state, to prove nothing moves."""
    sandbox.write_claude_settings({"permissions": {"allow": ["Bash(ls:*)"]}, "env": {"A": "1"}})
    (sandbox.home / ".bashrc").write_text("export A=1\n")
    (sandbox.home / ".claude.json").write_text('{"numStartups": 1}\n')
    return sandbox.snapshot()


def unchanged(sandbox: Sandbox, before: dict[str, bytes]) -> bool:
    keep = {k: v for k, v in before.items() if not any(Path(k).match(p) for p in VOLATILE)}
    return sandbox.snapshot(exclude=VOLATILE) == keep


# --- the workspace URL -----------------------------------------------------------------------


def test_no_host_without_a_terminal_is_a_usage_error_naming_the_flag(
    sandbox: Sandbox, user_files: dict[str, bytes]
) -> None:
    result = setup(sandbox)
    assert_refused(result, 2, says="--host is required", fix="--host https://")
    assert unchanged(sandbox, user_files)
    # --yes on a terminal is the same: nothing to prompt with.
    result = setup(sandbox, "--yes")
    assert_refused(result, 2, says="--host is required")


@pytest.mark.parametrize(
    "host",
    [
        "my-workspace.cloud.databricks.com",
        "http://my-workspace.cloud.databricks.com",
        "ftp://my-workspace.cloud.databricks.com",
    ],
)
def test_a_url_without_https_is_refused_with_the_seed_message(
    sandbox: Sandbox, user_files: dict[str, bytes], host: str
) -> None:
    result = setup(sandbox, "--host", host)
    assert_refused(result, 2, says="Workspace URL must start with https://")
    assert unchanged(sandbox, user_files)


@pytest.mark.parametrize("host", ["https://", "https://exa mple.com", "https://user@host.com", " "])
def test_a_malformed_url_is_refused(sandbox: Sandbox, user_files: dict[str, bytes], host: str):
    result = setup(sandbox, "--host", host)
    assert_refused(result, 2, says="Workspace URL")
    assert unchanged(sandbox, user_files)


def test_browser_junk_in_the_url_is_stripped(sandbox: Sandbox, workspace: FakeWorkspace) -> None:
    sandbox.signed_in(workspace)
    result = setup(sandbox, "--host", workspace.url + "/browse/folders/123?o=1234567890#x")
    assert result.code == 0, result
    base = settings_of(sandbox)["env"]["ANTHROPIC_BASE_URL"]
    assert base == f"{workspace.url}/serving-endpoints/anthropic"


# --- other flags -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--ttl", "soon"], "--ttl 'soon'"),
        (["--ttl", "0"], "out of range"),
        (["--ttl", "25h"], "out of range"),
        (["--margin", "x"], "--margin"),
        (["--ttl", "55m"], "longer than a Databricks token lives"),
        (["--profile", "my profile"], "invalid profile name"),
        (["--profile", "a;rm -rf ~"], "invalid profile name"),
        (["--model", "bad/name"], "invalid model endpoint name"),
        (["--haiku", "$(reboot)"], "invalid model endpoint name"),
        (["--settings-location", "/does/not/exist"], "does not exist"),
        (["--settings-location", ""], "settings location is empty"),
    ],
)
def test_bad_flags_are_usage_errors_before_anything_happens(
    sandbox: Sandbox,
    workspace: FakeWorkspace,
    user_files: dict[str, bytes],
    args: list[str],
    says: str,
) -> None:
    result = setup(sandbox, "--host", workspace.url, *args)
    assert_refused(result, 2, says=says)
    assert unchanged(sandbox, user_files)
    assert sandbox.databricks_calls() == []  # refused before authenticating


def test_a_settings_location_that_is_a_file_is_refused(
    sandbox: Sandbox, workspace: FakeWorkspace, user_files: dict[str, bytes]
) -> None:
    result = setup(sandbox, "--host", workspace.url, "--settings-location", "~/.bashrc")
    assert_refused(result, 2, says="is a file, not a folder")
    assert unchanged(sandbox, user_files)


def test_argparse_choices_are_usage_errors(sandbox: Sandbox, workspace: FakeWorkspace) -> None:
    for args in (["--token-mode", "magic"], ["--shell", "tcsh"]):
        result = setup(sandbox, "--host", workspace.url, *args)
        assert result.code == 2, result
        assert "invalid choice" in result.stderr
    assert sandbox.snapshot() == {}


# --- models ----------------------------------------------------------------------------------


def test_a_model_the_workspace_does_not_have_lists_the_ones_it_has(
    sandbox: Sandbox, workspace: FakeWorkspace, user_files: dict[str, bytes]
) -> None:
    sandbox.signed_in(workspace)
    before = sandbox.snapshot()
    result = setup(sandbox, "--host", workspace.url, "--sonnet", "databricks-claude-sonnet-9-9")
    assert_refused(
        result,
        2,
        says="the workspace has no model endpoint 'databricks-claude-sonnet-9-9'",
        fix="--sonnet databricks-claude-opus-4-6",
        token=sandbox.cached_token(),
    )
    for name in ("databricks-claude-opus-4-6", "databricks-claude-sonnet-4-5"):
        assert name in result.stderr
    assert "llama" not in result.stderr  # only the Claude ones are offered
    assert unchanged(sandbox, before)


def test_defaults_follow_the_workspace_newest_ready_first(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    workspace.set_endpoints(
        [
            endpoint("databricks-claude-opus-4-1"),
            endpoint("databricks-claude-opus-4-7", ready=False),
            endpoint("databricks-claude-opus-4-5"),
            endpoint("databricks-claude-sonnet-4"),
            endpoint("databricks-claude-sonnet-4-5"),
            endpoint("databricks-claude-haiku-4-5"),
            endpoint("databricks-meta-llama-3-3-70b-instruct"),
        ]
    )
    sandbox.signed_in(workspace)
    result = setup(sandbox, "--host", workspace.url, "--no-verify")
    assert result.code == 0, result
    env = settings_of(sandbox)["env"]
    assert env["ANTHROPIC_DEFAULT_OPUS_MODEL"] == "databricks-claude-opus-4-5"
    assert env["ANTHROPIC_MODEL"] == "databricks-claude-opus-4-5"
    assert env["ANTHROPIC_DEFAULT_SONNET_MODEL"] == "databricks-claude-sonnet-4-5"


def test_when_the_list_cannot_be_read_the_seed_defaults_are_used(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    sandbox.signed_in(workspace)
    workspace.fail("/api/2.0/serving-endpoints", 500, times=None)
    result = setup(sandbox, "--host", workspace.url)
    assert result.code == 0, result
    assert "cannot list the workspace's models" in result.stderr
    env = settings_of(sandbox)["env"]
    assert env["ANTHROPIC_DEFAULT_OPUS_MODEL"] == "databricks-claude-opus-4-6"
    assert env["ANTHROPIC_DEFAULT_SONNET_MODEL"] == "databricks-claude-sonnet-4-5"
    assert env["ANTHROPIC_DEFAULT_HAIKU_MODEL"] == "databricks-claude-haiku-4-5"


# --- verify ----------------------------------------------------------------------------------


def test_a_failing_verify_reports_per_model_and_writes_nothing(
    sandbox: Sandbox, workspace: FakeWorkspace, user_files: dict[str, bytes]
) -> None:
    sandbox.signed_in(workspace)
    before = sandbox.snapshot()
    workspace.set_endpoints(
        [
            endpoint("databricks-claude-opus-4-6"),
            endpoint("databricks-claude-sonnet-4-5"),
            endpoint("databricks-claude-haiku-4-5"),
        ]
    )
    workspace.fail("/serving-endpoints/anthropic", 500, times=1)
    result = setup(sandbox, "--host", workspace.url)
    assert_refused(result, 1, says="nothing was written", fix="--no-verify")
    assert "FAIL  databricks-claude-opus-4-6" in result.stdout
    assert "ok    databricks-claude-sonnet-4-5" in result.stdout
    assert unchanged(sandbox, before)
    # --no-verify writes anyway (no request at all); a later verify passes.
    assert setup(sandbox, "--host", workspace.url, "--no-verify").code == 0
    assert workspace.faults[0].hits == 1
    assert setup(sandbox, "--host", workspace.url).code == 0


def test_a_rejected_token_points_at_the_login(
    sandbox: Sandbox, workspace: FakeWorkspace, user_files: dict[str, bytes]
) -> None:
    sandbox.signed_in(workspace)
    before = sandbox.snapshot()
    workspace.fail("/serving-endpoints/anthropic", 403, times=None)
    result = setup(sandbox, "--host", workspace.url)
    assert_refused(
        result,
        1,
        says="rejected the token",
        fix=f"databricks auth login --host {workspace.url} --profile DEFAULT",
        token=sandbox.cached_token(),
    )
    assert unchanged(sandbox, before)


def test_an_unreachable_workspace_writes_nothing(
    sandbox: Sandbox, workspace: FakeWorkspace, user_files: dict[str, bytes]
) -> None:
    sandbox.signed_in(workspace)
    before = sandbox.snapshot()
    workspace.stop()
    result = setup(sandbox, "--host", workspace.url)
    assert result.code == 1, result
    assert "cannot reach" in result.stderr
    assert unchanged(sandbox, before)


# --- authentication --------------------------------------------------------------------------


def test_login_needed_with_no_terminal_and_no_browser_exits_4_with_the_command(
    sandbox: Sandbox, workspace: FakeWorkspace, user_files: dict[str, bytes]
) -> None:
    result = setup(sandbox, "--host", workspace.url, env={"BROWSER": None})
    assert_refused(
        result,
        4,
        says="Databricks login needed",
        fix=f"databricks auth login --host {workspace.url} --profile DEFAULT",
    )
    assert unchanged(sandbox, user_files)


def test_a_denied_login_changes_nothing(
    sandbox: Sandbox, workspace: FakeWorkspace, user_files: dict[str, bytes]
) -> None:
    workspace.deny_login = True
    result = setup(sandbox, "--host", workspace.url)
    assert result.code == 4, result
    assert "login" in result.stderr and "fix: databricks auth login" in result.stderr
    assert unchanged(sandbox, user_files)


def test_a_profile_for_another_workspace_is_refused(
    sandbox: Sandbox, workspace: FakeWorkspace, user_files: dict[str, bytes]
) -> None:
    (sandbox.home / ".databrickscfg").write_text(
        "[work]\nhost = https://other.cloud.databricks.com\n"
    )
    before = sandbox.snapshot()
    result = setup(sandbox, "--host", workspace.url, "--profile", "work")
    assert_refused(result, 2, says="is for https://other.cloud.databricks.com", fix="--profile")
    assert unchanged(sandbox, before)
    assert sandbox.databricks_calls() == []  # refused before signing in


def test_the_default_profile_name_avoids_a_profile_of_another_workspace(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    (sandbox.home / ".databrickscfg").write_text("[DEFAULT]\nhost = https://other.example.com\n")
    result = setup(sandbox, "--host", workspace.url, "--no-verify")
    assert result.code == 0, result
    assert config_of(sandbox)["profile"] == "127"
    assert "[127]" in (sandbox.home / ".databrickscfg").read_text()


def test_missing_databricks_cli_with_skip_install_names_the_installer(
    sandbox: Sandbox, workspace: FakeWorkspace, user_files: dict[str, bytes]
) -> None:
    sandbox.remove("databricks")
    result = setup(sandbox, "--host", workspace.url)
    assert_refused(result, 1, says="Databricks CLI", fix="install.sh | sh")
    assert unchanged(sandbox, user_files)


# --- files -----------------------------------------------------------------------------------


def test_a_half_rc_block_is_an_error_with_no_change(
    sandbox: Sandbox, workspace: FakeWorkspace, user_files: dict[str, bytes]
) -> None:
    sandbox.signed_in(workspace)
    (sandbox.home / ".bashrc").write_text("export A=1\n# >>> dbx-fmapi-claude >>>\nfoo\n")
    before = sandbox.snapshot()
    result = setup(sandbox, "--host", workspace.url, "--shell", "bash")
    assert_refused(result, 1, says="begin marker without its end marker", fix="grep -n")
    assert unchanged(sandbox, before)


def test_settings_path_that_is_a_directory_is_an_error_with_no_change(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    sandbox.signed_in(workspace)
    (sandbox.home / ".claude" / "settings.json").mkdir(parents=True)
    (sandbox.home / ".bashrc").write_text("export A=1\n")
    before = sandbox.snapshot()
    result = setup(sandbox, "--host", workspace.url)
    assert_refused(result, 1, says="is a directory")
    assert unchanged(sandbox, before)


def test_static_mode_refuses_a_git_tracked_settings_file_and_offers_the_local_one(
    sandbox: Sandbox, workspace: FakeWorkspace, tmp_path: Path
) -> None:
    sandbox.signed_in(workspace)
    project = tmp_path / "project"
    (project / ".claude").mkdir(parents=True)
    tracked = project / ".claude" / "settings.json"
    tracked.write_text('{"permissions": {}}\n')
    git(project, "init", "-q")
    git(project, "add", ".claude/settings.json")
    git(project, "commit", "-qm", "settings")
    before = sandbox.snapshot()
    args = ["--host", workspace.url, "--settings-location", str(project), "--token-mode", "static"]
    result = setup(sandbox, *args)
    assert_refused(result, 2, says="tracked by git", fix="settings.local.json")
    assert tracked.read_text() == '{"permissions": {}}\n'
    assert not (project / ".claude" / "settings.local.json").exists()
    assert unchanged(sandbox, before)

    result = setup(sandbox, *args, "--yes")
    assert result.code == 0, result
    local = project / ".claude" / "settings.local.json"
    data = json.loads(local.read_text())
    assert data["env"]["ANTHROPIC_AUTH_TOKEN"] == sandbox.cached_token()
    assert stat.S_IMODE(local.stat().st_mode) == 0o600
    assert tracked.read_text() == '{"permissions": {}}\n'
    assert config_of(sandbox)["settings_file"] == str(local)
    # Helper mode puts no token in the file, but the helper's path and the profile are this
    # user's: they stay out of the team's tracked file too (issue 19), in the local file,
    # which loses the token.
    result = setup(sandbox, "--host", workspace.url, "--token-mode", "helper")
    assert result.code == 0, result
    assert tracked.read_text() == '{"permissions": {}}\n'
    data = json.loads(local.read_text())
    assert "apiKeyHelper" in data and "ANTHROPIC_AUTH_TOKEN" not in data["env"]
    # Still one configuration for the folder, on its settings.local.json.
    assert [c["settings_file"] for c in record_of(sandbox)["configs"]] == [str(local)]


def test_static_mode_refuses_a_tracked_home_settings_file(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    sandbox.signed_in(workspace)
    sandbox.write_claude_settings({})
    git(sandbox.home, "init", "-q")
    git(sandbox.home, "add", ".claude/settings.json")
    before = sandbox.snapshot(exclude=[".git/*"])
    result = setup(sandbox, "--host", workspace.url, "--token-mode", "static", "--yes")
    assert_refused(result, 2, says="tracked by git", fix="--token-mode helper")
    assert sandbox.snapshot(exclude=[".git/*"]) == before


def test_a_corrupt_setup_record_is_rewritten_with_a_warning(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    sandbox.signed_in(workspace)
    cfg = sandbox.home / ".config" / "dbx-fmapi-claude" / "config.json"
    cfg.parent.mkdir(parents=True)
    cfg.write_text("{oops")
    result = setup(sandbox, "--host", workspace.url, "--no-verify")
    assert result.code == 0, result
    assert "not valid JSON" in result.stderr
    assert config_of(sandbox)["host"] == workspace.url


def test_static_mode_keeps_its_token_file_out_of_a_repository(
    sandbox: Sandbox, workspace: FakeWorkspace, tmp_path: Path
) -> None:
    """An unignored token file in a git work tree goes into the repository's own exclude file
    (it used to be only a warning); a file the user's .gitignore already covers is left to it."""
    sandbox.signed_in(workspace)
    project = tmp_path / "repo"
    project.mkdir()
    git(project, "init", "-q")
    args = ["--host", workspace.url, "--settings-location", str(project), "--token-mode", "static"]
    result = setup(sandbox, *args, "--no-verify")
    assert result.code == 0, result
    assert "git exclude" in result.stdout and "not ignored" not in result.stderr
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", ".claude/settings.json"], cwd=project, check=False
    )
    assert ignored.returncode == 0
    other = tmp_path / "repo2"
    other.mkdir()
    git(other, "init", "-q")
    (other / ".gitignore").write_text(".claude/settings.json\n")
    exclude = (other / ".git" / "info" / "exclude").read_bytes()
    args2 = ["--host", workspace.url, "--settings-location", str(other), "--token-mode", "static"]
    result = setup(sandbox, *args2, "--no-verify")
    assert result.code == 0, result
    assert "git exclude" not in result.stdout and "not ignored" not in result.stderr
    assert (other / ".git" / "info" / "exclude").read_bytes() == exclude


def test_a_cli_printing_garbage_is_an_error_with_no_change(
    sandbox: Sandbox, workspace: FakeWorkspace, user_files: dict[str, bytes]
) -> None:
    sandbox.signed_in(workspace)
    sandbox.use_fake_cli()  # only the fake can do this
    before = sandbox.snapshot()
    result = setup(sandbox, "--host", workspace.url, env={"FAKE_DATABRICKS_GARBAGE": "1"})
    assert_refused(result, 1, says="not a token", fix="upgrade the Databricks CLI")
    assert unchanged(sandbox, before)


def test_a_hanging_cli_is_bounded_and_changes_nothing(
    sandbox: Sandbox, workspace: FakeWorkspace, user_files: dict[str, bytes]
) -> None:
    sandbox.signed_in(workspace)
    sandbox.use_fake_cli()  # only the fake can do this
    before = sandbox.snapshot()
    env = {"FAKE_DATABRICKS_HANG": "30", "DBX_FMAPI_CLI_TIMEOUT_SECONDS": "2"}
    result = setup(sandbox, "--host", workspace.url, env=env, timeout=25)
    assert_refused(result, 1, says="did not answer within 2s")
    assert unchanged(sandbox, before)
