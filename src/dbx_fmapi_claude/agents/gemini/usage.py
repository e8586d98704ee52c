"""Gemini CLI: `~/.gemini/tmp/<project>/chats/session-*.jsonl` (and the older `.json`); each
`type: "gemini"` message has `tokens {input, output, cached, thoughts, tool}` and `model`;
Gemini's `input` includes `cached`.

Measured with the pinned binaries (docs/usage.md); `dbx-fmapi usage` reads it through
Agent.usage_source (usage/sources.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path

from ..usagelog import Request, count, epoch, files, json_lines

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def _gemini_messages(path: Path) -> Iterator[dict[str, Any]]:
    if path.suffix == ".json":
        try:
            data = json.loads(path.read_bytes())
        except (OSError, ValueError):
            return
        messages = data.get("messages") if isinstance(data, dict) else None
        for m in messages if isinstance(messages, list) else []:
            if isinstance(m, dict):
                yield m
        return
    for item in json_lines(path):
        update = item.get("$set")
        if isinstance(update, dict):
            for m in update.get("messages") or []:
                if isinstance(m, dict):
                    yield m
        else:
            yield item


def read(home: Path, env: Mapping[str, str], since: float) -> Iterator[Request]:
    root = Path(env.get("GEMINI_CLI_HOME") or home) / ".gemini" / "tmp"
    seen: dict[str, Request] = {}
    for pattern in ("*/chats/session-*.jsonl", "*/chats/session-*.json"):
        for path in files(root, pattern, since):
            session = path.stem.removeprefix("session-")
            for m in _gemini_messages(path):
                if "projectHash" in m and isinstance(m.get("sessionId"), str):
                    session = m["sessionId"]  # the session's first line
                tokens, mid = m.get("tokens"), m.get("id")
                if m.get("type") != "gemini" or not isinstance(tokens, dict):
                    continue
                when = epoch(m.get("timestamp"))
                if not isinstance(mid, str) or when is None:
                    continue
                cached = count(tokens.get("cached"))
                seen[mid] = Request(
                    "gemini",
                    session,
                    str(m.get("model") or "unknown"),
                    when,
                    max(0, count(tokens.get("input")) - cached),
                    count(tokens.get("output")) + count(tokens.get("thoughts")),
                    cached,
                    0,
                )
    yield from seen.values()
