"""Claude Code's usage records: its transcripts (usage/sources.py says what they hold)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

from ..usagelog import Request, _epoch, _files, _json_lines
from .transcript import claude_line, claude_tokens


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
