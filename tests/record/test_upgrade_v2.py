"""Upgrading from record version 2 (Claude Code's keys flat in each configuration) to version 3
(under "claude", as the other agents' are): a HOME set up by release 82328a3 and by release 0.2.0
(d0dc11b), with every agent, keeps working with this code. The helper hands out the same token,
status, doctor and uninstall's plan say what the release said, no command rewrites the record;
setup run again with the same answers leaves every file of the user byte-identical (Claude Code's
settings, ~/.claude.json, the shell block, the agents' files) and records the same answers, now
as version 3; uninstall then leaves every file as it was before the release's setup.

The releases run from their own source, taken out of this repository's history (test_upgrade.py
says how).
"""

from __future__ import annotations

import json
import os
import subprocess
import tarfile
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest

from dbx_fmapi_claude.record import config
from tests.helpers.mgmt import VOLATILE, fake_claude
from tests.helpers.upgrade import COMMANDS, _install_switch, _json, _kept, _old, _same_as_before
from tests.rig.sandbox import REPO_ROOT, Sandbox
from tests.rig.workspace import FakeWorkspace

# release -> the files of the user its setup leaves otherwise than this code's: what was added
# since (82328a3: our status line in Claude Code's settings, the PATH line for login shells;
# both: the StopFailure hook that has claude ask its helper again after a rejected token).
RELEASES: dict[str, set[str]] = {
    "82328a3": {".claude/settings.json", ".profile"},
    "d0dc11b": {".claude/settings.json"},
}
RECORD = ".config/dbx-fmapi-claude/config.json"
ORIGINALS = ".config/dbx-fmapi-claude/originals/*"


def _extract(commit: str, root: Path) -> Path:
    archive = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "archive", "--format=tar", commit, "src", "bin"],
        capture_output=True,
        check=False,
    )
    if archive.returncode != 0:
        message = f"git archive {commit}: {archive.stderr.decode(errors='replace').strip()}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with tarfile.open(fileobj=BytesIO(archive.stdout)) as tar:
        tar.extractall(root, filter="data")
    return root


@pytest.fixture(scope="module", params=list(RELEASES))
def release(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, Path]:
    commit = str(request.param)
    return commit, _extract(commit, tmp_path_factory.mktemp(f"release-{commit}"))


def _verdicts(sandbox: Sandbox) -> tuple[dict[str, Any], dict[str, str]]:
    """status --json (the clock's seconds left out) and doctor's verdict per check."""
    status = sandbox.run(["dbx-fmapi", "status", "--json"], timeout=180)
    doctor = sandbox.run(["dbx-fmapi", "doctor", "--json"], timeout=180)
    assert status.code == 0, status
    return _json(status), {c["id"]: c["status"] for c in _json(doctor)["checks"]}


def test_a_home_set_up_by_a_version_2_release_works_and_setup_again_keeps_every_file(
    sandbox: Sandbox, workspace: FakeWorkspace, release: tuple[str, Path]
) -> None:
    commit, root = release
    fake_claude(sandbox)
    _install_switch(sandbox)
    sandbox.signed_in(workspace)
    (sandbox.home / ".bashrc").write_text("# the user's own\nalias ll='ls -l'\n")
    codex = sandbox.home / ".codex/config.toml"
    codex.parent.mkdir()
    codex.write_text('# mine\nmodel_reasoning_effort = "high"\n')
    before = sandbox.snapshot(exclude=VOLATILE)
    argv = [
        *("--host", workspace.url, "--skip-install", "--shell", "bash", "--no-verify"),
        *("--agents", "claude,codex,gemini,opencode"),
    ]
    setup = _old(sandbox, root, "setup-fmapi-claudecode", *argv, timeout=180)
    assert setup.code == 0, setup
    record = sandbox.home / RECORD
    written = record.read_bytes()
    old_record = json.loads(written)
    assert old_record["version"] == 2  # that release's record: Claude Code's keys flat
    assert "model" in old_record["configs"][0] and "codex" in old_record["configs"][0]

    for name, (program, *args) in COMMANDS.items():
        old = _old(sandbox, root, program, *args, timeout=180)
        new = sandbox.run([program, *args], timeout=180)
        if name == "token":  # the same cached token, valid
            assert old.code == new.code == 0 and old.stdout == new.stdout, (old, new)
            assert workspace.token_state(new.stdout.strip()) == "valid"
            continue
        _same_as_before(name, old, new)
        assert record.read_bytes() == written, f"{name} rewrote the record"

    # Setup again, this code, the same answers: the user's files stay byte-identical (but what
    # was added since that release), every key of Claude Code's settings as it was.
    verdicts = _verdicts(sandbox)
    files = sandbox.snapshot(exclude=(*VOLATILE, RECORD, ORIGINALS))
    again = sandbox.run(["setup-fmapi-claudecode", *argv], timeout=180)
    assert again.code == 0, again
    changed = sandbox.snapshot(exclude=(*VOLATILE, RECORD, ORIGINALS))
    differ = {k for k in files.keys() | changed.keys() if files.get(k) != changed.get(k)}
    assert differ == RELEASES[commit], differ
    settings = ".claude/settings.json"
    was_settings, now_settings = json.loads(files[settings]), json.loads(changed[settings])
    assert _kept(was_settings, now_settings) == was_settings
    new_record = json.loads(record.read_bytes())
    assert new_record["version"] == config.RECORD_VERSION == 3
    [one] = new_record["configs"]
    assert "model" not in one and one["claude"]["model"] == old_record["configs"][0]["model"]
    # Every answer the release recorded, the same (keys added since come on top).
    was = config.views(old_record)[0]
    now = config.views(new_record)[0]
    assert {k: now.get(k) for k in was} == dict(was)

    # status and doctor on the version 3 record say what they said on the release's.
    assert _verdicts(sandbox) == verdicts
    done = sandbox.run_here(["dbx-fmapi", "uninstall", "--yes"])
    assert done.code == 0, done
    assert sandbox.snapshot(exclude=VOLATILE) == before
