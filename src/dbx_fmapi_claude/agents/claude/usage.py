"""Claude Code: `~/.claude/projects/<folder>/<session>.jsonl`; assistant lines carry `message.id`,
`message.model`, `message.usage` (input, output, cache creation, cache read) and `requestId`.
A streamed answer is written as several lines (one per content block) with the same id; a
resumed or forked session copies earlier lines into a new file: each id counts once.

Measured with the pinned binaries (docs/usage.md); `dbx-fmapi usage` reads it through
Agent.usage_source (usage/sources.py)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

from ..usagelog import Request, epoch, files, json_lines
from .transcript import claude_line, claude_tokens


def read(home: Path, env: Mapping[str, str], since: float) -> Iterator[Request]:
    root = Path(env.get("CLAUDE_CONFIG_DIR") or home / ".claude") / "projects"
    seen: dict[str, Request] = {}
    for path in files(root, "**/*.jsonl", since):
        session = path.stem
        for item in json_lines(path):
            found = claude_line(item)
            if found is None:
                continue
            key, model, usage = found
            when = epoch(item.get("timestamp"))
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
