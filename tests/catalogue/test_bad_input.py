"""Bad input, one row a case: workspace URLs, profile names, model IDs, settings files, rc files,
~/.claude.json. A refusal is a one-line reason, the fix as a command, a non-zero exit and every
file under HOME byte-identical; an accepted oddity changes nothing of the user's but our part.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import stat
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.catalogue.helpers import (
    BAD_INPUT,
    BEGIN,
    USER_BASHRC,
    USER_SETTINGS,
    VOLATILE,
    assert_only_ours_changed,
    assert_refused,
    assert_unchanged,
    case,
    json_file,
    needs_modes,
    no_traceback,
    pwned,
    rc_without_block,
    seed_user_files,
    settings_without_ours,
    setup,
    signed_in,
    unprivileged,
)
from tests.helpers.mgmt import config_of
from tests.rig.sandbox import Sandbox
from tests.rig.workspace import FakeWorkspace


@pytest.fixture
def workspace(shared_workspace: FakeWorkspace) -> FakeWorkspace:
    """The module's workspace: these cases only read from it."""
    shared_workspace.clear_log()
    return shared_workspace


PROG = "setup-fmapi-claudecode"
SHELLS = tuple(sh for sh in ("bash", "zsh", "fish") if sh == "bash" or shutil.which(sh))
needs_zsh = pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")


@dataclass(frozen=True)
class Refused:
    code: int
    says: str
    fix: str | None = None


# --- workspace URLs ------------------------------------------------------------------------------

URL_REFUSED = {
    "empty": ("", Refused(2, "Workspace URL is empty")),
    "blank": ("   ", Refused(2, "Workspace URL is empty")),
    "http on a workspace host": (
        "http://my-workspace.cloud.databricks.com",
        Refused(2, "must start with https://"),
    ),
    "http on a private address": ("http://10.0.0.5", Refused(2, "must start with https://")),
    "http on a loopback look-alike name": (
        "http://127.0.0.1.nip.io",
        Refused(2, "must start with https://"),
    ),
    "http on localhost.<domain>": (
        "http://localhost.example.com",
        Refused(2, "must start with https://"),
    ),
    # The Databricks CLI logs in over http:// only to 127.0.0.1 (its SDK's validateHost).
    "http on localhost": (
        "http://localhost:8765",
        Refused(2, "http:// works only as http://127.0.0.1", "--host http://127.0.0.1:8765"),
    ),
    "http on IPv6 loopback": (
        "http://[::1]:8765/?o=1",
        Refused(2, "http:// works only as http://127.0.0.1", "--host http://127.0.0.1:8765"),
    ),
    "no scheme": ("my-workspace.cloud.databricks.com", Refused(2, "must start with https://")),
    "no scheme, with port": ("127.0.0.1:8443", Refused(2, "must start with https://")),
    "ftp scheme": ("ftp://my-workspace.cloud.databricks.com", Refused(2, "https://")),
    "scheme only": ("https://", Refused(2, "no valid host name")),
    "space inside": ("https://my workspace.com", Refused(2, "spaces or control characters")),
    "tab inside": ("https://my\tworkspace.com", Refused(2, "spaces or control characters")),
    "newline and a flag": (
        "https://ws.example.com\n--profile x",
        Refused(2, "spaces or control characters"),
    ),
    "escape sequence": ("https://ws\x1b[31m.example.com", Refused(2, "control characters")),
    "unicode host": ("https://wörkspace.cloud.databricks.com", Refused(2, "must be ASCII")),
    "unicode dot": ("https://ws\u3002example\u3002com", Refused(2, "must be ASCII")),
    "zero-width space": ("https://ws\u200b.example.com", Refused(2, "must be ASCII")),
    "right-to-left override": ("https://ws\u202e.example.com", Refused(2, "must be ASCII")),
    "user and password": ("https://user:pw@ws.example.com", Refused(2, "no valid host name")),
    "port out of range": ("https://ws.example.com:99999", Refused(2, "Workspace URL")),
    "port not a number": ("https://ws.example.com:https", Refused(2, "Workspace URL")),
    "command substitution in host": (
        "https://ws$(id).example.com",
        Refused(2, "invalid host name"),
    ),
    "backticks in host": ("https://`id`.example.com", Refused(2, "invalid host name")),
    "semicolon in host": ("https://ws.example.com;touch pwned", Refused(2, "Workspace URL")),
    "very long host (300)": ("https://" + "a" * 290 + ".example.com", Refused(2, "too long")),
    "very long host (10000)": ("https://" + "a" * 10_000 + ".com", Refused(2, "too long")),
}


@case(BAD_INPUT, "workspace URL")
@pytest.mark.parametrize("name", list(URL_REFUSED))
def test_a_bad_workspace_url_is_refused_with_nothing_changed(sandbox: Sandbox, name: str) -> None:
    raw, want = URL_REFUSED[name]
    before = seed_user_files(sandbox)
    result = setup(sandbox, "--host", raw)
    assert_refused(result, want.code, want.says, want.fix or "--host https://", prog=PROG)
    assert_unchanged(sandbox, before, exclude=())
    assert sandbox.databricks_calls() == []  # refused before signing in
    assert pwned(sandbox.root) == []


# Accepted: "{url}" is the fake workspace (http://127.0.0.1:PORT), "{port}" its port. Second
# item: what setup must record.
URL_ACCEPTED = {
    "trailing slash": ("{url}/", "{url}"),
    "path from the browser": ("{url}/browse/folders/1234", "{url}"),
    "?o= workspace id": ("{url}/?o=1234567890123456", "{url}"),
    "fragment": ("{url}/#notebook/123/command/456", "{url}"),
    "path, query and fragment": ("{url}/sql/editor/abc?o=1&x=y#frag", "{url}"),
    "surrounding whitespace": ("  {url}/  ", "{url}"),
    "very long path": ("{url}/" + "x" * 5000, "{url}"),
    "upper-case scheme and host": ("HTTP://127.0.0.1:{port}/", "http://127.0.0.1:{port}"),
}


@case(BAD_INPUT, "workspace URL")
@pytest.mark.parametrize("name", list(URL_ACCEPTED))
def test_browser_junk_and_loopback_forms_are_accepted_and_stripped(
    sandbox: Sandbox, workspace: FakeWorkspace, name: str
) -> None:
    raw, want = URL_ACCEPTED[name]
    signed_in(sandbox, workspace)
    values = {"url": workspace.url, "port": str(workspace.port)}
    before = seed_user_files(sandbox)
    result = setup(sandbox, "--host", raw.format(**values), "--shell", "bash")
    expected = want.format(**values)
    assert result.code == 0, result
    no_traceback(result)
    assert config_of(sandbox)["host"] == expected
    env = json_file(sandbox.home / ".claude/settings.json")["env"]
    assert env["ANTHROPIC_BASE_URL"] == f"{expected}/serving-endpoints/anthropic"
    assert_only_ours_changed(sandbox, before)


# --- profile names -------------------------------------------------------------------------------

PROFILES = {
    "space": "my profile",
    "brackets": "[prod]",
    "closing bracket": "prod]",
    "equals sign": "a=b",
    "newline": "a\nb",
    "carriage return": "a\rb",
    "empty": "",
    "blank": "   ",
    "leading dash": "-rf",
    "semicolon": "a;touch pwned",
    "command substitution": "$(touch pwned)",
    "backticks": "`touch pwned`",
    "single quote": "it's",
    "double quote": 'a"b',
    "hash (ini comment)": "a#b",
    "colon": "a:b",
    "slash": "../../etc/x",
    "unicode": "prød",
    "too long (129)": "p" * 129,
}


@case(BAD_INPUT, "profile name")
@pytest.mark.parametrize("name", list(PROFILES))
def test_a_bad_profile_name_is_refused_with_nothing_changed(
    sandbox: Sandbox, workspace: FakeWorkspace, name: str
) -> None:
    before = seed_user_files(sandbox)
    result = setup(sandbox, "--host", workspace.url, f"--profile={PROFILES[name]}")
    assert_refused(result, 2, "invalid profile name", "--profile", prog=PROG)
    assert_unchanged(sandbox, before, exclude=())
    assert sandbox.databricks_calls() == []
    assert pwned(sandbox.root) == []


HOSTILE_PROFILES = {
    "command substitution": "$(touch pwned-subst)",
    "backticks": "`touch pwned-tick`",
    "semicolon": "x;touch pwned-semi",
    "quotes": 'it\'s "$(touch pwned-quote)"',
}


@case(BAD_INPUT, "profile name")
@pytest.mark.parametrize("command", ["token", "login"])
@pytest.mark.parametrize("name", list(HOSTILE_PROFILES))
def test_a_hostile_profile_for_token_or_login_fails_and_its_fix_is_safe_to_paste(
    sandbox: Sandbox, workspace: FakeWorkspace, name: str, command: str
) -> None:
    """`dbx-fmapi token|login --profile X` take any name (the CLI's own profiles): an unknown one
    fails with exit 1-4, and the fix it prints runs nothing hidden when pasted into a shell."""
    signed_in(sandbox, workspace)
    before = seed_user_files(sandbox)
    result = sandbox.run(
        ["dbx-fmapi", command, "--profile", HOSTILE_PROFILES[name]],
        env={"DISPLAY": None, "SSH_CONNECTION": None},
    )
    assert result.code in (1, 2, 4), result
    no_traceback(result)
    assert result.stdout == ""
    fixes = [ln.strip()[5:] for ln in result.stderr.splitlines() if ln.strip().startswith("fix:")]
    assert len(fixes) == 1, result
    assert fixes[0].startswith("databricks "), result
    pasted = sandbox.run(["/bin/sh", "-c", fixes[0]], timeout=30)
    assert "pwned" not in pasted.stdout
    assert pwned(sandbox.root) == [], result
    assert_unchanged(sandbox, before)


@case(BAD_INPUT, "profile name")
def test_an_unusual_but_valid_profile_name_works_through_the_helper(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    profile = "team.a+b@x_y-1"
    signed_in(sandbox, workspace, profile)
    before = seed_user_files(sandbox)
    result = setup(sandbox, "--host", workspace.url, "--profile", profile, "--shell", "bash")
    assert result.code == 0, result
    helper = json_file(sandbox.home / ".claude/settings.json")["apiKeyHelper"]
    out = sandbox.run(["/bin/sh", "-c", helper])
    assert out.code == 0, out
    assert workspace.token_state(out.stdout.strip()) == "valid"
    assert_only_ours_changed(sandbox, before)


# --- model IDs -----------------------------------------------------------------------------------

MODELS = {
    "unknown opus": ("--opus", "databricks-claude-opus-9-9", Refused(2, "has no model endpoint")),
    "unknown main model": (
        "--model",
        "databricks-claude-sonnet-9",
        Refused(2, "has no model endpoint"),
    ),
    "unknown, near miss": (
        "--haiku",
        "databricks-claude-haiku-4-6",
        Refused(2, "has no model endpoint"),
    ),
    "not a Claude model": (
        "--model",
        "databricks-meta-llama-3-3-70b-instruct",
        Refused(2, "is not a Claude model endpoint"),
    ),
    "empty": ("--model", "", Refused(2, "invalid model endpoint name")),
    "blank": ("--sonnet", "  ", Refused(2, "invalid model endpoint name")),
    "space": ("--opus", "databricks claude", Refused(2, "invalid model endpoint name")),
    "command substitution": ("--haiku", "$(touch pwned)", Refused(2, "invalid model")),
    "backticks": ("--model", "`touch pwned`", Refused(2, "invalid model endpoint name")),
    "semicolon": ("--sonnet", "x;touch pwned", Refused(2, "invalid model endpoint name")),
    "quotes": ("--model", "x'\"y", Refused(2, "invalid model endpoint name")),
    "newline and a variable": (
        "--model",
        "databricks-claude-opus-4-6\nANTHROPIC_BASE_URL=https://evil",
        Refused(2, "invalid model endpoint name"),
    ),
    "JSON injection": (
        "--model",
        '","ANTHROPIC_BASE_URL":"https://evil',
        Refused(2, "invalid model endpoint name"),
    ),
    "path traversal": ("--model", "../../etc/passwd", Refused(2, "invalid model endpoint name")),
    "URL": ("--opus", "https://evil.example.com/x", Refused(2, "invalid model endpoint name")),
    "unicode": ("--model", "databricks-claude-öpus-4", Refused(2, "invalid model endpoint name")),
    "too long (201)": ("--model", "m" * 201, Refused(2, "invalid model endpoint name")),
}


@case(BAD_INPUT, "model ID")
@pytest.mark.parametrize("name", list(MODELS))
def test_a_bad_model_id_is_refused_with_nothing_changed(
    sandbox: Sandbox, workspace: FakeWorkspace, name: str
) -> None:
    flag, value, want = MODELS[name]
    signed_in(sandbox, workspace)
    before = seed_user_files(sandbox)
    result = setup(sandbox, "--host", workspace.url, f"{flag}={value}")
    assert_refused(result, want.code, want.says, flag, prog=PROG)
    assert_unchanged(sandbox, before)
    assert pwned(sandbox.root) == []
    if want.code == 2:
        assert workspace.messages_requests() == []  # refused before any model request


# --- settings files ------------------------------------------------------------------------------

SETTINGS = Path(".claude/settings.json")


def _deep(n: int) -> bytes:
    return b'{"env": {}, "deep": ' + b"[" * n + b"]" * n + b"}"


# Contents of ~/.claude/settings.json that setup repairs: saved first as a timestamped backup
# (its path printed), then rewritten. `keeps`: the user's keys setup can still carry over.
REPAIRED = {
    "invalid JSON": (b'{"permissions": {"allow": []},', {}),
    "truncated": (USER_SETTINGS[:40], {}),
    "JSON array": (b'[{"env": {}}]', {}),
    "JSON string": (b'"just a string"\n', {}),
    "JSON number": (b"42", {}),
    "JSON null": (b"null", {}),
    "not UTF-8": (b'{"theme": "caf\xe9"}', {}),
    "nested 100000 deep": (_deep(100_000), {}),
    "env is a list": (
        b'{"permissions": {"allow": ["Bash(ls)"]}, "env": ["A=1"], "theme": "dark"}',
        {"permissions": {"allow": ["Bash(ls)"]}, "theme": "dark"},
    ),
    "env is a string": (
        b'{"env": "A=1", "model": "opus"}',
        {"model": "opus"},
    ),
}


@case(BAD_INPUT, "settings file")
@pytest.mark.parametrize("name", list(REPAIRED))
def test_a_corrupt_settings_file_is_backed_up_then_repaired(
    sandbox: Sandbox, workspace: FakeWorkspace, name: str
) -> None:
    raw, keeps = REPAIRED[name]
    signed_in(sandbox, workspace)
    seed_user_files(sandbox)
    (sandbox.home / SETTINGS).write_bytes(raw)
    before = sandbox.snapshot()
    result = setup(sandbox, "--host", workspace.url, "--shell", "none")
    assert result.code == 0, result
    no_traceback(result)
    backups = sorted((sandbox.home / ".claude").glob("settings.json.bak-*"))
    assert len(backups) == 1, backups
    assert backups[0].read_bytes() == raw  # the original, byte for byte
    assert str(backups[0]) in result.output  # its path is printed
    data = json_file(sandbox.home / SETTINGS)
    assert settings_without_ours(data) == keeps
    assert data["env"]["ANTHROPIC_BASE_URL"] == workspace.anthropic_base_url
    after = sandbox.snapshot()
    for rel, old in before.items():
        if rel != str(SETTINGS) and not rel.startswith((".databricks", ".config")):
            assert after[rel] == old, rel


def _settings_cases() -> dict[str, tuple[Callable[[Path], None], Refused | None]]:
    """name -> (make the settings file bad, expected refusal or None: accepted)."""

    def write(raw: bytes) -> Callable[[Path], None]:
        return lambda p: p.write_bytes(raw)

    def bom(p: Path) -> None:
        p.write_bytes(b"\xef\xbb\xbf" + USER_SETTINGS)

    def huge(p: Path) -> None:
        data = json.loads(USER_SETTINGS)
        data["permissions"]["allow"] = [f"Bash(tool-{i}:*)" for i in range(200_000)]
        p.write_text(json.dumps(data))

    def unreadable(p: Path) -> None:
        p.write_bytes(USER_SETTINGS)
        p.chmod(0)

    def read_only(p: Path) -> None:
        p.write_bytes(USER_SETTINGS)
        p.chmod(0o444)

    def directory(p: Path) -> None:
        p.mkdir()
        (p / "keep").write_text("x")

    def dangling(p: Path) -> None:
        (p.parent.parent / "dotfiles").mkdir()
        p.symlink_to("../dotfiles/claude-settings.json")

    def link(p: Path) -> None:
        (p.parent.parent / "dotfiles").mkdir()
        (p.parent.parent / "dotfiles" / "claude-settings.json").write_bytes(USER_SETTINGS)
        p.symlink_to("../dotfiles/claude-settings.json")

    def loop(p: Path) -> None:
        p.symlink_to("settings.json")

    def folder_read_only(p: Path) -> None:
        p.write_bytes(USER_SETTINGS)
        p.parent.chmod(0o555)

    def claude_dir_is_a_file(p: Path) -> None:
        p.parent.rmdir()
        p.parent.write_text("not a folder\n")

    return {
        "byte-order mark": (bom, None),
        "empty file": (write(b""), None),
        "only whitespace": (write(b" \n\t\n"), None),
        "env values not strings": (write(b'{"env": {"N": 1, "B": true, "L": [1]}}'), None),
        "huge (200000 rules)": (huge, None),
        "a symlink (dotfiles)": (link, None),
        "a dangling symlink": (dangling, None),
        "unreadable (mode 000)": (unreadable, Refused(1, "permission denied", "ls -l")),
        "read-only (mode 444)": (read_only, Refused(1, "is read-only", "chmod u+w")),
        "folder read-only (555)": (folder_read_only, Refused(1, "not writable", "chmod u+w")),
        "a directory": (directory, Refused(1, "is a directory", "mv ")),
        "a symlink loop": (loop, Refused(1, "symlink loop", "ls -l")),
        "~/.claude is a file": (claude_dir_is_a_file, Refused(1, "not a folder", "mv ")),
    }


SETTINGS_CASES = _settings_cases()
NEEDS_MODES = {"unreadable (mode 000)", "read-only (mode 444)", "folder read-only (555)"}


@case(BAD_INPUT, "settings file")
@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=needs_modes) if n in NEEDS_MODES else n for n in SETTINGS_CASES],
)
def test_odd_settings_files_are_kept_or_refused(
    sandbox: Sandbox, workspace: FakeWorkspace, name: str
) -> None:
    make, refused = SETTINGS_CASES[name]
    signed_in(sandbox, workspace)
    seed_user_files(sandbox)
    path = sandbox.home / SETTINGS
    path.unlink()
    try:
        make(path)
        before = sandbox.snapshot() if os.access(path.parent, os.R_OK) else {}
        was = path.read_bytes() if path.is_file() and name not in NEEDS_MODES else None
        result = sandbox.run(
            unprivileged(
                [
                    "setup-fmapi-claudecode",
                    "--skip-install",
                    "--host",
                    workspace.url,
                    "--shell",
                    "bash",
                ]
            ),
            timeout=60,
        )
    finally:
        for p in (path.parent, path):
            if p.exists() and not p.is_symlink():
                p.chmod(0o755 if p.is_dir() else 0o644)
    if refused is not None:
        assert_refused(result, refused.code, refused.says, refused.fix, prog=PROG)
        if name in NEEDS_MODES:
            assert path.read_bytes() == USER_SETTINGS
        assert_unchanged(sandbox, before)
        return
    assert result.code == 0, result
    no_traceback(result)
    data = json_file(path)
    assert data["env"]["ANTHROPIC_BASE_URL"] == workspace.anthropic_base_url
    if name in ("a symlink (dotfiles)", "a dangling symlink"):
        assert path.is_symlink()  # the link stays a link; its target got the change
        assert os.readlink(path) == "../dotfiles/claude-settings.json"
    if was is not None and was.strip():
        assert settings_without_ours(data) == json.loads(was.removeprefix(b"\xef\xbb\xbf"))
    assert not list(path.parent.glob("*.bak-*"))  # nothing to repair: no backup


# --- rc files ------------------------------------------------------------------------------------

OLD_BLOCK = f'{BEGIN}\ndbx-fmapi-claude() {{\n  /old/path/dbx-fmapi-claude "$@"\n}}\n# <<< dbx-fmapi-claude <<<\n'  # noqa: E501

RC_ACCEPTED = {
    "CRLF line endings": b"export A=1\r\nalias ll='ls -l'\r\n",
    "no trailing newline": b"export A=1\nalias ll='ls -l'",
    "CRLF, no trailing newline": b"export A=1\r\nalias ll='ls -l'",
    "empty": b"",
    "blank lines only": b"\n\n\n",
    "not UTF-8": b"# caf\xe9 cr\xe8me\nexport A=1\n",
    "an old block (other path)": b"export A=1\n\n" + OLD_BLOCK.encode() + b"alias x=y\n",
    "two blocks": (b"a=1\n" + OLD_BLOCK.encode() + b"b=2\n" + OLD_BLOCK.encode() + b"c=3\n"),
    "indented markers": b"a=1\n  " + OLD_BLOCK.replace("\n#", "\n  #").encode() + b"b=2\n",
}


@case(BAD_INPUT, "rc file")
@pytest.mark.parametrize("shell", ["bash", pytest.param("zsh", marks=needs_zsh)])
@pytest.mark.parametrize("name", list(RC_ACCEPTED))
def test_odd_rc_files_keep_every_other_byte_and_the_function_works(
    sandbox: Sandbox, workspace: FakeWorkspace, name: str, shell: str
) -> None:
    signed_in(sandbox, workspace)
    seed_user_files(sandbox)
    rc = sandbox.home / f".{shell}rc"
    original = RC_ACCEPTED[name]
    rc.write_bytes(original)
    result = setup(sandbox, "--host", workspace.url, "--shell", shell, "--no-verify")
    assert result.code == 0, result
    text = rc.read_bytes().decode("utf-8", "surrogateescape")
    assert text.count(BEGIN) == 1
    assert "/old/path" not in text
    if b"dbx-fmapi-claude" not in original:
        assert rc_without_block(text).encode("utf-8", "surrogateescape") == original
    else:  # our old block(s) replaced: the user's lines stay, in order
        user_lines = [
            ln
            for ln in original.decode().splitlines()
            if ln.strip() and "dbx-fmapi-claude" not in ln and ln.strip() not in ("}",)
        ]
        assert [ln for ln in text.splitlines() if ln in user_lines] == user_lines
    # The shell defines the function from this very file, and it runs our wrapper.
    sandbox.fake_program("claude", 'echo "claude ran with: $*"\n')
    kind = "type -t" if shell == "bash" else "whence -w"
    src = sandbox.run(
        [
            shell,
            "-c",
            f'. "$HOME/.{shell}rc" 2>/dev/null; {kind} dbx-fmapi-claude; '
            "dbx-fmapi-claude --version",
        ],
        timeout=30,
    )
    assert "function" in src.stdout and "claude ran with: --version" in src.stdout, src
    # Uninstall gives the file back as it was.
    out = sandbox.run(["dbx-fmapi", "uninstall", "--yes"])
    assert out.code == 0, out
    if b"dbx-fmapi-claude" not in original:
        assert rc.read_bytes() == original


RC_REFUSED = {
    "begin marker only": (
        b"export A=1\n# >>> dbx-fmapi-claude >>>\nfoo\n",
        Refused(1, "a begin marker without its end marker", "grep -n"),
    ),
    "end marker only": (
        b"export A=1\n# <<< dbx-fmapi-claude <<<\n",
        Refused(1, "an end marker without its begin marker", "grep -n"),
    ),
    "markers reversed": (
        b"# <<< dbx-fmapi-claude <<<\nx\n# >>> dbx-fmapi-claude >>>\n",
        Refused(1, "without its", "grep -n"),
    ),
    "two begin markers": (
        b"# >>> dbx-fmapi-claude >>>\n# >>> dbx-fmapi-claude >>>\n# <<< dbx-fmapi-claude <<<\n",
        Refused(1, "a begin marker without its end marker", "grep -n"),
    ),
}


@case(BAD_INPUT, "rc file")
@pytest.mark.parametrize("name", list(RC_REFUSED))
def test_a_half_block_is_refused_with_nothing_changed(
    sandbox: Sandbox, workspace: FakeWorkspace, name: str
) -> None:
    raw, want = RC_REFUSED[name]
    signed_in(sandbox, workspace)
    seed_user_files(sandbox)
    (sandbox.home / ".bashrc").write_bytes(raw)
    before = sandbox.snapshot()
    result = setup(sandbox, "--host", workspace.url, "--shell", "bash")
    assert_refused(result, want.code, want.says, want.fix, prog=PROG)
    assert_unchanged(sandbox, before)


def _rc_unusable() -> dict[str, tuple[Callable[[Path], None], Refused]]:
    def read_only(p: Path) -> None:
        p.write_bytes(USER_BASHRC)
        p.chmod(0o444)

    def unreadable(p: Path) -> None:
        p.write_bytes(USER_BASHRC)
        p.chmod(0)

    def directory(p: Path) -> None:
        p.mkdir()

    return {
        "read-only (mode 444)": (read_only, Refused(1, "is read-only", "chmod u+w")),
        "unreadable (mode 000)": (unreadable, Refused(1, "permission denied", "ls -l")),
        "a directory": (directory, Refused(1, "is a directory", "mv ")),
    }


RC_UNUSABLE = _rc_unusable()


@case(BAD_INPUT, "rc file")
@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=needs_modes) if "mode" in n else n for n in RC_UNUSABLE]
)
def test_an_rc_file_that_cannot_be_edited_is_refused(
    sandbox: Sandbox, workspace: FakeWorkspace, name: str
) -> None:
    make, want = RC_UNUSABLE[name]
    signed_in(sandbox, workspace)
    seed_user_files(sandbox)
    rc = sandbox.home / ".bashrc"
    rc.unlink()
    make(rc)
    try:
        before = sandbox.snapshot(exclude=[".bashrc"])
        result = sandbox.run(
            unprivileged(
                ["setup-fmapi-claudecode", "--skip-install", "--host", workspace.url]
                + ["--shell", "bash"]
            ),
            timeout=60,
        )
    finally:
        if rc.is_file():
            rc.chmod(0o644)
    assert_refused(result, want.code, want.says, want.fix, prog=PROG)
    assert_unchanged(sandbox, before, exclude=(*VOLATILE, ".bashrc"))
    if rc.is_file():
        assert rc.read_bytes() == USER_BASHRC


@case(BAD_INPUT, "rc file")
def test_an_rc_file_that_is_a_symlink_stays_a_link(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    signed_in(sandbox, workspace)
    seed_user_files(sandbox)
    dotfiles = sandbox.home / "dotfiles"
    dotfiles.mkdir()
    (dotfiles / "bashrc").write_bytes(USER_BASHRC)
    rc = sandbox.home / ".bashrc"
    rc.unlink()
    rc.symlink_to("dotfiles/bashrc")
    result = setup(sandbox, "--host", workspace.url, "--shell", "bash", "--no-verify")
    assert result.code == 0, result
    assert rc.is_symlink() and os.readlink(rc) == "dotfiles/bashrc"
    text = (dotfiles / "bashrc").read_text()
    assert rc_without_block(text).encode() == USER_BASHRC


# --- ~/.claude.json ------------------------------------------------------------------------------

CLAUDE_JSON = {
    "invalid JSON": (b'{"numStartups": 3,', "not valid JSON"),
    "truncated": (b'{\n  "numStartups": 12,\n  "pro', "not valid JSON"),
    "empty": (b"", "not valid JSON"),
    "JSON array": (b"[1, 2]\n", None),
    "JSON string": (b'"x"', None),
    "byte-order mark": (b'\xef\xbb\xbf{"numStartups": 1}', None),
    "not UTF-8": (b'{"name": "caf\xe9"}', "not valid JSON"),
    "NUL bytes": (b"\x00\x00\x00\x00", "not valid JSON"),
}


@case(BAD_INPUT, "~/.claude.json")
@pytest.mark.parametrize("name", list(CLAUDE_JSON))
def test_a_corrupt_claude_json_is_left_alone(
    sandbox: Sandbox, workspace: FakeWorkspace, name: str
) -> None:
    """~/.claude.json belongs to Claude Code: setup only ever adds the onboarding flag to a JSON
    object, and leaves anything else byte-identical (with a warning when it is not JSON)."""
    raw, warns = CLAUDE_JSON[name]
    signed_in(sandbox, workspace)
    seed_user_files(sandbox)
    path = sandbox.home / ".claude.json"
    path.write_bytes(raw)
    result = setup(sandbox, "--host", workspace.url, "--shell", "bash")
    assert result.code == 0, result
    no_traceback(result)
    assert path.read_bytes() == raw
    if warns:
        assert warns in result.stderr and "leaving it alone" in result.stderr, result
    # ... and uninstall leaves it alone too.
    out = sandbox.run(["dbx-fmapi", "uninstall", "--yes"])
    assert out.code == 0, out
    assert path.read_bytes() == raw


def _claude_json_unusable() -> dict[str, tuple[Callable[[Path], None], Refused]]:
    def unreadable(p: Path) -> None:
        p.write_bytes(b'{"numStartups": 1}')
        p.chmod(0)

    def directory(p: Path) -> None:
        p.mkdir()

    return {
        "unreadable (mode 000)": (unreadable, Refused(1, "permission denied", "ls -l")),
        "a directory": (directory, Refused(1, "is a directory", "mv ")),
    }


CLAUDE_JSON_UNUSABLE = _claude_json_unusable()


@case(BAD_INPUT, "~/.claude.json")
@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=needs_modes) if "mode" in n else n for n in CLAUDE_JSON_UNUSABLE],
)
def test_a_claude_json_that_cannot_be_read_is_refused(
    sandbox: Sandbox, workspace: FakeWorkspace, name: str
) -> None:
    make, want = CLAUDE_JSON_UNUSABLE[name]
    signed_in(sandbox, workspace)
    seed_user_files(sandbox)
    path = sandbox.home / ".claude.json"
    path.unlink()
    make(path)
    try:
        before = sandbox.snapshot(exclude=[".claude.json"])
        result = sandbox.run(
            unprivileged(["setup-fmapi-claudecode", "--skip-install", "--host", workspace.url]),
            timeout=60,
        )
    finally:
        if path.is_file():
            path.chmod(0o644)
    assert_refused(result, want.code, want.says, want.fix, prog=PROG)
    assert_unchanged(sandbox, before, exclude=(*VOLATILE, ".claude.json"))


# --- shell injection through every value that reaches the apiKeyHelper or the rc block -----------

HOSTILE_DIRS = {
    "quotes": 'it\'s "quoted"',
    "command substitution": "$(touch pwned-subst)",
    "backticks": "`touch pwned-tick`",
    "separators and globs": "a;touch pwned-semi;b & c | d > e * ? [x]",
    "variables and backslash": "$HOME ${PATH} \\$(touch pwned-esc) ~",
    "newline": "line one\ntouch pwned-newline",
    "backslash before a quote": "back\\'slash; touch pwned-fish \\",
    "all at once": 'x\' "$(touch pwned-all)" `touch pwned-all2` ;touch pwned-all3\n*',
}


def _hostile_sandbox(root: Path, claude_bin: str | None, dirname: str) -> Sandbox:
    """A sandbox whose HOME (and so the installed executables in ~/.local/bin, which setup
    points the apiKeyHelper and the rc block at) lies under a hostile folder name."""
    home = root / dirname / "home with spaces"
    home.mkdir(parents=True)
    sandbox = Sandbox(root / "rig", claude_bin=claude_bin, home=home)
    local_bin = home / ".local" / "bin"
    local_bin.mkdir(parents=True)
    for name in ("dbx-fmapi", "dbx-fmapi-claude", "setup-fmapi-claudecode"):
        (local_bin / name).symlink_to(os.readlink(sandbox.bin / name))
    if claude_bin:  # where Claude Code's own installer puts it
        (local_bin / "claude").symlink_to(claude_bin)
    return sandbox


@case(BAD_INPUT, "shell injection")
@pytest.mark.parametrize("name", list(HOSTILE_DIRS))
def test_hostile_install_paths_never_run_as_commands(
    tmp_path: Path, workspace: FakeWorkspace, claude_bin: str, name: str
) -> None:
    """The apiKeyHelper (run by Claude Code through /bin/sh) and the shell function (sourced
    by bash and zsh, autoloaded by fish; each where installed) hold the path of the installed
    executables. A HOME whose path is full of quotes, $(), backticks, separators and newlines
    must still work, and never run what it spells."""
    sandbox = _hostile_sandbox(tmp_path, claude_bin, HOSTILE_DIRS[name])
    sandbox.signed_in(workspace)
    home = sandbox.home
    for shell in SHELLS:
        result = setup(sandbox, "--host", workspace.url, "--shell", shell)
        assert result.code == 0, result
        # The shell defines the function from the rc block, and the function (not PATH: it
        # holds only the system folders here) runs the wrapper at its hostile path.
        if shell == "fish":  # fish autoloads ~/.config/fish/functions/dbx-fmapi-claude.fish
            script = "type -t dbx-fmapi-claude; and dbx-fmapi-claude --version"
        else:
            kind = "type -t" if shell == "bash" else "whence -w"
            script = (
                f'. "$HOME/.{shell}rc" && {kind} dbx-fmapi-claude && dbx-fmapi-claude --version'
            )
        src = sandbox.run([shell, "-c", script], env={"PATH": "/usr/bin:/bin"}, timeout=60)
        assert "function" in src.stdout and "Claude Code" in src.stdout, src
    helper = json_file(home / ".claude/settings.json")["apiKeyHelper"]
    assert shlex.split(helper)[0] == str(home / ".local/bin/dbx-fmapi")
    # Claude Code runs the helper through the shell: the model answers with the helper's token.
    workspace.reply_text = "answer through the helper"
    run = sandbox.run(["claude", "-p", "hi"], env={"CLAUDE_CODE_MAX_RETRIES": "0"}, timeout=120)
    assert run.code == 0 and "answer through the helper" in run.stdout, run
    assert all(r.token is not None and r.token.valid for r in workspace.messages_requests())
    # Static mode and the wrapper refresh path, then uninstall, with the same paths.
    result = setup(sandbox, "--host", workspace.url, "--shell", "bash", "--token-mode", "static")
    assert result.code == 0, result
    assert sandbox.run(["dbx-fmapi-claude", "--version"]).code == 0
    assert sandbox.run(["dbx-fmapi", "uninstall", "--yes"]).code == 0
    assert pwned(tmp_path) == []


@case(BAD_INPUT, "shell injection")
def test_a_hostile_project_folder_in_static_mode(
    sandbox: Sandbox, workspace: FakeWorkspace, tmp_path: Path
) -> None:
    """The settings location is a folder path: setup asks git about it and writes into it;
    neither step may treat its name as shell."""
    project = tmp_path / "proj $(touch pwned-proj) `touch pwned-proj2`;x\nnl"
    project.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    sandbox.signed_in(workspace)
    result = setup(
        sandbox,
        "--host",
        workspace.url,
        "--settings-location",
        str(project),
        "--token-mode",
        "static",
        "--shell",
        "none",
    )
    assert result.code == 0, result
    path = project / ".claude" / "settings.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # the git check ran on that folder: the token file is in its own exclude file now
    assert "git exclude" in result.stdout
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", ".claude/settings.json"], cwd=project, check=False
    )
    assert ignored.returncode == 0
    out = sandbox.run(["dbx-fmapi-claude", "--version"], cwd=project)
    assert out.code == 0, out
    assert pwned(tmp_path) == []
