"""Today's and this month's spend, cached in one small file for the status line and the hook.

The status line must not read every transcript on every refresh: it reads this file, and when it
is older than MAX_AGE (or of another day, or priced with another prices file) it starts
`refresh.py` in the background (detached, output discarded) and shows what the file holds.
Standard library only, no json: the status line imports this.
"""

from __future__ import annotations

import os
import sys
import time

from .transcript import read_cache

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

VERSION = 1
MAX_AGE = 60.0  # seconds
FILE_NAME = "usage-summary.json"
SESSIONS = "statusline-sessions"  # one small cache per Claude Code session


def path(config_dir: str) -> str:
    return os.path.join(config_dir, FILE_NAME)


def session_cache(config_dir: str, session_id: str) -> str:
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in session_id)[:80] or "none"
    return os.path.join(config_dir, SESSIONS, safe + ".json")


def stamp(prices_path: str | None) -> list[Any]:
    """What a summary was priced with: the prices file and its mtime (None: no prices)."""
    if not prices_path:
        return [None, None]
    try:
        return [prices_path, os.stat(prices_path).st_mtime]
    except OSError:
        return [prices_path, None]


def today_and_month(now: float) -> tuple[str, str]:
    return time.strftime("%Y-%m-%d", time.localtime(now)), time.strftime(
        "%Y-%m", time.localtime(now)
    )


def read(config_dir: str) -> dict[str, Any] | None:
    data = read_cache(path(config_dir))
    if not isinstance(data, dict) or data.get("version") != VERSION:
        return None
    return data


def is_fresh(data: dict[str, Any] | None, prices_path: str | None, now: float) -> bool:
    if data is None:
        return False
    written = data.get("written")
    if not isinstance(written, (int, float)) or not 0 <= now - written <= MAX_AGE:
        return False
    day, _ = today_and_month(now)
    return data.get("day") == day and data.get("priced_with") == stamp(prices_path)


def same_period(data: dict[str, Any] | None, now: float) -> bool:
    """The summary is of today (so its figures can be shown, however old)."""
    return data is not None and data.get("day") == today_and_month(now)[0]


def spawn_refresh(config_dir: str, prices_path: str | None, env: dict[str, str]) -> None:
    """Start refresh.py detached; at most one at a time (a marker file, taken with O_EXCL and
    ignored once older than two minutes)."""
    marker = path(config_dir) + ".refreshing"
    try:
        os.makedirs(config_dir, exist_ok=True)
        try:
            if time.time() - os.stat(marker).st_mtime > 120:
                os.unlink(marker)
        except OSError:
            pass
        fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        os.close(fd)
    except OSError:
        return
    # -I: the status line runs in the user's project folder, and `-m` would put that folder first
    # on sys.path (a json.py there would be imported instead of the standard library's).
    argv = [sys.executable, "-I", "-m", "dbx_fmapi_claude.usage.refresh", config_dir]
    argv.append(prices_path or "")
    devnull = os.open(os.devnull, os.O_RDWR)
    try:
        os.posix_spawn(
            sys.executable,
            argv,
            env,
            file_actions=[
                (os.POSIX_SPAWN_DUP2, devnull, 0),
                (os.POSIX_SPAWN_DUP2, devnull, 1),
                (os.POSIX_SPAWN_DUP2, devnull, 2),
            ],
            setsid=True,
        )
    except OSError:
        try:  # noqa: SIM105 - contextlib would cost the status line an import
            os.unlink(marker)
        except OSError:
            pass
    finally:
        os.close(devnull)
