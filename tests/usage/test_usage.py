"""`dbx-fmapi usage`: the agents' own records added up, priced, and bad input refused (in-process;
the records are written in the shapes the pinned agents write, see tests/helpers/usage_world.py)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.helpers.json_shapes import USAGE_SHAPE, assert_shape
from tests.helpers.usage_world import (
    OPUS,
    SONNET,
    claude_line,
    files_under,
    run,
    write_codex,
    write_gemini,
    write_opencode,
    write_prices,
    write_transcript,
)

NOW = time.time()


def usage_json(home: Path, *args: str) -> dict:
    code, out, err = run(home, "usage", "--json", *args)
    assert code == 0, err
    data = dict(json.loads(out))
    assert_shape(data, USAGE_SHAPE)  # docs/json.md
    return data


def test_each_claude_answer_counts_once(tmp_path: Path) -> None:
    """A streamed answer is several lines with one message id; a resumed session copies lines
    into a new file; Claude Code's synthetic answers made no request."""
    a = claude_line("msg_a", SONNET, {"input_tokens": 100, "output_tokens": 1}, NOW - 60)
    a_final = claude_line(
        "msg_a",
        SONNET,
        {"input_tokens": 100, "output_tokens": 50, "cache_read_input_tokens": 1000,
         "cache_creation_input_tokens": 200},
        NOW - 60,
    )  # fmt: skip
    b = claude_line("msg_b", OPUS, {"input_tokens": 10, "output_tokens": 5}, NOW - 30)
    synthetic = claude_line("msg_c", "<synthetic>", {"input_tokens": 0}, NOW - 20)
    write_transcript(tmp_path, "s1", [a, a_final, a_final, b, synthetic])
    resumed = write_transcript(tmp_path, "s2", [a_final, b])  # copies of the same answers
    with resumed.open("a") as f:
        f.write('{"type": "assistant", "message": {"id": "msg_half"')  # being written

    data = usage_json(tmp_path)
    assert data["version"] == 1
    assert data["total"] == {
        "requests": 2,
        "input_tokens": 110,
        "output_tokens": 55,
        "cache_read_tokens": 1000,
        "cache_write_tokens": 200,
        "cost_usd": None,
    }
    rows = {(r["agent"], r["model"]): r for r in data["rows"]}
    assert set(rows) == {("claude", SONNET), ("claude", OPUS)}
    assert rows[("claude", SONNET)]["requests"] == 1


def test_costs_are_tokens_times_prices(tmp_path: Path) -> None:
    write_transcript(
        tmp_path,
        "s1",
        [
            claude_line(
                "m1",
                SONNET,
                {
                    "input_tokens": 1_000_000,
                    "output_tokens": 100_000,
                    "cache_read_input_tokens": 2_000_000,
                    "cache_creation_input_tokens": 400_000,
                },
                NOW - 10,
            ),  # fmt: skip
            claude_line("m2", OPUS, {"input_tokens": 200_000, "output_tokens": 40_000}, NOW - 5),
        ],
    )
    prices = write_prices(tmp_path / "prices.json")
    data = usage_json(tmp_path, "--prices", str(prices))
    rows = {r["model"]: r["cost_usd"] for r in data["rows"]}
    sonnet = 1 * 3.0 + 0.1 * 15.0 + 2 * 0.3 + 0.4 * 3.75
    opus = 0.2 * 5.0 + 0.04 * 25.0
    assert rows == {SONNET: pytest.approx(sonnet), OPUS: pytest.approx(opus)}
    assert data["total"]["cost_usd"] == pytest.approx(sonnet + opus)
    assert data["currency"] == "USD"

    code, out, _ = run(tmp_path, "usage", "--prices", str(prices))
    assert code == 0
    assert "6.60 USD" in out and "2.00 USD" in out and "8.60 USD" in out


def test_a_model_without_a_price_has_no_cost_and_is_named(tmp_path: Path) -> None:
    write_transcript(
        tmp_path,
        "s1",
        [
            claude_line("m1", SONNET, {"input_tokens": 1_000_000}, NOW - 10),
            claude_line("m2", "databricks-claude-haiku-4-5", {"input_tokens": 5}, NOW - 5),
        ],
    )
    prices = write_prices(tmp_path / "prices.json")
    data = usage_json(tmp_path, "--prices", str(prices))
    assert data["total"]["cost_usd"] is None  # never a partial sum presented as the total
    assert data["unpriced_models"] == ["databricks-claude-haiku-4-5"]
    code, out, _ = run(tmp_path, "usage", "--prices", str(prices))
    assert "no price for databricks-claude-haiku-4-5" in out


def test_without_prices_tokens_and_how_to_add_them(tmp_path: Path) -> None:
    write_transcript(tmp_path, "s1", [claude_line("m1", SONNET, {"input_tokens": 7}, NOW - 5)])
    code, out, _ = run(tmp_path, "usage")
    assert code == 0
    assert "no prices: showing tokens only" in out and "--prices FILE" in out
    assert str(tmp_path / ".config/dbx-fmapi-claude/prices.json") in out


def test_the_prices_file_in_the_config_folder_is_used(tmp_path: Path) -> None:
    write_transcript(
        tmp_path, "s1", [claude_line("m1", SONNET, {"input_tokens": 1_000_000}, NOW - 5)]
    )
    write_prices(tmp_path / ".config" / "dbx-fmapi-claude" / "prices.json")
    assert usage_json(tmp_path)["total"]["cost_usd"] == pytest.approx(3.0)


def test_every_agent_that_records_usage(tmp_path: Path) -> None:
    write_codex(
        tmp_path,
        NOW - 50,
        "databricks-gpt-5",
        {"input_tokens": 883, "cached_input_tokens": 800, "cache_write_input_tokens": 0,
         "output_tokens": 92, "reasoning_output_tokens": 0, "total_tokens": 975},
        "resp_1",
    )  # fmt: skip
    write_gemini(
        tmp_path,
        NOW - 40,
        "databricks-gemini-2-5-pro",
        {"input": 130, "output": 15, "cached": 30, "thoughts": 5, "tool": 0, "total": 150},
    )
    write_opencode(
        tmp_path,
        NOW - 30,
        "databricks-gpt-5",
        {"total": 2662, "input": 2641, "output": 21, "reasoning": 0,
         "cache": {"write": 7, "read": 9}},
    )  # fmt: skip
    data = usage_json(tmp_path, "--by", "model")
    rows = {r["agent"]: r for r in data["rows"]}
    assert set(rows) == {"codex", "gemini", "opencode"}
    # OpenAI and Gemini count cached input inside input: input here is what was not cached.
    assert (rows["codex"]["input_tokens"], rows["codex"]["cache_read_tokens"]) == (83, 800)
    assert (rows["gemini"]["input_tokens"], rows["gemini"]["cache_read_tokens"]) == (100, 30)
    assert rows["gemini"]["output_tokens"] == 20  # thoughts are billed as output
    assert (rows["opencode"]["cache_read_tokens"], rows["opencode"]["cache_write_tokens"]) == (
        9,
        7,
    )
    assert data["total"]["requests"] == 3

    by_agent = usage_json(tmp_path, "--by", "agent")
    assert [(r["agent"], r["model"]) for r in by_agent["rows"]] == [
        ("codex", None),
        ("gemini", None),
        ("opencode", None),
    ]


def test_since_and_by_day(tmp_path: Path) -> None:
    old = NOW - 40 * 86400
    write_transcript(
        tmp_path,
        "s1",
        [
            claude_line("old", SONNET, {"input_tokens": 1}, old),
            claude_line("new", SONNET, {"input_tokens": 2}, NOW - 5),
        ],
    )
    assert usage_json(tmp_path, "--since", "today")["total"]["input_tokens"] == 2
    assert usage_json(tmp_path, "--since", "60d")["total"]["input_tokens"] == 3
    day = time.strftime("%Y-%m-%d", time.localtime(old))
    assert usage_json(tmp_path, "--since", day)["total"]["input_tokens"] == 3
    days = usage_json(tmp_path, "--since", "60d", "--by", "day")["rows"]
    assert [r["day"] for r in days] == [day, time.strftime("%Y-%m-%d", time.localtime(NOW - 5))]
    sessions = usage_json(tmp_path, "--by", "session")["rows"]
    assert [r["session"] for r in sessions] == ["s1"]


@pytest.mark.parametrize("since", ["yesterday", "0d", "2026-13-01", "7 days", ""])
def test_a_bad_since_is_refused(tmp_path: Path, since: str) -> None:
    write_transcript(tmp_path, "s1", [claude_line("m", SONNET, {"input_tokens": 1}, NOW)])
    before = files_under(tmp_path)
    code, out, err = run(tmp_path, "usage", "--since", since)
    assert code == 2 and out == ""
    assert f"--since {since!r}: expected today, month" in err
    assert "fix: dbx-fmapi usage --since 7d" in err
    assert files_under(tmp_path) == before


M = '{"version": 1, "prices": {"m": {"input": 1, "output": 2}}'


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[]", "not a JSON object"),
        ('{"version": 2, "prices": {}}', "version 2 is not one this version reads"),
        ('{"version": 1}', 'no "prices" object'),
        ('{"prices": {}}', 'no "prices" object'),
        ('{"prices": {"m": 3}}', "prices.m must be an object with input, output"),
        ('{"prices": {"m": {"input": 1, "cached": 1}}}', "prices.m.cached: unknown key"),
        ('{"prices": {"m": {"input": -2}}}', "prices.m.input = -2: must be a number >= 0"),
        ('{"prices": {"m": {"input": true}}}', "prices.m.input = True: must be a number >= 0"),
        ('{"prices": {"m": {"input": 1, "currency": "usd"}}}', "'usd': not a currency code"),
        ('{"prices": {"m": {"input": 1, "currency": "EUR"}}}', "'EUR': only USD prices"),
        (M + ', "budget": {"warn": 50}}', 'budget needs "monthly"'),
        (M + ', "budget": {"monthly": 0}}', 'budget needs "monthly"'),
        (M + ', "budget": {"monthly": 5, "block": 90}}', "budget.block = 90: must be true or"),
        (M + ', "budget": {"monthly": 5, "warn": 120}}', "budget.warn = 120: a percentage"),
        (M + ', "budget": {"monthly": 5, "limit": 9}}', "budget.limit: unknown key"),
    ],
)
def test_a_bad_prices_file_is_refused(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "prices.json"
    path.write_text(content)
    write_transcript(tmp_path, "s1", [claude_line("m", SONNET, {"input_tokens": 1}, NOW)])
    before = files_under(tmp_path)
    code, out, err = run(tmp_path, "usage", "--prices", str(path))
    assert code == 2 and out == ""
    assert f"prices file {path}: " in err and message in err, err
    assert "fix: see docs/usage.md (Prices)" in err
    assert files_under(tmp_path) == before


def test_a_missing_prices_file_is_refused(tmp_path: Path) -> None:
    code, out, err = run(tmp_path, "usage", "--prices", str(tmp_path / "nope.json"))
    assert code == 2 and out == ""
    assert "nope.json: not found" in err
    assert files_under(tmp_path) == {}


def test_a_team_file_works_as_a_prices_file(tmp_path: Path) -> None:
    """Its other keys are the team file's business: only prices and budget are read here."""
    write_transcript(
        tmp_path, "s1", [claude_line("m1", SONNET, {"output_tokens": 1_000_000}, NOW - 5)]
    )
    team = write_prices(
        tmp_path / "team.json", host="https://example.cloud.databricks.com", ttl="30m"
    )
    assert usage_json(tmp_path, "--prices", str(team))["total"]["cost_usd"] == pytest.approx(15)


def test_no_records_at_all(tmp_path: Path) -> None:
    code, out, _ = run(tmp_path, "usage")
    assert code == 0 and "no requests recorded" in out
    assert usage_json(tmp_path)["rows"] == []
    assert files_under(tmp_path) == {}  # usage writes nothing


def test_a_kind_without_a_price_is_not_guessed(tmp_path: Path) -> None:
    """No cache_write price: a request that wrote to the cache has no cost; one that did not
    is priced."""
    write_transcript(
        tmp_path,
        "s1",
        [
            claude_line("m1", "x", {"input_tokens": 1_000_000}, NOW - 10),
            claude_line("m2", "y", {"input_tokens": 1, "cache_creation_input_tokens": 9}, NOW - 5),
        ],
    )
    path = tmp_path / "prices.json"
    path.write_text(
        json.dumps({"version": 1, "prices": {m: {"input": 2.0, "output": 8.0} for m in "xy"}})
    )
    data = usage_json(tmp_path, "--prices", str(path))
    assert {r["model"]: r["cost_usd"] for r in data["rows"]} == {"x": 2.0, "y": None}
    assert data["unpriced_models"] == ["y"]


def test_the_team_files_own_validator_accepts_a_prices_file(tmp_path: Path) -> None:
    """One format: what usage reads is what `dbx-fmapi team validate` accepts."""
    prices = write_prices(
        tmp_path / "team.json", budget={"monthly": 200, "warn": 80, "block": True, "contact": "x"}
    )
    code, out, err = run(tmp_path, "team", "validate", str(prices), "--offline")
    assert code == 0, err
    assert usage_json(tmp_path, "--prices", str(prices))["currency"] == "USD"
