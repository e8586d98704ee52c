"""The pinned MLflow, in an environment of its own, installed on demand.

MLflow 3.12.0 is the newest release whose Claude Code integration is a Stop hook run by
MLflow's Python package (`mlflow autolog claude stop-hook`, reading the session's transcript and
logging one trace per turn, with an LLM span per model call and a tool span per tool call). From
3.13 on, `mlflow autolog claude` installs a Claude Code marketplace plugin fetched from GitHub
instead, which no package registry serves and which cannot be pinned by a package manager.

`mlflow-skinny` (MLflow without its server and UI: the tracking client, the tracing SDK, the
Databricks SDK) goes into a virtual environment beside our configuration, never into the tool's
own environment: MLflow brings dozens of packages whose versions must not move ours, and the hot
paths (`dbx-fmapi token`, the wrapper) never import it. `DBX_FMAPI_MLFLOW_VENV` overrides where
(the tests point it at a shared cache).
"""

from __future__ import annotations

import os

from ..core.errors import ExitCode, UserError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

VERSION = "3.12.0"
PACKAGE = f"mlflow-skinny=={VERSION}"
DIST_INFO = f"mlflow_skinny-{VERSION}.dist-info"
OFF = "none"
INSTALL_TIMEOUT = 15 * 60.0
# A workspace path, as the Databricks MLflow API takes experiment names: absolute, no empty,
# "." or ".." part, no trailing slash.
_PART = r"[^/\x00-\x1f]+"


def venv_dir(env: Mapping[str, str], home: str) -> str:
    """Where the pinned MLflow lives: $DBX_FMAPI_MLFLOW_VENV, else
    ${XDG_DATA_HOME:-~/.local/share}/dbx-fmapi-claude/mlflow-<version>."""
    override = env.get("DBX_FMAPI_MLFLOW_VENV")
    if override:
        return override
    data = env.get("XDG_DATA_HOME") or os.path.join(home, ".local", "share")
    return os.path.join(data, "dbx-fmapi-claude", f"mlflow-{VERSION}")


def executable(folder: str) -> str:
    return os.path.join(folder, "bin", "mlflow")


def installed(env: Mapping[str, str], home: str) -> str | None:
    """The `mlflow` program of the pinned version, when it is installed (no program run: the
    hook asks this at the end of every turn)."""
    folder = venv_dir(env, home)
    exe = executable(folder)
    if not os.access(exe, os.X_OK):
        return None
    lib = os.path.join(folder, "lib")
    try:
        pythons = [p for p in os.listdir(lib) if p.startswith("python")]
    except OSError:
        return None
    for py in pythons:
        if os.path.isdir(os.path.join(lib, py, "site-packages", DIST_INFO)):
            return exe
    return None


def install_command(env: Mapping[str, str], home: str) -> str:
    import shlex
    import sys

    folder = venv_dir(env, home)
    q = shlex.quote(folder)
    return f"{shlex.quote(sys.executable)} -m venv {q} && {q}/bin/pip install {PACKAGE}"


def install(env: Mapping[str, str], home: str, err: Callable[[str], None]) -> str:
    """Create the environment and install the pinned MLflow into it (output to our stderr);
    the `mlflow` program, or a UserError with the command to run by hand."""
    import subprocess
    import sys

    folder = venv_dir(env, home)
    manual = install_command(env, home)
    steps = [
        [sys.executable, "-m", "venv", folder],
        [
            os.path.join(folder, "bin", "python"),
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--quiet",
            PACKAGE,
        ],
    ]
    for argv in steps:
        err("  running: " + " ".join(argv))
        try:
            done = subprocess.run(
                argv,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=2,
                timeout=INSTALL_TIMEOUT,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            done = None
        if done is None or done.returncode != 0:
            break
    found = installed(env, home)
    if found is None:
        raise UserError(
            f"could not install MLflow {VERSION}; nothing was written",
            f"install it by hand, then re-run setup: {manual}",
        )
    return found


def check_experiment(value: str, prog: str) -> str:
    """`none`, or an experiment's absolute workspace path (/Users/…, /Workspace/…, /Shared/…);
    anything else is a usage error naming the flag."""
    import re

    text = value.strip()
    if text.lower() == OFF:
        return OFF
    parts = text.split("/")
    ok = (
        text.startswith("/")
        and len(text) <= 1000
        and len(parts) >= 3
        and all(re.fullmatch(_PART, p) and p not in (".", "..") for p in parts[1:])
    )
    if not ok:
        why = (
            "is not an absolute workspace path"
            if not text.startswith("/")
            else "is not a valid workspace path (an experiment in a folder, no empty, . or .. part)"
        )
        raise UserError(
            f"--mlflow-experiment {value!r} {why}",
            f"{prog} --mlflow-experiment /Users/you@example.com/claude-code   (or none: no "
            "tracing)",
            ExitCode.USAGE,
        )
    return text
