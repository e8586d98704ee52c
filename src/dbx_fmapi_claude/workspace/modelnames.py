"""What a Claude model's name tells: its family, version and whether it is a 1M-token variant
(`parse`), and when Claude Code retires it (RETIREMENTS, `retiring`, `retirement_note`). Pure:
no request, nothing read but the names and the date."""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Mapping
from dataclasses import dataclass

from .client import LONG_CONTEXT

# Claude Code's own retirement table (first-party dates), copied from the Claude Code 2.1.332
# binary, where its `…claude-sonnet-4-5 retires on 2026-11-30` warning comes from. Keyed by
# (family, major, minor); a model absent here has no known retirement.
RETIREMENTS: dict[tuple[str, int, int], _dt.date] = {
    ("sonnet", 4, 5): _dt.date(2026, 11, 30),
    ("opus", 4, 5): _dt.date(2027, 1, 22),
    ("opus", 4, 1): _dt.date(2026, 8, 5),
    ("opus", 4, 0): _dt.date(2026, 6, 15),
    ("sonnet", 4, 0): _dt.date(2026, 6, 15),
    ("haiku", 3, 0): _dt.date(2026, 4, 20),
    ("sonnet", 3, 7): _dt.date(2026, 2, 19),
    ("haiku", 3, 5): _dt.date(2026, 2, 19),
    ("opus", 3, 0): _dt.date(2026, 1, 5),
    ("sonnet", 3, 5): _dt.date(2025, 10, 28),
    ("sonnet", 3, 0): _dt.date(2025, 7, 21),
}
SOURCE = "Claude Code 2.1.332's model retirement table"
SOON = _dt.timedelta(days=7)  # "retiring this week": never offered as a default
TODAY_ENV = "DBX_FMAPI_TODAY"  # YYYY-MM-DD: the date the retirement rules use (tests)

_NAME = re.compile(
    r"claude-(?:(?P<fam>opus|sonnet|haiku|fable)-(?P<a>\d+)(?:-(?P<b>\d+))?"
    r"|(?P<a2>\d+)(?:-(?P<b2>\d+))?-(?P<fam2>opus|sonnet|haiku|fable))(?:$|[-.\[])"
)


def today(env: Mapping[str, str] | None = None) -> _dt.date:
    text = (env or {}).get(TODAY_ENV, "")
    try:
        return _dt.date.fromisoformat(text) if text else _dt.date.today()
    except ValueError:
        return _dt.date.today()


@dataclass(frozen=True)
class Name:
    family: str | None
    version: tuple[int, int]
    long_context: bool


def parse(name: str) -> Name:
    """`databricks-claude-opus-4-8[1m]`, `system.ai.claude-opus-4-8`, `claude-3-7-sonnet`, … ->
    family, (major, minor), and whether it is a 1M-token variant."""
    long_context = name.endswith(LONG_CONTEXT)
    m = _NAME.search(name.lower())
    if m is None:
        return Name(None, (0, 0), long_context)
    fam = m.group("fam") or m.group("fam2")
    a = m.group("a") or m.group("a2")
    b = m.group("b") if m.group("fam") else m.group("b2")
    return Name(fam, (int(a), int(b or 0)), long_context)


def base_name(name: str) -> str:
    return name[: -len(LONG_CONTEXT)] if name.endswith(LONG_CONTEXT) else name


def recognised(name: str) -> bool:
    """Does Claude Code know this model by its name (and so its context window)? Measured with
    2.1.332: `databricks-claude-…`, `system.ai.claude-…` and `claude-…` names of a Claude family
    are; anything else gets a warning and an assumed 1M-token window."""
    return parse(name).family is not None


def retirement(name: str) -> _dt.date | None:
    n = parse(name)
    if n.family is None:
        return None
    return RETIREMENTS.get((n.family, *n.version))


def retiring(name: str, on: _dt.date) -> str | None:
    """ "retired", "retiring" (within SOON) or None."""
    when = retirement(name)
    if when is None:
        return None
    if when <= on:
        return "retired"
    return "retiring" if when - on <= SOON else None


def retirement_note(name: str, on: _dt.date) -> str | None:
    """`retires on 2026-11-30 (tomorrow)`-style words for people, None when not soon."""
    state = retiring(name, on)
    when = retirement(name)
    if state is None or when is None:
        return None
    if state == "retired":
        return f"was retired on {when.isoformat()} ({SOURCE})"
    days = (when - on).days
    return f"retires on {when.isoformat()}, in {days} day{'s' if days != 1 else ''} ({SOURCE})"
