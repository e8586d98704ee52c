"""Tokens that never go stale: the per-profile lock, the lifetime guarantee (the login policy:
loginpolicy.py).

Stdlib only: this is the apiKeyHelper's and the wrapper's hot path.
"""

from __future__ import annotations

import errno
import fcntl
import os
import time

from ..core.errors import ExitCode, UserError
from ..core.jsonread import dumps, loads
from ..record.config import DEFAULT_MARGIN_SECONDS, DEFAULT_TTL_SECONDS

TYPE_CHECKING = False
if TYPE_CHECKING:  # the hot path skips typing; dbcli is imported where a CLI call needs it
    from collections.abc import Mapping
    from types import TracebackType
    from typing import IO, Any

    from ..core.context import Context
    from ..core.paths import Paths
    from . import dbcli

LOCK_TIMEOUT = 600.0
TOKEN_CALL_TIMEOUT = 60.0  # per `databricks auth token` call; DBX_FMAPI_CLI_TIMEOUT_SECONDS


def fingerprint(token: str) -> str:
    """The first 16 hex digits of the token's SHA-256. Python's own sha256 (`_sha256`, 3.12+
    `_sha2`): hashlib loads OpenSSL and reads its configuration, ~4 ms more on the
    otelHeadersHelper's path at the end of a session; hashlib where neither is built in."""
    import sys

    try:
        sha256 = __import__("_sha2" if sys.version_info >= (3, 12) else "_sha256").sha256
    except (ImportError, AttributeError):
        from hashlib import sha256
    return str(sha256(token.encode()).hexdigest()[:16])


def _seconds_from_env(env: Mapping[str, str], name: str, scale: float) -> float | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    try:
        value = float(raw) * scale
    except ValueError:
        return None
    return value if value >= 0 else None


def ttl_seconds(env: Mapping[str, str], cfg: Mapping[str, Any] | None) -> float:
    """Claude Code's helper TTL: from its env variable (claude passes settings env to the
    helper), else what setup recorded, else our default."""
    value = _seconds_from_env(env, "CLAUDE_CODE_API_KEY_HELPER_TTL_MS", 0.001)
    if value is None and cfg:
        value = float(cfg.get("ttl_seconds") or 0) or None
    return DEFAULT_TTL_SECONDS if value is None else value


def margin_seconds(env: Mapping[str, str], cfg: Mapping[str, Any] | None) -> float:
    """Safety margin beyond the TTL: DBX_FMAPI_TOKEN_MARGIN_SECONDS, else config, else 5 min."""
    value = _seconds_from_env(env, "DBX_FMAPI_TOKEN_MARGIN_SECONDS", 1.0)
    if value is None and cfg and cfg.get("margin_seconds") is not None:
        value = float(cfg["margin_seconds"])
    return DEFAULT_MARGIN_SECONDS if value is None else value


def needed_lifetime(env: Mapping[str, str], cfg: Mapping[str, Any] | None) -> float:
    return ttl_seconds(env, cfg) + margin_seconds(env, cfg)


def jwt_expiry(token: str) -> float | None:
    """`exp` of a JWT-shaped token, None when it is not one. Signature is not checked.
    binascii, not base64: base64 imports re, a cost on the wrapper's static-mode path."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    import binascii

    try:
        payload = parts[1].replace("-", "+").replace("_", "/") + "=" * (-len(parts[1]) % 4)
        exp = loads(binascii.a2b_base64(payload))["exp"]
        return float(exp)
    except (ValueError, KeyError, TypeError):
        return None


def stored_expiry(paths: Paths, profile: str, token: str) -> float | None:
    """When a token someone stored (Claude Code's settings, static mode) expires: the expiry we
    recorded when we handed it out, else its own `exp`; None when neither is known. (The
    wrapper asks `exp` first: it hashes only when it must.)"""
    expiry = known_expiry(paths, profile, token)
    return jwt_expiry(token) if expiry is None else expiry


# --- what we remember about tokens (expiry + fingerprint, never the token) ---------------------


def read_state(paths: Paths) -> dict[str, Any]:
    try:
        with open(paths.token_state_path, "rb") as fh:
            data = loads(fh.read())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def known_expiry(paths: Paths, profile: str, token: str | None = None) -> float | None:
    """Expiry we recorded for the profile's last token (and, if given, only if it is `token`)."""
    entry = read_state(paths).get(profile)
    if not isinstance(entry, dict):
        return None
    if token is not None and entry.get("fp") != fingerprint(token):
        return None
    try:
        return float(entry["expiry"])
    except (KeyError, TypeError, ValueError):
        return None


def handed_out_before(paths: Paths, profile: str, token: dbcli.Token) -> dict[str, Any] | None:
    """Our record of `token` when we handed it out before (same expiry to the nanosecond, which
    needs no hashing), else None: a token not handed out before cannot have been rejected yet."""
    entry = read_state(paths).get(profile)
    if isinstance(entry, dict) and entry.get("expiry") == token.expiry and entry.get("fp"):
        return entry
    return None


def _record(paths: Paths, profile: str, token: dbcli.Token, *, checked: bool = False) -> None:
    """Remember the token handed out (expiry, fingerprint, and when it was last known good:
    handed out fresh or accepted by a check)."""
    state = read_state(paths)
    old = state.get(profile)
    if isinstance(old, dict) and old.get("expiry") == token.expiry and old.get("fp"):
        if not checked:
            return  # the same token (expiry to the nanosecond): no need to hash it again
        state[profile] = dict(old, ok=time.time())
    else:
        state[profile] = {
            "expiry": token.expiry,
            "fp": fingerprint(token.access_token),
            "ok": time.time(),
        }
    data = (dumps(state, sort_keys=True) + "\n").encode()  # jsonread: no json, re, enum…
    from ..core.fileio import atomic_write  # only here: the helper's usual call writes nothing

    try:  # noqa: SIM105 - contextlib is an import this avoids; a str path needs no pathlib
        atomic_write(paths.token_state_path, data, secret=True)
    except UserError:
        pass  # a cache we cannot write only costs speed


def _check_due(request: TokenRequest, profile: str, token: dbcli.Token) -> bool:
    """`token` was handed out before, not fresh or checked in the last `request.fresh_for` s:
    it may have been rejected since (rejected.vetted checks it, imported only then)."""
    entry = handed_out_before(request.paths, profile, token)
    if entry is None:
        return False
    ok = entry.get("ok")
    since = time.time() - (float(ok) if isinstance(ok, (int, float)) else 0.0)
    return not 0 <= since < request.fresh_for


# --- the lock --------------------------------------------------------------------------------


class profile_lock:  # noqa: N801 - used like a function: `with profile_lock(paths, profile):`
    """Serialise token work for one profile across processes (flock on a file of ours).

    A class, not contextlib.contextmanager: contextlib (functools, collections) costs the token
    helper a few ms on every call."""

    def __init__(self, paths: Paths, profile: str, timeout: float = LOCK_TIMEOUT) -> None:
        self.lock_path = paths.lock_path(profile)
        self.timeout = timeout
        self._fh: IO[bytes] | None = None

    def __enter__(self) -> None:
        lock_path = self.lock_path
        folder = os.path.dirname(lock_path)
        try:
            os.makedirs(folder, mode=0o700, exist_ok=True)
            fh: IO[bytes] = open(lock_path, "ab")  # noqa: SIM115 - held until __exit__
        except OSError as exc:
            raise UserError(
                f"cannot create lock file {lock_path}: {exc.strerror or exc}",
                f"check permissions: ls -ld {folder}",
            ) from None
        try:
            deadline = time.monotonic() + self.timeout
            delay = 0.005
            while True:
                try:
                    fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as exc:
                    if exc.errno not in (errno.EAGAIN, errno.EACCES):
                        raise
                    if time.monotonic() > deadline:
                        raise UserError(
                            f"another dbx-fmapi process has held the token lock for "
                            f"{self.timeout:g}s",
                            f"find it with: fuser {lock_path}",
                        ) from None
                    time.sleep(delay)
                    delay = min(delay * 2, 0.1)
        except BaseException:
            fh.close()
            raise
        self._fh = fh

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._fh is not None:
            self._fh.close()  # closing releases the flock
            self._fh = None


# --- the guarantee ---------------------------------------------------------------------------

# A token this close to its expiry may already be refused by the workspace: never hand it out.
USABLE_SLACK = 30.0


def _forced_or_current(
    token: dbcli.Token,
    profile: str,
    env: Mapping[str, str],
    host: str | None,
    timeout: float,
    err: IO[str],
) -> dbcli.Token:
    """`auth token --force-refresh`; when that fails for a reason a login would not fix (an old
    CLI without the flag, the network, a 5xx) and the current token still has life, that token
    with a one-line warning: a shorter-lived token beats no token."""
    from . import dbcli

    try:
        return dbcli.auth_token(profile, env=env, host=host, force=True, timeout=timeout)
    except dbcli.CliError as exc:
        left = token.expiry - time.time()
        if exc.kind in ("login", "nonoauth", "missing") or left <= USABLE_SLACK:
            raise
        why = exc.message + (f" ({exc.fix})" if exc.kind == "old_cli" and exc.fix else "")
        err.write(
            f"dbx-fmapi: warning: {why}; using the current token, which lives {left:.0f}s more\n"
        )
        token.warned = True
        return token


class TokenRequest:
    """What a command asks of every token it gets: where our state lives, the environment the
    CLI runs in, where warnings go, how many seconds the token must stay valid, and whether a
    browser login may be opened. Built once per command (request_for); each call then
    names only the credential it wants. A plain class: the hot paths build one."""

    __slots__ = (
        "allow_login",
        "always_check",
        "cli_cache",
        "env",
        "err",
        "fresh_for",
        "need",
        "paths",
        "verdict",
    )

    def __init__(
        self,
        paths: Paths,
        env: Mapping[str, str],
        err: IO[str],
        *,
        need: float,
        allow_login: bool = False,
    ) -> None:
        self.paths = paths
        self.env = env
        self.err = err
        self.need = need
        self.allow_login = allow_login
        # Ask the workspace about the token even when it was not handed out before (status
        # --check); `verdict` then says what it answered: rejected.ACCEPTED, UNKNOWN, or
        # REPLACED (it was rejected and a fresh one replaced it). None: not asked.
        self.always_check = False
        self.verdict: str | None = None
        # A token handed out (or checked) this many seconds ago is handed out again unchecked
        # (rejected.FRESH_FOR: sessions starting together cause one check). 0 for an MCP server's
        # headersHelper: Claude Code runs it on connect and right after a 401/403, and a token
        # handed out a moment ago may be the one the server just refused.
        self.fresh_for = 2.0
        # The token may come from the CLI's own cache without running it, when that holds the
        # very token handed out and known good within `fresh_for` (clicache.from_cli_cache).
        self.cli_cache = False


def get_token(
    request: TokenRequest, profile: str, host: str | None, *, locked: bool = False
) -> dbcli.Token:
    """A token from the CLI for `profile` that stays valid for at least `request.need` seconds
    (or the freshest one the workspace will give), refreshing or logging in as the request
    allows. Serialised per profile (`locked`: the caller holds the profile's lock already)."""
    from . import dbcli

    paths, env, need, err = request.paths, request.env, request.need, request.err
    timeout = _seconds_from_env(env, "DBX_FMAPI_CLI_TIMEOUT_SECONDS", 1.0) or TOKEN_CALL_TIMEOUT
    if not locked:
        with profile_lock(paths, profile):
            return get_token(request, profile, host, locked=True)
    # A PAT or service-principal profile: `auth token` may hand out another profile's OAuth
    # token for the same host, or ask for a login that would overwrite the profile. Neither.
    dbcli.refuse_nonoauth(profile, host, env)
    if request.cli_cache:
        from .clicache import from_cli_cache

        cached = from_cli_cache(request, profile)
        if cached is not None:
            return cached  # our record holds it already
    checked = False
    try:
        token = dbcli.auth_token(profile, env=env, host=host, timeout=timeout)
        if token.expiry - time.time() < need:
            token = _forced_or_current(token, profile, env, host, timeout, err)
        elif host and (request.always_check or _check_due(request, profile, token)):
            from . import rejected  # a token handed out before may have been rejected since

            token, checked = rejected.vetted(request, token, profile, host, timeout)
    except dbcli.CliError as exc:
        # "profile": the CLI has no such profile; a login creates it (nothing to overwrite).
        if exc.kind not in ("login", "profile") or not host:
            raise
        from .loginpolicy import can_login, login  # only when a login is needed

        if not request.allow_login or not can_login(env):
            raise dbcli.CliError(
                "login",
                f"Databricks login needed for profile {profile!r} and no terminal or browser "
                "is available here",
                dbcli.login_command(host, profile),
                ExitCode.AUTH_NEEDED,
            ) from None
        login(host, profile, env, err)
        token = dbcli.auth_token(profile, env=env, host=host, timeout=timeout)
    left = token.expiry - time.time()
    if left < need and not token.warned:
        err.write(
            f"dbx-fmapi: warning: the workspace's fresh token lives {left:.0f}s, less than the "
            f"{need:.0f}s asked for (helper TTL + margin); lower the TTL with: "
            "setup-fmapi-claudecode --ttl 5m\n"
        )
    _record(paths, profile, token, checked=checked)
    return token


def request_for(
    ctx: Context,
    cfg: Mapping[str, Any] | None,
    *,
    need: float | None = None,
    allow_login: bool = False,
    err: IO[str] | None = None,
) -> TokenRequest:
    """How a command asks for tokens: our paths, its environment and stderr (unless `err`); a
    token must outlive the helper TTL plus margin (the environment's, else the record `cfg`'s)
    unless `need` says otherwise; no browser login unless `allow_login`."""
    return TokenRequest(
        ctx.paths,
        ctx.env,
        ctx.stderr if err is None else err,
        need=needed_lifetime(ctx.env, cfg) if need is None else need,
        allow_login=allow_login,
    )
