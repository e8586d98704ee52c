"""A token the workspace rejects although its expiry says it is good (revoked, rotated, or a
workspace that no longer knows it): how to tell, with one authenticated request.

What the agents do with such a token (Claude Code 2.1.332, measured, docs/rejected-tokens.md):
on a 401 or 403 in helper mode it runs the helper again about a second later and retries; the AI
Gateway's `400 Invalid Token` is fatal at once, with no helper run. So the helper checks a token
it handed out before (the one case where it may have been rejected since) before handing it out
again; a token not handed out before costs nothing.

Stdlib only; imported only when a check is due (never on the normal helper or launch path).
"""

from __future__ import annotations

import time

from ..core.errors import ExitCode, UserError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from .dbcli import Token
    from .tokens import TokenRequest

# The cheapest authenticated call every user may make: who am I.
CHECK_PATH = "/api/2.0/preview/scim/v2/Me"
CHECK_TIMEOUT = 5.0  # seconds; a check that cannot finish hands the token out unchecked
# A token handed out fresh, or checked, this many seconds ago is not checked again: twenty
# sessions starting together cause one check, and a wrapper's check serves claude's first
# helper call.
FRESH_FOR = 2.0
ACCEPTED, REJECTED, UNKNOWN = "accepted", "rejected", "unknown"
REPLACED = "replaced"  # rejected, and a fresh token replaced it


def is_rejection(status: int, body: bytes = b"") -> bool:
    """Does this answer from the workspace say the token itself was refused? 401 and 403 (the
    serving endpoints and REST APIs) or the AI Gateway's `400 Invalid Token`."""
    if status in (401, 403):
        return True
    return status == 400 and b"invalid token" in body[:4096].lower()


def check(host: str, token: str, env: Mapping[str, str], timeout: float = CHECK_TIMEOUT) -> str:
    """ACCEPTED, REJECTED, or UNKNOWN (the workspace did not answer, or answered something that
    says nothing about the token). One GET of CHECK_PATH; the token goes only in its header."""
    import http.client
    import urllib.parse

    try:
        parts = urllib.parse.urlsplit(host if "://" in host else "https://" + host)
        name, port = parts.hostname or "", parts.port
    except ValueError:
        return UNKNOWN
    conn: http.client.HTTPConnection
    try:
        if parts.scheme == "http":
            conn = http.client.HTTPConnection(name, port, timeout=timeout)
        else:
            from ..workspace.client import ssl_context

            conn = http.client.HTTPSConnection(
                name, port, timeout=timeout, context=ssl_context(env)
            )
        try:
            conn.request(
                "GET",
                CHECK_PATH,
                headers={"Authorization": f"Bearer {token}", "User-Agent": "dbx-fmapi-claude"},
            )
            resp = conn.getresponse()
            status, body = resp.status, resp.read(4096)
        finally:
            conn.close()
    except (OSError, http.client.HTTPException, ValueError):
        return UNKNOWN
    if 200 <= status < 300:
        return ACCEPTED
    return REJECTED if is_rejection(status, body) else UNKNOWN


class RejectedLogin(UserError):
    """A rejected token whose refresh was refused too: only a new login helps (exit 4)."""

    kind = "login"

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message, fix, ExitCode.AUTH_NEEDED)


def vetted(
    request: TokenRequest, token: Token, profile: str, host: str, timeout: float
) -> tuple[Token, bool]:
    """`token` (handed out before, or `request.always_check`), or a fresh one when the workspace
    rejects it although its expiry says it is good (revoked, rotated); and whether a check
    accepted it. One request, unless the token was handed out fresh or checked moments ago.
    Called under the profile's lock (tokens.get_token)."""
    from . import dbcli, tokens

    if not request.always_check:
        entry = tokens.handed_out_before(request.paths, profile, token) or {}
        ok = entry.get("ok")
        since = time.time() - (float(ok) if isinstance(ok, (int, float)) else 0.0)
        if 0 <= since < FRESH_FOR:
            return token, False
    verdict = request.verdict = check(host, token.access_token, request.env)
    if verdict != REJECTED:
        return token, verdict == ACCEPTED  # unknown: the agent's request itself will tell
    request.err.write(
        f"dbx-fmapi: the workspace rejected profile {profile!r}'s token (revoked or rotated) "
        "although it has not expired; refreshing it\n"
    )
    try:
        fresh = dbcli.auth_token(profile, env=request.env, host=host, force=True, timeout=timeout)
    except dbcli.CliError as exc:
        if exc.kind != "login":
            raise
        if request.allow_login and tokens.can_login(request.env):
            raise  # get_token opens the login
        raise RejectedLogin(
            f"the workspace rejected profile {profile!r}'s token and refused to refresh it "
            "(the login was revoked or has expired): log in again",
            dbcli.command("dbx-fmapi", "login", "--profile", profile),
        ) from None
    request.verdict = REPLACED
    return fresh, False
