"""The prices (and budget) file: what the company pays per million tokens, per model.

It is a team file (docs/teams.md), of which only `prices` and `budget` are read here, so the
team's own file can be given as it is, and a file with only those keys is a valid team file:

    {"version": 1,
     "prices": {"databricks-claude-sonnet-4-5":
                {"input": 3.0, "output": 15.0, "cache_read": 0.3, "cache_write": 3.75,
                 "currency": "USD"}},
     "budget": {"monthly": 200, "warn": 80, "block": true, "contact": "#platform-help"}}

Prices are per million tokens. A kind a model has no price for (say `cache_write`) makes a
request that used tokens of that kind unpriced: never a guess. `budget`: per developer per
calendar month; `warn` a percentage (default 80); `block: true` refuses new prompts at 100%.
Standard library only, jsonread not json: the status line reads this file on every refresh.
"""

from __future__ import annotations

from ..core.errors import ExitCode, UserError
from ..core.jsonread import loads

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

FILE_NAME = "prices.json"
# The team file's `prices` and `budget`, kept by `setup-fmapi-claudecode --team` (setup/team.py);
# a prices.json of the user's own comes first.
TEAM_FILE_NAME = "team-prices.json"
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
        self.block = block  # the percentage from which prompts are refused, None: never
        self.contact = contact


Per = tuple[float | None, float | None, float | None, float | None]


class Prices:
    """models: {model: (input, output, cache_read, cache_write)} per million tokens, None where
    the file gives no price."""

    __slots__ = ("currency", "models", "budget", "source")

    def __init__(
        self, currency: str, models: dict[str, Per], budget: Budget | None, source: str
    ) -> None:
        self.currency = currency
        self.models = models
        self.budget = budget
        self.source = source

    def cost(self, model: str, tokens: tuple[int, int, int, int]) -> float | None:
        """The cost of (input, output, cache_read, cache_write) tokens; None when the model, or
        a kind of token used, has no price."""
        per = self.models.get(model)
        if per is None:
            return None
        total = 0.0
        for n, p in zip(tokens, per, strict=True):
            if n:
                if p is None:
                    return None
                total += n * p
        return total / 1_000_000


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0


def _currency(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 3 and value.isalpha() and value.isupper()


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
    entries = data.get("prices")
    if not isinstance(entries, dict) or not entries:
        raise PricesError(path, 'no "prices" object (model name -> prices per million tokens)')
    models: dict[str, Per] = {}
    for name, per in entries.items():
        where = f"prices.{name}"
        if not isinstance(per, dict):
            raise PricesError(path, f"{where} must be an object with {', '.join(KINDS)}")
        for key, value in per.items():
            if key == "currency":
                if not _currency(value):
                    raise PricesError(path, f"{where}.currency = {value!r}: not a currency code")
                if value not in CURRENCIES:
                    raise PricesError(
                        path,
                        f"{where}.currency = {value!r}: only {', '.join(CURRENCIES)} prices can "
                        "be used (usage reports cost_usd)",
                    )
            elif key not in KINDS:
                raise PricesError(
                    path, f"{where}.{key}: unknown key (known: {', '.join(KINDS)}, currency)"
                )
            elif not _number(value):
                raise PricesError(path, f"{where}.{key} = {value!r}: must be a number >= 0")
        i, o, r, w = (None if per.get(k) is None else float(per[k]) for k in KINDS)
        models[name] = (i, o, r, w)
    return Prices(CURRENCIES[0], models, _budget(data.get("budget"), path), path)


def _budget(value: Any, path: str) -> Budget | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise PricesError(path, 'budget must be an object such as {"monthly": 200}')
    for key in value:
        if key not in ("monthly", "warn", "block", "currency", "contact"):
            raise PricesError(
                path, f"budget.{key}: unknown key (known: monthly, warn, block, currency, contact)"
            )
    monthly = value.get("monthly")
    if not _number(monthly) or not monthly:
        raise PricesError(path, 'budget needs "monthly" (a number > 0: per developer per month)')
    warn = value.get("warn", 80)
    if not _number(warn) or warn > 100:
        raise PricesError(path, f"budget.warn = {warn!r}: a percentage of the monthly budget")
    block = value.get("block", False)
    if not isinstance(block, bool):
        raise PricesError(path, f"budget.block = {block!r}: must be true or false")
    currency = value.get("currency", CURRENCIES[0])
    if currency not in CURRENCIES:
        raise PricesError(
            path, f"budget.currency = {currency!r}: only {', '.join(CURRENCIES)} can be used"
        )
    contact = value.get("contact", "")
    if not isinstance(contact, str):
        raise PricesError(path, f"budget.contact = {contact!r}: must be text")
    return Budget(float(monthly), float(warn), 100.0 if block else None, contact)


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
    """The user's prices.json; else the team's prices kept by setup, when there are some."""
    import os

    own = os.path.join(config_dir, FILE_NAME)
    team = os.path.join(config_dir, TEAM_FILE_NAME)
    return team if not os.path.exists(own) and os.path.exists(team) else own


def find(option: str | None, config_dir: str) -> Prices | None:
    """--prices FILE, else the prices file in the config folder when there is one (the user's,
    else the team's), else None."""
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


def budget_set(config_dir: str, team: Mapping[str, Any] | None = None) -> tuple[bool, str | None]:
    """(whether the prices file in the configuration folder sets a budget, a problem with it).
    `team`: the team file's prices and budget this setup keeps, for when the user has no
    prices file of their own. Setup adds the budget hook when it does."""
    import os

    if team is not None and not os.path.exists(os.path.join(config_dir, FILE_NAME)):
        return bool(team.get("budget")), None

    try:
        found = find(None, config_dir)
    except PricesError as exc:
        return False, exc.message
    return found is not None and found.budget is not None, None
