"""The fake workspace's SCIM API: the current user (`GET /api/2.0/preview/scim/v2/Me`), which
the CLI and the product call to check a token and to learn the user's name."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tests.rig.routing import Request, Response, Route

if TYPE_CHECKING:
    from tests.rig.workspace import FakeWorkspace


def _me_route(req: Request) -> None:
    raise Response(200, me(req.ws), {"X-Databricks-Org-Id": req.ws.workspace_id})


ROUTES = [Route("GET", "/api/2.0/preview/scim/v2/Me", _me_route)]


def me(ws: FakeWorkspace) -> dict[str, Any]:
    return {
        "schemas": [
            "urn:ietf:params:scim:schemas:core:2.0:User",
            "urn:ietf:params:scim:schemas:extension:workspace:2.0:User",
        ],
        "id": "8765432109876543",
        "userName": ws.user_name,
        "displayName": "Test User",
        "active": True,
        "emails": [{"type": "work", "value": ws.user_name, "primary": True}],
        "name": {"givenName": "Test", "familyName": "User"},
        "groups": [{"display": "users", "type": "direct", "value": "1111", "$ref": "x"}],
        "entitlements": [{"value": "workspace-access"}],
    }
