"""Setup installs a chosen agent that is missing, from npm, only when allowed: against a fake `npm`
that records what it was asked (a test never installs anything globally) and, when it succeeds,
puts the pinned real Codex in place the way `npm install -g` would. A failed or impossible install
prints the manual command and changes no file; --skip-install configures the agent anyway and
says how to install it."""

from __future__ import annotations

import os
import shlex

import pytest

from tests.helpers.mgmt import VOLATILE
from tests.rig.sandbox import Result, Sandbox
from tests.rig.workspace import FakeWorkspace

NPM_CODEX = ["install", "-g", "@openai/codex@0.171.0"]


@pytest.fixture(autouse=True)
def _no_real_installers(sandbox: Sandbox, workspace: FakeWorkspace) -> None:
    for name in ("curl", "brew", "npm"):
        sandbox.fake_program(name, "exit 1")
    assert sandbox.which("codex") is None  # the agent is missing to begin with
    sandbox.signed_in(workspace)


def _setup(sandbox: Sandbox, workspace: FakeWorkspace, *args: str, install: bool = True) -> Result:
    """Setup with Codex chosen; --install (the yes a global install needs) unless told."""
    argv = ["setup-fmapi-claudecode", "--host", workspace.url, "--shell", "none", "--no-verify"]
    if install and "--skip-install" not in args:
        argv.append("--install")
    return sandbox.run([*argv, "--agents", "claude,codex", *args], timeout=180)


def test_a_missing_agent_is_installed_from_npm(
    sandbox: Sandbox, workspace: FakeWorkspace, codex_bin: str
) -> None:
    target = shlex.quote(str(sandbox.bin / "codex"))
    sandbox.fake_program("npm", f"ln -s {shlex.quote(codex_bin)} {target}")
    result = _setup(sandbox, workspace)
    assert result.code == 0, result
    assert sandbox.calls("npm") == [NPM_CODEX]
    assert "running: npm install -g @openai/codex@0.171.0" in result.stderr
    assert f"ok    Codex: {sandbox.bin / 'codex'}" in result.stdout
    assert (sandbox.home / ".codex/config.toml").exists()


@pytest.mark.parametrize("npm", ["fails", "is missing"])
def test_an_install_that_cannot_be_done_names_the_command_and_changes_nothing(
    sandbox: Sandbox, workspace: FakeWorkspace, npm: str
) -> None:
    if npm == "fails":
        sandbox.fake_program("npm", "echo 'npm ERR! EACCES' >&2; exit 243")
    else:
        sandbox.remove("npm")
        assert sandbox.which("npm") is None
    before = sandbox.snapshot(exclude=VOLATILE)
    result = _setup(sandbox, workspace)
    assert result.code == 1, result
    if npm == "fails":
        assert sandbox.calls("npm") == [NPM_CODEX]
        assert (
            "could not install Codex (npm install -g @openai/codex@0.171.0 failed); nothing "
            in (result.stderr)
        )
        assert "fix: install it by hand, then re-run setup: npm install -g @openai/codex@0" in (
            result.stderr
        )
    else:
        assert "error: cannot install Codex: npm is not installed" in result.stderr
        assert "fix: install Node.js (which brings npm), then: npm install -g @openai/codex" in (
            result.stderr
        )
        assert "--agents claude" in result.stderr
    assert "Traceback" not in result.output
    assert sandbox.snapshot(exclude=VOLATILE) == before


def test_skip_install_configures_the_agent_and_says_how_to_install_it(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    result = _setup(sandbox, workspace, "--skip-install")
    assert result.code == 0, result
    assert sandbox.calls("npm") == []
    assert (
        "Codex is not installed; setup configures it anyway. Install it: "
        "npm install -g @openai/codex@0.171.0"
    ) in result.stderr
    assert (sandbox.home / ".codex/config.toml").exists()
    assert not os.path.lexists(sandbox.bin / "codex")


def test_without_a_yes_nothing_is_installed_globally_and_setup_says_one_thing(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    """A non-interactive re-run with agents configured but not on PATH (issue 19): no npm -g
    without --install or a Yes at a prompt; one warning per agent, naming the flag."""
    agents = "claude,codex,gemini,opencode"
    argv = ["setup-fmapi-claudecode", "--host", workspace.url, "--shell", "none", "--no-verify"]
    first = sandbox.run([*argv, "--agents", agents, "--skip-install"], timeout=180)
    assert first.code == 0, first
    again = sandbox.run(argv, timeout=180)  # stdin is not a terminal, no flag
    assert again.code == 0, again
    assert sandbox.calls("npm") == [] and sandbox.calls("curl") == []
    assert "running:" not in again.stderr
    for label, package in (
        ("Codex", "@openai/codex@0.171.0"),
        ("Gemini CLI", "@google/gemini-cli@0.61.0"),
        ("OpenCode", "opencode-ai@1.18.33"),
    ):
        line = (
            f"{label} is not installed; setup configures it anyway. Install it: npm install -g "
            f"{package}   (or let setup do it: setup-fmapi-claudecode --install)"
        )
        assert again.stderr.count(line) == 1, again.stderr
    # --yes is not a yes to global installs either
    yes = sandbox.run([*argv, "--yes"], timeout=180)
    assert yes.code == 0 and sandbox.calls("npm") == [], yes
