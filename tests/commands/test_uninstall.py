"""`dbx-fmapi uninstall`: setup -> uninstall leaves the user's own files byte-identical; only what
setup added goes; values it replaced come back; twice is harmless; confirmation on a TTY, --yes
without one; --dry-run writes nothing. The Databricks profile and token cache stay."""

from __future__ import annotations

import json
import os
import stat
from typing import Any

import pytest

from tests.helpers.claude_user_files import (
    USER_BASHRC,
    USER_CLAUDE_JSON,
    USER_SETTINGS,
    seed_user_files,
)
from tests.helpers.mgmt import (
    VOLATILE,
    checks_by_id,
    config_of,
    doctor_json,
    edit_settings,
    set_up,
    settings_path,
)
from tests.rig.sandbox import Result, Sandbox
from tests.rig.workspace import FakeWorkspace


def uninstall(sandbox: Sandbox, *args: str, **kw: Any) -> Result:
    return sandbox.run_here(["dbx-fmapi", "uninstall", *args], **kw)


def snap(sandbox: Sandbox) -> dict[str, bytes]:
    return sandbox.snapshot(exclude=VOLATILE)


@pytest.fixture
def logged_in(sandbox: Sandbox, workspace: FakeWorkspace) -> Sandbox:
    sandbox.signed_in(workspace)
    return sandbox


def test_setup_then_uninstall_leaves_the_users_files_byte_identical(
    logged_in: Sandbox, workspace: FakeWorkspace
) -> None:
    sandbox = logged_in
    seed_user_files(sandbox)
    before = snap(sandbox)
    databrickscfg = (sandbox.home / ".databrickscfg").read_bytes()

    set_up(sandbox, workspace)
    changed = snap(sandbox)
    for name in (".claude/settings.json", ".bashrc", ".claude.json"):
        assert changed[name] != before[name], name
    data = json.loads(changed[".claude/settings.json"])
    assert data["env"]["FOO"] == "bar" and data["permissions"] == {"allow": ["Bash(ls:*)"]}
    assert data["apiKeyHelper"] != "~/bin/my-key-helper"

    result = uninstall(sandbox, "--yes")
    assert result.code == 0, result
    assert snap(sandbox) == before
    # The Databricks profile and the CLI's login stay.
    assert (sandbox.home / ".databrickscfg").read_bytes() == databrickscfg
    assert workspace.token_state(sandbox.cached_token()) == "valid"
    assert not (sandbox.home / ".config" / "dbx-fmapi-claude").exists()
    assert "Databricks CLI profile" in result.stdout


def test_uninstall_twice_is_harmless(logged_in: Sandbox, workspace: FakeWorkspace) -> None:
    sandbox = logged_in
    seed_user_files(sandbox)
    before = snap(sandbox)
    set_up(sandbox, workspace)
    assert uninstall(sandbox, "--yes").code == 0
    again = uninstall(sandbox, "--yes")
    assert again.code == 0, again
    assert "Nothing to remove" in again.stdout
    assert snap(sandbox) == before
    # Without --yes and without a terminal, nothing to do is still not an error.
    assert uninstall(sandbox).code == 0


def test_from_an_empty_home_nothing_of_ours_is_left(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    set_up(sandbox, workspace)  # logs in, then creates settings, ~/.claude.json, ~/.bashrc
    assert uninstall(sandbox, "--yes").code == 0
    assert set(snap(sandbox)) == {".databrickscfg"}
    assert not (sandbox.home / ".claude").exists()


def test_static_mode_restores_bytes_and_mode(logged_in: Sandbox, workspace: FakeWorkspace) -> None:
    sandbox = logged_in
    seed_user_files(sandbox)
    settings_path(sandbox).chmod(0o644)
    before = snap(sandbox)
    set_up(sandbox, workspace, "--token-mode", "static")
    assert stat.S_IMODE(os.stat(settings_path(sandbox)).st_mode) == 0o600
    assert uninstall(sandbox, "--yes").code == 0
    assert snap(sandbox) == before
    assert stat.S_IMODE(os.stat(settings_path(sandbox)).st_mode) == 0o644


def test_zsh_and_fish(logged_in: Sandbox, workspace: FakeWorkspace) -> None:
    sandbox = logged_in
    (sandbox.home / ".zshrc").write_bytes(b"setopt autocd\nbindkey -e")  # no final newline
    before = snap(sandbox)
    set_up(sandbox, workspace, "--shell", "zsh")
    assert b"dbx-fmapi-claude" in (sandbox.home / ".zshrc").read_bytes()
    set_up(sandbox, workspace, "--shell", "fish")
    fish = sandbox.home / ".config" / "fish" / "functions" / "dbx-fmapi-claude.fish"
    assert fish.exists()
    assert uninstall(sandbox, "--yes").code == 0
    assert snap(sandbox) == before
    assert not fish.exists()


def test_zdotdir_gets_the_zsh_block_and_every_command_finds_it_there(
    logged_in: Sandbox, workspace: FakeWorkspace
) -> None:
    """zsh reads $ZDOTDIR/.zshrc when ZDOTDIR is set: setup writes the block there, and status,
    doctor and uninstall find it there (with or without ZDOTDIR in their own environment)."""
    sandbox = logged_in
    zdot = sandbox.home / ".zsh"
    zdot.mkdir()
    rc = zdot / ".zshrc"
    rc.write_bytes(b"setopt autocd\n")
    before = snap(sandbox)
    env = {"ZDOTDIR": str(zdot)}
    set_up(sandbox, workspace, "--shell", "zsh", env=env)
    assert b"# >>> dbx-fmapi-claude >>>" in rc.read_bytes()
    assert not (sandbox.home / ".zshrc").exists()
    assert config_of(sandbox)["rc_file"] == str(rc)
    for run_env in (env, {"ZDOTDIR": None}):
        status = sandbox.run_here(["dbx-fmapi", "status", "--json"], env=run_env)
        assert status.code == 0, status
        assert json.loads(status.stdout)["shell"] == {
            "name": "zsh",
            "rc_file": str(rc),
            "block": True,
        }
        _, report = doctor_json(sandbox, env=run_env)
        shell = checks_by_id(report)["shell"]
        assert shell["status"] == "PASS" and str(rc) in shell["detail"], shell
    assert uninstall(sandbox, "--yes", env=env).code == 0
    assert snap(sandbox) == before
    # Without the record (lost or damaged), uninstall still looks in $ZDOTDIR.
    set_up(sandbox, workspace, "--shell", "zsh", env=env)
    (sandbox.home / ".config/dbx-fmapi-claude/config.json").unlink()
    assert uninstall(sandbox, "--yes", env=env).code == 0
    assert rc.read_bytes() == b"setopt autocd\n"


def test_keeps_what_changed_since_setup(logged_in: Sandbox, workspace: FakeWorkspace) -> None:
    sandbox = logged_in
    seed_user_files(sandbox)
    set_up(sandbox, workspace)
    # After setup the user adds a setting, Claude Code rewrites ~/.claude.json, and a line is
    # appended to ~/.bashrc.
    edit_settings(sandbox, includeCoAuthoredBy=False, env={"BAR": "baz"})
    cj = sandbox.home / ".claude.json"
    data = json.loads(cj.read_text())
    data["numStartups"] = 13
    cj.write_text(json.dumps(data, indent=2))
    with open(sandbox.home / ".bashrc", "ab") as fh:
        fh.write(b"export EDITOR=vim\n")

    assert uninstall(sandbox, "--yes").code == 0
    settings = json.loads(settings_path(sandbox).read_text())
    want = json.loads(USER_SETTINGS)
    want["includeCoAuthoredBy"] = False
    want["env"]["BAR"] = "baz"
    assert settings == want  # our keys gone, ANTHROPIC_MODEL and apiKeyHelper restored
    expected_cj = json.loads(USER_CLAUDE_JSON)
    expected_cj["numStartups"] = 13
    # Only our member is cut out of Claude Code's file; every other byte stays.
    assert cj.read_text() == json.dumps(expected_cj, indent=2)
    rc = (sandbox.home / ".bashrc").read_bytes()
    assert b"dbx-fmapi-claude" not in rc
    assert rc.startswith(USER_BASHRC) and rc.endswith(b"export EDITOR=vim\n")


def test_needs_yes_without_a_terminal(logged_in: Sandbox, workspace: FakeWorkspace) -> None:
    sandbox = logged_in
    set_up(sandbox, workspace)
    before = snap(sandbox)
    result = uninstall(sandbox)
    assert result.code == 2, result
    assert "no terminal to ask on" in result.stderr
    assert "fix: dbx-fmapi uninstall --yes" in result.stderr
    assert snap(sandbox) == before


def test_dry_run_shows_the_diff_and_writes_nothing(
    logged_in: Sandbox, workspace: FakeWorkspace
) -> None:
    sandbox = logged_in
    seed_user_files(sandbox)
    set_up(sandbox, workspace, "--token-mode", "static")
    token = json.loads(settings_path(sandbox).read_text())["env"]["ANTHROPIC_AUTH_TOKEN"]
    before = snap(sandbox)
    result = uninstall(sandbox, "--dry-run")
    assert result.code == 0, result
    assert snap(sandbox) == before
    out = result.stdout
    assert f"--- {settings_path(sandbox)}" in out
    assert '-    "ANTHROPIC_BASE_URL"' in out or '-  "env"' in out
    assert "-# >>> dbx-fmapi-claude >>>" in out
    assert '-  "hasCompletedOnboarding": true,' in out
    assert "config.json" in out and "Dry run: nothing was written." in out
    assert token not in result.output and '"ANTHROPIC_AUTH_TOKEN": "<redacted>"' in out


def test_dry_run_never_shows_a_key_of_the_users(
    logged_in: Sandbox, workspace: FakeWorkspace
) -> None:
    sandbox = logged_in
    set_up(sandbox, workspace)
    key = "sk-ant-api03-personal-key-never-shown-0123456789"
    edit_settings(sandbox, env={"ANTHROPIC_API_KEY": key, "OTHER_TOKEN": "plain-words-but-secret"})
    result = uninstall(sandbox, "--dry-run")
    assert result.code == 0, result
    assert '"ANTHROPIC_API_KEY": "<redacted>"' in result.stdout
    assert '"OTHER_TOKEN": "<redacted>"' in result.stdout
    assert key not in result.output and "plain-words-but-secret" not in result.output


def test_asks_on_a_terminal(logged_in: Sandbox, workspace: FakeWorkspace) -> None:
    pexpect = pytest.importorskip("pexpect")
    sandbox = logged_in
    seed_user_files(sandbox)
    before = snap(sandbox)
    set_up(sandbox, workspace)
    after_setup = snap(sandbox)

    def answer(reply: str) -> tuple[int, str]:
        child = pexpect.spawn(
            "dbx-fmapi", ["uninstall"], env=sandbox.env, cwd=str(sandbox.home), encoding="utf-8"
        )
        child.expect_exact("Proceed? [y/N]", timeout=60)
        text = child.before or ""
        child.sendline(reply)
        child.expect(pexpect.EOF, timeout=60)
        child.close()
        return int(child.exitstatus), text + (child.before or "")

    code, text = answer("n")
    assert code == 2 and "Cancelled" in text and "~/.bashrc" in text
    assert snap(sandbox) == after_setup
    code, text = answer("y")
    assert code == 0 and "Done" in text
    assert snap(sandbox) == before


def test_ctrl_c_at_the_question_cancels_even_when_started_with_sigint_ignored(
    logged_in: Sandbox, workspace: FakeWorkspace
) -> None:
    """A background job of a script inherits SIGINT ignored; at our question Ctrl-C must still
    cancel (the terminal used to echo ^C and wait for ever)."""
    import signal

    pexpect = pytest.importorskip("pexpect")
    sandbox = logged_in
    set_up(sandbox, workspace)
    after_setup = snap(sandbox)
    child = pexpect.spawn(
        "dbx-fmapi",
        ["uninstall"],
        env=sandbox.env,
        cwd=str(sandbox.home),
        encoding="utf-8",
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    try:
        child.expect_exact("Proceed? [y/N]", timeout=60)
        child.sendintr()
        child.expect(pexpect.EOF, timeout=60)
    finally:
        child.close(force=True)
    assert child.exitstatus == 130, child.before
    assert "interrupted; nothing was changed" in (child.before or "")
    assert snap(sandbox) == after_setup


def test_corrupt_settings_change_nothing(logged_in: Sandbox, workspace: FakeWorkspace) -> None:
    sandbox = logged_in
    set_up(sandbox, workspace)
    settings_path(sandbox).write_text('{"env": ')
    before = snap(sandbox)
    result = uninstall(sandbox, "--yes")
    assert result.code == 1, result
    assert "not valid JSON" in result.stderr and "nothing was changed" in result.stderr
    assert "fix: repair it" in result.stderr
    assert snap(sandbox) == before


def test_project_settings_location(logged_in: Sandbox, workspace: FakeWorkspace) -> None:
    sandbox = logged_in
    project = sandbox.home / "repo"
    (project / ".claude").mkdir(parents=True)
    (project / ".claude" / "settings.json").write_bytes(b'{"model": "x"}\n')
    before = snap(sandbox)
    set_up(sandbox, workspace, "--settings-location", "cwd", cwd=project)
    assert config_of(sandbox)["settings_file"] == str(project / ".claude" / "settings.json")
    result = uninstall(sandbox, "--yes", cwd=sandbox.home)
    assert result.code == 0, result
    assert snap(sandbox) == before


def test_a_new_project_settings_file_and_folder_go(
    logged_in: Sandbox, workspace: FakeWorkspace
) -> None:
    sandbox = logged_in
    project = sandbox.home / "repo"
    project.mkdir()
    set_up(sandbox, workspace, "--settings-location", str(project))
    assert (project / ".claude" / "settings.json").exists()
    assert uninstall(sandbox, "--yes").code == 0
    assert not (project / ".claude").exists()
    assert project.is_dir()


def test_a_symlinked_settings_file_stays_a_link(
    logged_in: Sandbox, workspace: FakeWorkspace
) -> None:
    sandbox = logged_in
    dotfiles = sandbox.home / "dotfiles"
    dotfiles.mkdir()
    (dotfiles / "claude-settings.json").write_bytes(USER_SETTINGS)
    (sandbox.home / ".claude").mkdir()
    settings_path(sandbox).symlink_to(dotfiles / "claude-settings.json")
    before = snap(sandbox)
    set_up(sandbox, workspace)
    assert settings_path(sandbox).is_symlink()
    assert uninstall(sandbox, "--yes").code == 0
    assert settings_path(sandbox).is_symlink()
    assert snap(sandbox) == before


def test_without_a_setup_record_only_marked_blocks_go(sandbox: Sandbox) -> None:
    rc = sandbox.home / ".bashrc"
    rc.write_bytes(
        USER_BASHRC + b"\n# >>> dbx-fmapi-claude >>>\nfoo() { :; }\n# <<< dbx-fmapi-claude <<<\n"
    )
    (sandbox.home / ".claude").mkdir()
    settings_path(sandbox).write_bytes(USER_SETTINGS)
    assert uninstall(sandbox, "--yes").code == 0
    assert rc.read_bytes() == USER_BASHRC
    assert settings_path(sandbox).read_bytes() == USER_SETTINGS


@pytest.mark.e2e
def test_after_claude_has_run_only_our_flag_leaves_claude_json(
    logged_in: Sandbox, workspace: FakeWorkspace, claude_bin: str
) -> None:
    sandbox = logged_in
    seed_user_files(sandbox)
    before = snap(sandbox)
    set_up(sandbox, workspace)
    ran = sandbox.run(["claude", "-p", "hi"], env={"CLAUDE_CODE_MAX_RETRIES": "0"}, timeout=120)
    assert ran.code == 0, ran
    cj = sandbox.home / ".claude.json"
    written_by_claude = json.loads(cj.read_text())
    assert written_by_claude.get("hasCompletedOnboarding") is True

    assert uninstall(sandbox, "--yes").code == 0
    after = snap(sandbox)
    for name in (".claude/settings.json", ".bashrc"):
        assert after[name] == before[name], name
    expected = {k: v for k, v in written_by_claude.items() if k != "hasCompletedOnboarding"}
    assert json.loads(cj.read_text()) == expected
