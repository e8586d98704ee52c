"""`--mlflow-experiment PATH|none`: MLflow's Claude Code tracing into an experiment in the
workspace (tracing/): the answer, the pinned MLflow (installed on demand, with the same consent
rules as the agents: a prompt on a terminal, or --install); Claude Code's setup writes the Stop
hook into its settings (agents/claude/setupplan.py)."""

from __future__ import annotations

from collections.abc import Mapping

from ..core.errors import UserError
from ..tracing import mlflowenv
from .answers import PROG
from .context import SetupContext
from .results import Flags


def check_mlflow(sc: SetupContext, flags: Flags) -> str | None:
    """The experiment to trace into (None: no tracing): the flag's (a bad path: exit 2
    before anything happens), else the previous run's."""
    value = sc.opts.mlflow_experiment
    if value is not None:
        checked = mlflowenv.check_experiment(str(value), PROG)
        return None if checked == mlflowenv.OFF else checked
    prev = flags.defaults().get("mlflow_experiment")
    return prev if isinstance(prev, str) and prev else None


def mlflow_dependency(sc: SetupContext, experiment: str | None, env: Mapping[str, str]) -> None:
    """The pinned MLflow, when tracing is asked for: found, or installed with the user's
    yes; without it setup stops before writing anything (a hook that cannot trace would
    only cost every turn its time)."""
    if experiment is None:
        return
    home = sc.paths.home_path
    found = mlflowenv.installed(dict(env), home)
    command = mlflowenv.install_command(dict(env), home)
    if found is not None:
        sc.out(f"  ok    MLflow {mlflowenv.VERSION}: {found}")
        return
    if not sc.may_install(f"MLflow {mlflowenv.VERSION} (for tracing)", command):
        if sc.dry_run and sc.opts.install:
            sc.out(f"  would install MLflow {mlflowenv.VERSION}: {command}")
            return
        raise UserError(
            f"MLflow {mlflowenv.VERSION} is not installed, and --mlflow-experiment needs it; "
            "nothing was written",
            f"let setup install it: {PROG} --install --mlflow-experiment "
            f"{experiment}   (or by hand: {command})",
        )
    if sc.dry_run:
        sc.out(f"  would install MLflow {mlflowenv.VERSION}: {command}")
        return
    sc.info(f"Installing MLflow {mlflowenv.VERSION} (for tracing; a minute or two)")
    found = mlflowenv.install(dict(env), home, sc.info)
    sc.out(f"  ok    MLflow {mlflowenv.VERSION}: installed ({found})")
