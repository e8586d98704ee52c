"""Claude Code transcript lines, and one session's totals read incrementally (status line).

Standard library only, no json/re/datetime: the status line runs this on every refresh. Parsing
goes through jsonread (json's C scanner); the per-session cache is written with `dumps` below.
"""

from __future__ import annotations

import os
from _json import encode_basestring_ascii as _quote  # json's C encoder, without json

from ..agents.claude.transcript import claude_line, claude_tokens
from ..core.jsonread import loads

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def dumps(value: Any) -> str:
    """JSON for the plain values our caches hold (dict, list, str, int, float, bool, None)."""
    if isinstance(value, str):
        return str(_quote(value))
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{_quote(str(k))}:{dumps(v)}" for k, v in value.items()) + "}"
    return "[" + ",".join(dumps(v) for v in value) + "]"


def write_cache(path: str, value: Any) -> None:
    """Replace a cache file of ours (no secrets in it); a failure only costs the cache. `value`:
    plain values, or JSON text already made."""
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(value if isinstance(value, str) else dumps(value))
        os.replace(tmp, path)
    except OSError:
        try:  # noqa: SIM105 - contextlib would cost the status line an import
            os.unlink(tmp)
        except OSError:
            pass


def read_cache(path: str) -> Any:
    try:
        with open(path, "rb") as f:
            return loads(f.read())
    except (OSError, ValueError):
        return None


RECENT = 64  # answers kept with their counts: a streamed answer's lines are written together


def _add(totals: dict[str, list[int]], model: str, counts: list[int], sign: int) -> None:
    row = totals.setdefault(model, [0, 0, 0, 0, 0])
    row[0] += sign
    for i in range(4):
        row[i + 1] += sign * counts[i]


def session_totals(transcript: str, cache_path: str) -> dict[str, list[int]]:
    """{model: [requests, input, output, cache read, cache write]} of one transcript, reading
    only what was appended since the last call.

    Two cache files: a small one (the offset and the totals), all a refresh with nothing new
    reads; and `.ids`, read only when lines were added: the last RECENT answers with their
    counts (an answer written again with fuller counts replaces them) and the ids of older ones
    (a copy of one of those is not counted again)."""
    head = read_cache(cache_path)
    if not isinstance(head, dict) or head.get("path") != transcript:
        head = {}
    offset, totals = head.get("offset"), head.get("totals")
    if not isinstance(offset, int) or not isinstance(totals, dict):
        offset, totals, head = 0, {}, {}
    try:
        size = os.path.getsize(transcript)
    except OSError:
        return totals
    if size == offset:
        return totals  # nothing new: the common refresh
    ids_path = cache_path + ".ids"
    ids = read_cache(ids_path) if head else None
    if size < offset or not isinstance(ids, dict):  # rewritten, or a cache of another file
        offset, totals, ids = 0, {}, {}
    recent: dict[str, Any] = ids["recent"] if isinstance(ids.get("recent"), dict) else {}
    seen_list: list[Any] = ids["seen"] if isinstance(ids.get("seen"), list) else []
    seen = set(seen_list)
    try:
        with open(transcript, "rb") as f:
            f.seek(offset)
            chunk = f.read()
    except OSError:
        return totals
    end = chunk.rfind(b"\n") + 1  # only whole lines; a half-written one waits for next time
    for raw in chunk[:end].split(b"\n"):
        if b'"usage"' not in raw or b'"assistant"' not in raw:
            continue
        try:
            item = loads(raw)
        except ValueError:
            continue
        found = claude_line(item) if isinstance(item, dict) else None
        if found is None:
            continue
        key, model, usage = found
        counts = list(claude_tokens(usage))
        before = recent.get(key)
        if isinstance(before, list) and len(before) == 5:
            if counts[1] <= before[2]:
                continue
            _add(totals, str(before[0]), before[1:], -1)
        elif key in seen:
            continue
        _add(totals, model, counts, 1)
        recent.pop(key, None)
        recent[key] = [model, *counts]
        while len(recent) > RECENT:
            oldest = next(iter(recent))
            recent.pop(oldest)
            seen_list.append(oldest)
            seen.add(oldest)
    # The list of older ids can be long: quoted by json's C encoder in one pass.
    seen_json = "[" + ",".join(map(_quote, map(str, seen_list))) + "]"
    write_cache(ids_path, '{"recent":' + dumps(recent) + ',"seen":' + seen_json + "}")
    write_cache(cache_path, {"path": transcript, "offset": offset + end, "totals": totals})
    return totals
