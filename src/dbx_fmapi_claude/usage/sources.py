"""The agents' own session records, as one stream of requests: each agent of the registry with a
reader (`Agent.usage_source`, agents/<name>/usage.py, which says what the agent records) yields
`Request`s, one per model answer, counted once however many times the agent wrote it down.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from .. import agents
from ..agents.usagelog import Reader, Request

__all__ = ["Reader", "Request", "readers", "requests"]


def readers() -> list[Reader]:
    """The readers of the agents that record their usage, in the registry's order."""
    return [a.usage_source for a in agents.every() if a.usage_source is not None]


def requests(home: Path, env: Mapping[str, str], since: float) -> list[Request]:
    """Every recorded request at or after `since` (epoch seconds), all agents."""
    out: list[Request] = []
    for reader in readers():
        out.extend(r for r in reader(home, env, since) if r.time >= since)
    return out
