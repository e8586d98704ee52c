"""`dbx-fmapi <command>` and `setup-fmapi-claudecode`: argparse wired to one module per command.

Command modules are imported only when their command runs, so `dbx-fmapi token` (the
apiKeyHelper, run by Claude Code every TTL) loads nothing it does not need.
"""

from __future__ import annotations

import sys

from ..core.context import Context
from ..core.errors import ExitCode, UserError
from . import PROG

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    """The whole parser (cli/parser.py)."""
    from .parser import build_parser as build

    return build()


def dispatch(command: str, ctx: Context, options: dict[str, object]) -> int:
    # __import__, not importlib.import_module: importlib (and warnings) cost the token helper
    # an import on every call; a non-empty fromlist makes it return the submodule itself.
    module = __import__(f"dbx_fmapi_claude.commands.{command.replace('-', '_')}", fromlist=["run"])
    return int(module.run(ctx=ctx, **options))


def _run(argv: Sequence[str], prog: str, command: str | None = None) -> int:
    from .parser import make_parser_class
    from .setupflags import add_setup_flags

    if command is None:
        args = build_parser().parse_args(argv)
    else:
        p = make_parser_class()(
            prog=prog, description="Set up Claude Code for your Databricks workspace."
        )
        p.add_argument("--debug", action="store_true", help="show tracebacks")
        add_setup_flags(p)
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
    policy = sys.modules.get("dbx_fmapi_claude.auth.loginpolicy")
    done = list(dict.fromkeys(getattr(policy, "LOGGED_IN", [])))
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
