"""The prices (and budget) file: what the company pays per million tokens, per model.

The file is shaped like the team file (PRODUCT.md, "Teams and fleets"), whose `prices` and
`budget` keys it is, so a team file can be given as it is (its other keys are not read here):

    {"version": 1,
     "prices": {"currency": "USD",
                "models": {"databricks-claude-sonnet-4-5":
                           {"input": 3.0, "output": 15.0, "cache_read": 0.3, "cache_write": 3.75}}},
     "budget": {"monthly": 200, "warn": 80, "block": 100, "contact": "#platform-help"}}

Prices are per million tokens; a model without prices has no cost (never a guess). `budget`: per
developer per calendar month in the prices' currency; `warn` (percent, default 80) and `block`
(percent, or true for 100; absent: never block). Standard library only, jsonread not json: the
status line reads this file on every refresh.
"""

from __future__ import annotations

from ..core.errors import ExitCode, UserError
from ..core.jsonread import loads

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

FILE_NAME = "prices.json"
KINDS = ("input", "output", "cache_read", "cache_write")
CURRENCIES = ("USD",)  # `usage --json` reports cost_usd


class PricesError(UserError):
    def __init__(self, path: str, why: str) -> None:
        super().__init__(
            f"prices file {path}: {why}",
            "see docs/usage.md (Prices) for the format, then: dbx-fmapi usage --prices FILE",
            ExitCode.USAGE,
        )


class Budget:
    __slots__ = ("monthly", "warn", "block", "contact")

    def __init__(self, monthly: float, warn: float, block: float | None, contact: str) -> None:
        self.monthly = monthly
        self.warn = warn
        self.block = block
        self.contact = contact


class Prices:
    """models: {model: (input, output, cache_read, cache_write)} per million tokens."""

    __slots__ = ("currency", "models", "budget", "source")

    def __init__(
        self,
        currency: str,
        models: dict[str, tuple[float, float, float, float]],
        budget: Budget | None,
        source: str,
    ) -> None:
        self.currency = currency
        self.models = models
        self.budget = budget
        self.source = source

    def cost(self, model: str, tokens: tuple[int, int, int, int]) -> float | None:
        """The cost of (input, output, cache_read, cache_write) tokens, None without prices."""
        per = self.models.get(model)
        if per is None:
            return None
        return sum(n * p for n, p in zip(tokens, per, strict=True)) / 1_000_000


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0


def parse(raw: bytes, path: str) -> Prices:
    try:
        data = loads(raw)
    except ValueError as exc:
        raise PricesError(path, f"not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise PricesError(path, "not a JSON object")
    version = data.get("version", 1)
    if version != 1:
        raise PricesError(path, f"version {version!r} is not one this version reads (1)")
    block = data.get("prices")
    if not isinstance(block, dict):
        raise PricesError(path, 'no "prices" object')
    unknown = sorted(set(block) - {"currency", "models"})
    if unknown:
        raise PricesError(path, f'unknown key "prices.{unknown[0]}"')
    currency = block.get("currency")
    if currency not in CURRENCIES:
        raise PricesError(path, f'"prices.currency" must be one of {", ".join(CURRENCIES)}')
    entries = block.get("models")
    if not isinstance(entries, dict) or not entries:
        raise PricesError(path, '"prices.models" must map model names to prices')
    models: dict[str, tuple[float, float, float, float]] = {}
    for name, per in entries.items():
        where = f'"prices.models.{name}"'
        if not isinstance(per, dict):
            raise PricesError(path, f"{where} must be an object")
        extra = sorted(set(per) - set(KINDS))
        if extra:
            raise PricesError(path, f'unknown key "{extra[0]}" in {where}')
        missing = [k for k in KINDS[:2] if k not in per]
        if missing:
            raise PricesError(path, f'{where} has no "{missing[0]}" price')
        for kind in KINDS:
            if kind in per and not _number(per[kind]):
                raise PricesError(path, f"{where}.{kind} must be a number >= 0")
        # A model without cache prices: cache reads and writes cost what input costs.
        inp = float(per["input"])
        models[name] = (
            inp,
            float(per["output"]),
            float(per.get("cache_read", inp)),
            float(per.get("cache_write", inp)),
        )
    return Prices(str(currency), models, _budget(data.get("budget"), path), path)


def _budget(value: Any, path: str) -> Budget | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise PricesError(path, '"budget" must be an object')
    unknown = sorted(set(value) - {"monthly", "warn", "block", "contact"})
    if unknown:
        raise PricesError(path, f'unknown key "budget.{unknown[0]}"')
    monthly = value.get("monthly")
    if not _number(monthly) or not monthly:
        raise PricesError(path, '"budget.monthly" must be a number > 0')
    warn = value.get("warn", 80)
    if not _number(warn):
        raise PricesError(path, '"budget.warn" must be a percentage')
    block = value.get("block")
    if block is True:
        block = 100
    elif block is False:
        block = None
    elif block is not None and not _number(block):
        raise PricesError(path, '"budget.block" must be true, false or a percentage')
    contact = value.get("contact", "")
    if not isinstance(contact, str):
        raise PricesError(path, '"budget.contact" must be text')
    return Budget(float(monthly), float(warn), None if block is None else float(block), contact)


def load(path: str) -> Prices:
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise PricesError(path, "not found") from None
    except IsADirectoryError:
        raise PricesError(path, "is a folder") from None
    except OSError as exc:
        raise PricesError(path, exc.strerror or "cannot be read") from None
    return parse(raw, path)


def default_path(config_dir: str) -> str:
    import os

    return os.path.join(config_dir, FILE_NAME)


def find(option: str | None, config_dir: str) -> Prices | None:
    """--prices FILE, else the prices file in the config folder when there is one, else None."""
    if option:
        return load(option)
    path = default_path(config_dir)
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError:
        return None
    return parse(raw, path)


HOW_TO_ADD = (
    "no prices: showing tokens only. Add what your company pays per million tokens: "
    "dbx-fmapi usage --prices FILE (or copy FILE to {default}); docs/usage.md shows the format"
)
