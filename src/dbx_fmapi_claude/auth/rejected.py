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
    """Does this answer from the workspace say the token itself was refused? 401, 403 (the
    serving endpoints and REST APIs: `Invalid access token.`) unless it says PERMISSION_DENIED
    (the token is fine, the user may not do that), or the AI Gateway's `400 Invalid Token`."""
    if status == 401:
        return True
    if status == 403:
        return b"PERMISSION_DENIED" not in body[:4096]
    return status == 400 and b"invalid token" in body[:4096].lower()


def check(host: str, token: str, env: Mapping[str, str], timeout: float = CHECK_TIMEOUT) -> str:
    """ACCEPTED, REJECTED, or UNKNOWN (the workspace did not answer, or answered something that
    says nothing about the token). One GET of CHECK_PATH; the token goes only in its header.
    A plain socket (http.client alone costs the helper ~30 ms of imports); through urllib when
    a company proxy is configured (it speaks CONNECT)."""
    try:
        if any(env.get(v) for v in _PROXY_VARIABLES):
            status, body = _get_via_urllib(host, token, env, timeout)
        else:
            status, body = _get(host, token, env, timeout)
    except (OSError, ValueError):
        return UNKNOWN
    if 200 <= status < 300:
        return ACCEPTED
    return REJECTED if is_rejection(status, body) else UNKNOWN


_PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")


def _split(host: str) -> tuple[str, str, int]:
    """(scheme, host name, port) of a workspace URL."""
    rest = host.split("://", 1)
    scheme, rest_ = (rest[0].lower(), rest[1]) if len(rest) == 2 else ("https", rest[0])
    netloc = rest_.split("/", 1)[0].rsplit("@", 1)[-1]
    name, _, port = netloc.rpartition(":") if netloc.count(":") == 1 else (netloc, "", "")
    if not name or (port and not port.isdigit()) or scheme not in ("http", "https"):
        raise ValueError(f"not a workspace URL: {host!r}")
    return scheme, name, int(port) if port else (443 if scheme == "https" else 80)


def _get(host: str, token: str, env: Mapping[str, str], timeout: float) -> tuple[int, bytes]:
    import socket

    scheme, name, port = _split(host)
    # An ASCII host name as bytes: given a str, socket and ssl encode it with the idna codec,
    # whose import (re, stringprep, unicodedata) would cost the check more than its own work.
    address: str | bytes = name.encode("ascii") if name.isascii() else name
    sock = socket.create_connection((address, port), timeout=timeout)  # type: ignore[arg-type]
    try:
        if scheme == "https":
            import ssl

            ctx = ssl.create_default_context()
            cafile = env.get("REQUESTS_CA_BUNDLE") or env.get("SSL_CERT_FILE") or None
            capath = env.get("SSL_CERT_DIR") or None
            if cafile or capath:
                ctx.load_verify_locations(cafile=cafile, capath=capath)
            sock = ctx.wrap_socket(sock, server_hostname=address)
        default = 443 if scheme == "https" else 80
        authority = name if port == default else f"{name}:{port}"
        sock.sendall(
            (
                f"GET {CHECK_PATH} HTTP/1.1\r\nHost: {authority}\r\n"
                f"Authorization: Bearer {token}\r\nUser-Agent: dbx-fmapi-claude\r\n"
                "Accept: application/json\r\nConnection: close\r\n\r\n"
            ).encode("latin-1")
        )
        data = b""
        while len(data) < 16384:  # the status line and the start of the body are enough
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
            head, sep, body = data.partition(b"\r\n\r\n")
            if sep and len(body) >= 256:
                break
    finally:
        sock.close()
    head, _, body = data.partition(b"\r\n\r\n")
    parts = head.split(b"\r\n", 1)[0].split()
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/") or not parts[1].isdigit():
        raise ValueError("not an HTTP answer")
    return int(parts[1]), body


def _get_via_urllib(
    host: str, token: str, env: Mapping[str, str], timeout: float
) -> tuple[int, bytes]:
    import urllib.error
    import urllib.request

    from ..workspace.client import ssl_context

    req = urllib.request.Request(host.rstrip("/") + CHECK_PATH)  # noqa: S310 - https workspace
    req.add_header("Authorization", f"Bearer {token}")
    req.add_header("User-Agent", "dbx-fmapi-claude")
    ctx = ssl_context(env) if host.startswith("https:") else None
    try:
        with urllib.request.urlopen(req, timeout=timeout, context=ctx) as resp:  # noqa: S310
            return int(resp.status), resp.read(4096)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(4096)


class RejectedLogin(UserError):
    """A rejected token whose refresh was refused too: only a new login helps (exit 4)."""

    kind = "login"

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message, fix, ExitCode.AUTH_NEEDED)


def vetted(
    request: TokenRequest, token: Token, profile: str, host: str, timeout: float
) -> tuple[Token, bool]:
    """`token` (handed out before and not moments ago, tokens._check_due, or
    `request.always_check`), or a fresh one when the workspace rejects it although its expiry
    says it is good (revoked, rotated); and whether the check accepted it. One request. Called
    under the profile's lock (tokens.get_token)."""
    from . import dbcli, loginpolicy

    verdict = request.verdict = check(host, token.access_token, request.env)
    if verdict != REJECTED:
        return token, verdict == ACCEPTED  # unknown: the agent's request itself will tell
    request.err.write(
        f"dbx-fmapi: the workspace rejected the token of profile {profile!r} (revoked or "
        "rotated) although it has not expired; refreshing it\n"
    )
    try:
        fresh = dbcli.auth_token(profile, env=request.env, host=host, force=True, timeout=timeout)
    except dbcli.CliError as exc:
        if exc.kind != "login":
            raise
        if request.allow_login and loginpolicy.can_login(request.env):
            raise  # get_token opens the login
        raise RejectedLogin(
            f"the workspace rejected the token of profile {profile!r} and refused to refresh "
            "it (the login was revoked or has expired): log in again",
            dbcli.command("dbx-fmapi", "login", "--profile", profile),
        ) from None
    request.verdict = REPLACED
    return fresh, False
