"""How the fake workspace answers: a handler raises Response (status, JSON or raw body, headers);
the Databricks-shaped and SCIM-shaped error bodies."""

from __future__ import annotations

import uuid
from typing import Any


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
