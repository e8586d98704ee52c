"""Compute and write the usage summary (summary.py): run by `usage`, by the budget hook, and in
the background by the status line (`python -m dbx_fmapi_claude.usage.refresh CONFIG_DIR PRICES`).
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from . import report, sources, summary
from .prices import Prices
from .transcript import write_cache

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def compute(
    home: Path, env: Mapping[str, str], prices: Prices | None, now: float
) -> dict[str, Any]:
    month_start = report.since_epoch("month", now)
    today_start = report.since_epoch("today", now)
    requests = sources.requests(home, env, month_start)
    month = report.build(requests, by="model", since=month_start, prices=prices)
    today = report.build(requests, by="model", since=today_start, prices=prices)
    day, month_name = summary.today_and_month(now)

    def figures(r: report.Report) -> dict[str, Any]:
        t = r.total
        return {
            "requests": t.requests,
            "tokens": sum(t.tokens),
            # Priced requests only; `unpriced` says which models have no price.
            "cost": round(t.cost, 6) if prices is not None else None,
            "unpriced": sorted(t.unpriced) if prices is not None else [],
        }

    return {
        "version": summary.VERSION,
        "written": now,
        "day": day,
        "month": month_name,
        "currency": prices.currency if prices else None,
        "priced_with": summary.stamp(prices.source if prices else None),
        "today": figures(today),
        "this_month": figures(month),
    }


def write(config_dir: str, data: dict[str, Any]) -> None:
    write_cache(summary.path(config_dir), data)


def prune_sessions(config_dir: str, now: float, keep_days: int = 3) -> None:
    folder = os.path.join(config_dir, summary.SESSIONS)
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        try:
            if now - entry.stat().st_mtime > keep_days * 86400:
                os.unlink(entry.path)
        except OSError:
            pass


def main(argv: list[str] | None = None) -> int:
    from .prices import PricesError, load

    args = sys.argv[1:] if argv is None else argv
    config_dir, prices_path = args[0], (args[1] if len(args) > 1 else "")
    marker = summary.path(config_dir) + ".refreshing"
    try:
        try:
            prices = load(prices_path) if prices_path else None
        except PricesError:
            prices = None
        env = dict(os.environ)
        home = Path(env.get("HOME") or os.path.expanduser("~"))
        now = time.time()
        write(config_dir, compute(home, env, prices, now))
        prune_sessions(config_dir, now)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(marker)
    return 0


if __name__ == "__main__":
    sys.exit(main())
