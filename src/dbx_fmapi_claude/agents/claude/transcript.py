"""Claude Code's transcript lines (`~/.claude/projects/<folder>/<session>.jsonl`): which record an
answer, and its token counts. Standard library only and nothing imported: the status line
(usage/transcript.py) reads them on every refresh."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def claude_line(item: Mapping[str, Any]) -> tuple[str, str, Mapping[str, Any]] | None:
    """(key, model, usage) of a transcript line that records an answer, else None. The key is
    the message id (with the request id when there is one): the same answer written twice has
    the same key."""
    if item.get("type") != "assistant":
        return None
    message = item.get("message")
    if not isinstance(message, dict):
        return None
    usage, mid, model = message.get("usage"), message.get("id"), message.get("model")
    if not isinstance(usage, dict) or not isinstance(mid, str) or not isinstance(model, str):
        return None
    if model == "<synthetic>":  # Claude Code's own placeholder answers: no request was made
        return None
    request = item.get("requestId")
    return (f"{mid}:{request}" if isinstance(request, str) else mid), model, usage


def claude_tokens(usage: Mapping[str, Any]) -> tuple[int, int, int, int]:
    """(input, output, cache read, cache write) of a message's usage."""
    return (
        _int(usage.get("input_tokens")),
        _int(usage.get("output_tokens")),
        _int(usage.get("cache_read_input_tokens")),
        _int(usage.get("cache_creation_input_tokens")),
    )
