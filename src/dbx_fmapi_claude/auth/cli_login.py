"""`databricks auth login`, run for the user: its output shown as it comes and kept, its last
error read for what it is (a network or token-store failure is not a failed login), bounded.
Not on the token helper's normal path (only when a login is needed)."""

from __future__ import annotations

import contextlib
import os
import time

from ..core.errors import ExitCode
from .dbcli import (
    CliError,
    _Finished,
    check_reachable,
    classify,
    connect_problem,
    find,
    install_hint,
    last_error,
    login_command,
    network_error,
    refuse_nonoauth,
    scrub,
    token_error,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping


def login(host: str, profile: str, *, env: Mapping[str, str], timeout: float = 900.0) -> None:
    """`databricks auth login` on the user's terminal (the browser flow; everything it prints
    goes to our stderr as it comes, and its last error is read for what it is). Never on a
    profile whose credential is not OAuth: the CLI would rewrite it. Never for a workspace that
    cannot be reached: that is said at once (exit 1), not as a failed login minutes later."""
    refuse_nonoauth(profile, host, env)
    exe = find(env)
    if exe is None:
        raise CliError(
            "missing", "the Databricks CLI (`databricks`) is not installed", install_hint()
        )
    check_reachable(host, env)
    try:
        proc = _tee([exe, "auth", "login", "--host", host, "--profile", profile], env, timeout)
    except TimeoutError:
        raise CliError(
            "timeout",
            f"Databricks login did not complete within {timeout:g}s",
            login_command(host, profile),
            ExitCode.AUTH_NEEDED,
        ) from None
    except OSError as exc:
        raise CliError(
            "missing", f"cannot run {exe}: {exc.strerror or exc}", install_hint()
        ) from None
    if proc.returncode == 0:
        return
    error = last_error(proc.stderr)
    kind = classify(error)
    reason = scrub(error.splitlines()[0]) if error.strip() else ""
    if kind == "network":
        problem = connect_problem(error)
        if problem is not None:
            raise network_error(host, problem)
    if kind in ("network", "storage"):
        raise token_error(kind, reason, profile, host, error)
    raise CliError(
        "login",
        f"Databricks login for profile {profile!r} failed" + (f": {reason}" if reason else ""),
        login_command(host, profile),
        ExitCode.AUTH_NEEDED,
    )


def _tee(argv: list[str], env: Mapping[str, str], timeout: float) -> _Finished:
    """Run argv with stdin from /dev/null, its stdout and stderr copied to our stderr as they
    come (the login's link and messages; our stdout stays clean for the token helper) and kept,
    killed after `timeout` (TimeoutError)."""
    import subprocess

    proc = subprocess.Popen(  # noqa: S603 - argv is the CLI and fixed words
        argv, env=dict(env), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    assert proc.stdout is not None
    kept: list[bytes] = []
    try:
        _copy(proc.stdout.fileno(), kept, time.monotonic() + timeout)
    except TimeoutError:
        proc.kill()
        proc.wait()
        raise
    finally:
        proc.stdout.close()
    code = proc.wait()
    return _Finished(code, "", b"".join(kept).decode("utf-8", "replace"))


def _copy(fd: int, kept: list[bytes], deadline: float) -> None:
    import select

    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            continue
        data = os.read(fd, 65536)
        if not data:
            return
        kept.append(data)
        with contextlib.suppress(OSError):
            os.write(2, data)
