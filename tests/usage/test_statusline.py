"""`dbx-fmapi statusline` for sample payloads, `dbx-fmapi budget [--hook]`, and our status line
and hook in Claude Code's settings (pure transforms). In-process: a fresh summary is written
first, so no background refresh is started (test_usage_claude.py covers that one)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from dbx_fmapi_claude.agents.claude import statusline
from dbx_fmapi_claude.core.paths import Paths
from dbx_fmapi_claude.usage import refresh, summary
from dbx_fmapi_claude.usage.prices import load
from tests.helpers.usage_world import OPUS, SONNET, claude_line, run, write_prices, write_transcript

NOW = time.time()
CONFIG = ".config/dbx-fmapi-claude"


def payload(transcript: Path | None, session: str = "s1", **extra: Any) -> str:
    data: dict[str, Any] = {
        "session_id": session,
        "transcript_path": str(transcript) if transcript else None,
        "cwd": "/work/project",
        "model": {"id": SONNET, "display_name": "Sonnet 4.5"},
        "cost": {"total_cost_usd": 12.5},  # Anthropic's list prices: not what we show
        **extra,
    }
    return json.dumps(data)


def fresh_summary(home: Path, prices: Path | None) -> None:
    """What the background refresh would write now."""
    env = {"HOME": str(home)}
    price_list = load(str(prices)) if prices else None
    config_dir = Paths.from_env(env).config_dir_path
    refresh.write(config_dir, refresh.compute(home, env, price_list, time.time()))


def two_sessions(home: Path) -> Path:
    write_transcript(
        home, "earlier", [claude_line("e1", OPUS, {"output_tokens": 400_000}, NOW - 120)]
    )
    return write_transcript(
        home,
        "s1",
        [
            claude_line("m1", SONNET, {"input_tokens": 1_000_000, "output_tokens": 100}, NOW - 60),
            claude_line("m1", SONNET, {"input_tokens": 1_000_000, "output_tokens": 2000}, NOW - 60),
        ],
    )


def test_session_today_and_month_at_the_companys_prices(tmp_path: Path) -> None:
    transcript = two_sessions(tmp_path)
    prices = write_prices(tmp_path / CONFIG / "prices.json")
    fresh_summary(tmp_path, prices)
    code, out, err = run(tmp_path, "statusline", stdin=payload(transcript))
    assert (code, err) == (0, "")
    # session: 1M input x $3 + 2000 output x $15 = $3.03; today adds opus 0.4M x $25 = $10.
    assert out == "Sonnet 4.5 · session 1.0M tok $3.03 · today $13.03 · month $13.03\n"


def test_the_session_grows_as_its_transcript_does(tmp_path: Path) -> None:
    transcript = two_sessions(tmp_path)
    prices = write_prices(tmp_path / CONFIG / "prices.json")
    fresh_summary(tmp_path, prices)
    run(tmp_path, "statusline", stdin=payload(transcript))
    write_transcript(
        tmp_path, "s1", [claude_line("m2", SONNET, {"output_tokens": 1_000_000}, NOW - 1)]
    )
    _, out, _ = run(tmp_path, "statusline", stdin=payload(transcript))
    assert out.startswith("Sonnet 4.5 · session 2.0M tok $18.03 · ")


def test_budget_is_shown_and_marked_from_the_warning_level(tmp_path: Path) -> None:
    transcript = two_sessions(tmp_path)
    prices = write_prices(
        tmp_path / CONFIG / "prices.json", budget={"monthly": 20, "warn": 50, "contact": "x"}
    )
    fresh_summary(tmp_path, prices)
    _, out, _ = run(tmp_path, "statusline", stdin=payload(transcript))
    assert out.endswith(" · month $13.03 of $20.00 (65%) !\n")
    write_prices(prices, budget={"monthly": 100})
    fresh_summary(tmp_path, prices)
    _, out, _ = run(tmp_path, "statusline", stdin=payload(transcript))
    assert out.endswith(" · month $13.03 of $100.00 (13%)\n")


def test_without_prices_tokens_and_where_to_look(tmp_path: Path) -> None:
    transcript = two_sessions(tmp_path)
    fresh_summary(tmp_path, None)
    _, out, _ = run(tmp_path, "statusline", stdin=payload(transcript))
    assert out == (
        "Sonnet 4.5 · session 1.0M tok · today 1.4M tok · month 1.4M tok · "
        "no prices (dbx-fmapi usage --help)\n"
    )


@pytest.mark.parametrize("stdin", ["", "not json", "[1, 2]", '{"model": 5}'])
def test_any_input_still_gives_one_line_and_exit_0(tmp_path: Path, stdin: str) -> None:
    fresh_summary(tmp_path, None)
    code, out, err = run(tmp_path, "statusline", stdin=stdin)
    assert code == 0 and err == ""
    assert out.count("\n") == 1 and out.endswith("no prices (dbx-fmapi usage --help)\n")


def test_a_bad_prices_file_is_named_in_the_line(tmp_path: Path) -> None:
    (tmp_path / CONFIG).mkdir(parents=True)
    (tmp_path / CONFIG / "prices.json").write_text("{broken")
    fresh_summary(tmp_path, None)
    code, out, _ = run(tmp_path, "statusline", stdin=payload(None))
    assert code == 0
    assert "prices file unreadable: dbx-fmapi usage (prices file " in out
    assert out.count("\n") == 1


def test_a_missing_transcript_leaves_the_session_out(tmp_path: Path) -> None:
    fresh_summary(tmp_path, None)
    _, out, _ = run(tmp_path, "statusline", stdin=payload(tmp_path / "gone.jsonl"))
    assert out.startswith("Sonnet 4.5 · session 0 tok · today 0 tok")


# --------------------------------------------------------------------------- budget


def over_budget(home: Path, **budget: Any) -> Path:
    two_sessions(home)  # $13.03 this month
    return write_prices(home / CONFIG / "prices.json", budget={"contact": "#ml-platform", **budget})


def test_budget_command(tmp_path: Path) -> None:
    over_budget(tmp_path, monthly=20)
    code, out, _ = run(tmp_path, "budget")
    assert code == 0
    assert out == "Budget: this month's spend is $13.03 of the $20.00 budget (65%).\n"
    assert summary.read(str(tmp_path / CONFIG)) is not None  # cached for the status line


def test_budget_command_without_a_budget(tmp_path: Path) -> None:
    code, out, err = run(tmp_path, "budget")
    assert code == 1 and out == ""
    assert "error: no budget is set" in err and 'add a "budget" to the prices file' in err


def test_hook_under_the_limit_says_nothing(tmp_path: Path) -> None:
    over_budget(tmp_path, monthly=100, block=True)
    assert run(tmp_path, "budget", "--hook", stdin='{"prompt": "hi"}') == (0, "", "")


def test_hook_warns_from_the_warning_level(tmp_path: Path) -> None:
    over_budget(tmp_path, monthly=20, warn=50)
    code, out, err = run(tmp_path, "budget", "--hook", stdin="{}")
    assert (code, err) == (0, "")
    assert json.loads(out) == {
        "systemMessage": "Budget: this month's spend is $13.03 of the $20.00 budget (65%); "
        "ask #ml-platform if you need more."
    }


def test_hook_blocks_at_the_block_level(tmp_path: Path) -> None:
    over_budget(tmp_path, monthly=10, block=True)
    code, out, err = run(tmp_path, "budget", "--hook", stdin="{}")
    assert (code, out) == (2, "")
    assert err == (
        "Prompt blocked: this month's spend is $13.03 of the $10.00 budget (130%); ask "
        "#ml-platform to raise it.\n"
    )


def test_hook_never_blocks_when_the_figures_cannot_be_read(tmp_path: Path) -> None:
    prices = over_budget(tmp_path, monthly=10, block=True)
    prices.write_text("{broken")
    assert run(tmp_path, "budget", "--hook", stdin="{}") == (0, "", "")
    prices.unlink()  # no prices, no budget
    assert run(tmp_path, "budget", "--hook", stdin="{}") == (0, "", "")


# --------------------------------------------------------------------------- settings

LINE, HOOK = statusline.commands("/opt/my tools/dbx-fmapi")


def test_commands_are_quoted() -> None:
    assert LINE == "'/opt/my tools/dbx-fmapi' statusline"
    assert HOOK == "'/opt/my tools/dbx-fmapi' budget --hook"


def test_added_when_there_is_none_and_removed_exactly() -> None:
    mine = {"matcher": "", "hooks": [{"type": "command", "command": "my-check"}]}
    old = {"env": {"A": "1"}, "hooks": {"UserPromptSubmit": [mine], "Stop": []}}
    new, rec = statusline.add(old, line=LINE, hook=HOOK, before={})
    assert new["statusLine"] == {"type": "command", "padding": 0, "command": LINE}
    assert new["hooks"]["UserPromptSubmit"] == [
        mine,
        {"hooks": [{"type": "command", "command": HOOK, "timeout": 30}]},
    ]
    assert rec == {"statusline_command": LINE, "prompt_hook": HOOK}
    assert statusline.add(new, line=LINE, hook=HOOK, before=rec)[0] == new  # twice: same
    assert statusline.remove(new, rec) == old


def test_a_users_own_status_line_is_never_replaced() -> None:
    theirs = {"type": "command", "command": "~/bin/my-line.sh", "padding": 1}
    new, rec = statusline.add({"statusLine": theirs}, line=LINE, hook=HOOK, before={})
    assert new["statusLine"] == theirs
    assert "statusline_command" not in rec
    assert statusline.theirs(new, rec) == "~/bin/my-line.sh"
    assert statusline.remove(new, rec) == {"statusLine": theirs}


def test_a_moved_executable_replaces_our_old_commands() -> None:
    old_line, old_hook = statusline.commands("/old/dbx-fmapi")
    first, rec = statusline.add({}, line=old_line, hook=old_hook, before={})
    new, rec2 = statusline.add(first, line=LINE, hook=HOOK, before=rec)
    assert new["statusLine"]["command"] == LINE
    assert [g["hooks"][0]["command"] for g in new["hooks"]["UserPromptSubmit"]] == [HOOK]
    assert statusline.remove(new, rec2) == {}


def test_the_session_counts_each_answer_once_across_refreshes(tmp_path: Path) -> None:
    """Refreshes between lines: an answer written again with fuller counts replaces its counts,
    a copy of an old answer (past the recent ones kept with counts) is not counted again, and
    a transcript that was rewritten (shorter) is read again from the start."""
    from dbx_fmapi_claude.usage.transcript import RECENT, session_totals

    cache = str(tmp_path / "cache.json")
    path = write_transcript(
        tmp_path, "s1", [claude_line("a", SONNET, {"input_tokens": 10, "output_tokens": 1}, NOW)]
    )
    assert session_totals(str(path), cache) == {SONNET: [1, 10, 1, 0, 0]}
    write_transcript(
        tmp_path, "s1", [claude_line("a", SONNET, {"input_tokens": 10, "output_tokens": 7}, NOW)]
    )
    assert session_totals(str(path), cache) == {SONNET: [1, 10, 7, 0, 0]}
    more = [claude_line(f"m{i}", OPUS, {"output_tokens": 1}, NOW) for i in range(RECENT + 5)]
    write_transcript(tmp_path, "s1", more)
    assert session_totals(str(path), cache)[OPUS] == [RECENT + 5, 0, RECENT + 5, 0, 0]
    copy = claude_line("a", SONNET, {"input_tokens": 10, "output_tokens": 7}, NOW)
    write_transcript(tmp_path, "s1", [copy, more[0]])
    totals = session_totals(str(path), cache)
    assert totals[SONNET] == [1, 10, 7, 0, 0] and totals[OPUS][0] == RECENT + 5

    path.write_text(json.dumps(copy) + "\n")  # rewritten
    assert session_totals(str(path), cache) == {SONNET: [1, 10, 7, 0, 0]}


def test_without_a_budget_no_hook_and_an_earlier_one_of_ours_goes() -> None:
    mine = {"hooks": [{"type": "command", "command": "my-check"}]}
    first, rec = statusline.add(
        {"hooks": {"UserPromptSubmit": [mine]}}, line=LINE, hook=HOOK, before={}
    )
    new, rec2 = statusline.add(first, line=LINE, hook=None, before=rec)
    assert new["hooks"] == {"UserPromptSubmit": [mine]}
    assert rec2 == {"statusline_command": LINE}
    assert statusline.add({}, line=LINE, hook=None, before={})[0] == {
        "statusLine": {"type": "command", "padding": 0, "command": LINE}
    }
