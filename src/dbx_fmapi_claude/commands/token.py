"""`dbx-fmapi token [--profile P]`: the apiKeyHelper. One line on stdout: the token.

The profile's credential decides where the token comes from (credentials.py): the Databricks
CLI for an OAuth login, the workspace's token endpoint for a service principal, the profile
itself for a personal access token. Without --profile: the configured profile, or, when setup
was given only DATABRICKS_* variables (CI), those variables.
"""

from __future__ import annotations

from ..auth import credentials
from ..core.context import Context
from ..core.errors import ExitCode
from ..record import config


def run(*, ctx: Context, profile: str | None) -> int:
    record = config.load_record(ctx.paths)
    cfg = config.in_effect(record, ctx.paths, ctx.cwd_path)
    if profile is None:
        if record is None and credentials.from_env(ctx.env) is not None:
            pass  # CI: the environment alone is the credential
        else:
            cfg = config.require(ctx.paths, ctx.cwd_path)
            profile = str(cfg["profile"]) if cfg.get("profile") else None
    elif cfg is None or cfg.get("profile") != profile:
        # Claude Code runs the helper of the settings file it uses, with that file's profile:
        # that configuration's TTL and workspace.
        cfg = next((v for v in config.views(record) if v.get("profile") == profile), cfg)
    source = credentials.resolve(profile, ctx.env, ctx.paths.home_path)
    if cfg and cfg.get("profile") == profile and cfg.get("host"):
        source.host = str(cfg["host"])  # the workspace setup verified wins over a stale profile
    _refuse_elsewhere(ctx, source.host)
    token = credentials.token(source, ctx.token_request(cfg, allow_login=True))
    ctx.stdout.write(token.access_token + "\n")
    ctx.stdout.flush()
    return ExitCode.OK


def _refuse_elsewhere(ctx: Context, host: str | None) -> None:
    """Run by Claude Code, the token goes where Claude Code's settings point it (its first
    helper run comes before it reads the project's settings, so the helper's own environment
    cannot tell): refuse it unless that is the workspace the token is for. A project settings
    file, a managed one or a stray variable may point Claude Code at another server."""
    env = ctx.env
    if not host or not (env.get("CLAUDE_CODE_ENTRYPOINT") or env.get("CLAUDECODE")):
        return  # not Claude Code (2.1.332 sets the first): another agent or a person
    from ..agents.claude import destination

    refused = destination.refusal(ctx.paths.home_path, ctx.cwd_path, env, host)
    if refused is not None:
        raise refused
