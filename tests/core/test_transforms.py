"""The pure transforms behind every file edit: rc blocks, settings merges, URL and time parsing."""

from __future__ import annotations

from pathlib import Path

import pytest

from dbx_fmapi_claude.agents.claude import settings
from dbx_fmapi_claude.auth.dbcli import parse_expiry, scrub
from dbx_fmapi_claude.core.errors import UserError
from dbx_fmapi_claude.record.config import parse_duration
from dbx_fmapi_claude.shell import rcblock
from dbx_fmapi_claude.workspace.client import claude_endpoints, default_for
from dbx_fmapi_claude.workspace.hosts import normalize_host

BLOCK = rcblock.render("bash", "/home/u/.local/bin/dbx-fmapi-claude")

RC_TEXTS = [
    "",
    "\n",
    "export A=1\n",
    "export A=1",
    "a\r\nb\r\n",
    "a\r\nb",
    "x\n\n\n",
    "# unicode ✓ ünïcødé\nalias ll='ls -l'\n",
]


@pytest.mark.parametrize("text", RC_TEXTS)
def test_rc_block_round_trip_keeps_every_other_byte(text: str) -> None:
    added = rcblock.upsert_block(text, BLOCK)
    assert added.startswith(text)
    assert rcblock.upsert_block(added, BLOCK) == added  # in place, never a second copy
    assert added.count(rcblock.BEGIN) == 1
    assert rcblock.remove_block(added) == text


def test_rc_block_updates_in_place_between_user_lines() -> None:
    text = "before\n" + BLOCK + "\nafter\n"
    newer = rcblock.render("bash", "/opt/new/dbx-fmapi-claude")
    updated = rcblock.upsert_block(text, newer)
    assert updated == "before\n" + newer + "\nafter\n"


def test_rc_two_blocks_collapse_to_one() -> None:
    text = "a\n" + BLOCK + "\nb\n" + BLOCK + "\nc\n"
    updated = rcblock.upsert_block(text, BLOCK)
    assert updated.count(rcblock.BEGIN) == 1
    assert updated.startswith("a\n" + BLOCK + "\nb\n") and updated.endswith("c\n")


@pytest.mark.parametrize("half", [rcblock.BEGIN + "\nfoo\n", "foo\n" + rcblock.END + "\n"])
def test_rc_half_block_is_refused(half: str) -> None:
    with pytest.raises(rcblock.HalfBlock):
        rcblock.upsert_block(half, BLOCK)
    with pytest.raises(rcblock.HalfBlock):
        rcblock.remove_block(half)


def test_rc_block_quotes_hostile_paths() -> None:
    block = rcblock.render("zsh", "/tmp/$(touch pwned)/`id`/dbx-fmapi-claude")
    assert "'/tmp/$(touch pwned)/`id`/dbx-fmapi-claude' \"$@\"" in block


def test_settings_merge_keeps_foreign_keys_and_switches_modes() -> None:
    old = {
        "permissions": {"allow": ["Bash(ls)"]},
        "hooks": {"Stop": []},
        "env": {"MY_VAR": "1", "ANTHROPIC_AUTH_TOKEN": "old-static"},
    }
    env = settings.desired_env(
        host="https://h.example.com",
        model="m",
        opus="o",
        sonnet="s",
        haiku="h",
        mode="helper",
        ttl_seconds=900,
    )
    new = settings.merge(old, env=env, helper="'/x/dbx-fmapi' token --profile 'P'")
    assert new["permissions"] == old["permissions"] and new["hooks"] == old["hooks"]
    assert new["env"]["MY_VAR"] == "1"
    assert "ANTHROPIC_AUTH_TOKEN" not in new["env"]
    assert new["env"]["CLAUDE_CODE_API_KEY_HELPER_TTL_MS"] == "900000"
    assert new["env"]["ANTHROPIC_BASE_URL"] == "https://h.example.com/serving-endpoints/anthropic"
    assert new["apiKeyHelper"].endswith("token --profile 'P'")

    static_env = settings.desired_env(
        host="https://h.example.com",
        model="m",
        opus="o",
        sonnet="s",
        haiku="h",
        mode="static",
        ttl_seconds=900,
        token="tok",
    )
    back = settings.merge(new, env=static_env, helper=None)
    assert "apiKeyHelper" not in back
    assert "CLAUDE_CODE_API_KEY_HELPER_TTL_MS" not in back["env"]
    assert back["env"]["ANTHROPIC_AUTH_TOKEN"] == "tok"


def test_settings_remove_restores_replaced_values() -> None:
    current = {
        "env": {"ANTHROPIC_MODEL": "ours", "ANTHROPIC_BASE_URL": "x", "KEEP": "1"},
        "apiKeyHelper": "ours",
    }
    replaced = {"ANTHROPIC_MODEL": {"value": "theirs"}, "env_existed": True}
    out = settings.remove_ours(current, replaced=replaced, helper_is_ours=True)
    assert out == {"env": {"ANTHROPIC_MODEL": "theirs", "KEEP": "1"}}


@pytest.mark.parametrize(
    "raw, why",
    [
        (b"{not json", "invalid JSON"),
        (b"[]", "JSON array"),
        (b'"text"', "JSON string"),
        (b"null", "JSON null"),
        (b'{"env": []}', '"env" is not an object'),
        (b"[" * 100_000, "nested too deeply"),
        (b"\xff\xfe", "not UTF-8"),
    ],
)
def test_settings_parse_rejects_what_it_cannot_merge(raw: bytes, why: str, tmp_path: Path) -> None:
    with pytest.raises(settings.SettingsCorrupt) as info:
        settings.parse(raw, tmp_path / "settings.json")
    assert why in info.value.message


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("https://abc.cloud.databricks.com", "https://abc.cloud.databricks.com"),
        ("https://abc.cloud.databricks.com/", "https://abc.cloud.databricks.com"),
        (
            "  https://ABC.cloud.databricks.com/?o=123#notebook/9  ",
            "https://abc.cloud.databricks.com",
        ),
        (
            "https://adb-1.2.azuredatabricks.net/browse/folders/1",
            "https://adb-1.2.azuredatabricks.net",
        ),
        ("https://host.example.com:8443/x", "https://host.example.com:8443"),
        ("http://127.0.0.1:8080/", "http://127.0.0.1:8080"),
        ("HTTP://127.0.0.1:9/x", "http://127.0.0.1:9"),
        ("https://localhost:1", "https://localhost:1"),
    ],
)
def test_host_normalisation(raw: str, expected: str) -> None:
    assert normalize_host(raw) == expected


@pytest.mark.parametrize(
    "raw, message",
    [
        ("", "empty"),
        ("abc.cloud.databricks.com", "must start with https://"),
        ("http://abc.cloud.databricks.com", "must start with https://"),
        ("http://localhost:1", "http:// works only as http://127.0.0.1"),
        ("http://[::1]:9/", "http:// works only as http://127.0.0.1"),
        ("ftp://abc.com", "must start with https://"),
        ("https://a b.com", "spaces"),
        ("https://exämple.com", "ASCII"),
        ("https://", "no valid host"),
        ("https://user:pw@abc.com", "no valid host"),
        ("https://a$b.com", "invalid host"),
    ],
)
def test_host_rejections_are_usage_errors(raw: str, message: str) -> None:
    with pytest.raises(UserError) as info:
        normalize_host(raw)
    assert message in info.value.message
    assert info.value.code == 2


def test_cli_expiry_with_nanoseconds_and_offsets() -> None:
    utc = parse_expiry("2026-11-25T01:20:09.123456789Z")
    assert parse_expiry("2026-11-25T02:20:09.123456789+01:00") == utc
    assert parse_expiry("2026-11-25T01:20:09Z") == pytest.approx(utc - 0.123456, abs=1e-6)


def test_scrub_hides_token_looking_text() -> None:
    line = scrub("Error: bad token eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjF9.sig dapi0123456789abcdef01\n")
    assert "eyJ" not in line and "dapi0123" not in line and not line.startswith("Error")


@pytest.mark.parametrize(
    "text, seconds", [("15m", 900), ("90s", 90), ("1h", 3600), ("10", 600), (" 2 m ", 120)]
)
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "abc", "0", "-5m", "25h", "5d"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_model_defaults_prefer_newest_ready() -> None:
    def ep(name: str, ready: bool = True) -> dict:
        return {"name": name, "state": {"ready": "READY" if ready else "NOT_READY"}}

    eps = [
        ep("databricks-claude-sonnet-4"),
        ep("databricks-claude-sonnet-4-5"),
        ep("databricks-claude-sonnet-4-6", ready=False),
        ep("databricks-claude-3-7-sonnet"),
        ep("databricks-meta-llama-3-3-70b-instruct"),
    ]
    names = [e["name"] for e in claude_endpoints(eps)]
    assert names == [
        "databricks-claude-sonnet-4-5",
        "databricks-claude-sonnet-4",
        "databricks-claude-3-7-sonnet",
        "databricks-claude-sonnet-4-6",
    ]
    assert default_for("sonnet", eps) == "databricks-claude-sonnet-4-5"
    assert default_for("opus", eps) == "databricks-claude-opus-4-6"  # seed default, list has none
    assert default_for("haiku", None) == "databricks-claude-haiku-4-5"
