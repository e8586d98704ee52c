"""Our other commands load what their path needs and no more: the network modules only when
a request is made, typing only for the type checker, subprocess only when a program is asked.

Each start is a whole Python process (the test suite starts hundreds), so what it imports is
most of what it costs. Runs the installed entry points under `python -X importtime` in the
sandbox and names what each must not load; benchmarks/commands.py measures the starts.
"""

from __future__ import annotations

import sys
from pathlib import Path

from tests.helpers.hot_paths import imported
from tests.rig.checks import assert_refused
from tests.rig.sandbox import Sandbox
from tests.rig.workspace import FakeWorkspace

# A request to the workspace brings these (ssl alone is ~15 % of a command's start).
NETWORK = {"ssl", "http.client", "urllib.request", "email", "socket"}
# Loaded by none of the commands below: annotations only, and programs none of them runs.
NOT_NEEDED = NETWORK | {"typing", "subprocess"}


def importtime(sandbox: Sandbox, argv: list[str]) -> tuple[int, str, set[str]]:
    script = Path(sys.executable).parent / argv[0]
    out = sandbox.run([sys.executable, "-X", "importtime", str(script), *argv[1:]])
    return out.code, out.stdout, imported(out.stderr)


def test_setup_refusing_a_bad_url_loads_no_network_no_installer_no_team_reader(
    sandbox: Sandbox,
) -> None:
    before = sandbox.snapshot()
    script = Path(sys.executable).parent / "setup-fmapi-claudecode"
    argv = [sys.executable, "-X", "importtime", str(script), "--host", "notaurl"]
    result = sandbox.run(argv)
    modules = imported(result.stderr)
    result.stderr = "\n".join(
        line for line in result.stderr.splitlines() if not line.startswith("import time:")
    )
    assert_refused(result, 2, says="Workspace URL must start with https://", fix="--host https://")
    assert sandbox.snapshot() == before
    assert "dbx_fmapi_claude.setup.previous" in modules  # it got as far as the flags' check
    ours = {"dbx_fmapi_claude.team.reading", "dbx_fmapi_claude.setup.install"}
    assert not modules & (NOT_NEEDED | ours), sorted(modules & (NOT_NEEDED | ours))


def test_commands_that_ask_nothing_of_the_workspace_load_no_network(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    """status, mcp list, uninstall --dry-run and both --help: every file read, no request,
    no program started (the diff of a dry run loads difflib, the others do not)."""
    sandbox.signed_in(workspace)
    setup = sandbox.run(
        ["setup-fmapi-claudecode", "--host", workspace.url, "--skip-install", "--no-verify"]
        + ["--shell", "none"]
    )
    assert setup.code == 0, setup
    workspace.clear_log()
    loaded: dict[str, set[str]] = {}
    for argv in (
        ["dbx-fmapi", "status"],
        ["dbx-fmapi", "mcp", "list"],
        ["dbx-fmapi", "uninstall", "--dry-run", "--yes"],
        ["dbx-fmapi", "--help"],
        ["setup-fmapi-claudecode", "--help"],
    ):
        code, stdout, modules = importtime(sandbox, argv)
        assert code == 0, (argv, stdout)
        name = " ".join(argv[1:])
        loaded[name] = modules & NOT_NEEDED
        if name != "uninstall --dry-run --yes":
            loaded[name] |= modules & {"difflib"}
    assert workspace.requests() == []
    assert loaded == {name: set() for name in loaded}
