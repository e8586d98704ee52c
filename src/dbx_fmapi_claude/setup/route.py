"""Setup's workspace listing and route: the models the workspace serves (catalogue.py), and
Claude Code's route (the AI Gateway when it answers, else serving endpoints)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping

from ..workspace import catalogue, routes
from ..workspace.client import FAMILIES, Workspace, WorkspaceError, diagnose
from .context import SetupContext
from .models import Chooser
from .results import Credential, Env, Flags, Listing, RouteChoice, SignedIn

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def load_endpoints(
    sc: SetupContext, signed: SignedIn, credential: Credential, found: Env
) -> Listing:
    """The catalogue, through every listing the workspace offers (catalogue.py)."""
    if signed.token is None:
        return Listing()
    host = credential.host
    ws = Workspace(host, signed.token, dict(found.env))
    with sc.progress.step(f"reading the models {host} serves"):
        listed = catalogue.discover(ws)
    if not listed.read:
        exc = listed.errors.get("serving-endpoints")
        why = exc.message if exc else "no listing answered"
        seeds = [catalogue.fallback(f, sc.today) for f in FAMILIES]
        sc.warn(
            f"cannot list the workspace's models ({why}); using the defaults {', '.join(seeds)}"
        )
    return Listing.of(listed)


def with_gateway_models(listing: Listing, items: Iterable[Mapping[str, Any]]) -> Listing:
    """A new listing: `listing`'s models and the AI Gateway's own (`listing` stays as it is)."""
    copy = listing.catalogue()  # its own
    copy.add_gateway_models(items)
    return Listing.of(copy)


def choose_route(
    sc: SetupContext,
    signed: SignedIn,
    flags: Flags,
    credential: Credential,
    listing: Listing,
    found: Env,
) -> RouteChoice:
    """--route auto (the default, and what a record without a route means): the AI Gateway
    when it answers (its model listing, else a one-token request), else serving endpoints. A
    route the user named is taken as it is: verify says so when it does not work."""
    asked = sc.opts.route
    prev = flags.defaults()
    prev_route = prev.get("route")
    host, env = credential.host, dict(found.env)
    if asked is None:
        auto = prev.get("route_auto", True) is not False or prev_route not in routes.ROUTES
        asked = routes.AUTO if auto else prev_route
    if asked != routes.AUTO:
        name = str(asked)
        route = routes.get(name)
        sc.out(f"  ok    route: {route.label}, {route.base_url(host)} (--route)")
        if name == routes.GATEWAY_NAME and signed.token is not None:
            ws = Workspace(host, signed.token, env)
            with contextlib.suppress(WorkspaceError):  # verify reports a gateway that fails
                listing = with_gateway_models(listing, routes.list_gateway_models(ws))
        return RouteChoice(name, False, listing)
    if signed.token is None:  # a dry run that could not sign in: nothing to probe with
        name = prev_route if prev_route in routes.ROUTES else routes.SERVING_NAME
        return RouteChoice(str(name), True, listing)
    ws = Workspace(host, signed.token, env)
    a = flags.answers
    chooser = Chooser(sc, listing.catalogue(), routes.SERVING_NAME, prev, host)
    candidate = a.model or a.opus or chooser.family_default("opus")
    with sc.progress.step("checking whether the workspace serves the AI Gateway route"):
        probe = routes.probe_gateway(ws, candidate)
    if probe.works:
        if probe.models is not None:
            listing = with_gateway_models(listing, probe.models)
        route = routes.GATEWAY
        sc.out(f"  ok    route: {route.label}, {route.base_url(host)}")
        return RouteChoice(routes.GATEWAY_NAME, True, listing)
    why = "it does not answer"
    if probe.error is not None and probe.error.code == "FEATURE_DISABLED":
        why = "not enabled for this workspace"
    elif probe.error is not None:
        why = diagnose(probe.error, host, "use the AI Gateway")[0].removeprefix(
            "cannot use the AI Gateway: "
        )
    route = routes.SERVING
    sc.out(f"  ok    route: {route.label}, {route.base_url(host)} (AI Gateway: {why})")
    if prev_route == routes.GATEWAY_NAME:
        sc.warn(
            f"the AI Gateway this workspace used stopped working ({why}); switching Claude "
            "Code to serving endpoints"
        )
    return RouteChoice(routes.SERVING_NAME, True, listing)
