"""The fake workspace's route table: each API module (oidc_api, serving_api, files_api, ...)
lists its ROUTES, (method, path pattern) -> handler; workspace.py's APIS names the modules, in
the order their routes are tried. A handler gets the Request and answers by raising Response
(status, JSON or raw body, headers), or returns None when the request is not its own after all
(the next route is tried; a request no route answers gets 404 ENDPOINT_NOT_FOUND), or True when
it wrote the answer itself (MCP's streaming relay). Also: the Databricks- and SCIM-shaped
error bodies.

Adding an API: a module under tests/rig/ with ROUTES (importing only the standard library at
import time: the try-it path runs the workspace on a bare python3), plus its name in APIS.

    ROUTES = [Route("GET", "/api/2.0/things/{name}", get_thing)]

    def get_thing(req: Request) -> None:
        raise Response(200, {"name": req.params["name"]})
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.rig.records import RequestRecord, TokenRef
    from tests.rig.server import _Handler
    from tests.rig.workspace import FakeWorkspace


@dataclass
class Request:
    """One request as a handler sees it (the bearer already checked for a non-public route)."""

    ws: FakeWorkspace
    h: _Handler
    record: RequestRecord  # the request log's entry (handlers may fill in .model)
    method: str
    path: str
    query: dict[str, str]  # the last value of each parameter
    body: bytes
    parsed: Any  # the body as JSON, or None
    bearer: str | None  # the raw token of `Authorization: Bearer ...` (never log it)
    token: TokenRef | None  # what the workspace thinks of that token
    params: dict[str, str] = field(default_factory=dict)  # {name} parts; "rest": what * took

    @property
    def gateway(self) -> bool:
        """A request to the AI Gateway (/ai-gateway/...)."""
        return self.path.startswith("/ai-gateway/")


Handler = Callable[[Request], "bool | None"]


@dataclass(frozen=True)
class Route:
    """method: "GET", "POST", ... or "*" for any. path: exact ("/api/2.0/x"), with `{name}` for
    one path segment, or ending in `*` for any rest. public: answered before the bearer check
    (OAuth and host metadata; every other route needs a valid token)."""

    method: str
    path: str
    handler: Handler
    public: bool = False
    _regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        pattern = self.path.removesuffix("*")
        regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]*)", re.escape(pattern))
        regex = regex + ("(?P<rest>.*)" if self.path.endswith("*") else "")
        object.__setattr__(self, "_regex", re.compile(regex + r"\Z"))

    def match(self, method: str, path: str) -> dict[str, str] | None:
        """The pattern's parts when this route takes the request, else None."""
        if self.method != "*" and self.method != method:
            return None
        m = self._regex.match(path)
        return None if m is None else {k: v for k, v in m.groupdict().items()}


class Response(Exception):
    """Raised by a handler: the answer to send."""

    def __init__(
        self,
        status: int,
        body: Any = None,
        headers: dict[str, str] | None = None,
        content_type: str = "application/json",
    ) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}
        self.content_type = content_type


_ERROR_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "RESOURCE_DOES_NOT_EXIST",
    429: "REQUEST_LIMIT_EXCEEDED",
    500: "INTERNAL_ERROR",
    502: "BAD_GATEWAY",
    503: "TEMPORARILY_UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def databricks_error(status: int, message: str | None = None) -> dict[str, Any]:
    code = _ERROR_CODES.get(status, "UNKNOWN")
    if message is None:
        message = {
            429: "Exceeded workspace rate limit. Please retry later.",
            503: "The service is temporarily unavailable. Please retry later.",
        }.get(status, f"Injected {status} error.")
    return {
        "error_code": code,
        "message": message,
        "details": [
            {
                "@type": "type.googleapis.com/google.rpc.RequestInfo",
                "request_id": str(uuid.uuid4()),
                "serving_data": "",
            }
        ],
    }


def scim_error(status: int, detail: str, scim_type: str | None = None) -> dict[str, Any]:
    """A SCIM error body (RFC 7644 section 3.12), as the SCIM API (`/api/2.0/preview/scim/v2/…`)
    answers: no `error_code` or `message`; the SDKs read `detail` and `scimType` (databricks-sdk-go
    apierr standardErrorParser, databricks-sdk-py DatabricksError). For fail(…, body=…)."""
    body: dict[str, Any] = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
        "detail": detail,
        "status": str(status),
    }
    if scim_type is not None:
        body["scimType"] = scim_type
    return body


def sse(events: list[tuple[str | None, dict[str, Any]]], done: bool = False) -> Response:
    """A streamed answer (text/event-stream): one `event:` (when named) and `data:` per event,
    then `data: [DONE]` when `done` (the OpenAI-style streams)."""
    data = "".join(
        (f"event: {name}\n" if name else "") + f"data: {json.dumps(ev)}\n\n" for name, ev in events
    )
    if done:
        data += "data: [DONE]\n\n"
    return Response(
        200,
        data.encode(),
        {"Cache-Control": "no-cache"},
        content_type="text/event-stream; charset=utf-8",
    )
