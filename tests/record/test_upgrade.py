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
import subprocess
import tarfile
from io import BytesIO
from pathlib import Path

import pytest

from tests.helpers.mgmt import VOLATILE, fake_claude
from tests.helpers.upgrade import COMMANDS, _install_switch, _old, _same_as_before
from tests.rig.sandbox import REPO_ROOT, Sandbox
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


def test_a_home_set_up_by_the_last_release_works_unchanged(
    sandbox: Sandbox, workspace: FakeWorkspace, release: Path
) -> None:
    fake_claude(sandbox)
    _install_switch(sandbox)
    sandbox.signed_in(workspace)
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

    done = sandbox.run_here(["dbx-fmapi", "uninstall", "--yes"])
    assert done.code == 0, done
    assert sandbox.snapshot(exclude=VOLATILE) == before
