"""A new terminal finds dbx-fmapi, dbx-fmapi-claude and setup-fmapi-claudecode (issue 12): the
bootstrap links them into ~/.local/bin, and setup puts that folder on PATH for interactive shells
(the rc block) and for login shells (bash -l reads ~/.bash_profile, ~/.bash_login or ~/.profile,
never ~/.bashrc; macOS Terminal opens a login shell per window; `zsh -l -c` skips ~/.zshrc; fish
runs no function file until the function is called). Each case starts the real shell."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.helpers.mgmt import VOLATILE
from tests.helpers.setup_runs import NAMES, bootstrap, only_our_programs
from tests.rig.sandbox import Sandbox
from tests.rig.workspace import FakeWorkspace

BEGIN = "# >>> dbx-fmapi-claude >>>"


def shell_or_skip(name: str) -> str:
    """The shell's path; skipped locally when it is not installed, a failure in CI
    (scripts/test installs tmux, zsh and fish there)."""
    found = shutil.which(name)
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{name} is not installed, and CI=true: scripts/test installs it")
        pytest.skip(f"{name} is not installed here (scripts/test installs it when it can)")
    return found


def shell_or_skip_later(name: str) -> str | None:
    """The shell's path, or None when it is not installed here (the test skips at its end,
    after the other shells); a failure in CI (scripts/test installs zsh and fish there)."""
    found = shutil.which(name)
    if found is None and os.environ.get("CI") == "true":
        pytest.fail(f"{name} is not installed, and CI=true: scripts/test installs it")
    return found


def find_all(shell: str) -> str:
    """A command for `shell` that prints where each of our programs is on PATH (the program,
    not the rc block's function of the same name)."""
    ask = {"bash": "type -P", "zsh": "whence -p", "fish": "command -s"}[shell]
    return "; ".join(f"{ask} {n}" for n in NAMES)


SHELLS = ("bash", "zsh", "fish")


def login_shells_find_everything(
    sandbox: Sandbox, workspace: FakeWorkspace, shell: str, exe: str
) -> None:
    """A new terminal of `shell` (login or not, interactive or not) finds our programs in
    ~/.local/bin and `dbx-fmapi status` answers."""
    local_bin = sandbox.home / ".local/bin"
    assert str(local_bin) not in sandbox.env["PATH"]  # a new terminal starts without it
    env = {"PS1": "", "SHELL": exe}
    # Login shells, interactive (a terminal window) or not (`zsh -l -c`, an IDE's shell).
    for flags in (["-l", "-c"], ["-l", "-i", "-c"]):
        out = sandbox.run([exe, *flags, "dbx-fmapi status"], env=env)
        assert out.code == 0, (shell, flags, out)
        assert workspace.url in out.stdout, (shell, flags, out)
        out = sandbox.run([exe, *flags, find_all(shell)], env=env)
        assert out.code == 0, (shell, flags, out)
        assert out.stdout.split("\n")[:3] == [str(local_bin / n) for n in NAMES], (flags, out)
    # An interactive shell that is not a login shell (a new tab in most Linux terminals).
    out = sandbox.run([exe, "-i", "-c", "dbx-fmapi status"], env=env)
    assert out.code == 0 and workspace.url in out.stdout, (shell, out)


def test_after_the_bootstrap_into_a_home_with_a_space_a_new_shell_of_each_kind_finds_everything(
    tmp_path: Path, workspace: FakeWorkspace, _claude_bin_path: str | None
) -> None:
    """One bootstrap (the minutes of a venv and pip) into a home with a space, a quote and
    non-ASCII, then each shell in turn: bash as the bootstrap's own --shell, zsh and fish as
    the installed setup's (the bootstrap ends by running it with the same flags). pip writes
    `#!<venv>/bin/python`, which the kernel cuts at the first space: the programs must start
    anyway, and each shell's block must put ~/.local/bin on PATH."""
    shells = {name: shell_or_skip_later(name) for name in SHELLS}
    home = tmp_path / "Jane Doe's hömé"
    sandbox = Sandbox(tmp_path / "rig root", claude_bin=_claude_bin_path, home=home)
    only_our_programs(sandbox)
    result = bootstrap(sandbox, "--host", workspace.url, "--skip-install", "--shell", "bash")
    assert result.code == 0, result
    assert "installing the package with pip" in result.stderr  # the slow step says so
    local_bin = home / ".local/bin"
    for name in NAMES:
        out = sandbox.run([str(local_bin / name), "--help"])
        assert out.code == 0, out
    data = json.loads((home / ".claude/settings.json").read_text())
    helper = sandbox.run(["/bin/sh", "-c", data["apiKeyHelper"]])
    assert helper.code == 0 and helper.stdout.strip() == sandbox.cached_token(), helper
    if sandbox.claude_bin:
        env = {"PS1": "", "CLAUDE_CODE_MAX_RETRIES": "0"}
        out = sandbox.run(["bash", "-ic", "dbx-fmapi-claude -p hi"], env=env, timeout=120)
        assert out.code == 0 and "pong" in out.stdout, out

    for shell in SHELLS:
        exe = shells[shell]
        if exe is None:
            continue
        if shell != "bash":
            setup = [str(local_bin / "setup-fmapi-claudecode"), "--host", workspace.url]
            out = sandbox.run([*setup, "--skip-install", "--shell", shell, "--no-verify"])
            assert out.code == 0, out
        login_shells_find_everything(sandbox, workspace, shell, exe)

    # Uninstall takes every block out again, the login file's too.
    out = sandbox.run([str(local_bin / "dbx-fmapi"), "uninstall", "--all", "--yes"])
    assert out.code == 0, out
    for path in home.rglob("*"):
        if path.is_file() and not path.is_relative_to(home / ".local"):
            assert BEGIN not in path.read_text(errors="replace"), path
    missing = [name for name, exe in shells.items() if exe is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed here (the others passed)")


def as_if_bootstrapped(sandbox: Sandbox) -> Path:
    """Our programs linked into ~/.local/bin, as the bootstrap leaves them (setup then points
    every block at those links), without the minutes of a real bootstrap."""
    local_bin = sandbox.home / ".local/bin"
    local_bin.mkdir(parents=True)
    for name in NAMES:
        (local_bin / name).symlink_to(os.path.realpath(sandbox.bin / name))
    return local_bin


def test_the_path_line_goes_where_each_shell_looks_and_leaves_with_the_shell(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    sandbox.signed_in(workspace)
    local_bin = as_if_bootstrapped(sandbox)
    home = sandbox.home
    mine = "# my login file\nexport EDITOR=vi\n"
    (home / ".bash_profile").write_text(mine)
    (home / ".profile").write_text("# read by sh only here\n")
    before = sandbox.snapshot(exclude=VOLATILE)
    base = ["setup-fmapi-claudecode", "--host", workspace.url, "--skip-install", "--no-verify"]

    out = sandbox.run([*base, "--shell", "bash"], timeout=120)
    assert out.code == 0, out
    assert "wrote ~/.bashrc" in out.stdout
    assert "updated ~/.bash_profile (~/.local/bin on PATH for login shells)" in out.stdout
    text = (home / ".bash_profile").read_text()
    assert text.startswith(mine) and text.count(BEGIN) == 1
    assert "dbx-fmapi-claude()" not in text  # PATH only: sh may read a login file too
    assert (home / ".profile").read_text() == "# read by sh only here\n"  # bash reads the first
    if shutil.which("bash"):
        out = sandbox.run(["bash", "-l", "-c", "command -v dbx-fmapi"])
        assert out.code == 0 and out.stdout.strip() == str(local_bin / "dbx-fmapi"), out
    again = sandbox.run([*base, "--shell", "bash"], timeout=120)
    assert again.code == 0 and "already configured" in again.stdout, again

    # Another shell: the line moves with it; a file setup created goes, the user's is restored.
    out = sandbox.run([*base, "--shell", "zsh"], timeout=120)
    assert out.code == 0, out
    assert (home / ".bash_profile").read_text() == mine
    assert BEGIN in (home / ".zshenv").read_text()
    out = sandbox.run([*base, "--shell", "fish"], timeout=120)
    assert out.code == 0, out
    assert not (home / ".zshenv").exists() and not (home / ".zshrc").exists()
    conf = home / ".config/fish/conf.d/dbx-fmapi-claude.fish"
    assert BEGIN in conf.read_text()
    out = sandbox.run([*base, "--shell", "none"], timeout=120)
    assert out.code == 0, out
    assert not conf.exists()

    out = sandbox.run([*base, "--shell", "zsh"], timeout=120)
    assert out.code == 0, out
    out = sandbox.run(["dbx-fmapi", "uninstall", "--all", "--yes"])
    assert out.code == 0, out
    assert sandbox.snapshot(exclude=VOLATILE) == before  # byte-identical, nothing left


def test_an_executable_outside_local_bin_gets_no_login_file(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    """Installed in a venv the user manages: its PATH is theirs; only the rc block is written."""
    sandbox.signed_in(workspace)
    out = sandbox.run(
        ["setup-fmapi-claudecode", "--host", workspace.url, "--skip-install", "--no-verify"],
        env={"SHELL": "/bin/zsh"},
        timeout=120,
    )
    assert out.code == 0, out
    assert (sandbox.home / ".zshrc").exists()
    assert not (sandbox.home / ".zshenv").exists()
    assert "on PATH for login shells" not in out.stdout


def test_a_bash_login_shell_finds_the_function_when_the_program_is_not_in_local_bin(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    """macOS Terminal opens bash login shells, which read ~/.bash_profile (or ~/.bash_login,
    ~/.profile), never ~/.bashrc (issue 19): with dbx-fmapi installed elsewhere (a venv of the
    user's, not ~/.local/bin) the function reaches them too; sh, which reads ~/.profile as well,
    still reads it without an error; uninstall takes it out."""
    bash = shell_or_skip("bash")
    sandbox.signed_in(workspace)
    profile = sandbox.home / ".profile"
    profile.write_text("export MY_VAR=1\n")
    before = profile.read_bytes()
    out = sandbox.run(
        ["setup-fmapi-claudecode", "--host", workspace.url, "--skip-install", "--shell", "bash"]
    )
    assert out.code == 0, out
    assert not str(sandbox.which("dbx-fmapi-claude")).startswith(str(sandbox.home / ".local"))
    env = {"PS1": "", "SHELL": bash, "PATH": "/usr/bin:/bin"}  # our programs not on PATH
    login = sandbox.run([bash, "-l", "-i", "-c", "type -t dbx-fmapi-claude"], env=env)
    assert login.code == 0 and login.stdout.strip() == "function", login
    sh = sandbox.run(["/bin/sh", "-c", ". ./.profile && echo read:$MY_VAR"], env=env)
    assert sh.code == 0 and sh.stdout.strip() == "read:1" and sh.stderr == "", sh
    un = sandbox.run(["dbx-fmapi", "uninstall", "--yes"], timeout=120)
    assert un.code == 0, un
    assert profile.read_bytes() == before
