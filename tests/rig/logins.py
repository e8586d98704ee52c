"""Logins in tests: the machine-wide login lock every `databricks auth login` takes (the OAuth
callback port is one for the machine), its optional log (DBX_TEST_LOGIN_LOCK_LOG, summed up by
`python -m tests.rig.lockmeter`), and Sandbox.signed_in's replay of one real login, which
spares a test that only needs a signed-in CLI the browser and the lock."""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.rig.sandbox import Sandbox

# `databricks auth login` listens for the browser's callback on the first free port of
# localhost:8020-8040 (databricks-sdk-go, credentials/u2m), and so does the fake CLI: one range
# for every login on the machine, whichever test, xdist worker or suite runs it. A browser still
# following an earlier, killed login's redirect would hand its code to whichever login holds
# that port by then, which fails on the state check. So logins take this lock first (one at a
# time on the machine) and pass it down: the CLI and the browser it opens inherit the locked
# file, so the next login starts only after both are gone.
LOGIN_LOCK = Path(tempfile.gettempdir()) / "dbx-fmapi-tests-oauth-callback.lock"
LOGIN_LOCK_WAIT = 60  # seconds; past that a login goes ahead anyway (the CLI tries other ports)
# A login run by Sandbox.login waits up to LOGIN_LOCK_WAIT for the lock, then up to its own
# --timeout for the browser's callback: it gives up only after both (LOGIN_SLACK for the rest).
LOGIN_SLACK = 10
# Set (to a file) in the environment of a test run: every login appends "want", "acquire" and
# "release" lines (epoch seconds, pid) to it, for measuring how long the lock is held
# (`python -m tests.rig.lockmeter LOG` sums them up). Unset: the shims carry no such lines.
LOGIN_LOCK_LOG_ENV = "DBX_TEST_LOGIN_LOCK_LOG"


def _lock_log_line(event: str) -> str:
    """A shell line appending `event time pid` to the lock log, or "" when none is asked for."""
    log = os.environ.get(LOGIN_LOCK_LOG_ENV)
    if not log:
        return ""
    return f'printf \'{event} %s %s\\n\' "$(date +%s.%N)" "$$" >> {shlex.quote(log)}; '


def _lock_log(event: str, pid: int) -> None:
    log = os.environ.get(LOGIN_LOCK_LOG_ENV)
    if log:
        with open(log, "a") as f:
            f.write(f"{event} {time.time():.6f} {pid}\n")


def login_lock_sh() -> str:
    """Shell lines for a `databricks` shim: an `auth login` takes LOGIN_LOCK on fd 9 and keeps
    it open across `exec`, so the CLI and the browser it starts hold it until they are gone."""
    lock = shlex.quote(str(LOGIN_LOCK))
    return (
        'case " $* " in *" auth login "*)\n'
        f"  if [ -x /usr/bin/flock ] && {{ command exec 9>>{lock}; }} 2>/dev/null; then\n"
        f"    {_lock_log_line('want')}${{_rig_pdeath-}} "
        f"/usr/bin/flock -w {LOGIN_LOCK_WAIT} 9 || :\n"
        f"    {_lock_log_line('acquire')}_rig_locked=1\n"
        "  fi ;;\n"
        "esac\n"
    )


def login_pdeath_sh() -> str:
    """The shim's first lines: an `auth login` runs again under `setpriv --pdeathsig KILL`
    (same pid), so it dies with the process that started it, in line for the lock or logging in:
    a test process killed mid-login (an xdist worker gone) runs no teardown, and its login used
    to hold the lock past its own --timeout while every other login waited. The wait for the
    lock and a metered CLI (children of the shim) get the same; an exec'd CLI keeps it."""
    return (
        'case " $* " in *" auth login "*)\n'
        "  if [ -x /usr/bin/setpriv ]; then\n"
        '    [ -n "${_RIG_PDEATH-}" ] || { export _RIG_PDEATH=1; '
        'exec /usr/bin/setpriv --pdeathsig KILL /bin/sh "$0" "$@"; }\n'
        "    _rig_pdeath='/usr/bin/setpriv --pdeathsig KILL'\n"
        "  fi\n"
        "  unset _RIG_PDEATH ;;\n"
        "esac\n"
    )


def _metered_exec(command: str) -> str:
    """The shim's last line, `exec command "$@"`; with a lock log asked for, a login runs the
    command as a child instead and logs "release" when it exits (its browser may outlive it by
    the moment it takes to log the visit)."""
    line = f'exec {command} "$@"\n'
    release = _lock_log_line("release")
    if not release:
        return line
    return (
        f'if [ -n "${{_rig_locked-}}" ]; then ${{_rig_pdeath-}} {command} "$@"; rc=$?; '
        f"{release}exit $rc; fi\n" + line
    )


def lock_holders(home: Path | str | None = None) -> list[int]:
    """Processes of ours that have LOGIN_LOCK open, holding or waiting for it (a shim's
    `auth login` on fd 9, the CLI it became, the browser that CLI opened), with HOME=home
    when given. Others' processes and processes gone meanwhile are skipped."""
    lock = os.path.realpath(LOGIN_LOCK)
    want = None if home is None else b"HOME=" + os.fsencode(str(home))
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            fds = os.listdir(f"/proc/{entry}/fd")
            if not any(os.readlink(f"/proc/{entry}/fd/{fd}") == lock for fd in fds):
                continue
            if want is None or want in _environ(int(entry)):
                found.append(int(entry))
        except OSError:
            continue
    return sorted(found)


def _environ(pid: int) -> list[bytes]:
    """The process's environment. Read while it is in execve (a shim exec'ing the CLI), the
    kernel returns nothing for a moment: read again until it has one (a process with the lock
    open is one of the rig's, which always has HOME), a few hundred times at most."""
    for _ in range(500):
        with open(f"/proc/{pid}/environ", "rb") as f:
            data = f.read()
        if data:
            return data.split(b"\0")
        time.sleep(0.002)
    return []


def end_logins(home: Path | str) -> list[int]:
    """Kill every process with HOME=home that has LOGIN_LOCK open: a login a test left behind
    (the test failed or was interrupted mid-login; a pexpect or Popen child; a login in a new
    session that killpg did not reach) would keep every other login on the machine waiting
    until it dies (a real `auth login` without --timeout waits an hour). Returns their pids."""
    killed = []
    for pid in lock_holders(home):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
    return killed


@contextlib.contextmanager
def login_lock() -> Iterator[int]:
    """LOGIN_LOCK held (fcntl.flock) for a login run from Python: pass the yielded fd to the
    child (pass_fds) so that it, and the browser it opens, keep holding it after we let go."""
    fd = os.open(LOGIN_LOCK, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o666)
    try:
        # flock(1) on our descriptor: it waits in the kernel's queue like the shims' logins
        # (polling here lost the lock to them for up to LOGIN_LOCK_WAIT under load), and the
        # lock stays with the descriptor after it exits. A timeout: go ahead, as the shim does.
        _lock_log("want", os.getpid())
        if os.access("/usr/bin/flock", os.X_OK):
            argv = ["/usr/bin/flock", "-w", str(LOGIN_LOCK_WAIT), str(fd)]
            subprocess.run(argv, pass_fds=(fd,), check=False)
        _lock_log("acquire", os.getpid())
        yield fd
    finally:
        os.close(fd)
        _lock_log("release", os.getpid())


@dataclass(frozen=True)
class _LoginTemplate:
    """What one real `auth login` wrote: ~/.databrickscfg and the token cache, as text, with
    the values signed_in replaces."""

    cfg: str
    cache: str
    host: str
    access: str
    refresh: str
    expiry: str
    expires_in: int
    cli_cache: dict[str, str]  # DATABRICKS_CACHE_DIR: relative path -> text
    cli_cache_dirs: tuple[str, ...]


def _host_key(host: str) -> str:
    """The CLI's cache key for a host: sha256 of its fingerprint as Go marshals it."""
    import hashlib

    return hashlib.sha256(json.dumps({"host": host}, separators=(",", ":")).encode()).hexdigest()


_login_templates: dict[tuple[str, str], _LoginTemplate] = {}


def _login_template(databricks_bin: str, profile: str) -> _LoginTemplate:
    """One real `databricks auth login --profile PROFILE` per test process and CLI, against a
    workspace and in a sandbox of its own (taking the login lock like any login)."""
    key = (databricks_bin, profile)
    if key not in _login_templates:
        from tests.rig.sandbox import Sandbox
        from tests.rig.workspace import FakeWorkspace

        with tempfile.TemporaryDirectory(prefix="rig-login-") as tmp, FakeWorkspace() as ws:
            box = Sandbox(Path(tmp), databricks_bin=databricks_bin)
            box.login(ws, profile)
            raw = box.token_cache()["tokens"][profile]
            tree = sorted(box.databricks_cache.rglob("*"))
            _login_templates[key] = _LoginTemplate(
                cfg=(box.home / ".databrickscfg").read_text(),
                cache=box.token_cache_path.read_text(),
                host=ws.url,
                access=raw["access_token"],
                refresh=raw["refresh_token"],
                expiry=raw["expiry"],
                expires_in=int(raw["expires_in"]),
                cli_cache={
                    str(f.relative_to(box.databricks_cache)): f.read_text()
                    for f in tree
                    if f.is_file()
                },
                cli_cache_dirs=tuple(
                    str(d.relative_to(box.databricks_cache)) for d in tree if d.is_dir()
                ),
            )
    return _login_templates[key]


def _go_time_at(ts: float, offset: str) -> str:
    """go_time at a fixed offset ("+01:00", or "Z"): the offset the CLI wrote with."""
    import datetime as dt

    sign = -1 if offset.startswith("-") else 1
    delta = (
        dt.timedelta()
        if offset == "Z"
        else dt.timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6]))
    )
    ns = int(round(ts * 1e9))
    secs, frac = divmod(ns, 1_000_000_000)
    local = dt.datetime.fromtimestamp(secs, dt.timezone(sign * delta))
    digits = f"{frac:09d}".rstrip("0")
    return local.strftime("%Y-%m-%dT%H:%M:%S") + (f".{digits}" if digits else "") + offset


def replay_login(box: Sandbox, workspace: Any, profile: str = "DEFAULT") -> None:
    """Sandbox.signed_in: write what a real login wrote, or log in for real where a replay
    would not be faithful."""
    from tests.rig.workspace import DEFAULT_ACCOUNT_ID, DEFAULT_WORKSPACE_ID, FakeWorkspace

    cfg_path, cache_path = box.home / ".databrickscfg", box.token_cache_path
    if (
        not box.real_cli
        or not isinstance(workspace, FakeWorkspace)
        or (workspace.account_id, workspace.workspace_id)
        != (DEFAULT_ACCOUNT_ID, DEFAULT_WORKSPACE_ID)
        or cfg_path.exists()
        or cfg_path.is_symlink()
        or cache_path.exists()
    ):
        box.login(workspace, profile)
        return
    box.trust(workspace)
    template = _login_template(str(box.databricks_bin), profile)
    access = workspace.issue_token()
    refresh = workspace.issue_refresh_token()
    expires_in = max(0, int(round(workspace.access_token_lifetime)))
    offset = template.expiry[-6:] if template.expiry[-6] in "+-" else "Z"
    expiry = _go_time_at(time.time() + expires_in, offset)
    cache = template.cache
    for old, new in (
        (template.access, access),
        (template.refresh, refresh),
        (template.expiry, expiry),
        (template.host, workspace.url),
        (f'"expires_in": {template.expires_in}', f'"expires_in": {expires_in}'),
    ):
        cache = cache.replace(old, new)
    cfg = template.cfg.replace(template.host, workspace.url)
    cache_path.parent.mkdir(mode=0o700, exist_ok=True)
    files = {cfg_path: cfg, cache_path: cache}
    # The CLI's own cache (DATABRICKS_CACHE_DIR): the host metadata it fetched at login,
    # under the hash of {"host": URL} (libs/cache fingerprintToHash).
    renamed = {_host_key(template.host): _host_key(workspace.url)}
    for rel, text in template.cli_cache.items():
        for old_key, new_key in renamed.items():
            rel = rel.replace(old_key, new_key)
        files[box.databricks_cache / rel] = text.replace(template.host, workspace.url)
    for path, text in files.items():
        for parent in reversed(path.parents):
            if not parent.exists():
                parent.mkdir(mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)
    for rel in template.cli_cache_dirs:
        (box.databricks_cache / rel).mkdir(mode=0o700, parents=True, exist_ok=True)
