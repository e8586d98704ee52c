"""`dbx-fmapi doctor [--json]`: every check, PASS/WARN/FAIL/SKIP, each problem with its fix.

Order: dependencies, our setup record, the settings as Claude Code sees them (every level plus
the environment), the helper and shell wrapper, the CLI profile, the token, the workspace, each
model, a real one-token request per model; then per agent beside Claude Code that the
configuration set up, its program, its config as the agent reads it and a one-token request
through its route. A check whose prerequisite failed is SKIP; the
checks and what each requires are declared in doctor/checks.py. Exit 1 when anything FAILs;
WARN alone exits 0. Never prints a token.
"""

from __future__ import annotations

from ..core.context import Context


def run(*, ctx: Context, json: bool = False) -> int:
    from ..doctor import checks, output
    from ..doctor.report import Report, Run

    report = Report(ctx, live=not json)
    try:
        checks.diagnose(Run(ctx, report))
    finally:
        report.progress.clear()
    return output.finish(report, as_json=json)
