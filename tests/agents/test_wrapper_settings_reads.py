"""One launch of `dbx-fmapi-claude` reads each of Claude Code's settings files once: where its
requests go (the token's destination, the relay's upstream) and, with telemetry on, whether
the relay may take its exports are asked of one reading. Counted in-process: an audit hook
sees every file the wrapper opens and every folder it lists, until it would exec claude."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from dbx_fmapi_claude.agents.claude import relayed, wrapper
from dbx_fmapi_claude.telemetry import tables

HOST = "https://ws.example.cloud.databricks.com"
TABLES = "main.telemetry.claude"

# The files and folders opened while a test counts; None: not counting. One hook for the
# process (audit hooks cannot be removed): it does nothing unless a test counts.
_SEEN: list[str] | None = None
_HOOKED = False


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _SEEN is not None and event in ("open", "os.listdir", "os.scandir") and args:
        target = args[0]
        if isinstance(target, (str, bytes, os.PathLike)):
            _SEEN.append(os.fsdecode(target))


class _Exec(Exception):
    """The wrapper would now become claude."""


def _set_up_home(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """A HOME as setup leaves it in helper mode with --otel-tables (the record, the settings
    file, a token known to live a day), claude on PATH, and a project folder to start in."""
    home, bin_dir, project = tmp_path / "home", tmp_path / "bin", tmp_path / "project"
    for folder in (home / ".claude", home / ".config" / "dbx-fmapi-claude", bin_dir, project):
        folder.mkdir(parents=True)
    settings = home / ".claude" / "settings.json"
    settings.write_text(
        json.dumps(
            {
                "env": {
                    "ANTHROPIC_BASE_URL": f"{HOST}/serving-endpoints/anthropic",
                    "ANTHROPIC_MODEL": "databricks-claude-opus-4-6",
                    "OTEL_EXPORTER_OTLP_ENDPOINT": tables.endpoint(HOST),
                },
                "apiKeyHelper": "dbx-fmapi token --profile 'DEFAULT'",
            }
        )
    )
    claude_state = {
        "model": "databricks-claude-opus-4-6",
        "token_mode": "helper",
        "api_key_helper": "dbx-fmapi token --profile 'DEFAULT'",
        "otel_tables": TABLES,
    }
    record = {
        "version": 3,
        "shell": "none",
        "configs": [
            {
                "host": HOST,
                "profile": "DEFAULT",
                "auth": "oauth",
                "route": "serving-endpoints",
                "settings_file": str(settings),
                "settings_location": "home",
                "claude": claude_state,
            }
        ],
    }
    config_dir = home / ".config" / "dbx-fmapi-claude"
    (config_dir / "config.json").write_text(json.dumps(record))
    now = time.time()
    (config_dir / "token-state.json").write_text(
        json.dumps({"DEFAULT": {"expiry": now + 86400, "fp": "0" * 16, "ok": now}})
    )
    claude = bin_dir / "claude"
    claude.write_text("#!/bin/sh\nexit 0\n")
    claude.chmod(0o755)
    env = {
        "HOME": str(home),
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "DBX_FMAPI_MANAGED_SETTINGS_DIR": str(tmp_path / "managed"),
    }
    return env, project


def test_one_launch_with_telemetry_reads_each_settings_file_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    global _SEEN, _HOOKED
    env, project = _set_up_home(tmp_path)
    monkeypatch.chdir(project)
    started: list[bool] = []

    def start(
        base: str, cfg: Mapping[str, Any], paths: Any, env: Mapping[str, str], *, otel: bool
    ) -> tuple[list[str], dict[str, str]]:
        started.append(otel)
        return ["--settings", "{}"], {}

    def execute(*args: Any) -> None:
        raise _Exec

    monkeypatch.setattr(relayed, "start", start)  # no fork: the relay is not what is counted
    monkeypatch.setattr(os, "execve", execute)
    monkeypatch.setattr(os, "execv", execute)
    if not _HOOKED:
        sys.addaudithook(_audit)
        _HOOKED = True
    _SEEN = seen = []
    try:
        with pytest.raises(_Exec):
            wrapper.run(["-p", "hi"], env)
    finally:
        _SEEN = None
    assert started == [True]  # it asked where telemetry goes, and the relay takes it
    levels = [
        str(tmp_path / "managed" / "managed-settings.d"),
        str(tmp_path / "managed" / "managed-settings.json"),
        str(project / ".claude" / "settings.local.json"),
        str(project / ".claude" / "settings.json"),
        env["HOME"] + "/.claude/settings.json",
    ]
    assert [path for path in seen if path in levels] == levels  # each once, highest first
