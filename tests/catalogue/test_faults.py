"""Faults, one row a case: the workspace down, DNS, TLS, slow, 5xx; the Databricks CLI missing,
hanging or printing garbage; a full disk; permission denied; a process killed in the middle of a
write; Ctrl-C at every prompt. Each asserts the exit code, the message, that every wait is bounded
and that every file is the old one or the new one, never half.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import tarfile
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pexpect
import pytest

from tests.catalogue import prepared
from tests.catalogue.helpers import (
    FAULTS,
    VOLATILE,
    assert_refused,
    assert_unchanged,
    case,
    needs_modes,
    no_traceback,
    seed_user_files,
    setup,
    signed_in,
    tmpfs_in_userns,
    unprivileged,
)
from tests.rig.sandbox import Result, Sandbox, foreground_job
from tests.rig.workspace import FakeWorkspace

CLAUDE_VERSION = "2.1.328 (Claude Code)"
INVALID = "https://dbc-00000000-0000.cloud.databricks.invalid"
# A command still running after this long is stuck: the product's own bounds under these faults
# are seconds (each case checks the message that says which bound gave up). A hang guard, not a
# pace: how fast a busy machine runs the command is the benchmark's business.
HANG = 120.0
HEADLESS = {"DISPLAY": None, "WAYLAND_DISPLAY": None, "SSH_CONNECTION": None}


@pytest.fixture(scope="module")
def _sandbox_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("faults-sandbox")


@pytest.fixture
def sandbox_home(_sandbox_root: Path) -> Path:
    """Every case's HOME at one path (emptied first): a prepared HOME is restored there."""
    return prepared.fresh_home(_sandbox_root)


@pytest.fixture
def sandbox(
    _sandbox_root: Path, sandbox_home: Path, _claude_bin_path: str | None
) -> Iterator[Sandbox]:
    yield from prepared.sandbox_in(_sandbox_root, sandbox_home, _claude_bin_path)


@pytest.fixture
def workspace(shared_workspace: FakeWorkspace) -> Iterator[FakeWorkspace]:
    """The module's workspace, its faults and knobs reset after each case."""
    ws = shared_workspace
    ws.clear_log()
    yield ws
    ws.up()
    ws.clear_faults()
    ws.latency = 0.0
    ws.path_latency.clear()
    ws.access_token_lifetime = 3600
    ws.deny_login = False


@pytest.fixture(scope="module")
def tls_workspace() -> Iterator[FakeWorkspace]:
    with FakeWorkspace(tls=True) as ws:
        yield ws


def ready(sandbox: Sandbox, workspace: FakeWorkspace, *args: str) -> dict[str, bytes]:
    """Signed in, the user's files in place, setup done (helper mode, bash); a stand-in claude
    that only prints its version. Returns the snapshot of HOME. Prepared once per module and
    `args` (tests/catalogue/prepared.py), then restored."""
    sandbox.fake_program("claude", f'echo "{CLAUDE_VERSION}"\n')

    def make() -> None:
        signed_in(sandbox, workspace)
        seed_user_files(sandbox)
        result = setup(sandbox, "--host", workspace.url, "--shell", "bash", *args)
        assert result.code == 0, result

    prepared.prepare(sandbox, workspace, ("ready", workspace.url, *args), make)
    return sandbox.snapshot()


def expire_token(sandbox: Sandbox) -> None:
    """The CLI's token has expired and we know it: the next token request must refresh."""
    sandbox.set_token_expiry(-10)
    state = sandbox.home / ".config/dbx-fmapi-claude/token-state.json"
    state.unlink(missing_ok=True)


def bounded(sandbox: Sandbox, argv: list[str], **kw: Any) -> Result:
    """`argv` run to its end; a RunTimeout (the test fails) when it hangs."""
    return sandbox.run(argv, timeout=HANG, **kw)


# --- the workspace: down, DNS, slow, 5xx -------------------------------------------------------


def _move_workspace(sandbox: Sandbox, ws: FakeWorkspace, url: str) -> None:
    """The configured workspace (setup's record, Claude Code's settings and the CLI profile) is
    now at `url`; the CLI still holds its token for the profile. (Moving the record alone would
    leave Claude Code pointed at the old address, which the wrapper refuses to send a token to.)"""
    cfg_path = sandbox.home / ".config/dbx-fmapi-claude/config.json"
    record = json.loads(cfg_path.read_text())
    record["configs"][-1]["host"] = url
    cfg_path.write_text(json.dumps(record))
    dbcfg = sandbox.home / ".databrickscfg"
    dbcfg.write_text(dbcfg.read_text().replace(ws.url, url))
    claude_settings = sandbox.home / ".claude" / "settings.json"
    if claude_settings.exists():
        claude_settings.write_text(claude_settings.read_text().replace(ws.url, url))


def _down(sandbox: Sandbox, ws: FakeWorkspace) -> dict[str, str]:
    """The workspace stops: nothing listens at its address any more (connection refused). Same
    host, so the CLI still has what it cached about it (its host metadata, for an hour), as it
    would in a real outage; a refused connection to a host it knows nothing about is retried by
    the CLI for about 5 minutes (our reachability probe cuts that short, see token (expired))."""
    ws.down()
    return {}


def _dns(sandbox: Sandbox, ws: FakeWorkspace) -> dict[str, str]:
    """The configured workspace's name does not resolve."""
    _move_workspace(sandbox, ws, INVALID)
    return {}


def _slow(sandbox: Sandbox, ws: FakeWorkspace) -> dict[str, str]:
    ws.latency = 3.0
    return {"DBX_FMAPI_HTTP_TIMEOUT": "0.5", "DBX_FMAPI_CLI_TIMEOUT_SECONDS": "1"}


def _status(prefix: str, status: int) -> Callable[[Sandbox, FakeWorkspace], dict[str, str]]:
    def arrange(sandbox: Sandbox, ws: FakeWorkspace) -> dict[str, str]:
        ws.fail(prefix, status, times=None)
        return {}

    return arrange


NETWORK = {
    "workspace down": _down,
    "DNS failure": _dns,
    "slower than the timeouts": _slow,
    "HTTP 503 everywhere": _status("/", 503),
    "HTTP 500 on the model route": _status("/serving-endpoints/anthropic", 500),
    "HTTP 502 on the token endpoint": _status("/oidc", 502),
}
COMMANDS = {
    "setup": ["setup-fmapi-claudecode", "--skip-install", "--host", "{host}", "--shell", "bash"],
    "token (valid)": ["dbx-fmapi", "token"],
    "token (expired)": ["dbx-fmapi", "token"],
    "wrapper (valid)": ["dbx-fmapi-claude", "--version"],
    "wrapper (expired)": ["dbx-fmapi-claude", "--version"],
    "doctor": ["dbx-fmapi", "doctor"],
    "models": ["dbx-fmapi", "models"],
    "status --check": ["dbx-fmapi", "status", "--check"],
}
# (fault, command) -> (exit code, text in the output). A valid token needs no network at all.
# A failed refresh shows the CLI's own words (Go's resolver, the SDK's "http 503: ..."), exit 1:
# a network or service problem, never a login (exit 4).
_REFRESH_FAILS = {
    "workspace down": "Connection refused",
    "DNS failure": "no such host",
    "slower than the timeouts": "did not answer within 1s",
    "HTTP 503 everywhere": "http 503",
    "HTTP 502 on the token endpoint": "http 502",
}
_UNREACHABLE = {
    "workspace down": "Connection refused",
    "DNS failure": "Name or service not known",
    "slower than the timeouts": "did not answer within 0.5s",
    "HTTP 503 everywhere": "temporarily unavailable",
}
EXPECTED: dict[tuple[str, str], tuple[int, str]] = {}
for _fault in NETWORK:
    for _cmd in COMMANDS:
        EXPECTED[(_fault, _cmd)] = (0, "")
    for _cmd in ("token (expired)", "wrapper (expired)"):
        if _fault in _REFRESH_FAILS:
            EXPECTED[(_fault, _cmd)] = (1, _REFRESH_FAILS[_fault])
    for _cmd in ("setup", "doctor", "models"):
        if _fault in _UNREACHABLE:
            EXPECTED[(_fault, _cmd)] = (1, _UNREACHABLE[_fault])
EXPECTED[("HTTP 500 on the model route", "setup")] = (1, "Injected 500 error")
EXPECTED[("HTTP 500 on the model route", "doctor")] = (1, "Injected 500 error")
EXPECTED[("slower than the timeouts", "doctor")] = (1, "did not answer in time")


@case(FAULTS, "workspace: down, DNS, slow, 5xx")
@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("fault", list(NETWORK))
def test_network_faults(
    sandbox: Sandbox, workspace: FakeWorkspace, fault: str, command: str
) -> None:
    ready(sandbox, workspace)
    if "expired" in command:
        expire_token(sandbox)
    env = NETWORK[fault](sandbox, workspace)
    before = sandbox.snapshot()
    host = INVALID if fault == "DNS failure" else workspace.url
    argv = [a.replace("{host}", host) for a in COMMANDS[command]]
    result = bounded(sandbox, argv, env={**env, **HEADLESS})
    code, says = EXPECTED[(fault, command)]
    no_traceback(result)
    if command == "doctor":
        assert result.code == code, result
        if code:
            assert says in result.stdout and "fix: " in result.stdout, result
    elif code:
        prog = argv[0]
        assert_refused(result, code, says, prog=prog.replace("setup-fmapi-claudecode", prog))
        if command.startswith("token"):
            assert result.stdout == ""
    else:
        assert result.code == 0, result
    assert_unchanged(sandbox, before)


TLS_COMMANDS = {
    "setup": (["setup-fmapi-claudecode", "--skip-install", "--host", "{host}"], "TLS failure"),
    "doctor": (["dbx-fmapi", "doctor"], "certificate"),
    "models": (["dbx-fmapi", "models"], "TLS"),
    "token (valid, no network)": (["dbx-fmapi", "token"], ""),
}


@case(FAULTS, "TLS")
@pytest.mark.parametrize("trust", ["untrusted", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"])
@pytest.mark.parametrize("command", list(TLS_COMMANDS))
def test_tls_failure_and_company_ca_settings(
    sandbox: Sandbox, tls_workspace: FakeWorkspace, command: str, trust: str
) -> None:
    """A workspace whose certificate is not trusted fails with a TLS message and the fix (set
    SSL_CERT_FILE); with the company CA in SSL_CERT_FILE or REQUESTS_CA_BUNDLE it works."""
    ws = tls_workspace
    ready(sandbox, ws)  # signs in and sets up trusting the CA (SSL_CERT_FILE)
    ca = sandbox.env.pop("SSL_CERT_FILE")
    sandbox.env.pop("NODE_EXTRA_CA_CERTS", None)
    env = {} if trust == "untrusted" else {trust: ca}
    before = sandbox.snapshot()
    argv, says = TLS_COMMANDS[command]
    result = bounded(sandbox, [a.replace("{host}", ws.url) for a in argv], env=env)
    no_traceback(result)
    if trust == "untrusted" and says:
        assert result.code == 1, result
        assert says in result.output, result
        assert "SSL_CERT_FILE" in result.output, result
    else:
        assert result.code == 0, result
    assert_unchanged(sandbox, before)


# --- the Databricks CLI: missing, hanging, garbage ---------------------------------------------

CLI_FAULTS = {
    "missing": ({}, 1, "Databricks CLI"),
    "hanging": ({"FAKE_DATABRICKS_HANG": "3", "DBX_FMAPI_CLI_TIMEOUT_SECONDS": "1"}, 1, "1s"),
    "printing garbage": ({"FAKE_DATABRICKS_GARBAGE": "1"}, 1, "not a token"),
}
CLI_COMMANDS = {
    "setup": ["setup-fmapi-claudecode", "--skip-install", "--host", "{host}"],
    "token": ["dbx-fmapi", "token"],
    "wrapper (token expired)": ["dbx-fmapi-claude", "--version"],
    "wrapper static (token expired)": ["dbx-fmapi-claude", "--version"],
    "doctor": ["dbx-fmapi", "doctor"],
    "models": ["dbx-fmapi", "models"],
    "status --check": ["dbx-fmapi", "status", "--check"],
    "login": ["dbx-fmapi", "login"],
}


@case(FAULTS, "Databricks CLI missing, hanging, garbage")
@pytest.mark.parametrize("command", list(CLI_COMMANDS))
@pytest.mark.parametrize("fault", list(CLI_FAULTS))
def test_cli_faults(sandbox: Sandbox, workspace: FakeWorkspace, fault: str, command: str) -> None:
    ready(sandbox, workspace, *(["--token-mode", "static"] if "static" in command else []))
    if "expired" in command:
        expire_token(sandbox)
        if "static" in command:
            _expire_static_token(sandbox, workspace)
    env, code, says = CLI_FAULTS[fault]
    if fault == "missing":
        sandbox.remove("databricks")
    else:
        sandbox.use_fake_cli()  # the real CLI cannot be made to hang or print garbage
    before = sandbox.snapshot()
    argv = [a.replace("{host}", workspace.url) for a in CLI_COMMANDS[command]]
    result = bounded(sandbox, argv, env={**env, **HEADLESS})
    no_traceback(result)
    if command == "doctor":
        assert result.code == 1, result
        assert "FAIL" in result.stdout and "fix: " in result.stdout, result
    elif command == "status --check":
        assert result.code == 0, result  # status reports; it does not fail on the token
        assert "token" in result.stdout.lower(), result
    else:
        assert_refused(result, code, says, prog=argv[0])
        assert result.stdout == "" or command in ("setup", "login"), result
    # `login` signs in again first: the CLI re-saves its own profile (and its backup).
    assert_unchanged(sandbox, before, exclude=(*VOLATILE, ".databrickscfg*"))


def _expire_static_token(sandbox: Sandbox, ws: FakeWorkspace, lifetime: float = 30) -> None:
    """Static mode: the token in the settings file is about to expire (the wrapper must
    refresh it before launching)."""
    path = sandbox.home / ".claude/settings.json"
    data = json.loads(path.read_text())
    data["env"]["ANTHROPIC_AUTH_TOKEN"] = ws.issue_token(lifetime=lifetime)
    path.write_text(json.dumps(data, indent=2) + "\n")
    path.chmod(0o600)


# --- a full disk --------------------------------------------------------------------------------

DISK_FREE_PAGES = [0, 1, 2, 3, 4, 6]  # 4 KiB pages left on a tiny tmpfs HOME


def _snapshot_dir(root: Path) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            p = Path(dirpath) / name
            rel = p.relative_to(root).as_posix()
            out[rel] = (
                b"symlink -> " + os.fsencode(os.readlink(p)) if p.is_symlink() else (p.read_bytes())
            )
    return out


def _on_tmpfs(sandbox: Sandbox, argv: list[str], free_pages: int, out: Path) -> Result:
    """Run argv with HOME on a 512 KiB tmpfs (in a user + mount namespace) holding a copy of
    HOME, filled up but `free_pages`; HOME's contents afterwards go to the tar file `out`."""
    seed = sandbox.root / "seed-home"
    shutil.rmtree(seed, ignore_errors=True)
    shutil.copytree(sandbox.home, seed, symlinks=True)
    script = (
        'mount -t tmpfs -o size=512k tmpfs "$HOME" && cp -a "$SEED/." "$HOME/" || exit 99\n'
        'dd if=/dev/zero of="$HOME/.filler" bs=4k 2>/dev/null\n'
        'if [ "$FREE" -gt 0 ]; then\n'
        '  size=$(stat -c %s "$HOME/.filler")\n'
        '  truncate -s $((size - FREE * 4096)) "$HOME/.filler"\n'
        "fi\n"
        '"$@"; rc=$?\n'
        'rm -f "$HOME/.filler"\n'
        'tar -C "$HOME" -cf "$OUT" . || exit 98\n'
        "exit $rc\n"
    )
    return sandbox.run(
        ["unshare", "-Urm", "--", "/bin/sh", "-c", script, "sh", *argv],
        env={"SEED": str(seed), "FREE": str(free_pages), "OUT": str(out)},
        timeout=60,
    )


needs_tmpfs = pytest.mark.skipif(
    not tmpfs_in_userns(), reason="no user namespaces here: cannot mount a tiny tmpfs as HOME"
)


@case(FAULTS, "disk full")
@needs_tmpfs
@pytest.mark.parametrize("mode", ["helper", "static"])
@pytest.mark.parametrize("free", DISK_FREE_PAGES)
def test_setup_on_a_full_disk_changes_all_or_nothing(
    sandbox: Sandbox, workspace: FakeWorkspace, tmp_path: Path, free: int, mode: str
) -> None:
    """A real "No space left on device": HOME on a tiny tmpfs, full but for a few pages. Setup
    either completes or fails with the reason and a fix, every file as before."""
    signed_in(sandbox, workspace)
    seed_user_files(sandbox)
    before = sandbox.snapshot()
    out = tmp_path / "after.tar"
    argv = [
        "setup-fmapi-claudecode",
        "--skip-install",
        "--host",
        workspace.url,
        "--shell",
        "bash",
        "--token-mode",
        mode,
        "--no-verify",
    ]
    result = _on_tmpfs(sandbox, argv, free, out)
    assert result.code in (0, 1), result
    extracted = tmp_path / "after"
    with tarfile.open(out) as tar:
        tar.extractall(extracted, filter="tar")
    after = _snapshot_dir(extracted)
    if result.code == 1:
        assert_refused(result, 1, "No space left on device", "df -h")
        ours = r"\.databricks/|.*/locks/|.*/token-state\.json$"
        keep = {k: v for k, v in before.items() if not re.match(ours, k)}
        got = {k: v for k, v in after.items() if not re.match(ours, k)}
        assert got == keep, sorted(set(got) ^ set(keep))
    else:
        assert json.loads(after[".claude/settings.json"])["env"]["ANTHROPIC_BASE_URL"]
        assert "dbx-fmapi-claude" in after[".bashrc"].decode()
    assert not [k for k in after if k.endswith(".tmp")]  # no temp file left behind


FSIZE_LIMITS = [0, 100, 300, 600, 900, 1200, 2000]


@case(FAULTS, "disk full")
@pytest.mark.skipif(shutil.which("prlimit") is None, reason="prlimit (util-linux) is missing")
@pytest.mark.parametrize("limit", FSIZE_LIMITS)
def test_setup_under_a_file_size_limit_changes_all_or_nothing(
    sandbox: Sandbox, workspace: FakeWorkspace, limit: int
) -> None:
    """RLIMIT_FSIZE: every write past `limit` bytes fails (EFBIG), at a different file for each
    limit. Setup completes or fails with every file as before."""
    signed_in(sandbox, workspace)
    before = seed_user_files(sandbox)
    result = sandbox.run(
        ["prlimit", f"--fsize={limit}", "--", "setup-fmapi-claudecode", "--skip-install"]
        + ["--host", workspace.url, "--shell", "bash", "--no-verify"],
        env={"RIG_DATABRICKS_LOG": "/dev/null"},  # the rig's log of CLI calls is not the point
    )
    no_traceback(result)
    if result.code:
        assert_refused(result, 1, "File too large", "df -h")
        assert_unchanged(sandbox, before)
    else:
        assert "dbx-fmapi-claude" in (sandbox.home / ".bashrc").read_text()
    assert not [p for p in sandbox.home.rglob("*.tmp")]


# --- permission denied -------------------------------------------------------------------------


def _home_read_only(sandbox: Sandbox) -> list[Path]:
    sandbox.home.chmod(0o555)
    return [sandbox.home]


def _home_read_only_but_ours(sandbox: Sandbox) -> list[Path]:
    (sandbox.home / ".config" / "dbx-fmapi-claude" / "locks").mkdir(parents=True)
    return _home_read_only(sandbox)


def _config_dir_read_only(sandbox: Sandbox) -> list[Path]:
    folder = sandbox.home / ".config" / "dbx-fmapi-claude"
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o555)
    return [folder]


def _claude_dir_read_only(sandbox: Sandbox) -> list[Path]:
    folder = sandbox.home / ".claude"
    folder.chmod(0o555)
    return [folder]


PERMISSIONS = {
    "HOME read-only": (_home_read_only, "cannot create lock file", "ls -ld"),
    "HOME read-only (rc file, ~/.claude.json)": (
        _home_read_only_but_ours,
        "not writable",
        "chmod u+w",
    ),
    "~/.claude read-only": (_claude_dir_read_only, "not writable", "chmod u+w"),
    "our config folder read-only": (_config_dir_read_only, "cannot create lock file", "ls -ld"),
}


@case(FAULTS, "permission denied")
@needs_modes
@pytest.mark.parametrize("name", list(PERMISSIONS))
def test_setup_where_it_may_not_write_changes_nothing(
    sandbox: Sandbox, workspace: FakeWorkspace, name: str
) -> None:
    signed_in(sandbox, workspace)
    seed_user_files(sandbox)
    (sandbox.home / ".claude.json").write_text('{"numStartups": 1}\n')  # needs the flag
    make, says, fix = PERMISSIONS[name]
    before = sandbox.snapshot()
    locked = make(sandbox)
    try:
        result = sandbox.run(
            unprivileged(["setup-fmapi-claudecode", "--skip-install", "--host", workspace.url])
            + ["--shell", "bash"]
        )
    finally:
        for folder in locked:
            folder.chmod(0o755)
    assert_refused(result, 1, says, fix)
    assert_unchanged(sandbox, before)


@case(FAULTS, "permission denied")
@needs_modes
@pytest.mark.parametrize("command", ["token", "wrapper"])
def test_token_work_where_our_folder_is_read_only_fails_clearly(
    sandbox: Sandbox, workspace: FakeWorkspace, command: str
) -> None:
    ready(sandbox, workspace)
    expire_token(sandbox)
    before = sandbox.snapshot()
    locks = sandbox.home / ".config/dbx-fmapi-claude/locks"
    shutil.rmtree(locks)
    folder = locks.parent
    folder.chmod(0o555)
    argv = ["dbx-fmapi", "token"] if command == "token" else ["dbx-fmapi-claude", "--version"]
    try:
        result = sandbox.run(unprivileged(argv))
    finally:
        folder.chmod(0o755)
    assert_refused(result, 1, "cannot create lock file", "ls -ld")
    assert result.stdout == ""
    assert_unchanged(sandbox, before)


# --- killed in the middle of a write -----------------------------------------------------------

KILL_SYSCALLS = {  # what we kill at: the N-th call of...
    "create": "fchmod",  # right after a temp file is created (its mode is set first)
    "write": "write",
    "fsync": "fsync",
    "rename": "rename,renameat,renameat2",
    "unlink": "unlink,unlinkat",
}


def _points(spec: Mapping[str, list[int]]) -> list[tuple[str, int]]:
    return [(kind, n) for kind, ns in spec.items() for n in ns]


# Where a run is killed: every file it creates and renames, and a spread of its fsyncs and
# writes (writes include its messages).
KILL_POINTS = {
    "setup": _points(
        {
            "create": [1, 2, 3, 4, 5, 6],
            "rename": [1, 2, 3, 4, 5, 6],
            "fsync": [1, 5, 9, 12],
            "write": [1, 8, 12],
        }
    ),
    "wrapper (static refresh)": _points(
        {"create": [1, 2], "rename": [1, 2], "fsync": [1, 2, 3, 4], "write": [1, 2]}
    ),
    "token (refresh)": _points({"create": [1], "rename": [1], "fsync": [1, 2]}),
    "uninstall": _points(
        {"rename": [1, 2], "unlink": [1, 2, 3, 4, 5], "fsync": [1, 3], "write": [1, 3]}
    ),
}


def _strace_ok() -> bool:
    if shutil.which("strace") is None:
        return False
    import subprocess

    proc = subprocess.run(
        ["strace", "-qq", "-o", "/dev/null", "-e", "trace=none", "true"],
        capture_output=True,
        check=False,
    )
    return proc.returncode == 0


STRACE = _strace_ok()


def _kill_argv(kind: str, n: int, argv: list[str]) -> list[str]:
    calls = KILL_SYSCALLS[kind]
    inject = f"inject={calls}:signal=SIGKILL:when={n}"
    return ["strace", "-qq", "-o", "/dev/null", "-e", f"trace={calls}", "-e", inject, *argv]


def _restore(home: Path, saved: Path) -> None:
    for entry in list(home.iterdir()):
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    shutil.copytree(saved, home, symlinks=True, dirs_exist_ok=True)


def _json_files_parse(snap: Mapping[str, bytes]) -> None:
    for rel, data in snap.items():
        if rel.endswith(".json") and data:
            json.loads(data)  # never half a file


KILL_STATIC_ENV = {  # the token in the file lives 1200 s, 1300 s are needed: a refresh
    "CLAUDE_CODE_API_KEY_HELPER_TTL_MS": "1000000",
    "DBX_FMAPI_TOKEN_MARGIN_SECONDS": "300",
}
OUR_TEMP = re.compile(r"(^|/)\.[^/]+\.\d+\.\w+\.tmp$")


def _kill_program(
    sandbox: Sandbox, workspace: FakeWorkspace, prog: str
) -> tuple[list[str], dict[str, str | None], Callable[[], None]]:
    """Bring the sandbox to the state before `prog` runs; returns (argv, env, re-arm), where
    re-arm is what must happen again after HOME is restored (an expired token)."""
    sandbox.fake_program("claude", "exit 0\n")
    if prog == "setup":
        signed_in(sandbox, workspace)
        seed_user_files(sandbox)
        argv = ["setup-fmapi-claudecode", "--skip-install", "--host", workspace.url]
        return [*argv, "--shell", "bash", "--no-verify"], {}, lambda: None
    if prog == "wrapper (static refresh)":
        ready(sandbox, workspace, "--token-mode", "static", "--no-verify")
        sandbox.fake_program("claude", "exit 0\n")
        _expire_static_token(sandbox, workspace, lifetime=1200)
        expire_token(sandbox)  # the CLI refreshes too: both files get written
        return ["dbx-fmapi-claude", "--version"], dict(KILL_STATIC_ENV), lambda: None
    ready(sandbox, workspace, "--no-verify")
    if prog == "token (refresh)":
        return ["dbx-fmapi", "token"], {}, lambda: expire_token(sandbox)
    return ["dbx-fmapi", "uninstall", "--yes"], {}, lambda: None


KILLED = "killed mid-write (SIGKILL)"


@pytest.mark.parametrize(
    "prog",
    [pytest.param(p, marks=case(FAULTS, KILLED, len(pts))) for p, pts in KILL_POINTS.items()],
)
def test_killed_at_any_write_leaves_each_file_old_or_new(
    sandbox: Sandbox, workspace: FakeWorkspace, tmp_path: Path, prog: str
) -> None:
    """SIGKILL at the N-th create/write/fsync/rename/unlink (strace; without it, after a delay
    spread over a normal run): every file is then the old one or the new one, never half,
    every JSON file parses, and the next normal run finishes the job with no temp file left."""
    argv, env, rearm = _kill_program(sandbox, workspace, prog)
    rearm()
    saved = tmp_path / "saved-home"
    shutil.copytree(sandbox.home, saved, symlinks=True)
    old = sandbox.snapshot(exclude=VOLATILE)
    reference = sandbox.run(argv, env=env)  # a normal run from the same start
    assert reference.code == 0, reference
    new = sandbox.snapshot(exclude=VOLATILE)
    unpredictable = prog in ("wrapper (static refresh)", "token (refresh)")
    killed_count = 0
    for i, (kind, n) in enumerate(KILL_POINTS[prog]):
        _restore(sandbox.home, saved)
        rearm()
        if STRACE:
            killed = sandbox.run(_kill_argv(kind, n, argv), env=env)
        else:
            delay = reference.duration * (i + 1) / (len(KILL_POINTS[prog]) + 1)
            killed = _kill_after(sandbox, argv, env, delay)
        killed_count += killed.code in (-9, 137)
        where = f"{prog}: killed at {kind} #{n} (exit {killed.code})"
        now = sandbox.snapshot(exclude=VOLATILE)
        for rel in sorted(set(old) | set(new) | set(now)):
            if rel in now and rel not in old and OUR_TEMP.search(rel):
                continue  # a temp file of ours, never renamed into place (swept by the next run)
            if unpredictable and rel in now and now[rel] != old.get(rel):
                continue  # checked below: a fresh token we cannot know in advance
            assert now.get(rel) in (old.get(rel), new.get(rel)), f"{where}: {rel} is half"
        _json_files_parse({k: v for k, v in now.items() if not OUR_TEMP.search(k)})
        if unpredictable:
            _check_token_files(sandbox, workspace, old, now)
        # The next run completes the work, and sweeps the temp files the killed one left.
        again = sandbox.run(argv, env=env)
        assert again.code == 0, (where, again)
        final = sandbox.snapshot(exclude=VOLATILE)
        assert not [rel for rel in final if rel.endswith(".tmp")], (where, list(final))
        if not unpredictable:
            diff = sorted(k for k in set(final) | set(new) if final.get(k) != new.get(k))
            assert not diff, (where, diff)
    assert killed_count == len(KILL_POINTS[prog]) or not STRACE, "a kill point never fired"


def _check_token_files(
    sandbox: Sandbox, ws: FakeWorkspace, old: Mapping[str, bytes], now: Mapping[str, bytes]
) -> None:
    settings = ".claude/settings.json"
    if settings in now and now[settings] != old.get(settings):
        data = json.loads(now[settings])
        before = json.loads(old[settings])
        token = data["env"].pop("ANTHROPIC_AUTH_TOKEN")
        before["env"].pop("ANTHROPIC_AUTH_TOKEN")
        assert data == before  # only the token changed
        assert ws.token_state(token) == "valid"
        assert (sandbox.home / settings).stat().st_mode & 0o777 == 0o600
    state = sandbox.home / ".config/dbx-fmapi-claude/token-state.json"
    if state.exists():
        json.loads(state.read_bytes())


def _kill_after(
    sandbox: Sandbox, argv: list[str], env: Mapping[str, str | None], delay: float
) -> Result:
    import subprocess

    exe = shutil.which(argv[0], path=sandbox.env["PATH"])
    assert exe is not None
    proc = subprocess.Popen(
        [exe, *argv[1:]],
        env=sandbox._env(dict(env)),
        cwd=sandbox.home,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    time.sleep(delay)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    return Result(proc.returncode, "", "", argv)


@case(FAULTS, KILLED)
def test_a_helper_killed_while_holding_the_lock_does_not_block_the_next(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    """The profile lock is an flock: it goes with the process. A helper killed while the CLI
    hangs under the lock does not make the next one wait."""
    import subprocess

    ready(sandbox, workspace)
    expire_token(sandbox)
    sandbox.use_fake_cli()  # for the hang
    exe = str(sandbox.bin / "dbx-fmapi")
    stuck = subprocess.Popen(
        [exe, "token"],
        env=sandbox._env({"FAKE_DATABRICKS_HANG": "60"}),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not any(
        "token" in c["argv"] for c in sandbox.databricks_calls()
    ):
        time.sleep(0.05)
    os.killpg(stuck.pid, signal.SIGKILL)
    stuck.wait()
    result = bounded(sandbox, ["dbx-fmapi", "token"])
    assert result.code == 0, result
    assert workspace.token_state(result.stdout.strip()) == "valid"


# --- Ctrl-C --------------------------------------------------------------------------------------

DOWN = "\x1b[B"
PROMPTS = [
    "Workspace URL",
    "Databricks CLI profile name",
    "Model (ANTHROPIC_MODEL)",
    "Opus model",
    "Sonnet model",
    "Haiku model",
    "Endpoint name",
    "Settings location",
    "Folder for .claude/settings.json",
    "Put the token in",
    "Choose 1-",
]


def _spawn(sandbox: Sandbox, argv: list[str], term: str = "xterm-256color") -> pexpect.spawn:
    exe = shutil.which(argv[0], path=sandbox.env["PATH"])
    return pexpect.spawn(
        exe,
        argv[1:],
        env=dict(sandbox.env, TERM=term, NO_COLOR="1"),
        cwd=str(sandbox.home),
        encoding="utf-8",
        codec_errors="replace",
        dimensions=(50, 200),
        timeout=30,
        preexec_fn=foreground_job,
    )


def _walk_to(child: pexpect.spawn, ws: FakeWorkspace, prompt: str, tracked: Path) -> None:
    """Answer every prompt before `prompt`, then wait for it."""
    child.expect_exact("Workspace URL")
    if prompt == "Workspace URL":
        return
    child.sendline(ws.url)
    child.expect_exact("Databricks CLI profile name")
    if prompt == "Databricks CLI profile name":
        return
    child.sendline("")
    if prompt == "Choose 1-":
        child.expect_exact("Choose 1-")
        return
    for label in ("Model (ANTHROPIC_MODEL)", "Opus model", "Sonnet model", "Haiku model"):
        child.expect_exact(label)
        child.expect_exact("(up/down, Enter)")
        if label == prompt:
            return
        if prompt == "Endpoint name" and label == "Model (ANTHROPIC_MODEL)":
            child.send("\x1b[A\r")  # up from the top: "other"
            child.expect_exact("Endpoint name")
            return
        child.send("\r")
    child.expect_exact("Settings location")
    child.expect_exact("(up/down, Enter)")
    if prompt == "Settings location":
        return
    if prompt == "Put the token in":
        child.send(DOWN + DOWN + "\r")
        child.expect_exact("Folder for .claude/settings.json")
        child.sendline(str(tracked))
        child.expect_exact("Put the token in")
        return
    child.send(DOWN + DOWN + "\r")
    child.expect_exact(prompt)


@case(FAULTS, "Ctrl-C")
@pytest.mark.parametrize("prompt", PROMPTS)
def test_ctrl_c_at_every_prompt_exits_130_with_nothing_changed(
    sandbox: Sandbox, workspace: FakeWorkspace, tmp_path: Path, prompt: str
) -> None:
    import subprocess

    signed_in(sandbox, workspace)
    seed_user_files(sandbox)
    tracked = tmp_path / "repo"
    (tracked / ".claude").mkdir(parents=True)
    (tracked / ".claude" / "settings.json").write_text("{}\n")
    subprocess.run(["git", "init", "-q"], cwd=tracked, check=True)
    subprocess.run(["git", "add", "."], cwd=tracked, check=True)
    before = sandbox.snapshot()
    argv = ["setup-fmapi-claudecode", "--skip-install"]
    if prompt == "Put the token in":
        argv += ["--token-mode", "static"]
    child = _spawn(sandbox, argv, term="dumb" if prompt == "Choose 1-" else "xterm-256color")
    try:
        _walk_to(child, workspace, prompt, tracked)
        child.sendintr()
        child.expect(pexpect.EOF, timeout=30)
    finally:
        child.close(force=True)
    assert child.exitstatus == 130, child.before
    assert "nothing was changed" in (child.before or "")
    assert_unchanged(sandbox, before)
    assert (tracked / ".claude" / "settings.json").read_text() == "{}\n"
    assert not (tracked / ".claude" / "settings.local.json").exists()


WAITS = {
    "setup, while the CLI hangs": (
        ["setup-fmapi-claudecode", "--skip-install", "--host", "{host}"],
        {"FAKE_DATABRICKS_HANG": "30"},
    ),
    "setup, while a model answers slowly": (
        ["setup-fmapi-claudecode", "--skip-install", "--host", "{host}"],
        {"SLOW_MODELS": "1"},
    ),
    "uninstall, at its question": (["dbx-fmapi", "uninstall"], {}),
    "token, while the CLI hangs": (["dbx-fmapi", "token"], {"FAKE_DATABRICKS_HANG": "30"}),
    "wrapper, while the CLI hangs": (
        ["dbx-fmapi-claude", "--version"],
        {"FAKE_DATABRICKS_HANG": "30"},
    ),
    "doctor, while the workspace is slow": (["dbx-fmapi", "doctor"], {"SLOW_ALL": "1"}),
}


@case(FAULTS, "Ctrl-C")
@pytest.mark.parametrize("name", list(WAITS))
def test_ctrl_c_while_waiting_exits_130_with_nothing_changed(
    sandbox: Sandbox, workspace: FakeWorkspace, name: str
) -> None:
    argv, env = WAITS[name]
    ready(sandbox, workspace)
    if "token" in name or "wrapper" in name:
        expire_token(sandbox)
    if env.pop("SLOW_MODELS", None):
        workspace.set_latency("/serving-endpoints/anthropic", 20)
    if env.pop("SLOW_ALL", None):
        workspace.latency = 20
    if "FAKE_DATABRICKS_HANG" in env:
        sandbox.use_fake_cli()  # the real CLI cannot be made to hang
    sandbox.env.update(env)
    before = sandbox.snapshot()
    child = _spawn(sandbox, [a.replace("{host}", workspace.url) for a in argv])
    try:
        if "question" in name:
            child.expect_exact("Proceed? [y/N]")
        elif "hangs" in name:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not any(
                "token" in c["argv"] for c in sandbox.databricks_calls()[-1:]
            ):
                time.sleep(0.05)
            time.sleep(0.3)
        else:
            time.sleep(1.5)  # inside the slow request
        child.sendintr()
        child.expect(pexpect.EOF, timeout=30)
    finally:
        child.close(force=True)
    assert child.exitstatus == 130 or (
        child.exitstatus == 2 and "Cancelled" in (child.before or "")
    ), (child.exitstatus, child.before)
    assert_unchanged(sandbox, before)


# --- our own state damaged -----------------------------------------------------------------------

OUR_STATE = {
    "setup record not JSON": ("config.json", b"{oops", 1, "is not valid JSON"),
    "setup record a list": ("config.json", b"[]", 1, "is not valid JSON"),
    "setup record empty": ("config.json", b"", 1, "is not valid JSON"),
    "token record not JSON": ("token-state.json", b"\x00garbage", 0, ""),
    "token record wrong shape": ("token-state.json", b'{"DEFAULT": "soon"}', 0, ""),
    "lock file is a folder": ("locks/DEFAULT.lock", None, 1, "lock file"),
}


@case(FAULTS, "our own state damaged")
@pytest.mark.parametrize("command", ["token", "wrapper"])
@pytest.mark.parametrize("name", list(OUR_STATE))
def test_damaged_state_of_ours_is_an_error_or_ignored(
    sandbox: Sandbox, workspace: FakeWorkspace, name: str, command: str
) -> None:
    ready(sandbox, workspace)
    expire_token(sandbox)  # both commands need the CLI (and the lock) now
    rel, data, code, says = OUR_STATE[name]
    path = sandbox.home / ".config/dbx-fmapi-claude" / rel
    if data is None:
        path.unlink(missing_ok=True)
        path.mkdir(parents=True)
    else:
        path.write_bytes(data)
    before = sandbox.snapshot(exclude=(*VOLATILE, "*/token-state.json"))
    argv = ["dbx-fmapi", "token"] if command == "token" else ["dbx-fmapi-claude", "--version"]
    result = bounded(sandbox, argv)
    if code:
        assert_refused(result, code, says, prog=argv[0])
        if "setup record" in name:
            assert "setup-fmapi-claudecode" in result.stderr  # the fix: re-run setup
    else:
        assert result.code == 0, result
        if command == "token":
            assert workspace.token_state(result.stdout.strip()) == "valid"
        json.loads(path.read_bytes())  # rewritten whole
    assert_unchanged(sandbox, before, exclude=(*VOLATILE, "*/token-state.json"))
