"""`dbx-fmapi login [--profile P]`: re-authenticate the configured profile (the browser flow of
`databricks auth login --host H --profile P`), then show how long the new token lives. In static
token mode the fresh token also replaces the one in the settings file (0600, atomically, under
the profile lock), so plain `claude` does not keep using a revoked one. Never prints a token."""

from __future__ import annotations

import time
from pathlib import Path

from ..agents.claude import settings
from ..auth import credentials, databrickscfg, dbcli, loginpolicy, tokens
from ..core import ui
from ..core.context import Context
from ..core.errors import ExitCode, UserError
from ..record import config, setupstate
from ..workspace.hosts import normalize_host

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def _host_for(ctx: Context, profile: str) -> str | None:
    try:
        profiles = databrickscfg.read_profiles(str(ctx.paths.home), ctx.env) or {}
    except UserError:
        return None
    raw = databrickscfg.host_of(profiles.get(profile))
    if not raw:
        return None
    try:
        return normalize_host(raw)
    except UserError:
        return None


def _update_static(ctx: Context, path: Path, token: dbcli.Token, profile: str) -> bool:
    with tokens.profile_lock(ctx.paths, profile):
        data, raw = settings.load(path)
        if raw is None:
            return False
        if (data.get("env") or {}).get(settings.ENV_TOKEN) == token.access_token:
            return False
        settings.store(path, settings.set_token(data, token.access_token), secret=True)
        return True


def _check_non_browser(ctx: Context, source: credentials.Source, cfg: Any) -> int:
    """A service principal or a PAT has no browser login: say so, and check the credential
    against the workspace instead (a rejected one is an error with its fix)."""
    if cfg and cfg.get("host"):
        source.host = str(cfg["host"])
    what = credentials.NAMES[source.kind]
    where = f"Profile {source.profile!r} uses" if source.profile else "DATABRICKS_* variables hold"
    ctx.out(
        f"{where} a {what}: there is no browser login for it, and dbx-fmapi never runs one "
        "(on a profile it would replace the credential in ~/.databrickscfg)."
    )
    tok = credentials.token(source, tokens.request_for(ctx, cfg, need=0))
    if source.credential_kind.checked_by_workspace and source.host:
        from ..doctor.credential_checks import check_pat

        problem = check_pat(source.host, tok.access_token, ctx.env)
        if problem is not None:
            raise UserError(*problem)
        ctx.out(f"The personal access token works on {source.host}.")
    else:
        note = source.credential_kind.login_note(source, tok, time.time())
        if note is not None:
            ctx.out(note)
    return ExitCode.OK


def run(*, ctx: Context, profile: str | None = None) -> int:
    cfg = config.load(ctx.paths, ctx.cwd)
    if profile is None:
        cfg = config.require(ctx.paths, ctx.cwd)
        if not cfg.get("profile"):  # CI: the DATABRICKS_* variables are the credential
            source = credentials.for_record(cfg, ctx.env, ctx.paths.home_path)
            return _check_non_browser(ctx, source, cfg)
        profile = str(cfg["profile"])
    ours = cfg is not None and cfg.get("profile") == profile
    source = credentials.resolve(profile, ctx.env, ctx.paths.home_path)
    if not source.credential_kind.browser_login:
        return _check_non_browser(ctx, source, cfg if ours else None)
    host = str(cfg["host"]) if ours and cfg else _host_for(ctx, profile)
    if not host:
        raise UserError(
            f"profile {profile!r} is not in ~/.databrickscfg and setup did not configure it",
            dbcli.login_command("https://<your-workspace>", profile),
            ExitCode.USAGE,
        )
    # Before the login: a workspace that cannot be reached is a network error (exit 1, check the
    # URL), not a login that fails after the browser or after the CLI's minutes of retries.
    dbcli.check_reachable(host, ctx.env, "dbx-fmapi login")
    loginpolicy.login(host, profile, ctx.env, ctx.stderr)
    progress = ui.Progress(ctx)
    with progress.step("getting the new token"):
        tok = tokens.get_token(tokens.request_for(ctx, cfg), profile, host)
    left = tok.expiry - time.time()
    ctx.out(f"Logged in: profile {profile!r} on {host}.")
    ctx.out(
        f"The new token is valid for {ui.duration(left)} (until {ui.clock(tok.expiry)}); "
        "it is refreshed automatically from here on."
    )
    if ours and cfg and setupstate.token_mode(cfg) == "static":
        path = setupstate.managed_settings(cfg)
        if path is not None and _update_static(ctx, path, tok, profile):
            ctx.out(f"Updated the token in {path}.")
    return ExitCode.OK
