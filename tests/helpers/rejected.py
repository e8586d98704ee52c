"""A signed-in HOME without the browser flow, setup on a route, and the workspace's answers: for
the tests of tokens the workspace rejects although their expiry says they are good."""

from __future__ import annotations

import json
import time

from dbx_fmapi_claude.auth.rejected import FRESH_FOR
from tests.rig.sandbox import Sandbox, go_time
from tests.rig.workspace import FakeWorkspace

FAST = {"CLAUDE_CODE_MAX_RETRIES": "0"}


ROUTES = ["serving-endpoints", "ai-gateway"]


def logged_in(sandbox: Sandbox, workspace: FakeWorkspace, profile: str = "DEFAULT") -> None:
    """What `databricks auth login` leaves (the profile, and the token cache as the real CLI
    writes it: an access and a refresh token of the workspace), without its browser flow: the
    machine's tests share one login callback port, and a login that another suite leaves
    hanging holds it for minutes. The real CLI then reads and refreshes these as its own."""
    (sandbox.home / ".databrickscfg").write_text(
        f"[{profile}]\nhost      = {workspace.url}\nauth_type = databricks-cli\n"
    )
    life = workspace.access_token_lifetime
    entry = {
        "access_token": workspace.issue_token(),
        "token_type": "Bearer",
        "refresh_token": workspace.issue_refresh_token(),
        "expiry": go_time(time.time() + life),
        "expires_in": int(life),
    }
    cache = sandbox.token_cache_path
    cache.parent.mkdir(mode=0o700, exist_ok=True)
    cache.write_text(json.dumps({"version": 1, "tokens": {profile: entry}}, indent=2))
    cache.chmod(0o600)


def set_up(sandbox: Sandbox, workspace: FakeWorkspace, route: str, *extra: str) -> None:
    workspace.ai_gateway = "on" if route == "ai-gateway" else "off"
    logged_in(sandbox, workspace)
    setup = sandbox.run_here(
        ["setup-fmapi-claudecode", "--host", workspace.url, "--skip-install", "--no-verify"]
        + ["--shell", "none", "--route", route, *extra]
    )
    assert setup.code == 0, setup


def later() -> None:
    """Time passes after the token was handed out: long enough that it is checked again."""
    time.sleep(FRESH_FOR + 0.5)


def statuses(workspace: FakeWorkspace) -> list[tuple[int, str]]:
    return [(r.status, r.token.state if r.token else "none") for r in workspace.messages_requests()]
