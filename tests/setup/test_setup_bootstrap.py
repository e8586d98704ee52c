"""`bash setup-fmapi-claudecode.sh`, the seed's one command, from a HOME with nothing but python3
and the clone: an isolated environment, the executables linked into ~/.local/bin, then setup with
the same flags; a re-run upgrades in place; no package index is needed."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import sys
from pathlib import Path

from tests.helpers.mgmt import config_of
from tests.helpers.setup_runs import NAMES, bootstrap, only_our_programs
from tests.rig.sandbox import REPO_ROOT, Sandbox
from tests.rig.workspace import FakeWorkspace

# A home with a space, a quote and non-ASCII: tests/shell/test_login_shells.py bootstraps into
# one and opens each kind of new terminal there.


def test_fresh_home_installs_links_and_runs_setup_then_upgrades_in_place(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    only_our_programs(sandbox)
    result = bootstrap(sandbox, "--host", workspace.url, "--skip-install")
    assert result.code == 0, result
    venv = sandbox.home / ".local/share/dbx-fmapi-claude/venv"
    local_bin = sandbox.home / ".local/bin"
    for name in NAMES:
        link = local_bin / name
        assert link.is_symlink() and Path(os.readlink(link)) == venv / "bin" / name
    assert "Done." in result.stdout
    assert list(sandbox.tmp.glob("dbx-fmapi-build.*")) == []  # its build folder is gone

    # Setup ran from the new install and points everything at the stable ~/.local/bin links.
    data = json.loads((sandbox.home / ".claude/settings.json").read_text())
    assert shlex.split(data["apiKeyHelper"])[0] == str(local_bin / "dbx-fmapi")
    cfg = config_of(sandbox)
    assert cfg["executable"] == str(local_bin / "dbx-fmapi-claude")
    helper = sandbox.run(["/bin/sh", "-c", data["apiKeyHelper"]])
    assert helper.code == 0 and helper.stdout.strip() == sandbox.cached_token()
    out = sandbox.run(["bash", "-ic", "type dbx-fmapi-claude"], env={"PS1": ""})
    assert out.code == 0 and str(local_bin / "dbx-fmapi-claude") in out.stdout, out
    if sandbox.which("claude"):
        env = {"PS1": "", "CLAUDE_CODE_MAX_RETRIES": "0"}
        out = sandbox.run(["bash", "-ic", "dbx-fmapi-claude -p hi"], env=env, timeout=120)
        assert out.code == 0 and "pong" in out.stdout, out

    # Re-run: the same environment, upgraded in place, the same links, nothing else changes.
    installed = next(venv.glob("lib/python*/site-packages/dbx_fmapi_claude/setup/flow.py"))
    installed.write_text("# stale copy\n")
    inode = (venv / "bin" / "python").lstat().st_ino
    again = bootstrap(sandbox, "--host", workspace.url, "--skip-install")
    assert again.code == 0, again
    assert "Upgrading" in again.stderr
    assert "already configured" in again.stdout
    assert (venv / "bin" / "python").lstat().st_ino == inode
    src = REPO_ROOT / "src/dbx_fmapi_claude/setup/flow.py"
    assert installed.read_bytes() == src.read_bytes()


def test_help_and_dry_run_install_nothing(sandbox: Sandbox) -> None:
    only_our_programs(sandbox)
    result = bootstrap(sandbox, "--help")
    assert result.code == 0, result
    assert "--settings-location" in result.stdout and "--token-mode" in result.stdout
    result = bootstrap(sandbox, "--host", "https://x.example.com", "--dry-run")
    assert result.code == 0, result
    assert "dry run: would create" in result.stderr
    assert sandbox.snapshot() == {}


def test_dry_run_on_a_fresh_home_shows_setups_diff(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    """Nothing installed yet (issue 19): the dry run still shows what setup would write, with
    the executables where the install will link them, and writes nothing."""
    only_our_programs(sandbox)
    sandbox.signed_in(workspace)
    before = sandbox.snapshot()
    result = bootstrap(sandbox, "--host", workspace.url, "--skip-install", "--dry-run")
    assert result.code == 0, result
    assert "dry run: would create" in result.stderr
    settings = sandbox.home / ".claude" / "settings.json"
    assert f"+++ {settings}" in result.stdout or "settings.json" in result.stdout, result
    assert str(sandbox.home / ".local/bin/dbx-fmapi") in result.stdout  # the helper's path
    assert "apiKeyHelper" in result.stdout and "Dry run: nothing was written." in result.stdout
    assert not (sandbox.home / ".local/share/dbx-fmapi-claude").exists()
    assert sandbox.snapshot() == before


def fake_python(sandbox: Sandbox, version: str) -> None:
    """python3 on PATH answers the version checks as an old Python would."""
    for name in ("python3", "python3.10", "python3.11", "python3.12", "python3.13"):
        sandbox.remove(name)
    sandbox.fake_program(
        "python3",
        f"""case "$2" in
  *'>= (3, 10)'*) exit 1 ;;
  *print*) echo {version}; exit 0 ;;
esac
exit 1
""",
    )


def test_an_old_python_on_linux_stops_with_the_install_command(sandbox: Sandbox) -> None:
    only_our_programs(sandbox)
    fake_python(sandbox, "3.9")
    result = bootstrap(sandbox, "--host", "https://x.example.com")
    assert result.code == 1, result
    assert "Python 3.10 or newer is needed (python3 here is 3.9)" in result.stderr
    assert "fix: " in result.stderr
    if shutil.which("apt-get"):
        assert "sudo apt-get install -y python3 python3-venv" in result.stderr
    assert sandbox.snapshot() == {}


def test_an_old_python_on_macos_gets_one_from_homebrew(
    sandbox: Sandbox, workspace: FakeWorkspace, tmp_path: Path
) -> None:
    only_our_programs(sandbox)
    fake_python(sandbox, "3.9")
    sandbox.fake_program("uname", "echo Darwin\n")
    prefix = tmp_path / "brew"
    (prefix / "bin").mkdir(parents=True)
    real = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
    sandbox.fake_program(
        "brew",
        f"""case "$1" in
  --prefix) echo {shlex.quote(str(prefix))} ;;
  install) ln -sf {shlex.quote(real)} {shlex.quote(str(prefix / "bin/python3.12"))} ;;
esac
exit 0
""",
    )
    result = bootstrap(sandbox, "--host", workspace.url, "--skip-install", "--shell", "zsh")
    assert result.code == 0, result
    assert ["install", "python@3.12"] in sandbox.calls("brew")
    assert "Installing Python 3.12 with Homebrew" in result.stderr
    assert (sandbox.home / ".zshrc").exists()


def test_macos_without_homebrew_names_its_installer(sandbox: Sandbox) -> None:
    only_our_programs(sandbox)
    fake_python(sandbox, "3.9")
    sandbox.fake_program("uname", "echo Darwin\n")
    sandbox.remove("brew")  # no Homebrew at all (the sandbox has a refusing fake by default)
    result = bootstrap(sandbox, "--host", "https://x.example.com")
    assert result.code == 1, result
    assert "Homebrew (brew) is not installed" in result.stderr
    assert "Homebrew/install/HEAD/install.sh" in result.stderr
    assert sandbox.snapshot() == {}


def test_a_foreign_file_in_local_bin_is_not_replaced(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    only_our_programs(sandbox)
    mine = sandbox.home / ".local/bin/dbx-fmapi"
    mine.parent.mkdir(parents=True)
    mine.write_text("#!/bin/sh\necho mine\n")
    result = bootstrap(sandbox, "--host", workspace.url, "--skip-install")
    assert result.code == 1, result
    assert "is not a link of ours" in result.stderr
    assert mine.read_text() == "#!/bin/sh\necho mine\n"
    assert not (sandbox.home / ".claude").exists()
    assert not (sandbox.home / ".local/share").exists()  # refused before installing anything
