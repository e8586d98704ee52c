"""Codex: `$CODEX_HOME/sessions/YYYY/MM/DD/rollout-*.jsonl`; a `token_usage_record` line per
response (`response_id`, `usage`), the model in the `turn_context` before it. OpenAI's
`input_tokens` include the cached ones: input = input_tokens - cached_input_tokens.

Measured with the pinned binaries (docs/usage.md); `dbx-fmapi usage` reads it through
Agent.usage_source (usage/sources.py)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

from ..usagelog import Request, count, epoch, files, json_lines


def read(home: Path, env: Mapping[str, str], since: float) -> Iterator[Request]:
    root = Path(env.get("CODEX_HOME") or home / ".codex") / "sessions"
    seen: set[str] = set()
    for path in files(root, "**/rollout-*.jsonl", since):
        model = ""
        session = path.stem.removeprefix("rollout-")
        for item in json_lines(path):
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
                when = epoch(item.get("timestamp"))
                if not isinstance(usage, dict) or not isinstance(rid, str) or when is None:
                    continue
                if rid in seen:
                    continue
                seen.add(rid)
                cached = count(usage.get("cached_input_tokens"))
                yield Request(
                    "codex",
                    session,
                    str(payload.get("model") or model or "unknown"),
                    when,
                    max(0, count(usage.get("input_tokens")) - cached),
                    count(usage.get("output_tokens")),
                    cached,
                    count(usage.get("cache_write_input_tokens")),
                )
