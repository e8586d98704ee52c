"""`dbx-fmapi <command>` and `setup-fmapi-claudecode`: argparse wired to one module per command.

Command modules are imported only when their command runs, so `dbx-fmapi token` (the
apiKeyHelper, run by Claude Code every TTL) loads nothing it does not need.
"""

from __future__ import annotations

import sys

from .. import __version__
from ..core.context import Context
from ..core.errors import ExitCode, UserError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Sequence
    from typing import Any

PROG = "dbx-fmapi"


def _parser_class() -> type[argparse.ArgumentParser]:
    """argparse, imported only off the token fast path."""
    import argparse

    class Parser(argparse.ArgumentParser):
        # Arguments added when this parser is first used (setup's flags, which ask the agents
        # for theirs): the other commands do not import every agent to parse their arguments.
        later: Callable[[argparse.ArgumentParser], None] | None = None

        def _fill(self) -> None:
            add, self.later = self.later, None
            if add is not None:
                add(self)

        def parse_known_args(self, *args: Any, **kwargs: Any) -> Any:
            self._fill()
            return super().parse_known_args(*args, **kwargs)

        def format_usage(self) -> str:
            self._fill()
            return super().format_usage()

        def format_help(self) -> str:
            self._fill()
            return super().format_help()

        def error(self, message: str) -> None:  # type: ignore[override]  # exit 2 with a hint
            self.print_usage(sys.stderr)
            sys.stderr.write(f"{self.prog}: error: {message}\n  fix: {self.prog} --help\n")
            sys.exit(ExitCode.USAGE)

    return Parser


def _add_setup_flags(p: argparse.ArgumentParser) -> None:
    from .. import agents
    from ..auth import source as credentials
    from ..workspace import routes

    p.add_argument("--host", help="workspace URL, e.g. https://my-workspace.cloud.databricks.com")
    p.add_argument("--profile", help="Databricks CLI profile name (default: DEFAULT)")
    p.add_argument("--model", help="main model (ANTHROPIC_MODEL; default: the Opus model)")
    p.add_argument("--opus", help="model for opus (ANTHROPIC_DEFAULT_OPUS_MODEL)")
    p.add_argument("--sonnet", help="model for sonnet (ANTHROPIC_DEFAULT_SONNET_MODEL)")
    p.add_argument("--haiku", help="model for haiku (ANTHROPIC_DEFAULT_HAIKU_MODEL)")
    p.add_argument(
        "--fable",
        help="model for `claude --model fable` (ANTHROPIC_DEFAULT_FABLE_MODEL; default: the "
        "newest READY fable model, when the workspace has one; none: no fable model)",
    )
    p.add_argument(
        "--subagent-model",
        metavar="ID",
        help="model for subagents (CLAUDE_CODE_SUBAGENT_MODEL; default: the main model; none: "
        "back to the main model)",
    )
    p.add_argument(
        "--route",
        choices=routes.CHOICES,
        help="where Claude Code sends requests: the workspace's AI Gateway or its serving "
        "endpoints (default auto: the AI Gateway when it answers)",
    )
    p.add_argument(
        "--settings-location",
        metavar="home|cwd|PATH",
        help="where .claude/settings.json goes: home (~), cwd, or a folder (default: home)",
    )
    p.add_argument("--token-mode", choices=("helper", "static"), help="default: helper")
    p.add_argument(
        "--auth",
        choices=credentials.KINDS,
        help="credential: "
        + ", ".join(f"{k.name} ({k.short})" for k in credentials.BY_NAME.values())
        + "; default: what the profile holds, or the DATABRICKS_* variables",
    )
    p.add_argument("--ttl", help="apiKeyHelper TTL, e.g. 15m or 90s; bare number = minutes")
    p.add_argument(
        "--margin",
        help="extra lifetime a token must have beyond the TTL (default 5m)",
    )
    p.add_argument("--shell", choices=("zsh", "bash", "fish", "none"), help="rc file to edit")
    p.add_argument(
        "--agents",
        metavar=",".join(agents.NAMES),
        help="the coding agents to set up (default: the previous run's, else claude; Claude "
        "Code is always set up)",
    )
    for agent in agents.every():
        if agent.model_flag:
            p.add_argument(agent.model_flag, metavar="ID", help=agent.model_help)
    p.add_argument(
        "--statusline",
        choices=("on", "off"),
        help="our status line (tokens, cost, budget) and budget hook in Claude Code; on "
        "(default) adds them when you have no status line of your own",
    )
    p.add_argument(
        "--mlflow-experiment",
        metavar="PATH|none",
        help="trace Claude Code sessions into this MLflow experiment in the workspace, e.g. "
        "/Users/you@example.com/claude-code, with MLflow's own Claude Code integration "
        "(installed on demand; docs/mlflow.md); none: stop tracing",
    )
    p.add_argument(
        "--otel-tables",
        metavar="CATALOG.SCHEMA.PREFIX",
        help="send the agents' OpenTelemetry metrics and logs to the workspace's tables "
        "PREFIX_otel_metrics, _otel_logs (none: stop; docs/telemetry.md)",
    )
    p.add_argument(
        "--otel-spans",
        metavar="on|off",
        help="with --otel-tables: traces into PREFIX_otel_spans too (default off: Claude "
        "Code's spans cost each run about 70 ms; docs/telemetry.md)",
    )
    p.add_argument(
        "--team",
        metavar="SOURCE",
        help="set up from a team file: a path, an https:// URL, /Workspace/... or /Volumes/... "
        "(its values are the defaults; its locked keys cannot be changed)",
    )
    install = p.add_mutually_exclusive_group()
    install.add_argument(
        "--install",
        action="store_true",
        help="install missing tools (Claude Code, the Databricks CLI, chosen agents; npm -g or "
        "the vendors' installers, at the tested versions) without asking; default: ask on a "
        "terminal, else install nothing",
    )
    install.add_argument("--skip-install", action="store_true", help="never install anything")
    p.add_argument("--no-verify", action="store_true", help="skip the per-model test request")
    p.add_argument("--yes", "-y", action="store_true", help="accept defaults, no prompts")
    p.add_argument("--dry-run", action="store_true", help="show the changes, write nothing")


def _add_mcp(sub: Any) -> None:
    p = sub.add_parser(
        "mcp", help="the workspace's MCP servers (Genie, SQL, functions, AI Search) in the agents"
    )
    act = p.add_subparsers(dest="action", metavar="<action>")
    act.required = True
    a = act.add_parser("add", help="give the agents one of the workspace's managed MCP servers")
    a.add_argument(
        "kind",
        metavar="KIND",
        help="genie [SPACE_ID] | sql | functions CATALOG.SCHEMA | ai-search CATALOG.SCHEMA.INDEX "
        "| external CONNECTION | url URL",
    )
    a.add_argument("arg", nargs="?", metavar="ARG")
    a.add_argument("--name", help="the server's name in the agents (default: from KIND/ARG)")
    a.add_argument("--dry-run", action="store_true", help="show the changes, write nothing")
    r = act.add_parser("remove", help="take one back out of the agents")
    r.add_argument("name", metavar="NAME")
    r.add_argument("--dry-run", action="store_true", help="show the changes, write nothing")
    li = act.add_parser("list", help="the MCP servers of the configuration in effect here")
    li.add_argument("--json", action="store_true", dest="as_json")


def build_parser() -> argparse.ArgumentParser:
    import argparse

    parser_class = _parser_class()
    parser = parser_class(prog=PROG, description="Claude Code on Databricks FMAPI.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", metavar="<command>", parser_class=parser_class)
    sub.required = True

    setup = sub.add_parser("setup", help="set up Claude Code for your workspace")
    setup.later = _add_setup_flags  # type: ignore[attr-defined]  # parser_class's hook

    p = sub.add_parser("status", help="what is configured, token lifetime (read-only)")
    p.add_argument("--json", action="store_true")
    p.add_argument(
        "--check", action="store_true", help="ask the Databricks CLI for the token's lifetime"
    )

    p = sub.add_parser("doctor", help="check everything, with a fix for each problem")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("models", help="the workspace's Claude endpoints")
    p.add_argument("--json", action="store_true")
    p.add_argument("--validate", action="store_true", help="check the configured models")

    p = sub.add_parser("login", help="re-authenticate the configured profile")
    p.add_argument("--profile", help="default: the configured profile")

    p = sub.add_parser("token", help="print a fresh access token (Claude Code's apiKeyHelper)")
    p.add_argument("--profile", help="default: the configured profile")
    p.add_argument(
        "--mcp-headers",
        action="store_true",
        help='print {"Authorization": "Bearer TOKEN"} (an MCP server\'s headersHelper)',
    )
    p.add_argument(
        "--otel-headers",
        action="store_true",
        help='print {"Authorization": "Bearer TOKEN"} (Claude Code\'s otelHeadersHelper)',
    )

    _add_mcp(sub)

    p = sub.add_parser("telemetry", help="OpenTelemetry tables in the workspace (admins)")
    tele = p.add_subparsers(dest="action", metavar="<action>", parser_class=parser_class)
    tele.required = True
    t = tele.add_parser("ddl", help="print the SQL that creates the three tables and grants")
    t.add_argument("prefix", metavar="CATALOG.SCHEMA.PREFIX")
    t.add_argument(
        "--principal",
        help="who gets the grants (default: `account users`), e.g. '`developers`'",
    )

    from .. import agents

    p = sub.add_parser(
        "run", help=f"start a coding agent with fresh credentials ({', '.join(agents.NAMES)})"
    )
    p.add_argument("agent", choices=agents.NAMES)
    p.add_argument("args", nargs=argparse.REMAINDER, help="passed to the agent as they are")

    _add_usage_commands(sub)

    p = sub.add_parser(
        "mlflow-hook", help="Claude Code's Stop hook for --mlflow-experiment (reads stdin)"
    )
    p.add_argument("--experiment", required=True, metavar="PATH")
    p.add_argument("--profile", help="default: the configured profile")

    p = sub.add_parser(
        "team", help="team files for platform teams: validate, publish, managed settings"
    )
    team = p.add_subparsers(dest="action", metavar="<action>", parser_class=parser_class)
    team.required = True
    t = team.add_parser("validate", help="check a team file as setup would")
    t.add_argument("source", help="a path, an https:// URL, /Workspace/... or /Volumes/...")
    t.add_argument("--offline", action="store_true", help="do not ask the workspace about models")
    _add_team_where(t)
    t = team.add_parser("publish", help="validate, then upload a team file to the workspace")
    t.add_argument("file", help="the team file on this machine")
    t.add_argument("--to", required=True, metavar="/Workspace/...|/Volumes/...")
    t.add_argument("--dry-run", action="store_true", help="check everything, upload nothing")
    _add_team_where(t)
    t = team.add_parser(
        "managed-settings", help="render Claude Code's managed settings for a fleet (into --out)"
    )
    t.later = _add_managed_settings_flags  # type: ignore[attr-defined]  # parser_class's hook

    p = sub.add_parser("uninstall", help="remove exactly what setup added")
    which = p.add_mutually_exclusive_group()
    which.add_argument(
        "--settings-location",
        metavar="home|cwd|PATH",
        help="the configuration to remove (default: the one Claude Code uses in this folder)",
    )
    which.add_argument("--all", action="store_true", help="remove every configuration")
    p.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    p.add_argument("--dry-run", action="store_true", help="show the changes, write nothing")
    return parser


def _add_usage_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("usage", help="tokens and cost of your agent sessions")
    p.add_argument(
        "--since",
        default="month",
        metavar="today|7d|month|DATE",
        help="from the start of today, N days, this month (default) or a date (2026-12-01)",
    )
    p.add_argument("--by", choices=("model", "agent", "day", "session"), default="model")
    p.add_argument("--json", action="store_true")
    p.add_argument("--prices", metavar="FILE", help="prices per million tokens (docs/usage.md)")
    p.add_argument(
        "--workspace",
        action="store_true",
        help="also the workspace's own figures (system tables, through a SQL warehouse)",
    )

    p = sub.add_parser("statusline", help="Claude Code's status line (reads its JSON on stdin)")
    p.add_argument("--prices", metavar="FILE", help="prices per million tokens (docs/usage.md)")

    p = sub.add_parser("budget", help="this month's spend against the budget")
    p.add_argument("--prices", metavar="FILE", help="the prices and budget file")
    p.add_argument("--hook", action="store_true", help="run as Claude Code's UserPromptSubmit hook")


def _add_managed_settings_flags(t: argparse.ArgumentParser) -> None:
    from ..workspace import routes

    t.add_argument("source", help="a path, an https:// URL, /Workspace/... or /Volumes/...")
    t.add_argument("--out", required=True, metavar="DIR", help="folder to write into")
    t.add_argument("--os", choices=("linux", "macos", "windows"), default="linux")
    t.add_argument(
        "--route",
        choices=tuple(routes.ROUTES),
        help="the route, when the team file says auto",
    )
    t.add_argument(
        "--helper",
        default="dbx-fmapi",
        metavar="PROGRAM",
        help="dbx-fmapi as the helper runs it: on PATH (default) or an absolute path",
    )
    t.add_argument("--dry-run", action="store_true", help="print the files, write nothing")
    _add_team_where(t)


def _add_team_where(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", help="the workspace (needed for /Workspace and /Volumes paths)")
    p.add_argument("--profile", help="your Databricks CLI profile for that workspace")


def dispatch(command: str, ctx: Context, options: dict[str, object]) -> int:
    # __import__, not importlib.import_module: importlib (and warnings) cost the token helper
    # an import on every call; a non-empty fromlist makes it return the submodule itself.
    module = __import__(f"dbx_fmapi_claude.commands.{command.replace('-', '_')}", fromlist=["run"])
    return int(module.run(ctx=ctx, **options))


def _run(argv: Sequence[str], prog: str, command: str | None = None) -> int:
    if command is None:
        args = build_parser().parse_args(argv)
    else:
        p = _parser_class()(
            prog=prog, description="Set up Claude Code for your Databricks workspace."
        )
        p.add_argument("--debug", action="store_true", help="show tracebacks")
        _add_setup_flags(p)
        args = p.parse_args(argv)
        args.command = command
    options = vars(args)
    name = options.pop("command")
    debug = bool(options.pop("debug", False))
    return _guarded(prog, name, options, debug)


def _guarded(prog: str, name: str, options: dict[str, object], debug: bool) -> int:
    """Run one command under the single top-level handler."""
    try:
        return dispatch(name, Context.from_process(), options)
    except UserError as exc:
        if debug:
            import traceback

            traceback.print_exc()
        sys.stderr.write(exc.render(prog) + "\n")
        sys.stderr.flush()
        return exc.code
    except KeyboardInterrupt:
        sys.stderr.write(f"\n{prog}: interrupted; {_what_changed()}\n")
        sys.stderr.flush()
        return ExitCode.INTERRUPTED
    except BrokenPipeError:
        return ExitCode.ERROR
    except Exception as exc:  # noqa: BLE001 - a bug of ours: one line and exit 3, no traceback
        return _unexpected(prog, exc, debug)


def _what_changed() -> str:
    tokens = sys.modules.get("dbx_fmapi_claude.auth.tokens")
    done = list(dict.fromkeys(getattr(tokens, "LOGGED_IN", [])))
    if not done:
        return "nothing was changed"
    names = ", ".join(repr(p) for p in done)
    return (
        f"the Databricks login had saved profile {names} in ~/.databrickscfg (the CLI's doing); "
        "nothing else was changed"
    )


def _unexpected(prog: str, exc: BaseException, debug: bool) -> int:
    from ..core.errorhandler import report  # only now: its imports stay off the token fast path

    return report(prog, exc, debug=debug)


def _token_fast_path(argv: Sequence[str]) -> dict[str, object] | None:
    """`token [--profile P]` parsed without building the whole argparse tree (Claude Code runs
    the helper every TTL); anything else returns None and takes the normal path."""
    rest = list(argv[1:]) if argv[:1] == ["token"] else None
    if rest is None:
        return None
    # A headers helper (an MCP server's, Claude Code's OpenTelemetry one): last, as we write it.
    flags = {"mcp_headers": rest[-1:] == ["--mcp-headers"]}
    flags["otel_headers"] = rest[-1:] == ["--otel-headers"]
    if flags["mcp_headers"] or flags["otel_headers"]:
        rest = rest[:-1]
    if not rest:
        return {"profile": None, **flags}
    if len(rest) == 2 and rest[0] == "--profile" and rest[1] and not rest[1].startswith("-"):
        return {"profile": rest[1], **flags}
    if len(rest) == 1 and rest[0].startswith("--profile=") and len(rest[0]) > 10:
        return {"profile": rest[0][10:], **flags}
    return None


def _statusline_fast_path(argv: Sequence[str]) -> dict[str, object] | None:
    """`statusline [--prices FILE]` without argparse: Claude Code runs it on every refresh."""
    if argv[:1] != ["statusline"]:
        return None
    rest = list(argv[1:])
    if not rest:
        return {"prices": None}
    if len(rest) == 2 and rest[0] == "--prices" and rest[1] and not rest[1].startswith("-"):
        return {"prices": rest[1]}
    return None


def _mlflow_hook_fast_path(argv: Sequence[str]) -> dict[str, object] | None:
    """`mlflow-hook --experiment PATH [--profile P]` (as setup writes it) without argparse:
    Claude Code runs it at the end of every turn."""
    if argv[:1] != ["mlflow-hook"]:
        return None
    rest = list(argv[1:])
    found: dict[str, object] = {"experiment": None, "profile": None}
    while len(rest) >= 2 and rest[0] in ("--experiment", "--profile") and rest[1]:
        found[rest[0][2:]] = rest[1]
        rest = rest[2:]
    if rest or not found["experiment"]:
        return None
    return found


def _debug_asked(argv: Sequence[str]) -> bool:
    """--debug before any `--`: for a failure before argparse has read it."""
    for arg in argv:
        if arg == "--":
            return False
        if arg == "--debug":
            return True
    return False


def main(argv: Sequence[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        fast = _token_fast_path(args)
        line = _statusline_fast_path(args) if fast is None else None
        hook = _mlflow_hook_fast_path(args) if fast is None and line is None else None
        if fast is not None:
            code = _guarded(PROG, "token", fast, False)
        elif line is not None:
            code = _guarded(PROG, "statusline", line, False)
        elif hook is not None:
            code = _guarded(PROG, "mlflow_hook", hook, False)
        else:
            code = _run(args, PROG)
    except KeyboardInterrupt:
        code = ExitCode.INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - outside a command (argparse, say): still exit 3
        code = _unexpected(PROG, exc, _debug_asked(args))
    sys.exit(code)


def setup_main(argv: Sequence[str] | None = None) -> None:
    prog = "setup-fmapi-claudecode"
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        code = _run(args, prog, "setup")
    except KeyboardInterrupt:
        code = ExitCode.INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - outside a command (argparse, say): still exit 3
        code = _unexpected(prog, exc, _debug_asked(args))
    sys.exit(code)
