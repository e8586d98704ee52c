"""Our hooks in Claude Code's settings, one rule for every hook setup writes (the budget hook,
agents/claude/statusline.py; the StopFailure hook, failurehook.py; MLflow's Stop hook,
mlflowhook.py), as pure transforms on the parsed settings.

Claude Code's hooks: `{"hooks": {EVENT: [{"matcher"?: ..., "hooks": [{"type": "command",
"command": ..., "timeout": ...}]}]}}`. Ours is recognised by its command alone (the one setup
recorded, or the one it writes now); it goes in as a group of its own after the user's, and
goes out exactly: an entry of ours leaves its group, a group that held only ours goes, and so do
an event and a `hooks` left empty. The user's hooks and their order are kept as they were.
Standard library only (the status line's imports stay light).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

HOOKS_KEY = "hooks"


def commands_of(found: Iterable[object]) -> set[str]:
    """The commands among `found` (records may hold None, or nothing)."""
    return {c for c in found if isinstance(c, str) and c}


def is_ours(entry: Any, commands: Iterable[object]) -> bool:
    """Whether a hook entry runs one of `commands`."""
    found = entry.get("command") if isinstance(entry, dict) else None
    return isinstance(found, str) and found in commands_of(commands)


def commands(settings: Mapping[str, Any], event: str) -> list[str]:
    """The commands of the settings' hooks for `event`, in order."""
    hooks = settings.get(HOOKS_KEY)
    groups = hooks.get(event) if isinstance(hooks, dict) else None
    found = []
    for group in groups if isinstance(groups, list) else []:
        entries = group.get("hooks") if isinstance(group, dict) else None
        for entry in entries if isinstance(entries, list) else []:
            command = entry.get("command") if isinstance(entry, dict) else None
            if isinstance(command, str):
                found.append(command)
    return found


def present(settings: Mapping[str, Any], event: str, command: str) -> bool:
    """Whether `command` is one of the settings' hooks for `event`."""
    return command in commands(settings, event)


def without(settings: Mapping[str, Any], event: str, commands: Iterable[object]) -> dict[str, Any]:
    """`settings` without the hooks of `event` whose command is one of `commands` (a group left
    empty goes, an empty event and an empty `hooks` go); everything else as it was."""
    ours = commands_of(commands)
    new = dict(settings)
    hooks = new.get(HOOKS_KEY)
    if not ours or not isinstance(hooks, dict) or not isinstance(hooks.get(event), list):
        return new
    groups = []
    for group in hooks[event]:
        if isinstance(group, dict) and isinstance(group.get("hooks"), list):
            kept = [h for h in group["hooks"] if not is_ours(h, ours)]
            if not kept and group["hooks"]:
                continue  # a group that held only ours
            group = {**group, "hooks": kept}
        groups.append(group)
    new_hooks = dict(hooks)
    if groups:
        new_hooks[event] = groups
    else:
        new_hooks.pop(event)
    if new_hooks:
        new[HOOKS_KEY] = new_hooks
    else:
        new.pop(HOOKS_KEY)
    return new


def entry(command: str, timeout: int) -> dict[str, Any]:
    """Our hook entry: a command and how long Claude Code waits for it."""
    return {"type": "command", "command": command, "timeout": timeout}


def added(settings: Mapping[str, Any], event: str, hook: dict[str, Any]) -> dict[str, Any]:
    """`settings` with `hook` as a group of its own after the user's, unless an entry with its
    command is there already (then as it was)."""
    new = dict(settings)
    if not present(new, event, hook["command"]):
        hooks = dict(new.get(HOOKS_KEY) or {})
        hooks[event] = [*(hooks.get(event) or []), {"hooks": [hook]}]
        new[HOOKS_KEY] = hooks
    return new


def replaced(
    settings: Mapping[str, Any], event: str, hook: dict[str, Any], before: Iterable[object]
) -> dict[str, Any]:
    """`settings` with `hook` once: an entry running its command or an earlier one of ours
    (`before`: the executable moved, another argument) updated where it stands, a second copy
    dropped, or, when none is there, `hook` added as a group of its own after the user's."""
    command = hook["command"]
    old = commands_of(before) - {command}
    new = dict(settings)
    hooks = dict(new.get(HOOKS_KEY) or {}) if isinstance(new.get(HOOKS_KEY), dict) else {}
    groups = list(hooks.get(event) or []) if isinstance(hooks.get(event), list) else []
    found = False
    out = []
    for group in groups:
        if isinstance(group, dict) and isinstance(group.get("hooks"), list):
            kept = []
            for h in group["hooks"]:
                if is_ours(h, {command}) or is_ours(h, old):
                    if found:
                        continue  # a second copy of ours
                    found = True
                    h = {**h, **hook}
                kept.append(h)
            if not kept and group["hooks"]:
                continue
            group = {**group, "hooks": kept}
        out.append(group)
    if not found:
        out.append({"hooks": [hook]})
    hooks[event] = out
    new[HOOKS_KEY] = hooks
    return new
