"""When a browser login may run, and the login itself (`databricks auth login` on this
terminal). Stdlib only: imported by the token helper only when a login is needed."""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import IO


def over_ssh(env: Mapping[str, str]) -> bool:
    return bool(env.get("SSH_CONNECTION") or env.get("SSH_CLIENT") or env.get("SSH_TTY"))


def has_display(env: Mapping[str, str]) -> bool:
    if env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"):
        return True
    return sys.platform == "darwin" and not over_ssh(env)


def has_tty() -> bool:
    for stream in (sys.stdin, sys.stderr):
        try:
            if stream is not None and stream.isatty():
                return True
        except (ValueError, OSError):
            continue
    return False


def can_login(env: Mapping[str, str]) -> bool:
    return has_tty() or has_display(env)


# Profiles this process logged into: the CLI wrote them to ~/.databrickscfg, so "nothing was
# changed" is no longer true if the user stops us afterwards (main.py says so).
LOGGED_IN: list[str] = []


def login(host: str, profile: str, env: Mapping[str, str], err: IO[str]) -> None:
    """`databricks auth login` on this terminal; over SSH first the port-forwarding hint."""
    login_env = dict(env)
    if over_ssh(env):
        err.write(
            "dbx-fmapi: over SSH the login's browser callback goes to localhost:8020 on this "
            "machine; forward it first from your laptop: ssh -L 8020:localhost:8020 "
            f"{env.get('USER', 'you')}@<this-host>\n"
        )
        if not has_display(env) and "BROWSER" not in env:
            login_env["BROWSER"] = "none"  # the CLI then prints the URL to open
    err.write(f"dbx-fmapi: opening the Databricks login for profile {profile!r} ({host})\n")
    err.flush()
    from . import dbcli

    dbcli.auth_login(host, profile, env=login_env)
    LOGGED_IN.append(profile)
