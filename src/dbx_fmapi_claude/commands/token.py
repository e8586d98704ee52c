"""`dbx-fmapi token [--profile P]`: the apiKeyHelper. One line on stdout: the token."""

from __future__ import annotations

from .. import config, tokens
from ..context import Context
from ..errors import ExitCode


def _host_from_databrickscfg(ctx: Context, profile: str) -> str | None:
    from .. import databrickscfg

    try:
        sections = databrickscfg.load(str(ctx.paths.home), ctx.env) or {}
    except (OSError, ValueError):
        return None
    return databrickscfg.host_of(sections.get(profile))


def run(*, ctx: Context, profile: str | None) -> int:
    cfg = config.load(ctx.paths)
    if profile is None:
        cfg = config.require(ctx.paths)
        profile = str(cfg["profile"])
    host = None
    if cfg and cfg.get("profile") == profile:
        host = str(cfg.get("host") or "") or None
    if host is None:
        host = _host_from_databrickscfg(ctx, profile)
    token = tokens.get_token(
        paths=ctx.paths,
        env=ctx.env,
        profile=profile,
        host=host,
        need=tokens.needed_lifetime(ctx.env, cfg),
        allow_login=True,
        err=ctx.stderr,
    )
    ctx.stdout.write(token.access_token + "\n")
    ctx.stdout.flush()
    return ExitCode.OK
