"""Upgrading: a HOME set up by the release before the redesign (commit 8e2686a, record version 1)
keeps working with this code: the helper hands out the same token, the wrapper answers the same,
status and doctor say everything that release said (and what was added since), no file is
rewritten by any of them (the record stays version 1 until setup runs again), and uninstall
leaves every file byte-identical to before that release's setup.

That release runs from its own source, taken out of this repository's history, with the same
Python (its code is stdlib only); the installed commands stay where they are, as when a user
pulls and re-runs the bootstrap.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tarfile
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.mgmt import VOLATILE, fake_claude
from tests.rig.sandbox import REPO_ROOT, Result, Sandbox
from tests.rig.workspace import FakeWorkspace

RELEASE = "8e2686a"


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The release's src/ and bin/, from git history (a clone has it; CI runs on a clone)."""
    archive = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "archive", "--format=tar", RELEASE, "src", "bin"],
        capture_output=True,
        check=False,
    )
    if archive.returncode != 0:
        message = f"git archive {RELEASE}: {archive.stderr.decode(errors='replace').strip()}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    root = tmp_path_factory.mktemp("release")
    with tarfile.open(fileobj=BytesIO(archive.stdout)) as tar:
        tar.extractall(root, filter="data")
    return root


PROGRAMS = ("dbx-fmapi", "dbx-fmapi-claude", "setup-fmapi-claudecode")


def _install_switch(sandbox: Sandbox) -> None:
    """The installed commands, at one path for both releases (as after a `git pull` and the
    bootstrap): with OLD_RELEASE set they run that release, else this code. The variable is
    inherited, so what the release runs (doctor runs the apiKeyHelper) is the release too."""
    venv_bin = Path(sys.executable).parent
    for name in PROGRAMS:
        # The release's package goes first on sys.path in that process only: PYTHONPATH would
        # leak into what it runs (doctor runs the apiKeyHelper, this code's script).
        run_old = (
            "import runpy, sys; root = sys.argv.pop(1); sys.path.insert(0, root + '/src'); "
            f"sys.argv[0] = '{name}'; runpy.run_path(root + '/bin/{name}', run_name='__main__')"
        )
        sandbox.fake_program(
            name,
            'if [ -n "$OLD_RELEASE" ]; then\n'
            f'  exec {sys.executable} -c "{run_old}" "$OLD_RELEASE" "$@"\n'
            "fi\n"
            f'exec {venv_bin / name} "$@"\n',
        )


def _old(sandbox: Sandbox, release: Path, program: str, *args: str, **kw: Any) -> Result:
    """`program` as the release installed it."""
    return sandbox.run([program, *args], env={"OLD_RELEASE": str(release)}, **kw)


_LEFT = re.compile(r"\d+m left \(until \d\d:\d\d\)")


def _json(result: Result) -> dict[str, Any]:
    data = dict(json.loads(result.stdout))
    if isinstance(data.get("token"), dict):
        data["token"].pop("seconds_left", None)  # moves with the clock between two reads
    return data


def _kept(was: Any, now: Any) -> Any:
    """`now` reduced to the keys `was` had, at every depth: keys added since come on top."""
    if isinstance(was, dict) and isinstance(now, dict):
        return {k: _kept(v, now.get(k)) for k, v in was.items()}
    return now


def _same_as_before(name: str, old: Result, new: Result) -> None:
    """This code says at least what the release said: the same exit code, every line (status),
    every key with the same value (status --json), every check with the same verdict (doctor),
    the same files to change (uninstall). Lines and checks added since (the credential, the
    route) come on top."""
    assert new.code == old.code, (name, old, new)
    if name == "status":
        lines = {_LEFT.sub("left", line) for line in new.stdout.splitlines()}
        missing = [x for x in old.stdout.splitlines() if _LEFT.sub("left", x) not in lines]
        assert not missing, (missing, new.stdout)
    elif name == "status --json":
        was, now = _json(old), _json(new)
        assert now.pop("version") >= was.pop("version")  # the schema's, raised as keys came
        assert _kept(was, now) == was
    elif name == "doctor --json":
        verdicts = {c["id"]: c["status"] for c in _json(new)["checks"]}
        was = {c["id"]: c["status"] for c in _json(old)["checks"]}
        assert {k: verdicts.get(k) for k in was} == was
    elif name == "uninstall --dry-run":
        files = re.compile(r"^\+\+\+ (\S+)", re.M)
        assert files.findall(new.stdout) == files.findall(old.stdout), (old.stdout, new.stdout)
    else:
        assert (new.stdout, new.stderr) == (old.stdout, old.stderr), name


COMMANDS = {
    "status": ("dbx-fmapi", "status"),
    "status --json": ("dbx-fmapi", "status", "--json"),
    "doctor --json": ("dbx-fmapi", "doctor", "--json"),
    "token": ("dbx-fmapi", "token"),
    "wrapper": ("dbx-fmapi-claude", "--version"),
    "uninstall --dry-run": ("dbx-fmapi", "uninstall", "--dry-run"),
}


def test_a_home_set_up_by_the_last_release_works_unchanged(
    sandbox: Sandbox, workspace: FakeWorkspace, release: Path
) -> None:
    fake_claude(sandbox)
    _install_switch(sandbox)
    sandbox.login(workspace)
    (sandbox.home / ".bashrc").write_text("# the user's own\nalias ll='ls -l'\n")
    before = sandbox.snapshot(exclude=VOLATILE)
    argv = ["--host", workspace.url, "--skip-install", "--shell", "bash", "--no-verify"]
    setup = _old(sandbox, release, "setup-fmapi-claudecode", *argv, timeout=120)
    assert setup.code == 0, setup
    record = sandbox.home / ".config/dbx-fmapi-claude/config.json"
    written = record.read_bytes()
    assert json.loads(written).get("version", 1) == 1  # that release's record

    for name, (program, *args) in COMMANDS.items():
        old = _old(sandbox, release, program, *args, timeout=180)
        new = sandbox.run([program, *args], timeout=180)
        if name == "token":  # the same cached token, valid
            assert old.code == new.code == 0 and old.stdout == new.stdout, (old, new)
            assert workspace.token_state(new.stdout.strip()) == "valid"
            continue
        _same_as_before(name, old, new)
        assert record.read_bytes() == written, f"{name} rewrote the record"

    done = sandbox.run(["dbx-fmapi", "uninstall", "--yes"])
    assert done.code == 0, done
    assert sandbox.snapshot(exclude=VOLATILE) == before
