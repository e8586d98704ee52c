"""Issue 19, item 1: plain `claude` (helper mode) on the AI Gateway, a token revoked in the middle
of a session. Claude Code 2.1.332 takes the gateway's `400 Invalid Token` as final and runs no
helper, and it keeps the rejected token until its helper TTL (15 minutes by default): every turn
until then failed. Setup's StopFailure hook (agents/claude/failurehook.py) touches the settings
file on that error; a change to a settings file it loaded clears Claude Code's helper cache, so
the next turn runs the helper, which replaces the rejected token. The turn that met the
rejection still fails (Claude Code does not retry a 400). Real Claude Code, real Databricks CLI.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from typing import Any

import pytest

from dbx_fmapi_claude.agents.claude import failurehook
from tests.helpers.rejected import FAST, set_up, statuses
from tests.rig.sandbox import Sandbox
from tests.rig.workspace import FakeWorkspace

pytestmark = [pytest.mark.e2e]

# Claude Code notices a changed settings file after it has been still for 1 s (its watcher's
# stability threshold, polled every 0.5 s): the next prompt comes well after that, as a
# person's would.
SETTLE = 5.0


class Session:
    """A multi-turn `claude -p` session (stream-json in and out): one prompt at a time."""

    def __init__(self, sandbox: Sandbox, env: dict[str, str]) -> None:
        sandbox.seed_onboarding()
        argv = [sandbox.claude_bin, "-p", "--input-format", "stream-json"]
        argv += ["--output-format", "stream-json", "--verbose"]
        self.proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=sandbox._env(env),
            cwd=sandbox.home,
            text=True,
        )
        self.results: list[dict[str, Any]] = []
        self._ready = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if isinstance(event, dict) and event.get("type") == "result":
                with self._ready:
                    self.results.append(event)
                    self._ready.notify_all()

    def turn(self, prompt: str) -> dict[str, Any]:
        count = len(self.results)
        assert self.proc.stdin is not None
        message = {"type": "user", "message": {"role": "user", "content": prompt}}
        self.proc.stdin.write(json.dumps(message) + "\n")
        self.proc.stdin.flush()
        with self._ready:
            assert self._ready.wait_for(lambda: len(self.results) > count, timeout=120)
            return self.results[count]

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def test_plain_claude_on_the_ai_gateway_gets_a_new_token_on_the_turn_after_a_rejection(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    set_up(sandbox, workspace, "ai-gateway")
    settings_file = sandbox.home / ".claude/settings.json"
    session = Session(sandbox, FAST)
    try:
        first = session.turn("hi")
        assert not first.get("is_error") and first.get("result") == "pong", first
        workspace.revoke_access_tokens()  # a rotation, in the middle of the session
        touched = settings_file.stat().st_mtime_ns

        refused = session.turn("hi again")
        assert refused.get("is_error") and "400 Invalid Token" in str(refused.get("result"))
        for _ in range(100):  # the hook runs as the turn ends
            if settings_file.stat().st_mtime_ns != touched:
                break
            time.sleep(0.1)
        time.sleep(SETTLE)
        after = session.turn("and again")
    finally:
        session.close()

    assert not after.get("is_error") and after.get("result") == "pong", after
    assert statuses(workspace) == [(200, "valid"), (400, "revoked"), (200, "valid")]
    assert workspace.refresh_count() == 1


def test_setup_adds_the_hook_in_helper_mode_only_and_uninstall_takes_it_out(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    settings_file = sandbox.home / ".claude/settings.json"
    settings_file.parent.mkdir(parents=True)
    theirs = {"hooks": {"StopFailure": [{"hooks": [{"type": "command", "command": "mine"}]}]}}
    settings_file.write_text(json.dumps(theirs))
    set_up(sandbox, workspace, "ai-gateway")
    groups = json.loads(settings_file.read_text())["hooks"]["StopFailure"]
    assert groups[0] == theirs["hooks"]["StopFailure"][0]
    assert [h["command"] for h in groups[1]["hooks"]] == [failurehook.command(str(settings_file))]
    static = sandbox.run_here(
        ["setup-fmapi-claudecode", "--host", workspace.url, "--skip-install", "--no-verify"]
        + ["--shell", "none", "--route", "ai-gateway", "--token-mode", "static"]
    )
    assert static.code == 0, static
    assert json.loads(settings_file.read_text())["hooks"] == theirs["hooks"]
    set_up(sandbox, workspace, "ai-gateway")
    assert sandbox.run_here(["dbx-fmapi", "uninstall", "--yes"]).code == 0
    assert json.loads(settings_file.read_text()) == theirs
