"""Codex's usage records: its rollout files (usage/sources.py says what they hold)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

from ..usagelog import Request, _epoch, _files, _int, _json_lines


def codex(home: Path, env: Mapping[str, str], since: float) -> Iterator[Request]:
    root = Path(env.get("CODEX_HOME") or home / ".codex") / "sessions"
    seen: set[str] = set()
    for path in _files(root, "**/rollout-*.jsonl", since):
        model = ""
        session = path.stem.removeprefix("rollout-")
        for item in _json_lines(path):
            payload = item.get("payload")
            if not isinstance(payload, dict):
                continue
            kind = item.get("type")
            if kind == "session_meta" and isinstance(payload.get("id"), str):
                session = payload["id"]
            elif kind == "turn_context" and isinstance(payload.get("model"), str):
                model = payload["model"]
            elif kind == "token_usage_record":
                usage, rid = payload.get("usage"), payload.get("response_id")
                when = _epoch(item.get("timestamp"))
                if not isinstance(usage, dict) or not isinstance(rid, str) or when is None:
                    continue
                if rid in seen:
                    continue
                seen.add(rid)
                cached = _int(usage.get("cached_input_tokens"))
                yield Request(
                    "codex",
                    session,
                    str(payload.get("model") or model or "unknown"),
                    when,
                    max(0, _int(usage.get("input_tokens")) - cached),
                    _int(usage.get("output_tokens")),
                    cached,
                    _int(usage.get("cache_write_input_tokens")),
                )
