"""The one top-level handler: a bug of ours is one short line and exit 3 from every entry point,
never a raw traceback; the traceback goes to a 0600 log in the config dir, and to stderr only with
--debug or DBX_FMAPI_DEBUG=1. Tokens are redacted from both.

The failure is injected through a `sitecustomize` on PYTHONPATH that replaces one function of
the package with one that raises, so the real installed programs run end to end.
"""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import pytest

from dbx_fmapi_claude.core.errors import ExitCode
from tests.rig.sandbox import REPO_ROOT, Sandbox

# A JWT-shaped string: it must never reach the terminal or the log.
SECRET = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJsZWFrIn0.c2lnbmF0dXJlLXNlY3JldA"
SITECUSTOMIZE = f"""
import os

_target = os.environ.get("DBX_TEST_BREAK")
if _target:
    import importlib

    _module, _name = _target.split(":")

    def _broken(*args, **kwargs):
        raise RuntimeError("injected failure with {SECRET} inside")

    setattr(importlib.import_module(_module), _name, _broken)
"""
SUMMARY = "unexpected error: RuntimeError: injected failure with [redacted] inside"

# entry point argv -> the function that fails in it
ENTRY_POINTS = {
    "dbx-fmapi status": (["dbx-fmapi", "status"], "dbx_fmapi_claude.commands.status:run"),
    "dbx-fmapi doctor": (["dbx-fmapi", "doctor"], "dbx_fmapi_claude.commands.doctor:run"),
    "dbx-fmapi token": (["dbx-fmapi", "token"], "dbx_fmapi_claude.commands.token:run"),
    "dbx-fmapi-claude": (
        ["dbx-fmapi-claude", "--version"],
        "dbx_fmapi_claude.agents.claude.wrapper:run",
    ),
    "setup-fmapi-claudecode": (
        ["setup-fmapi-claudecode", "--host", "https://x.cloud.databricks.com", "--skip-install"],
        "dbx_fmapi_claude.commands.setup:run",
    ),
}


def _breaking(sandbox: Sandbox, target: str, **extra: str) -> dict[str, str]:
    site = sandbox.root / "site"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE)
    return {"PYTHONPATH": str(site), "DBX_TEST_BREAK": target, **extra}


def _log(sandbox: Sandbox) -> Path:
    return sandbox.home / ".config/dbx-fmapi-claude/error.log"


@pytest.mark.parametrize("name", list(ENTRY_POINTS))
def test_a_bug_is_one_line_exit_3_and_a_log(sandbox: Sandbox, name: str) -> None:
    argv, target = ENTRY_POINTS[name]
    before = sandbox.snapshot(exclude=(".config/dbx-fmapi-claude/*",))
    result = sandbox.run(argv, env=_breaking(sandbox, target))
    assert result.code == ExitCode.UNEXPECTED == 3, result
    prog = argv[0]
    lines = result.stderr.splitlines()
    assert lines[0] == f"{prog}: {SUMMARY}", result
    assert lines[1] == f"  the traceback is in {_log(sandbox)}", result
    assert "report it" in lines[2] and len(lines) == 3, result
    assert "Traceback" not in result.output and SECRET not in result.output
    assert result.stdout == ""  # the token helper's stdout is the token or nothing
    log = _log(sandbox)
    text = log.read_text()
    assert "Traceback (most recent call last)" in text and "RuntimeError" in text
    assert f"{prog} " in text.splitlines()[0]
    assert SECRET not in text and "[redacted]" in text
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert not list(log.parent.glob("*.tmp"))
    assert sandbox.snapshot(exclude=(".config/dbx-fmapi-claude/*",)) == before


@pytest.mark.parametrize(
    "argv, env",
    [
        (["dbx-fmapi", "--debug", "status"], {}),
        (["dbx-fmapi", "status"], {"DBX_FMAPI_DEBUG": "1"}),
        (["dbx-fmapi-claude", "--version"], {"DBX_FMAPI_DEBUG": "1"}),
        (["setup-fmapi-claudecode", "--debug", "--host", "https://x.cloud.databricks.com"], {}),
    ],
    ids=["--debug", "DBX_FMAPI_DEBUG", "wrapper-DBX_FMAPI_DEBUG", "setup --debug"],
)
def test_debug_shows_the_traceback_too(
    sandbox: Sandbox, argv: list[str], env: dict[str, str]
) -> None:
    target = {
        "dbx-fmapi": "dbx_fmapi_claude.commands.status:run",
        "dbx-fmapi-claude": "dbx_fmapi_claude.agents.claude.wrapper:run",
        "setup-fmapi-claudecode": "dbx_fmapi_claude.commands.setup:run",
    }[argv[0]]
    result = sandbox.run(argv, env=_breaking(sandbox, target, **env))
    assert result.code == 3, result
    assert "Traceback (most recent call last)" in result.stderr
    assert f"{argv[0]}: {SUMMARY}" in result.stderr
    assert SECRET not in result.output
    assert _log(sandbox).exists()


def test_without_a_writable_config_dir_it_says_how_to_see_the_traceback(
    sandbox: Sandbox,
) -> None:
    blocker = sandbox.root / "not-a-folder"
    blocker.write_text("")
    env = _breaking(
        sandbox,
        "dbx_fmapi_claude.commands.status:run",
        DBX_FMAPI_CLAUDE_CONFIG_DIR=str(blocker / "config"),
    )
    result = sandbox.run(["dbx-fmapi", "status"], env=env)
    assert result.code == 3, result
    lines = result.stderr.splitlines()
    assert lines[0] == f"dbx-fmapi: {SUMMARY}"
    assert lines[1] == "  to see the traceback: DBX_FMAPI_DEBUG=1 dbx-fmapi …"
    assert "Traceback" not in result.output


@pytest.mark.parametrize("script", ["dbx-fmapi", "dbx-fmapi-claude", "setup-fmapi-claudecode"])
def test_a_broken_install_is_one_line_and_the_fix(sandbox: Sandbox, script: str) -> None:
    """The bin/ scripts themselves: the package cannot be imported (here: no site-packages)."""
    result = sandbox.run([sys.executable, "-S", str(REPO_ROOT / "bin" / script), "--version"])
    assert result.code == 3, result
    assert result.stderr.splitlines() == [
        f"{script}: unexpected error: ModuleNotFoundError: No module named 'dbx_fmapi_claude'",
        "  fix: reinstall it: bash setup-fmapi-claudecode.sh   (in your dbx-fmapi-claude clone)",
    ]
