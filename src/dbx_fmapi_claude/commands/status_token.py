"""The token row of `dbx-fmapi status`: the token's state (from the record, the settings file in
static mode, or with `--check` the Databricks CLI and one request to the workspace), never the
token itself, and the line status prints for it."""

from __future__ import annotations

import time
from pathlib import Path

from ..agents.claude import settings
from ..auth import credentials, tokens
from ..core import ui
from ..core.context import Context
from ..core.errors import UserError
from ..record import config, setupstate

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def _token_from_settings(path: Path) -> str | None:
    try:
        data, _ = settings.load(path)
    except UserError:
        return None
    return settings.stored_token(data)


def token_info(ctx: Context, cfg: config.Configuration, check: bool) -> dict[str, Any]:
    """{state, source, expires_at, seconds_left, checked, message, fix}; never the token."""
    profile = str(cfg["profile"])
    need = tokens.needed_lifetime(ctx.env, cfg)
    info: dict[str, Any] = {
        "state": "unknown",
        "source": None,
        "expires_at": None,
        "seconds_left": None,
        "checked": check,
        "workspace": None,  # with --check: accepted, replaced, rejected, unknown
        "message": None,
        "fix": None,
    }
    expiry: float | None = None
    if check:
        from ..auth import dbcli, rejected

        try:
            source = credentials.for_record(cfg, ctx.env, ctx.paths.home_path)
            request = tokens.request_for(ctx, cfg, need=0)
            request.always_check = True  # one request to the workspace, not only the CLI
            tok = credentials.token(source, request)
            expiry = tok.expiry
            info["source"] = source.credential_kind.status_source
        except credentials.CredentialError as exc:
            info["state"] = "error"
            info["message"] = exc.message
            info["fix"] = exc.fix
            return info
        except (dbcli.CliError, rejected.RejectedLogin) as exc:
            info["state"] = "login_needed" if exc.kind == "login" else "error"
            info["message"] = exc.message
            info["fix"] = "dbx-fmapi login" if exc.kind == "login" else exc.fix
            return info
        verdict = request.verdict
        if verdict is None and source.host:  # a service principal's or a PAT's token
            verdict = rejected.check(source.host, tok.access_token, ctx.env)
        info["workspace"] = verdict or rejected.UNKNOWN
        if verdict == rejected.REPLACED:
            info["message"] = (
                "the workspace had rejected the token (revoked or rotated); a fresh one replaced it"
            )
        elif verdict == rejected.REJECTED:
            info["state"] = "rejected"
            info["message"] = (
                "rejected by the workspace although it has not expired (revoked or rotated)"
            )
            info["fix"] = source.credential_kind.rejected_fix
            return info
    elif setupstate.token_mode(cfg) == "static":
        path = setupstate.managed_settings(cfg)
        tok_text = _token_from_settings(path) if path else None
        if tok_text is None:
            info["state"] = "missing"
            info["message"] = "no ANTHROPIC_AUTH_TOKEN in the settings file"
            info["fix"] = "dbx-fmapi-claude  (writes a fresh token before it starts claude)"
            return info
        expiry = tokens.stored_expiry(ctx.paths, profile, tok_text)
        info["source"] = "settings"
    elif not credentials.of(cfg.auth).browser_login:
        try:
            source = credentials.for_record(cfg, ctx.env, ctx.paths.home_path)
        except UserError as exc:
            info["state"], info["message"], info["fix"] = "error", exc.message, exc.fix
            return info
        expiry = credentials.known_expiry(source, ctx.paths)
        info["source"] = "record" if expiry is not None else None
    else:
        expiry = tokens.known_expiry(ctx.paths, profile)
        info["source"] = "record" if expiry is not None else None
    if expiry == credentials.NO_EXPIRY:
        info["state"] = "valid"
        info["message"] = (
            "a personal access token: its expiry is not known here (doctor checks it against "
            "the workspace)"
        )
        return info
    if expiry is None:
        info["message"] = "no token fetched yet; ask the CLI with: dbx-fmapi status --check"
        return info
    left = expiry - time.time()
    info["expires_at"] = ui.iso(expiry)
    info["seconds_left"] = int(left)
    if left <= 0:
        info["state"] = "expired"
    elif left < need:
        info["state"] = "expiring"
    else:
        info["state"] = "valid"
    return info


def token_line(info: dict[str, Any], mode: str, paint: ui.Painter) -> str:
    state = info["state"]
    left = info["seconds_left"]
    if state == "valid" and left is None:
        return paint("valid", "green") + f" — {info['message']}"
    if state == "valid":
        text = paint("valid", "green") + f", {ui.duration(left)} left"
    elif state == "expiring":
        renew = "refreshed on next use" if mode == "helper" else "dbx-fmapi-claude refreshes it"
        text = paint("valid", "yellow") + f", {ui.duration(left)} left ({renew})"
    elif state == "expired":
        renew = (
            "the helper fetches a new one on next use"
            if mode == "helper"
            else "plain `claude` fails until dbx-fmapi-claude refreshes it"
        )
        text = paint("expired", "red") + f" {ui.duration(-left)} ago ({renew})"
    elif state == "login_needed":
        why = info.get("message") or ""
        rejected_first = "rejected" in why
        text = paint("login needed", "red") + (
            f" — {why}; fix: dbx-fmapi login" if rejected_first else " — fix: dbx-fmapi login"
        )
    elif state == "missing":
        text = paint("missing", "red") + f" — {info['message']}"
    elif state == "error":
        text = paint("unknown", "yellow") + f" — {info['message']}"
    elif state == "rejected":
        text = paint("rejected", "red") + f" — {info['message']}; fix: {info['fix']}"
    else:
        text = "unknown — " + str(info["message"])
    if info["expires_at"] and state in ("valid", "expiring"):
        text += f" (until {ui.clock(time.time() + left)})"
    if info.get("workspace") == "replaced" and state in ("valid", "expiring"):
        text += f" — {info['message']}"
    if info["checked"] and state != "rejected":
        asked = info.get("workspace")
        text += (
            " [checked with the workspace]"
            if asked in ("accepted", "replaced")
            else " [checked with the Databricks CLI; the workspace did not answer]"
            if asked == "unknown"
            else " [checked with the Databricks CLI]"
        )
    return text
