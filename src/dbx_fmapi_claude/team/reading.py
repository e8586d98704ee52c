"""Reading a team file as setup, doctor and `dbx-fmapi team` read it: from a path, a URL or
the workspace (with the caller's own credential), checked; and what it now says that a
configuration does not hold yet."""

from __future__ import annotations

from collections.abc import Mapping

from ..auth import credentials, tokens
from ..auth.profilechoice import offered_profile, profile_hosts
from ..core.context import Context
from ..core.errors import ExitCode, UserError
from ..telemetry import tables
from ..workspace.client import Workspace
from ..workspace.hosts import normalize_host
from . import schema, sources

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def workspace_for(
    ctx: Context, host: str | None, profile: str | None, login: bool = True
) -> Workspace:
    """The workspace `host` with a token of the caller's own credential (`profile`, else the
    DATABRICKS_* variables)."""
    if not host:
        raise UserError(
            "which workspace? a /Workspace or /Volumes path needs --host",
            "pass --host https://my-workspace.cloud.databricks.com (and --profile P)",
            ExitCode.USAGE,
        )
    if profile is None and credentials.from_env(ctx.env) is None:
        # A profile of ~/.databrickscfg for this workspace, else DEFAULT (setup's own default).
        profile = offered_profile({}, host, profile_hosts(ctx))
    source = credentials.resolve(profile, ctx.env, ctx.paths.home_path)
    source.host = host
    tok = credentials.token(source, tokens.request_for(ctx, None, need=60.0, allow_login=login))
    return Workspace(host, tok.access_token, ctx.env)


def load(
    ctx: Context, source: str, *, host: str | None, profile: str | None, login: bool = True
) -> tuple[schema.TeamFile, Workspace | None]:
    """The team file at `source`, checked; the workspace it was read from (or None). `login`:
    whether a browser login may be opened to read a workspace file."""
    ws = None
    if sources.needs_workspace(source):
        ws = workspace_for(ctx, normalize_host(host) if host else None, profile, login)
    fetched = sources.read(source, env=ctx.env, cwd=ctx.cwd, ws=ws)
    return schema.parse(fetched.data, source), ws


def what_changed(prev: Mapping[str, Any], team: schema.TeamFile) -> list[str]:
    """What the team file now says that the configuration does not hold yet."""
    held = {
        "host": prev.get("host"),
        "profile": prev.get("profile"),
        "route": prev.get("route"),
        "token_mode": prev.get("token_mode"),
        "ttl": prev.get("ttl_seconds"),
        "margin": prev.get("margin_seconds"),
    }
    out: list[str] = []
    had_tables = prev.get("otel_tables") or "none"
    if team.get("otel_tables") is not None and team.get("otel_tables") != had_tables:
        out.append(f"otel_tables {had_tables} -> {team.get('otel_tables')}")
    had_spans = "on" if tables.spans_on(prev) else "off"
    if team.get("otel_spans") is not None and team.get("otel_spans") != had_spans:
        out.append(f"otel_spans {had_spans} -> {team.get('otel_spans')}")
    for key in ("host", "profile", "route", "token_mode"):
        value = team.get(key)
        if value is not None and value != "auto" and held[key] not in (None, value):
            out.append(f"{key} {held[key]} -> {value}")
    for key, seconds in (("ttl", team.ttl_seconds), ("margin", team.margin_seconds)):
        had = held[key]
        if seconds is not None and isinstance(had, (int, float)) and int(had) != seconds:
            out.append(f"{key} {int(had)}s -> {seconds}s")
    for key, value in team.models.items():
        if key in schema.CLAUDE_MODEL_KEYS:
            had = prev.get(key)
        else:
            state = prev.get(key)
            had = state.get("model") if isinstance(state, Mapping) else None
        if had is not None and had != value:
            out.append(f"models.{key} {had} -> {value}")
    return out
