"""The wrapper and the token helper run on every launch and every TTL, the status line on every
Claude Code refresh: standard library only.

Runs the installed entry points under `python -X importtime` in the sandbox and checks every
module they load is the standard library's or ours (no rich, questionary, databricks-sdk,
requests, httpx, …). Speed itself is measured by benchmarks/launch.py and
benchmarks/statusline.py, not asserted here.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

from tests.helpers.hot_paths import ALLOWED_NON_STDLIB, imported
from tests.rig.sandbox import Sandbox
from tests.rig.workspace import FakeWorkspace

TOKEN_RECORD = ".config/dbx-fmapi-claude/token-state.json"
# Costly standard modules no hot path needs (measured on the development machine, where
# Python itself starts in ~19 ms: json with re, enum and functools ~15 ms, subprocess ~15 ms,
# pathlib 5-10 ms, argparse ~5 ms, datetime ~2 ms). With a valid token both paths read their
# JSON through jsonread (json's own C scanner) and need nothing beyond os, fcntl and select.
HEAVY = {
    "dataclasses",
    "typing",
    "subprocess",
    "ssl",
    "urllib",
    "asyncio",
    "argparse",
    "pathlib",
    "json",
    "re",
    "enum",
    "functools",
    "collections",
    "contextlib",
    "datetime",
    "importlib",
    "warnings",
    "hashlib",
}


@pytest.mark.parametrize(
    "argv, mode",
    [
        (["dbx-fmapi", "token"], "helper"),
        (["dbx-fmapi-claude", "--version"], "helper"),
        (["dbx-fmapi-claude", "--version"], "static"),
    ],
    ids=["token-helper", "wrapper", "wrapper-static"],
)
def test_hot_path_imports_only_the_standard_library(
    sandbox: Sandbox, workspace: FakeWorkspace, argv: list[str], mode: str
) -> None:
    sandbox.signed_in(workspace)
    setup = sandbox.run(
        ["setup-fmapi-claudecode", "--host", workspace.url, "--skip-install", "--no-verify"]
        + ["--shell", "none", "--token-mode", mode]
    )
    assert setup.code == 0, setup
    # The token setup handed out, as known good moments ago: no rejected-token check (a token
    # handed out before and not lately is checked with one request:
    # test_the_rejected_token_check_stays_standard_library).
    record = sandbox.home / TOKEN_RECORD
    state = json.loads(record.read_text())
    for entry in state.values():
        entry["ok"] = time.time()
    record.write_text(json.dumps(state))
    script = Path(sys.executable).parent / argv[0]
    out = sandbox.run([sys.executable, "-X", "importtime", str(script), *argv[1:]])
    assert out.code == 0, out
    modules = imported(out.stderr)
    top = {m.split(".")[0] for m in modules}
    assert "dbx_fmapi_claude" in top
    foreign = {m for m in top if m not in sys.stdlib_module_names} - ALLOWED_NON_STDLIB
    assert not foreign, f"{argv[0]} imported non-stdlib modules: {sorted(foreign)}"
    assert not modules & HEAVY, f"{argv[0]} imported {sorted(modules & HEAVY)}"


def test_statusline_imports_only_the_standard_library(sandbox: Sandbox, tmp_path: Path) -> None:
    """The status line runs on every Claude Code refresh: the same rule, for a payload with a
    transcript and a prices file with a budget (and no summary yet: the background refresh it
    starts runs in a process of its own)."""
    transcript = tmp_path / "session.jsonl"
    line = {
        "type": "assistant",
        "timestamp": "2026-12-06T07:00:00.000Z",
        "message": {"id": "m1", "model": "m", "usage": {"input_tokens": 1}},
    }
    transcript.write_text(json.dumps(line) + "\n")
    config = sandbox.home / ".config" / "dbx-fmapi-claude"
    config.mkdir(parents=True)
    prices = {"version": 1, "prices": {"m": {"input": 1, "output": 2}}}
    (config / "prices.json").write_text(json.dumps({**prices, "budget": {"monthly": 5}}))
    payload = {"session_id": "s", "transcript_path": str(transcript), "model": {"id": "m"}}
    script = Path(sys.executable).parent / "dbx-fmapi"
    out = sandbox.run(
        [sys.executable, "-X", "importtime", str(script), "statusline"], input=json.dumps(payload)
    )
    assert out.code == 0 and out.stdout.startswith("m · session 1 tok $0.00"), out
    modules = imported(out.stderr)
    assert "dbx_fmapi_claude.commands.statusline" in modules
    foreign = {m.split(".")[0] for m in modules} - set(sys.stdlib_module_names)
    assert not foreign - ALLOWED_NON_STDLIB, f"statusline imported {sorted(foreign)}"
    assert not modules & HEAVY, f"statusline imported {sorted(modules & HEAVY)}"


def test_the_rejected_token_check_stays_standard_library(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    """A token handed out before (and not moments ago) is checked with one request: http.client
    then, still no third-party module."""
    sandbox.signed_in(workspace)
    setup = sandbox.run(
        ["setup-fmapi-claudecode", "--host", workspace.url, "--skip-install", "--no-verify"]
        + ["--shell", "none"]
    )
    assert setup.code == 0, setup
    assert sandbox.run(["dbx-fmapi", "token"]).code == 0
    record = sandbox.home / TOKEN_RECORD
    state = json.loads(record.read_text())
    for entry in state.values():
        entry["ok"] = 0  # last known good long ago
    record.write_text(json.dumps(state))
    workspace.clear_log()
    script = Path(sys.executable).parent / "dbx-fmapi"
    out = sandbox.run([sys.executable, "-X", "importtime", str(script), "token"])
    assert out.code == 0, out
    assert [r.status for r in workspace.requests("/api/2.0/preview/scim/v2/Me")] == [200]
    top = {m.split(".")[0] for m in imported(out.stderr)}
    foreign = {m for m in top if m not in sys.stdlib_module_names} - ALLOWED_NON_STDLIB
    assert not foreign, f"the check imported non-stdlib modules: {sorted(foreign)}"


def test_the_mcp_headers_helper_checks_a_token_handed_out_before_with_the_standard_library(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    """An MCP server's headersHelper runs on connect and right after a 401/403, so a token it
    handed out before is always checked (even one handed out a moment ago: it may be the one
    the server just refused), with one request and the standard library only."""
    sandbox.signed_in(workspace)
    setup = sandbox.run(
        ["setup-fmapi-claudecode", "--host", workspace.url, "--skip-install", "--no-verify"]
        + ["--shell", "none"]
    )
    assert setup.code == 0, setup
    record = sandbox.home / TOKEN_RECORD
    state = json.loads(record.read_text())
    for entry in state.values():
        entry["ok"] = time.time()  # known good a moment ago: the token helper would not check
    record.write_text(json.dumps(state))
    workspace.clear_log()
    script = Path(sys.executable).parent / "dbx-fmapi"
    out = sandbox.run([sys.executable, "-X", "importtime", str(script), "token", "--mcp-headers"])
    assert out.code == 0, out
    assert json.loads(out.stdout)["Authorization"].startswith("Bearer ")
    assert [r.status for r in workspace.requests("/api/2.0/preview/scim/v2/Me")] == [200]
    top = {m.split(".")[0] for m in imported(out.stderr)}
    foreign = {m for m in top if m not in sys.stdlib_module_names} - ALLOWED_NON_STDLIB
    assert not foreign, f"the MCP headers helper imported non-stdlib modules: {sorted(foreign)}"


def test_the_mlflow_hook_stays_standard_library_until_it_hands_over_to_mlflow(
    sandbox: Sandbox, workspace: FakeWorkspace, tmp_path: Path
) -> None:
    """`dbx-fmapi mlflow-hook` (Claude Code's Stop hook for --mlflow-experiment) gets the token
    with the standard library only, then starts MLflow's own hook in the background: no MLflow,
    no SDK and no HTTP library in our process."""
    from tests.helpers import mlflow_world

    folder = mlflow_world.fake(tmp_path / "mlflow-env")
    sandbox.env["DBX_FMAPI_MLFLOW_VENV"] = str(folder)
    pat = workspace.issue_pat()
    (sandbox.home / ".databrickscfg").write_text(
        f"[DEFAULT]\nhost = {workspace.url}\ntoken = {pat}\n"
    )
    script = Path(sys.executable).parent / "dbx-fmapi"
    argv = [sys.executable, "-X", "importtime", str(script), "mlflow-hook"]
    out = sandbox.run([*argv, "--experiment", "/Users/a/b", "--profile", "DEFAULT"], input="{}")
    assert out.code == 0, out
    assert mlflow_world.ran(folder, 1) == ["autolog claude stop-hook"]  # handed over
    modules = imported(out.stderr)
    assert "dbx_fmapi_claude.commands.mlflow_hook" in modules
    foreign = {m.split(".")[0] for m in modules} - set(sys.stdlib_module_names)
    assert not foreign - ALLOWED_NON_STDLIB, f"mlflow-hook imported {sorted(foreign)}"
    assert not modules & {"argparse", "subprocess", "ssl", "urllib", "json"}, sorted(modules)


@pytest.mark.parametrize("telemetry", [[], ["--otel-tables", "main.telemetry.claude"]])
def test_the_wrapper_starting_the_relay_imports_only_light_modules(
    sandbox: Sandbox, workspace: FakeWorkspace, telemetry: list[str]
) -> None:
    """A launch that talks to the model starts the relay (agents/claude/relayed.py): a port and
    a fork in the wrapper; the relay's own imports happen in the forked child. With telemetry
    on, the relay takes Claude Code's exports too: another port, and a look at the settings."""
    sandbox.signed_in(workspace)
    setup = sandbox.run(
        ["setup-fmapi-claudecode", "--host", workspace.url, "--skip-install", "--no-verify"]
        + ["--shell", "none", *telemetry]
    )
    assert setup.code == 0, setup
    record = sandbox.home / TOKEN_RECORD
    state = json.loads(record.read_text())
    for entry in state.values():
        entry["ok"] = time.time()
    record.write_text(json.dumps(state))
    sandbox.fake_program("claude", "exit 0\n")
    script = Path(sys.executable).parent / "dbx-fmapi-claude"
    out = sandbox.run([sys.executable, "-X", "importtime", str(script), "-p", "hi"])
    assert out.code == 0, out
    assert sandbox.calls("claude")[-1][0] == "--settings"  # the relay was started
    assert ("otelHeadersHelper" in sandbox.calls("claude")[-1][1]) == bool(telemetry)
    modules = imported(out.stderr)
    assert "dbx_fmapi_claude.agents.claude.relayed" in modules
    assert "dbx_fmapi_claude.telemetry.tables" in modules  # its rule; light (HEAVY below)
    assert "dbx_fmapi_claude.agents.relay" not in modules
    foreign = {m.split(".")[0] for m in modules} - set(sys.stdlib_module_names)
    assert not foreign - ALLOWED_NON_STDLIB, f"the wrapper imported {sorted(foreign)}"
    assert not modules & HEAVY, f"the wrapper imported {sorted(modules & HEAVY)}"


# What the token helper may not import even when it checks a token it handed out before or
# records a new one: the check is one request on a socket (socket's own selectors, enum and
# collections come with it), the record one small JSON file written atomically.
NOT_ON_THE_CHECK_PATH = HEAVY - {"collections", "enum", "functools"} | {
    "encodings.idna",
    "tempfile",
    "shutil",
    "random",
}


@pytest.mark.parametrize("case", ["session-end", "check-due", "new-token", "moment-ago"])
def test_the_otel_headers_helper_at_the_end_of_a_session_stays_light(
    sandbox: Sandbox, workspace: FakeWorkspace, case: str
) -> None:
    """Claude Code runs the otelHeadersHelper at the shutdown flush of every `claude -p`, after
    the apiKeyHelper handed the same token out at startup: half a minute ago (no request to the
    workspace: it was good minutes ago, token.OTEL_FRESH_FOR), or a moment ago (a session of a
    second), or with a token the CLI refreshed since (recorded with its fingerprint); a token
    known good only longer ago than that is checked (one request). Either way no json, re,
    pathlib or tempfile in the process, only the standard library."""
    sandbox.signed_in(workspace)
    setup = sandbox.run(
        ["setup-fmapi-claudecode", "--host", workspace.url, "--skip-install", "--no-verify"]
        + ["--shell", "none", "--otel-tables", "main.telemetry.claude"]
    )
    assert setup.code == 0, setup
    settings = json.loads((sandbox.home / ".claude" / "settings.json").read_text())
    assert settings["otelHeadersHelper"].endswith("--otel-headers")
    assert sandbox.run(["dbx-fmapi", "token"]).code == 0  # the apiKeyHelper at startup
    record = sandbox.home / TOKEN_RECORD
    if case == "new-token":
        record.unlink()
    elif case in ("session-end", "check-due"):
        state = json.loads(record.read_text())
        for entry in state.values():  # the session took half a minute, or 20 minutes
            entry["ok"] = time.time() - (30 if case == "session-end" else 1200)
        record.write_text(json.dumps(state))
    workspace.clear_log()
    script = Path(sys.executable).parent / "dbx-fmapi"
    env = {"CLAUDE_CODE_ENTRYPOINT": "sdk-cli", **settings["env"]}
    argv = [sys.executable, "-X", "importtime", str(script), "token", "--otel-headers"]
    out = sandbox.run(argv, env=env)
    assert out.code == 0, out
    assert json.loads(out.stdout)["Authorization"].startswith("Bearer ")
    checks = [r.status for r in workspace.requests("/api/2.0/preview/scim/v2/Me")]
    assert checks == ([200] if case == "check-due" else [])
    state = json.loads(record.read_text())  # recorded: known good just now, or 30 s ago
    assert [time.time() - e["ok"] < 40 for e in state.values()] == [True]
    modules = imported(out.stderr)
    if case in ("moment-ago", "session-end"):  # nothing to check or write: neither is loaded
        ours = {"dbx_fmapi_claude.auth.rejected", "dbx_fmapi_claude.core.fileio"}
        assert not modules & ours, sorted(modules & ours)
    top = {m.split(".")[0] for m in modules}
    foreign = {m for m in top if m not in sys.stdlib_module_names} - ALLOWED_NON_STDLIB
    assert not foreign, f"the otel headers helper imported {sorted(foreign)}"
    heavy = modules & NOT_ON_THE_CHECK_PATH
    if case == "new-token":
        heavy -= {"hashlib"}  # a new token's fingerprint (sha256): once per token, hourly
    assert not heavy, f"the otel headers helper imported {sorted(heavy)}"
