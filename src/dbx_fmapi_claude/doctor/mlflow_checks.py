"""`--mlflow-experiment`: the pinned MLflow installed, our Stop hook in the settings file, and
the experiment in the workspace (MLflow's REST API, `experiments/get-by-name`, with the current
token); each with what to do otherwise."""

from __future__ import annotations

import shlex
from pathlib import Path
from urllib.parse import quote

from ..agents.claude import mlflowhook
from ..core import ui
from ..core.fileio import read_bytes
from ..tracing import mlflowenv
from .report import LOGIN, SETUP, Run, need


def configured(r: Run) -> bool:
    return r.cfg is not None and bool(r.cfg.get("mlflow_experiment"))


def _again(experiment: str) -> str:
    return f"{SETUP} --install --mlflow-experiment {shlex.quote(experiment)}"


def tracing(r: Run) -> None:
    cfg = need(r.cfg)
    experiment = str(cfg["mlflow_experiment"])
    exe = mlflowenv.installed(r.ctx.env, r.ctx.paths.home_path)
    if exe is None:
        r.add(
            ui.FAIL,
            f"MLflow {mlflowenv.VERSION} is not installed "
            f"({mlflowenv.venv_dir(r.ctx.env, r.ctx.paths.home_path)}): no session is traced",
            f"install it: {_again(experiment)}",
        )
        return
    hook = cfg.get("mlflow_hook")
    path = str(cfg.get("settings_file") or "")
    from ..agents.claude import settings

    try:
        raw = read_bytes(Path(path)) if path else None
        data = settings.parse(raw, path) if raw is not None else {}
    except settings.SettingsCorrupt:
        data = {}
    if not isinstance(hook, str) or not mlflowhook.present(data, hook):
        r.add(
            ui.FAIL,
            f"our Stop hook is not in {path or 'the settings file'} any more: no session is traced",
            f"put it back: {_again(experiment)}",
        )
        return
    managed = mlflowhook.managed_tracing(r.ctx.env, experiment)
    if managed is not None:
        r.add(
            ui.WARN,
            f"the managed settings ({managed}) trace into {experiment} too: every turn is "
            "traced twice",
            f"take ours out: {SETUP}",
        )
        return
    r.add(ui.PASS, f"MLflow {mlflowenv.VERSION}, Stop hook in {path}: traces go to {experiment}")


def experiment(r: Run) -> None:
    from ..workspace.client import WorkspaceError, diagnose, error_label

    cfg, ws = need(r.cfg), need(r.ws)
    name = str(cfg["mlflow_experiment"])
    base = (r.ctx.env.get("DBX_FMAPI_MLFLOW_TRACKING_URI") or ws.host).rstrip("/")
    url = f"{base}/api/2.0/mlflow/experiments/get-by-name?experiment_name={quote(name, safe='')}"
    profile = f" --profile {shlex.quote(str(cfg['profile']))}" if cfg.get("profile") else ""
    create = f"databricks experiments create-experiment {shlex.quote(name)}{profile}"
    try:
        with r.progress.step("asking the workspace for the MLflow experiment"):
            _, body = ws.request("GET", url)
    except WorkspaceError as exc:
        label = error_label(exc)
        if exc.status == 404:
            r.add(
                ui.WARN,
                f"{name} does not exist yet ({label}): MLflow creates it at the first traced "
                "turn only if you may create experiments in that folder",
                f"create it now: {create}",
            )
        elif exc.status == 403:
            r.add(
                ui.FAIL,
                f"the workspace refused to show {name} ({label}: {exc.message}): traces need "
                "CAN_EDIT on the experiment",
                "ask its owner (or a workspace admin) for CAN_EDIT on it, then: dbx-fmapi doctor",
            )
        else:
            detail, fix = diagnose(exc, ws.host, "read the MLflow experiment", login=LOGIN)
            r.add(ui.FAIL, detail, fix)
        return
    found = (body or {}).get("experiment") or {}
    state = str(found.get("lifecycle_stage") or "active")
    if state != "active":
        r.add(
            ui.FAIL,
            f"{name} is {state}: traces cannot go to a deleted experiment",
            f"restore it in the workspace, or create another and: {_again(name + '-2')}",
        )
        return
    r.add(ui.PASS, f"{name} exists (experiment id {found.get('experiment_id', '?')})")
