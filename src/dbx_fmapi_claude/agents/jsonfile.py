"""Pure transforms for an agent's JSON config file (Gemini CLI's settings.json, OpenCode's
opencode.json): set one member at a path, take it back out, every other member kept in order.

A file that is not a JSON object is refused (one line, the fix, nothing changed): it belongs to
the agent and the user, and a file we cannot read is never reset.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from pathlib import Path

from ..core.errors import UserError
from ..core.fileio import q

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MISSING: Any = object()


def parse(raw: bytes | None, path: Path, label: str) -> dict[str, Any]:
    """The object in `raw` ({} for no file); UserError when it is not a JSON object."""
    if raw is None or not raw.strip():
        return {}
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        why = exc.msg if isinstance(exc, json.JSONDecodeError) else "not UTF-8"
        where = f", line {exc.lineno}" if isinstance(exc, json.JSONDecodeError) else ""
        raise UserError(
            f"{path} is not valid JSON ({why}{where}); setup leaves {label}'s file alone and "
            "nothing was changed",
            f'repair it (comments are not supported here), then re-run: "${{EDITOR:-vi}}" '
            f"{q(path)}",
        ) from None
    if not isinstance(data, dict):
        raise UserError(
            f"{path} holds a JSON {type(data).__name__}, not an object; nothing was changed",
            f'repair it, then re-run: "${{EDITOR:-vi}}" {q(path)}',
        )
    return data


def same_document(raw: bytes, want: dict[str, Any]) -> bool:
    """Whether `raw` parses to `want` (False when it does not parse)."""
    try:
        return parse(raw, Path("original"), "") == want
    except UserError:
        return False


def dumps(data: dict[str, Any]) -> bytes:
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def get(data: dict[str, Any], keys: Sequence[str]) -> Any:
    """The member at `keys`, MISSING when absent (or a parent is not an object)."""
    node: Any = data
    for key in keys:
        if not isinstance(node, dict) or key not in node:
            return MISSING
        node = node[key]
    return node


def with_member(data: dict[str, Any], keys: Sequence[str], value: Any) -> dict[str, Any]:
    """A copy of `data` with `value` at `keys`: parents created (or replaced, when one is not an
    object), every other member where it was."""
    out = copy.deepcopy(data)
    node = out
    for key in keys[:-1]:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    node[keys[-1]] = copy.deepcopy(value)
    return out


def without_member(
    data: dict[str, Any], keys: Sequence[str], prior: Any = MISSING
) -> dict[str, Any]:
    """A copy of `data` with the member at `keys` back to `prior` (removed when MISSING; the
    parents that this leaves empty go too)."""
    if get(data, keys) is MISSING and prior is MISSING:
        return copy.deepcopy(data)
    if prior is not MISSING:
        return with_member(data, keys, prior)
    out = copy.deepcopy(data)
    chain = [out]
    for key in keys[:-1]:
        chain.append(chain[-1][key])
    chain[-1].pop(keys[-1], None)
    for depth in range(len(keys) - 1, 0, -1):
        if chain[depth]:
            break
        chain[depth - 1].pop(keys[depth - 1], None)
    return out


def edit(raw: bytes | None, data: dict[str, Any], new: dict[str, Any]) -> bytes | None:
    """The file's new bytes: unchanged when the content is the same."""
    if raw is not None and new == data:
        return raw
    return dumps(new)
