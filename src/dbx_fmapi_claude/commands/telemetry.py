"""`dbx-fmapi telemetry ddl CATALOG.SCHEMA.PREFIX [--principal P]`: the SQL that creates the
three OpenTelemetry tables and grants what the agents' senders need (docs/telemetry.md)."""

from __future__ import annotations

from ..core.context import Context
from ..core.errors import ExitCode, UserError
from ..telemetry import ddl, tables


def run(*, ctx: Context, action: str, prefix: str, principal: str | None = None) -> int:
    if action != "ddl":  # argparse allows only ddl
        raise UserError(f"unknown action {action!r}", "dbx-fmapi telemetry ddl --help")
    checked = tables.check(prefix, flag="telemetry ddl", prog="dbx-fmapi")
    if checked == tables.OFF:
        raise UserError(
            "telemetry ddl needs the tables' CATALOG.SCHEMA.PREFIX, not none",
            f"dbx-fmapi telemetry ddl {tables.EXAMPLE}",
            ExitCode.USAGE,
        )
    who = principal.strip() if principal else ""
    if principal is not None and (not who or any(c in who for c in ";\n\r")):
        raise UserError(
            f"--principal {principal!r} is not a principal name",
            "dbx-fmapi telemetry ddl CATALOG.SCHEMA.PREFIX --principal '`developers`'",
            ExitCode.USAGE,
        )
    ctx.stdout.write(ddl.statements(checked, who or "`account users`"))
    return ExitCode.OK
