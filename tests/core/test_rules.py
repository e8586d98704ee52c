"""Rules that live in one place each (issue 11): whose apiKeyHelper, where the rc file is, what
is redacted, how a workspace error reads, how a token is asked for. In-process and fast."""

from __future__ import annotations

from pathlib import Path

import pytest

from dbx_fmapi_claude.agents.claude import effective
from dbx_fmapi_claude.auth import dbcli
from dbx_fmapi_claude.core import redact
from dbx_fmapi_claude.core.paths import Paths
from dbx_fmapi_claude.shell import rcblock
from dbx_fmapi_claude.workspace import client as workspace

# --- whose apiKeyHelper ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command, recorded, ours",
    [
        ("'/home/u/.local/bin/dbx-fmapi' token --profile 'DEFAULT'", None, True),
        ("dbx-fmapi token", None, True),
        ("/opt/x/dbx-fmapi --profile p token", None, True),
        ("my-helper --profile p", "my-helper --profile p", True),  # the one setup recorded
        ("echo dbx-fmapi token", None, False),
        ("/opt/dbx-fmapi-claude token", None, False),
        ("/opt/dbx-fmapi/bin/other token", None, False),
        ("dbx-fmapi status", None, False),
        (None, None, False),
        (42, None, False),
    ],
)
def test_is_our_helper(command: object, recorded: object, ours: bool) -> None:
    assert effective.is_our_helper(command, recorded) is ours


# --- where the rc file is ----------------------------------------------------------------------


def test_rc_file_honours_zdotdir_and_xdg_config_home() -> None:
    paths = Paths("/h", "/h/.config/dbx-fmapi-claude")
    env = {"ZDOTDIR": "/z", "XDG_CONFIG_HOME": "/x"}
    assert str(paths.rc_file("zsh", env)) == "/z/.zshrc"
    assert str(paths.rc_file("zsh", {})) == "/h/.zshrc"
    assert str(paths.rc_file("zsh", {"ZDOTDIR": "rel"})) == "/h/.zshrc"  # zsh would not use it
    assert str(paths.rc_file("bash", env)) == "/h/.bashrc"
    assert str(paths.rc_file("fish", env)) == "/x/fish/functions/dbx-fmapi-claude.fish"
    assert paths.rc_file("none", env) is None


def test_rc_candidates_cover_every_shell_under_this_and_the_default_environment() -> None:
    paths = Paths("/h", "/h/.config/dbx-fmapi-claude")
    env = {"ZDOTDIR": "/z", "XDG_CONFIG_HOME": "/x"}
    found = [str(p) for p in paths.rc_candidates(env)]
    for shell in ("zsh", "bash", "fish"):
        assert str(paths.rc_file(shell, env)) in found
        assert str(paths.rc_file(shell, {})) in found
    assert len(found) == len(set(found))
    assert [str(p) for p in paths.rc_candidates({})].count("/h/.zshrc") == 1


def test_the_login_file_is_the_one_each_login_shell_reads(tmp_path: Path) -> None:
    paths = Paths(tmp_path, tmp_path / ".config/dbx-fmapi-claude")
    env = {"ZDOTDIR": "/z", "XDG_CONFIG_HOME": "/x"}
    # bash -l reads the first of these that exists; none: ~/.profile (it shadows nothing)
    assert paths.login_file("bash", env) == tmp_path / ".profile"
    for name in (".profile", ".bash_login", ".bash_profile"):
        (tmp_path / name).write_text("")
        assert paths.login_file("bash", env) == tmp_path / name
    assert str(paths.login_file("zsh", env)) == "/z/.zshenv"
    assert paths.login_file("zsh", {}) == tmp_path / ".zshenv"
    assert str(paths.login_file("fish", env)) == "/x/fish/conf.d/dbx-fmapi-claude.fish"
    assert paths.login_file("none", env) is None
    found = paths.rc_candidates(env)  # uninstall looks in every one of them
    for shell in ("zsh", "bash", "fish"):
        assert paths.login_file(shell, env) in found and paths.login_file(shell, {}) in found
    for name in (".profile", ".bash_login", ".bash_profile"):
        assert tmp_path / name in found


def test_the_login_block_is_posix_and_only_for_local_bin() -> None:
    folder = "/home/Jane Doe's/.local/bin"
    assert rcblock.path_folder(folder + "/dbx-fmapi-claude") == folder
    assert rcblock.path_folder("/opt/venv/bin/dbx-fmapi-claude") is None
    sh = rcblock.render_path("bash", folder)
    assert "dbx-fmapi-claude()" not in sh  # not a valid name for sh, which reads ~/.profile
    assert "export PATH='/home/Jane Doe'\"'\"'s/.local/bin':\"$PATH\"" in sh
    fish = rcblock.render_path("fish", folder)
    assert "set -gx PATH '/home/Jane Doe\\'s/.local/bin' $PATH" in fish
    for block in (sh, fish):
        assert rcblock.remove_block(rcblock.upsert_block("x\n", block)) == "x\n"


# --- what is redacted ----------------------------------------------------------------------------

JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
SHAPED = [
    JWT,
    "dapi0123456789abcdef01",
    "dose0123456789abcdef01",
    "doau_0123456789abcdef",
    "sk-ant-api03-abcdefgh",
    "sk-proj-abcdefghijklmnopqrstuvwxyz012345",  # OpenAI (Codex)
    "AIzaSyA1234567890abcdefghijklmnopqrstuv",  # Google (Gemini CLI)
    "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    "github_pat_11ABCDEFG0123456789_abcdefghijklmnop",
    "AKIAABCDEFGHIJKLMNOP",
    "xoxb-1234567890-abcdefghij",
]


@pytest.mark.parametrize("secret", SHAPED)
def test_credential_shapes_never_shown(secret: str) -> None:
    assert secret not in redact.message(f"error: got {secret} back")
    assert secret not in dbcli.scrub(f"Error: got {secret} back")
    assert secret not in redact.text(f'+  "NOTE": "{secret}",\n')


@pytest.mark.parametrize(
    "name, secret",
    [
        ("ANTHROPIC_API_KEY", True),
        ("ANTHROPIC_AUTH_TOKEN", True),
        ("DATABRICKS_CLIENT_SECRET", True),
        ("github_token", True),
        ("AWS_SECRET_ACCESS_KEY", True),
        ("DB_PASSWORD", True),
        ("PASSWORD", True),
        ("SMTP_PASSWD", True),
        ("GPG_PASSPHRASE", True),
        ("MY_SECRETS", True),
        ("OPENAI_APIKEY", True),
        ("refresh_token", True),
        ("ANTHROPIC_MODEL", False),
        ("CLAUDE_CODE_API_KEY_HELPER_TTL_MS", False),
        ("CLAUDE_CODE_MAX_CONTEXT_TOKENS", False),  # a number of tokens
        ("token_mode", False),  # the setup record's
        ("apiKeyHelper", False),
        ("KEY", False),
        ("PWD", False),  # the working directory
    ],
)
def test_secret_names(name: str, secret: bool) -> None:
    assert redact.is_secret_name(name) is secret
    line = f'-    "{name}": "some plain value",\n'
    assert ("some plain value" in redact.text(line)) is not secret
    assert ("some plain value" in redact.text(f"export {name}='some plain value'\n")) is not secret


def test_diff_lines_keep_their_shape() -> None:
    assert redact.text('+    "ANTHROPIC_AUTH_TOKEN": "abc\\"def",\n') == (
        '+    "ANTHROPIC_AUTH_TOKEN": "<redacted>",\n'
    )
    assert redact.text('  "X_KEY": "cut off') == '  "X_KEY": "<redacted>'
    assert redact.text("export A_SECRET=abc; ls\n") == "export A_SECRET=<redacted>; ls\n"
    assert redact.text("value 12345 here", ["12345"]) == "value <redacted> here"
    assert redact.text("nothing secret here\n") == "nothing secret here\n"


def test_a_backup_loses_only_our_token() -> None:
    raw = b'{"env": {"ANTHROPIC_AUTH_TOKEN": "t0ken", "ANTHROPIC_API_KEY": "sk-ant-keep-me"'
    out = redact.blank_members(raw, ["ANTHROPIC_AUTH_TOKEN"])
    assert out is not None and b"t0ken" not in out and redact.BACKUP_MARK.encode() in out
    assert b"sk-ant-keep-me" in out  # the user's own data: what the backup is for
    assert redact.blank_members(b'{"env": {"A": "cut', ["ANTHROPIC_AUTH_TOKEN"]) is None
    cut = redact.blank_members(b'{"ANTHROPIC_AUTH_TOKEN": "t0k', ["ANTHROPIC_AUTH_TOKEN"])
    assert cut == b'{"ANTHROPIC_AUTH_TOKEN": "' + redact.BACKUP_MARK.encode()


# --- how a workspace error reads -----------------------------------------------------------------

HOST = "https://x.cloud.databricks.com"


def _error(
    kind: str, message: str, status: int | None = None, code: str = ""
) -> workspace.WorkspaceError:
    body = {"error_code": code, "message": message} if code else None
    return workspace.WorkspaceError(kind, message, status, body)


def test_tls_gets_the_same_fix_everywhere() -> None:
    exc = _error("tls", f"TLS failure talking to {HOST}: certificate verify failed")
    fixes = {
        workspace.diagnose(exc, HOST, "list the models", retry="dbx-fmapi models")[1],
        workspace.diagnose(exc, HOST, "read the current user")[1],
        workspace.diagnose(exc, HOST, "send a test request to m", login="x", retry="setup")[1],
    }
    assert fixes == {workspace.CA_FIX}
    assert "SSL_CERT_FILE=" in workspace.CA_FIX and "REQUESTS_CA_BUNDLE" in workspace.CA_FIX
    message = workspace.diagnose(exc, HOST, "list the models")[0]
    assert message.startswith("cannot list the models: ") and "not trusted" in message


@pytest.mark.parametrize(
    "exc, says, fix",
    [
        (
            _error("timeout", f"{HOST} did not answer within 1s"),
            "did not answer in time",
            "curl -sI",
        ),
        (_error("unreachable", f"cannot reach {HOST}: refused"), "cannot reach", "check the URL"),
        (
            _error("http", "Invalid access token", 403, "PERMISSION_DENIED"),
            "rejected the token",
            "LOGIN",
        ),
        (_error("http", "no credentials", 401), "wants credentials", "LOGIN"),
        (
            _error("http", "slow down", 429, "REQUEST_LIMIT_EXCEEDED"),
            "rate limited (429 REQUEST_LIMIT_EXCEEDED",
            "RETRY",
        ),
        (_error("http", "down", 503, "TEMPORARILY_UNAVAILABLE"), "the workspace failed", "RETRY"),
        (_error("http", "odd", 418), "the workspace answered 418: odd", "dbx-fmapi doctor --json"),
    ],
)
def test_each_kind_of_workspace_error(exc: workspace.WorkspaceError, says: str, fix: str) -> None:
    message, got = workspace.diagnose(exc, HOST, "do it", login="LOGIN", retry="RETRY")
    assert message.startswith("cannot do it: ") and says in message
    assert fix in got


def test_a_checked_url_is_not_suspect() -> None:
    exc = _error("unreachable", f"cannot reach {HOST}: refused")
    assert "URL" not in workspace.diagnose(exc, HOST, "list the models", url_checked=True)[1]
