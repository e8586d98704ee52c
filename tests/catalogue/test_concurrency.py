"""Concurrency: many token helpers and wrappers at once in both token modes, setup running while
Claude Code sessions refresh their tokens and write their own files, setups racing each other.
No key is lost, no JSON is ever corrupt, and each expiry costs one refresh.
"""

from __future__ import annotations

import json
import stat
import subprocess
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.catalogue.helpers import (
    CONCURRENCY,
    USER_SETTINGS,
    case,
    no_traceback,
    seed_user_files,
    settings_without_ours,
    setup,
)
from tests.helpers.mgmt import config_of
from tests.rig.sandbox import Result, Sandbox
from tests.rig.workspace import FakeWorkspace

CLAUDE_VERSION = "2.1.328 (Claude Code)"
SETTINGS = Path(".claude/settings.json")
TOKEN = ["dbx-fmapi", "token"]
WRAPPER = ["dbx-fmapi-claude", "--version"]


def fingerprint(token: str) -> str:
    """Compare tokens by this: an assertion message never shows a token."""
    import hashlib

    return hashlib.sha256(token.encode()).hexdigest()[:12]


def start(sandbox: Sandbox, argv: list[str], env: Mapping[str, str | None] | None = None) -> Any:
    exe = str(sandbox.bin / argv[0])
    return subprocess.Popen(
        [exe, *argv[1:]],
        env=sandbox._env(dict(env or {})),
        cwd=sandbox.home,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(procs: list[Any], timeout: float = 120) -> list[Result]:
    out = []
    for p in procs:
        stdout, stderr = p.communicate(timeout=timeout)
        out.append(Result(p.returncode, stdout, stderr, list(p.args)))
    return out


def configured(sandbox: Sandbox, ws: FakeWorkspace, *args: str) -> dict[str, bytes]:
    sandbox.fake_program("claude", f'echo "{CLAUDE_VERSION}"\n')
    sandbox.signed_in(ws)
    seed_user_files(sandbox)
    result = setup(sandbox, "--host", ws.url, "--shell", "bash", "--no-verify", *args)
    assert result.code == 0, result
    return sandbox.snapshot()


def expire_everything(sandbox: Sandbox, ws: FakeWorkspace) -> None:
    """Every token we or the CLI hold is expired: the next caller must refresh."""
    ws.expire_access_tokens()
    sandbox.set_token_expiry(-10)
    (sandbox.home / ".config/dbx-fmapi-claude/token-state.json").unlink(missing_ok=True)


def user_keys_kept(sandbox: Sandbox, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    data = json.loads((sandbox.home / SETTINGS).read_bytes())
    want = json.loads(USER_SETTINGS)
    want.update(extra or {})
    assert settings_without_ours(data) == want
    return dict(data)


MIXES = {
    "20 helpers": {"token": 20, "wrapper": 0},
    "20 wrappers": {"token": 0, "wrapper": 20},
    "10 helpers + 10 wrappers": {"token": 10, "wrapper": 10},
}


@case(CONCURRENCY, "many helpers and wrappers at once")
@pytest.mark.parametrize("mode", ["helper", "static"])
@pytest.mark.parametrize("mix", list(MIXES))
def test_many_at_once_after_expiry_one_refresh_and_a_whole_file(
    sandbox: Sandbox, workspace: FakeWorkspace, mix: str, mode: str
) -> None:
    configured(sandbox, workspace, "--token-mode", mode)
    expire_everything(sandbox, workspace)
    if mode == "static":  # the token in the file is about to expire too
        path = sandbox.home / SETTINGS
        data = json.loads(path.read_bytes())
        data["env"]["ANTHROPIC_AUTH_TOKEN"] = workspace.issue_token(lifetime=30)
        path.write_text(json.dumps(data, indent=2))
    refreshes = workspace.refresh_count()
    counts = MIXES[mix]
    procs = [start(sandbox, TOKEN) for _ in range(counts["token"])]
    procs += [start(sandbox, WRAPPER) for _ in range(counts["wrapper"])]
    results = finish(procs)
    for r in results:
        assert r.code == 0, r
        no_traceback(r)
    printed = {fingerprint(r.stdout.strip()) for r in results if r.argv[-1] == "token"}
    assert len(printed) <= 1
    assert workspace.refresh_count() - refreshes == 1
    current = sandbox.cached_token()
    assert workspace.token_state(current) == "valid"
    assert printed <= {fingerprint(current)}
    data = user_keys_kept(sandbox)
    if mode == "static":
        assert stat.S_IMODE((sandbox.home / SETTINGS).stat().st_mode) == 0o600
        if counts["wrapper"]:  # launches refresh the file (the helper is not used there)
            assert fingerprint(data["env"]["ANTHROPIC_AUTH_TOKEN"]) == fingerprint(current)
    json.loads((sandbox.home / ".config/dbx-fmapi-claude/token-state.json").read_bytes())


@case(CONCURRENCY, "one refresh per expiry")
@pytest.mark.parametrize("mode", ["helper", "static"])
def test_one_refresh_per_expiry_over_several_expiries(
    sandbox: Sandbox, workspace: FakeWorkspace, mode: str
) -> None:
    """Three expiries in a row, each met by eight callers at once (six helpers, two launches):
    each expiry costs exactly one refresh, in its turn, and every token handed out has the life
    its caller needs. An expiry here is the current token no longer living long enough: round k
    issues tokens that live 1000 s longer than round k-1's and needs 500 s less than that, so
    the last round's token falls 500 s short and the new one has 500 s to spare. Counts and
    order only: nothing depends on how fast the machine is."""
    from dbx_fmapi_claude.auth.tokens import jwt_expiry

    configured(sandbox, workspace, "--token-mode", mode)
    refreshes = workspace.refresh_count()
    ttl = 60
    handed_out: list[str] = []
    for k in (1, 2, 3):
        lifetime = 3600 + 1000 * k  # setup's token lives 3600 s: round 1 needs more than that
        need = lifetime - 500
        workspace.access_token_lifetime = lifetime
        env = {
            "CLAUDE_CODE_API_KEY_HELPER_TTL_MS": str(ttl * 1000),
            "DBX_FMAPI_TOKEN_MARGIN_SECONDS": str(need - ttl),
        }
        started = time.time()
        procs = [start(sandbox, TOKEN, env) for _ in range(6)]
        procs += [start(sandbox, WRAPPER, env) for _ in range(2)]
        results = finish(procs)
        for r in results:
            assert r.code == 0, r
            no_traceback(r)
        assert workspace.refresh_count() - refreshes == k, f"round {k}"  # one per expiry
        printed = {r.stdout.strip() for r in results if r.argv[-1] == "token"}
        assert len(printed) == 1, [fingerprint(t) for t in printed]  # all got the same token
        (token,) = printed
        assert workspace.token_state(token) == "valid"
        assert sandbox.cached_token() == token
        # Issued in this round (a token of the last round lives 1000 s less), with the life
        # every caller of the round needed (`exp` is whole seconds, rounded down).
        exp = jwt_expiry(token)
        assert exp is not None and exp >= started + lifetime - 1, exp - started if exp else None
        assert fingerprint(token) not in {fingerprint(t) for t in handed_out}
        handed_out.append(token)
        if mode == "static":  # the launches wrote it into the settings file
            data = json.loads((sandbox.home / SETTINGS).read_bytes())
            assert fingerprint(data["env"]["ANTHROPIC_AUTH_TOKEN"]) == fingerprint(token)
    # Again with the last round's needs: nothing expired, so nobody refreshes.
    results = finish([start(sandbox, TOKEN, env) for _ in range(4)])
    assert all(r.code == 0 and r.stdout.strip() == handed_out[-1] for r in results), results
    assert workspace.refresh_count() - refreshes == 3
    user_keys_kept(sandbox)


def _slow_setup(sandbox: Sandbox, ws: FakeWorkspace, *args: str) -> Any:
    """Setup in the background, its verify slowed to 0.5 s per model: a window for others."""
    ws.set_latency("/serving-endpoints/anthropic", 0.5)
    argv = ["setup-fmapi-claudecode", "--skip-install", "--host", ws.url, "--shell", "bash"]
    return start(sandbox, [*argv, *args])


def _wait_for_verify(ws: FakeWorkspace, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not ws.requests("/serving-endpoints/anthropic"):
        time.sleep(0.02)


def _claude_writes_its_file(sandbox: Sandbox, ws: FakeWorkspace) -> dict[str, Any]:
    """What Claude Code does all the time: rewrite ~/.claude.json."""
    path = sandbox.home / ".claude.json"
    data = json.loads(path.read_text())
    data["numStartups"] = data.get("numStartups", 0) + 1
    data["projects"] = {**data.get("projects", {}), "/work/new": {"allowedTools": ["Bash"]}}
    path.write_text(json.dumps(data, indent=2))
    return {"numStartups": data["numStartups"], "projects": data["projects"]}


def _user_edits_settings(sandbox: Sandbox, ws: FakeWorkspace) -> dict[str, Any]:
    path = sandbox.home / SETTINGS
    data = json.loads(path.read_text())
    data["permissions"] = {"allow": ["Bash(ls:*)", "Bash(git status)"], "deny": []}
    path.write_text(json.dumps(data, indent=4))
    return {"permissions": data["permissions"]}


def _user_appends_to_bashrc(sandbox: Sandbox, ws: FakeWorkspace) -> dict[str, Any]:
    with (sandbox.home / ".bashrc").open("a") as fh:
        fh.write("export ADDED_DURING_SETUP=1\n")
    return {}


def _wrapper_refreshes_static_token(sandbox: Sandbox, ws: FakeWorkspace) -> dict[str, Any]:
    r = sandbox.run(WRAPPER, env={"DBX_FMAPI_TOKEN_MARGIN_SECONDS": "3500"})
    assert r.code == 0, r
    return {}


WRITERS: dict[str, tuple[Callable[[Sandbox, FakeWorkspace], dict[str, Any]], list[str]]] = {
    "Claude Code rewrites ~/.claude.json": (_claude_writes_its_file, []),
    "the user saves settings.json": (_user_edits_settings, []),
    "the user appends to ~/.bashrc": (_user_appends_to_bashrc, []),
    "a static-mode launch refreshes the token": (
        _wrapper_refreshes_static_token,
        ["--token-mode", "static"],
    ),
}


@case(CONCURRENCY, "setup while others write")
@pytest.mark.parametrize("writer", list(WRITERS))
def test_setup_keeps_what_others_wrote_while_it_ran(
    sandbox: Sandbox, workspace: FakeWorkspace, writer: str
) -> None:
    """Between setup's plan and its write (here: during its verify), another program writes one
    of the files setup changes. Setup redoes its edit on the new bytes: nothing is lost."""
    write, mode = WRITERS[writer]
    configured(sandbox, workspace, *mode)
    # The re-run changes every file it owns a part of: another model, the onboarding flag
    # (removed meanwhile), the rc block (gone).
    claude_json = sandbox.home / ".claude.json"
    data = json.loads(claude_json.read_text())
    data.pop("hasCompletedOnboarding")
    claude_json.write_text(json.dumps(data, indent=2))
    bashrc = sandbox.home / ".bashrc"
    bashrc.write_text("# my bashrc\nexport A=1\n")
    proc = _slow_setup(sandbox, workspace, "--sonnet", "databricks-claude-sonnet-4", *mode)
    _wait_for_verify(workspace)
    extra = write(sandbox, workspace)
    (result,) = finish([proc])
    assert result.code == 0, result
    settings = json.loads((sandbox.home / SETTINGS).read_bytes())
    assert settings["env"]["ANTHROPIC_DEFAULT_SONNET_MODEL"] == "databricks-claude-sonnet-4"
    extra_settings = extra if writer == "the user saves settings.json" else {}
    user_keys_kept(sandbox, extra_settings)
    cj = json.loads(claude_json.read_text())
    assert cj["hasCompletedOnboarding"] is True
    if writer == "Claude Code rewrites ~/.claude.json":
        for key, value in extra.items():
            assert cj[key] == value
    rc = bashrc.read_text()
    assert rc.count("# >>> dbx-fmapi-claude >>>") == 1
    assert rc.startswith("# my bashrc\nexport A=1\n")
    if writer == "the user appends to ~/.bashrc":
        assert "export ADDED_DURING_SETUP=1\n" in rc
    if mode:
        token = settings["env"]["ANTHROPIC_AUTH_TOKEN"]
        assert workspace.token_state(token) == "valid"


@case(CONCURRENCY, "setup while others write")
def test_setup_while_real_claude_sessions_run(
    sandbox: Sandbox, workspace: FakeWorkspace, claude_bin: str
) -> None:
    """Real Claude Code sessions (which run the token helper and rewrite ~/.claude.json) while
    setup re-runs: every session answers, ~/.claude.json keeps Claude's state, and the
    onboarding flag is there by the time claude next starts through dbx-fmapi-claude. A session
    that read the file before setup wrote the flag may save its own copy over it afterwards (a
    real race, which setup cannot win); whichever way it went, the launch puts it back first."""
    sandbox.remove("claude")
    (sandbox.bin / "claude").symlink_to(claude_bin)
    sandbox.signed_in(workspace)
    seed_user_files(sandbox)
    assert setup(sandbox, "--host", workspace.url, "--shell", "bash").code == 0
    claude_json = sandbox.home / ".claude.json"
    data = json.loads(claude_json.read_text())
    data.pop("hasCompletedOnboarding")
    claude_json.write_text(json.dumps(data, indent=2))
    env = {"CLAUDE_CODE_MAX_RETRIES": "0"}
    proc = _slow_setup(sandbox, workspace, "--haiku", "databricks-claude-haiku-4-5")
    _wait_for_verify(workspace)
    sessions = [start(sandbox, ["claude", "-p", "hi"], env) for _ in range(3)]
    results = finish([proc, *sessions])
    for r in results:
        assert r.code == 0, r
    assert all("pong" in r.stdout for r in results[1:])
    assert json.loads(claude_json.read_text())["numStartups"] >= 12  # Claude's own, kept
    launch = sandbox.run(WRAPPER)
    real = sandbox.run(["claude", "--version"]).stdout.split()[0]  # whichever release is pinned
    assert launch.code == 0 and real in launch.stdout, launch
    cj = json.loads(claude_json.read_text())
    assert cj["hasCompletedOnboarding"] is True
    assert cj["numStartups"] >= 12  # Claude's own counter survived (it started at 12)
    user_keys_kept(sandbox)


@case(CONCURRENCY, "setups racing each other")
@pytest.mark.parametrize("mode", ["helper", "static"])
def test_setups_racing_each_other_leave_one_consistent_result(
    sandbox: Sandbox, workspace: FakeWorkspace, mode: str
) -> None:
    configured(sandbox, workspace, "--token-mode", mode)
    models = [
        "databricks-claude-sonnet-4",
        "databricks-claude-sonnet-4-5",
        "databricks-claude-3-7-sonnet",
    ]
    argv = ["setup-fmapi-claudecode", "--skip-install", "--host", workspace.url, "--shell", "bash"]
    procs = [start(sandbox, [*argv, "--token-mode", mode, "--sonnet", m]) for m in models]
    procs += [start(sandbox, WRAPPER) for _ in range(3)]
    for r in finish(procs):
        assert r.code == 0, r
    settings = user_keys_kept(sandbox)
    cfg = config_of(sandbox)
    sonnet = settings["env"]["ANTHROPIC_DEFAULT_SONNET_MODEL"]
    assert sonnet in models and cfg["sonnet"] == sonnet  # the record matches the file
    assert (sandbox.home / ".bashrc").read_text().count("# >>> dbx-fmapi-claude >>>") == 1
    assert not list(sandbox.home.rglob("*.tmp"))
