"""The pinned MLflow for the tests: one environment, shared by every worktree and run, at
.cache/mlflow-<version> (DBX_TEST_MLFLOW_VENV overrides), made by the product's own installer
(`mlflow-skinny` for the hook) plus `mlflow` itself for the test's tracking server. The first run
installs it (a minute or two); later runs find it."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from pathlib import Path

from dbx_fmapi_claude.tracing import mlflowenv

ROOT = Path(__file__).resolve().parents[2]


def _site(folder: Path) -> list[Path]:
    return list(folder.glob("lib/python*/site-packages"))


def _runs(script: Path) -> bool:
    """Does the script's interpreter (its #! line) exist?"""
    try:
        with open(script, "rb") as f:
            first = f.readline()
    except OSError:
        return False
    return first.startswith(b"#!") and Path(os.fsdecode(first[2:].split()[0])).exists()


def ensure() -> Path:
    # Resolved: a worktree's .cache is a link to another's, and a venv's scripts name the path
    # it was made at (one made through a worktree since removed could not run).
    folder = Path(
        os.environ.get("DBX_TEST_MLFLOW_VENV") or ROOT / ".cache" / f"mlflow-{mlflowenv.VERSION}"
    ).resolve()
    folder.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DBX_FMAPI_MLFLOW_VENV": str(folder)}
    with open(folder.parent / f"mlflow-{mlflowenv.VERSION}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # xdist workers and other worktrees: one installs
        if folder.is_dir() and not _runs(folder / "bin" / "mlflow"):
            shutil.rmtree(folder)  # made elsewhere and moved, or half made: made again
        if mlflowenv.installed(env, str(ROOT)) is None:
            mlflowenv.install(env, str(ROOT), lambda line: print(line, file=sys.stderr))
        server = f"mlflow-{mlflowenv.VERSION}.dist-info"
        if not any((s / server).is_dir() for s in _site(folder)):
            subprocess.run(
                [str(folder / "bin" / "python"), "-m", "pip", "install", "--quiet"]
                + ["--disable-pip-version-check", f"mlflow=={mlflowenv.VERSION}"],
                check=True,
                stdout=2,
            )
    return folder


def fake(folder: Path) -> Path:
    """A folder laid out like an installed pinned MLflow whose `mlflow` only records that it
    ran (for the tests of setup, doctor and uninstall, which never run it)."""
    site = folder / "lib" / "python3.11" / "site-packages" / mlflowenv.DIST_INFO
    site.mkdir(parents=True, exist_ok=True)
    exe = folder / "bin" / "mlflow"
    exe.parent.mkdir(parents=True, exist_ok=True)
    exe.write_text('#!/bin/sh\ncat > /dev/null\necho "$@" >> "$(dirname "$0")/ran"\n')
    exe.chmod(0o755)
    return folder


def ran(folder: Path, lines: int) -> list[str]:
    """What the stand-in `mlflow` recorded once it wrote `lines` lines (the hook starts it in
    the background and does not wait for it), waiting for at most a minute."""
    import time

    path = folder / "bin" / "ran"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        got = path.read_text().splitlines() if path.exists() else []
        if len(got) >= lines:
            return got
        time.sleep(0.05)
    return path.read_text().splitlines() if path.exists() else []
