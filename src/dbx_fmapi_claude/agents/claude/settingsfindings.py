"""Doctor's verdicts on the settings file setup manages and on its apiKeyHelper (`Claude.aspects`,
`Claude.examine`): the file is there, valid and holds what setup put there (static mode: readable
by the user alone); the helper's program exists, runs, is exactly the command setup wrote and asks
for the configuration's profile; run as Claude Code runs it, it prints a token (static mode: the
token in the file still lives). What overrides the file where Claude Code starts is findings.py's.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

from ...auth import dbcli, tokens
from ...core import ui
from ...core.fileio import q
from ...core.paths import Paths
from ...record import setupstate
from ...record.view import Configuration
from ..aspects import Verdict
from ..base import Finding
from . import effective, settings

SETUP = "setup-fmapi-claudecode"
HELPER_TIMEOUT = 90.0


def _fail(detail: str, fix: str) -> Verdict:
    return Verdict((Finding(detail, fix),))


def settings_file(cfg: Configuration, paths: Paths, env: Mapping[str, str], cwd: Path) -> Verdict:
    """The managed settings level (its `value`) when valid and holding what setup put there."""
    managed = setupstate.managed_settings(cfg)
    if managed is None:
        return _fail("setup recorded no settings file", SETUP)
    project = effective.project_dir(paths, managed, cwd)
    levels = effective.load_levels(paths, project, managed, env)
    level = next(lv for lv in levels if lv.managed)
    if not level.exists:
        return _fail(f"{managed} is missing", f"{SETUP}  (recreates it)")
    if level.error is not None or level.data is None:
        return _fail(
            f"{managed} is not a valid settings file ({level.error}); Claude Code ignores it",
            f"{SETUP}  (saves it as a timestamped backup, then repairs it)",
        )
    data_env = level.data.get("env") or {}
    mode = cfg.token_mode
    missing = []
    from ...workspace.routes import for_record

    want_url = for_record(cfg).base_url(str(cfg.host))
    if data_env.get(settings.ENV_BASE_URL) != want_url:
        missing.append(f"{settings.ENV_BASE_URL}={want_url}")
    for role, model in cfg.models.items():
        key = settings.ROLE_ENV[role]
        if data_env.get(key) != model:
            missing.append(f"{key}={model}")
    helper = level.data.get(settings.HELPER_KEY)
    if mode == "helper" and not effective.is_our_helper(helper, cfg.api_key_helper):
        missing.append(f"{settings.HELPER_KEY} (dbx-fmapi token)")
    if mode == "static" and not data_env.get(settings.ENV_TOKEN):
        missing.append(settings.ENV_TOKEN)
    if missing:
        return _fail(
            f"{managed} lacks what setup put there: {', '.join(missing)}",
            f"{SETUP}  (puts them back, keeps your other settings)",
        )
    if mode == "static":
        try:
            loose = stat.S_IMODE(os.stat(managed).st_mode) & 0o077
        except OSError:
            loose = 0
        if loose:
            warn = Finding(
                f"{managed} holds a token but others can read it",
                f"chmod 600 {q(managed)}",
                warn=True,
            )
            return Verdict((warn,), value=level)
    return Verdict(passed=f"{managed} ({level.name} level, {mode} token mode)", value=level)


def helper(cfg: Configuration, mine: effective.Level, env: Mapping[str, str]) -> Verdict:
    """Helper mode: the apiKeyHelper's program exists, is executable, asks for our profile (the
    command is the `value`)."""
    command = str((mine.data or {}).get(settings.HELPER_KEY) or "")
    words = effective.helper_argv(command)
    program = words[0] if words else ""
    path: str | None
    if "/" in program:
        path = os.path.expanduser(program)
    else:
        path = shutil.which(program, path=env.get("PATH")) if program else None
    if not path or not os.path.lexists(path):
        return _fail(
            f"its program {program or '(none)'} does not exist (moved or uninstalled?)",
            f"{SETUP}  (points the helper at the installed dbx-fmapi)",
        )
    if not os.path.isfile(path) or not os.access(path, os.X_OK):
        return _fail(f"its program {path} is not executable", f"chmod +x {q(path)}")
    if command != cfg.api_key_helper:
        # Only the exact command setup wrote is run: `dbx-fmapi token` plus anything else (a
        # committed project settings file with `$(…)` in it) is somebody else's command.
        return _fail(
            f"it is not the command setup wrote ({command!r}); doctor does not run it, but "
            "Claude Code will: check who changed it",
            f"{SETUP}  (writes setup's apiKeyHelper back)",
        )
    profile = effective.helper_profile(command)
    if profile is not None and profile != cfg.get("profile"):
        return _fail(
            f"it asks for profile {profile!r}, but setup configured {cfg.get('profile')!r}",
            SETUP,
        )
    return Verdict(passed=command, value=command)


def helper_run(command: str, mine: effective.Level, env: Mapping[str, str], cwd: Path) -> Verdict:
    """Run the apiKeyHelper as Claude Code would, in the project folder, with the settings env;
    it must print one line and nothing else. The helper check passed it only when it is exactly
    the command setup wrote; it runs as argv, never through a shell."""
    run_env = dict(env)
    for key, value in ((mine.data or {}).get("env") or {}).items():
        if isinstance(value, str):
            run_env[key] = value
    where = mine.path.parent.parent if mine.name != "user" else cwd
    if not where.is_dir():
        where = cwd
    try:
        proc = subprocess.run(
            effective.helper_argv(command),
            env=run_env,
            cwd=where,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=HELPER_TIMEOUT,
            check=False,
        )
    except OSError as exc:
        return _fail(f"it cannot be started: {exc.strerror}", f"run it yourself: {command}")
    except subprocess.TimeoutExpired:
        return _fail(
            f"it did not finish within {HELPER_TIMEOUT:g}s",
            f"run it yourself to see why: {command}",
        )
    out = proc.stdout.strip()
    if proc.returncode != 0:
        last = (proc.stderr or "").strip().splitlines()
        why = dbcli.scrub(last[-1]) if last else "no message"
        return _fail(
            f"it exited with status {proc.returncode}: {why}",
            f"run it yourself to see why: {command}",
        )
    if not out or any(c.isspace() for c in out):
        return _fail(
            "it printed something Claude Code cannot use as a key (empty or more than one word)",
            f"run it yourself to see why: {command}",
        )
    return Verdict(passed="prints a token, as Claude Code expects")


def stored_token(cfg: Configuration, mine: effective.Level, paths: Paths) -> Verdict:
    """Static mode: how long the token in the settings file still lives (nothing to say when
    the file holds no token: the settings check said so)."""
    raw = settings.stored_token(mine.data or {})
    if raw is None:
        return Verdict()
    expiry = tokens.stored_expiry(paths, str(cfg["profile"]), raw)
    if expiry is None:
        return Verdict(passed="present (lifetime unknown)")
    left = expiry - time.time()
    if left <= 0:
        expired = Finding(
            f"expired {ui.duration(-left)} ago: plain `claude` fails until dbx-fmapi-claude "
            "refreshes it",
            "dbx-fmapi-claude --version   (refreshes the token, then exits)",
            warn=True,
        )
        return Verdict((expired,))
    return Verdict(passed=f"valid for {ui.duration(left)}")
