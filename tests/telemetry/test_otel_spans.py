"""Issue 23: spans as a choice of their own. `--otel-tables` sends metrics and logs; traces go
too only with `--otel-spans on` (team key `otel_spans`), because Claude Code's spans need its
enhanced-telemetry beta, which costs every `claude -p` run more than the telemetry budget
(docs/performance.md). With the real Claude Code and the real Databricks CLI against the fake
workspace's OTLP endpoint (tests/rig/otlp_api.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dbx_fmapi_claude.agents import get
from dbx_fmapi_claude.record import config
from tests.auth.test_rejected_token import logged_in
from tests.rig import otlp_api
from tests.rig.sandbox import Sandbox
from tests.rig.workspace import FakeWorkspace

PREFIX = "main.telemetry.claude"
METRICS, LOGS, SPANS = (f"{PREFIX}_otel_{s}" for s in ("metrics", "logs", "spans"))
SETTINGS = Path(".claude/settings.json")
RECORD = Path(".config/dbx-fmapi-claude/config.json")
SETUP = ["setup-fmapi-claudecode", "--skip-install", "--no-verify", "--shell", "none"]
# What only spans need in Claude Code's env.
SPAN_KEYS = (
    "OTEL_TRACES_EXPORTER",
    "CLAUDE_CODE_ENHANCED_TELEMETRY_BETA",
    "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
)


def setup(sandbox: Sandbox, workspace: FakeWorkspace, *extra: str) -> None:
    result = sandbox.run([*SETUP, "--host", workspace.url, *extra], timeout=120)
    assert result.code == 0, result


def env_of(sandbox: Sandbox) -> dict[str, str]:
    return dict(json.loads((sandbox.home / SETTINGS).read_text())["env"])


def spans_recorded(sandbox: Sandbox) -> object:
    record = json.loads((sandbox.home / RECORD).read_text())
    [cfg] = config.views(record)
    return cfg.get("otel_spans")


def claude_run(sandbox: Sandbox) -> None:
    """`claude -p` with 30 s for its last export (setup's 800 ms may be too short on a loaded
    machine for the exports this test counts); the settings file put back as it was."""
    path = sandbox.home / SETTINGS
    kept = path.read_bytes()
    data = json.loads(kept)
    data["env"]["CLAUDE_CODE_OTEL_SHUTDOWN_TIMEOUT_MS"] = "30000"
    path.write_text(json.dumps(data, indent=2))
    try:
        result = sandbox.claude(["-p", "say hi"])
    finally:
        path.write_bytes(kept)
    assert (result.code, result.stdout.strip()) == (0, "pong"), result


@pytest.mark.e2e
def test_spans_are_off_unless_asked_and_on_when_asked(
    sandbox: Sandbox, workspace: FakeWorkspace, claude_bin: str
) -> None:
    otel = otlp_api.state(workspace)
    otel.create_table(METRICS)
    otel.create_table(LOGS)  # no spans table: nothing asks for it while spans are off
    logged_in(sandbox, workspace)
    setup(sandbox, workspace, "--otel-tables", PREFIX)
    env = env_of(sandbox)
    assert env["OTEL_METRICS_EXPORTER"] == env["OTEL_LOGS_EXPORTER"] == "otlp"
    assert [k for k in SPAN_KEYS if k in env] == []
    assert spans_recorded(sandbox) == "off"
    spans_off = (sandbox.home / SETTINGS).read_bytes()

    claude_run(sandbox)
    assert {e.signal for e in otel.exports} == {"metrics", "logs"}
    assert [(e.status, e.token.state) for e in otel.exports] == [(200, "valid")] * len(otel.exports)
    assert "api_request" in {r["attributes"].get("event.name") for r in otel.records(LOGS)}  # type: ignore[union-attr]
    assert not [r for r in workspace.log if r.path.endswith("/v1/traces")]

    status = sandbox.run(["dbx-fmapi", "status"])
    assert f"Telemetry   {PREFIX}_otel_{{metrics,logs}} at {workspace.url}/api/2.0/otel " in (
        status.stdout
    ), status
    assert "(spans off;" in status.stdout
    doctor = sandbox.run(["dbx-fmapi", "doctor"])
    assert "takes metrics" in doctor.stdout and "takes logs" in doctor.stdout, doctor
    assert "Telemetry traces" not in doctor.stdout and SPANS not in doctor.stdout, doctor

    setup(sandbox, workspace, "--otel-spans", "on")  # the tables kept from the last run
    env = env_of(sandbox)
    assert env["OTEL_TRACES_EXPORTER"] == "otlp"
    assert env["CLAUDE_CODE_ENHANCED_TELEMETRY_BETA"] == "1"
    assert env["OTEL_EXPORTER_OTLP_TRACES_HEADERS"] == f"X-Databricks-UC-Table-Name={SPANS}"
    assert spans_recorded(sandbox) == "on"
    doctor = sandbox.run(["dbx-fmapi", "doctor"])
    assert f"table {SPANS} does not exist" in doctor.stdout, doctor  # now it is needed
    otel.create_table(SPANS)
    before = len(otel.exports)
    claude_run(sandbox)
    assert {e.signal for e in otel.exports[before:]} == {"metrics", "logs", "traces"}
    assert "claude_code.llm_request" in {str(r["name"]) for r in otel.records(SPANS)}
    spans_on = (sandbox.home / SETTINGS).read_bytes()

    setup(sandbox, workspace)  # a plain re-run keeps the choice
    assert (sandbox.home / SETTINGS).read_bytes() == spans_on
    assert "(spans on;" in sandbox.run(["dbx-fmapi", "status"]).stdout
    setup(sandbox, workspace, "--otel-spans", "off")
    assert (sandbox.home / SETTINGS).read_bytes() == spans_off


def test_a_configuration_from_before_the_choice_keeps_its_spans(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    """A record the previous release wrote (tables, spans sent, no `otel_spans`): a plain
    re-run after the upgrade keeps sending spans; nothing someone set up is lost silently."""
    logged_in(sandbox, workspace)
    setup(sandbox, workspace, "--otel-tables", PREFIX, "--otel-spans", "on")
    settings = (sandbox.home / SETTINGS).read_bytes()
    path = sandbox.home / RECORD
    record = json.loads(path.read_text())
    for cfg in record["configs"]:
        del cfg["claude"]["otel_spans"]  # as the previous release wrote it
    path.write_text(json.dumps(record, indent=2))
    assert "(spans on;" in sandbox.run(["dbx-fmapi", "status"]).stdout

    setup(sandbox, workspace)
    assert (sandbox.home / SETTINGS).read_bytes() == settings
    assert spans_recorded(sandbox) == "on"


def test_none_and_uninstall_put_back_what_spans_replaced(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    path = sandbox.home / SETTINGS
    path.parent.mkdir(parents=True)
    mine = {"env": {"OTEL_TRACES_EXPORTER": "console", "MY_VAR": "1"}, "model": "x"}
    path.write_text(json.dumps(mine, indent=4))
    original = path.read_bytes()
    logged_in(sandbox, workspace)
    setup(sandbox, workspace)
    without = path.read_bytes()
    setup(sandbox, workspace, "--otel-tables", PREFIX)
    assert env_of(sandbox)["OTEL_TRACES_EXPORTER"] == "console"  # spans off: theirs stays
    setup(sandbox, workspace, "--otel-spans", "on")
    assert env_of(sandbox)["OTEL_TRACES_EXPORTER"] == "otlp"
    setup(sandbox, workspace, "--otel-spans", "off")
    assert env_of(sandbox)["OTEL_TRACES_EXPORTER"] == "console"
    setup(sandbox, workspace, "--otel-spans", "on")
    setup(sandbox, workspace, "--otel-tables", "none")
    assert path.read_bytes() == without
    setup(sandbox, workspace, "--otel-tables", PREFIX)  # `none` took the choice with it
    assert spans_recorded(sandbox) == "off"
    setup(sandbox, workspace, "--otel-spans", "on")
    uninstall = sandbox.run(["dbx-fmapi", "uninstall", "--yes"])
    assert uninstall.code == 0, uninstall
    assert path.read_bytes() == original


@pytest.mark.parametrize(
    ("args", "said", "fix"),
    [
        (
            ["--otel-tables", PREFIX, "--otel-spans", "maybe"],
            "--otel-spans 'maybe': must be on or off",
            "setup-fmapi-claudecode --otel-spans off",
        ),
        (
            ["--otel-spans", "on"],
            "--otel-spans on needs --otel-tables",
            f"setup-fmapi-claudecode --otel-tables {PREFIX} --otel-spans on",
        ),
        (
            ["--otel-tables", "none", "--otel-spans", "on"],
            "--otel-spans on needs --otel-tables",
            f"setup-fmapi-claudecode --otel-tables {PREFIX} --otel-spans on",
        ),
    ],
)
def test_bad_otel_spans_is_refused_and_nothing_is_written(
    sandbox: Sandbox, workspace: FakeWorkspace, args: list[str], said: str, fix: str
) -> None:
    logged_in(sandbox, workspace)
    before = sandbox.snapshot()
    result = sandbox.run([*SETUP, "--host", workspace.url, *args])
    assert result.code == 2, result
    assert said in result.stderr and f"fix: {fix}" in result.stderr, result
    assert sandbox.snapshot() == before


def test_team_file_otel_spans_its_lock_and_bad_values(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    team = sandbox.root / "team.json"
    team.write_text(
        json.dumps(
            {"version": 1, "otel_tables": PREFIX, "otel_spans": "on", "locked": ["otel_spans"]}
        )
    )
    logged_in(sandbox, workspace)
    before = sandbox.snapshot()
    refused = sandbox.run(
        [*SETUP, "--host", workspace.url, "--team", str(team), "--otel-spans", "off"]
    )
    assert refused.code == 2, refused
    assert "--otel-spans off is locked by the team file" in refused.stderr
    assert sandbox.snapshot() == before
    setup(sandbox, workspace, "--team", str(team))
    assert env_of(sandbox)["OTEL_TRACES_EXPORTER"] == "otlp"

    for data, said in (
        ({"otel_spans": "maybe", "otel_tables": PREFIX}, 'must be "on" or "off"'),
        ({"otel_spans": "on"}, "needs otel_tables"),
        ({"otel_spans": "on", "otel_tables": "none"}, "needs otel_tables"),
    ):
        bad = sandbox.root / "bad.json"
        bad.write_text(json.dumps({"version": 1, **data}))
        before = sandbox.snapshot()
        out = sandbox.run(["dbx-fmapi", "team", "validate", str(bad)])
        assert out.code == 2, out
        assert "otel_spans" in out.stderr and said in out.stderr, out
        assert sandbox.snapshot() == before


@pytest.mark.parametrize("spans", [None, "on"])
def test_managed_settings_carry_spans_only_when_the_team_asks(
    sandbox: Sandbox, workspace: FakeWorkspace, spans: str | None
) -> None:
    team = sandbox.root / "team.json"
    data = {
        "version": 1,
        "host": workspace.url,
        "profile": "company",
        "route": "serving-endpoints",
        "models": {"model": "databricks-claude-opus-4-6"},
        "otel_tables": PREFIX,
        **({"otel_spans": spans} if spans else {}),
    }
    team.write_text(json.dumps(data))
    out = sandbox.root / "managed"
    result = sandbox.run(["dbx-fmapi", "team", "managed-settings", str(team), "--out", str(out)])
    assert result.code == 0, result
    env = json.loads((out / "managed-settings.json").read_text())["env"]
    assert env["OTEL_EXPORTER_OTLP_LOGS_HEADERS"] == f"X-Databricks-UC-Table-Name={LOGS}"
    assert [k for k in SPAN_KEYS if k in env] == (list(SPAN_KEYS) if spans else [])


def test_the_proxied_agents_are_not_asked_for_spans_where_they_have_a_switch() -> None:
    """Codex: `trace_exporter = "none"` (its exporter of the user's own gets no spans and no
    secret either); OpenCode: no `experimental.openTelemetry` (the model calls' spans); Gemini
    CLI has no switch (the proxy drops its spans: test_otel_proxy.py)."""
    url, secret = "http://127.0.0.1:1", "s3cret"
    _, on = get("codex").otel_launch({}, url, secret, spans=True)
    _, off = get("codex").otel_launch({}, url, secret, spans=False)
    assert any(a.startswith("otel.trace_exporter={otlp-http=") for a in on)
    assert 'otel.trace_exporter="none"' in off
    assert not any(a.startswith("otel.trace_exporter={") for a in off)
    env, _ = get("opencode").otel_launch({}, url, secret, spans=False)
    assert "OPENCODE_CONFIG_CONTENT" not in env and env["OTEL_EXPORTER_OTLP_ENDPOINT"] == url
    env, _ = get("opencode").otel_launch({}, url, secret, spans=True)
    assert json.loads(env["OPENCODE_CONFIG_CONTENT"])["experimental"]["openTelemetry"] is True
