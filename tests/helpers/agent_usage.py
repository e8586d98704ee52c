"""`dbx-fmapi usage --json` over what the real Codex, Gemini CLI and OpenCode recorded of their
runs in a sandbox (their own session files), and the model requests the workspace answered."""

from __future__ import annotations

import json
from typing import Any

from tests.helpers.json_shapes import USAGE_SHAPE, assert_shape
from tests.rig.agents import Agents
from tests.rig.workspace import FakeWorkspace


def usage_rows(agents: Agents) -> dict[str, dict[str, Any]]:
    """The rows `dbx-fmapi usage --json` counts, by agent."""
    env = {k: str(v) for k, v in agents.xdg.items()}
    env["CODEX_HOME"] = str(agents.codex_home)
    result = agents.sandbox.run(["dbx-fmapi", "usage", "--json"], env=env)
    assert result.code == 0, result
    data = json.loads(result.stdout)
    assert_shape(data, USAGE_SHAPE)
    return {r["agent"]: r for r in data["rows"]}


def answered(workspace: FakeWorkspace, suffix: str) -> list[Any]:
    """The model requests (POST, answered 200) whose path holds `suffix`."""
    return [r for r in workspace.log if r.method == "POST" and r.status == 200 and suffix in r.path]


def one_run_counted(agents: Agents, name: str, model: str) -> dict[str, Any]:
    """`dbx-fmapi usage` counts the one run of agent `name` (and nothing of another agent):
    one request to `model`, some output tokens; returns its row for the input tokens."""
    rows = usage_rows(agents)
    assert set(rows) == {name}, ("usage: one row, the agent's", rows)
    row = rows[name]
    assert (row["model"], row["requests"]) == (model, 1), ("usage: the run's model", row)
    assert row["output_tokens"] > 0, ("usage: the answer's tokens", row)
    return row
