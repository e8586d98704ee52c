"""What the telemetry tests share: a HOME set up with the real setup, reading the fake workspace's
OTLP tables (tests/rig/otlp_api.py), and the check that no token reached a file."""

from __future__ import annotations

import re
from pathlib import Path

from tests.helpers.rejected import logged_in
from tests.rig.sandbox import Sandbox
from tests.rig.workspace import FakeWorkspace

PREFIX = "main.telemetry.claude"
METRICS, LOGS, SPANS = (f"{PREFIX}_otel_{s}" for s in ("metrics", "logs", "spans"))
SETTINGS = Path(".claude/settings.json")
SETUP = ["setup-fmapi-claudecode", "--skip-install", "--no-verify", "--shell", "none"]


def set_up(sandbox: Sandbox, workspace: FakeWorkspace, *extra: str) -> None:
    logged_in(sandbox, workspace)
    result = sandbox.run([*SETUP, "--host", workspace.url, *extra], timeout=120)
    assert result.code == 0, result


def names(rows: list[dict[str, object]]) -> set[str]:
    return {str(r["name"]) for r in rows}


def events(rows: list[dict[str, object]]) -> set[str]:
    return {
        str(r["attributes"].get("event.name")) for r in rows if isinstance(r["attributes"], dict)
    }  # type: ignore[union-attr]


def tokens_in_files(sandbox: Sandbox, workspace: FakeWorkspace) -> list[str]:
    """Files under HOME holding a token the workspace gave out, but the Databricks CLI's own
    token cache (the one place a token lives)."""
    cache = sandbox.token_cache_path.relative_to(sandbox.home).as_posix()
    found = []
    for rel, data in sandbox.snapshot(exclude=[cache]).items():
        for word in set(re.findall(rb"[A-Za-z0-9_\-.]{20,}", data)):
            ref = workspace.token_ref(word.decode())
            if ref is not None and ref.state != "unknown":
                found.append(rel)
    return found
