"""What the agents' usage readers share (`Agent.usage_source`, usage/sources.py): one `Request`
per model answer, and reading the JSON lines and files the agents record their sessions in."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


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


def count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def epoch(text: Any) -> float | None:
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


def json_lines(path: Path) -> Iterator[dict[str, Any]]:
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


def files(root: Path, pattern: str, since: float) -> list[Path]:
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


Reader = Callable[[Path, Mapping[str, str], float], Iterator[Request]]
