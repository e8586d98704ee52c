"""What the tests of the other agents' telemetry share (Codex, Gemini CLI and OpenCode exporting
through the OTLP proxy `dbx-fmapi run` starts): the tables, the exports each reached, and the
checks that no prompt and no token left where they should not."""

from __future__ import annotations

import json
from typing import Any

from tests.rig import otlp_api
from tests.rig.sandbox import Sandbox
from tests.rig.workspace import FakeWorkspace

PREFIX = "main.tele.agents"
METRICS, LOGS, SPANS = (PREFIX + s for s in ("_otel_metrics", "_otel_logs", "_otel_spans"))


def events(rows: list[dict[str, Any]]) -> set[str]:
    """The log records' event names (the record's own, or the `event.name` attribute)."""
    return {str(r["attributes"].get("event.name") or r["event_name"]) for r in rows}


def no_token_in_files(sandbox: Sandbox) -> None:
    """No token the CLI got is in any file of the sandbox's HOME but the CLI's own cache."""
    cache = json.loads((sandbox.home / ".databricks" / "token-cache.json").read_text())
    tokens = [t["access_token"] for t in cache["tokens"].values()]
    assert tokens
    for path in sandbox.home.rglob("*"):
        if not path.is_file() or path.name == "token-cache.json" or path.stat().st_size > 4 << 20:
            continue
        data = path.read_bytes()
        assert not any(t.encode() in data for t in tokens), path


def no_prompt(
    workspace: FakeWorkspace, prompt: str, answer: str = "pong from the workspace"
) -> None:
    """The prompt (and the answer) stay on the machine: in no record of any table."""
    otel = otlp_api.state(workspace)
    for table in (METRICS, LOGS, SPANS):
        text = json.dumps(otel.records(table), default=str)
        assert prompt not in text and answer not in text, table


def check_exports(workspace: FakeWorkspace, signals: tuple[str, ...]) -> None:
    """Every export reached its table with a valid token (the proxy's secret never left)."""
    otel = otlp_api.state(workspace)
    tables = {"metrics": METRICS, "logs": LOGS, "traces": SPANS}
    for signal in signals:
        done = otel.exports_to(tables[signal])
        assert done, (signal, otel.exports)
        ok = [e for e in done if e.status == 200]
        assert ok and all(e.token is not None and e.token.valid for e in ok), done
        assert ok[-1].records > 0
    assert all(e.table in tables.values() for e in otel.exports), otel.exports
