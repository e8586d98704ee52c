"""Issue 4's proof: Claude Code sessions that outlive several access tokens never send an expired
or about-to-expire token, through plain `claude` (apiKeyHelper) and through the wrapper.

Access tokens live 350 s; the helper TTL is 10 s and the margin 320 s, so every token handed out
must have 330 s left. The real CLI refreshes by itself only below 300 s, so each refresh here is
our own early one (`auth token --force-refresh`), about every 20-30 s. The fake model answers with
a `sleep` tool call per turn; each session runs about two minutes, crossing several refreshes.
Both sessions run at once on the same profile.

Run on both routes. On the AI Gateway a token the workspace rejects is `400 Invalid Token`,
which Claude Code never retries: the turn fails. There the guarantee alone keeps the session up,
so every request must have succeeded.
"""

from __future__ import annotations

import os
import threading
import time

import pytest

from tests.helpers.replies import sleep_turns
from tests.rig.sandbox import Result, Sandbox
from tests.rig.workspace import FakeWorkspace

TURNS = 12
SLEEP = 10  # seconds per tool call: TURNS * SLEEP = 120 s, four or more of our refreshes
LIFETIME = 350  # seconds; the CLI's own refresh window is 300 s, ours starts below 330 s
MARGIN = 320  # + the 10 s TTL: our helper refreshes at 330 s left, before the CLI would


tool_loop = sleep_turns(TURNS, SLEEP)


@pytest.mark.slow
@pytest.mark.parametrize("route", ["serving-endpoints", "ai-gateway"])
def test_sessions_across_several_expiries_only_send_fresh_tokens(
    sandbox: Sandbox, workspace: FakeWorkspace, route: str
) -> None:
    workspace.access_token_lifetime = LIFETIME
    workspace.ai_gateway = "on" if route == "ai-gateway" else "off"
    sandbox.signed_in(workspace)
    setup = sandbox.run_here(
        [
            "setup-fmapi-claudecode",
            "--host",
            workspace.url,
            "--skip-install",
            "--no-verify",
            "--shell",
            "none",
            "--ttl",
            "10s",
            "--margin",
            f"{MARGIN}s",
            "--route",
            route,
        ]
    )
    assert setup.code == 0, setup
    workspace.reply = tool_loop
    (sandbox.home / "plain").mkdir()
    (sandbox.home / "wrapped").mkdir()
    args = ["-p", "wait a while", "--allowedTools", "Bash"]
    results: dict[str, Result] = {}

    def plain() -> None:
        results["plain"] = sandbox.claude(args, cwd=sandbox.home / "plain", timeout=600)

    def wrapped() -> None:
        sandbox.seed_onboarding()
        results["wrapped"] = sandbox.run(
            ["dbx-fmapi-claude", *args], cwd=sandbox.home / "wrapped", timeout=600
        )

    threads = [threading.Thread(target=plain), threading.Thread(target=wrapped)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    for name, result in results.items():
        assert result.code == 0 and "all done" in result.stdout, (name, result)
    msgs = workspace.messages_requests()
    assert len(msgs) >= 2 * (TURNS + 1)
    assert all(r.path == f"/{route}/anthropic/v1/messages" for r in msgs)
    assert [r for r in msgs if r.status != 200] == []  # zero failed requests
    refs = [r.token for r in msgs]
    assert all(ref is not None for ref in refs)
    states = {ref.state for ref in refs if ref is not None}
    assert states == {"valid"}, [repr(ref) for ref in refs]
    least = min(ref.seconds_left or 0 for ref in refs if ref is not None)
    assert least >= 250, f"a request went out with only {least:.1f}s of token life left"
    assert len({ref.id for ref in refs if ref is not None}) >= 3  # several refreshes crossed
    for call in sandbox.databricks_calls():
        assert not any(a.startswith("eyJ") for a in call["argv"])  # no token in argv
    # every refresh was ours: one forced CLI call each, none by the CLI's own window. Claude
    # Code may exit while an apiKeyHelper it started in the background is still running (it
    # does not wait for it): that helper's CLI call, logged as it starts, reaches the workspace
    # a moment later, so count once every helper of the sandbox has ended.
    _helpers_done(sandbox)
    forced = [c for c in sandbox.databricks_calls() if "--force-refresh" in c["argv"]]
    assert workspace.refresh_count() == len(forced) >= 3


def _helpers_done(sandbox: Sandbox, limit: float = 120.0) -> None:
    """Wait (at most `limit` s) until no process runs our token helper or the CLI in `sandbox`
    (their environment names its HOME)."""
    home = f"HOME={sandbox.home}".encode()
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        busy = False
        for pid in os.listdir("/proc"):
            if not pid.isdigit() or int(pid) == os.getpid():
                continue
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    argv = f.read().split(b"\0")
                with open(f"/proc/{pid}/environ", "rb") as f:
                    environ = f.read().split(b"\0")
            except OSError:
                continue
            words = b" ".join(argv)
            if home in environ and (b" token" in words or b"databricks" in words):
                busy = True
                break
        if not busy:
            return
        time.sleep(0.1)
