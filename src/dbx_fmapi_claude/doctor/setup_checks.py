"""Our setup record, and the shell block that defines the wrapper. (Claude Code's settings file,
what overrides it where it starts, and its apiKeyHelper: the agent's aspects, agent_checks.)"""

from __future__ import annotations

import os

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
