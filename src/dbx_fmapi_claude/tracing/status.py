"""What `dbx-fmapi status` says of `--mlflow-experiment` (read-only, no program run)."""

from __future__ import annotations

from collections.abc import Mapping

from . import mlflowenv

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def row(env: Mapping[str, str], home: str, cfg: Mapping[str, Any]) -> dict[str, Any] | None:
    """{"experiment", "version", "installed"}, or None when this configuration traces nothing."""
    experiment = cfg.get("mlflow_experiment")
    if not isinstance(experiment, str) or not experiment:
        return None
    return {
        "experiment": experiment,
        "version": mlflowenv.VERSION,
        "installed": mlflowenv.installed(env, home) is not None,
    }


def line(data: Mapping[str, Any]) -> str:
    text = f"traces to {data['experiment']} (MLflow {data['version']}, at the end of each turn)"
    if not data["installed"]:
        text += "; MLflow is not installed: dbx-fmapi doctor"
    return text
