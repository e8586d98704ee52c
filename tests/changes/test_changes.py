"""The change engine (changes.py) that setup and uninstall share: plan -> diff -> apply, all or
nothing -> rollback. In-process, on files in tmp_path."""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path

import pytest

from dbx_fmapi_claude.changes import engine as changes
from dbx_fmapi_claude.changes.engine import Change, Plan
from dbx_fmapi_claude.core.errors import UserError
from dbx_fmapi_claude.core.paths import Paths
from dbx_fmapi_claude.record import originals


@pytest.fixture
def paths(tmp_path: Path) -> Paths:
    return Paths(tmp_path / "home", tmp_path / "home" / ".config" / "dbx-fmapi-claude")


def _apply(plan: Plan, paths: Paths) -> list[str]:
    said: list[str] = []
    changes.preflight(plan.changes, name="test")
    changes.apply(plan, paths=paths, say=said.append, name="test", again="test-cmd")
    return said


def test_show_is_a_unified_diff_with_secrets_redacted(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    old = (
        b'{\n  "env": {\n    "ANTHROPIC_API_KEY": "sk-ant-api03-secret-key",\n    "A": "1"\n  }\n}'
    )
    new = old.replace(b'"A": "1"', b'"A": "2"')
    plan = Plan()
    plan.add(Change(path, old, new, "test"))
    plan.add(Change(tmp_path / "gone", b"bye\n", None, "delete"))
    plan.add(Change(tmp_path / "same", b"x", b"x", "no change"))  # dropped: nothing changes
    out = io.StringIO()
    changes.show(plan, out, ["12345"])
    text = out.getvalue()
    assert f"--- {path}\n+++ {path}\n" in text
    assert '-    "A": "1"\n+    "A": "2"\n' in text
    assert '"ANTHROPIC_API_KEY": "<redacted>"' in text and "sk-ant" not in text
    assert "}\n\\ No newline at end of file\n" in text
    assert f"--- {tmp_path / 'gone'}\n+++ /dev/null\n@@ -1 +0,0 @@\n-bye\n" in text
    assert "same" not in text


def test_show_redacts_the_secrets_of_the_other_agents_files(tmp_path: Path) -> None:
    """Codex's TOML and OpenCode's JSON hold credentials under names of their own (apiKey,
    experimental_bearer_token, a header): never shown; a reference or a variable's name is."""
    toml = (
        b'[model_providers.mine]\nexperimental_bearer_token = "bearer-0123456789"\n'
        b'env_key = "MINE_API_KEY"\nhttp_headers = { "X-Api-Key" = "hdr-0123456789" }\n'
    )
    opencode = (
        b'{"provider": {"openai": {"options": {"apiKey": "not-shaped-0123456789"}}},\n'
        b' "mine": {"options": {"apiKey": "{env:MINE_KEY}", "baseURL": "https://x"}},\n'
        b' "google": {"key": "AIzaSyA1234567890abcdefghijklmnopqrstuv"},\n'
        b' "note": "sk-proj-abcdefghijklmnopqrstuvwxyz012345"}\n'
    )
    plan = Plan()
    plan.add(Change(tmp_path / "config.toml", toml, toml + b"# ours\n", "codex"))
    plan.add(Change(tmp_path / "opencode.json", opencode, b"{}\n", "opencode"))
    out = io.StringIO()
    changes.show(plan, out, [])
    text = out.getvalue()
    for secret in ("bearer-0123456789", "hdr-0123456789", "not-shaped", "AIza", "sk-proj"):
        assert secret not in text, secret
    assert 'experimental_bearer_token = "<redacted>"' in text
    assert '"X-Api-Key" = "<redacted>"' in text and '"apiKey": "<redacted>"' in text
    assert 'env_key = "MINE_API_KEY"' in text and '"apiKey": "{env:MINE_KEY}"' in text


def test_apply_writes_every_change_and_keeps_originals(paths: Paths, tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "sub" / "b", tmp_path / "c"
    a.write_bytes(b"old a\n")
    c.write_bytes(b"old c\n")
    plan = Plan()
    plan.add(Change(a, b"old a\n", b"new a\n", "a", keep_original=True))
    plan.add(Change(b, None, b"token\n", "b", secret=True, keep_original=True))
    plan.add(Change(c, b"old c\n", None, "c"))
    _apply(plan, paths)
    assert a.read_bytes() == b"new a\n" and b.read_bytes() == b"token\n" and not c.exists()
    assert stat.S_IMODE(os.stat(b).st_mode) == 0o600
    assert originals.load_original(paths, a) == (True, b"old a\n")
    assert originals.load_original(paths, b) == (True, None)


def test_a_failure_halfway_puts_everything_back(
    paths: Paths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_bytes(b"old a\n")
    a.chmod(0o640)
    b.write_bytes(b"old b\n")
    plan = Plan()
    plan.add(Change(a, b"old a\n", b"new a\n", "a", mode=0o600, keep_original=True))
    plan.add(Change(b, b"old b\n", b"new b\n", "b", keep_original=True))
    real_commit = changes.Pending.commit

    def commit(self: changes.Pending) -> Path:
        if self.target.name == "b":
            raise UserError("disk on fire", "put it out")
        return real_commit(self)

    monkeypatch.setattr(changes.Pending, "commit", commit)
    with pytest.raises(UserError, match="disk on fire"):
        _apply(plan, paths)
    assert a.read_bytes() == b"old a\n" and stat.S_IMODE(os.stat(a).st_mode) == 0o640
    assert b.read_bytes() == b"old b\n"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_a_file_changed_since_the_plan_gets_the_edit_redone(paths: Paths, tmp_path: Path) -> None:
    path = tmp_path / "rc"
    path.write_bytes(b"mine\n")
    plan = Plan()
    plan.add(
        Change(path, b"mine\n", b"mine\nours\n", "rc", redo=lambda now: (now or b"") + b"ours\n")
    )
    path.write_bytes(b"mine\nedited meanwhile\n")
    _apply(plan, paths)
    assert path.read_bytes() == b"mine\nedited meanwhile\nours\n"


def test_a_changed_file_without_a_redo_is_refused(paths: Paths, tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"one\n")
    plan = Plan()
    plan.add(Change(path, b"one\n", b"two\n", "f"))
    path.write_bytes(b"edited\n")
    with pytest.raises(UserError, match="changed while test ran") as exc:
        _apply(plan, paths)
    assert exc.value.fix == "run test again: test-cmd"
    assert path.read_bytes() == b"edited\n"


def test_an_unreadable_file_is_backed_up_first_without_our_token(
    paths: Paths, tmp_path: Path
) -> None:
    path = tmp_path / "settings.json"
    broken = b'{"env": {"ANTHROPIC_AUTH_TOKEN": "eyJabc.def.ghi", "X": "keep"'
    path.write_bytes(broken)
    plan = Plan()
    ours = ("ANTHROPIC_AUTH_TOKEN",)  # what the planner names (the engine knows no agent)
    plan.add(Change(path, broken, b"{}\n", "settings", backup_first=True, our_secrets=ours))
    said = _apply(plan, paths)
    backups = [p for p in tmp_path.iterdir() if ".bak-" in p.name]
    assert len(backups) == 1 and said == [
        f"  saved the unreadable {path} as {backups[0]} (its token blanked out)"
    ]
    kept = backups[0].read_bytes()
    assert b"eyJabc" not in kept and b'"X": "keep"' in kept
    assert stat.S_IMODE(os.stat(backups[0]).st_mode) == 0o600


def test_a_symlink_is_written_through_and_deleted_itself(paths: Paths, tmp_path: Path) -> None:
    dotfiles = tmp_path / "dotfiles"
    dotfiles.mkdir()
    (dotfiles / "rc").write_bytes(b"old\n")
    (dotfiles / "fn").write_bytes(b"ours\n")
    rc, fn = tmp_path / "rc", tmp_path / "fn"
    rc.symlink_to(dotfiles / "rc")
    fn.symlink_to(dotfiles / "fn")
    plan = Plan()
    plan.add(Change(rc, b"old\n", b"new\n", "rc"))
    plan.add(Change(fn, b"ours\n", None, "fn"))
    _apply(plan, paths)
    assert rc.is_symlink() and (dotfiles / "rc").read_bytes() == b"new\n"
    assert not os.path.lexists(fn) and (dotfiles / "fn").read_bytes() == b"ours\n"


def test_preflight_refuses_a_read_only_file_before_anything_changes(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_bytes(b"a\n")
    b.write_bytes(b"b\n")
    b.chmod(0o444)
    plan = Plan()
    plan.add(Change(a, b"a\n", b"A\n", "a"))
    plan.add(Change(b, b"b\n", b"B\n", "b"))
    with pytest.raises(UserError, match="read-only"):
        changes.preflight(plan.changes, name="test")
    assert a.read_bytes() == b"a\n"


def test_a_change_that_drops_its_original_forgets_it_once_written(
    paths: Paths, tmp_path: Path
) -> None:
    """A settings file the configuration stopped using: once our keys are out, uninstall has
    nothing to restore there (setup marks the change; no one matches its label)."""
    path = tmp_path / "settings.json"
    path.write_bytes(b"{}\n")
    originals.save_original(paths, path, b"{}\n")
    plan = Plan()
    plan.add(Change(path, b"{}\n", b'{"a": 1}\n', "previous settings", drop_original=True))
    _apply(plan, paths)
    assert path.read_bytes() == b'{"a": 1}\n'
    assert originals.load_original(paths, path) == (False, None)
