"""The workspace's REST API and the Anthropic route, over urllib with bounded timeouts.

Used by setup, doctor and models; not on the token hot path. ssl and urllib.request (with
http.client and email) load when a request is made: a command refused before one loads neither.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

from .diagnosis import CA_FIX as CA_FIX
from .diagnosis import diagnose as diagnose
from .diagnosis import error_label as error_label

TYPE_CHECKING = False
if TYPE_CHECKING:
    import ssl
    import urllib.request
    from typing import Any

FAMILIES = ("opus", "sonnet", "haiku")
# The seed's names (2025). Setup now falls back on catalogue.FALLBACKS, today's names: the seed's
# sonnet-4-5 retires on 2026-11-30.
SEED_DEFAULTS = {
    "opus": "databricks-claude-opus-4-6",
    "sonnet": "databricks-claude-sonnet-4-5",
    "haiku": "databricks-claude-haiku-4-5",
}
CLAUDE_PREFIX = "databricks-claude-"
LONG_CONTEXT = "[1m]"  # Claude Code's suffix for a model's 1M-token variant
CONTEXT_1M_BETA = "context-1m-2025-08-07"  # what Claude Code sends for a [1m] model


class WorkspaceError(Exception):
    """`kind`: "http" (with `status`), "tls", "timeout", "unreachable"."""

    def __init__(self, kind: str, message: str, status: int | None = None, body: Any = None):
        super().__init__(message)
        self.kind = kind
        self.status = status
        self.message = message
        self.body = body
        self.retry_after: str | None = None
        self.location: str | None = None  # where a redirect pointed
        self.url: str | None = None  # the request's URL (without its query), for an HTTP error

    @property
    def on_gateway(self) -> bool:
        """The failed request went to the AI Gateway (else serving endpoints or an API)."""
        return self.url is not None and "/ai-gateway/" in self.url

    @property
    def code(self) -> str:
        """The workspace's error code (`FEATURE_DISABLED`, …), "" when the body has none."""
        body = self.body
        code = body.get("error_code") if isinstance(body, dict) else None
        return code if isinstance(code, str) else ""


def ssl_context(env: Mapping[str, str]) -> ssl.SSLContext:
    """Default trust, plus the company CA from REQUESTS_CA_BUNDLE / SSL_CERT_FILE / SSL_CERT_DIR."""
    cafile = env.get("REQUESTS_CA_BUNDLE") or env.get("SSL_CERT_FILE") or None
    capath = env.get("SSL_CERT_DIR") or None
    import ssl

    ctx = ssl.create_default_context()
    if cafile or capath:
        ctx.load_verify_locations(cafile=cafile, capath=capath)
    return ctx


def http_timeout(env: Mapping[str, str], default: float) -> float:
    """Seconds to wait for one workspace request: DBX_FMAPI_HTTP_TIMEOUT when set, else
    `default`. Every wait is bounded; the variable lets a slow network (or a test) choose."""
    try:
        value = float(env.get("DBX_FMAPI_HTTP_TIMEOUT", ""))
    except ValueError:
        return default
    return value if value > 0 else default


def _message(body: Any, fallback: str) -> str:
    """The error's words: Databricks' `message` (OAuth's `error_description`, API 1.2's `error`),
    else a SCIM error's `detail` after its `scimType` (RFC 7644 3.12), read as both SDKs do
    (databricks-sdk-go apierr, databricks-sdk-py DatabricksError)."""
    if isinstance(body, dict):
        for key in ("message", "error_description", "error"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return value
            if isinstance(value, dict) and isinstance(value.get("message"), str):
                return str(value["message"])
        detail = body.get("detail")
        if isinstance(detail, str) and detail:
            detail = "SCIM API Internal Error" if detail == "null" else detail
            scim_type = body.get("scimType")
            return f"{scim_type if isinstance(scim_type, str) else ''} {detail}".strip()
    return fallback


def _no_redirect() -> urllib.request.HTTPRedirectHandler:
    """A redirect is an answer to report (an account-level URL sends a 303 to its sign-in page),
    never one to follow: urllib would turn a POST into a GET of an HTML page."""
    import urllib.request

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    return NoRedirect()


@dataclass
class Workspace:
    host: str
    token: str
    env: Mapping[str, str]
    timeout: float = 20.0

    def __repr__(self) -> str:  # never show the token
        return f"Workspace(host={self.host!r})"

    def request(
        self, method: str, url: str, body: Any = None, headers: Mapping[str, str] | None = None
    ) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        status, raw = self._send(method, url, data, headers, "application/json")
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            raise WorkspaceError(
                "http", f"{self.host} answered with something that is not JSON"
            ) from None

    def request_bytes(self, method: str, url: str, data: bytes | None = None) -> tuple[int, bytes]:
        """Like `request`, for APIs that take and answer raw bytes (the Files API)."""
        return self._send(method, url, data, None, "application/octet-stream")

    def _send(
        self,
        method: str,
        url: str,
        data: bytes | None,
        headers: Mapping[str, str] | None,
        content_type: str,
    ) -> tuple[int, bytes]:
        import ssl
        import urllib.error
        import urllib.request

        req = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - https/loopback
        req.add_header("Authorization", f"Bearer {self.token}")
        req.add_header("User-Agent", "dbx-fmapi-claude")
        if data is not None:
            req.add_header("Content-Type", content_type)
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        ctx = ssl_context(self.env) if url.startswith("https:") else None
        timeout = http_timeout(self.env, self.timeout)
        handlers: list[Any] = [_no_redirect()]
        if ctx is not None:
            handlers.append(urllib.request.HTTPSHandler(context=ctx))
        opener = urllib.request.build_opener(*handlers)
        try:
            with opener.open(req, timeout=timeout) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                parsed: Any = json.loads(raw)
            except ValueError:
                parsed = raw.decode("utf-8", "replace")[:200]
            # A body without words: the reason Databricks puts in a header, else the status.
            phrase = exc.headers.get("X-Databricks-Reason-Phrase") if exc.headers else None
            fallback = phrase or f"HTTP {exc.code} {exc.reason}".strip()
            err = WorkspaceError("http", _message(parsed, fallback), exc.code, parsed)
            err.retry_after = exc.headers.get("Retry-After")
            err.location = exc.headers.get("Location")
            err.url = url.split("?", 1)[0]
            raise err from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, ssl.SSLError):
                raise WorkspaceError(
                    "tls", f"TLS failure talking to {self.host}: {reason}"
                ) from None
            if isinstance(reason, TimeoutError):
                raise WorkspaceError(
                    "timeout", f"{self.host} did not answer within {timeout:g}s"
                ) from None
            raise WorkspaceError("unreachable", f"cannot reach {self.host}: {reason}") from None
        except TimeoutError:
            raise WorkspaceError(
                "timeout", f"{self.host} did not answer within {timeout:g}s"
            ) from None
        except ssl.SSLError as exc:
            raise WorkspaceError("tls", f"TLS failure talking to {self.host}: {exc}") from None
        except (ConnectionError, OSError) as exc:
            raise WorkspaceError("unreachable", f"cannot reach {self.host}: {exc}") from None

    def post_bytes(
        self, url: str, data: bytes, content_type: str, headers: Mapping[str, str]
    ) -> tuple[int, bytes]:
        """A POST of raw bytes with their own content type (an OTLP protobuf export)."""
        return self._send("POST", url, data, headers, content_type)

    def me(self) -> Any:
        return self.request("GET", f"{self.host}/api/2.0/preview/scim/v2/Me")[1]

    def endpoints(self) -> list[dict[str, Any]]:
        _, body = self.request("GET", f"{self.host}/api/2.0/serving-endpoints")
        items = (body or {}).get("endpoints") or []
        return [e for e in items if isinstance(e, dict) and isinstance(e.get("name"), str)]

    def endpoint(self, name: str) -> dict[str, Any]:
        from urllib.parse import quote

        _, body = self.request(
            "GET", f"{self.host}/api/2.0/serving-endpoints/{quote(name, safe='')}"
        )
        return body if isinstance(body, dict) else {}

    def get(self, path: str) -> Any:
        """GET `{host}{path}`: the parsed JSON answer."""
        return self.request("GET", f"{self.host}{path}")[1]

    def ping_model(self, model: str, base: str) -> str:
        """One-token request through an Anthropic route (`base`: the route's base URL), as
        Claude Code sends it: a `[1m]` name goes out without its suffix and with the 1M-context
        beta. Returns the reply text."""
        headers = {
            "anthropic-version": "2023-06-01",
            "x-databricks-use-coding-agent-mode": "true",
        }
        if model.endswith(LONG_CONTEXT):
            model = model[: -len(LONG_CONTEXT)]
            headers["anthropic-beta"] = CONTEXT_1M_BETA
        _, body = self.request(
            "POST",
            f"{base}/v1/messages",
            body={
                "model": model,
                "max_tokens": 1,
                "messages": [{"role": "user", "content": "ping"}],
            },
            headers=headers,
        )
        parts = (body or {}).get("content") or []
        return "".join(p.get("text", "") for p in parts if isinstance(p, dict))


# --- Claude endpoints ------------------------------------------------------------------------


def is_ready(endpoint: Mapping[str, Any]) -> bool:
    state = endpoint.get("state") or {}
    return isinstance(state, dict) and state.get("ready") == "READY"


def family(name: str) -> str | None:
    if not name.startswith(CLAUDE_PREFIX):
        return None
    parts = name[len(CLAUDE_PREFIX) :].split("-")
    found = [p for p in parts if p in (*FAMILIES, "fable")]
    return found[0] if found else None


def version_key(name: str) -> tuple[int, ...]:
    """`databricks-claude-opus-4-6` -> (4, 6); `databricks-claude-3-7-sonnet` -> (3, 7)."""
    rest = name[len(CLAUDE_PREFIX) :] if name.startswith(CLAUDE_PREFIX) else name
    numbers = [int(p) for p in re.findall(r"\d+", rest)][:3]
    return tuple(numbers + [0] * (3 - len(numbers)))


def claude_endpoints(endpoints: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Claude endpoints (by name), READY first, then newest first, then by name."""
    found = [e for e in endpoints if family(str(e["name"])) is not None]
    return sorted(
        found,
        key=lambda e: (
            not is_ready(e),
            tuple(-v for v in version_key(str(e["name"]))),
            str(e["name"]),
        ),
    )


def newest_first(names: list[str]) -> list[str]:
    """Newest version first (`gpt-5-5` before `gpt-5-2` before `gpt-5`), then the plain name
    before its variants (`gpt-5` before `gpt-5-mini`)."""

    def key(name: str) -> tuple[Any, ...]:
        numbers = tuple(-int(n) for n in re.findall(r"\d+", name))
        return (numbers + (0,) * (4 - len(numbers)), len(name), name)

    return sorted(names, key=key)


def default_for(family_name: str, endpoints: list[dict[str, Any]] | None) -> str:
    """Newest READY `databricks-claude-<family>-*`, else the seed's default."""
    for e in claude_endpoints(endpoints or []):
        if is_ready(e) and str(e["name"]).startswith(f"{CLAUDE_PREFIX}{family_name}-"):
            return str(e["name"])
    return SEED_DEFAULTS[family_name]
