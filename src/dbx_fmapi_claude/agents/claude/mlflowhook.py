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

from . import hooks

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

EVENT = "Stop"
HOOK_TIMEOUT = 60  # seconds: MLflow's import and a few requests to the workspace


def command(helper_path: str, experiment: str, profile: str | None) -> str:
    """The hook command for the installed `dbx-fmapi` (each word quoted as needed)."""
    words = [helper_path, "mlflow-hook", "--experiment", experiment]
    if profile:
        words += ["--profile", profile]
    return " ".join(shlex.quote(w) for w in words)


def without(settings: Mapping[str, Any], commands: Iterable[str | None]) -> dict[str, Any]:
    """`settings` without the Stop hook entries running one of `commands` (a group left empty
    goes, an empty `Stop` and an empty `hooks` go); everything else as it was."""
    return hooks.without(settings, EVENT, commands)


def add(settings: Mapping[str, Any], hook: str, before: Iterable[str | None]) -> dict[str, Any]:
    """`settings` with our Stop hook (once), an earlier command of ours (`before`: the
    executable moved, another experiment) replaced in place or, when gone, appended."""
    return hooks.replaced(settings, EVENT, hooks.entry(hook, HOOK_TIMEOUT), before)


def traced_by(settings: Mapping[str, Any], experiment: str) -> bool:
    """Whether one of the settings' Stop hooks is a `mlflow-hook` of ours tracing into
    `experiment` (whatever path or profile it names: `team managed-settings` writes
    `dbx-fmapi mlflow-hook --experiment PATH [--profile P]`)."""
    for line in hooks.commands(settings, EVENT):
        try:
            words = shlex.split(line)
        except ValueError:
            continue
        if "mlflow-hook" in words[1:2] and _option(words, "--experiment") == experiment:
            return True
    return False


def managed_tracing(environ: Mapping[str, str], experiment: str) -> Path | None:
    """The managed-settings file whose Stop hook already traces into `experiment`, if any:
    Claude Code runs managed hooks beside the user's, so a hook of ours as well traces each
    turn twice."""
    from . import effective

    for level in effective.admin_levels(environ):
        if traced_by(level.data or {}, experiment):
            return level.path
    return None


def _option(words: list[str], name: str) -> str | None:
    for i, word in enumerate(words[:-1]):
        if word == name:
            return words[i + 1]
    return None


def present(settings: Mapping[str, Any], hook: str) -> bool:
    """Whether `hook` is one of the settings' Stop hooks."""
    return hooks.present(settings, EVENT, hook)
