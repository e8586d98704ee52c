"""An in-process Context for tests: the given environment and folder, empty stdin, output kept
in memory (read it from ctx.stdout / ctx.stderr)."""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path

from dbx_fmapi_claude.core.context import Context
from dbx_fmapi_claude.core.paths import Paths


def quiet_context(env: Mapping[str, str], cwd: Path) -> Context:
    return Context(
        env=dict(env),
        stdin=io.StringIO(),
        stdout=io.StringIO(),
        stderr=io.StringIO(),
        cwd=cwd,
        paths=Paths.from_env(dict(env)),
    )
