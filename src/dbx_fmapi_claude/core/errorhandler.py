"""What a user sees when something goes wrong that we did not expect (a bug of ours).

One short line and exit 3, never a raw traceback: the traceback goes to `<config_dir>/error.log`
(0600, the last such error only; the message gives its path), and to stderr as well with
`--debug` (dbx-fmapi, setup-fmapi-claudecode) or DBX_FMAPI_DEBUG=1 (all three programs:
dbx-fmapi-claude hands every argument to claude, so it has no flag of its own). Our own
UserErrors never come here: they are one line and a fix, printed by each entry point.

Imported only once such an error has happened, so traceback and friends stay off the wrapper's
and the token helper's paths.
"""

from __future__ import annotations

import os
import sys

from .errors import ExitCode

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import IO

DEBUG_ENV = "DBX_FMAPI_DEBUG"


def debug_from_env(env: Mapping[str, str]) -> bool:
    return env.get(DEBUG_ENV, "").strip().lower() not in ("", "0", "false", "no")


def _scrub(line: str) -> str:
    """`line` as it is, or redacted (then on one line) when something in it looks like a token:
    the one redaction rule (core/redact.py)."""
    from .redact import one_line

    flat = " ".join(line.split())
    safe = one_line(flat)
    if safe == flat[:400]:
        return line
    indent = line[: len(line) - len(line.lstrip())]
    return indent + safe + ("\n" if line.endswith("\n") else "")


def summary(exc: BaseException) -> str:
    """`Type: message` on one line, token-looking strings redacted."""
    name = type(exc).__qualname__
    text = " ".join(_scrub(str(exc)).split())[:400]
    return f"{name}: {text}" if text else name


def log_path(env: Mapping[str, str]) -> str:
    from .paths import Paths

    return Paths.from_env(env).error_log_path


def _write_log(path: str, prog: str, text: str) -> bool:
    """Write the report atomically, 0600 (it is ours, and no one else's to read)."""
    import time

    from .. import __version__

    header = [
        f"{prog} {__version__}: unexpected error at {time.strftime('%Y-%m-%d %H:%M:%S %z')}",
        f"python {sys.version.split()[0]} on {sys.platform}",
        "",
    ]
    body = "\n".join([*header, text.rstrip("\n"), ""]).encode("utf-8", "backslashreplace")
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, body)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except OSError:
        import contextlib

        with contextlib.suppress(OSError):
            os.unlink(tmp)
        return False
    return True


def report(
    prog: str,
    exc: BaseException,
    *,
    debug: bool = False,
    env: Mapping[str, str] | None = None,
    stderr: IO[str] | None = None,
) -> int:
    """Tell the user about `exc` in a few lines, keep its traceback; returns exit code 3."""
    err = sys.stderr if stderr is None else stderr
    env = os.environ if env is None else env
    try:
        import traceback

        lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
        text = "".join(_scrub(line) for line in "".join(lines).splitlines(keepends=True))
        show = debug or debug_from_env(env)
        path = log_path(env)
        logged = _write_log(path, prog, text)
        if show:
            err.write(text if text.endswith("\n") else text + "\n")
        out = [f"{prog}: unexpected error: {summary(exc)}"]
        if logged:
            out.append(f"  the traceback is in {path}")
        elif not show:
            out.append(f"  to see the traceback: {DEBUG_ENV}=1 {prog} …")
        out.append("  this is a bug in dbx-fmapi-claude: please report it with the traceback")
        err.write("\n".join(out) + "\n")
        err.flush()
    except Exception:  # noqa: BLE001 - the report itself failed: the one line still goes out
        try:
            err.write(f"{prog}: unexpected error: {type(exc).__qualname__}\n")
            err.flush()
        except Exception:  # noqa: BLE001, S110 - nothing left to tell the user with
            pass
    return ExitCode.UNEXPECTED
