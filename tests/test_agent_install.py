"""Setup installs a chosen agent that is missing, from npm, only when allowed: against a fake `npm`
that records what it was asked (a test never installs anything globally) and, when it succeeds,
puts the pinned real Codex in place the way `npm install -g` would. A failed or impossible install
prints the manual command and changes no file; --skip-install configures the agent anyway and
says how to install it."""

from __future__ import annotations

import os
import shlex

import pytest

from tests.mgmt import VOLATILE
from tests.rig.sandbox import Result, Sandbox
from tests.rig.workspace import FakeWorkspace

NPM_CODEX = ["install", "-g", "@openai/codex"]


@pytest.fixture(autouse=True)
def _no_real_installers(sandbox: Sandbox, workspace: FakeWorkspace) -> None:
    for name in ("curl", "brew", "npm"):
        sandbox.fake_program(name, "exit 1")
    assert sandbox.which("codex") is None  # the agent is missing to begin with
    sandbox.login(workspace)


def _setup(sandbox: Sandbox, workspace: FakeWorkspace, *args: str) -> Result:
    argv = ["setup-fmapi-claudecode", "--host", workspace.url, "--shell", "none", "--no-verify"]
    return sandbox.run([*argv, "--agents", "claude,codex", *args], timeout=180)


def test_a_missing_agent_is_installed_from_npm(
    sandbox: Sandbox, workspace: FakeWorkspace, codex_bin: str
) -> None:
    target = shlex.quote(str(sandbox.bin / "codex"))
    sandbox.fake_program("npm", f"ln -s {shlex.quote(codex_bin)} {target}")
    result = _setup(sandbox, workspace)
    assert result.code == 0, result
    assert sandbox.calls("npm") == [NPM_CODEX]
    assert "running: npm install -g @openai/codex" in result.stderr
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
        assert "could not install Codex (npm install -g @openai/codex failed); nothing was " in (
            result.stderr
        )
        assert "fix: install it by hand, then re-run setup: npm install -g @openai/codex" in (
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
        "Codex is not installed; setup configures it anyway. Install it with: "
        "npm install -g @openai/codex"
    ) in result.stderr
    assert (sandbox.home / ".codex/config.toml").exists()
    assert not os.path.lexists(sandbox.bin / "codex")
