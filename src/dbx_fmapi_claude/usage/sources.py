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

from collections.abc import Mapping
from pathlib import Path

from ..agents.claude.usage import claude
from ..agents.codex.usage import codex
from ..agents.gemini.usage import gemini
from ..agents.opencode.usage import opencode
from ..agents.usagelog import Reader, Request

__all__ = ["READERS", "Reader", "Request", "requests"]

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
