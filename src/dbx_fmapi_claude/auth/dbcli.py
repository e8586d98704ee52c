"""The `databricks` CLI, as a subprocess with bounded time. Stdlib only (token hot path)."""

from __future__ import annotations

import os
import time

from ..core.jsonread import loads
from ..core.paths import which
from .cli_errors import (  # re-exported: callers know them as dbcli.*
    INSTALL_HINT_LINUX as INSTALL_HINT_LINUX,
)
from .cli_errors import (
    INSTALL_HINT_MAC as INSTALL_HINT_MAC,
)
from .cli_errors import (
    MIN_VERSION as MIN_VERSION,
)
from .cli_errors import (
    CliError as CliError,
)
from .cli_errors import (
    classify as classify,
)
from .cli_errors import (
    command as command,
)
from .cli_errors import (
    connect_problem as connect_problem,
)
from .cli_errors import (
    install_hint as install_hint,
)
from .cli_errors import (
    last_error as last_error,
)
from .cli_errors import (
    login_command as login_command,
)
from .cli_errors import (
    network_error as network_error,
)
from .cli_errors import (
    network_fix as network_fix,
)
from .cli_errors import (
    nonoauth_error as nonoauth_error,
)
from .cli_errors import (
    scrub as scrub,
)
from .cli_errors import (
    token_error as token_error,
)
from .cli_errors import (
    upgrade_hint as upgrade_hint,
)
from .source import BY_NAME

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

PROBE_AFTER = 2.0  # a CLI call still running after this long gets a reachability probe
PROBE_TIMEOUT = 3.0


class Token:
    """An access token and its expiry (epoch seconds). Its repr never shows the token."""

    __slots__ = ("access_token", "expiry", "warned")

    def __init__(self, access_token: str, expiry: float) -> None:
        self.access_token = access_token
        self.expiry = expiry
        self.warned = False  # a warning about its short life was already shown

    def __repr__(self) -> str:
        return f"Token(expiry={self.expiry!r})"


def find(env: Mapping[str, str]) -> str | None:
    return which("databricks", env)


def parse_version(text: str) -> tuple[int, int, int] | None:
    """`Databricks CLI v0.298.0` -> (0, 298, 0)."""
    for word in text.split():
        parts = word.lstrip("v").split("-")[0].split(".")
        if len(parts) == 3 and all(p.isdigit() for p in parts):
            return (int(parts[0]), int(parts[1]), int(parts[2]))
    return None


def version(env: Mapping[str, str], timeout: float = 10.0) -> tuple[int, int, int] | None:
    """The installed CLI's version, None when it cannot be told."""
    exe = find(env)
    if exe is None:
        return None
    try:
        proc = _spawn([exe, "--version"], env, timeout)
    except (OSError, TimeoutError):
        return None
    return parse_version(proc.stdout) if proc.returncode == 0 else None


def too_old_warning(found: tuple[int, int, int] | None) -> str | None:
    """The one-line warning for a CLI older than MIN_VERSION, with the upgrade command."""
    if found is None or found >= MIN_VERSION:
        return None
    have, need = ".".join(map(str, found)), ".".join(map(str, MIN_VERSION))
    return (
        f"Databricks CLI v{have} is older than v{need}, the minimum fully supported (it cannot "
        f"force a token refresh); upgrade it: {upgrade_hint()}"
    )


def reachable(host: str, env: Mapping[str, str], timeout: float = PROBE_TIMEOUT) -> str | None:
    """Why the workspace cannot be reached (reach.py), None when it can."""
    from .reach import reachable as probe

    return probe(host, env, timeout)


def check_reachable(host: str, env: Mapping[str, str], retry: str | None = None) -> None:
    """Raise the network CliError (exit 1, fix: check the URL) when the workspace cannot be
    reached: before a login, which would otherwise fail after the browser, or retry for
    minutes, and whose error reads like a login problem."""
    problem = reachable(host, env)
    if problem is not None:
        raise network_error(host, problem, retry)


def _digits(text: str, start: int, count: int) -> int:
    part = text[start : start + count]
    if len(part) != count or not (part.isascii() and part.isdigit()):
        raise ValueError
    return int(part)


def _days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm)."""
    year -= month <= 2
    era = year // 400
    yoe = year - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def parse_expiry(text: str) -> float:
    """RFC 3339 (`2026-11-25T10:00:00.123456789+01:00`: fraction optional, any number of its
    digits, `Z`, an offset with or without the colon, or none for UTC) -> epoch seconds, to the
    microsecond, equal to what datetime gives. Without re and datetime, which the helper would
    otherwise import on every call."""
    s = text.strip()
    try:
        if len(s) < 19 or s[4] + s[7] + s[10] + s[13] + s[16] != "--T::":
            raise ValueError
        year, month, day = _digits(s, 0, 4), _digits(s, 5, 2), _digits(s, 8, 2)
        hour, minute, second = _digits(s, 11, 2), _digits(s, 14, 2), _digits(s, 17, 2)
        pos, micro = 19, 0
        if s[pos : pos + 1] == ".":
            end = pos + 1
            while end < len(s) and s[end].isascii() and s[end].isdigit():
                end += 1
            if end == pos + 1:
                raise ValueError
            micro = int(s[pos + 1 : end][:6].ljust(6, "0"))
            pos = end
        tz, offset = s[pos:], 0
        if tz not in ("", "Z"):
            if tz[0] not in "+-" or len(tz) not in (5, 6) or (len(tz) == 6 and tz[3] != ":"):
                raise ValueError
            off_h, off_m = _digits(tz, 1, 2), _digits(tz, len(tz) - 2, 2)
            if off_h > 23 or off_m > 59:
                raise ValueError
            offset = (off_h * 3600 + off_m * 60) * (-1 if tz[0] == "-" else 1)
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        month_days = (31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
        if not (year >= 1 and 1 <= month <= 12 and 1 <= day <= month_days[month - 1]):
            raise ValueError
        if hour > 23 or minute > 59 or second > 59:
            raise ValueError
    except (ValueError, IndexError):
        raise ValueError(f"unrecognised expiry {text!r}") from None
    seconds = _days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second
    return ((seconds - offset) * 10**6 + micro) / 10**6


class Unreachable(Exception):
    pass


class _Finished:
    __slots__ = ("returncode", "stdout", "stderr")

    def __init__(self, returncode: int, stdout: str, stderr: str) -> None:
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr


def _spawn(
    argv: list[str],
    env: Mapping[str, str],
    timeout: float,
    probe: Callable[[], str | None] | None = None,
) -> _Finished:
    """Run argv with stdin from /dev/null, capturing stdout and stderr, killed after `timeout`.

    os.posix_spawn + select instead of subprocess: importing subprocess (threading, signal,
    selectors…) costs the token helper more on every call than everything else it does.
    `probe` runs once if the program is still going after PROBE_AFTER seconds; a reason it
    returns kills the program and raises Unreachable(reason). Raises TimeoutError or OSError.
    """
    import select

    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    try:
        pid = os.posix_spawn(
            argv[0],
            argv,
            dict(env),
            file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                (os.POSIX_SPAWN_DUP2, out_w, 1),
                (os.POSIX_SPAWN_DUP2, err_w, 2),
            ],
        )
    finally:
        os.close(out_w)
        os.close(err_w)
    chunks: dict[int, list[bytes]] = {out_r: [], err_r: []}
    open_fds = [out_r, err_r]
    start = time.monotonic()
    deadline = start + timeout
    probe_at = start + PROBE_AFTER if probe is not None else deadline
    try:
        while open_fds:
            now = time.monotonic()
            if probe is not None and now >= probe_at:
                reason, probe, probe_at = probe(), None, deadline
                if reason is not None:
                    os.kill(pid, 9)
                    os.waitpid(pid, 0)
                    raise Unreachable(reason)
                continue
            if now >= deadline:
                os.kill(pid, 9)  # SIGKILL; the signal module costs an import here
                os.waitpid(pid, 0)
                raise TimeoutError
            left = min(deadline, probe_at) - now
            ready, _, _ = select.select(open_fds, [], [], left)
            for fd in ready:
                data = os.read(fd, 65536)
                if data:
                    chunks[fd].append(data)
                else:
                    open_fds.remove(fd)
        _, status = os.waitpid(pid, 0)
    finally:
        os.close(out_r)
        os.close(err_r)
    return _Finished(
        os.waitstatus_to_exitcode(status),
        b"".join(chunks[out_r]).decode("utf-8", "replace"),
        b"".join(chunks[err_r]).decode("utf-8", "replace"),
    )


def _run(
    argv: list[str], env: Mapping[str, str], timeout: float, host: str | None = None
) -> _Finished:
    """Run the CLI, bounded by `timeout`; with `host`, a call that hangs is cut short as soon as
    the workspace turns out to be unreachable (the CLI's SDK retries a refused connection for
    minutes, and its own --timeout does not bound that)."""
    exe = find(env)
    if exe is None:
        raise CliError(
            "missing", "the Databricks CLI (`databricks`) is not installed", install_hint()
        )
    profile = argv[argv.index("--profile") + 1] if "--profile" in argv else None
    probe = (lambda: reachable(host, env)) if host else None
    try:
        return _spawn([exe, *argv], env, timeout, probe)
    except Unreachable as exc:
        retry = command("databricks", *argv[:2], "--profile", profile) if profile else None
        # Told, so the user knows why: the CLI would have kept retrying for minutes.
        raise network_error(
            host,
            f"{exc}; stopped `databricks {' '.join(argv[:2])}`, which retries for minutes",
            retry,
        ) from None
    except TimeoutError:
        raise CliError(
            "timeout",
            f"`databricks {' '.join(argv[:2])}` did not answer within {timeout:g}s",
            network_fix(profile) if profile else "check your network or VPN",
        ) from None
    except OSError as exc:
        raise CliError(
            "missing", f"cannot run {exe}: {exc.strerror or exc}", install_hint()
        ) from None


def auth_token(
    profile: str,
    *,
    env: Mapping[str, str],
    host: str | None = None,
    force: bool = False,
    timeout: float = 60.0,
) -> Token:
    """`databricks auth token --profile P -o json`, classified on failure (see CliError)."""
    argv = ["auth", "token", "--profile", profile, "-o", "json"]
    if force:
        argv.append("--force-refresh")
    proc = _run(argv, env, timeout, host)
    if proc.returncode != 0:
        error = last_error(proc.stderr or proc.stdout or f"exit status {proc.returncode}")
        kind = classify(error)
        if kind in ("login", "profile") and host:
            # A login cannot help a workspace no one can reach (a typo in the URL, a workspace
            # that is down): say that, not "log in" (one probe, on this failure path only).
            check_reachable(host, env, command("databricks", *argv[:4]))
        raise token_error(kind, scrub(error.splitlines()[0] if error else ""), profile, host, error)
    try:
        data = loads(proc.stdout)
        token = str(data["access_token"])
        expiry = parse_expiry(str(data["expiry"]))
        if not token or any(c.isspace() for c in token):
            raise ValueError("empty or malformed access_token")
    except (ValueError, KeyError, TypeError):
        raise CliError(
            "garbage",
            "`databricks auth token` printed something that is not a token (is the CLI too old?)",
            "upgrade the Databricks CLI: " + upgrade_hint(),
        ) from None
    return Token(token, expiry)


def profile_kind(profile: str, env: Mapping[str, str]) -> str:
    """The credential kind of a profile in ~/.databrickscfg (OAUTH when absent or unreadable:
    the CLI then has nothing a login could destroy)."""
    from . import databrickscfg

    try:
        sections = databrickscfg.load(env.get("HOME") or os.path.expanduser("~"), env) or {}
    except (OSError, ValueError):
        return databrickscfg.OAUTH
    return databrickscfg.credential_kind(sections.get(profile))


def refuse_nonoauth(profile: str, host: str | None, env: Mapping[str, str]) -> None:
    """Raise before anything could log in on a profile that holds a PAT, a secret or another
    non-OAuth credential."""
    kind = profile_kind(profile, env)
    known = BY_NAME.get(kind)
    if known is None or not known.browser_login:
        raise nonoauth_error(profile, kind, host)


def auth_login(host: str, profile: str, *, env: Mapping[str, str], timeout: float = 900.0) -> None:
    """`databricks auth login` on the user's terminal (cli_login.py)."""
    from .cli_login import login

    login(host, profile, env=env, timeout=timeout)
