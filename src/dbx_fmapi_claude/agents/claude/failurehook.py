"""The StopFailure hook that makes plain `claude` ask its apiKeyHelper again after the AI
Gateway's `400 Invalid Token` (a token revoked or rotated in the middle of a session).

Measured with Claude Code 2.1.332 (docs/rejected-tokens.md): a 400 is final, with no helper run,
and the token claude holds stays in use until the helper's TTL; but a change to a settings file
it loaded clears its helper cache, so the next request runs the helper first (which checks the
token it handed out before and replaces a rejected one). The hook, run when a turn ends on an
API error, touches the settings file it is in when the error says `Invalid Token`: the file's
bytes stay as they are. A shell line (grep, touch): no Python start on any failure.
"""

from __future__ import annotations

from collections.abc import Mapping

from . import hooks

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

EVENT = "StopFailure"
RECORD_KEY = "failure_hook"
TIMEOUT = 10  # seconds


def command(settings_file: str) -> str:
    import shlex

    return f"grep -qi 'invalid token' && touch -c {shlex.quote(settings_file)}; exit 0"


def add(
    settings: Mapping[str, Any], hook: str | None, before: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """`settings` with our hook (None: none, and an earlier one of ours goes), and what to
    record ({RECORD_KEY: hook} when ours is in the file)."""
    earlier = before.get(RECORD_KEY)
    new = dict(settings)
    if isinstance(earlier, str) and earlier != hook:
        new = hooks.without(new, EVENT, {earlier})
    if hook is None:
        return new, {}
    return hooks.added(new, EVENT, hooks.entry(hook, TIMEOUT)), {RECORD_KEY: hook}


def remove(settings: Mapping[str, Any], cfg: Mapping[str, Any]) -> dict[str, Any]:
    """Uninstall, static mode: our hook out, nothing else."""
    return hooks.without(settings, EVENT, [cfg.get(RECORD_KEY)])
