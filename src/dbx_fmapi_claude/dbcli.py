"""The `databricks` CLI, as a subprocess with bounded time. Stdlib only (token hot path)."""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Mapping
from datetime import datetime

from .errors import ExitCode, UserError
from .paths import which

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
_SECRETISH = re.compile(
    r"(eyJ[\w-]{8,}\.[\w-]*\.?[\w-]*|dapi[0-9a-f]{16,}|dose[0-9a-f]{16,}|doau\w{16,})"
)


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
    return _SECRETISH.sub("[redacted]", line)[:400]


def command(*parts: str) -> str:
    """A command line to show the user, each part shell-quoted: safe to paste."""
    import shlex

    return " ".join(shlex.quote(p) for p in parts)


def login_command(host: str | None, profile: str) -> str:
    return command(
        "databricks", "auth", "login", *(["--host", host] if host else []), "--profile", profile
    )


def parse_expiry(text: str) -> float:
    """RFC 3339 with up to 9 fractional digits and `Z` or an offset -> epoch seconds."""
    m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:?\d\d)?", text.strip())
    if not m:
        raise ValueError(f"unrecognised expiry {text!r}")
    base, frac, tz = m.groups()
    frac = (frac or ".0")[:7]
    if tz in (None, "Z"):
        tz = "+00:00"
    return datetime.fromisoformat(base + frac + tz).timestamp()


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
        data = json.loads(proc.stdout)
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
