"""Issue 19, item 1, for Codex (its `auth.command` runs `dbx-fmapi token`) and a proxied agent
(`dbx-fmapi run gemini`): after the workspace revoked or rotated the token, the next run
succeeds with a new one, with the real agents and the real Databricks CLI."""

from __future__ import annotations

import pytest

from tests.helpers.agent_users import GPT
from tests.helpers.agent_versions import real_after
from tests.helpers.rejected import later
from tests.helpers.rejected_agents import model_statuses, set_up
from tests.helpers.replies import revoke_during_first_turn
from tests.rig.agents import Agents, NetTrap, gemini_settings
from tests.rig.sandbox import Sandbox
from tests.rig.workspace import FakeWorkspace

pytestmark = [pytest.mark.e2e]

GEMINI = "databricks-gemini-2-5-pro"
ROUTES = ["serving-endpoints", "ai-gateway"]


@pytest.mark.parametrize("route", ROUTES)
def test_codex_after_the_token_was_revoked_gets_a_new_one(
    sandbox: Sandbox,
    workspace: FakeWorkspace,
    agents: Agents,
    net_trap: NetTrap,
    codex_bin: str,
    route: str,
) -> None:
    sandbox.link_program("codex", codex_bin)
    agents.write_codex_config(
        "check_for_update_on_startup = false\n\n[analytics]\nenabled = false\n\n"
        "[feedback]\nenabled = false\n\n[features]\nplugins = false\n"
    )
    env = agents.codex_env()
    set_up(sandbox, workspace, route, env, "--agents", "claude,codex", "--codex-model", GPT)
    argv = ["codex", "exec", "--skip-git-repo-check", "hi"]
    first = sandbox.run(argv, env=env, cwd=agents.project, timeout=120)
    assert first.code == 0 and "pong" in first.stdout, first
    workspace.revoke_access_tokens()
    later()
    workspace.clear_log()

    result = sandbox.run(argv, env=env, cwd=agents.project, timeout=120)

    assert result.code == 0 and "pong" in result.stdout, result
    assert model_statuses(workspace, "/responses") == [(200, "valid")]
    assert workspace.refresh_count() == 1
    assert net_trap.hosts() == []


@pytest.mark.parametrize("route", ROUTES)
def test_gemini_through_the_proxy_a_revoked_token_is_replaced_mid_session_and_at_the_next_run(
    sandbox: Sandbox,
    workspace: FakeWorkspace,
    agents: Agents,
    net_trap: NetTrap,
    gemini_bin: str,
    route: str,
) -> None:
    """One setup, two `dbx-fmapi run gemini` runs (each Gemini CLI start costs seconds of CPU):
    mid-session, the proxy replaces a token revoked during the first turn and retries; then,
    after the workspace revoked that new token too, the next run succeeds with a new one."""
    agents.write_gemini_settings(gemini_settings())
    env = agents.gemini_env(None, "")
    for key in ("GOOGLE_GEMINI_BASE_URL", "GEMINI_API_KEY", "GEMINI_API_KEY_AUTH_MECHANISM"):
        env[key] = None  # `dbx-fmapi run gemini` sets them
    with real_after(sandbox, gemini=gemini_bin):  # setup only asks its --version
        set_up(
            sandbox, workspace, route, env, "--agents", "claude,gemini", "--gemini-model", GEMINI
        )
    call = {"name": "run_shell_command", "input": {"command": "printf 'ran-%d\\n' 7"}}
    workspace.reply = revoke_during_first_turn(workspace, call)
    workspace.clear_log()

    result = sandbox.run(
        ["dbx-fmapi", "run", "gemini", "--yolo", "-p", "go"], env=env, cwd=agents.project
    )

    assert result.code == 0 and "all done" in result.stdout, ("mid-session", result)
    bad = 400 if route == "ai-gateway" else 403
    assert model_statuses(workspace, "GenerateContent") == [
        (200, "valid"),
        (bad, "revoked"),
        (200, "valid"),
    ], "mid-session: the revoked token was not replaced and the request retried"
    assert workspace.refresh_count() == 1, "mid-session"
    assert net_trap.hosts() == []

    # The next run, after the workspace revoked the token the proxy got mid-session.
    workspace.reply = None
    workspace.revoke_access_tokens()
    later()
    workspace.clear_log()

    result = sandbox.run(
        ["dbx-fmapi", "run", "gemini", "-p", "hi"], env=env, cwd=agents.project, timeout=120
    )

    assert result.code == 0 and "pong" in result.stdout, ("the next run", result)
    assert model_statuses(workspace, "GenerateContent") == [(200, "valid")], (
        "the next run did not start with a new token"
    )
    assert workspace.refresh_count() == 1, "the next run"
    assert net_trap.hosts() == []


def test_codex_mid_session_401_runs_the_command_again_and_gets_a_new_token(
    sandbox: Sandbox,
    workspace: FakeWorkspace,
    agents: Agents,
    net_trap: NetTrap,
    codex_bin: str,
) -> None:
    """Codex 0.171.0 runs its auth command again right after a 401 and retries; the command
    (`dbx-fmapi token`) finds the token rejected and refreshes it. (After a 403 it retries
    the same token five times, after the AI Gateway's 400 it stops: no command run, so there
    the next command run, one TTL later, replaces it; docs/rejected-tokens.md.)"""
    sandbox.link_program("codex", codex_bin)
    agents.write_codex_config(
        "check_for_update_on_startup = false\n\n[analytics]\nenabled = false\n\n"
        "[feedback]\nenabled = false\n\n[features]\nplugins = false\n"
    )
    env = agents.codex_env()
    workspace.invalid_token_status = 401
    set_up(
        sandbox,
        workspace,
        "serving-endpoints",
        env,
        "--agents",
        "claude,codex",
        "--codex-model",
        GPT,
    )
    call = {"name": "exec_command", "input": {"cmd": "sleep 3 && printf 'ran-%d\\n' 7"}}
    workspace.reply = revoke_during_first_turn(workspace, call)
    workspace.clear_log()

    result = sandbox.run(
        ["codex", "exec", "--skip-git-repo-check", "--sandbox", "workspace-write", "go"],
        env=env,
        cwd=agents.project,
        timeout=300,
    )

    assert result.code == 0 and "all done" in result.stdout, result
    assert model_statuses(workspace, "/responses") == [
        (200, "valid"),
        (401, "revoked"),
        (200, "valid"),
    ]
    assert workspace.refresh_count() == 1
    assert net_trap.hosts() == []
