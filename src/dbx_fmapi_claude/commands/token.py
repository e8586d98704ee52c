"""`dbx-fmapi token [--profile P]`: the apiKeyHelper. One line on stdout: the token.

The profile's credential decides where the token comes from (credentials.py): the Databricks
CLI for an OAuth login, the workspace's token endpoint for a service principal, the profile
itself for a personal access token. Without --profile: the configured profile, or, when setup
was given only DATABRICKS_* variables (CI), those variables.

With --mcp-headers (the headersHelper of the MCP servers `dbx-fmapi mcp add` configures): the
same token as one JSON object, `{"Authorization": "Bearer TOKEN"}`. With --otel-headers (Claude
Code's otelHeadersHelper, `--otel-tables`): the same object, refused when the OTLP endpoint
Claude Code exports to is not on the token's workspace.
"""

from __future__ import annotations

from ..auth import credentials, tokens
from ..core.context import Context
from ..core.errors import ExitCode
from ..record import config

# Claude Code runs the otelHeadersHelper at the end of every `claude -p` (its shutdown flush),
# seconds or minutes after its apiKeyHelper handed the same token out or had it checked: asking
# the workspace again would add a round trip to the end of every run, against a revocation in
# those minutes that costs at most that run's exports. A token known good longer ago than this
# is checked as the apiKeyHelper's is (auth/rejected.py).
OTEL_FRESH_FOR = 600.0


def run(
    *, ctx: Context, profile: str | None, mcp_headers: bool = False, otel_headers: bool = False
) -> int:
    record = config.load_record(ctx.paths)
    cfg = config.in_effect(record, ctx.paths, ctx.cwd_path)
    if profile is None:
        if record is None and credentials.from_env(ctx.env) is not None:
            pass  # CI: the environment alone is the credential
        else:
            cfg = config.require(ctx.paths, ctx.cwd_path)
            profile = cfg.profile
    elif cfg is None or cfg.profile != profile:
        # Claude Code runs the helper of the settings file it uses, with that file's profile:
        # that configuration's TTL and workspace.
        cfg = next((v for v in config.views(record) if v.profile == profile), cfg)
    source = credentials.resolve(profile, ctx.env, ctx.paths.home_path)
    named = bool(cfg and cfg.profile == profile and cfg.host)
    if profile is not None and source.host is None and not named:
        from ..auth import dbcli

        if dbcli.find(ctx.env) is not None:  # without the CLI, that is the first thing to say
            _require_profile(ctx, profile)
    if cfg and cfg.profile == profile and cfg.host:
        source.host = cfg.host  # the workspace setup verified wins over a stale profile
    _refuse_elsewhere(ctx, source.host)
    if mcp_headers:
        _refuse_other_server(ctx, source.host)
    if otel_headers:
        _refuse_other_collector(ctx, source.host)
    request = tokens.request_for(ctx, cfg, allow_login=True)
    if mcp_headers:
        request.fresh_for = 0.0  # asked again right after a 401/403: check what it handed out
    elif otel_headers:
        request.fresh_for = OTEL_FRESH_FOR
        request.cli_cache = True  # the token the CLI holds, without its process when certain
    token = credentials.token(source, request)
    if mcp_headers or otel_headers:  # a headers helper: one JSON object of headers
        ctx.stdout.write(_headers(token.access_token) + "\n")
        ctx.stdout.flush()
        return ExitCode.OK
    ctx.stdout.write(token.access_token + "\n")
    ctx.stdout.flush()
    return ExitCode.OK


def _require_profile(ctx: Context, profile: str) -> None:
    """A profile ~/.databrickscfg does not have, and no configuration names its workspace: the
    CLI would only say "please specify a host using --host". Say what is wrong and the fix."""
    from ..auth import databrickscfg
    from ..core.errors import UserError

    try:
        sections = databrickscfg.load(ctx.paths.home_path, ctx.env)
    except (OSError, ValueError):
        return  # unreadable: the CLI's own words say more
    if sections is not None and profile in sections:
        return
    where = databrickscfg.path(ctx.paths.home_path, ctx.env)
    home = ctx.paths.home_path
    shown = "~" + where[len(home) :] if where.startswith(home + "/") else where
    have = ", ".join(sorted(databrickscfg.profiles(sections or {}))) or "none"
    import shlex

    raise UserError(
        f"profile {profile!r} is not in {shown} (its profiles: {have})",
        "databricks auth profiles   (then use one of them; or create this one: databricks auth "
        f"login --host <workspace-url> --profile {shlex.quote(profile)})",
    )


def _headers(token: str) -> str:
    """`{"Authorization": "Bearer TOKEN"}` without importing json (the helper's hot path): a
    token is printable ASCII without quotes or backslashes; anything else goes through json."""
    if token.isascii() and token.isprintable() and '"' not in token and "\\" not in token:
        return '{"Authorization": "Bearer ' + token + '"}'
    import json

    return json.dumps({"Authorization": f"Bearer {token}"})


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


def _refuse_other_collector(ctx: Context, host: str | None) -> None:
    """Claude Code runs the otelHeadersHelper with its OTEL_* environment: every OTLP endpoint
    it names must be on the workspace the token is for (setup writes host + /api/2.0/otel)."""
    if not host:
        return
    base = host.rstrip("/") + "/"
    for key in (
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
        "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    ):
        url = ctx.env.get(key)
        if url and not url.startswith(base):
            from ..core.errors import UserError

            raise UserError(
                f"{key} is {url.split('?')[0]}, not on the workspace {host}: no token for it",
                "setup-fmapi-claudecode --otel-tables CATALOG.SCHEMA.PREFIX   (or remove "
                f"{key} from the settings or environment that set it)",
            )


def _refuse_other_server(ctx: Context, host: str | None) -> None:
    """Claude Code names the MCP server it runs the headersHelper for: its URL must be on the
    workspace the token is for (`mcp add` writes exactly host + path), whatever edited the
    server's URL since."""
    url = ctx.env.get("CLAUDE_CODE_MCP_SERVER_URL")
    if not url or not host or url.startswith(host.rstrip("/") + "/"):
        return
    from ..core.errors import UserError

    name = ctx.env.get("CLAUDE_CODE_MCP_SERVER_NAME") or "?"
    raise UserError(
        f"MCP server {name} is at {url.split('?')[0]}, not on the workspace {host}: no token "
        "for it",
        "dbx-fmapi mcp list   (remove the server from ~/.claude.json, or add it again)",
    )
