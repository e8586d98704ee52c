"""A service principal's secret goes to the workspace and nowhere else: the two requests of the
client-credentials grant (discovery, then the token endpoint), with redirects answered rather
than followed, and the token endpoint held to the workspace's own host over https."""

from __future__ import annotations

from .credentials import CredentialError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any


def post_form(
    url: str, form: Mapping[str, str], auth: str | None, env: Mapping[str, str]
) -> tuple[int, Any]:
    """One request to the workspace's OAuth endpoints. A redirect is answered, never followed:
    urllib would send the Authorization header (the client secret) on to wherever it points,
    https or not."""
    import json
    import urllib.error
    import urllib.parse
    import urllib.request

    from ..workspace.client import http_timeout, ssl_context

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    data = None if not form else urllib.parse.urlencode(form).encode()
    req = urllib.request.Request(url, data=data, method="POST" if data else "GET")  # noqa: S310
    req.add_header("User-Agent", "dbx-fmapi-claude")
    if data is not None:
        req.add_header("Content-Type", "application/x-www-form-urlencoded")
    if auth:
        req.add_header("Authorization", auth)
    handlers: list[Any] = [NoRedirect()]
    if url.startswith("https:"):
        handlers.append(urllib.request.HTTPSHandler(context=ssl_context(env)))
    try:
        with urllib.request.build_opener(*handlers).open(
            req, timeout=http_timeout(env, 20.0)
        ) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, None


def token_endpoint(host: str, named: Any) -> str:
    """Where the secret goes: the token endpoint the workspace's discovery names, only when it
    is https on the workspace's own host and port (http only when the workspace is itself a
    loopback test server); the default path on the workspace when discovery names none."""
    from urllib.parse import urlsplit

    from ..workspace.hosts import _is_loopback

    if not named:
        return f"{host}/oidc/v1/token"
    ep, ws = urlsplit(str(named)), urlsplit(host)

    def where(u: Any) -> tuple[str, int | None]:
        try:
            port = u.port or {"https": 443, "http": 80}.get(u.scheme)
        except ValueError:
            port = None
        return (u.hostname or "").lower(), port

    loopback = ws.scheme == "http" and _is_loopback(ws.hostname or "")  # a test server
    scheme_ok = ep.scheme == "https" or (ep.scheme == "http" and loopback)
    if scheme_ok and where(ep) == where(ws) and not ep.username and not ep.password:
        return str(named)
    raise CredentialError(
        "unsafe",
        f"the workspace {host} names a token endpoint elsewhere ({ep.scheme}://{ep.netloc}); "
        "the service principal's secret is sent only to the workspace itself over https",
        "check that the profile's host (or DATABRICKS_HOST) is your workspace's own URL, "
        "https://<workspace>.cloud.databricks.com; ask your workspace admin if it is",
    )
