"""Setup for the rejected-token tests of the other agents (Codex, a proxied Gemini CLI), and
what the fake workspace answered each model request."""

from __future__ import annotations

from tests.helpers.rejected import logged_in
from tests.rig.sandbox import Sandbox
from tests.rig.workspace import FakeWorkspace


def set_up(
    sandbox: Sandbox, workspace: FakeWorkspace, route: str, env: dict[str, str | None], *agent: str
) -> None:
    workspace.ai_gateway = "on" if route == "ai-gateway" else "off"
    logged_in(sandbox, workspace)
    setup = sandbox.run(
        ["setup-fmapi-claudecode", "--host", workspace.url, "--skip-install", "--no-verify"]
        + ["--shell", "none", "--route", route, *agent],
        env=env,
        timeout=120,
    )
    assert setup.code == 0, setup


def model_statuses(workspace: FakeWorkspace, suffix: str) -> list[tuple[int, str]]:
    return [
        (r.status, r.token.state if r.token else "none")
        for r in workspace.log
        if r.method == "POST" and suffix in r.path
    ]
