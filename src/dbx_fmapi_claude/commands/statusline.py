"""`dbx-fmapi statusline`: Claude Code's status line. Reads its JSON on stdin, prints one line:
the model, this session's tokens and cost at the company's prices, today's and this month's
spend, and the budget when one is set.

Runs on every status line refresh: standard library only, no json/re/datetime/subprocess, no
network. The session's figures come from its transcript, read incrementally; today's and the
month's from the summary cache, refreshed in the background when it is a minute old
(usage/summary.py). Whatever cannot be read is left out of the line, never an error: a broken
status line would hide Claude Code's own.
"""

from __future__ import annotations

import time

from ..core.context import Context
from ..core.errors import ExitCode
from ..core.jsonread import loads
from ..usage import summary
from ..usage.prices import Prices, PricesError, find
from ..usage.transcript import session_totals

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

SYMBOLS = {"USD": "$"}
SEP = " · "


def money(value: float, currency: str) -> str:
    symbol = SYMBOLS.get(currency)
    text = f"{value:,.2f}"
    return f"{symbol}{text}" if symbol else f"{text} {currency}"


def tokens(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f}M"
    if n >= 1_000:
        return f"{n / 1_000:.1f}k"
    return str(n)


def _session_part(payload: dict[str, Any], config_dir: str, prices: Prices | None) -> str | None:
    transcript, session = payload.get("transcript_path"), payload.get("session_id")
    if not isinstance(transcript, str) or not isinstance(session, str) or not transcript:
        return None
    totals = session_totals(transcript, summary.session_cache(config_dir, session))
    count = sum(sum(row[1:]) for row in totals.values())
    text = f"session {tokens(count)} tok"
    if prices is None or not totals:
        return text
    cost = 0.0
    for model, row in totals.items():
        priced = prices.cost(model, (row[1], row[2], row[3], row[4]))
        if priced is None:
            return f"{text} (no price for {model})"
        cost += priced
    return f"{text} {money(cost, prices.currency)}"


def _period(figures: Any, prices: Prices | None) -> str | None:
    if not isinstance(figures, dict):
        return None
    if prices is None:
        n = figures.get("tokens")
        return f"{tokens(n)} tok" if isinstance(n, int) else None
    cost = figures.get("cost")
    if not isinstance(cost, (int, float)):
        return None
    more = "+" if figures.get("unpriced") else ""  # some models without a price
    return money(float(cost), prices.currency) + more


def line(payload: dict[str, Any], config_dir: str, prices: Prices | None, now: float) -> str:
    parts: list[str] = []
    model = payload.get("model")
    if isinstance(model, dict):
        name = model.get("display_name") or model.get("id")
        if isinstance(name, str) and name:
            parts.append(name)
    session = _session_part(payload, config_dir, prices)
    if session:
        parts.append(session)
    data = summary.read(config_dir)
    if summary.same_period(data, now) and data is not None:
        today = _period(data.get("today"), prices)
        if today:
            parts.append(f"today {today}")
        if data.get("month") == summary.today_and_month(now)[1]:
            month = _period(data.get("this_month"), prices)
            budget = prices.budget if prices is not None else None
            figures = data.get("this_month")
            if month and budget is not None and isinstance(figures, dict):
                spent = figures.get("cost")
                pct = 100 * float(spent) / budget.monthly if isinstance(spent, (int, float)) else 0
                limit = money(budget.monthly, prices.currency) if prices else ""
                mark = " !" if pct >= budget.warn else ""
                parts.append(f"month {month} of {limit} ({pct:.0f}%){mark}")
            elif month:
                parts.append(f"month {month}")
    if prices is None:
        parts.append("no prices (dbx-fmapi usage --help)")
    return SEP.join(parts)


def run(*, ctx: Context, prices: str | None) -> int:
    try:
        payload = loads(ctx.stdin.read())
    except (ValueError, OSError):
        payload = None
    if not isinstance(payload, dict):
        payload = {}
    config_dir = ctx.paths.config_dir_path
    note = ""
    try:
        price_list = find(prices, config_dir)
    except PricesError as exc:
        price_list, note = None, f"{SEP}prices file unreadable: dbx-fmapi usage ({exc.message})"
    now = time.time()
    text = line(payload, config_dir, price_list, now)
    data = summary.read(config_dir)
    source = price_list.source if price_list is not None else None
    if not summary.is_fresh(data, source, now):
        summary.spawn_refresh(config_dir, source, dict(ctx.env))
    ctx.stdout.write(text + note + "\n")
    ctx.stdout.flush()
    return ExitCode.OK
