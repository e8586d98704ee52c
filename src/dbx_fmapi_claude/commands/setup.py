"""`setup-fmapi-claudecode` / `dbx-fmapi setup`: the team file's answers, the steps (the setup
package, setup/flow.py), then the team file's MCP servers, each as `dbx-fmapi mcp add` adds it."""

from __future__ import annotations

from ..core.context import Context
from ..core.errors import ExitCode, UserError
from ..setup.answers import PROG
from ..setup.flow import Setup
from ..setup.options import SetupOptions

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def run(*, ctx: Context, **options: Any) -> int:
    from ..setup import team

    def warn(line: str) -> None:
        ctx.err(f"{PROG}: warning: {line}")

    flags = team.apply(ctx, options, ctx.out, warn)  # the team file's answers as flags
    mcp = flags.pop("team_mcp", None) or []
    opts = SetupOptions.from_flags(flags)
    if mcp:
        _check_mcp(mcp, opts)
    code = Setup(ctx, opts).run()
    if code == ExitCode.OK and mcp and not opts.dry_run:
        from .mcp import add as mcp_add

        cfg = _just_set_up(ctx, opts)
        for entry in mcp:  # each as `dbx-fmapi mcp add` would, on the configuration just set up
            kind, target, name = str(entry["kind"]), entry.get("target"), entry.get("name")
            mcp_add(ctx, kind, target, name, False, cfg=cfg)
            cfg = _just_set_up(ctx, opts)  # with the server just added
    return code


def _just_set_up(ctx: Context, opts: SetupOptions) -> dict[str, Any]:
    from ..record import config

    record = config.load_record(ctx.paths)
    location = opts.settings_location
    found = None
    if location:
        found = config.view_for(record, ctx.paths.settings_file_for(str(location), ctx.cwd))
    found = found or config.in_effect(record, ctx.paths, ctx.cwd) or config.latest(record)
    if found is None:
        raise UserError("dbx-fmapi-claude is not set up yet", "setup-fmapi-claudecode")
    return found


def _check_mcp(entries: list[dict[str, Any]], opts: SetupOptions) -> None:
    """The team file's `mcp` servers ({"kind", "target", "name"}) checked before anything is
    written: a malformed one is refused as `mcp add` refuses it (exit 2)."""
    from ..mcp import servers

    host = str(opts.host or "")
    for i, entry in enumerate(entries):
        try:
            servers.parse(str(entry["kind"]), entry.get("target"), entry.get("name"), host)
        except servers.BadInput as exc:
            raise UserError(
                f"the team file's mcp[{i}]: {exc.message}",
                "ask your platform team to fix the team file (dbx-fmapi team validate FILE)",
                ExitCode.USAGE,
            ) from None
