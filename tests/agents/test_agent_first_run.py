"""The agents' own first-run checks under `dbx-fmapi run`, with the real Gemini CLI and Codex
(issue 19): Gemini CLI runs a prompt only in a folder it trusts (exit 55) and `codex exec` only in
a git repository. Without a terminal `run` keeps the agent's exit status and says how to go on;
on a terminal it asks, and with a yes runs it again with the agent's own flag."""

from __future__ import annotations

import json

import pexpect
import pytest

from tests.helpers.agent_users import CODEX_USER, gemini_env
from tests.helpers.agent_versions import real_after
from tests.helpers.mgmt import set_up
from tests.rig.agents import Agents, gemini_settings
from tests.rig.sandbox import Sandbox
from tests.rig.workspace import FakeWorkspace

pytestmark = pytest.mark.e2e


def untrusting_gemini(agents: Agents) -> dict[str, str | None]:
    """The rig's Gemini settings with folder trust as a new user has it (on)."""
    settings = gemini_settings()
    del settings["security"]["folderTrust"]
    path = agents.gemini_home / ".gemini" / "settings.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(settings))
    return gemini_env(agents)


def test_gemini_in_an_untrusted_folder_says_how_to_go_on_and_on_a_terminal_asks(
    sandbox: Sandbox, workspace: FakeWorkspace, agents: Agents, gemini_bin: str
) -> None:
    """One setup (each Gemini CLI start costs seconds of CPU): without a terminal the refusal
    says how to go on and the fix works; on a terminal `run` asks, and runs it once with a yes
    (the fix runs it this once only: the next run is refused again)."""
    env = untrusting_gemini(agents)
    with real_after(sandbox, gemini=gemini_bin):  # setup only asks its --version
        set_up(sandbox, workspace, "--agents", "claude,gemini", env=env)
    workspace.reply_text = "pong"
    run = ["dbx-fmapi", "run", "gemini", "-p", "say hi"]
    refused = sandbox.run(run, env=env, cwd=agents.project, timeout=120)
    assert refused.code == 55, refused  # the agent's own status
    assert "not running in a trusted directory" in refused.stderr
    assert "Gemini CLI does not trust this folder" in refused.stderr
    assert "fix: dbx-fmapi run gemini --skip-trust -p 'say hi'" in refused.stderr
    assert not [r for r in workspace.log if "GenerateContent" in r.path]
    # the fix, as printed, works
    fixed = sandbox.run(
        ["dbx-fmapi", "run", "gemini", "--skip-trust", "-p", "say hi"],
        env=env,
        cwd=agents.project,
        timeout=120,
    )
    assert fixed.code == 0 and fixed.stdout.strip() == "pong", ("the printed fix", fixed)

    # On a terminal: asked, and run once with a yes.
    full = sandbox._env(env)
    child = pexpect.spawn(
        str(sandbox.bin / "dbx-fmapi"),
        ["run", "gemini", "-p", "say hi"],
        env=dict(full, TERM="dumb", NO_COLOR="1"),
        cwd=str(agents.project),
        encoding="utf-8",
        timeout=120,
    )
    try:
        child.expect_exact("Run it here this once (--skip-trust)? [y/N]")
        child.sendline("y")
        child.expect_exact("pong")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0, "on a terminal, with a yes"


def test_codex_exec_outside_git_says_how_to_go_on(
    sandbox: Sandbox, workspace: FakeWorkspace, agents: Agents, codex_bin: str
) -> None:
    sandbox.link_program("codex", codex_bin)
    agents.write_codex_config(CODEX_USER)
    env = agents.codex_env()
    set_up(sandbox, workspace, "--agents", "claude,codex", env=env)
    workspace.reply_text = "pong"
    refused = sandbox.run(
        ["dbx-fmapi", "run", "codex", "exec", "say hi"], env=env, cwd=agents.project, timeout=120
    )
    assert refused.code == 1, refused
    assert "--skip-git-repo-check was not specified" in refused.stderr
    assert "Codex does not trust this folder" in refused.stderr
    assert "fix: dbx-fmapi run codex exec --skip-git-repo-check 'say hi'" in refused.stderr
    fixed = sandbox.run(
        ["dbx-fmapi", "run", "codex", "exec", "--skip-git-repo-check", "say hi"],
        env=env,
        cwd=agents.project,
        timeout=120,
    )
    assert fixed.code == 0 and "pong" in fixed.stdout, fixed
