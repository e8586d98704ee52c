"""Setup's dependency step against fake `curl`, `npm` and `brew` that record what they were asked:
each tool installed only when missing, with the platform's installer, and a failure that prints the
manual command and changes nothing."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from tests.rig.sandbox import Result, Sandbox
from tests.rig.workspace import FakeWorkspace

CLAUDE_URL = "https://claude.ai/install.sh"
CLI_URL = "https://raw.githubusercontent.com/databricks/setup-cli/v0.298.0/install.sh"
FAKE_CLAUDE = "#!/bin/sh\necho 'fake claude 1.0'\n"


@pytest.fixture(autouse=True)
def _no_real_installers(sandbox: Sandbox) -> None:
    """Never run a real installer from a test: curl, npm and brew are failing fakes unless a
    test replaces them, and claude is a fake when the real one is not linked."""
    for name in ("curl", "npm", "brew"):
        sandbox.fake_program(name, "exit 1")
    if sandbox.which("claude") is None:
        sandbox.fake_program("claude", FAKE_CLAUDE)


def run_setup(sandbox: Sandbox, *args: str, env: dict[str, str | None] | None = None) -> Result:
    """Setup with --install (the yes a global install needs without a terminal)."""
    return sandbox.run(["setup-fmapi-claudecode", "--install", *args], env=env, timeout=60)


def missing_tools(sandbox: Sandbox, tmp: Path) -> tuple[Path, Path]:
    """Take claude and databricks off PATH; return (a fake claude, the databricks CLI: the
    sandbox's logging shim of the real one) to copy into place the way an installer would."""
    sandbox.remove("claude")
    sandbox.remove("databricks")
    stash = tmp / "stash"
    stash.mkdir()
    claude = stash / "claude"
    claude.write_text(FAKE_CLAUDE)
    claude.chmod(0o755)
    return claude, sandbox.write_cli(stash / "databricks")


def curl_serving(sandbox: Sandbox, claude: Path | None, databricks: Path | None) -> None:
    """A fake curl whose install scripts put the tools in place (or fail for a None)."""
    home_bin = '"$HOME/.local/bin"'
    claude_script = (
        f"mkdir -p {home_bin} && cp {shlex.quote(str(claude))} {home_bin}/claude"
        if claude
        else "exit 1"
    )
    cli_script = (
        f"cp {shlex.quote(str(databricks))} {shlex.quote(str(sandbox.bin / 'databricks'))}"
        if databricks
        else "exit 1"
    )
    sandbox.fake_program(
        "curl",
        f"""
case "$*" in
  *claude.ai/install.sh*) {"echo " + shlex.quote(claude_script) if claude else "exit 22"} ;;
  *setup-cli*) {"echo " + shlex.quote(cli_script) if databricks else "exit 22"} ;;
  *) exit 22 ;;
esac
""",
    )


def test_linux_installs_both_with_the_curl_installers(
    sandbox: Sandbox, workspace: FakeWorkspace, tmp_path: Path
) -> None:
    claude, databricks = missing_tools(sandbox, tmp_path)
    curl_serving(sandbox, claude, databricks)
    sandbox.fake_program("npm", "exit 1")
    result = run_setup(sandbox, "--host", workspace.url)
    assert result.code == 0, result
    assert sandbox.calls("curl") == [["-fsSL", CLAUDE_URL], ["-fsSL", CLI_URL]]
    assert sandbox.calls("npm") == []
    assert (sandbox.home / ".local/bin/claude").exists()
    assert "Claude Code: installed" in result.stdout
    assert "Databricks CLI: installed" in result.stdout
    assert (sandbox.home / ".claude" / "settings.json").exists()


def test_claude_code_falls_back_to_npm(
    sandbox: Sandbox, workspace: FakeWorkspace, tmp_path: Path
) -> None:
    claude, _ = missing_tools(sandbox, tmp_path)
    curl_serving(sandbox, None, None)
    sandbox.fake_program("npm", f"cp {shlex.quote(str(claude))} {shlex.quote(str(sandbox.bin))}/")
    # The CLI is present here: only Claude Code is missing.
    sandbox.write_cli(sandbox.bin / "databricks")
    result = run_setup(sandbox, "--host", workspace.url)
    assert result.code == 0, result
    assert sandbox.calls("curl") == [["-fsSL", CLAUDE_URL]]
    assert sandbox.calls("npm") == [["install", "-g", "@anthropic-ai/claude-code@2.1.332"]]


def test_failed_installs_print_the_manual_commands_and_change_nothing(
    sandbox: Sandbox, workspace: FakeWorkspace, tmp_path: Path
) -> None:
    missing_tools(sandbox, tmp_path)
    curl_serving(sandbox, None, None)
    sandbox.fake_program("npm", "echo 'npm ERR! EACCES' >&2; exit 243")
    (sandbox.home / ".bashrc").write_text("export A=1\n")
    before = sandbox.snapshot()
    result = run_setup(sandbox, "--host", workspace.url)
    assert result.code == 1, result
    assert "could not install Claude Code" in result.stderr
    assert (
        f"fix: install it by hand, then re-run setup: curl -fsSL {CLAUDE_URL} | bash -s -- 2.1.332"
        in (result.stderr)
    )
    assert "npm install -g @anthropic-ai/claude-code@2.1.332" in result.stderr
    assert sandbox.snapshot() == before


def test_failed_cli_install_prints_the_manual_command(
    sandbox: Sandbox, workspace: FakeWorkspace, tmp_path: Path
) -> None:
    claude, _ = missing_tools(sandbox, tmp_path)
    curl_serving(sandbox, claude, None)
    before = sandbox.snapshot(exclude=[".local/bin/claude"])
    result = run_setup(sandbox, "--host", workspace.url)
    assert result.code == 1, result
    assert "could not install the Databricks CLI" in result.stderr
    assert f"curl -fsSL {CLI_URL} |" in result.stderr
    assert sandbox.snapshot(exclude=[".local/bin/claude", ".local/bin"]) == before


def test_macos_installs_the_cli_with_homebrew(
    sandbox: Sandbox, workspace: FakeWorkspace, tmp_path: Path
) -> None:
    claude, databricks = missing_tools(sandbox, tmp_path)
    curl_serving(sandbox, claude, None)
    sandbox.fake_program(
        "brew",
        f'[ "$1" = install ] && cp {shlex.quote(str(databricks))} '
        f"{shlex.quote(str(sandbox.bin / 'databricks'))}\nexit 0",
    )
    result = run_setup(sandbox, "--host", workspace.url, env={"DBX_FMAPI_PLATFORM": "darwin"})
    assert result.code == 0, result
    assert sandbox.calls("brew") == [["tap", "databricks/tap"], ["install", "databricks"]]
    assert sandbox.calls("curl") == [["-fsSL", CLAUDE_URL]]  # not the Linux CLI installer


def test_macos_without_homebrew_names_the_homebrew_installer(
    sandbox: Sandbox, workspace: FakeWorkspace, tmp_path: Path
) -> None:
    sandbox.remove("databricks")
    sandbox.remove("brew")
    before = sandbox.snapshot()
    result = run_setup(sandbox, "--host", workspace.url, env={"DBX_FMAPI_PLATFORM": "darwin"})
    assert result.code == 1, result
    assert "Homebrew (`brew`) is not installed" in result.stderr
    assert "Homebrew/install/HEAD/install.sh" in result.stderr
    assert sandbox.snapshot() == before


def test_present_tools_are_not_reinstalled(sandbox: Sandbox, workspace: FakeWorkspace) -> None:
    result = run_setup(sandbox, "--host", workspace.url)
    assert result.code == 0, result
    assert "ok    Claude Code:" in result.stdout and "ok    Databricks CLI:" in result.stdout
    for name in ("curl", "npm", "brew"):
        assert sandbox.calls(name) == []


def test_dry_run_and_skip_install_install_nothing(
    sandbox: Sandbox, workspace: FakeWorkspace, tmp_path: Path
) -> None:
    sandbox.remove("claude")
    sandbox.signed_in(workspace)
    result = run_setup(sandbox, "--host", workspace.url, "--dry-run")
    assert result.code == 0, result
    assert f"would install Claude Code: curl -fsSL {CLAUDE_URL} | bash -s -- 2.1.332" in (
        result.stdout
    )
    result = sandbox.run_here(["setup-fmapi-claudecode", "--host", workspace.url, "--skip-install"])
    assert result.code == 0, result
    assert "Claude Code is not installed" in result.stderr
    for name in ("curl", "npm", "brew"):
        assert sandbox.calls(name) == []


def test_without_a_yes_no_installer_runs(
    sandbox: Sandbox, workspace: FakeWorkspace, tmp_path: Path
) -> None:
    """No terminal and no --install (issue 25): no vendor's curl | bash; Claude Code missing is
    one warning and the files are written; a missing CLI stops with the flag and the command."""
    sandbox.remove("claude")
    sandbox.signed_in(workspace)
    plain = sandbox.run_here(["setup-fmapi-claudecode", "--host", workspace.url, "--shell", "none"])
    assert plain.code == 0, plain
    for name in ("curl", "npm", "brew"):
        assert sandbox.calls(name) == []
    assert plain.stderr.count("Claude Code is not installed; setup configures it anyway.") == 1
    assert "(or let setup do it: setup-fmapi-claudecode --install)" in plain.stderr
    sandbox.remove("databricks")
    before = sandbox.snapshot()
    argv = ["setup-fmapi-claudecode", "--host", workspace.url, "--shell", "none"]
    no_cli = sandbox.run_here(argv)
    assert no_cli.code != 0, no_cli
    assert "the Databricks CLI (`databricks`) is not installed" in no_cli.stderr
    assert "fix: let setup install it: setup-fmapi-claudecode --install" in no_cli.stderr
    assert f"curl -fsSL {CLI_URL} | sh" in no_cli.stderr
    assert sandbox.calls("curl") == []
    assert sandbox.snapshot() == before


def test_on_a_terminal_setup_asks_before_installing(
    sandbox: Sandbox, workspace: FakeWorkspace, tmp_path: Path
) -> None:
    import pexpect

    claude, _ = missing_tools(sandbox, tmp_path)
    sandbox.write_cli(sandbox.bin / "databricks")
    curl_serving(sandbox, claude, None)
    sandbox.signed_in(workspace)
    argv = ["--host", workspace.url, "--shell", "none", "--no-verify"]
    child = pexpect.spawn(
        str(sandbox.bin / "setup-fmapi-claudecode"),
        argv,
        env=dict(sandbox.env, TERM="dumb", NO_COLOR="1"),
        cwd=str(sandbox.home),
        encoding="utf-8",
        timeout=60,
    )
    try:
        child.expect_exact(
            f"Claude Code is not installed. Install it now (curl -fsSL {CLAUDE_URL} | bash -s -- "
            "2.1.332)? [Y/n]"
        )
        child.sendline("n")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
    assert sandbox.calls("curl") == []
    child = pexpect.spawn(
        str(sandbox.bin / "setup-fmapi-claudecode"),
        argv,
        env=dict(sandbox.env, TERM="dumb", NO_COLOR="1"),
        cwd=str(sandbox.home),
        encoding="utf-8",
        timeout=60,
    )
    try:
        child.expect_exact("Install it now")
        child.sendline("")  # Enter: yes
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
    assert sandbox.calls("curl") == [["-fsSL", CLAUDE_URL]]
    assert (sandbox.home / ".local/bin/claude").exists()
