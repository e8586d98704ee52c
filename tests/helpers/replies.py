"""The fake model's scripted answers: a long session of `sleep` tool calls, a first turn
during which the workspace revokes every token."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.rig.workspace import FakeWorkspace


def revoke_during_first_turn(
    workspace: FakeWorkspace, call: dict[str, Any]
) -> Callable[[dict[str, Any]], str | dict[str, Any]]:
    """The fake model's answer: the first turn asks for a tool call, and meanwhile the workspace
    revokes every access token (a rotation); the next turn answers "all done"."""
    turns: list[int] = []

    def reply(body: dict[str, Any]) -> str | dict[str, Any]:
        turns.append(1)
        if len(turns) == 1:
            workspace.revoke_access_tokens()
            return {"tool_use": call}
        return "all done"

    return reply


def sleep_turns(turns: int, seconds: int) -> Callable[[dict[str, Any]], str | dict[str, Any]]:
    """The fake model's answer for a long session: a `sleep` tool call per turn, `turns` times,
    then "all done"."""

    def reply(body: dict[str, Any]) -> str | dict[str, Any]:
        done = sum(
            1
            for m in body.get("messages", [])
            if m.get("role") == "user"
            and isinstance(m.get("content"), list)
            and any(isinstance(c, dict) and c.get("type") == "tool_result" for c in m["content"])
        )
        if done < turns:
            call = {"command": f"sleep {seconds}", "description": "wait"}
            return {"tool_use": {"name": "Bash", "input": call}}
        return "all done"

    return reply
