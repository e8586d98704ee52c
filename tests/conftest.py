"""Fixtures every test uses: a guard for the real home, fake workspaces, a sandbox.

Contract (other tests code against these names):
- autouse `_guard_real_home`: fails a test that changes the real ~/.claude, ~/.claude.json,
  ~/.databrickscfg, rc files or ~/.config/dbx-fmapi-claude; sets os.environ["HOME"] to the
  test's tmp home (same folder as sandbox.home) and drops DATABRICKS_*/ANTHROPIC_* variables.
- `workspace` / `tls_workspace`: a started FakeWorkspace (HTTP / HTTPS), stopped after.
- `sandbox`: tests.rig.sandbox.Sandbox (home, bin, env, run, claude, login, ...).
- `claude_bin`: path of the real claude (DBX_TEST_CLAUDE_BIN).
- `databricks_bin`: path of the real Databricks CLI (DBX_TEST_DATABRICKS_BIN, built by
  scripts/test); every sandbox runs it behind a logging shim. Unset: sandboxes fall back to the
  fake CLI and the pytest header says so.
- `codex_bin`, `gemini_bin`, `opencode_bin`: the real agents (DBX_TEST_CODEX_BIN, ...,
  installed by scripts/test); `agents`: tests.rig.agents.Agents on the test's sandbox, behind a
  NetTrap (`net_trap`) that records every connection an agent tries beyond 127.0.0.1.
- A test whose binary is missing skips with the reason; under CI (CI=true) it fails instead,
  so CI never passes by skipping.
"""

from __future__ import annotations

import os
import pwd
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.rig.agents import Agents, NetTrap, agent_bin
from tests.rig.sandbox import Sandbox, databricks_version, real_databricks_bin
from tests.rig.workspace import FakeWorkspace

# DBX_TEST_CPU_LOG=FILE: each test's CPU seconds into FILE (python -m tests.rig.cpumeter FILE).
pytest_plugins = ["tests.rig.cpumeter"]

_REAL_HOMES = sorted(
    {
        os.path.realpath(os.path.expanduser("~")),
        os.path.realpath(pwd.getpwuid(os.getuid()).pw_dir),
    }
)
# Files and folders under the real home that nothing in a test may change.
_GUARDED = [
    ".claude",  # the folder itself: entries added or removed
    ".claude/settings.json",
    ".claude/settings.local.json",
    ".claude.json",
    ".databrickscfg",
    ".databricks",
    ".databricks/token-cache.json",
    ".zshrc",
    ".bashrc",
    ".bash_profile",
    ".profile",
    ".config/fish/functions",
    ".config/fish/config.fish",
    ".config/dbx-fmapi-claude",
    ".local/bin",
    ".local/bin/dbx-fmapi",
    ".local/bin/dbx-fmapi-claude",
    ".local/bin/setup-fmapi-claudecode",
    ".local/share/dbx-fmapi-claude",
]
_RECURSIVE = {".config/dbx-fmapi-claude", ".local/share/dbx-fmapi-claude"}
_SCRUB_PREFIXES = ("DATABRICKS_", "ANTHROPIC_", "CLAUDE_CODE_", "FAKE_DATABRICKS_")
_SCRUB = {"BROWSER", "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "NODE_EXTRA_CA_CERTS"}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "subprocess: runs programs (set on every test that uses the `sandbox` fixture and on "
        "_SPAWNING_MODULES); `./scripts/test --fast` runs the others only",
    )
    # A shell starts a background job (`./scripts/test &`, a CI step) with SIGINT ignored, and
    # every program inherits that: the Ctrl-C tests' programs would never see their Ctrl-C.
    # A handler (that ignores it here too) is reset to the default in each program we start.
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, _ignore_sigint)


def _ignore_sigint(signum: int, frame: object) -> None:
    pass


# Modules whose tests run programs without the `sandbox` fixture.
_SPAWNING_MODULES = {
    "test_cli_parity.py",
    "test_setup_bootstrap.py",
    "test_login_shells.py",
    "test_demo.py",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "sandbox" in getattr(item, "fixturenames", ()) or item.path.name in _SPAWNING_MODULES:
            item.add_marker("subprocess")
    # The minutes-long sessions first, then the other tests of a minute or more (stable: the
    # rest keeps its order). Under xdist (--dist loadgroup hands out one test at a time, in this
    # order) each starts at once on a worker of its own and the other workers share out
    # everything else meanwhile; run one after another at the end they would be the whole
    # run's tail.
    items.sort(key=_rank)


# The longest tests that are not `slow` sessions (a fresh-clone CI's --durations): a clone, a
# wheel or a real agent's several runs each.
_LONG = {
    "test_demo.py::test_the_demo_runs_in_a_clone_where_the_tests_never_ran",
    "test_distribution.py::test_a_fleet_installs_the_wheel_with_pipx_sets_up_from_a_team_file_and_upgrades",
    "test_faults.py::test_killed_at_any_write_leaves_each_file_old_or_new",
    "test_rig_agent_doctor.py::test_every_agent_passes_then_a_codex_provider_removed_by_hand_fails_with_the_fix",
    "test_concurrency.py::test_one_refresh_per_expiry_over_several_expiries",
    "test_try_it.py::test_the_readme_by_hand_commands_work_without_a_test_run",
}


def _rank(item: pytest.Item) -> int:
    """0: the MLflow session (on a fresh clone it waits for the pinned MLflow's install, the
    longest of all), 1: the other `slow` sessions, 2: _LONG, 3: the rest."""
    if item.get_closest_marker("slow") is not None:
        return 0 if item.path.name == "test_mlflow_claude.py" else 1
    name = getattr(item, "originalname", item.name)
    return 2 if f"{item.path.name}::{name}" in _LONG else 3


def pytest_report_header(config: pytest.Config) -> list[str]:
    exe = real_databricks_bin()
    if exe:
        return [f"databricks CLI: v{databricks_version(exe)} (real) at {exe}"]
    return [
        "databricks CLI: THE FAKE (tests/rig/fake_databricks.py): DBX_TEST_DATABRICKS_BIN is "
        "unset; ./scripts/test builds and uses the real one"
    ]


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not real_databricks_bin():
        terminalreporter.write_line(
            "WARNING: these tests ran the FAKE databricks CLI (DBX_TEST_DATABRICKS_BIN unset); "
            "run ./scripts/test for the real one",
            yellow=True,
            bold=True,
        )


def _stat(path: str) -> tuple[int, int, int] | None:
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_mode)


def _real_home_state(homes: list[str] | None = None) -> dict[str, tuple[int, int, int] | None]:
    state: dict[str, tuple[int, int, int] | None] = {}
    for home in _REAL_HOMES if homes is None else homes:
        for rel in _GUARDED:
            path = os.path.join(home, rel)
            state[path] = _stat(path)
            if rel in _RECURSIVE and os.path.isdir(path):
                for dirpath, _dirs, files in os.walk(path):
                    for name in files:
                        p = os.path.join(dirpath, name)
                        state[p] = _stat(p)
    return state


@pytest.fixture
def sandbox_home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return home


@pytest.fixture(autouse=True)
def _guard_real_home(sandbox_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    homes = list(_REAL_HOMES)
    before = _real_home_state(homes)
    monkeypatch.setenv("HOME", str(sandbox_home))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    for name in list(os.environ):
        if name.startswith(_SCRUB_PREFIXES) or name in _SCRUB:
            monkeypatch.delenv(name, raising=False)
    yield
    after = _real_home_state(homes)
    changed = sorted(p for p in set(before) | set(after) if before.get(p) != after.get(p))
    assert not changed, f"test touched the real home: {changed}"


@pytest.fixture(scope="session")
def _claude_bin_path() -> str | None:
    return os.environ.get("DBX_TEST_CLAUDE_BIN") or None


def _missing(variable: str) -> None:
    """Skip a test whose real binary is missing; under CI, fail it."""
    reason = f"{variable} is unset: run the suite through ./scripts/test"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{reason} (CI runs every test: nothing may skip for a missing binary)")
    pytest.skip(reason)


@pytest.fixture
def claude_bin(_claude_bin_path: str | None) -> str:
    if not _claude_bin_path:
        _missing("DBX_TEST_CLAUDE_BIN")
    assert _claude_bin_path is not None
    return _claude_bin_path


@pytest.fixture
def databricks_bin() -> str:
    exe = real_databricks_bin()
    if not exe:
        _missing("DBX_TEST_DATABRICKS_BIN")
    assert exe is not None
    return exe


def _agent_bin(name: str) -> str:
    exe = agent_bin(name)
    if not exe:
        _missing(f"DBX_TEST_{name.upper()}_BIN")
    assert exe is not None
    return exe


@pytest.fixture
def codex_bin() -> str:
    return _agent_bin("codex")


@pytest.fixture
def gemini_bin() -> str:
    return _agent_bin("gemini")


@pytest.fixture
def opencode_bin() -> str:
    return _agent_bin("opencode")


@pytest.fixture
def net_trap() -> Iterator[NetTrap]:
    with NetTrap() as trap:
        yield trap


@pytest.fixture
def agents(sandbox: Sandbox, net_trap: NetTrap) -> Agents:
    return Agents(sandbox, net_trap)


@pytest.fixture
def workspace() -> Iterator[FakeWorkspace]:
    with FakeWorkspace() as ws:
        yield ws


@pytest.fixture
def tls_workspace() -> Iterator[FakeWorkspace]:
    with FakeWorkspace(tls=True) as ws:
        yield ws


@pytest.fixture
def sandbox(tmp_path: Path, sandbox_home: Path, _claude_bin_path: str | None) -> Iterator[Sandbox]:
    box = Sandbox(tmp_path, claude_bin=_claude_bin_path, home=sandbox_home)
    yield box
    # A login still running (a failed or interrupted test, a child started outside run())
    # would hold the machine-wide login lock for every other test: it ends with its test.
    box.end_logins()
