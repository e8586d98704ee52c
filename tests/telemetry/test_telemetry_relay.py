"""Issue 23: under `dbx-fmapi-claude`, Claude Code's OpenTelemetry exports go to the loopback relay
the wrapper forks (agents/claude/relayed.py, relay_child.py), which answers each at once and sends
it on to the workspace with a fresh token in the background, and after claude exits. Real Claude
Code 2.1.332, the real Databricks CLI, the fake workspace's OTLP endpoint (tests/rig/otlp_api.py).

Claude Code's own exporters, in a `-p` run, run the otelHeadersHelper and send the exports when
the run ends, and wait for the workspace's answer. Measured with 2.1.332 and a workspace that
holds each export (these tests give claude a 120 s CLAUDE_CODE_OTEL_SHUTDOWN_TIMEOUT_MS): claude
gave up after some seconds with the logs export still held and the metrics never sent. Through
the relay, claude exits while the workspace holds both, and both arrive once it answers.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.otel_world import (
    LOGS,
    METRICS,
    PREFIX,
    SETTINGS,
    events,
    names,
    set_up,
    tokens_in_files,
)
from tests.rig import otlp_api
from tests.rig.sandbox import Sandbox
from tests.rig.workspace import FakeWorkspace

pytestmark = pytest.mark.e2e

HOLD = 60.0  # seconds the workspace holds an export at most
LONG_DRAIN = {"DBX_FMAPI_OTEL_DRAIN_MS": "60000"}  # the relay may wait for a held export


@pytest.fixture(autouse=True)
def _need_claude(claude_bin: str) -> None:
    """Skips (with the reason) when DBX_TEST_CLAUDE_BIN is unset."""


def claude_waits(sandbox: Sandbox, ms: int = 120_000) -> None:
    """Claude Code waits this long for its last export (setup writes 800 ms)."""
    path = sandbox.home / SETTINGS
    data = json.loads(path.read_text())
    data["env"]["CLAUDE_CODE_OTEL_SHUTDOWN_TIMEOUT_MS"] = str(ms)
    path.write_text(json.dumps(data, indent=2))


class Launch:
    """The wrapper's processes, seen from the fake model's first answer (claude is running):
    the relay (the wrapper's forked child keeps the wrapper's command line) and claude's argv."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.home = f"HOME={sandbox.home}".encode()
        self.relays: list[int] = []
        self.claude_argv: list[str] = []

    def look(self) -> None:
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                environ = Path(f"/proc/{entry}/environ").read_bytes().split(b"\0")
                argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if self.home not in environ:
                continue
            words = [a.decode("utf-8", "replace") for a in argv if a]
            if any(w.endswith("/dbx-fmapi-claude") for w in words):
                self.relays.append(int(entry))
            elif "--settings" in words:
                self.claude_argv = words

    def reply(self, text: str = "pong") -> Any:
        def answer(body: dict[str, Any]) -> str:
            if not self.relays:
                self.look()
            return text

        return answer

    def relay_gone(self) -> bool:
        """Once the relay has ended (it stops within its bounds after claude; a busy machine
        gets a minute)."""
        assert len(self.relays) == 1, self.relays
        for _ in range(600):
            try:
                os.kill(self.relays[0], 0)
            except ProcessLookupError:
                return True
            time.sleep(0.1)
        return False


def no_token_in(words: list[str], workspace: FakeWorkspace) -> bool:
    for word in re.findall(r"[A-Za-z0-9_\-.]{20,}", " ".join(words)):
        ref = workspace.token_ref(word)
        if ref is not None and ref.state != "unknown":
            return False
    return True


def with_tables(sandbox: Sandbox, workspace: FakeWorkspace) -> otlp_api.OtlpState:
    """The tables exist, setup ran with --otel-tables, and claude waits for its exports."""
    otel = otlp_api.state(workspace)
    otel.create_tables(PREFIX)
    set_up(sandbox, workspace, "--otel-tables", PREFIX)
    claude_waits(sandbox)
    return otel


def test_the_wrapper_answers_claudes_exports_itself_and_sends_them_on(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    otel = with_tables(sandbox, workspace)

    # DBX_FMAPI_CLAUDE_RELAY=0: Claude Code sends its exports itself, as before.
    off = sandbox.run(
        ["dbx-fmapi-claude", "-p", "say hi"], env={"DBX_FMAPI_CLAUDE_RELAY": "0"}, timeout=180
    )
    assert (off.code, off.stdout.strip()) == (0, "pong"), off
    direct = list(otel.exports)
    assert {e.signal for e in direct} == {"metrics", "logs"}
    assert [(e.status, e.token.state) for e in direct] == [(200, "valid")] * len(direct)

    # Through the relay: the workspace holds every export unanswered, and claude is gone
    # before it lets go.
    otel.mode, otel.hang_seconds = "hold", HOLD
    launch = Launch(sandbox)
    workspace.reply = launch.reply()
    result = sandbox.run(["dbx-fmapi-claude", "-p", "say hi"], env=LONG_DRAIN, timeout=180)
    at_exit = [e.status for e in otel.exports[len(direct) :]]  # what has arrived so far
    otel.release.set()
    assert (result.code, result.stdout.strip()) == (0, "pong"), result
    assert at_exit.count(0) == len(at_exit)  # none answered yet: claude exited first
    assert launch.relay_gone()  # it sent what it held, then stopped

    held = otel.exports[len(direct) :]
    assert {(e.signal, e.table) for e in held} == {("metrics", METRICS), ("logs", LOGS)}
    # A workspace token from the relay's source (claude had only the launch's key).
    assert [(e.status, e.token.state) for e in held] == [(200, "valid")] * len(held)
    assert {"claude_code.token.usage", "claude_code.cost.usage"} <= names(otel.records(METRICS))
    assert "api_request" in events(otel.records(LOGS))
    requests = [r for r in otel.records(LOGS) if r["attributes"].get("event.name") == "api_request"]  # type: ignore[union-attr]
    assert len(requests) == 2  # the direct run's and the relayed run's
    # claude's argv: the relay's port and helper, never a token or the key itself
    settings = json.loads(launch.claude_argv[launch.claude_argv.index("--settings") + 1])
    assert settings["env"]["OTEL_EXPORTER_OTLP_ENDPOINT"].startswith("http://127.0.0.1:")
    assert "$DBX_FMAPI_RELAY_KEY" in settings["otelHeadersHelper"]
    assert no_token_in(launch.claude_argv, workspace)
    assert tokens_in_files(sandbox, workspace) == []


def test_an_export_endpoint_that_hangs_holds_neither_claude_nor_the_relay(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    otel = with_tables(sandbox, workspace)
    otel.mode, otel.hang_seconds = "hang", HOLD
    launch = Launch(sandbox)
    workspace.reply = launch.reply()
    try:
        result = sandbox.run(["dbx-fmapi-claude", "-p", "say hi"], timeout=180)
        at_exit = [e.status for e in otel.exports]  # what has arrived so far
        assert (result.code, result.stdout.strip()) == (0, "pong"), result
        assert at_exit.count(0) == len(at_exit)  # claude did not wait for the workspace
        # The relay sent both on, and gave up on them (its bound: a few seconds) while the
        # workspace still held them unanswered.
        assert launch.relay_gone()
        held = [(e.signal, e.table, e.status) for e in otel.exports]
        assert sorted(held) == [("logs", LOGS, 0), ("metrics", METRICS, 0)], held
        assert not otel.release.is_set()
    finally:
        otel.release.set()


def test_exports_arrive_after_every_token_was_rejected_once(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    """Claude Code keeps the otelHeadersHelper's header (the debounce: the token TTL) and never
    runs the helper again after a 401/403, so on its own it loses the exports after a token
    rotation; the relay asks for a new token and sends them once more."""
    otel = with_tables(sandbox, workspace)
    launch = Launch(sandbox)
    turns: list[int] = []

    def reply(body: dict[str, Any]) -> str | dict[str, Any]:
        turns.append(1)
        if len(turns) == 1:
            launch.look()
            call = {"command": "printf 'ran-%d\\n' 7", "description": "print"}
            return {"tool_use": {"name": "Bash", "input": call}}
        # The first turn's events have gone to the workspace with the token of the day
        # (every second, OTEL_LOGS_EXPORT_INTERVAL below); then every token is rotated.
        for _ in range(600):
            if any(e.signal == "logs" and e.status == 200 for e in otel.exports):
                break
            time.sleep(0.1)
        workspace.revoke_access_tokens()
        return "all done"

    workspace.reply = reply
    env = {**LONG_DRAIN, "OTEL_LOGS_EXPORT_INTERVAL": "1000", "CLAUDE_CODE_MAX_RETRIES": "0"}
    result = sandbox.run(
        ["dbx-fmapi-claude", "-p", "go", "--allowedTools", "Bash"], env=env, timeout=180
    )
    assert result.code == 0 and "all done" in result.stdout, result
    assert launch.relay_gone()

    first = next(e for e in otel.exports if e.signal == "logs" and e.status == 200)
    later = [e for e in otel.exports if e.token.id != first.token.id]
    assert {e.signal for e in later} == {"metrics", "logs"}, otel.exports
    assert [(e.status, e.token.state) for e in later] == [(200, "valid")] * len(later)
    requests = [r for r in otel.records(LOGS) if r["attributes"].get("event.name") == "api_request"]  # type: ignore[union-attr]
    assert len(requests) == 2  # both turns' requests, the second sent after the rotation
    assert "claude_code.token.usage" in names(otel.records(METRICS))
    assert tokens_in_files(sandbox, workspace) == []
