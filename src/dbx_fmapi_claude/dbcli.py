"""The `databricks` CLI, as a subprocess with bounded time. Stdlib only (token hot path)."""

from __future__ import annotations

import os
import time

from .errors import ExitCode, UserError
from .jsonread import loads
from .paths import which

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

INSTALL_HINT_LINUX = (
    "curl -fsSL https://raw.githubusercontent.com/databricks/setup-cli/main/install.sh | sh"
)
INSTALL_HINT_MAC = "brew tap databricks/tap && brew install databricks"

_LOGIN_MARKERS = (
    "databricks auth login",
    "oauth is not configured",
    "refresh token is invalid",
    "invalid_grant",
    "cannot configure default credentials",
)
_SECRETISH = r"(eyJ[\w-]{8,}\.[\w-]*\.?[\w-]*|dapi[0-9a-f]{16,}|dose[0-9a-f]{16,}|doau\w{16,})"


class Token:
    """An access token and its expiry (epoch seconds). Its repr never shows the token."""

    __slots__ = ("access_token", "expiry")

    def __init__(self, access_token: str, expiry: float) -> None:
        self.access_token = access_token
        self.expiry = expiry

    def __repr__(self) -> str:
        return f"Token(expiry={self.expiry!r})"


class CliError(UserError):
    """A failed CLI call; `kind` is "login", "missing", "timeout", "garbage" or "failed"."""

    def __init__(self, kind: str, message: str, fix: str | None, code: int = ExitCode.ERROR):
        super().__init__(message, fix, code)
        self.kind = kind


def install_hint() -> str:
    return INSTALL_HINT_MAC if os.uname().sysname == "Darwin" else INSTALL_HINT_LINUX


def find(env: Mapping[str, str]) -> str | None:
    return which("databricks", env)


def scrub(text: str) -> str:
    """One line of CLI output, safe to show: no token-looking strings, no `Error: ` prefix."""
    line = " ".join(text.split())
    if line.lower().startswith("error:"):
        line = line[6:].strip()
    import re  # only on the error path: re costs the token helper ~8 ms

    return re.sub(_SECRETISH, "[redacted]", line)[:400]


def command(*parts: str) -> str:
    """A command line to show the user, each part shell-quoted: safe to paste."""
    import shlex

    return " ".join(shlex.quote(p) for p in parts)


def login_command(host: str | None, profile: str) -> str:
    return command(
        "databricks", "auth", "login", *(["--host", host] if host else []), "--profile", profile
    )


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
    microsecond, equal to what datetime gives. Without re and datetime: ~10 ms on the helper."""
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


class _Finished:
    __slots__ = ("returncode", "stdout", "stderr")

    def __init__(self, returncode: int, stdout: str, stderr: str) -> None:
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr


def _spawn(argv: list[str], env: Mapping[str, str], timeout: float) -> _Finished:
    """Run argv with stdin from /dev/null, capturing stdout and stderr, killed after `timeout`.

    os.posix_spawn + select instead of subprocess: importing subprocess (threading, signal,
    selectors…) costs the token helper ~15 ms on every call, more than everything else it does.
    Raises TimeoutError or OSError.
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
    deadline = time.monotonic() + timeout
    try:
        while open_fds:
            left = deadline - time.monotonic()
            if left <= 0:
                os.kill(pid, 9)  # SIGKILL; the signal module costs an import here
                os.waitpid(pid, 0)
                raise TimeoutError
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


def _run(argv: list[str], env: Mapping[str, str], timeout: float) -> _Finished:
    exe = find(env)
    if exe is None:
        raise CliError(
            "missing", "the Databricks CLI (`databricks`) is not installed", install_hint()
        )
    try:
        return _spawn([exe, *argv], env, timeout)
    except TimeoutError:
        raise CliError(
            "timeout",
            f"`databricks {' '.join(argv[:2])}` did not answer within {timeout:g}s",
            "check your network, then: "
            + command("databricks", *argv[: argv.index("--profile") + 2])
            if "--profile" in argv
            else "check your network",
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
    """`databricks auth token --profile P -o json`; CliError(kind="login") when login is needed."""
    argv = ["auth", "token", "--profile", profile, "-o", "json"]
    if force:
        argv.append("--force-refresh")
    proc = _run(argv, env, timeout)
    if proc.returncode != 0:
        reason = scrub(proc.stderr or proc.stdout or f"exit status {proc.returncode}")
        if any(m in reason.lower() for m in _LOGIN_MARKERS):
            raise CliError(
                "login",
                f"Databricks login needed for profile {profile!r}: {reason}",
                login_command(host, profile),
                ExitCode.AUTH_NEEDED,
            )
        raise CliError(
            "failed",
            f"`{command('databricks', 'auth', 'token', '--profile', profile)}` failed: {reason}",
            command("databricks", "auth", "env", "--profile", profile),
        )
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
            "upgrade the Databricks CLI: " + install_hint(),
        ) from None
    return Token(token, expiry)


def auth_login(host: str, profile: str, *, env: Mapping[str, str], timeout: float = 900.0) -> None:
    """`databricks auth login` on the user's terminal (stdio inherited; the browser flow)."""
    import subprocess

    exe = find(env)
    if exe is None:
        raise CliError(
            "missing", "the Databricks CLI (`databricks`) is not installed", install_hint()
        )
    try:
        proc = subprocess.run(
            [exe, "auth", "login", "--host", host, "--profile", profile],
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=2,  # keep our stdout clean: the token helper prints only the token there
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise CliError(
            "timeout",
            f"Databricks login did not complete within {timeout:g}s",
            login_command(host, profile),
            ExitCode.AUTH_NEEDED,
        ) from None
    if proc.returncode != 0:
        raise CliError(
            "login",
            f"Databricks login for profile {profile!r} failed",
            login_command(host, profile),
            ExitCode.AUTH_NEEDED,
        )
