"""Output for people: PASS/WARN/FAIL/SKIP lines, colour only on a TTY (NO_COLOR honoured),
durations, and a progress line on stderr while we wait on the network. Stdlib only."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

from .context import Context

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO

PASS = "PASS"  # noqa: S105 - a check status, not a password
WARN = "WARN"
FAIL = "FAIL"
SKIP = "SKIP"
STATUSES = (PASS, WARN, FAIL, SKIP)

_CODES = {
    PASS: "32",  # green
    WARN: "33",  # yellow
    FAIL: "31",  # red
    SKIP: "2",  # dim
    "bold": "1",
    "dim": "2",
    "green": "32",
    "yellow": "33",
    "red": "31",
}


class Painter:
    """Wraps text in ANSI colours when enabled; plain text otherwise."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str, style: str) -> str:
        code = _CODES.get(style)
        if not self.enabled or not code:
            return text
        return f"\033[{code}m{text}\033[0m"

    def status(self, status: str) -> str:
        return self(f"{status:<4}", status)


def painter(ctx: Context) -> Painter:
    return Painter(ctx.color())


def stderr_color(ctx: Context) -> bool:
    if "NO_COLOR" in ctx.env or ctx.env.get("TERM") == "dumb":
        return False
    return _isatty(ctx.stderr)


def _isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (ValueError, OSError, AttributeError):
        return False


def duration(seconds: float) -> str:
    """Human time span: `45s`, `12m`, `1h 05m`, `3d 4h`."""
    s = int(abs(seconds))
    if s < 90:
        return f"{s}s"
    m = s // 60
    if m < 60:
        return f"{m}m"
    h, m = divmod(m, 60)
    if h < 48:
        return f"{h}h {m:02d}m"
    d, h = divmod(h, 24)
    return f"{d}d {h}h"


def clock(epoch: float) -> str:
    """Local wall-clock time of an epoch, e.g. `14:32` (with the date when not today)."""
    t = time.localtime(epoch)
    if time.strftime("%Y-%m-%d", t) == time.strftime("%Y-%m-%d"):
        return time.strftime("%H:%M", t)
    return time.strftime("%Y-%m-%d %H:%M", t)


def iso(epoch: float | None) -> str | None:
    """RFC 3339 UTC (`2026-11-25T01:20:09Z`) for --json, None stays None."""
    if epoch is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


class Progress:
    """One transient line on stderr while something waits on the network; only on a TTY, so
    logs and pipes stay clean. Cleared before anything else is printed."""

    def __init__(self, ctx: Context) -> None:
        self.stream = ctx.stderr
        self.enabled = _isatty(ctx.stderr)
        self._shown = False

    def show(self, text: str) -> None:
        if not self.enabled:
            return
        self.stream.write("\r\033[K" + text[:200] + " …")
        self.stream.flush()
        self._shown = True

    def clear(self) -> None:
        if self._shown:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self._shown = False

    @contextlib.contextmanager
    def step(self, text: str) -> Iterator[None]:
        self.show(text)
        try:
            yield
        finally:
            self.clear()
