"""Setup end to end on the rig: real executables, the fake workspace and CLI, the real claude.

From an empty HOME, `setup-fmapi-claudecode --host URL` leaves everything the seed promised
(settings with every variable, a working apiKeyHelper or a static token, the onboarding flag, the
shell function), after which both `claude -p` and `dbx-fmapi-claude -p` get answers through the
workspace with a valid token and the coding-agent header.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from tests.helpers.mgmt import VOLATILE, config_of, record_of
from tests.helpers.setup_runs import settings_of, setup
from tests.rig.sandbox import Sandbox
from tests.rig.workspace import FakeWorkspace

HEADER = "x-databricks-use-coding-agent-mode"
SEED_KEYS = {
    "ANTHROPIC_MODEL",
    "ANTHROPIC_BASE_URL",
    "ANTHROPIC_DEFAULT_OPUS_MODEL",
    "ANTHROPIC_DEFAULT_SONNET_MODEL",
    "ANTHROPIC_DEFAULT_HAIKU_MODEL",
    "ANTHROPIC_CUSTOM_HEADERS",
    "CLAUDE_CODE_DISABLE_EXPERIMENTAL_BETAS",
}


def assert_claude_works(
    sandbox: Sandbox, workspace: FakeWorkspace, cwd: Path | None = None
) -> None:
    """Plain claude and the wrapper both get the workspace's reply with a valid token."""
    workspace.reply_text = "answer through the workspace"
    for argv in (["claude", "-p", "hi"], ["dbx-fmapi-claude", "-p", "hi"]):
        before = len(workspace.messages_requests())
        result = sandbox.run(argv, timeout=120, cwd=cwd, env={"CLAUDE_CODE_MAX_RETRIES": "0"})
        assert result.code == 0, result
        assert "answer through the workspace" in result.stdout
        sent = workspace.messages_requests()[before:]
        assert sent, f"{argv} sent nothing to the workspace"
        for rec in sent:
            assert rec.token is not None and rec.token.state == "valid", rec
            assert rec.headers.get(HEADER) == "true", rec.headers


def test_host_only_from_an_empty_home_configures_everything_and_claude_answers(
    sandbox: Sandbox, workspace: FakeWorkspace, claude_bin: str
) -> None:
    assert sandbox.snapshot() == {}
    # No prior login: setup runs `databricks auth login` itself (the rig's browser approves).
    result = setup(sandbox, "--host", workspace.url)
    assert result.code == 0, result
    assert "Done." in result.stdout
    assert any(c["argv"][:2] == ["auth", "login"] for c in sandbox.databricks_calls())

    data = settings_of(sandbox)
    env = data["env"]
    assert set(env) >= SEED_KEYS
    assert env["ANTHROPIC_BASE_URL"] == f"{workspace.url}/serving-endpoints/anthropic"
    assert env["ANTHROPIC_MODEL"] == env["ANTHROPIC_DEFAULT_OPUS_MODEL"]
    assert env["ANTHROPIC_DEFAULT_OPUS_MODEL"] == "databricks-claude-opus-4-6"
    assert env["ANTHROPIC_DEFAULT_SONNET_MODEL"] == "databricks-claude-sonnet-4-5"
    assert env["ANTHROPIC_DEFAULT_HAIKU_MODEL"] == "databricks-claude-haiku-4-5"
    assert env["ANTHROPIC_CUSTOM_HEADERS"] == "x-databricks-use-coding-agent-mode: true"
    assert env["CLAUDE_CODE_DISABLE_EXPERIMENTAL_BETAS"] == "1"
    assert env["CLAUDE_CODE_API_KEY_HELPER_TTL_MS"] == "900000"
    assert "ANTHROPIC_AUTH_TOKEN" not in env

    # The helper is a quoted command that prints the profile's valid token.
    helper = data["apiKeyHelper"]
    words = shlex.split(helper)
    assert Path(words[0]).is_absolute() and words[1:] == ["token", "--profile", "DEFAULT"]
    out = sandbox.run(["/bin/sh", "-c", helper])
    assert out.code == 0, out
    assert out.stdout == sandbox.cached_token() + "\n"
    assert workspace.token_state(out.stdout.strip()) == "valid"

    assert json.loads((sandbox.home / ".claude.json").read_text()) == {
        "hasCompletedOnboarding": True
    }
    rc = (sandbox.home / ".bashrc").read_text()
    assert rc.count("# >>> dbx-fmapi-claude >>>") == 1 and "dbx-fmapi-claude()" in rc

    # Verify made one tiny request per model.
    pinged = {r.model for r in workspace.messages_requests()}
    assert pinged == {
        "databricks-claude-opus-4-6",
        "databricks-claude-sonnet-4-5",
        "databricks-claude-haiku-4-5",
    }
    assert_claude_works(sandbox, workspace)
    # The token never shows up in what setup printed.
    assert sandbox.cached_token() not in result.output


def test_static_mode_writes_the_token_0600_and_claude_answers(
    sandbox: Sandbox, workspace: FakeWorkspace, claude_bin: str
) -> None:
    sandbox.signed_in(workspace)
    result = setup(sandbox, "--host", workspace.url, "--token-mode", "static")
    assert result.code == 0, result
    path = sandbox.home / ".claude" / "settings.json"
    data = settings_of(sandbox)
    assert set(data["env"]) >= SEED_KEYS
    assert data["env"]["ANTHROPIC_AUTH_TOKEN"] == sandbox.cached_token()
    assert "apiKeyHelper" not in data
    assert "CLAUDE_CODE_API_KEY_HELPER_TTL_MS" not in data["env"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sandbox.cached_token() not in result.output
    assert (
        sandbox.cached_token()
        not in (sandbox.home / ".config/dbx-fmapi-claude").joinpath("config.json").read_text()
    )
    assert_claude_works(sandbox, workspace)


def test_switching_modes_removes_the_other_modes_keys(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    sandbox.signed_in(workspace)
    assert setup(sandbox, "--host", workspace.url, "--no-verify").code == 0
    assert "apiKeyHelper" in settings_of(sandbox)
    r = setup(sandbox, "--host", workspace.url, "--token-mode", "static", "--no-verify")
    assert r.code == 0, r
    data = settings_of(sandbox)
    assert "apiKeyHelper" not in data and "CLAUDE_CODE_API_KEY_HELPER_TTL_MS" not in data["env"]
    assert data["env"]["ANTHROPIC_AUTH_TOKEN"]
    # The previous run's mode is the default now.
    assert setup(sandbox, "--host", workspace.url, "--no-verify").code == 0
    assert "ANTHROPIC_AUTH_TOKEN" in settings_of(sandbox)["env"]
    r = setup(sandbox, "--host", workspace.url, "--token-mode", "helper", "--no-verify")
    assert r.code == 0, r
    data = settings_of(sandbox)
    assert "ANTHROPIC_AUTH_TOKEN" not in data["env"] and "apiKeyHelper" in data
    assert data["env"]["CLAUDE_CODE_API_KEY_HELPER_TTL_MS"] == "900000"


def test_rerun_with_the_same_answers_changes_no_byte_and_says_so(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    sandbox.signed_in(workspace)
    first = setup(sandbox, "--host", workspace.url)
    assert first.code == 0, first
    before = sandbox.snapshot(exclude=VOLATILE)
    for _ in range(2):
        again = setup(sandbox, "--host", workspace.url)
        assert again.code == 0, again
        assert "already configured" in again.stdout
        assert sandbox.snapshot(exclude=VOLATILE) == before
    # Without a terminal the workspace must still be named, even on a re-run (issue 3).
    again = setup(sandbox)
    assert again.code == 2, again
    assert "--host is required" in again.stderr
    assert sandbox.snapshot(exclude=VOLATILE) == before


def test_rerun_updates_models_ttl_and_profile_in_place(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    sandbox.signed_in(workspace)
    assert setup(sandbox, "--host", workspace.url, "--no-verify").code == 0
    r = setup(
        sandbox,
        "--host",
        workspace.url,
        "--model",
        "databricks-claude-sonnet-4-5",
        "--opus",
        "databricks-claude-opus-4-5",
        "--ttl",
        "90s",
        "--no-verify",
    )
    assert r.code == 0, r
    env = settings_of(sandbox)["env"]
    assert env["ANTHROPIC_MODEL"] == "databricks-claude-sonnet-4-5"
    assert env["ANTHROPIC_DEFAULT_OPUS_MODEL"] == "databricks-claude-opus-4-5"
    assert env["CLAUDE_CODE_API_KEY_HELPER_TTL_MS"] == "90000"
    cfg = config_of(sandbox)
    assert cfg["model"] == "databricks-claude-sonnet-4-5" and cfg["ttl_seconds"] == 90
    # A re-run's earlier values of ours are not "replaced" user values.
    assert cfg["replaced"] == {}
    # The next run keeps these answers by default.
    again = setup(sandbox, "--host", workspace.url, "--no-verify")
    assert "already configured" in again.stdout, again


def test_unrelated_settings_survive_and_replaced_values_are_recorded(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    sandbox.signed_in(workspace)
    original = {
        "permissions": {"allow": ["Bash(ls:*)"], "deny": ["Read(./.env)"]},
        "hooks": {
            "PostToolUse": [{"matcher": "Edit", "hooks": [{"type": "command", "command": "x"}]}]
        },
        "env": {"MY_VAR": "keep me", "ANTHROPIC_MODEL": "my-old-model"},
        "model": "opus",
        "statusLine": {"type": "command", "command": "echo hi"},
    }
    path = sandbox.write_claude_settings(original)
    r = setup(sandbox, "--host", workspace.url, "--no-verify")
    assert r.code == 0, r
    data = settings_of(sandbox)
    for key in ("permissions", "model", "statusLine"):
        assert data[key] == original[key]
    # the user's hooks as they were; ours (agents/claude/failurehook.py) beside them
    assert data["hooks"]["PostToolUse"] == original["hooks"]["PostToolUse"]
    assert list(data["hooks"]) == ["PostToolUse", "StopFailure"]
    assert list(data)[:5] == list(original)  # order kept too
    assert data["env"]["MY_VAR"] == "keep me"
    assert data["env"]["ANTHROPIC_MODEL"] == "databricks-claude-opus-4-6"
    cfg = config_of(sandbox)
    assert cfg["replaced"] == {"ANTHROPIC_MODEL": {"value": "my-old-model"}}
    assert cfg["env_existed"] is True and cfg["settings_created"] is False
    assert path.stat().st_mode & 0o777 == 0o644


def test_corrupted_settings_are_backed_up_by_path_and_repaired(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    sandbox.signed_in(workspace)
    path = sandbox.home / ".claude" / "settings.json"
    path.parent.mkdir()
    broken = b'{"permissions": {"allow": ["Bash"]},, oops\n'
    path.write_bytes(broken)
    r = setup(sandbox, "--host", workspace.url, "--no-verify")
    assert r.code == 0, r
    backups = sorted(path.parent.glob("settings.json.bak-*"))
    assert len(backups) == 1
    assert backups[0].read_bytes() == broken
    assert str(backups[0]) in r.output
    assert set(settings_of(sandbox)["env"]) >= SEED_KEYS


def test_a_missing_settings_file_is_recreated_on_rerun(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    sandbox.signed_in(workspace)
    assert setup(sandbox, "--host", workspace.url, "--no-verify").code == 0
    (sandbox.home / ".claude" / "settings.json").unlink()
    r = setup(sandbox, "--host", workspace.url, "--no-verify")
    assert r.code == 0, r
    assert set(settings_of(sandbox)["env"]) >= SEED_KEYS


def test_onboarding_flag_is_added_keeping_claudes_file_and_never_overridden(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    sandbox.signed_in(workspace)
    cj = sandbox.home / ".claude.json"
    cj.write_text(
        '{\n  "numStartups": 3,\n  "projects": {\n    "/x": {"allowedTools": []}\n  }\n}\n'
    )
    assert setup(sandbox, "--host", workspace.url, "--no-verify").code == 0
    text = cj.read_text()
    assert text == (
        '{\n  "hasCompletedOnboarding": true,\n  "numStartups": 3,\n  "projects": {\n'
        '    "/x": {"allowedTools": []}\n  }\n}\n'
    )
    # Present (even false): left alone.
    cj.write_text('{"hasCompletedOnboarding": false}')
    assert setup(sandbox, "--host", workspace.url, "--no-verify").code == 0
    assert cj.read_text() == '{"hasCompletedOnboarding": false}'


def test_corrupt_claude_json_is_left_alone_with_a_warning(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    sandbox.signed_in(workspace)
    cj = sandbox.home / ".claude.json"
    cj.write_bytes(b"{not json")
    r = setup(sandbox, "--host", workspace.url, "--no-verify")
    assert r.code == 0, r
    assert cj.read_bytes() == b"{not json"
    assert ".claude.json is not valid JSON" in r.stderr


def test_settings_in_the_current_directory_and_in_a_custom_folder(
    sandbox: Sandbox, workspace: FakeWorkspace, tmp_path: Path
) -> None:
    sandbox.signed_in(workspace)
    project = tmp_path / "project"
    project.mkdir()
    r = setup(
        sandbox, "--host", workspace.url, "--settings-location", "cwd", "--no-verify", cwd=project
    )
    assert r.code == 0, r
    assert set(settings_of(sandbox, project / ".claude/settings.json")["env"]) >= SEED_KEYS
    assert not (sandbox.home / ".claude" / "settings.json").exists()
    # Another folder is another configuration: the first one stays as it is (issue 12).
    first = (project / ".claude/settings.json").read_bytes()
    other = tmp_path / "other"
    other.mkdir()
    r = setup(
        sandbox,
        "--host",
        workspace.url,
        "--settings-location",
        str(other),
        "--no-verify",
        cwd=project,
    )
    assert r.code == 0, r
    assert set(settings_of(sandbox, other / ".claude/settings.json")["env"]) >= SEED_KEYS
    assert (project / ".claude" / "settings.json").read_bytes() == first
    assert config_of(sandbox)["settings_file"] == str(other / ".claude/settings.json")
    # Re-running for the first folder updates its configuration in place: still two.
    r = setup(
        sandbox, "--host", workspace.url, "--settings-location", "cwd", "--no-verify", cwd=project
    )
    assert r.code == 0 and "already configured" in r.stdout, r
    files = [c["settings_file"] for c in record_of(sandbox)["configs"]]
    assert files == [str(project / ".claude/settings.json"), str(other / ".claude/settings.json")]


def test_dry_run_prints_diffs_and_writes_nothing(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    sandbox.signed_in(workspace)
    (sandbox.home / ".bashrc").write_text("export A=1\n")
    before = sandbox.snapshot()
    calls = len(sandbox.databricks_calls())
    r = setup(sandbox, "--host", workspace.url, "--token-mode", "static", "--dry-run")
    assert r.code == 0, r
    assert sandbox.snapshot() == before
    assert "+++ " + str(sandbox.home / ".claude" / "settings.json") in r.stdout
    assert "+++ " + str(sandbox.home / ".bashrc") in r.stdout
    assert '+    "ANTHROPIC_MODEL": "databricks-claude-opus-4-6",' in r.stdout
    assert '"ANTHROPIC_AUTH_TOKEN": "<redacted>"' in r.stdout
    assert sandbox.cached_token() not in r.output
    assert "nothing was written" in r.stdout
    assert not any(c["argv"][:2] == ["auth", "login"] for c in sandbox.databricks_calls()[calls:])
    # A dry run after a real run shows nothing to do.
    assert setup(sandbox, "--host", workspace.url).code == 0
    r = setup(sandbox, "--host", workspace.url, "--dry-run")
    assert "nothing would change" in r.stdout, r


ANTHROPIC_KEY = "sk-ant-api03-personal-key-never-shown-0123456789"


def test_dry_run_never_shows_a_key_of_the_users(sandbox: Sandbox, workspace: FakeWorkspace) -> None:
    """A personal Anthropic key, or any *_TOKEN/_KEY/_SECRET value, in the settings file or the
    rc file is context in the diffs: it shows as <redacted>, never as itself."""
    sandbox.signed_in(workspace)
    (sandbox.home / ".claude").mkdir()
    env = {"ANTHROPIC_API_KEY": ANTHROPIC_KEY, "MY_SERVICE_SECRET": "plain-words-but-secret"}
    (sandbox.home / ".claude" / "settings.json").write_text(json.dumps({"env": env}, indent=2))
    (sandbox.home / ".bashrc").write_text(f"export ANTHROPIC_API_KEY={ANTHROPIC_KEY}\n")
    for mode in ("helper", "static"):
        r = setup(
            sandbox, "--host", workspace.url, "--shell", "bash", "--token-mode", mode, "--dry-run"
        )
        assert r.code == 0, r
        assert "+++ " + str(sandbox.home / ".claude" / "settings.json") in r.stdout
        assert '"ANTHROPIC_API_KEY": "<redacted>"' in r.stdout
        assert '"MY_SERVICE_SECRET": "<redacted>"' in r.stdout
        assert "export ANTHROPIC_API_KEY=<redacted>" in r.stdout
        assert ANTHROPIC_KEY not in r.output and "plain-words-but-secret" not in r.output
        assert sandbox.cached_token() not in r.output


def test_dry_run_without_a_login_does_not_log_in(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    r = setup(sandbox, "--host", workspace.url, "--dry-run")
    assert r.code == 0, r
    assert "would log in: databricks auth login" in r.stdout
    assert sandbox.snapshot() == {}
    assert sandbox.browser_visits() == []


# --- the shell function ----------------------------------------------------------------------


def test_bash_rc_block_defines_the_function_once_keeping_other_bytes(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    sandbox.signed_in(workspace)
    rc = sandbox.home / ".bashrc"
    user_text = "# my rc\nalias ll='ls -l'\nexport EDITOR=vim"  # no final newline
    rc.write_text(user_text)
    assert setup(sandbox, "--host", workspace.url, "--shell", "bash", "--no-verify").code == 0
    text = rc.read_text()
    assert text.startswith(user_text)
    out = sandbox.run(["bash", "-ic", "type dbx-fmapi-claude"], env={"PS1": ""})
    assert out.code == 0 and "dbx-fmapi-claude is a function" in out.stdout, out
    # A re-run updates the block in place: never a second copy.
    r = setup(sandbox, "--host", workspace.url, "--no-verify")
    assert r.code == 0 and rc.read_text() == text


def test_rc_symlink_stays_a_symlink(sandbox: Sandbox, workspace: FakeWorkspace) -> None:
    sandbox.signed_in(workspace)
    dotfiles = sandbox.home / "dotfiles"
    dotfiles.mkdir()
    (dotfiles / "bashrc").write_text("export A=1\n")
    (sandbox.home / ".bashrc").symlink_to(dotfiles / "bashrc")
    assert setup(sandbox, "--host", workspace.url, "--shell", "bash", "--no-verify").code == 0
    assert (sandbox.home / ".bashrc").is_symlink()
    assert "dbx-fmapi-claude()" in (dotfiles / "bashrc").read_text()


def test_zsh_rc_block_is_sourceable(sandbox: Sandbox, workspace: FakeWorkspace) -> None:
    sandbox.signed_in(workspace)
    assert setup(sandbox, "--host", workspace.url, "--shell", "zsh", "--no-verify").code == 0
    text = (sandbox.home / ".zshrc").read_text()
    assert text.count("# >>> dbx-fmapi-claude >>>") == 1
    if not shutil.which("zsh"):
        pytest.skip("zsh is not installed here")
    out = sandbox.run(["zsh", "-ic", "whence -w dbx-fmapi-claude"])
    assert out.code == 0 and "function" in out.stdout, out


def test_fish_function_file(sandbox: Sandbox, workspace: FakeWorkspace) -> None:
    sandbox.signed_in(workspace)
    assert setup(sandbox, "--host", workspace.url, "--shell", "fish", "--no-verify").code == 0
    path = sandbox.home / ".config/fish/functions/dbx-fmapi-claude.fish"
    assert "function dbx-fmapi-claude" in path.read_text()
    if shutil.which("fish"):  # fish autoloads the file; the function runs the wrapper
        sandbox.fake_program("claude", 'echo "claude ran with: $*"\n')
        out = sandbox.run(
            ["fish", "-c", "type -t dbx-fmapi-claude; and dbx-fmapi-claude -p 'a b'"],
            env={"DBX_FMAPI_CLAUDE_RELAY": "0"},  # the arguments alone (no relay --settings)
        )
        assert out.code == 0 and out.stdout.split() == [
            "function",
            "claude",
            "ran",
            "with:",
            "-p",
            "a",
            "b",
        ], out
    # Switching shells moves the block: the fish file goes, ~/.bashrc gets it.
    assert setup(sandbox, "--host", workspace.url, "--shell", "bash", "--no-verify").code == 0
    assert not path.exists()
    assert "dbx-fmapi-claude()" in (sandbox.home / ".bashrc").read_text()


def test_a_users_config_fish_that_held_our_block_is_emptied_not_deleted(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    """config.fish is the user's file, not one setup created: where an earlier setup put its
    block there (the record's rc_file), moving to another shell takes the block out and, with
    nothing of the user's left and no record that setup created the file, leaves it empty."""
    from dbx_fmapi_claude.shell import rcblock

    sandbox.signed_in(workspace)
    assert setup(sandbox, "--host", workspace.url, "--shell", "bash", "--no-verify").code == 0
    config_fish = sandbox.home / ".config/fish/config.fish"
    config_fish.parent.mkdir(parents=True, exist_ok=True)
    config_fish.write_text(rcblock.render("fish", "/opt/old/bin/dbx-fmapi-claude"))
    record_file = sandbox.home / ".config/dbx-fmapi-claude/config.json"
    record = record_of(sandbox)
    assert "rc_file" in record
    record["rc_file"] = str(config_fish)
    record_file.write_text(json.dumps(record))
    result = setup(sandbox, "--host", workspace.url, "--shell", "bash", "--no-verify")
    assert result.code == 0, result
    assert config_fish.read_bytes() == b""
    assert "dbx-fmapi-claude()" in (sandbox.home / ".bashrc").read_text()


def test_wrapper_runs_through_the_sourced_function(
    sandbox: Sandbox, workspace: FakeWorkspace, claude_bin: str
) -> None:
    sandbox.signed_in(workspace)
    assert setup(sandbox, "--host", workspace.url, "--no-verify").code == 0
    env = {"CLAUDE_CODE_MAX_RETRIES": "0", "PS1": ""}
    out = sandbox.run(["bash", "-ic", "dbx-fmapi-claude -p hi"], env=env, timeout=120)
    assert out.code == 0, out
    assert "pong" in out.stdout


def test_shell_none_touches_no_rc_file(sandbox: Sandbox, workspace: FakeWorkspace) -> None:
    sandbox.signed_in(workspace)
    assert setup(sandbox, "--host", workspace.url, "--shell", "none", "--no-verify").code == 0
    assert not (sandbox.home / ".bashrc").exists()
    assert config_of(sandbox)["rc_file"] is None


def test_helper_path_is_absolute_and_quoted_for_sh(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    sandbox.signed_in(workspace)
    assert setup(sandbox, "--host", workspace.url, "--no-verify").code == 0
    helper = settings_of(sandbox)["apiKeyHelper"]
    assert helper.startswith("'/") and "' token --profile 'DEFAULT'" in helper
    # Runs from any folder, with the PATH claude gives it.
    out = subprocess.run(
        ["/bin/sh", "-c", helper],
        cwd="/",
        env={**sandbox.env, "PATH": "/usr/bin:/bin:" + str(sandbox.bin)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0 and out.stdout.strip() == sandbox.cached_token()
    assert os.path.isabs(config_of(sandbox)["executable"])
