"""The agents' own session records, as one stream of requests (one reader per agent).

Each reader yields `Request`s: one per model answer, counted once however many times the agent
wrote it down. What each agent records (measured with the pinned binaries, docs/usage.md):

- Claude Code: `~/.claude/projects/<folder>/<session>.jsonl`; assistant lines carry `message.id`,
  `message.model`, `message.usage` (input, output, cache creation, cache read) and `requestId`.
  A streamed answer is written as several lines (one per content block) with the same id; a
  resumed or forked session copies earlier lines into a new file: each id counts once.
- Codex: `$CODEX_HOME/sessions/YYYY/MM/DD/rollout-*.jsonl`; a `token_usage_record` line per
  response (`response_id`, `usage`), the model in the `turn_context` before it. OpenAI's
  `input_tokens` include the cached ones: input = input_tokens - cached_input_tokens.
- Gemini CLI: `~/.gemini/tmp/<project>/chats/session-*.jsonl` (and the older `.json`); each
  `type: "gemini"` message has `tokens {input, output, cached, thoughts, tool}` and `model`;
  Gemini's `input` includes `cached`.
- OpenCode: `$XDG_DATA_HOME/opencode/opencode.db` (SQLite), table `message`, assistant rows'
  JSON `data` with `modelID`, `tokens {input, output, reasoning, cache {read, write}}`; older
  versions kept the same JSON as files under `storage/message/<session>/`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .transcript import claude_line, claude_tokens


@dataclass(frozen=True)
class Request:
    agent: str
    session: str
    model: str
    time: float  # epoch seconds
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _epoch(text: Any) -> float | None:
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return float(text) / 1000 if text > 1e11 else float(text)
    if not isinstance(text, str) or not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def _json_lines(path: Path) -> Iterator[dict[str, Any]]:
    try:
        with open(path, "rb") as f:
            for raw in f:
                if not raw.strip():
                    continue
                try:
                    item = json.loads(raw)
                except ValueError:
                    continue  # a line being written, or damaged: the rest still counts
                if isinstance(item, dict):
                    yield item
    except OSError:
        return


def _files(root: Path, pattern: str, since: float) -> list[Path]:
    """Files under root matching pattern that changed at or after `since` (older files hold
    nothing newer), oldest first."""
    found = []
    for path in root.glob(pattern):
        try:
            mtime = path.stat().st_mtime
        except OSError:
            continue
        if mtime >= since:
            found.append((mtime, path))
    return [p for _, p in sorted(found)]


# --------------------------------------------------------------------------- Claude Code


def claude(home: Path, env: Mapping[str, str], since: float) -> Iterator[Request]:
    root = Path(env.get("CLAUDE_CONFIG_DIR") or home / ".claude") / "projects"
    seen: dict[str, Request] = {}
    for path in _files(root, "**/*.jsonl", since):
        session = path.stem
        for item in _json_lines(path):
            found = claude_line(item)
            if found is None:
                continue
            key, model, usage = found
            when = _epoch(item.get("timestamp"))
            if when is None:
                continue
            tokens = claude_tokens(usage)
            before = seen.get(key)
            # The same answer again (a later content block, or a copy in a resumed session):
            # the first time and session it was seen, with the fullest counts written.
            if before is not None:
                if tokens[1] <= before.output_tokens:
                    continue
                when, session_of = before.time, before.session
            else:
                session_of = str(item.get("sessionId") or session)
            seen[key] = Request("claude", session_of, model, when, *tokens)
    yield from seen.values()


# --------------------------------------------------------------------------- Codex


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


# --------------------------------------------------------------------------- Gemini CLI


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
    for item in _json_lines(path):
        update = item.get("$set")
        if isinstance(update, dict):
            for m in update.get("messages") or []:
                if isinstance(m, dict):
                    yield m
        else:
            yield item


def gemini(home: Path, env: Mapping[str, str], since: float) -> Iterator[Request]:
    root = Path(env.get("GEMINI_CLI_HOME") or home) / ".gemini" / "tmp"
    seen: dict[str, Request] = {}
    for pattern in ("*/chats/session-*.jsonl", "*/chats/session-*.json"):
        for path in _files(root, pattern, since):
            session = path.stem.removeprefix("session-")
            for m in _gemini_messages(path):
                if "projectHash" in m and isinstance(m.get("sessionId"), str):
                    session = m["sessionId"]  # the session's first line
                tokens, mid = m.get("tokens"), m.get("id")
                if m.get("type") != "gemini" or not isinstance(tokens, dict):
                    continue
                when = _epoch(m.get("timestamp"))
                if not isinstance(mid, str) or when is None:
                    continue
                cached = _int(tokens.get("cached"))
                seen[mid] = Request(
                    "gemini",
                    session,
                    str(m.get("model") or "unknown"),
                    when,
                    max(0, _int(tokens.get("input")) - cached),
                    _int(tokens.get("output")) + _int(tokens.get("thoughts")),
                    cached,
                    0,
                )
    yield from seen.values()


# --------------------------------------------------------------------------- OpenCode


def _opencode_request(data: Any, session: str, fallback_time: float) -> Request | None:
    if not isinstance(data, dict) or data.get("role") != "assistant":
        return None
    tokens = data.get("tokens")
    if not isinstance(tokens, dict):
        return None
    cache: dict[str, Any] = tokens["cache"] if isinstance(tokens.get("cache"), dict) else {}
    times: dict[str, Any] = data["time"] if isinstance(data.get("time"), dict) else {}
    when = _epoch(times.get("created")) or fallback_time
    return Request(
        "opencode",
        session,
        str(data.get("modelID") or "unknown"),
        when,
        _int(tokens.get("input")),
        _int(tokens.get("output")) + _int(tokens.get("reasoning")),
        _int(cache.get("read")),
        _int(cache.get("write")),
    )


def opencode(home: Path, env: Mapping[str, str], since: float) -> Iterator[Request]:
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
    for path in _files(root / "storage" / "message", "*/*.json", since):
        try:
            data = json.loads(path.read_bytes())
        except (OSError, ValueError):
            continue
        req = _opencode_request(data, path.parent.name, path.stat().st_mtime)
        if req is not None:
            yield req


Reader = Callable[[Path, Mapping[str, str], float], Iterator[Request]]
# The registry: one line per agent that records its usage.
READERS: dict[str, Reader] = {
    "claude": claude,
    "codex": codex,
    "gemini": gemini,
    "opencode": opencode,
}


def requests(home: Path, env: Mapping[str, str], since: float) -> list[Request]:
    """Every recorded request at or after `since` (epoch seconds), all agents."""
    out: list[Request] = []
    for reader in READERS.values():
        out.extend(r for r in reader(home, env, since) if r.time >= since)
    return out
