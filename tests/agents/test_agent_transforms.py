"""The pure transforms behind the agents' config files (issue 15): Codex's config.toml edited as
text between our markers, Gemini CLI's and OpenCode's JSON members, the record's agent fields.

Every merge is undone byte for byte by its unmerge, keeps the user's own providers, profiles and
comments, and gives a file a TOML parser reads as Codex would.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from dbx_fmapi_claude import agents
from dbx_fmapi_claude.agents import jsonfile
from dbx_fmapi_claude.agents.codex import configtoml
from dbx_fmapi_claude.changes import engine
from dbx_fmapi_claude.core.errors import UserError
from dbx_fmapi_claude.record import config
from dbx_fmapi_claude.workspace import routes
from dbx_fmapi_claude.workspace.routes import GATEWAY_NAME as GATEWAY
from dbx_fmapi_claude.workspace.routes import SERVING_NAME as SERVING
from tests.helpers.agent_transforms import CASES, HELPER, _apply, _setup

tomllib = pytest.importorskip("tomllib") if sys.version_info >= (3, 11) else None

TOP = configtoml.render_top("databricks", "databricks-gpt-5")
PROVIDER = configtoml.render_provider(
    "databricks",
    "https://x.cloud.databricks.com/ai-gateway/codex/v1",
    [HELPER, "token", "--profile", "DEFAULT"],
    timeout_ms=60000,
    refresh_interval_ms=900000,
)

USERS = [
    "",
    "\n",
    'model = "o3"\n',
    'model = "o3"',
    '# my codex\nmodel = "o3"  # the best\nmodel_provider = "openai"\napproval_policy = "never"\n',
    'profile = "work"\n\n[profiles.work]\nmodel = "gpt-5"\nmodel_provider = "azure"\n',
    '[model_providers.azure]\nname = "Azure"\nbase_url = "https://a.example/openai"\n'
    'env_key = "AZURE_KEY"\nwire_api = "responses"\n',
    '"model" = "o3"\n[tui]\nnotifications = true\n',
    "# ünïcødé ✓\r\nmodel = 'o3'\r\n[history]\r\npersistence = \"none\"\r\n",
]


def parse_toml(text: str) -> dict[str, Any]:
    if tomllib is None:
        pytest.skip("tomllib needs Python 3.11")
    return dict(tomllib.loads(text))


@pytest.mark.parametrize("text", USERS)
def test_codex_merge_then_unmerge_is_byte_identical(text: str) -> None:
    merged = configtoml.merge(text, TOP, PROVIDER)
    assert configtoml.merge(merged, TOP, PROVIDER) == merged  # in place, never a second copy
    assert configtoml.unmerge(merged) == text
    data = parse_toml(merged)
    assert data["model_provider"] == "databricks"
    assert data["model"] == "databricks-gpt-5"
    assert "profile" not in data  # a default profile would override our provider
    ours = data["model_providers"]["databricks"]
    assert ours["wire_api"] == "responses"
    assert ours["base_url"].endswith("/ai-gateway/codex/v1")
    assert ours["auth"] == {
        "command": HELPER,
        "args": ["token", "--profile", "DEFAULT"],
        "timeout_ms": 60000,
        "refresh_interval_ms": 900000,
    }


def test_codex_merge_keeps_the_users_providers_and_profiles() -> None:
    text = USERS[5] + USERS[6]
    data = parse_toml(configtoml.merge(text, TOP, PROVIDER))
    assert data["profiles"]["work"] == {"model": "gpt-5", "model_provider": "azure"}
    assert data["model_providers"]["azure"]["env_key"] == "AZURE_KEY"
    assert configtoml.parked(configtoml.merge(text, TOP, PROVIDER)) == ['profile = "work"']


def test_codex_a_users_own_databricks_provider_gets_ours_beside_it() -> None:
    text = '[model_providers.databricks]\nname = "mine"\nbase_url = "https://m.example"\n'
    assert configtoml.provider_id(text) == configtoml.FALLBACK_ID
    top = configtoml.render_top(configtoml.FALLBACK_ID, "databricks-gpt-5")
    block = PROVIDER.replace("model_providers.databricks", "model_providers.databricks-fmapi")
    merged = configtoml.merge(text, top, block)
    data = parse_toml(merged)
    assert data["model_providers"]["databricks"]["name"] == "mine"
    assert data["model_provider"] == "databricks-fmapi"
    assert configtoml.unmerge(merged) == text


def test_codex_updates_in_place_after_the_user_edited_around_our_blocks() -> None:
    merged = configtoml.merge('model = "o3"\n', TOP, PROVIDER)
    edited = merged + "\n[tui]\nnotifications = true\n"
    newer = configtoml.render_top("databricks", "databricks-gpt-5-5")
    again = configtoml.merge(edited, newer, PROVIDER)
    assert parse_toml(again)["model"] == "databricks-gpt-5-5"
    assert configtoml.unmerge(again) == 'model = "o3"\n\n[tui]\nnotifications = true\n'


def test_codex_half_block_is_refused() -> None:
    broken = configtoml.TOP[0] + '\nmodel = "x"\n'
    with pytest.raises(configtoml.HalfBlock):
        configtoml.merge(broken, TOP, PROVIDER)
    with pytest.raises(configtoml.HalfBlock):
        configtoml.unmerge(broken)


def test_codex_block_holds_no_token_only_the_command() -> None:
    assert "dapi" not in PROVIDER and "Bearer" not in PROVIDER
    assert "experimental_bearer_token" not in PROVIDER and "env_key" not in PROVIDER


# --- the JSON members -------------------------------------------------------------------------


def test_json_member_set_and_taken_back_keeps_order() -> None:
    data = {"theme": "dark", "security": {"folderTrust": {"enabled": False}}, "z": 1}
    keys = ("security", "auth", "selectedType")
    added = jsonfile.with_member(data, keys, "gemini-api-key")
    assert list(added) == ["theme", "security", "z"]
    assert added["security"] == {
        "folderTrust": {"enabled": False},
        "auth": {"selectedType": "gemini-api-key"},
    }
    assert jsonfile.without_member(added, keys) == data
    replaced = jsonfile.with_member(
        {"security": {"auth": {"selectedType": "oauth-personal"}}}, keys, "x"
    )
    assert jsonfile.without_member(replaced, keys, "oauth-personal") == {
        "security": {"auth": {"selectedType": "oauth-personal"}}
    }


@pytest.mark.parametrize(
    "raw, words",
    [
        (b"{", "not valid JSON"),
        (b"// a comment\n{}", "not valid JSON"),
        (b"[1, 2]", "not an object"),
        (b"\xff\xfe", "not valid JSON"),
    ],
)
def test_json_file_that_cannot_be_read_is_refused(raw: bytes, words: str) -> None:
    with pytest.raises(UserError) as err:
        jsonfile.parse(raw, Path("/h/.gemini/settings.json"), "Gemini CLI")
    assert words in err.value.message
    assert "/h/.gemini/settings.json" in err.value.message and err.value.fix


# --- agents, planned and taken back on real files ------------------------------------------


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("exists", [True, False], ids=["users-file", "no-file"])
def test_agent_setup_then_uninstall_leaves_the_file_byte_identical(
    tmp_path: Path, name: str, exists: bool
) -> None:
    rel, original = CASES[name]
    target = tmp_path / rel
    if exists:
        target.parent.mkdir(parents=True)
        target.write_bytes(original)
        target.chmod(0o640)
    agent = agents.get(name)
    s = _setup(tmp_path, name)
    plan = engine.Plan()
    state = agent.plan_setup(s, plan)
    assert [c.path for c in plan.changes] == [target]
    _apply(s, plan)
    assert state["file"] == str(target) and state["created"] is (not exists)
    assert agent.in_effect(state, s.paths) is None
    # setup again: no change
    again = engine.Plan()
    agent.plan_setup(_setup(tmp_path, name, state), again)
    assert again.changes == []
    undo = engine.Plan()
    agent.plan_uninstall(s.paths, {}, state, undo)
    _apply(s, undo)
    if exists:
        assert target.read_bytes() == original
        assert target.stat().st_mode & 0o777 == 0o640
    else:
        assert not target.exists()
    twice = engine.Plan()
    agent.plan_uninstall(s.paths, {}, state, twice)
    assert twice.changes == []


def test_gemini_records_the_auth_type_it_replaced(tmp_path: Path) -> None:
    rel, original = CASES["gemini"]
    target = tmp_path / rel
    target.parent.mkdir(parents=True)
    target.write_bytes(original)
    s = _setup(tmp_path, "gemini")
    plan = engine.Plan()
    state = agents.get("gemini").plan_setup(s, plan)
    assert state["replaced"] == {"security.auth.selectedType": {"value": "oauth-personal"}}
    new = json.loads(plan.changes[0].new or b"")
    assert new["security"]["auth"]["selectedType"] == "gemini-api-key"
    assert new["theme"] == "Dracula"


def test_uninstall_keeps_what_the_user_added_since(tmp_path: Path) -> None:
    s = _setup(tmp_path, "opencode", model="databricks-claude-opus-4-6")
    agent = agents.get("opencode")
    plan = engine.Plan()
    state = agent.plan_setup(s, plan)
    _apply(s, plan)
    target = tmp_path / CASES["opencode"][0]
    data = json.loads(target.read_text())
    assert data["provider"]["databricks"]["options"] == {
        "baseURL": "{env:DBX_FMAPI_OPENCODE_BASE_URL}",
        "apiKey": "{env:DBX_FMAPI_OPENCODE_API_KEY}",
    }
    data["theme"] = "mine"
    target.write_text(json.dumps(data))
    undo = engine.Plan()
    agent.plan_uninstall(s.paths, {}, state, undo)
    _apply(s, undo)
    assert json.loads(target.read_text()) == {"theme": "mine"}


def test_codex_refuses_a_file_that_is_not_toml_and_changes_nothing(tmp_path: Path) -> None:
    if tomllib is None:
        pytest.skip("tomllib needs Python 3.11")
    target = tmp_path / ".codex" / "config.toml"
    target.parent.mkdir()
    target.write_bytes(b"model = \n[x\n")
    with pytest.raises(UserError) as err:
        agents.get("codex").plan_setup(_setup(tmp_path, "codex"), engine.Plan())
    assert "not valid TOML" in err.value.message and "nothing was changed" in err.value.message
    assert target.read_bytes() == b"model = \n[x\n"


# --- routes and the record ---------------------------------------------------------------------


def test_api_candidates_follow_the_route() -> None:
    api = agents.get("codex").api
    assert api is not None
    assert routes.candidates(api, GATEWAY, False)[0] == (GATEWAY, "/ai-gateway/codex/v1")
    assert routes.candidates(api, SERVING, False)[0] == (SERVING, "/serving-endpoints/openai/v1")
    assert {r for r, _ in routes.candidates(api, SERVING, True)} == {SERVING}
    assert routes.candidates(api, GATEWAY, False) == [
        (GATEWAY, "/ai-gateway/codex/v1"),
        (GATEWAY, "/ai-gateway/openai/v1"),
        (SERVING, "/serving-endpoints/openai/v1"),
    ]


def test_record_agent_fields() -> None:
    assert config.agents_of({}) == ["claude"]
    assert config.agents_of({"agents": ["codex", "claude"]}) == ["claude", "codex"]
    ok = {
        "configs": [
            {"agents": ["claude", "codex"], "codex": {"file": "/h/c.toml", "created": True}}
        ]
    }
    assert config.problems(ok) == []
    bad = {"configs": [{"agents": ["claude", "cursor"]}]}
    assert config.problems(bad) == [
        (
            0,
            "agents",
            'must be a list of "claude", "codex", "gemini", "opencode", '
            'not a list holding "cursor"',
        )
    ]
    bad = {"configs": [{"codex": {"file": 3}}]}
    assert config.problems(bad)[0][1:] == (
        "codex",
        'must be an object (the Codex state): its "file" holds a number',
    )
