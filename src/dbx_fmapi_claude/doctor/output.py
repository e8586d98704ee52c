"""The end of a doctor run: the summary line for people, or the whole report as JSON."""

from __future__ import annotations

import json
from dataclasses import asdict

from ..core.errors import ExitCode
from .report import Report

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

SCHEMA_VERSION = 1


def finish(report: Report, *, as_json: bool) -> int:
    """Print the summary (or the JSON report) and return the exit code: 1 on any FAIL."""
    ctx = report.ctx
    counts = report.counts()
    failed = counts["fail"] > 0
    if as_json:
        ctx.out(
            _dumps(
                {
                    "version": SCHEMA_VERSION,
                    "ok": not failed,
                    "summary": counts,
                    "checks": [asdict(c) for c in report.checks],
                }
            )
        )
    else:
        p = report.paint
        parts = [
            p(f"{counts['pass']} passed", "green"),
            p(f"{counts['warn']} warning{'s' if counts['warn'] != 1 else ''}", "yellow")
            if counts["warn"]
            else f"{counts['warn']} warnings",
            p(f"{counts['fail']} failed", "red") if failed else "0 failed",
            f"{counts['skip']} skipped",
        ]
        ctx.out("\n" + ", ".join(parts) + ".")
        if failed:
            ctx.out("Fix the FAIL lines above (each shows its fix), then run: dbx-fmapi doctor")
    return ExitCode.ERROR if failed else ExitCode.OK


def _dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2)
