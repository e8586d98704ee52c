"""The catalogue's rules in-process (src/dbx_fmapi_claude/workspace/catalogue.py): names read
into family, version and 1M variant; retirement by Claude Code's table; the default per family."""

from __future__ import annotations

import datetime as dt

import pytest

from dbx_fmapi_claude.workspace import catalogue
from dbx_fmapi_claude.workspace.catalogue import Catalogue, Name

DAY = dt.date(2026, 11, 29)


@pytest.mark.parametrize(
    "name, parsed",
    [
        ("databricks-claude-opus-4-8", Name("opus", (4, 8), False)),
        ("databricks-claude-opus-4-8[1m]", Name("opus", (4, 8), True)),
        ("system.ai.claude-sonnet-4-6", Name("sonnet", (4, 6), False)),
        ("system.ai.databricks-claude-haiku-4-5", Name("haiku", (4, 5), False)),
        ("databricks-claude-3-7-sonnet", Name("sonnet", (3, 7), False)),
        ("databricks-claude-sonnet-4", Name("sonnet", (4, 0), False)),
        ("databricks-claude-fable-5-2", Name("fable", (5, 2), False)),
        ("claude-opus-4-1", Name("opus", (4, 1), False)),
        ("anthropic-external-claude", Name(None, (0, 0), False)),
        ("my-custom-model", Name(None, (0, 0), False)),
    ],
)
def test_names(name: str, parsed: Name) -> None:
    assert catalogue.parse(name) == parsed
    assert catalogue.recognised(name) == (parsed.family is not None)


def test_retirement_follows_claude_codes_table() -> None:
    assert catalogue.retiring("databricks-claude-sonnet-4-5", DAY) == "retiring"  # 2026-11-30
    assert catalogue.retiring("databricks-claude-sonnet-4-5", dt.date(2026, 11, 22)) is None
    assert catalogue.retiring("databricks-claude-sonnet-4-5", dt.date(2026, 11, 30)) == "retired"
    assert catalogue.retiring("databricks-claude-opus-4-5", DAY) is None  # 2027-01-22
    assert catalogue.retiring("databricks-claude-opus-4-5", dt.date(2027, 1, 16)) == "retiring"
    assert catalogue.retiring("databricks-claude-3-7-sonnet", DAY) == "retired"
    assert catalogue.retiring("system.ai.claude-sonnet-4-5[1m]", DAY) == "retiring"
    assert catalogue.retiring("databricks-claude-opus-4-8", DAY) is None
    note = catalogue.retirement_note("databricks-claude-sonnet-4-5", DAY)
    assert note == "retires on 2026-11-30, in 1 day (Claude Code 2.1.332's model retirement table)"


def _cat(*models: tuple[str, str]) -> Catalogue:
    cat = Catalogue(sources=["serving-endpoints"])
    for name, state in models:
        cat.add(name, "serving-endpoints").state = state
    return cat


def test_the_default_is_the_newest_ready_model_that_does_not_retire_this_week() -> None:
    cat = _cat(
        ("databricks-claude-sonnet-4-5", "READY"),
        ("databricks-claude-sonnet-4-6", "NOT_READY"),
        ("databricks-claude-sonnet-4", "READY"),
        ("databricks-claude-opus-4-8", "READY"),
        ("databricks-claude-opus-4-8[1m]", "READY"),
        ("databricks-claude-opus-4-7", "READY"),
        ("databricks-claude-fable-5-3", "NOT_READY"),
        ("databricks-claude-fable-5-2", "READY"),
    )
    assert cat.default("sonnet", DAY) is None  # 4-6 not READY, 4-5 retiring, 4 retired
    assert cat.default("sonnet", dt.date(2026, 10, 1)) == "databricks-claude-sonnet-4-5"
    assert cat.default("opus", DAY) == "databricks-claude-opus-4-8"  # never the [1m] variant
    assert cat.default("fable", DAY) == "databricks-claude-fable-5-2"
    assert cat.default("haiku", DAY) is None
    assert [m.name for m in cat.claude("opus")] == [
        "databricks-claude-opus-4-8",
        "databricks-claude-opus-4-8[1m]",
        "databricks-claude-opus-4-7",
    ]
    assert cat.has("databricks-claude-opus-4-7[1m]")  # a [1m] name stands on its base model


def test_the_fallback_is_the_seeds_except_one_that_retires() -> None:
    assert catalogue.fallback("opus", DAY) == "databricks-claude-opus-4-6"
    assert catalogue.fallback("haiku", DAY) == "databricks-claude-haiku-4-5"
    assert catalogue.fallback("sonnet", DAY) == "databricks-claude-sonnet-4-6"
    assert catalogue.fallback("sonnet", dt.date(2026, 10, 1)) == "databricks-claude-sonnet-4-5"


def test_today_comes_from_the_environment() -> None:
    assert catalogue.today({"DBX_FMAPI_TODAY": "2026-11-29"}) == DAY
    assert catalogue.today({"DBX_FMAPI_TODAY": "garbage"}) == dt.date.today()
