"""OpenCode: `$XDG_DATA_HOME/opencode/opencode.db` (SQLite), table `message`, assistant rows'
JSON `data` with `modelID`, `tokens {input, output, reasoning, cache {read, write}}`; older
versions kept the same JSON as files under `storage/message/<session>/`.

Measured with the pinned binaries (docs/usage.md); `dbx-fmapi usage` reads it through
Agent.usage_source (usage/sources.py)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path

from ..usagelog import Request, count, epoch, files

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def _opencode_request(data: Any, session: str, fallback_time: float) -> Request | None:
    if not isinstance(data, dict) or data.get("role") != "assistant":
        return None
    tokens = data.get("tokens")
    if not isinstance(tokens, dict):
        return None
    cache: dict[str, Any] = tokens["cache"] if isinstance(tokens.get("cache"), dict) else {}
    times: dict[str, Any] = data["time"] if isinstance(data.get("time"), dict) else {}
    when = epoch(times.get("created")) or fallback_time
    return Request(
        "opencode",
        session,
        str(data.get("modelID") or "unknown"),
        when,
        count(tokens.get("input")),
        count(tokens.get("output")) + count(tokens.get("reasoning")),
        count(cache.get("read")),
        count(cache.get("write")),
    )


def read(home: Path, env: Mapping[str, str], since: float) -> Iterator[Request]:
    data_home = env.get("XDG_DATA_HOME")
    root = Path(data_home if data_home and os.path.isabs(data_home) else home / ".local/share")
    root = root / "opencode"
    db = root / "opencode.db"
    if db.exists():
        import sqlite3

        try:
            conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=2)
            try:
                rows = conn.execute(
                    "SELECT session_id, time_created, data FROM message WHERE time_created >= ?",
                    (int(since * 1000),),
                ).fetchall()
            finally:
                conn.close()
        except sqlite3.Error:
            rows = []
        for session, created, raw in rows:
            try:
                data = json.loads(raw)
            except (TypeError, ValueError):
                continue
            req = _opencode_request(data, str(session), (created or 0) / 1000)
            if req is not None:
                yield req
    for path in files(root / "storage" / "message", "*/*.json", since):
        try:
            data = json.loads(path.read_bytes())
        except (OSError, ValueError):
            continue
        req = _opencode_request(data, path.parent.name, path.stat().st_mtime)
        if req is not None:
            yield req
