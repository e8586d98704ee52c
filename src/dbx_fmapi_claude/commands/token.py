"""`dbx-fmapi token [--profile P]`: the apiKeyHelper. One line on stdout: the token.

The profile's credential decides where the token comes from (credentials.py): the Databricks
CLI for an OAuth login, the workspace's token endpoint for a service principal, the profile
itself for a personal access token. Without --profile: the configured profile, or, when setup
was given only DATABRICKS_* variables (CI), those variables.

With --mcp-headers (the headersHelper of the MCP servers `dbx-fmapi mcp add` configures): the
same token as one JSON object, `{"Authorization": "Bearer TOKEN"}`.
"""

from __future__ import annotations

from ..auth import credentials
from ..core.context import Context
from ..core.errors import ExitCode
from ..record import config


def run(*, ctx: Context, profile: str | None, mcp_headers: bool = False) -> int:
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
    token = credentials.token(source, ctx.token_request(cfg, allow_login=True))
    if mcp_headers:  # an MCP server's headersHelper: one JSON object of headers
        ctx.stdout.write(_headers(token.access_token) + "\n")
        ctx.stdout.flush()
        return ExitCode.OK
    ctx.stdout.write(token.access_token + "\n")
    ctx.stdout.flush()
    return ExitCode.OK


def _headers(token: str) -> str:
    """`{"Authorization": "Bearer TOKEN"}` without importing json (the helper's hot path): a
    token is printable ASCII without quotes or backslashes; anything else goes through json."""
    if token.isascii() and token.isprintable() and '"' not in token and "\\" not in token:
        return '{"Authorization": "Bearer ' + token + '"}'
    import json

    return json.dumps({"Authorization": f"Bearer {token}"})
