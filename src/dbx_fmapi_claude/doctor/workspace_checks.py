"""The workspace: it answers with our token, the route setup chose still works, each configured
model exists and is READY, and a real one-token request to each gets an answer."""

from __future__ import annotations

import time

from ..auth import credentials
from ..core import ui
from ..record import setupstate
from .credential_checks import HTTP_TIMEOUT, check_pat
from .report import LOGIN, SETUP, Run, need

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..workspace.client import Workspace, WorkspaceError


def _diagnose(exc: WorkspaceError, host: str, doing: str) -> tuple[str, str, str]:
    """(status, detail, fix) for a WorkspaceError while trying to `doing`: workspace.diagnose's
    reading; a rate limit is a WARN (Claude Code waits and retries), anything else a FAIL."""
    from ..workspace.client import diagnose

    detail, fix = diagnose(exc, host, doing, login=LOGIN)
    return (ui.WARN if exc.status == 429 else ui.FAIL, detail, fix)


def workspace(r: Run) -> None:
    from ..workspace.client import Workspace, WorkspaceError

    cfg, tok = need(r.cfg), need(r.token)
    host = str(cfg.host)
    ws = Workspace(host, tok.access_token, r.ctx.env, timeout=HTTP_TIMEOUT)
    try:
        with r.progress.step(f"contacting {host}"):
            me = ws.me()
    except WorkspaceError as exc:
        if credentials.of(cfg.auth).checked_by_workspace:
            pat = check_pat(host, tok.access_token, r.ctx.env)
            if pat is not None:
                r.add(ui.FAIL, *pat)
                return
        status, detail, fix = _diagnose(exc, host, "read the current user")
        r.add(ui.FAIL if status == ui.WARN else status, detail, fix)
        return
    user = me.get("userName") if isinstance(me, dict) else None
    who = f", signed in as {user}" if user else ""
    r.add(ui.PASS, f"{host} reachable{who}")
    r.ws = ws


def route(r: Run) -> None:
    """The route setup chose still answers: the AI Gateway's model listing (no tokens spent).
    Serving endpoints answer wherever the workspace does; the requests below try them."""
    from ..workspace import routes
    from ..workspace.client import WorkspaceError

    cfg, ws = need(r.cfg), need(r.ws)
    chosen = routes.for_record(cfg)
    host = str(cfg.host)
    if chosen.name == routes.SERVING_NAME:
        r.add(ui.PASS, f"{chosen.label}, {chosen.base_url(host)}")
        return
    try:
        with r.progress.step("asking the AI Gateway for its models"):
            listed = routes.list_gateway_models(ws)
    except WorkspaceError as exc:
        detail, fix = _diagnose(exc, host, "reach the AI Gateway")[1:]
        if cfg.get("route_auto") is not False:
            fix = f"re-run setup, which picks the route that works: {SETUP}   ({fix})"
        r.add(
            ui.FAIL,
            f"setup chose the AI Gateway, {chosen.base_url(host)}, and it stopped working: "
            f"{detail.removeprefix('cannot reach the AI Gateway: ')}",
            fix,
        )
        return
    r.add(ui.PASS, f"{chosen.label}, {chosen.base_url(host)} ({len(listed)} models)")


class Suggest:
    """Replacement models for the fix lines: the newest READY endpoint of the same family."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.endpoints: list[dict[str, Any]] | None = None
        self.fetched = False

    def flags(self, name: str, roles: list[str]) -> str:
        from ..workspace import catalogue
        from ..workspace.client import WorkspaceError, claude_endpoints, is_ready

        if not self.fetched:
            self.fetched = True
            try:
                self.endpoints = self.ws.endpoints()
            except WorkspaceError:
                self.endpoints = None
        fam = catalogue.parse(name).family
        today = catalogue.today(self.ws.env)
        ready = [
            str(e["name"])
            for e in claude_endpoints(self.endpoints or [])
            if is_ready(e) and e["name"] != name
        ]

        def of(family: str) -> list[str]:
            return [n for n in ready if catalogue.parse(n).family == family]

        # Newest first, as setup chooses a default: the family's newest that is not retiring,
        # else a neighbouring family's; one retiring soon only when nothing else is left, and
        # then said; a retired one never.
        order = {"opus": ("opus", "sonnet", "haiku"), "sonnet": ("sonnet", "opus", "haiku")}
        families = order.get(fam or "", (fam, "sonnet", "opus")) if fam else ()
        fresh = [n for f in families if f for n in of(f) if not catalogue.retiring(n, today)]
        same = [n for n in of(fam) if catalogue.retiring(n, today) != "retired"] if fam else []
        pick = (fresh or same or ["<name>"])[0]
        flag = {"subagent": "subagent-model"}
        flags = " ".join(f"--{flag.get(role, role)} {pick}" for role in roles)
        note = catalogue.retirement_note(pick, today) if not fresh and same else None
        return (
            f"{flags}   (it {note.split(' (', 1)[0]}: the newest this workspace has)"
            if note
            else flags
        )


def _endpoint_of(name: str) -> str:
    """The serving endpoint behind a configured name: a `[1m]` variant's base model, a Unity
    Catalog name's pay-per-token endpoint (system.ai.claude-x -> databricks-claude-x)."""
    from ..workspace.catalogue import base_name

    name = base_name(name)
    if name.startswith("system.ai."):
        short = name.rsplit(".", 1)[-1]
        return short if short.startswith("databricks-") else f"databricks-{short}"
    return name


def configured_models(r: Run) -> list[str]:
    """The models the per-model checks are about, in the order setup's roles name them."""
    return list(setupstate.roles_by_model(need(r.cfg)))


def model(r: Run) -> bool | None:
    """The configured endpoint exists, is READY and is not retired or retiring within the week
    (a WARN); only one that answered lets its request be tried."""
    from ..workspace import catalogue
    from ..workspace.client import WorkspaceError, is_ready

    cfg, ws, name = need(r.cfg), need(r.ws), r.item
    if r.suggest is None:
        r.suggest = Suggest(ws)
    suggest = r.suggest
    roles = setupstate.roles_by_model(cfg)[name]
    as_roles = ", ".join(roles)
    try:
        with r.progress.step(f"looking up serving endpoint {name}"):
            entry = ws.endpoint(_endpoint_of(name))
    except WorkspaceError as exc:
        if exc.kind == "http" and exc.status == 404:
            r.add(
                ui.FAIL,
                f"does not exist in this workspace (configured as {as_roles})",
                f"{SETUP} {suggest.flags(name, roles)}   (all models: dbx-fmapi models)",
            )
        elif exc.kind == "http" and exc.status == 403:
            r.add(
                ui.FAIL,
                f"you may not see this endpoint ({exc.message})",
                f"ask a workspace admin for CAN_QUERY on serving endpoint {name}",
            )
        else:
            r.add(*_diagnose(exc, str(cfg.host), f"look up serving endpoint {name}"))
        return False  # a rate limit is only a WARN, but the model did not answer
    if not is_ready(entry):
        state = entry.get("state") or {}
        why = state.get("ready", "unknown") if isinstance(state, dict) else "unknown"
        update = state.get("config_update") if isinstance(state, dict) else None
        during = f" (config update: {update})" if update else ""
        r.add(
            ui.FAIL,
            f"exists but is {why}{during}; requests to it fail (configured as {as_roles})",
            "wait until it is READY (dbx-fmapi models), or pick another: "
            f"{SETUP} {suggest.flags(name, roles)}",
        )
        return False
    retires = catalogue.retirement_note(name, catalogue.today(r.ctx.env))
    if retires:
        r.add(
            ui.WARN,
            f"READY, but {retires} (configured as {as_roles}); Claude Code warns about it too",
            f"{SETUP} {suggest.flags(name, roles)}   (all models: dbx-fmapi models)",
        )
    else:
        r.add(ui.PASS, f"READY (configured as {as_roles})")
    return True


def request(r: Run) -> None:
    from ..workspace.client import WorkspaceError
    from ..workspace.routes import for_record

    cfg, ws, name = need(r.cfg), need(r.ws), r.item
    host = str(cfg.host)
    base = for_record(cfg).base_url(host)
    started = time.monotonic()
    try:
        with r.progress.step(f"sending a one-token request to {name}"):
            ws.ping_model(name, base)
    except WorkspaceError as exc:
        r.add(*_request_diagnosis(exc, host, name))
        return
    took = time.monotonic() - started
    r.add(ui.PASS, f"answered a one-token request in {took:.1f}s")


def _request_diagnosis(exc: WorkspaceError, host: str, name: str) -> tuple[str, str, str]:
    """What the Anthropic route's own answers mean; anything else as any workspace error."""
    from ..workspace.client import error_label

    msg = str(exc.message)
    label = error_label(exc)
    if exc.code == "FEATURE_DISABLED" or exc.status in (301, 302, 303, 307, 308):
        return _diagnose(exc, host, f"send a one-token request to {name}")
    if exc.kind == "http" and exc.status == 403 and "token" not in msg.lower():
        return (
            ui.FAIL,
            f"the gateway refused the request ({label}: {msg}): you are not allowed to query "
            "this model",
            f"ask a workspace admin for CAN_QUERY on serving endpoint {name} (and access to the "
            "Anthropic route)",
        )
    if exc.kind == "http" and exc.status == 404:
        return (
            ui.FAIL,
            f"the gateway does not serve this model through the Anthropic route ({label}: {msg})",
            f"pick another from `dbx-fmapi models`, then re-run {SETUP}",
        )
    if exc.kind == "http" and exc.status == 400 and "token" in msg.lower():
        return (ui.FAIL, f"the gateway rejected the token ({label}: {msg})", LOGIN)
    return _diagnose(exc, host, f"send a one-token request to {name}")
