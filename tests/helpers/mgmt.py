"""Helpers for the management command tests (status, doctor, models, login, uninstall)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from dbx_fmapi_claude.record import config
from tests.rig.inprocess import run_in_process
from tests.rig.sandbox import Result, Sandbox
from tests.rig.workspace import FakeWorkspace

CLAUDE_VERSION = "2.1.328 (Claude Code)"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
# Churn that is not a file of the user's: the CLI's token cache, our lock and token record.
VOLATILE = (".databricks/*", ".config/dbx-fmapi-claude/locks/*", "*/token-state.json")


def fake_claude(sandbox: Sandbox) -> None:
    """A stand-in `claude` that only answers --version (doctor runs nothing else)."""
    sandbox.fake_program("claude", f'echo "{CLAUDE_VERSION}"\n')


def set_up(sandbox: Sandbox, workspace: FakeWorkspace, *args: str, **kw: Any) -> Result:
    """Signed in (sandbox.signed_in: one real login's files, replayed), then setup run
    non-interactively (bash rc, helper mode unless told), in this process (tests/rig/
    inprocess.py: a step before what the test is about, not the program's start)."""
    if not (sandbox.home / ".databrickscfg").exists():
        sandbox.signed_in(workspace)
    argv = ["setup-fmapi-claudecode", "--skip-install", "--host", workspace.url]
    if "--shell" not in args:
        argv += ["--shell", "bash"]
    result = run_in_process(sandbox, [*argv, *args], **kw)
    assert result.code == 0, result
    return result


def run_setup(sandbox: Sandbox, workspace: FakeWorkspace, *args: str, **kw: Any) -> Result:
    """`setup-fmapi-claudecode --host <workspace> --skip-install` (--shell none unless given),
    not checked: for tests of what setup says and refuses."""
    argv = ["setup-fmapi-claudecode", "--host", workspace.url, "--skip-install"]
    if "--shell" not in args:
        argv += ["--shell", "none"]
    return run_in_process(sandbox, [*argv, *args], **kw)


RECORD = Path(".config/dbx-fmapi-claude/config.json")


def record_of(sandbox: Sandbox) -> dict[str, Any]:
    """Setup's record as written: every configuration."""
    return dict(json.loads((sandbox.home / RECORD).read_text()))


def config_of(sandbox: Sandbox) -> dict[str, Any]:
    """The configuration setup wrote last, flat, as the commands read it (its keys and the
    shared ones)."""
    return dict(config.views(record_of(sandbox))[-1])


def settings_path(sandbox: Sandbox) -> Path:
    return sandbox.home / ".claude" / "settings.json"


def edit_settings(sandbox: Sandbox, path: Path | None = None, **changes: Any) -> Path:
    """Merge top-level `changes` into a settings file (env merged key by key)."""
    target = path or settings_path(sandbox)
    data = json.loads(target.read_text()) if target.exists() else {}
    for key, value in changes.items():
        if key == "env":
            data.setdefault("env", {}).update(value)
        else:
            data[key] = value
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(data, indent=2) + "\n")
    return target


def doctor_json(sandbox: Sandbox, **kw: Any) -> tuple[int, dict[str, Any]]:
    result = run_in_process(sandbox, ["dbx-fmapi", "doctor", "--json"], timeout=180, **kw)
    assert result.stdout.strip(), result
    return result.code, dict(json.loads(result.stdout))


def checks_by_id(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in report["checks"]}


def doctor(sandbox: Sandbox, **kw: Any) -> Result:
    return run_in_process(sandbox, ["dbx-fmapi", "doctor"], timeout=180, **kw)


def doctor_lines(result: Result) -> list[tuple[str, str, str, str | None]]:
    """(status, title, detail, fix) for each check line of doctor's human output."""
    out: list[tuple[str, str, str, str | None]] = []
    for line in ANSI.sub("", result.stdout).splitlines():
        m = re.match(r"^(PASS|WARN|FAIL|SKIP)  ([^:]+): (.*)$", line)
        if m:
            out.append((m[1], m[2], m[3], None))
        elif line.startswith("      fix: ") and out:
            status, title, detail, _ = out[-1]
            out[-1] = (status, title, detail, line[len("      fix: ") :])
    return out


def find_check(result: Result, title: str) -> tuple[str, str, str | None]:
    """(status, detail, fix) of the first check with this title (prefix match)."""
    for status, t, detail, fix in doctor_lines(result):
        if t == title or t.startswith(title):
            return status, detail, fix
    raise AssertionError(f"no check {title!r} in:\n{result.stdout}")


def statuses(result: Result) -> dict[str, str]:
    out: dict[str, str] = {}
    for status, title, _detail, _fix in doctor_lines(result):
        out.setdefault(title, status)
    return out


def team_file(workspace: FakeWorkspace, **extra: Any) -> dict[str, Any]:
    """A team file for the fake workspace (docs/teams.md): profile acme, serving endpoints, the
    fake's Claude models and a 30-minute TTL, both locked; `extra` adds or replaces keys."""
    return {
        "version": 1,
        "host": workspace.url,
        "profile": "acme",
        "route": "serving-endpoints",
        "models": {
            "model": "databricks-claude-opus-4-6",
            "opus": "databricks-claude-opus-4-6",
            "sonnet": "databricks-claude-sonnet-4-5",
            "haiku": "databricks-claude-haiku-4-5",
        },
        "ttl": "30m",
        "locked": ["models", "ttl"],
        **extra,
    }


def claude_under_managed_settings(
    sandbox: Sandbox, tmp_path: Path, managed: Path, claude_bin: str, *args: str
) -> Result:
    """The real `claude ARGS` with `managed`/managed-settings.json as /etc/claude-code's, in a
    private mount namespace (as root) where /etc is an overlay whose writes land in tmp_path:
    the real /etc is never written (Claude Code's folder override is compiled out)."""
    layers = tmp_path / "etc-overlay"
    (layers / "upper").mkdir(parents=True, exist_ok=True)
    (layers / "work").mkdir(exist_ok=True)
    script = tmp_path / "in-namespace.sh"
    script.write_text(
        "set -e\n"
        f"mount -t overlay overlay -o lowerdir=/etc,upperdir={layers}/upper,workdir={layers}/work"
        " /etc\n"
        "mkdir -p /etc/claude-code\n"
        'cp "$1/managed-settings.json" /etc/claude-code/managed-settings.json\n'
        "shift\n"
        'exec "$@"\n'
    )
    argv = ["unshare", "-m", "--propagation", "private", "sh", str(script), str(managed)]
    return sandbox.run(
        [*argv, claude_bin, *args],
        env={"DISABLE_AUTOUPDATER": "1", "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1"},
        timeout=120,
    )
