"""Self-tests of the rig's logins (tests/rig/logins.py): Sandbox.signed_in replays one real
`databricks auth login` without the browser or the machine-wide lock, the lock's log, and no
login outliving its test (it would hold the lock for every other login on the machine)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.rig import cpumeter, lockmeter
from tests.rig.logins import LOGIN_LOCK_WAIT, lock_holders
from tests.rig.sandbox import LOGIN_LOCK_LOG_ENV, Result, Sandbox
from tests.rig.workspace import FakeWorkspace


def _files(box: Sandbox) -> dict[str, tuple[int, bytes | None]]:
    """HOME and the CLI's cache dir: relative path -> (mode, bytes or None for a folder)."""
    out: dict[str, tuple[int, bytes | None]] = {}
    for base in (box.home, box.databricks_cache):
        for path in base.rglob("*"):
            data = path.read_bytes() if path.is_file() else None
            out[str(path.relative_to(box.root))] = (path.stat().st_mode, data)
    return out


def test_signed_in_writes_what_a_real_login_writes_with_this_workspaces_tokens(
    sandbox: Sandbox, workspace: FakeWorkspace, databricks_bin: str, tmp_path: Path
) -> None:
    real = Sandbox(tmp_path / "real", databricks_bin=databricks_bin)
    real.login(workspace)
    sandbox.signed_in(workspace)

    assert sandbox.logins() == 0 and sandbox.browser_visits(wait=0) == []
    want, got = _files(real), _files(sandbox)
    assert {k: mode for k, (mode, _) in got.items()} == {k: mode for k, (mode, _) in want.items()}
    cache = "home/.databricks/token-cache.json"
    assert {k: v for k, v in got.items() if k != cache} == {
        k: v for k, v in want.items() if k != cache
    }

    def shape(data: bytes | None) -> str:
        assert data is not None
        return re.sub(r'"(access_token|refresh_token|expiry)": "[^"]*"', '"\\1": …', data.decode())

    assert shape(got[cache][1]) == shape(want[cache][1])
    # The replayed tokens are this workspace's own, and the real CLI takes them as they are.
    result = sandbox.run(["databricks", "auth", "token", "--profile", "DEFAULT"])
    assert result.code == 0, result
    token = json.loads(result.stdout)["access_token"]
    assert token == sandbox.cached_token() and workspace.token_state(token) == "valid"
    assert workspace.refresh_count() == 0


def test_signed_in_logs_in_for_real_where_a_replay_would_not_be_faithful(
    sandbox: Sandbox, workspace: FakeWorkspace, databricks_bin: str
) -> None:
    sandbox.signed_in(workspace)
    sandbox.signed_in(workspace, profile="second")  # a profile there already: a real login
    assert sandbox.logins() == 1
    assert "[second]" in (sandbox.home / ".databrickscfg").read_text()


@pytest.mark.subprocess
def test_every_login_logs_when_it_wants_takes_and_lets_go_of_the_lock(
    workspace: FakeWorkspace,
    databricks_bin: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    log = tmp_path / "lock.log"
    monkeypatch.setenv(LOGIN_LOCK_LOG_ENV, str(log))
    box = Sandbox(tmp_path / "box", databricks_bin=databricks_bin)  # its shim logs
    box.login(workspace)
    box.login(workspace, profile="second")
    events = [line.split() for line in log.read_text().splitlines()]
    assert [e[0] for e in events] == ["want", "acquire", "release"] * 2
    assert len({e[2] for e in events[:3]}) == 1  # one shim's pid per login
    held, waited = lockmeter.intervals(log.read_text())
    assert len(held) == len(waited) == 2
    assert all(a <= b for a, b in held + waited)


def test_the_lock_meter_sums_held_time_once_where_logins_overlap(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "lock.log"
    log.write_text(
        "want 10.0 1\nacquire 11.0 1\nwant 11.5 2\nrelease 13.0 1\n"
        "acquire 12.0 2\nrelease 14.0 2\ngarbage\nrelease 20.0 3\n"
    )
    held, waited = lockmeter.intervals(log.read_text())
    assert held == [(11.0, 13.0), (12.0, 14.0)] and waited == [(10.0, 11.0), (11.5, 12.0)]
    assert lockmeter.union(held) == 3.0
    assert lockmeter.main([str(log), "--wall", "30"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "logins: 2",
        "lock held: 3.0 s of 30.0 s (10 %)",
        "waiting for it: 1.5 s summed over logins",
        "mean hold: 2.00 s",
    ]


def test_a_login_left_running_is_killed_when_its_sandbox_ends_its_logins(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    # A login started outside Sandbox.run, in a session of its own, as a pexpect child or an
    # interrupted test leaves one: it holds (or waits for) the machine-wide login lock on fd 9.
    sandbox.use_fake_cli()
    login = subprocess.Popen(
        [str(sandbox.bin / "databricks"), "auth", "login", "--host", workspace.url],
        env=sandbox._env({"FAKE_DATABRICKS_HANG": "3600"}),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        while login.pid not in lock_holders(sandbox.home):
            assert login.poll() is None, "the login ended before it opened the lock"
            time.sleep(0.02)
        other = Sandbox(sandbox.root / "other")

        assert other.end_logins() == []  # another test's sandbox leaves it alone
        assert login.poll() is None
        # The login, and its wait in line for the lock when another login holds it.
        assert login.pid in sandbox.end_logins()
        assert login.wait() == -signal.SIGKILL
        assert _holders_once_children_die(sandbox.home) == []
    finally:
        if login.poll() is None:
            login.kill()
            login.wait()


def test_a_login_gives_up_only_after_waiting_for_the_lock_and_its_own_timeout(
    sandbox: Sandbox, workspace: FakeWorkspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The shim waits up to LOGIN_LOCK_WAIT for the lock before the CLI's --timeout starts:
    # a run given less would be killed while still in line, or leave the login behind.
    given: list[float] = []
    run = sandbox.run

    def spy(argv: list[str] | str, **kw: Any) -> Result:
        given.append(kw["timeout"])
        return run(argv, **kw)

    monkeypatch.setattr(sandbox, "run", spy)
    sandbox.use_fake_cli()
    sandbox.login(workspace, timeout=30)
    assert len(given) == 1 and given[0] > LOGIN_LOCK_WAIT + 30


def test_a_login_dies_with_the_process_that_started_it(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    # A test process killed mid-login (an xdist worker gone, a Ctrl-C'd run) runs no teardown:
    # its login, in a session of its own, used to live on holding the lock past its --timeout.
    sandbox.use_fake_cli()
    starter = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import subprocess, sys, time\n"
            "p = subprocess.Popen(sys.argv[1:], start_new_session=True,\n"
            "    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
            "print(p.pid, flush=True)\n"
            "time.sleep(3600)\n",
            str(sandbox.bin / "databricks"),
            "auth",
            "login",
            "--host",
            workspace.url,
        ],
        env=sandbox._env({"FAKE_DATABRICKS_HANG": "3600"}),
        stdout=subprocess.PIPE,
        text=True,
    )
    assert starter.stdout is not None
    login = int(starter.stdout.readline())
    try:
        while login not in lock_holders(sandbox.home):
            assert os.path.exists(f"/proc/{login}"), "the login ended before it opened the lock"
            time.sleep(0.02)
        os.kill(starter.pid, signal.SIGKILL)
        starter.wait()
        # It goes without anyone killing it; a hang guard only, not a timing assertion.
        guard = time.monotonic() + 60
        while _alive(login) and time.monotonic() < guard:
            time.sleep(0.02)
        assert not _alive(login), "the login outlived the process that started it"
        assert _holders_once_children_die(sandbox.home) == []
    finally:
        if starter.poll() is None:
            starter.kill()
            starter.wait()
        sandbox.end_logins()


def _holders_once_children_die(home: Path) -> list[int]:
    """lock_holders(home) after the login's children are gone: its wait for the lock and the CLI
    run under `setpriv --pdeathsig KILL`, which the kernel kills when the login dies, but
    asynchronously (a fresh-clone CI run saw one still holding the lock at the check). 60 s only
    guards against a hang; a holder left after that is the failure."""
    guard = time.monotonic() + 60
    while lock_holders(home) and time.monotonic() < guard:
        time.sleep(0.05)
    return lock_holders(home)


def _alive(pid: int) -> bool:
    """A process that exists and is not a zombie (an orphan's zombie waits for init)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.subprocess
def test_the_cpu_meter_logs_each_test_and_sums_them_by_area(tmp_path: Path) -> None:
    """DBX_TEST_CPU_LOG: one line per test with its programs' CPU; the summary adds them up."""
    log = tmp_path / "cpu.jsonl"
    (tmp_path / "test_spin.py").write_text(
        "import subprocess, sys\n\n"
        "def test_a_program():\n"
        "    subprocess.run([sys.executable, '-c', 'sum(range(3_000_000))'], check=True)\n\n"
        "def test_nothing():\n"
        "    pass\n"
    )
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, cpumeter.CPU_LOG_ENV: str(log), "PYTHONPATH": str(root)}
    argv = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "tests.rig.cpumeter",
        "-p",
        "no:cacheprovider",
    ]
    done = subprocess.run(
        [*argv, str(tmp_path / "test_spin.py")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    by_name = {r["id"].split("::")[1]: r for r in rows}
    assert set(by_name) == {"test_a_program", "test_nothing"}
    assert by_name["test_a_program"]["children"] > 0 and by_name["test_nothing"]["children"] == 0
    lines = cpumeter.summary(rows, top=1)
    assert lines[0].startswith("tests: 2, CPU: ") and lines[-1].endswith("::test_a_program")
