"""Our setup record, and the settings file setup manages, the apiKeyHelper, the shell wrapper.
(What overrides the settings where Claude Code starts: the agent's findings, agent_checks.)"""

from __future__ import annotations

import os
import shutil
import stat

from ..agents.claude import effective, settings
from ..core import ui
from ..core.context import Context
from ..core.errors import UserError
from ..core.fileio import q
from ..record import config, setupstate
from ..shell import rcblock
from .report import SETUP, Run, need


def load_config(ctx: Context) -> config.Configuration | None:
    """The configuration doctor checks, the one Claude Code uses in this folder: every other
    check reads it through this one call."""
    return config.load(ctx.paths, ctx.cwd)


def record(r: Run) -> None:
    try:
        cfg = load_config(r.ctx)
        away = config.elsewhere(r.ctx.paths, r.ctx.cwd) if cfg is None else None
    except UserError as exc:
        r.add(ui.FAIL, exc.message, exc.fix)
        return
    if away is not None:  # set up, but for other folders: Claude Code here uses none of it
        r.add(ui.FAIL, away.message, away.fix)
        return
    if cfg is None or not cfg.is_set_up:
        r.add(ui.FAIL, "dbx-fmapi-claude is not set up on this machine", SETUP)
        return
    r.add(
        ui.PASS,
        f"workspace {cfg.host}, profile {cfg.get('profile')}, {cfg.token_mode} token mode",
    )
    r.cfg = cfg


def settings_file(r: Run) -> None:
    cfg = need(r.cfg)
    managed = setupstate.managed_settings(cfg)
    if managed is None:
        r.add(ui.FAIL, "setup recorded no settings file", SETUP)
        return
    project = effective.project_dir(r.ctx.paths, managed, r.ctx.cwd)
    levels = effective.load_levels(r.ctx.paths, project, managed, r.ctx.env)
    level = next(lv for lv in levels if lv.managed)
    if not level.exists:
        r.add(ui.FAIL, f"{managed} is missing", f"{SETUP}  (recreates it)")
        return
    if level.error is not None or level.data is None:
        r.add(
            ui.FAIL,
            f"{managed} is not a valid settings file ({level.error}); Claude Code ignores it",
            f"{SETUP}  (saves it as a timestamped backup, then repairs it)",
        )
        return
    env = level.data.get("env") or {}
    mode = cfg.token_mode
    missing = []
    from ..workspace.routes import for_record

    want_url = for_record(cfg).base_url(str(cfg.host))
    if env.get(settings.ENV_BASE_URL) != want_url:
        missing.append(f"{settings.ENV_BASE_URL}={want_url}")
    for role, model in cfg.models.items():
        key = settings.ROLE_ENV[role]
        if env.get(key) != model:
            missing.append(f"{key}={model}")
    helper = level.data.get(settings.HELPER_KEY)
    if mode == "helper" and not effective.is_our_helper(helper, cfg.api_key_helper):
        missing.append(f"{settings.HELPER_KEY} (dbx-fmapi token)")
    if mode == "static" and not env.get(settings.ENV_TOKEN):
        missing.append(settings.ENV_TOKEN)
    if missing:
        r.add(
            ui.FAIL,
            f"{managed} lacks what setup put there: {', '.join(missing)}",
            f"{SETUP}  (puts them back, keeps your other settings)",
        )
        return
    r.mine = level
    if mode == "static":
        try:
            loose = stat.S_IMODE(os.stat(managed).st_mode) & 0o077
        except OSError:
            loose = 0
        if loose:
            r.add(
                ui.WARN,
                f"{managed} holds a token but others can read it",
                f"chmod 600 {q(managed)}",
            )
            return
    r.add(ui.PASS, f"{managed} ({level.name} level, {mode} token mode)")


def helper(r: Run) -> None:
    """Helper mode: the apiKeyHelper's program exists, is executable, asks for our profile."""
    cfg, mine = need(r.cfg), need(r.mine)
    command = str((mine.data or {}).get(settings.HELPER_KEY) or "")
    words = effective.helper_argv(command)
    program = words[0] if words else ""
    path: str | None
    if "/" in program:
        path = os.path.expanduser(program)
    else:
        path = shutil.which(program, path=r.ctx.env.get("PATH")) if program else None
    if not path or not os.path.lexists(path):
        r.add(
            ui.FAIL,
            f"its program {program or '(none)'} does not exist (moved or uninstalled?)",
            f"{SETUP}  (points the helper at the installed dbx-fmapi)",
        )
        return
    if not os.path.isfile(path) or not os.access(path, os.X_OK):
        r.add(ui.FAIL, f"its program {path} is not executable", f"chmod +x {q(path)}")
        return
    if command != cfg.api_key_helper:
        # Only the exact command setup wrote is run: `dbx-fmapi token` plus anything else (a
        # committed project settings file with `$(…)` in it) is somebody else's command.
        r.add(
            ui.FAIL,
            f"it is not the command setup wrote ({command!r}); doctor does not run it, but "
            "Claude Code will: check who changed it",
            f"{SETUP}  (writes setup's apiKeyHelper back)",
        )
        return
    profile = effective.helper_profile(command)
    if profile is not None and profile != cfg.get("profile"):
        r.add(
            ui.FAIL,
            f"it asks for profile {profile!r}, but setup configured {cfg.get('profile')!r}",
            SETUP,
        )
        return
    r.add(ui.PASS, command)
    r.helper = command


def shell(r: Run) -> None:
    cfg = need(r.cfg)
    rc = setupstate.rc_file(cfg)
    if rc is None or cfg.shell in (None, "none"):
        r.add(ui.PASS, "not installed (--shell none); run dbx-fmapi-claude by path")
        return
    state = rcblock.block_state(rc)
    if state == "half":
        r.add(
            ui.FAIL,
            f"{rc} has only one of the dbx-fmapi-claude markers; the block is broken",
            f'"${{EDITOR:-vi}}" {q(rc)}  # remove the partial block, then run: {SETUP}',
        )
        return
    if state != "present":
        r.add(ui.WARN, f"no dbx-fmapi-claude block in {rc}", f"{SETUP} --shell {cfg.shell}")
        return
    exe = cfg.executable or ""
    if exe and not os.access(exe, os.X_OK):
        r.add(
            ui.FAIL,
            f"the block in {rc} runs {exe}, which is missing or not executable",
            f"{SETUP}  (rewrites the block)",
        )
        return
    r.add(ui.PASS, f"dbx-fmapi-claude defined in {rc}")
