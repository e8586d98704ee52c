"""Issue 19, item 1, mid-session: `dbx-fmapi-claude` runs claude behind the loopback relay
(agents/claude/relayed.py), so a token the workspace rejects in the middle of a session is
replaced and the refused request sent once more before claude sees it. Without it, the AI
Gateway's `400 Invalid Token` fails the turn (Claude Code runs no helper after a 400), and
every later turn until the helper's TTL. Real Claude Code, real Databricks CLI."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers.agent_users import GPT, link
from tests.helpers.rejected import FAST, ROUTES, set_up, statuses
from tests.helpers.rejected_agents import model_statuses
from tests.helpers.rejected_agents import set_up as agent_set_up
from tests.helpers.replies import revoke_during_first_turn as agent_revoke
from tests.rig.agents import Agents, NetTrap
from tests.rig.sandbox import Sandbox
from tests.rig.workspace import FakeWorkspace

pytestmark = [pytest.mark.e2e]


def revoke_during_first_turn(workspace: FakeWorkspace, *, logins: bool = False) -> Any:
    """The fake model's answer: the first turn asks for a short shell command, and meanwhile
    the workspace revokes every access token (a rotation; with `logins`, the refresh tokens
    too); the next turn answers "all done"."""
    turns: list[int] = []

    def reply(body: dict[str, Any]) -> str | dict[str, Any]:
        turns.append(1)
        if len(turns) == 1:
            workspace.revoke_access_tokens()
            if logins:
                workspace.revoke_refresh_tokens()
            call = {"command": "printf 'ran-%d\\n' 7", "description": "print"}
            return {"tool_use": {"name": "Bash", "input": call}}
        return "all done"

    return reply


@pytest.mark.parametrize("route", ROUTES)
def test_the_wrapper_replaces_a_token_revoked_mid_session_before_claude_sees_it(
    sandbox: Sandbox, workspace: FakeWorkspace, route: str
) -> None:
    set_up(sandbox, workspace, route)
    workspace.reply = revoke_during_first_turn(workspace)
    workspace.clear_log()

    result = sandbox.run(
        ["dbx-fmapi-claude", "-p", "go", "--allowedTools", "Bash"], env=FAST, timeout=120
    )

    assert result.code == 0 and "all done" in result.stdout, result
    refused = 400 if route == "ai-gateway" else 403
    # the refused request was sent once more with a new token, by the relay, at once
    assert statuses(workspace) == [(200, "valid"), (refused, "revoked"), (200, "valid")]
    assert workspace.refresh_count() == 1
    requests = workspace.messages_requests()
    assert requests[1].json == requests[2].json  # the same request, not a new turn


@pytest.mark.parametrize("route", ROUTES)
def test_the_wrapper_names_the_login_at_once_when_it_was_revoked_mid_session(
    sandbox: Sandbox, workspace: FakeWorkspace, route: str
) -> None:
    """No new token can be had (the login itself was revoked): the turn ends at once with one
    line naming `dbx-fmapi login`, not after minutes of retries."""
    set_up(sandbox, workspace, route)
    workspace.reply = revoke_during_first_turn(workspace, logins=True)
    workspace.clear_log()

    result = sandbox.run(
        ["dbx-fmapi-claude", "-p", "go", "--allowedTools", "Bash"], env=FAST, timeout=120
    )

    assert result.code == 1, result
    assert "dbx-fmapi login --profile DEFAULT" in result.output, result
    refused = 400 if route == "ai-gateway" else 403
    # one refused request, checked and not retried: the relay answered the login line itself
    assert statuses(workspace) == [(200, "valid"), (refused, "revoked")]


def test_the_wrapper_without_the_relay_lets_the_ai_gateway_refusal_through(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    """DBX_FMAPI_CLAUDE_RELAY=0: claude talks to the workspace itself, as before (the limit
    docs/rejected-tokens.md describes)."""
    set_up(sandbox, workspace, "ai-gateway")
    workspace.reply = revoke_during_first_turn(workspace)
    workspace.clear_log()

    result = sandbox.run(
        ["dbx-fmapi-claude", "-p", "go", "--allowedTools", "Bash"],
        env={**FAST, "DBX_FMAPI_CLAUDE_RELAY": "0"},
        timeout=120,
    )

    assert result.code == 1 and "400 Invalid Token" in result.stdout, result
    assert statuses(workspace) == [(200, "valid"), (400, "revoked")]


CODEX_CONFIG = (
    "check_for_update_on_startup = false\n\n[analytics]\nenabled = false\n\n"
    "[feedback]\nenabled = false\n\n[features]\nplugins = false\n"
)


@pytest.mark.parametrize("route", ROUTES)
def test_run_codex_replaces_a_token_revoked_mid_session_before_codex_sees_it(
    sandbox: Sandbox,
    workspace: FakeWorkspace,
    agents: Agents,
    net_trap: NetTrap,
    codex_bin: str,
    route: str,
) -> None:
    """Codex 0.171.0 retries a 403 with the same token and stops at the AI Gateway's 400:
    behind `dbx-fmapi run codex`'s relay the refused request goes once more, with a new token."""
    link(sandbox, "codex", codex_bin)
    agents.write_codex_config(CODEX_CONFIG)
    env = agents.codex_env()
    agent_set_up(sandbox, workspace, route, env, "--agents", "claude,codex", "--codex-model", GPT)
    call = {"name": "exec_command", "input": {"cmd": "printf 'ran-%d\\n' 7"}}
    workspace.reply = agent_revoke(workspace, call)
    workspace.clear_log()

    result = sandbox.run(
        ["dbx-fmapi", "run", "codex", "exec", "--skip-git-repo-check"]
        + ["--sandbox", "workspace-write", "go"],
        env=env,
        cwd=agents.project,
        timeout=300,
    )

    assert result.code == 0 and "all done" in result.stdout, result
    refused = 400 if route == "ai-gateway" else 403
    assert model_statuses(workspace, "/responses") == [
        (200, "valid"),
        (refused, "revoked"),
        (200, "valid"),
    ]
    assert workspace.refresh_count() == 1
    assert net_trap.hosts() == []
