"""Setup's dependencies: Claude Code and the Databricks CLI, each installed only when missing,
and only with the user's yes (`allowed`: a prompt on a terminal, or --install).

Claude Code: its curl installer, then npm as the fallback. Databricks CLI: Homebrew on macOS,
the official curl installer elsewhere. Each pinned to the version this release was tested with
where the installer can pin (Claude Code's installer and npm take a version, the CLI's installer
script is read from its release tag); Homebrew installs its formula's current version. Installer
output goes to stderr (our stdout stays ours); a failure is a UserError with the command to run
by hand.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..agents.claude.wrapper import find_claude
from ..auth import dbcli
from ..core.errors import UserError

CLAUDE_TESTED = "2.1.332"  # agents/claude/agent.py's `tested`
DATABRICKS_TESTED = "0.298.0"
CLAUDE_CURL = f"curl -fsSL https://claude.ai/install.sh | bash -s -- {CLAUDE_TESTED}"
CLAUDE_NPM = f"npm install -g @anthropic-ai/claude-code@{CLAUDE_TESTED}"
DATABRICKS_BREW = dbcli.INSTALL_HINT_MAC
DATABRICKS_CURL = (
    "curl -fsSL https://raw.githubusercontent.com/databricks/setup-cli/"
    f"v{DATABRICKS_TESTED}/install.sh | sh"
)
BREW_INSTALL = '/bin/bash -c "$(curl -fsSL https://raw.githubusercontent.com/Homebrew/install/HEAD/install.sh)"'
INSTALL_TIMEOUT = 15 * 60.0

# Where installers put things that may not be on PATH yet.
EXTRA_BIN_DIRS = ("/usr/local/bin", "/opt/homebrew/bin")


def platform(env: Mapping[str, str]) -> str:
    """ "darwin" or "linux" (or another lower-case uname); DBX_FMAPI_PLATFORM overrides it so
    tests can take the macOS branch on Linux."""
    forced = env.get("DBX_FMAPI_PLATFORM", "").strip().lower()
    return forced or os.uname().sysname.lower()


@dataclass
class Step:
    """One dependency: found where, or installed, or would be installed (dry run)."""

    name: str
    path: str | None
    action: str  # "found", "installed", "would install", "missing"
    command: str | None = None


def _which(name: str, env: Mapping[str, str]) -> str | None:
    return shutil.which(name, path=env.get("PATH"))


def _shell(command: str, env: Mapping[str, str], err: Callable[[str], None]) -> bool:
    """Run `command` with bash -o pipefail, output to our stderr; True when it exited 0."""
    bash = _which("bash", env) or "/bin/bash"
    err(f"  running: {command}")
    return _exec([bash, "-o", "pipefail", "-c", command], env)


def _run(argv: list[str], env: Mapping[str, str], err: Callable[[str], None]) -> bool:
    err("  running: " + " ".join(argv))
    return _exec(argv, env)


def _exec(argv: list[str], env: Mapping[str, str]) -> bool:
    """argv with its output on our stderr, bounded in time; True when it exited 0."""
    try:
        proc = subprocess.run(
            argv,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=2,
            timeout=INSTALL_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0


def with_extra_path(env: Mapping[str, str], home: Path) -> dict[str, str]:
    """`env` with the installers' bin folders appended to PATH (those not already on it)."""
    new = dict(env)
    parts = [p for p in env.get("PATH", "").split(os.pathsep) if p]
    for extra in (str(home / ".local" / "bin"), *EXTRA_BIN_DIRS):
        if extra not in parts and os.path.isdir(extra):
            parts.append(extra)
    new["PATH"] = os.pathsep.join(parts)
    return new


Allowed = Callable[[str, str], bool]  # (what, command) -> may setup install it now?


def claude_code(
    env: Mapping[str, str],
    home: Path,
    *,
    dry_run: bool,
    err: Callable[[str], None],
    allowed: Allowed,
) -> Step:
    found = find_claude(env, home)
    if found:
        return Step("Claude Code", found, "found")
    if not allowed("Claude Code", CLAUDE_CURL):
        return Step("Claude Code", None, "missing", CLAUDE_CURL)
    if dry_run:
        return Step("Claude Code", None, "would install", CLAUDE_CURL)
    err("Installing Claude Code (not found on PATH)")
    tried = []
    if _which("curl", env):
        tried.append(CLAUDE_CURL)
        if _shell(CLAUDE_CURL, env, err):
            found = find_claude(with_extra_path(env, home), home)
            if found:
                return Step("Claude Code", found, "installed", CLAUDE_CURL)
    if _which("npm", env):
        tried.append(CLAUDE_NPM)
        if _run(["npm", "install", "-g", f"@anthropic-ai/claude-code@{CLAUDE_TESTED}"], env, err):
            found = find_claude(with_extra_path(env, home), home)
            if found:
                return Step("Claude Code", found, "installed", CLAUDE_NPM)
    why = "the installers failed" if tried else "neither curl nor npm is available"
    raise UserError(
        f"could not install Claude Code: {why}",
        f"install it by hand, then re-run setup: {CLAUDE_CURL}  (or: {CLAUDE_NPM})",
    )


def databricks_cli(
    env: Mapping[str, str],
    home: Path,
    *,
    dry_run: bool,
    err: Callable[[str], None],
    allowed: Allowed,
) -> Step:
    found = dbcli.find(env)
    if found:
        return Step("Databricks CLI", found, "found")
    mac = platform(env) == "darwin"
    command = DATABRICKS_BREW if mac else DATABRICKS_CURL
    if not allowed("the Databricks CLI", command):
        return Step("Databricks CLI", None, "missing", command)
    if dry_run:
        return Step("Databricks CLI", None, "would install", command)
    err("Installing the Databricks CLI (not found on PATH)")
    if mac:
        if not _which("brew", env):
            raise UserError(
                "the Databricks CLI is missing and Homebrew (`brew`) is not installed",
                f"install Homebrew, then re-run setup: {BREW_INSTALL}",
            )
        ok = _run(["brew", "tap", "databricks/tap"], env, err) and _run(
            ["brew", "install", "databricks"], env, err
        )
        manual = DATABRICKS_BREW
    else:
        if not _which("curl", env):
            raise UserError(
                "the Databricks CLI is missing and `curl` is not installed to fetch it",
                "install curl (e.g. sudo apt-get install -y curl unzip), then re-run setup",
            )
        ok = _shell(DATABRICKS_CURL, env, err)
        manual = (
            DATABRICKS_CURL if os.geteuid() == 0 else DATABRICKS_CURL.replace("| sh", "| sudo sh")
        )
    found = dbcli.find(with_extra_path(env, home)) if ok else None
    if not found:
        raise UserError(
            "could not install the Databricks CLI",
            f"install it by hand, then re-run setup: {manual}",
        )
    return Step("Databricks CLI", found, "installed", command)
