"""Running setup (the installed command, or the bootstrap script from a bare HOME) and
reading the Claude Code settings it wrote."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.rig.inprocess import run_in_process
from tests.rig.sandbox import REPO_ROOT, Result, Sandbox


def setup(sandbox: Sandbox, *args: str, **kw: Any) -> Result:
    return run_in_process(sandbox, ["setup-fmapi-claudecode", "--skip-install", *args], **kw)


def settings_of(sandbox: Sandbox, path: Path | None = None) -> dict[str, Any]:
    target = path or sandbox.home / ".claude" / "settings.json"
    return dict(json.loads(target.read_text()))


SCRIPT = REPO_ROOT / "setup-fmapi-claudecode.sh"


NAMES = ("dbx-fmapi", "dbx-fmapi-claude", "setup-fmapi-claudecode")


OFFLINE = {"PIP_NO_INDEX": "1", "PIP_INDEX_URL": "http://127.0.0.1:9/none"}


def bootstrap(sandbox: Sandbox, *args: str, env: dict[str, str | None] | None = None) -> Result:
    return sandbox.run(["bash", str(SCRIPT), *args], env={**OFFLINE, **(env or {})}, timeout=120)


def only_our_programs(sandbox: Sandbox) -> None:
    """The sandbox's links to the dev install go: the bootstrap must provide them."""
    for name in NAMES:
        sandbox.remove(name)
