"""`dbx-fmapi usage`: requests added up by model, agent, day or session, priced when prices are
known; the human table and the JSON (docs/json.md) come from the same rows."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ..core.errors import ExitCode, UserError
from .prices import Prices
from .sources import Request

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

JSON_VERSION = 1
BY = ("model", "agent", "day", "session")
TOKEN_FIELDS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")


def since_epoch(text: str, now: float) -> float:
    """The start of `today`, `month`, `Nd` (N days back, today included) or `YYYY-MM-DD`, in
    local time."""
    local = time.localtime(now)
    midnight = time.mktime((local.tm_year, local.tm_mon, local.tm_mday, 0, 0, 0, 0, 0, -1))
    value = text.strip().lower()
    if value == "today":
        return midnight
    if value == "month":
        return time.mktime((local.tm_year, local.tm_mon, 1, 0, 0, 0, 0, 0, -1))
    if value.endswith("d") and value[:-1].isdigit() and int(value[:-1]) > 0:
        days = int(value[:-1])
        back = time.localtime(midnight - (days - 1) * 86400 + 43200)  # noon: DST-proof
        return time.mktime((back.tm_year, back.tm_mon, back.tm_mday, 0, 0, 0, 0, 0, -1))
    try:
        day = time.strptime(value, "%Y-%m-%d")
    except ValueError:
        raise UserError(
            f"--since {text!r}: expected today, month, a number of days like 7d, or a date "
            "like 2026-12-01",
            "dbx-fmapi usage --since 7d",
            ExitCode.USAGE,
        ) from None
    return time.mktime((day.tm_year, day.tm_mon, day.tm_mday, 0, 0, 0, 0, 0, -1))


def day_of(epoch: float) -> str:
    return time.strftime("%Y-%m-%d", time.localtime(epoch))


@dataclass
class Row:
    model: str | None
    agent: str | None
    day: str | None = None
    session: str | None = None
    requests: int = 0
    tokens: list[int] = field(default_factory=lambda: [0, 0, 0, 0])
    cost: float = 0.0
    unpriced: set[str] = field(default_factory=set)

    def add(self, req: Request, prices: Prices | None) -> None:
        counts = (
            req.input_tokens,
            req.output_tokens,
            req.cache_read_tokens,
            req.cache_write_tokens,
        )
        self.requests += 1
        for i, n in enumerate(counts):
            self.tokens[i] += n
        cost = prices.cost(req.model, counts) if prices is not None else None
        if cost is None:
            self.unpriced.add(req.model)
        else:
            self.cost += cost

    def cost_usd(self) -> float | None:
        return None if self.unpriced else round(self.cost, 6)

    def as_json(self, by: str) -> dict[str, Any]:
        out: dict[str, Any] = {"model": self.model, "agent": self.agent}
        if by in ("day", "session"):
            out[by] = getattr(self, by)
        out["requests"] = self.requests
        out.update(zip(TOKEN_FIELDS, self.tokens, strict=True))
        out["cost_usd"] = self.cost_usd()
        return out


def _key(req: Request, by: str) -> tuple[str | None, ...]:
    if by == "agent":
        return (None, req.agent, None, None)
    if by == "day":
        return (None, None, day_of(req.time), None)
    if by == "session":
        return (req.model, req.agent, None, req.session)
    return (req.model, req.agent, None, None)


@dataclass
class Report:
    by: str
    since: float
    rows: list[Row]
    total: Row
    prices: Prices | None

    def as_json(self) -> dict[str, Any]:
        total = self.total.as_json("model")
        total.pop("model")
        total.pop("agent")
        out: dict[str, Any] = {
            "version": JSON_VERSION,
            "since": day_of(self.since),
            "by": self.by,
            "currency": self.prices.currency if self.prices else None,
            "prices": self.prices.source if self.prices else None,
            "rows": [r.as_json(self.by) for r in self.rows],
            "total": total,
        }
        if self.prices is not None and self.total.unpriced:
            out["unpriced_models"] = sorted(self.total.unpriced)
        return out


def build(requests: Iterable[Request], *, by: str, since: float, prices: Prices | None) -> Report:
    rows: dict[tuple[str | None, ...], Row] = {}
    total = Row(None, None)
    for req in requests:
        if req.time < since:
            continue
        key = _key(req, by)
        row = rows.get(key)
        if row is None:
            row = rows[key] = Row(key[0], key[1], key[2], key[3])
        row.add(req, prices)
        total.add(req, prices)
    ordered = sorted(
        rows.values(),
        key=lambda r: (r.day or "", r.agent or "", r.session or "", r.model or ""),
    )
    return Report(by, since, ordered, total, prices)


def _n(value: int) -> str:
    return f"{value:,}"


def _money(row: Row, prices: Prices | None) -> str:
    if prices is None:
        return "-"
    cost = row.cost_usd()
    if cost is None:
        return "no price"
    return (
        f"{cost:,.2f} {prices.currency}"
        if cost >= 0.01 or cost == 0
        else f"<0.01 {prices.currency}"
    )


def table(report: Report) -> list[str]:
    """The rows as an aligned text table, the total last."""
    by = report.by
    first = {"model": ["AGENT", "MODEL"], "agent": ["AGENT"], "day": ["DAY"]}.get(
        by, ["SESSION", "AGENT", "MODEL"]
    )
    header = [*first, "REQUESTS", "INPUT", "OUTPUT", "CACHE READ", "CACHE WRITE", "COST"]
    body: list[list[str]] = []
    for r in report.rows:
        lead = {
            "model": [r.agent or "", r.model or ""],
            "agent": [r.agent or ""],
            "day": [r.day or ""],
        }.get(by, [r.session or "", r.agent or "", r.model or ""])
        body.append([*lead, _n(r.requests), *map(_n, r.tokens), _money(r, report.prices)])
    t = report.total
    body.append(
        [
            "total",
            *[""] * (len(first) - 1),
            _n(t.requests),
            *map(_n, t.tokens),
            _money(t, report.prices),
        ]
    )
    return _align([header, *body], numeric_from=len(first))


def _align(rows: Sequence[Sequence[str]], numeric_from: int) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for r in rows:
        cells = [
            c.rjust(w) if i >= numeric_from else c.ljust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    return lines
