"""`dbx-fmapi budget [--hook]`: this month's spend against the budget of the prices file.

`--hook` is Claude Code's UserPromptSubmit hook (setup installs it with the status line): under
the warning level it prints nothing and the prompt goes through unchanged; from `warn` it shows
the user one line (a `systemMessage`); from `block` it refuses the prompt (exit 2, the reason on
stderr, which Claude Code shows). It never blocks when the figures cannot be read: no budget, an
unreadable prices file or records, anything unexpected: the prompt goes through.
"""

from __future__ import annotations

import json
import time

from ..core.context import Context
from ..core.errors import ExitCode, UserError
from ..usage import prices as prices_mod
from ..usage import refresh, summary
from ..usage.prices import Budget, Prices

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

BLOCKED = 2  # Claude Code: a UserPromptSubmit hook's exit 2 refuses the prompt


def month_spend(ctx: Context, prices: Prices, now: float) -> dict[str, Any]:
    """This month's figures: the summary when fresh, else computed now (and cached)."""
    config_dir = ctx.paths.config_dir_path
    data = summary.read(config_dir)
    if not summary.is_fresh(data, prices.source, now) or data is None:
        data = refresh.compute(ctx.paths.home, ctx.env, prices, now)
        refresh.write(config_dir, data)
    figures = data.get("this_month")
    if not isinstance(figures, dict) or not isinstance(figures.get("cost"), (int, float)):
        raise ValueError("no figures")
    return figures


def _money(value: float, prices: Prices) -> str:
    from .statusline import money

    return money(value, prices.currency)


def verdict(spent: float, budget: Budget, prices: Prices) -> tuple[str, str]:
    """("ok" | "warn" | "block", one line for the user)."""
    pct = 100 * spent / budget.monthly
    text = (
        f"this month's spend is {_money(spent, prices)} of the {_money(budget.monthly, prices)} "
        f"budget ({pct:.0f}%)"
    )
    ask = f"ask {budget.contact}" if budget.contact else "ask your platform team"
    if budget.block is not None and pct >= budget.block:
        return "block", f"Prompt blocked: {text}; {ask} to raise it."
    if pct >= budget.warn:
        return "warn", f"Budget: {text}; {ask} if you need more."
    return "ok", f"Budget: {text}."


def run(*, ctx: Context, prices: str | None, hook: bool) -> int:
    if hook:
        return _hook(ctx, prices)
    now = time.time()
    price_list = prices_mod.find(prices, ctx.paths.config_dir_path)
    if price_list is None or price_list.budget is None:
        where = prices_mod.default_path(ctx.paths.config_dir_path)
        raise UserError(
            "no budget is set",
            f'add a "budget" to the prices file ({where}, or --prices FILE): docs/usage.md',
        )
    figures = month_spend(ctx, price_list, now)
    _, text = verdict(float(figures["cost"]), price_list.budget, price_list)
    ctx.out(text[0].upper() + text[1:])
    if figures.get("unpriced"):
        ctx.out(f"not counted (no price): {', '.join(map(str, figures['unpriced']))}")
    return ExitCode.OK


def _hook(ctx: Context, prices: str | None) -> int:
    try:
        ctx.stdin.read()  # the hook's input: not needed, but read so Claude Code never blocks
        price_list = prices_mod.find(prices, ctx.paths.config_dir_path)
        if price_list is None or price_list.budget is None:
            return ExitCode.OK
        figures = month_spend(ctx, price_list, time.time())
        kind, text = verdict(float(figures["cost"]), price_list.budget, price_list)
    except Exception:  # noqa: BLE001 - figures that cannot be read never block a prompt
        return ExitCode.OK
    if kind == "block":
        ctx.stderr.write(text + "\n")
        return BLOCKED
    if kind == "warn":
        ctx.stdout.write(json.dumps({"systemMessage": text}) + "\n")
    return ExitCode.OK
