"""The credential: the CLI profile (or the DATABRICKS_* variables) and a token from it. (Claude
Code's apiKeyHelper run the way it runs it, or in static mode the token stored in its settings:
the agent's aspects, agent_checks.)"""

from __future__ import annotations

import io
import time
from collections.abc import Mapping
from pathlib import Path

from ..auth import credentials, databrickscfg, dbcli, tokens
from ..core import ui
from ..core.errors import UserError
from .report import LOGIN, SETUP, Run, need

HTTP_TIMEOUT = 20.0  # per request; Workspace applies DBX_FMAPI_HTTP_TIMEOUT over it


def profile(r: Run) -> None:
    from ..workspace.hosts import normalize_host

    cfg = need(r.cfg)
    if not cfg.profile:  # CI: setup was given DATABRICKS_* variables, no profile
        try:
            source = credentials.from_env(r.ctx.env)
        except UserError as exc:  # two credentials at once, a bad DATABRICKS_HOST
            r.add(ui.FAIL, exc.message, exc.fix, title="Credential")
            return
        expected = cfg.auth
        if source is None or source.kind != expected:
            r.add(
                ui.FAIL,
                f"setup used a {credentials.NAMES.get(expected, expected)} from DATABRICKS_* "
                "variables, and this environment has none",
                "export DATABRICKS_TOKEN (or DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET)",
                title="Credential",
            )
        else:
            r.add(
                ui.PASS,
                f"{credentials.NAMES[source.kind]} from DATABRICKS_* variables",
                title="Credential",
            )
        return
    name = str(cfg["profile"])
    host = str(cfg.host)
    cfg_path = Path(databrickscfg.path(str(r.ctx.paths.home), r.ctx.env))
    try:
        profiles = databrickscfg.read_profiles(str(r.ctx.paths.home), r.ctx.env)
    except UserError as exc:
        r.add(ui.FAIL, exc.message, exc.fix)
        return
    if profiles is None or name not in profiles:
        where = f"{cfg_path} does not exist" if profiles is None else f"not in {cfg_path}"
        r.add(
            ui.FAIL,
            f"profile {name!r}: {where}",
            f"{LOGIN}   (runs: {dbcli.login_command(host, name)})",
        )
        return
    their = databrickscfg.host_of(profiles[name]) or ""
    try:
        same = bool(their) and normalize_host(their) == host
    except UserError:
        same = False
    if not same:
        r.add(
            ui.FAIL,
            f"profile {name!r} in {cfg_path} points at {their or 'no host'}, not {host}",
            f"{LOGIN}   (runs: {dbcli.login_command(host, name)})",
        )
        return
    kind = databrickscfg.credential_kind(profiles[name])
    expected = cfg.auth
    try:
        credentials.resolve(name, r.ctx.env, r.ctx.paths.home_path)
    except credentials.CredentialError as exc:  # two credentials at once, their two hosts
        r.add(ui.FAIL, exc.message, exc.fix)
        return
    except UserError:
        pass  # a credential we cannot use: said below
    if kind not in credentials.KINDS:
        refusal = dbcli.nonoauth_error(name, kind, host)
        r.add(ui.FAIL, refusal.message, refusal.fix)
        return
    if kind != expected:
        r.add(
            ui.FAIL,
            f"profile {name!r} now holds a {credentials.NAMES[kind]}, but setup configured "
            f"a {credentials.NAMES[expected]} credential",
            f"{SETUP} --profile {name}",
        )
        return
    r.add(ui.PASS, f"{name!r} in {cfg_path} ({their}, {credentials.NAMES[kind]})")


def check_pat(host: str, token: str, env: Mapping[str, str]) -> tuple[str, str] | None:
    """None when the workspace accepts a personal access token, else (message, fix)."""
    from ..workspace.client import Workspace, WorkspaceError

    try:
        Workspace(host, token, env, timeout=HTTP_TIMEOUT).me()
    except WorkspaceError as exc:
        if exc.kind == "http" and exc.status in (401, 403):
            return (
                f"the workspace rejected the personal access token (HTTP {exc.status}: "
                f"{exc.message}): it was revoked, has expired or belongs to another workspace",
                "create a new token (workspace → Settings → Developer → Access tokens), put it "
                "in the profile's `token` (or DATABRICKS_TOKEN), then: dbx-fmapi doctor",
            )
        return (exc.message, "check your network or VPN, then: dbx-fmapi doctor")
    return None


def token(r: Run) -> None:
    cfg = need(r.cfg)
    name = str(cfg["profile"])
    lifetime = tokens.needed_lifetime(r.ctx.env, cfg)
    try:
        source = credentials.for_record(cfg, r.ctx.env, r.ctx.paths.home_path)
        with r.progress.step("getting a token"):
            # err: doctor reports short lifetimes itself
            request = tokens.request_for(r.ctx, cfg, need=lifetime, err=io.StringIO())
            tok = credentials.token(source, request)
    except dbcli.CliError as exc:
        if exc.kind == "login":
            r.add(
                ui.FAIL,
                f"the Databricks login for profile {name!r} has expired or was revoked; the "
                "CLI cannot refresh it",
                LOGIN,
            )
        else:
            r.add(ui.FAIL, exc.message, exc.fix)
        return
    except UserError as exc:
        r.add(ui.FAIL, exc.message, exc.fix)
        return
    left = tok.expiry - time.time()
    if not credentials.of(cfg.auth).expiry_known:
        r.add(
            ui.PASS,
            "personal access token (its expiry is not known; the workspace check below tries it)",
        )
    elif left < lifetime:
        r.add(
            ui.WARN,
            f"the workspace's tokens live {ui.duration(left)}, less than the helper TTL plus "
            f"margin ({ui.duration(lifetime)})",
            f"{SETUP} --ttl 5m",
        )
    else:
        r.add(ui.PASS, f"obtained; valid for {ui.duration(left)}")
    r.token = tok
