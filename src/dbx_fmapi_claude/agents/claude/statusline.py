"""Our status line and budget hook in Claude Code's settings, as pure transforms.

`statusLine` is one command per settings file: ours goes in only when there is none; a user's
own is never replaced (setup says how to show ours beside it: docs/usage.md). The budget hook is
one entry of `hooks.UserPromptSubmit`, added beside whatever hooks are there, when the prices
file in the configuration folder sets a budget (without one it would do nothing on every
prompt). Uninstall removes exactly the entries whose command is the one setup recorded.
"""

from __future__ import annotations

from collections.abc import Mapping

from . import hooks

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

STATUS_KEY = "statusLine"
EVENT = "UserPromptSubmit"
HOOK_TIMEOUT = 30  # seconds: a month of records is read at most once a minute


def commands(helper_path: str) -> tuple[str, str]:
    """(status line command, hook command) for the installed `dbx-fmapi` (quoted as needed)."""
    import shlex

    exe = shlex.quote(helper_path)
    return f"{exe} statusline", f"{exe} budget --hook"


def _their_status(settings: Mapping[str, Any], ours: set[str]) -> bool:
    current = settings.get(STATUS_KEY)
    if current is None:
        return False
    return not (isinstance(current, dict) and current.get("command") in ours)


def add(
    settings: Mapping[str, Any], *, line: str, hook: str | None, before: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """`settings` with our status line (when the user has none) and our hook (None: none, and
    an earlier one of ours goes); returns the new settings and what to record
    ({"statusline_command", "prompt_hook"}, each only when ours is in the file). `before`: the
    configuration's previous record (its commands are ours too, e.g. from before the
    executable moved)."""
    new = dict(settings)
    ours_line = {c for c in (before.get("statusline_command"), line) if isinstance(c, str)}
    ours_hook: set[str | None] = {
        c for c in (before.get("prompt_hook"), hook) if isinstance(c, str)
    }
    recorded: dict[str, str] = {}
    if not _their_status(new, ours_line):
        current = new.get(STATUS_KEY)
        entry = dict(current) if isinstance(current, dict) else {"type": "command", "padding": 0}
        entry["command"] = line
        new[STATUS_KEY] = entry
        recorded["statusline_command"] = line
    new = hooks.without(new, EVENT, ours_hook - {hook})
    if hook is None:
        return new, recorded
    recorded["prompt_hook"] = hook
    return hooks.added(new, EVENT, hooks.entry(hook, HOOK_TIMEOUT)), recorded


def remove(settings: Mapping[str, Any], cfg: Mapping[str, Any]) -> dict[str, Any]:
    """Uninstall (and `--statusline off`): our status line and hook out, nothing else."""
    new = dict(settings)
    line = cfg.get("statusline_command")
    if isinstance(line, str) and hooks.is_ours(new.get(STATUS_KEY), [line]):
        new.pop(STATUS_KEY)
    return hooks.without(new, EVENT, [cfg.get("prompt_hook")])


def theirs(settings: Mapping[str, Any], cfg: Mapping[str, Any]) -> str | None:
    """The user's own status line command, when there is one that is not ours."""
    ours = {c for c in (cfg.get("statusline_command"),) if isinstance(c, str)}
    current = settings.get(STATUS_KEY)
    if current is None or not _their_status(settings, ours):
        return None
    command = current.get("command") if isinstance(current, dict) else None
    return command if isinstance(command, str) else "(not a command)"
