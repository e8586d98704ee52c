"""A settings file written as JSON with comments or trailing commas (as editors allow) keeps
every key of the user's through setup (issue 12): it is backed up, rewritten as JSON with the
user's keys and ours, and uninstall puts the original bytes back."""

from __future__ import annotations

import json

from dbx_fmapi_claude.agents.claude import settings
from tests.rig.sandbox import Sandbox
from tests.rig.workspace import FakeWorkspace

JSONC = b"""{
  // my settings, kept by hand
  "theme": "dark",
  "permissions": {
    "allow": ["Bash(ls:*)", "Read(//home/**)",],  /* trailing comma */
  },
  "env": {"FOO": "a \\"quoted\\" // not a comment",},
}
"""


def test_comments_and_trailing_commas_are_read_past() -> None:
    try:
        settings.parse(JSONC, "settings.json")
    except settings.SettingsCorrupt as exc:
        assert exc.relaxed
        assert exc.salvage == {
            "theme": "dark",
            "permissions": {"allow": ["Bash(ls:*)", "Read(//home/**)"]},
            "env": {"FOO": 'a "quoted" // not a comment'},
        }
    else:
        raise AssertionError("JSONC is not JSON: setup must back it up before rewriting")


def test_broken_json_is_still_broken() -> None:
    for raw in (b'{"a": 1', b"{/* open", b'{"a": [1,,]}', b"[1, 2,]"):
        try:
            settings.parse(raw, "x")
        except settings.SettingsCorrupt as exc:
            assert not exc.relaxed, raw
        else:
            raise AssertionError(raw)


def test_setup_keeps_the_users_keys_and_uninstall_restores_the_bytes(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    path = sandbox.home / ".claude/settings.json"
    path.parent.mkdir()
    path.write_bytes(JSONC)
    sandbox.signed_in(workspace)
    out = sandbox.run(
        ["setup-fmapi-claudecode", "--host", workspace.url, "--skip-install", "--shell", "none"],
        timeout=120,
    )
    assert out.code == 0, out
    data = json.loads(path.read_text())
    assert data["theme"] == "dark"
    assert data["permissions"] == {"allow": ["Bash(ls:*)", "Read(//home/**)"]}
    assert data["env"]["FOO"] == 'a "quoted" // not a comment'
    assert data["env"]["ANTHROPIC_BASE_URL"].startswith(workspace.url)
    backups = list(path.parent.glob("settings.json.bak-*"))
    assert len(backups) == 1 and backups[0].read_bytes() == JSONC
    assert str(backups[0]) in out.output
    un = sandbox.run(["dbx-fmapi", "uninstall", "--yes"], timeout=120)
    assert un.code == 0, un
    assert path.read_bytes() == JSONC
