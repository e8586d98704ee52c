"""Usage, the status line and the budget hook with the real Claude Code, set up by the product,
against the fake workspace (whose answers carry token usage, cache reads and writes included)."""

from __future__ import annotations

import json
import shlex
import time
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.mgmt import settings_path
from tests.helpers.usage_world import PRICES, pat_setup, write_prices
from tests.rig.sandbox import Sandbox
from tests.rig.workspace import FakeWorkspace

pytestmark = pytest.mark.e2e

CONFIG = Path(".config/dbx-fmapi-claude")
CACHE = {"cache_read_input_tokens": 1000, "cache_creation_input_tokens": 200}


@pytest.fixture(autouse=True)
def _need_claude(claude_bin: str) -> None:
    """Skips (with the reason) when DBX_TEST_CLAUDE_BIN is unset."""


def with_budget(sandbox: Sandbox, monthly: float) -> Path:
    return write_prices(sandbox.home / CONFIG / "prices.json", budget={"monthly": monthly})


def transcripts(home: Path) -> list[Path]:
    return sorted((home / ".claude" / "projects").rglob("*.jsonl"))


def unique_answers(home: Path) -> dict[str, tuple[str, list[int]]]:
    """message id -> (model, [input, output, cache read, cache write]) over every transcript,
    the fullest of the lines written for it."""
    out: dict[str, tuple[str, list[int]]] = {}
    for path in transcripts(home):
        for raw in path.read_text().splitlines():
            item = json.loads(raw)
            msg = item.get("message") if item.get("type") == "assistant" else None
            if not isinstance(msg, dict) or "usage" not in msg or msg["model"] == "<synthetic>":
                continue
            u = msg["usage"]
            counts = [
                u.get("input_tokens", 0),
                u.get("output_tokens", 0),
                u.get("cache_read_input_tokens", 0),
                u.get("cache_creation_input_tokens", 0),
            ]
            if msg["id"] not in out or counts[1] > out[msg["id"]][1][1]:
                out[msg["id"]] = (msg["model"], counts)
    return out


def answered(workspace: FakeWorkspace) -> list[tuple[int, int]]:
    """(input, output) tokens of each answer the workspace gave, as it counts them."""
    return [
        (max(1, len(json.dumps(r.json.get("messages", []))) // 4), max(1, len("pong") // 4))
        for r in workspace.messages_requests()
        if r.status == 200
    ]


def usage(sandbox: Sandbox, *args: str) -> dict[str, Any]:
    result = sandbox.run_here(["dbx-fmapi", "usage", "--json", *args])
    assert result.code == 0, result
    return dict(json.loads(result.stdout))


def hook_messages(home: Path) -> list[str]:
    found = []
    for path in transcripts(home):
        for raw in path.read_text().splitlines():
            att = json.loads(raw).get("attachment")
            if isinstance(att, dict) and att.get("type") == "hook_system_message":
                found.append(att["content"])
    return found


def test_usage_totals_are_the_transcripts_unique_answers_priced(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    workspace.usage_extra = dict(CACHE)
    pat_setup(sandbox, workspace)
    for args in (["-p", "say hi"], ["-p", "again"], ["-p", "--continue", "and once more"]):
        result = sandbox.claude(args)
        assert (result.code, result.stdout.strip()) == (0, "pong"), result
    answers = unique_answers(sandbox.home)
    from_workspace = answered(workspace)
    assert len(answers) == len(from_workspace) == 3
    assert len(transcripts(sandbox.home)) >= 2

    [model] = {m for m, _ in answers.values()}
    prices = sandbox.root / "prices.json"
    per = {"input": 3.0, "output": 15.0, "cache_read": 0.3, "cache_write": 3.75}
    prices.write_text(json.dumps({"version": 1, "prices": {model: per}}))
    data = usage(sandbox, "--prices", str(prices))
    sums = [sum(c[i] for _, c in answers.values()) for i in range(4)]
    assert sums[0] == sum(i for i, _ in from_workspace)  # what the workspace counted
    assert sums[1] == sum(o for _, o in from_workspace)
    assert sums[2:] == [3 * 1000, 3 * 200]
    cost = (sums[0] * 3.0 + sums[1] * 15.0 + sums[2] * 0.3 + sums[3] * 3.75) / 1e6
    assert data["total"] == {
        "requests": 3,
        "input_tokens": sums[0],
        "output_tokens": sums[1],
        "cache_read_tokens": sums[2],
        "cache_write_tokens": sums[3],
        "cost_usd": pytest.approx(cost),
    }
    assert [(r["agent"], r["model"]) for r in data["rows"]] == [("claude", model)]


def test_setup_installs_the_status_line_and_it_prints_one_line(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    pat_setup(sandbox, workspace)
    settings = json.loads(settings_path(sandbox).read_text())
    command = settings["statusLine"]["command"]
    assert command.endswith(" statusline")
    # no budget: no hook to run on every prompt (the StopFailure hook is the rejected-token one)
    assert "UserPromptSubmit" not in settings.get("hooks", {})
    result = sandbox.claude(["-p", "say hi"])
    assert result.code == 0, result
    [transcript] = transcripts(sandbox.home)
    write_prices(sandbox.home / CONFIG / "prices.json")
    payload = {
        "session_id": transcript.stem,
        "transcript_path": str(transcript),
        "model": {"id": "x", "display_name": "Opus 4.6"},
    }
    # As Claude Code runs it: through a shell, the JSON on stdin.
    line = sandbox.run(["/bin/sh", "-c", command], input=json.dumps(payload))
    assert line.code == 0 and line.stderr == "", line
    assert line.stdout.startswith("Opus 4.6 · session ") and line.stdout.count("\n") == 1
    # Today's and the month's figures come from a summary made in the background.
    summary = wait_for_summary(sandbox.home)
    data = json.loads(summary.read_text())
    assert data["today"]["requests"] == 1
    line = sandbox.run(["/bin/sh", "-c", command], input=json.dumps(payload))
    assert " · today $" in line.stdout and " · month $" in line.stdout, line


def test_a_users_own_status_line_stays_and_off_removes_ours(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    mine = {"type": "command", "command": "echo mine"}
    with_budget(sandbox, 100)
    settings_path(sandbox).parent.mkdir(parents=True, exist_ok=True)
    settings_path(sandbox).write_text(json.dumps({"statusLine": mine}))
    result = pat_setup(sandbox, workspace)
    assert "your own status line stays (echo mine)" in result.stdout
    settings = json.loads(settings_path(sandbox).read_text())
    assert settings["statusLine"] == mine
    assert "UserPromptSubmit" in settings["hooks"]

    pat_setup(sandbox, workspace, "--statusline", "off")
    settings = json.loads(settings_path(sandbox).read_text())
    assert settings["statusLine"] == mine
    assert "UserPromptSubmit" not in settings.get("hooks", {})
    pat_setup(sandbox, workspace)  # the choice is remembered
    assert "UserPromptSubmit" not in json.loads(settings_path(sandbox).read_text()).get("hooks", {})

    uninstall = sandbox.run_here(["dbx-fmapi", "uninstall", "--yes"])
    assert uninstall.code == 0, uninstall
    assert json.loads(settings_path(sandbox).read_text()) == {"statusLine": mine}


def test_budget_hook_with_the_real_claude(sandbox: Sandbox, workspace: FakeWorkspace) -> None:
    with_budget(sandbox, 1_000_000)
    pat_setup(sandbox, workspace)
    assert "UserPromptSubmit" in json.loads(settings_path(sandbox).read_text())["hooks"]
    first = sandbox.claude(["-p", "say hi"])
    assert (first.code, first.stdout.strip()) == (0, "pong"), first
    [(model, _)] = unique_answers(sandbox.home).values()
    prices = sandbox.home / CONFIG / "prices.json"

    def budget(**b: Any) -> None:
        data = json.loads(json.dumps(PRICES))
        data["prices"] = {model: {"input": 1000.0, "output": 1000.0}}
        data["budget"] = {"contact": "#ml-platform", **b}
        prices.write_text(json.dumps(data))

    spent = sum(sum(c[:2]) for _, c in unique_answers(sandbox.home).values()) * 1000 / 1e6

    # Under the limit: nothing changes.
    budget(monthly=spent * 10, block=True)
    under = sandbox.claude(["-p", "say hi"])
    assert (under.code, under.stdout.strip()) == (0, "pong"), under
    assert hook_messages(sandbox.home) == []
    assert len(workspace.messages_requests()) == 2

    # From the warning level: the prompt goes through, the user sees one line.
    budget(monthly=spent * 1.1, warn=50)
    warned = sandbox.claude(["-p", "say hi"])
    assert (warned.code, warned.stdout.strip()) == (0, "pong"), warned
    [message] = hook_messages(sandbox.home)
    assert message.startswith("Budget: this month's spend is $")
    assert message.endswith("; ask #ml-platform if you need more.")
    assert len(workspace.messages_requests()) == 3

    # Over the block level: the prompt is refused with one line; nothing is sent.
    budget(monthly=spent / 2, block=True)
    blocked = sandbox.claude(["-p", "say hi"])
    assert "UserPromptSubmit operation blocked by hook" in blocked.stdout, blocked
    assert "Prompt blocked: this month's spend is $" in blocked.stdout
    assert "ask #ml-platform to raise it." in blocked.stdout
    assert len(workspace.messages_requests()) == 3

    # Figures that cannot be read never block.
    prices.write_text("{broken")
    after = sandbox.claude(["-p", "say hi"])
    assert (after.code, after.stdout.strip()) == (0, "pong"), after
    assert len(workspace.messages_requests()) == 4


def test_uninstall_removes_exactly_ours(sandbox: Sandbox, workspace: FakeWorkspace) -> None:
    settings_path(sandbox).parent.mkdir(parents=True, exist_ok=True)
    mine = {"UserPromptSubmit": [{"hooks": [{"type": "command", "command": "my-check"}]}]}
    before = json.dumps({"hooks": mine}, indent=2) + "\n"
    settings_path(sandbox).write_text(before)
    with_budget(sandbox, 100)
    pat_setup(sandbox, workspace)
    settings = json.loads(settings_path(sandbox).read_text())
    commands = [g["hooks"][0]["command"] for g in settings["hooks"]["UserPromptSubmit"]]
    assert commands[0] == "my-check" and shlex.split(commands[1])[1:] == ["budget", "--hook"]
    result = sandbox.run_here(["dbx-fmapi", "uninstall", "--yes"])
    assert result.code == 0, result
    assert settings_path(sandbox).read_text() == before


def wait_for_summary(home: Path) -> Path:
    summary = home / CONFIG / "usage-summary.json"
    marker = summary.parent / (summary.name + ".refreshing")
    for _ in range(300):
        if summary.exists() and not marker.exists():
            break
        time.sleep(0.1)
    return summary


def test_the_background_refresh_never_imports_from_the_project_folder(sandbox: Sandbox) -> None:
    """Claude Code runs the status line in the user's project: a json.py there must not be
    imported instead of the standard library's by the refresh it starts."""
    project = sandbox.root / "project"
    project.mkdir()
    proof = sandbox.root / "imported-from-the-project"
    (project / "json.py").write_text(f"open({str(proof)!r}, 'w').close()\nraise SystemExit(9)\n")
    result = sandbox.run_here(["dbx-fmapi", "statusline"], input="{}", cwd=project)
    assert result.code == 0 and result.stdout.count("\n") == 1, result
    summary = wait_for_summary(sandbox.home)
    assert json.loads(summary.read_text())["today"]["requests"] == 0
    assert not proof.exists()
