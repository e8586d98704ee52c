"""MLflow's Stop hook in Claude Code's settings, as pure transforms.

One entry of `hooks.Stop`, beside whatever hooks are there: our `dbx-fmapi mlflow-hook`, which
gets a fresh token for the profile and runs MLflow's own `mlflow autolog claude stop-hook` with
it (commands/mlflow_hook.py). MLflow's own setup (`mlflow autolog claude`) also writes
MLFLOW_CLAUDE_TRACING_ENABLED, MLFLOW_TRACKING_URI and MLFLOW_EXPERIMENT_NAME into the settings'
`env`; we hand them to the hook only, so that the user's own MLflow scripts run inside Claude
Code do not start logging to the workspace. Uninstall (and `--mlflow-experiment none`) removes
exactly the entries whose command is one setup recorded.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Mapping
from typing import Any

HOOKS_KEY = "hooks"
EVENT = "Stop"
HOOK_TIMEOUT = 60  # seconds: MLflow's import and a few requests to the workspace


def command(helper_path: str, experiment: str, profile: str | None) -> str:
    """The hook command for the installed `dbx-fmapi` (each word quoted as needed)."""
    words = [helper_path, "mlflow-hook", "--experiment", experiment]
    if profile:
        words += ["--profile", profile]
    return " ".join(shlex.quote(w) for w in words)


def _is(entry: Any, commands: set[str]) -> bool:
    return isinstance(entry, dict) and entry.get("command") in commands


def without(settings: Mapping[str, Any], commands: Iterable[str | None]) -> dict[str, Any]:
    """`settings` without the Stop hook entries running one of `commands` (a group left empty
    goes, an empty `Stop` and an empty `hooks` go); everything else as it was."""
    ours = {c for c in commands if isinstance(c, str) and c}
    new = dict(settings)
    hooks = new.get(HOOKS_KEY)
    if not ours or not isinstance(hooks, dict) or not isinstance(hooks.get(EVENT), list):
        return new
    groups = []
    for group in hooks[EVENT]:
        if isinstance(group, dict) and isinstance(group.get("hooks"), list):
            kept = [h for h in group["hooks"] if not _is(h, ours)]
            if not kept and group["hooks"]:
                continue  # a group that held only ours
            group = {**group, "hooks": kept}
        groups.append(group)
    new_hooks = dict(hooks)
    if groups:
        new_hooks[EVENT] = groups
    else:
        new_hooks.pop(EVENT)
    if new_hooks:
        new[HOOKS_KEY] = new_hooks
    else:
        new.pop(HOOKS_KEY)
    return new


def add(settings: Mapping[str, Any], hook: str, before: Iterable[str | None]) -> dict[str, Any]:
    """`settings` with our Stop hook (once), an earlier command of ours (`before`: the
    executable moved, another experiment) replaced in place or, when gone, appended."""
    old = {c for c in before if isinstance(c, str) and c and c != hook}
    new = dict(settings)
    hooks = dict(new.get(HOOKS_KEY) or {}) if isinstance(new.get(HOOKS_KEY), dict) else {}
    groups = list(hooks.get(EVENT) or []) if isinstance(hooks.get(EVENT), list) else []
    entry = {"type": "command", "command": hook, "timeout": HOOK_TIMEOUT}
    present = False
    out = []
    for group in groups:
        if isinstance(group, dict) and isinstance(group.get("hooks"), list):
            kept = []
            for h in group["hooks"]:
                if _is(h, {hook}) or _is(h, old):
                    if present:
                        continue  # a second copy of ours
                    present = True
                    h = {**h, **entry}
                kept.append(h)
            if not kept and group["hooks"]:
                continue
            group = {**group, "hooks": kept}
        out.append(group)
    if not present:
        out.append({"hooks": [entry]})
    hooks[EVENT] = out
    new[HOOKS_KEY] = hooks
    return new


def present(settings: Mapping[str, Any], hook: str) -> bool:
    """Whether `hook` is one of the settings' Stop hooks."""
    hooks = settings.get(HOOKS_KEY)
    groups = hooks.get(EVENT) if isinstance(hooks, dict) else None
    return isinstance(groups, list) and any(
        isinstance(g, dict) and any(_is(h, {hook}) for h in g.get("hooks") or []) for g in groups
    )
