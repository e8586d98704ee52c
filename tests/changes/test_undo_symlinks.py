"""Uninstall's one rule for a file setup changed (changes/undo.py): the original back, or the
file gone when setup created it, and never a user's symlink deleted (deleting would drop the
link and leave our content in the file it points to, in the user's dotfiles)."""

from __future__ import annotations

import json
from pathlib import Path

from dbx_fmapi_claude.changes import undo
from dbx_fmapi_claude.core.paths import Paths
from dbx_fmapi_claude.record import originals
from tests.helpers.agent_users import gemini_env, link
from tests.helpers.mgmt import set_up
from tests.rig.agents import Agents
from tests.rig.sandbox import Sandbox
from tests.rig.workspace import FakeWorkspace

SPACE = "01ef0123456789abcdef0123456789ab"


def _paths(home: Path) -> Paths:
    return Paths.from_env({"HOME": str(home)})


def test_a_file_setup_created_goes_but_behind_a_link_the_empty_document_stays(
    tmp_path: Path,
) -> None:
    paths = _paths(tmp_path)
    plain = tmp_path / "plain.json"
    plain.write_bytes(b'{"ours": 1}\n')
    real = tmp_path / "dotfiles" / "linked.json"
    real.parent.mkdir()
    real.write_bytes(b'{"ours": 1}\n')
    linked = tmp_path / "linked.json"
    linked.symlink_to(real)
    for path in (plain, linked):
        originals.save_original(paths, path, None)  # setup created it

    def never(original: bytes) -> bool:
        return False

    assert undo.left_behind(paths, plain, None, created=True, same=never, empty=b"{}\n") == (
        None,
        undo.DELETE,
        None,
    )
    assert undo.left_behind(paths, linked, None, created=True, same=never, empty=b"{}\n") == (
        b"{}\n",
        undo.DELETE,
        None,
    )


def test_a_file_setup_did_not_create_is_never_deleted(tmp_path: Path) -> None:
    paths = _paths(tmp_path)
    path = tmp_path / "theirs.json"
    path.write_bytes(b'{"ours": 1}\n')  # no original kept, and the record says not created
    got = undo.left_behind(
        paths, path, None, created=False, same=lambda original: False, empty=b"{}\n"
    )
    assert got == (b"{}\n", undo.CLEANED, None)


def test_the_original_comes_back_with_its_mode(tmp_path: Path) -> None:
    paths = _paths(tmp_path)
    path = tmp_path / "theirs.toml"
    path.write_bytes(b"mine = 1\n")
    path.chmod(0o640)
    originals.save_original(paths, path, b"mine = 1\n")
    got = undo.left_behind(
        paths, path, b"mine = 1\n", created=False, same=lambda o: o == b"mine = 1\n", empty=b""
    )
    assert got == (b"mine = 1\n", undo.ORIGINAL, 0o640)


def test_uninstall_keeps_a_link_to_gemini_settings_setup_created_and_takes_ours_out(
    sandbox: Sandbox, workspace: FakeWorkspace, agents: Agents, gemini_bin: str
) -> None:
    """Setup created Gemini CLI's settings and `mcp add` put a server in; the user then moved
    the file into their dotfiles and linked it. Uninstall keeps the link, and the file behind
    it holds nothing of ours (before: the link was deleted and the dotfiles copy kept our
    server and our settings)."""
    link(sandbox, "gemini", gemini_bin)
    env = gemini_env(agents)
    settings = agents.gemini_home / ".gemini" / "settings.json"
    assert not settings.exists()
    set_up(sandbox, workspace, "--agents", "claude,gemini", env=env)
    added = sandbox.run(["dbx-fmapi", "mcp", "add", "genie", SPACE, "--name", "genie"], env=env)
    assert added.code == 0, added
    assert "genie" in json.loads(settings.read_text())["mcpServers"]
    dotfiles = sandbox.home / "dotfiles"
    dotfiles.mkdir()
    moved = dotfiles / "gemini-settings.json"
    settings.rename(moved)
    settings.symlink_to(moved)
    result = sandbox.run(["dbx-fmapi", "uninstall", "--yes"], env=env)
    assert result.code == 0, result
    assert settings.is_symlink() and settings.resolve() == moved.resolve()
    assert json.loads(moved.read_text()) == {}


def test_moving_to_settings_local_json_keeps_a_link_to_settings_setup_created(
    sandbox: Sandbox, workspace: FakeWorkspace, tmp_path: Path
) -> None:
    """Setup created a project's settings.json; the user moved it into their dotfiles, linked
    it, and the team tracked the link in git. Static mode then moves the configuration to
    settings.local.json: the old file loses our keys but the link stays (before: the link was
    deleted and the dotfiles copy kept our keys)."""
    from tests.helpers.programs import git

    project = tmp_path / "project"
    project.mkdir()
    set_up(sandbox, workspace, "--settings-location", str(project), "--shell", "none")
    settings = project / ".claude" / "settings.json"
    assert "apiKeyHelper" in json.loads(settings.read_text())
    moved = sandbox.home / "dotfiles" / "project-settings.json"
    moved.parent.mkdir()
    settings.rename(moved)
    settings.symlink_to(moved)
    git(project, "init", "-q")
    git(project, "add", ".claude/settings.json")
    git(project, "commit", "-qm", "settings")
    args = ["--settings-location", str(project), "--token-mode", "static", "--yes"]
    set_up(sandbox, workspace, *args, "--shell", "none")
    assert (project / ".claude" / "settings.local.json").exists()
    assert settings.is_symlink() and settings.resolve() == moved.resolve()
    assert json.loads(moved.read_text()) == {}
