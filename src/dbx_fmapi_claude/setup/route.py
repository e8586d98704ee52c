"""Setup's workspace listing and route: the models the workspace serves (catalogue.py), and
Claude Code's route (the AI Gateway when it answers, else serving endpoints)."""

from __future__ import annotations

import contextlib

from ..workspace import catalogue, routes
from ..workspace.client import FAMILIES, Workspace, WorkspaceError, diagnose
from .models import ModelSteps
from .results import SignedIn


class RouteSteps(ModelSteps):
    def load_endpoints(self, signed: SignedIn) -> None:
        """The catalogue, through every listing the workspace offers (catalogue.py)."""
        if signed.token is None:
            return
        ws = Workspace(self.a.host, signed.token, self.env)
        with self.progress.step(f"reading the models {self.a.host} serves"):
            self.catalogue = catalogue.discover(ws)
        if not self.catalogue.read:
            exc = self.catalogue.errors.get("serving-endpoints")
            why = exc.message if exc else "no listing answered"
            seeds = [catalogue.fallback(f, self.today) for f in FAMILIES]
            self.warn(
                f"cannot list the workspace's models ({why}); using the defaults {', '.join(seeds)}"
            )

    # --- the route --------------------------------------------------------------------------

    def choose_route(self, signed: SignedIn) -> None:
        """--route auto (the default, and what a record without a route means): the AI Gateway
        when it answers (its model listing, else a one-token request), else serving endpoints. A
        route the user named is taken as it is: verify says so when it does not work."""
        asked = self.opts.route
        prev_route = self.prev.get("route")
        if asked is None:
            auto = self.prev.get("route_auto", True) is not False or prev_route not in routes.ROUTES
            asked = routes.AUTO if auto else prev_route
        self.a.route_auto = asked == routes.AUTO
        if not self.a.route_auto:
            self.a.route = str(asked)
            route = routes.get(self.a.route)
            self.out(f"  ok    route: {route.label}, {route.base_url(self.a.host)} (--route)")
            self._add_gateway_models(signed)
            return
        if signed.token is None:  # a dry run that could not sign in: nothing to probe with
            self.a.route = prev_route if prev_route in routes.ROUTES else routes.SERVING_NAME
            return
        ws = Workspace(self.a.host, signed.token, self.env)
        candidate = self.a.model or self.a.opus or self._default_for("opus")
        with self.progress.step("checking whether the workspace serves the AI Gateway route"):
            probe = routes.probe_gateway(ws, candidate)
        if probe.works:
            self.a.route = routes.GATEWAY_NAME
            if probe.models is not None:
                self.catalogue.add_gateway_models(probe.models)
            route = routes.GATEWAY
            self.out(f"  ok    route: {route.label}, {route.base_url(self.a.host)}")
            return
        self.a.route = routes.SERVING_NAME
        why = "it does not answer"
        if probe.error is not None and probe.error.code == "FEATURE_DISABLED":
            why = "not enabled for this workspace"
        elif probe.error is not None:
            why = diagnose(probe.error, self.a.host, "use the AI Gateway")[0].removeprefix(
                "cannot use the AI Gateway: "
            )
        route = routes.SERVING
        self.out(f"  ok    route: {route.label}, {route.base_url(self.a.host)} (AI Gateway: {why})")
        if prev_route == routes.GATEWAY_NAME:
            self.warn(
                f"the AI Gateway this workspace used stopped working ({why}); switching Claude "
                "Code to serving endpoints"
            )

    def _add_gateway_models(self, signed: SignedIn) -> None:
        if self.a.route != routes.GATEWAY_NAME or signed.token is None:
            return
        ws = Workspace(self.a.host, signed.token, self.env)
        with contextlib.suppress(WorkspaceError):  # verify reports a gateway that does not answer
            self.catalogue.add_gateway_models(routes.list_gateway_models(ws))
