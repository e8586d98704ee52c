"""`dbx-fmapi usage`: tokens and cost of this machine's agent sessions (their own records), by
model, agent, day or session; `--workspace` adds the workspace's own figures (system tables,
through a SQL warehouse). Read-only: writes nothing."""

from __future__ import annotations

import json
import time

from ..core.context import Context
from ..core.errors import ExitCode
from ..usage import prices as prices_mod
from ..usage import report, sources


def run(
    *,
    ctx: Context,
    since: str,
    by: str,
    json: bool,  # noqa: A002 - the flag's name
    prices: str | None,
    workspace: bool = False,
) -> int:
    now = time.time()
    start = report.since_epoch(since, now)
    price_list = prices_mod.find(prices, ctx.paths.config_dir_path)
    found = sources.requests(ctx.paths.home, ctx.env, start)
    result = report.build(found, by=by, since=start, prices=price_list)
    ws_view = None
    if workspace:
        from ..usage import workspace_view

        ws_view = workspace_view.fetch(ctx, start)
    if json:
        out = result.as_json()
        if ws_view is not None:
            out["workspace"] = ws_view.as_json()
        _print_json(ctx, out)
        return ExitCode.OK
    ctx.out(f"Usage since {report.day_of(start)}, from this machine's agent sessions:")
    if not result.rows:
        ctx.out("  no requests recorded")
    else:
        for line in report.table(result):
            ctx.out("  " + line)
    if price_list is None:
        default = prices_mod.default_path(ctx.paths.config_dir_path)
        ctx.out(prices_mod.HOW_TO_ADD.format(default=default))
    elif result.total.unpriced:
        names = ", ".join(sorted(result.total.unpriced))
        ctx.out(f"no price for {names} in {price_list.source}: their cost is not counted")
    if ws_view is not None:
        for line in ws_view.lines():
            ctx.out(line)
    return ExitCode.OK


def _print_json(ctx: Context, data: object) -> None:
    ctx.stdout.write(json.dumps(data, indent=2) + "\n")
    ctx.stdout.flush()
