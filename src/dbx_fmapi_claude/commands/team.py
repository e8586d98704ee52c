"""`dbx-fmapi team validate|publish|managed-settings`: the platform team's commands.

- `validate SOURCE`: reads the team file as setup would and checks every key; with a workspace
  it can reach, also that the models it names exist there.
- `publish FILE --to /Workspace/...|/Volumes/...`: validates, uploads, and prints the command
  developers run.
- `managed-settings SOURCE --out DIR [--os linux|macos|windows]`: Claude Code's managed settings
  for a fleet, written into DIR (never into a system folder: the admin's own tool deploys them).
"""

from __future__ import annotations

import os
from pathlib import Path

from ..core.context import Context
from ..core.errors import ExitCode, UserError
from ..core.fileio import atomic_write
from ..team import managed, reading, schema, sources
from ..workspace.client import Workspace, WorkspaceError, diagnose
from ..workspace.hosts import normalize_host

SETUP = "setup-fmapi-claudecode"


def _check_models(ctx: Context, team: schema.TeamFile, ws: Workspace) -> list[str]:
    """Model names the team file gives that the workspace does not have."""
    try:
        names = {e["name"] for e in ws.endpoints()}
    except WorkspaceError as exc:
        message, fix = diagnose(exc, ws.host, "list the workspace's models")
        ctx.err(f"dbx-fmapi: note: {message}; the models were not checked")
        return []
    return [
        f"models.{k} = {v!r}"
        for k, v in team.models.items()
        if v.split("[", 1)[0] not in names and not v.startswith("system.ai.")
    ]


def validate(
    ctx: Context, source: str, host: str | None, profile: str | None, offline: bool
) -> int:
    team, ws = reading.load(ctx, source, host=host, profile=profile)
    target = team.host or (normalize_host(host) if host else None)
    if ws is None and target and not offline and team.models:
        try:
            ws = reading.workspace_for(ctx, target, profile or team.get("profile"))
        except UserError as exc:
            ctx.err(f"dbx-fmapi: note: models not checked: {exc.message}")
    missing = _check_models(ctx, team, ws) if ws is not None and team.models else []
    if missing:
        raise UserError(
            f"team file {source}: the workspace {ws.host if ws else ''} has no model "
            + ", ".join(missing),
            "dbx-fmapi models   (lists the names it has), then correct the team file",
        )
    keys = ", ".join(k for k in team.data) or "no keys beyond version"
    ctx.out(f"team file {source} is valid (version {schema.VERSION}): {keys}")
    if team.locked:
        ctx.out(f"locked: {', '.join(team.locked)}")
    return ExitCode.OK


def publish(
    ctx: Context, file: str, to: str, host: str | None, profile: str | None, dry_run: bool
) -> int:
    if not sources.needs_workspace(to):
        raise UserError(
            f"--to {to}: a team file is published to /Workspace/... or /Volumes/...",
            "e.g. --to /Workspace/Shared/dbx-fmapi/team.json",
            ExitCode.USAGE,
        )
    data = sources.read(file, env=ctx.env, cwd=ctx.cwd, ws=None).data
    team = schema.parse(data, file)
    target = normalize_host(host) if host else team.host
    ws = reading.workspace_for(ctx, target, profile)
    missing = _check_models(ctx, team, ws) if team.models else []
    if missing:
        raise UserError(
            f"team file {file}: the workspace {ws.host} has no model " + ", ".join(missing),
            "dbx-fmapi models   (lists the names it has), then correct the team file",
        )
    if dry_run:
        ctx.out(f"would publish {file} to {to} in {ws.host} ({len(data)} bytes); nothing written")
        return ExitCode.OK
    sources.publish(to, data, ws=ws)
    ctx.out(f"published {file} to {to} in {ws.host}")
    ctx.out("Developers set up from it with:")
    named = f" --profile {team.get('profile')}" if team.get("profile") else ""
    ctx.out(f"  {SETUP} --host {ws.host}{named} --team {to}")
    return ExitCode.OK


_SYSTEM = tuple(managed.FOLDERS.values())


def managed_settings(
    ctx: Context,
    source: str,
    out: str,
    os_name: str,
    route: str | None,
    helper: str,
    host: str | None,
    profile: str | None,
    dry_run: bool,
) -> int:
    folder = Path(os.path.expanduser(out))
    if not folder.is_absolute():
        folder = ctx.cwd / folder
    if str(folder.resolve()).rstrip("/") in _SYSTEM:
        raise UserError(
            f"--out {out} is the system folder Claude Code reads: this command never writes there",
            "render into a folder of your own (--out ./managed) and deploy with your MDM or "
            "configuration tool",
            ExitCode.USAGE,
        )
    team, _ = reading.load(ctx, source, host=host, profile=profile)
    files = managed.render(team, os_name, route=route, helper=helper)
    if dry_run:
        for name, data in files.items():
            ctx.out(f"--- {folder / name} (not written)")
            if name.endswith(".reg"):
                ctx.out(data.decode("utf-16"))
            else:
                ctx.out(data.decode())
        return ExitCode.OK
    if folder.exists() and not folder.is_dir():
        raise UserError(f"--out {out} is not a folder", "give a folder to write into", 2)
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        atomic_write(folder / name, data)
        ctx.out(f"wrote {folder / name}")
    where = managed.FOLDERS[os_name]
    ctx.out(f"Deploy {managed.JSONFILE} to {where}{'/' if os_name != 'windows' else chr(92)}")
    if os_name == "macos":
        ctx.out(f"  or push {managed.MOBILECONFIG} with your MDM")
    if os_name == "windows":
        ctx.out(f"  or import {managed.REGFILE} (HKLM policy) with your configuration tool")
    ctx.out(
        f"Each developer then needs the package and one login: databricks auth login --host "
        f"{team.get('host')} --profile {team.get('profile')}"
    )
    experiment = team.get("mlflow_experiment")
    if experiment and experiment != "none":
        from ..tracing import mlflowenv

        venv = f"~/.local/share/dbx-fmapi-claude/mlflow-{mlflowenv.VERSION}"
        ctx.out(
            f"and, for the MLflow hook, MLflow {mlflowenv.VERSION} in their HOME (without it the "
            f"hook traces nothing and says so in its log): python3 -m venv {venv} && "
            f"{venv}/bin/pip install {mlflowenv.PACKAGE}"
        )
    return ExitCode.OK


def run(
    *,
    ctx: Context,
    action: str,
    source: str | None = None,
    file: str | None = None,
    to: str | None = None,
    out: str | None = None,
    os: str = "linux",
    route: str | None = None,
    helper: str = managed.DEFAULT_HELPER,
    host: str | None = None,
    profile: str | None = None,
    offline: bool = False,
    dry_run: bool = False,
) -> int:
    if action == "validate":
        return validate(ctx, str(source), host, profile, offline)
    if action == "publish":
        return publish(ctx, str(file), str(to), host, profile, dry_run)
    return managed_settings(ctx, str(source), str(out), os, route, helper, host, profile, dry_run)
