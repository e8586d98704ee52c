"""The team file (team/schema.py) and the admin's `dbx-fmapi team managed-settings` output, in
process: every key checked, every refusal naming the key and the value, exit 2."""

from __future__ import annotations

import json
import plistlib
from typing import Any

import pytest

from dbx_fmapi_claude.core.errors import UserError
from dbx_fmapi_claude.team import managed, schema

GOOD: dict[str, Any] = {
    "$schema": "https://example.com/team-file.schema.json",
    "description": "Acme's Claude Code on Databricks",
    "version": 1,
    "host": "https://adb-1234.11.azuredatabricks.net/?o=1234#",
    "profile": "acme",
    "route": "ai-gateway",
    "models": {
        "model": "databricks-claude-opus-4-8",
        "opus": "databricks-claude-opus-4-8",
        "sonnet": "databricks-claude-sonnet-4-6",
        "haiku": "databricks-claude-haiku-4-5",
        "subagent": "databricks-claude-sonnet-4-6",
        "codex": "databricks-gpt-5",
        "gemini": "databricks-gemini-2-5-pro",
    },
    "agents": ["claude", "codex"],
    "ttl": "30m",
    "margin": "5m",
    "token_mode": "helper",
    "mcp": [{"kind": "genie", "space_id": "01f0c0ffee0000000000000000000001"}],
    "otel_tables": "main.telemetry.claude",
    "mlflow_experiment": "/Shared/claude-code",
    "prices": {"databricks-claude-opus-4-8": {"input": 15, "output": 75, "currency": "USD"}},
    "budget": {"monthly": 200, "warn": 80, "block": False, "contact": "#ai-platform"},
    "locked": ["models", "ttl", "host"],
}


def _parse(data: Any) -> schema.TeamFile:
    return schema.parse(json.dumps(data).encode(), "team.json")


def test_a_complete_team_file_is_read_with_its_host_normalized() -> None:
    team = _parse(GOOD)
    assert team.host == "https://adb-1234.11.azuredatabricks.net"
    assert team.ttl_seconds == 1800 and team.margin_seconds == 300
    assert team.locked == ("models", "ttl", "host")
    assert team.is_locked("models") and not team.is_locked("profile")
    assert team.models["codex"] == "databricks-gpt-5"
    assert "$schema" not in team.data and "description" not in team.data


def test_the_example_and_the_schema_in_docs_agree_with_the_reader() -> None:
    from pathlib import Path

    docs = Path(__file__).resolve().parents[2] / "docs"
    example = json.loads((docs / "team-file.example.json").read_text())
    assert _parse(example).data
    described = json.loads((docs / "team-file.schema.json").read_text())
    assert set(described["properties"]) - set(schema.FOR_PEOPLE) == set(schema.KEYS)
    assert set(described["properties"]["models"]["properties"]) == set(schema.model_keys())
    assert described["additionalProperties"] is False


def _with(**changes: Any) -> dict[str, Any]:
    data = {k: v for k, v in GOOD.items() if k != "locked"}
    for k, v in changes.items():
        if v is None:
            data.pop(k, None)
        else:
            data[k] = v
    return data


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"host": "x"}, "version = null: is missing"),
        (_with(version=True), "version = true: must be 1"),
        (_with(colour="red"), "colour = 'red': unknown key (known: version, host"),
        (_with(host="http://example.com"), "host = 'http://example.com': Workspace URL must start"),
        (_with(host=""), "host = '': must be a non-empty string"),
        (_with(profile="my profile"), "profile = 'my profile': letters, digits"),
        (_with(route="fast"), "route = 'fast': one of auto, ai-gateway, serving-endpoints"),
        (_with(models=["a"]), 'models = ["a"]: must be an object'),
        (_with(models={"opuss": "x"}), "models.opuss = 'x': unknown key (known: model, opus"),
        (_with(models={"model": "has space"}), "models.model = 'has space': is not a model"),
        (_with(agents=["claude", "cursor"]), "agents = 'cursor': unknown agent (known: claude"),
        (_with(agents=[]), "agents = []: must be a list"),
        (_with(ttl="soon"), "ttl = 'soon': not a duration"),
        (_with(ttl="48h"), "ttl = '48h': duration out of range"),
        (_with(margin=True), "margin = true: must be a duration"),
        (_with(token_mode="both"), "token_mode = 'both': one of helper, static"),
        (_with(mcp=[{"kind": "ftp"}]), "mcp[0].kind = 'ftp': one of genie, sql"),
        (_with(otel_tables="just_a_name"), "otel_tables = 'just_a_name': must be CATALOG.SCHEMA"),
        (
            _with(mlflow_experiment="claude"),
            "mlflow_experiment = 'claude': must be an absolute workspace path",
        ),
        (_with(prices={"m": {"input": -1}}), "prices.m.input = -1: must be >= 0"),
        (_with(prices={"m": {"inp": 1}}), "prices.m.inp = 1: unknown key"),
        (_with(budget={"warn": 80}), 'budget = {"warn": 80}: needs "monthly"'),
        (_with(budget={"monthly": 10, "warn": 150}), "budget.warn = 150: is a percentage"),
        (_with(locked=["version"]), "locked = 'version': cannot be locked"),
        (_with(locked=["mcp"], mcp=None), "locked = 'mcp': is locked but the team file does not"),
    ],
)
def test_each_bad_key_or_value_is_refused_naming_it(data: dict[str, Any], words: str) -> None:
    with pytest.raises(UserError) as info:
        _parse(data)
    assert info.value.code == 2
    assert info.value.message.startswith("team file team.json")
    assert words in info.value.message, info.value.message
    assert info.value.fix and "dbx-fmapi team validate team.json" in info.value.fix


def test_a_newer_version_asks_for_an_upgrade_and_bad_json_names_the_line() -> None:
    with pytest.raises(UserError) as info:
        _parse({"version": 2, "anything": "new"})
    assert info.value.message == "team file team.json is version 2; this dbx-fmapi reads version 1"
    assert info.value.fix and "upgrade" in info.value.fix and info.value.code == 2
    with pytest.raises(UserError) as info:
        schema.parse(b'{\n  "version": 1,\n  "ttl": 30m\n}', "team.json")
    assert "is not valid JSON" in info.value.message and "line 3" in info.value.message
    with pytest.raises(UserError) as info:
        schema.parse(b"[1]", "team.json")
    assert info.value.message == "team file team.json is not a JSON object"


def test_managed_settings_point_claude_code_at_the_workspace_through_the_helper() -> None:
    team = _parse(GOOD)
    files = managed.render(team, "linux")
    assert list(files) == ["managed-settings.json"]
    data = json.loads(files["managed-settings.json"])
    assert data["apiKeyHelper"] == "dbx-fmapi token --profile acme"
    env = data["env"]
    assert (
        env["ANTHROPIC_BASE_URL"] == "https://adb-1234.11.azuredatabricks.net/ai-gateway/anthropic"
    )
    assert env["ANTHROPIC_MODEL"] == "databricks-claude-opus-4-8"
    assert env["ANTHROPIC_DEFAULT_SONNET_MODEL"] == "databricks-claude-sonnet-4-6"
    assert env["CLAUDE_CODE_SUBAGENT_MODEL"] == "databricks-claude-sonnet-4-6"
    assert env["CLAUDE_CODE_API_KEY_HELPER_TTL_MS"] == "1800000"
    assert env["DBX_FMAPI_TOKEN_MARGIN_SECONDS"] == "300"
    assert env["ANTHROPIC_CUSTOM_HEADERS"] == "x-databricks-use-coding-agent-mode: true"
    assert "ANTHROPIC_AUTH_TOKEN" not in env  # never a token in a file
    helper = managed.render(team, "linux", helper="/opt/dbx fmapi/bin/dbx-fmapi")
    assert json.loads(helper["managed-settings.json"])["apiKeyHelper"] == (
        '"/opt/dbx fmapi/bin/dbx-fmapi" token --profile acme'
    )


def test_the_macos_profile_and_the_windows_policy_carry_the_same_settings() -> None:
    team = _parse(GOOD)
    expected = json.loads(managed.render(team, "linux")["managed-settings.json"])
    mac = managed.render(team, "macos")
    profile = plistlib.loads(mac["dbx-fmapi-claude.mobileconfig"])
    assert profile["PayloadType"] == "Configuration" and profile["PayloadScope"] == "System"
    [payload] = profile["PayloadContent"]
    assert payload["PayloadType"] == "com.apple.ManagedClient.preferences"
    [forced] = payload["PayloadContent"]["com.anthropic.claudecode"]["Forced"]
    assert forced["mcx_preference_settings"] == expected
    assert managed.render(team, "macos") == mac  # stable UUIDs: re-rendering changes nothing
    reg = managed.render(team, "windows")["dbx-fmapi-claude.reg"].decode("utf-16")
    lines = reg.split("\r\n")
    assert lines[0] == "Windows Registry Editor Version 5.00"
    assert lines[2] == "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\ClaudeCode]"
    value = lines[3][len('"Settings"="') : -1].replace('\\"', '"').replace("\\\\", "\\")
    assert json.loads(value) == expected


@pytest.mark.parametrize(
    ("drop", "words"),
    [
        ("host", "sets no host"),
        ("profile", "sets no profile"),
        ("models", "sets no models.model"),
    ],
)
def test_managed_settings_refuse_a_team_file_without_what_they_need(drop: str, words: str) -> None:
    team = _parse(_with(**{drop: None}))
    with pytest.raises(UserError) as info:
        managed.render(team, "linux")
    assert words in info.value.message and info.value.code == 2


def test_managed_settings_need_a_fixed_route() -> None:
    team = _parse(_with(route="auto"))
    with pytest.raises(UserError) as info:
        managed.render(team, "linux")
    assert "need a fixed route" in info.value.message
    assert info.value.fix and "--route ai-gateway" in info.value.fix
    data = json.loads(
        managed.render(team, "linux", route="serving-endpoints")["managed-settings.json"]
    )
    assert data["env"]["ANTHROPIC_BASE_URL"].endswith("/serving-endpoints/anthropic")


def test_a_team_file_from_a_url_pinned_by_its_hash(tmp_path: Any) -> None:
    import hashlib
    import http.server
    import threading
    from pathlib import Path

    from dbx_fmapi_claude.team import sources

    body = json.dumps({"version": 1, "profile": "acme"}).encode()
    (Path(tmp_path) / "team.json").write_bytes(body)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a: Any, **kw: Any) -> None:
            super().__init__(*a, directory=str(tmp_path), **kw)

        def log_message(self, *a: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/team.json"
        env: dict[str, str] = {}
        got = sources.read(url, env=env, cwd=Path(tmp_path), ws=None)
        assert got.data == body
        good = f"{url}#sha256={hashlib.sha256(body).hexdigest()}"
        assert schema.parse(sources.read(good, env=env, cwd=Path(tmp_path), ws=None).data, good)
        bad = f"{url}#sha256={'0' * 64}"
        with pytest.raises(UserError) as info:
            sources.read(bad, env=env, cwd=Path(tmp_path), ws=None)
        assert (
            f"has sha256 {hashlib.sha256(body).hexdigest()}, not the pinned" in info.value.message
        )
        with pytest.raises(UserError) as info:
            sources.read(
                url.replace("team.json", "nope.json"), env=env, cwd=Path(tmp_path), ws=None
            )
        assert "not found (HTTP 404)" in info.value.message
    finally:
        server.shutdown()
        server.server_close()
    with pytest.raises(UserError) as info:
        sources.read("http://intranet.example.com/team.json", env={}, cwd=Path(tmp_path), ws=None)
    assert "is not https://" in info.value.message and info.value.code == 2
