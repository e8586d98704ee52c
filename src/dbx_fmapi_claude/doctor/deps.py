"""Dependencies: the Databricks CLI is installed, runs, and is recent enough; how a program's
`--version` is asked (every agent's program check: agent_checks.binary)."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping

from ..auth import databrickscfg, dbcli
from ..core import ui
from ..core.context import Context
from .report import Run

VERSION_TIMEOUT = 20.0


def _version_of(exe: str, env: Mapping[str, str]) -> tuple[str | None, str | None]:
    """(first line of `exe --version`, None) or (None, why it failed)."""
    run_env = dict(env)
    run_env.setdefault("DISABLE_AUTOUPDATER", "1")
    run_env.setdefault("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
    try:
        proc = subprocess.run(
            [exe, "--version"],
            env=run_env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=VERSION_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return None, f"`{exe} --version` did not finish within {VERSION_TIMEOUT:g}s"
    except OSError as exc:
        return None, f"cannot run {exe}: {exc.strerror or exc}"
    out = (proc.stdout or "").strip().splitlines()
    if proc.returncode != 0 or not out:
        why = dbcli.scrub(proc.stderr or proc.stdout or "") or f"exit status {proc.returncode}"
        return None, f"`{exe} --version` failed: {why}"
    return out[0].strip(), None


def databricks_cli(r: Run) -> None:
    exe = dbcli.find(r.ctx.env)
    if exe is None:
        r.add(ui.FAIL, "not installed (no `databricks` on PATH)", dbcli.install_hint())
        return
    version, why = _version_of(exe, r.ctx.env)
    if version is None:
        r.add(ui.FAIL, f"{exe} does not run: {why}", dbcli.install_hint())
        return
    v = dbcli.parse_version(version)
    if v is not None and v < (0, 205, 0):
        r.add(
            ui.FAIL,
            f"{version} at {exe} is the legacy Python CLI; `databricks auth token` needs the "
            "new CLI (v0.205 or later)",
            dbcli.install_hint(),
        )
    elif v is not None and v < dbcli.MIN_VERSION:
        r.add(
            ui.WARN,
            f"{version} at {exe} is older than v0.296, the minimum fully supported (no "
            "--force-refresh: a token may be handed out with less life than the helper needs)",
            "upgrade: " + dbcli.upgrade_hint(),
        )
    else:
        r.add(ui.PASS, f"{version} at {exe}; tokens stored: {_token_storage(r.ctx, v)}")


def _token_storage(ctx: Context, version: tuple[int, int, int] | None) -> str:
    """Where this CLI keeps OAuth tokens: the plaintext cache before v1.0; from v1.0 the OS
    keyring unless DATABRICKS_AUTH_STORAGE or [__settings__] auth_storage says plaintext."""
    cache = "~/.databricks/token-cache.json"
    if version is not None and version < (1, 0, 0):
        return f"plaintext file ({cache})"
    mode = ctx.env.get("DATABRICKS_AUTH_STORAGE", "").strip().lower()
    if not mode:
        try:
            sections = databrickscfg.load(str(ctx.paths.home), ctx.env) or {}
        except (OSError, ValueError):
            sections = {}
        mode = sections.get(databrickscfg.SETTINGS_SECTION, {}).get("auth_storage", "").lower()
    if mode == "plaintext":
        return f"plaintext file ({cache})"
    return "OS keyring (secure)"
