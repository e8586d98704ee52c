"""`<config_dir>/originals/`: the bytes (and permission bits) of each user file as it was before
setup first changed it (never for a file holding a token), so uninstall can restore it
byte-identical when nothing else changed in it since."""

from __future__ import annotations

from ..core.fileio import atomic_write
from ..core.jsonread import loads

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

    from ..core.paths import Paths


def _original_path(paths: Paths, target: Path) -> Path:
    import hashlib

    digest = hashlib.sha256(str(target).encode()).hexdigest()[:24]
    return paths.config_dir / "originals" / f"{digest}.json"


def save_original(paths: Paths, target: Path, raw: bytes | None) -> Path | None:
    """Remember `target`'s bytes before our first change (None: it did not exist). Kept once:
    returns the record's path when this call wrote it."""
    import base64
    import json

    dest = _original_path(paths, target)
    if dest.exists():
        return None
    record: dict[str, Any] = {
        "path": str(target),
        "data": None if raw is None else base64.b64encode(raw).decode(),
    }
    if raw is not None:
        import contextlib
        import os

        with contextlib.suppress(OSError):  # static mode tightens the mode to 0600
            record["mode"] = os.stat(target).st_mode & 0o7777
    atomic_write(dest, (json.dumps(record) + "\n").encode(), secret=True)
    return dest


def load_original(paths: Paths, target: Path) -> tuple[bool, bytes | None]:
    """(known, bytes): known is False when nothing was saved for `target`."""
    import base64

    try:
        record = loads(_original_path(paths, target).read_bytes())
        data = record["data"]
        return True, None if data is None else base64.b64decode(data)
    except (OSError, ValueError, KeyError, TypeError):
        return False, None


def original_mode(paths: Paths, target: Path) -> int | None:
    """The permission bits `target` had when its original was saved, None when unknown."""
    try:
        mode = loads(_original_path(paths, target).read_bytes()).get("mode")
    except (OSError, ValueError, AttributeError):
        return None
    return mode if isinstance(mode, int) and not isinstance(mode, bool) else None


def drop_original(paths: Paths, target: Path) -> None:
    import contextlib

    with contextlib.suppress(FileNotFoundError):
        _original_path(paths, target).unlink()
