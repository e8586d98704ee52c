"""Several configurations side by side: each settings location its own workspace and profile.

Two fake workspaces, A for the home settings and B for a project folder, set up one after the
other: neither setup touches the other's files. Claude Code (the real binary) started in the
project reaches B with B's token, started anywhere else reaches A with A's; the wrapper, status
and doctor act on the configuration Claude Code uses in the folder they run in; uninstall of one
leaves the other byte-identical and working.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.json_shapes import STATUS_SHAPE, assert_shape
from tests.helpers.mgmt import VOLATILE, doctor_json, record_of, set_up
from tests.rig.sandbox import Sandbox
from tests.rig.workspace import FakeWorkspace

pytestmark = pytest.mark.e2e


@pytest.fixture
def two() -> Iterator[tuple[FakeWorkspace, FakeWorkspace]]:
    with FakeWorkspace() as a, FakeWorkspace() as b:
        a.reply_text, b.reply_text = "answer from A", "answer from B"
        yield a, b


def _set_up_both(sandbox: Sandbox, a: FakeWorkspace, b: FakeWorkspace) -> Path:
    sandbox.signed_in(a, profile="a")
    sandbox.signed_in(b, profile="b")
    set_up(sandbox, a, "--profile", "a")
    project = sandbox.home / "work" / "client b"  # a space in the path, on purpose
    project.mkdir(parents=True)
    home_settings = sandbox.home / ".claude/settings.json"
    before = home_settings.read_bytes()
    result = set_up(sandbox, b, "--profile", "b", "--settings-location", str(project))
    assert "removed" not in result.stdout, result  # the home setup stays
    assert home_settings.read_bytes() == before
    return project


def _only_request(ws: FakeWorkspace) -> None:
    """One Messages request reached `ws`, with a token `ws` issued and still valid."""
    sent = ws.messages_requests()
    assert sent, "no request reached the workspace"
    assert all(r.token is not None and r.token.state == "valid" for r in sent), sent


def test_two_workspaces_in_two_locations_both_work_at_once(
    sandbox: Sandbox, two: tuple[FakeWorkspace, FakeWorkspace]
) -> None:
    a, b = two
    project = _set_up_both(sandbox, a, b)
    env = {"CLAUDE_CODE_MAX_RETRIES": "0"}
    outside = sandbox.home / "elsewhere"
    outside.mkdir()
    for cwd, ws, other, answer in (
        (project, b, a, "answer from B"),
        (outside, a, b, "answer from A"),
        (project / ".claude", a, b, "answer from A"),  # a subfolder: Claude Code reads ~ only
    ):
        for argv in (["dbx-fmapi-claude", "-p", "hi"], None):
            a.log.clear()
            b.log.clear()
            if argv is None:
                result = sandbox.claude(["-p", "hi"], cwd=cwd, env=env)
            else:
                result = sandbox.run(argv, cwd=cwd, env=env, timeout=120)
            assert result.code == 0 and answer in result.stdout, (cwd, argv, result)
            _only_request(ws)
            assert not other.messages_requests()

    # status: the configuration in effect here first, the other one listed.
    inside = json.loads(sandbox.run_here(["dbx-fmapi", "status", "--json"], cwd=project).stdout)
    assert_shape(inside, STATUS_SHAPE)
    assert (inside["workspace"], inside["profile"]) == (b.url, "b")
    assert [(o["workspace"], o["profile"]) for o in inside["elsewhere"]] == [(a.url, "a")]
    text = sandbox.run_here(["dbx-fmapi", "status"], cwd=outside)
    assert text.code == 0 and f"Workspace   {a.url}" in text.stdout, text
    assert f"Also set up {project}/.claude/settings.json: {b.url} (profile b)" in text.stdout

    # doctor: the checks are about the configuration in effect where it runs.
    for cwd, ws, profile in ((project, b, "b"), (outside, a, "a")):
        code, report = doctor_json(sandbox, cwd=cwd)
        assert code == 0, report
        setup = next(c for c in report["checks"] if c["id"] == "config")
        assert f"workspace {ws.url}, profile {profile}" in setup["detail"], setup


def test_uninstall_of_one_leaves_the_other_byte_identical_and_working(
    sandbox: Sandbox, two: tuple[FakeWorkspace, FakeWorkspace]
) -> None:
    a, b = two
    project = _set_up_both(sandbox, a, b)
    home_settings = sandbox.home / ".claude/settings.json"
    home_before = home_settings.read_bytes()
    rc_before = (sandbox.home / ".bashrc").read_bytes()

    preview = sandbox.run_here(["dbx-fmapi", "uninstall", "--dry-run"], cwd=project)
    assert preview.code == 0 and "Dry run: nothing was written." in preview.stdout, preview
    result = sandbox.run_here(["dbx-fmapi", "uninstall", "--yes"], cwd=project)
    assert result.code == 0, result
    assert "1 other stay" in result.stdout, result
    assert not (project / ".claude").exists()  # setup created it: gone again
    assert home_settings.read_bytes() == home_before
    assert (sandbox.home / ".bashrc").read_bytes() == rc_before  # the shell block serves A
    assert [c["profile"] for c in record_of(sandbox)["configs"]] == ["a"]
    out = sandbox.run(["dbx-fmapi-claude", "-p", "hi"], cwd=project, timeout=120)
    assert out.code == 0 and "answer from A" in out.stdout, out  # ~ applies there now

    # The last one: everything goes, as with a single setup.
    assert sandbox.run_here(["dbx-fmapi", "uninstall", "--yes"]).code == 0
    assert not home_settings.exists()
    assert not (sandbox.home / ".config/dbx-fmapi-claude").exists()


def test_uninstall_without_one_in_effect_asks_which_and_changes_nothing(
    sandbox: Sandbox, two: tuple[FakeWorkspace, FakeWorkspace]
) -> None:
    a, b = two
    sandbox.signed_in(a, profile="a")
    sandbox.signed_in(b, profile="b")
    one, other = sandbox.home / "one", sandbox.home / "other"
    for folder, ws, profile in ((one, a, "a"), (other, b, "b")):
        folder.mkdir()
        set_up(sandbox, ws, "--profile", profile, "--settings-location", str(folder))
    before = sandbox.snapshot(exclude=VOLATILE)
    for argv, says in (
        (["dbx-fmapi", "uninstall", "--yes"], "several configurations are set up and none "),
        (
            ["dbx-fmapi", "uninstall", "--yes", "--settings-location", str(sandbox.home / "x")],
            f"nothing is set up for {sandbox.home}/x/.claude/settings.json",
        ),
    ):
        result = sandbox.run(argv)
        assert result.code == 2, result
        assert f"dbx-fmapi: error: {says}" in result.stderr, result
        assert "fix: dbx-fmapi uninstall --settings-location FOLDER" in result.stderr
        assert sandbox.snapshot(exclude=VOLATILE) == before
    # Outside both folders nothing of ours applies: the wrapper and status say where to go.
    for argv in (["dbx-fmapi-claude", "-p", "hi"], ["dbx-fmapi", "status"]):
        result = sandbox.run(argv)
        assert result.code == 1, result
        assert f"no dbx-fmapi-claude setup applies in {sandbox.home}" in result.stderr, result
    result = sandbox.run_here(["dbx-fmapi", "uninstall", "--yes", "--settings-location", str(one)])
    assert result.code == 0, result
    assert not (one / ".claude").exists() and (other / ".claude/settings.json").exists()
    assert sandbox.run_here(["dbx-fmapi", "uninstall", "--yes", "--all"]).code == 0
    assert not (other / ".claude").exists()
    assert not (sandbox.home / ".config/dbx-fmapi-claude").exists()
