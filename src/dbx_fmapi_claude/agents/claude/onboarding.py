"""`"hasCompletedOnboarding": true` in Claude Code's ~/.claude.json, so the first launch opens
straight on the folder-trust question.

Setup adds it when it is absent, and uninstall takes it out again. Claude Code keeps that file in
memory and may write it back from there (it does when it cannot take its own lock on the file),
so a session that was running while setup wrote the flag can drop it again. That is a race setup
cannot win, so `dbx-fmapi-claude` puts the flag back before it starts claude whenever setup added
it and it has gone (`restore`).

Stdlib only: `restore` runs on every launch. With the flag there it costs one read and a byte
search, no json; only a missing flag pays for parsing and writing.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from ...core.paths import Paths

KEY = "hasCompletedOnboarding"
_KEY_BYTES = b'"hasCompletedOnboarding"'


def with_flag(raw: bytes | None) -> bytes | None:
    """~/.claude.json with hasCompletedOnboarding: true inserted as the first key, every other
    byte kept; None when nothing is to change (flag present) or the file is not a JSON object."""
    import json

    if raw is None:
        return b'{\n  "hasCompletedOnboarding": true\n}\n'
    try:
        text = raw.decode("utf-8")
        data = json.loads(text)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or KEY in data:
        return None
    start = text.index("{")
    rest = text[start + 1 :]
    if not data:
        close = rest.index("}")
        new_text = text[:start] + '{\n  "hasCompletedOnboarding": true\n' + rest[close:]
    else:
        ws = rest[: len(rest) - len(rest.lstrip())]
        new_text = text[: start + 1] + ws + '"hasCompletedOnboarding": true,' + rest
    check = json.loads(new_text)
    if check != {KEY: True, **data}:
        return None
    return new_text.encode("utf-8")


def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError:
        return None


def restore(paths: Paths, cfg: Mapping[str, Any]) -> bool:
    """Put the flag back when setup added it (the record says so) and it is gone from an existing
    ~/.claude.json that is a JSON object; True when the file was written. A file that is absent,
    unreadable or not JSON is Claude Code's business: left alone."""
    if cfg.get("onboarding_added") is not True:
        return False
    path = os.path.join(paths.home_path, ".claude.json")
    raw = _read(path)
    if raw is None or _KEY_BYTES in raw:
        return False
    for _ in range(3):  # claude may write it meanwhile: our edit is redone on its bytes
        new = with_flag(raw)
        if new is None:
            return False
        now = _read(path)
        if now is None:
            return False
        if now != raw:
            raw = now
            continue
        from pathlib import Path  # only to write: the check above stays pathlib-free

        from ...core.fileio import atomic_write

        atomic_write(Path(path), new)
        return True
    return False
