"""Issue 23: Claude Code's OpenTelemetry into the workspace's tables (`--otel-tables`), with the
real Claude Code, the real Databricks CLI and the fake workspace's OTLP endpoint
(tests/rig/otlp_api.py, decoded with the real OpenTelemetry protobuf definitions).

What 2.1.332 does (measured, docs/telemetry.md): it runs the otelHeadersHelper when it starts and
again once the debounce has passed, never after a 401/403 from the endpoint; metrics, log events
and (with the enhanced-telemetry beta) spans are flushed when a `-p` run ends.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from dbx_fmapi_claude.record import config
from tests.helpers.hot_paths import ALLOWED_NON_STDLIB, imported
from tests.helpers.otel_world import (
    LOGS,
    METRICS,
    PREFIX,
    SETTINGS,
    SETUP,
    SPANS,
    names,
    set_up,
    tokens_in_files,
)
from tests.helpers.rejected import logged_in
from tests.rig import otlp_api
from tests.rig.sandbox import Sandbox
from tests.rig.workspace import FakeWorkspace

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def _need_claude(claude_bin: str) -> None:
    """Skips (with the reason) when DBX_TEST_CLAUDE_BIN is unset."""


def patient(sandbox: Sandbox) -> None:
    """Claude Code waits 800 ms for its last export when it exits (setup's value, the budget's
    bound); a machine busy with the whole suite can take longer: the exports this test counts
    get 30 s."""
    path = sandbox.home / SETTINGS
    data = json.loads(path.read_text())
    data["env"]["CLAUDE_CODE_OTEL_SHUTDOWN_TIMEOUT_MS"] = "30000"
    path.write_text(json.dumps(data, indent=2))


def test_claude_sends_metrics_logs_and_spans_with_fresh_tokens(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    otel = otlp_api.state(workspace)
    otel.create_tables(PREFIX)
    set_up(sandbox, workspace, "--otel-tables", PREFIX, "--otel-spans", "on")
    assert (
        json.loads((sandbox.home / SETTINGS).read_text())["env"][
            "CLAUDE_CODE_OTEL_SHUTDOWN_TIMEOUT_MS"
        ]
        == "800"
    )
    patient(sandbox)
    before = len(sandbox.databricks_calls())
    result = sandbox.claude(["-p", "say hi"])
    assert (result.code, result.stdout.strip()) == (0, "pong"), result
    # One CLI call, the apiKeyHelper's at the start: the otelHeadersHelper at the end took the
    # same token from the CLI's own cache (tests/telemetry/test_otel_cli_cache.py).
    calls = [c["argv"] for c in sandbox.databricks_calls()[before:]]
    assert calls == [["auth", "token", "--profile", "DEFAULT", "-o", "json"]]

    assert {"claude_code.token.usage", "claude_code.cost.usage"} <= names(otel.records(METRICS))
    usage = [r for r in otel.records(METRICS) if r["name"] == "claude_code.token.usage"]
    assert {r["attributes"]["type"] for r in usage} >= {"input", "output"}  # type: ignore[index]
    requests = [
        r
        for r in otel.records(LOGS)
        if r["attributes"].get("event.name") == "api_request"  # type: ignore[union-attr]
    ]
    assert len(requests) == 1
    assert requests[0]["attributes"]["model"] == workspace.messages_requests()[0].model  # type: ignore[index]
    assert "claude_code.llm_request" in names(otel.records(SPANS))
    exports = list(otel.exports)
    assert {e.signal for e in exports} == {"metrics", "logs", "traces"}
    assert [(e.status, e.token.state) for e in exports] == [(200, "valid")] * len(exports)
    assert {e.table for e in exports if e.signal == "traces"} == {SPANS}
    assert tokens_in_files(sandbox, workspace) == []

    # Every token the workspace gave out is rejected: the next session's telemetry goes in with
    # a new one.
    workspace.revoke_access_tokens()
    before = len(otel.exports)
    result = sandbox.claude(["-p", "say hi"])
    assert (result.code, result.stdout.strip()) == (0, "pong"), result
    later = otel.exports[before:]
    assert {e.signal for e in later} == {"metrics", "logs", "traces"}
    assert [(e.status, e.token.state) for e in later] == [(200, "valid")] * len(later)
    assert {e.token.id for e in later}.isdisjoint({e.token.id for e in exports})
    assert (
        len([r for r in otel.records(LOGS) if r["attributes"].get("event.name") == "api_request"])
        == 2
    )  # type: ignore[union-attr]
    assert tokens_in_files(sandbox, workspace) == []


def test_plain_rerun_keeps_it_none_and_uninstall_remove_exactly_what_was_added(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    path = sandbox.home / SETTINGS
    path.parent.mkdir(parents=True)
    mine = {"env": {"OTEL_METRICS_EXPORTER": "console", "MY_VAR": "1"}, "model": "x"}
    path.write_text(json.dumps(mine, indent=4))
    original = path.read_bytes()
    set_up(sandbox, workspace)
    without = path.read_bytes()
    set_up(sandbox, workspace, "--otel-tables", PREFIX)
    data = json.loads(path.read_text())
    env = data["env"]
    assert env["OTEL_METRICS_EXPORTER"] == "otlp"
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == f"{workspace.url}/api/2.0/otel"
    assert env["OTEL_EXPORTER_OTLP_LOGS_HEADERS"] == f"X-Databricks-UC-Table-Name={LOGS}"
    assert env["CLAUDE_CODE_OTEL_HEADERS_HELPER_DEBOUNCE_MS"] == str(15 * 60 * 1000)
    assert data["otelHeadersHelper"].endswith(" token --profile 'DEFAULT' --otel-headers")
    assert data["apiKeyHelper"] + " --otel-headers" == data["otelHeadersHelper"]
    record = json.loads((sandbox.home / ".config/dbx-fmapi-claude/config.json").read_text())
    assert [c.get("otel_tables") for c in config.views(record)] == [PREFIX]  # Claude Code's

    set_up(sandbox, workspace)  # a plain re-run keeps it
    assert json.loads(path.read_text()) == data
    status = sandbox.run(["dbx-fmapi", "status"])
    assert (
        f"Telemetry   {PREFIX}_otel_{{metrics,logs}} at {workspace.url}/api/2.0/otel"
        in status.stdout
    ), status

    set_up(sandbox, workspace, "--otel-tables", "none")
    assert path.read_bytes() == without
    set_up(sandbox, workspace, "--otel-tables", PREFIX)
    uninstall = sandbox.run(["dbx-fmapi", "uninstall", "--yes"])
    assert uninstall.code == 0, uninstall
    assert path.read_bytes() == original


@pytest.mark.parametrize(
    "value", ["main.telemetry", "main.telemetry.claude.x", "main.tele metry.claude", "", "a..b"]
)
def test_a_bad_otel_tables_value_is_refused_and_nothing_is_written(
    sandbox: Sandbox, workspace: FakeWorkspace, value: str
) -> None:
    logged_in(sandbox, workspace)
    before = sandbox.snapshot()
    result = sandbox.run([*SETUP, "--host", workspace.url, "--otel-tables", value])
    assert result.code == 2, result
    assert f"--otel-tables {value!r}: must be CATALOG.SCHEMA.PREFIX" in result.stderr
    assert "fix: setup-fmapi-claudecode --otel-tables main.telemetry.claude" in result.stderr
    assert sandbox.snapshot() == before


def test_team_file_otel_tables_and_its_lock(sandbox: Sandbox, workspace: FakeWorkspace) -> None:
    team = sandbox.root / "team.json"
    team.write_text(json.dumps({"version": 1, "otel_tables": PREFIX, "locked": ["otel_tables"]}))
    logged_in(sandbox, workspace)
    before = sandbox.snapshot()
    refused = sandbox.run(
        [*SETUP, "--host", workspace.url, "--team", str(team), "--otel-tables", "none"]
    )
    assert refused.code == 2, refused
    assert "--otel-tables none is locked by the team file" in refused.stderr
    assert sandbox.snapshot() == before
    set_up(sandbox, workspace, "--team", str(team))
    env = json.loads((sandbox.home / SETTINGS).read_text())["env"]
    assert env["OTEL_EXPORTER_OTLP_METRICS_HEADERS"] == f"X-Databricks-UC-Table-Name={METRICS}"


def test_managed_settings_carry_telemetry(sandbox: Sandbox, workspace: FakeWorkspace) -> None:
    team = sandbox.root / "team.json"
    models = {"model": "databricks-claude-opus-4-6"}
    route = "serving-endpoints"
    team.write_text(
        json.dumps(
            {"version": 1, "host": workspace.url, "profile": "company", "route": route,
             "models": models, "otel_tables": PREFIX, "otel_spans": "on"}
        )
    )  # fmt: skip
    out = sandbox.root / "managed"
    result = sandbox.run(["dbx-fmapi", "team", "managed-settings", str(team), "--out", str(out)])
    assert result.code == 0, result
    managed = json.loads((out / "managed-settings.json").read_text())
    assert managed["otelHeadersHelper"] == "dbx-fmapi token --profile company --otel-headers"
    assert managed["env"]["OTEL_EXPORTER_OTLP_TRACES_HEADERS"] == (
        f"X-Databricks-UC-Table-Name={SPANS}"
    )


def test_doctor_checks_each_table_and_says_what_is_missing(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    otel = otlp_api.state(workspace)
    otel.create_table(METRICS)
    otel.create_table(LOGS)
    otel.revoke(LOGS, "MODIFY")
    set_up(sandbox, workspace, "--otel-tables", PREFIX, "--otel-spans", "on")
    result = sandbox.run(["dbx-fmapi", "doctor"])
    lines = result.stdout.splitlines()
    assert any("Telemetry metrics" in line and "takes metrics" in line for line in lines), result
    assert f"table {SPANS} does not exist" in result.stdout
    ddl = f"dbx-fmapi telemetry ddl {PREFIX}"
    assert f"fix: ask a workspace admin to create the tables (the SQL: {ddl})" in result.stdout
    assert f"{LOGS} refused you" in result.stdout
    assert ": MODIFY is missing" in result.stdout
    # Nothing was written to the tables by the check.
    assert otel.records(METRICS) == otel.records(LOGS) == otel.records(SPANS) == []
    assert result.code == 0, result  # telemetry never stops a session: warnings only


def test_the_otel_headers_helper_prints_the_header_with_the_standard_library_only(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    set_up(sandbox, workspace, "--otel-tables", PREFIX)
    script = Path(sys.executable).parent / "dbx-fmapi"
    out = sandbox.run(
        [sys.executable, "-X", "importtime", str(script), "token", "--profile", "DEFAULT"]
        + ["--otel-headers"]
    )
    assert out.code == 0, out
    header = json.loads(out.stdout)["Authorization"]
    assert workspace.token_state(header.removeprefix("Bearer ")) == "valid"
    top = {m.split(".")[0] for m in imported(out.stderr)}
    foreign = {m for m in top if m not in sys.stdlib_module_names} - ALLOWED_NON_STDLIB
    assert not foreign, f"the OTel headers helper imported non-stdlib modules: {sorted(foreign)}"
    # Claude Code pointed at another collector (a project's settings, a stray variable) gets no
    # token from our helper.
    elsewhere = {"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": "https://collector.example.com/v1/logs"}
    refused = sandbox.run(["dbx-fmapi", "token", "--otel-headers"], env=elsewhere)
    assert refused.code == 1 and refused.stdout == "", refused
    assert (
        "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT is https://collector.example.com/v1/logs, not on the "
        f"workspace {workspace.url}: no token for it" in refused.stderr
    )


def test_telemetry_ddl_prints_the_three_tables_and_refuses_a_bad_name(
    sandbox: Sandbox,
) -> None:
    out = sandbox.run(["dbx-fmapi", "telemetry", "ddl", PREFIX, "--principal", "`developers`"])
    assert out.code == 0, out
    created = re.findall(r"CREATE TABLE IF NOT EXISTS (\S+) \(", out.stdout)
    assert created == [SPANS, LOGS, METRICS]
    assert "attributes VARIANT" in out.stdout and "'otel.schemaVersion' = 'v2'" in out.stdout
    assert f"GRANT MODIFY, SELECT ON TABLE {LOGS} TO `developers`;" in out.stdout
    before = sandbox.snapshot()
    bad = sandbox.run(["dbx-fmapi", "telemetry", "ddl", "main.telemetry"])
    assert (bad.code, bad.stdout) == (2, ""), bad
    assert "telemetry ddl 'main.telemetry': must be CATALOG.SCHEMA.PREFIX" in bad.stderr
    assert "fix: dbx-fmapi telemetry ddl main.telemetry.claude" in bad.stderr
    assert sandbox.snapshot() == before


def test_a_project_whose_settings_json_git_tracks_gets_telemetry_in_settings_local(
    sandbox: Sandbox, workspace: FakeWorkspace, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    (project / ".claude").mkdir(parents=True)
    tracked = project / ".claude" / "settings.json"
    tracked.write_text('{"permissions": {}}\n')
    for args in (["init", "-q"], ["add", ".claude/settings.json"], ["commit", "-qm", "team"]):
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@e", *args],
            cwd=project,
            check=True,
            capture_output=True,
        )
    set_up(sandbox, workspace, "--settings-location", str(project), "--otel-tables", PREFIX)
    assert tracked.read_text() == '{"permissions": {}}\n'
    local = json.loads((project / ".claude" / "settings.local.json").read_text())
    assert local["env"]["OTEL_EXPORTER_OTLP_ENDPOINT"] == f"{workspace.url}/api/2.0/otel"
    assert local["otelHeadersHelper"].endswith("--otel-headers")
