"""The argument parser of `dbx-fmapi`: its class (exit 2 with a fix, setup's flags added on first
use) and the table of subcommands with their flags. Imported only off the fast paths (the token
helper, the status line and the MLflow hook parse their few arguments without argparse)."""

from __future__ import annotations

import sys

from .. import __version__
from ..core.errors import ExitCode
from . import PROG
from .setupflags import add_setup_flags

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable
    from typing import Any


def make_parser_class() -> type[argparse.ArgumentParser]:
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

    parser_class = make_parser_class()
    parser = parser_class(prog=PROG, description="Claude Code on Databricks FMAPI.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", metavar="<command>", parser_class=parser_class)
    sub.required = True

    setup = sub.add_parser("setup", help="set up Claude Code for your workspace")
    setup.later = add_setup_flags  # type: ignore[attr-defined]  # parser_class's hook

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
