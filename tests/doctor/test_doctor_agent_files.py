"""Doctor's config check for Gemini CLI and OpenCode, in process: setup's members changed or
gone, a file the agent cannot read, and the files each agent reads after setup's that override
it, each with its message and fix (the world: agent_world.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.helpers.agent_world import AGAIN, World, by_id, one, world

__all__ = ["world"]  # the fixture


# --- Gemini CLI's settings ------------------------------------------------------------------


def test_gemini_selected_type_changed(world: World) -> None:
    world.write_json(world.gemini, {"security": {"auth": {"selectedType": "oauth-personal"}}})
    assert one(world, "agent:gemini:config") == (
        "FAIL",
        f'{world.gemini} has security.auth.selectedType = "oauth-personal", not setup\'s '
        '"gemini-api-key"',
        AGAIN,
    )


def test_gemini_member_removed(world: World) -> None:
    world.write_json(world.gemini, {"ui": {"theme": "Dracula"}})
    assert one(world, "agent:gemini:config") == (
        "FAIL",
        f"{world.gemini} no longer holds security.auth.selectedType",
        AGAIN,
    )


def test_gemini_settings_not_json_and_with_comments(world: World) -> None:
    world.write(world.gemini, "{ not json")
    assert one(world, "agent:gemini:config") == (
        "FAIL",
        f"{world.gemini} is not a JSON object, so Gemini CLI cannot read it",
        f'repair it, then re-run setup: "${{EDITOR:-vi}}" {world.gemini}',
    )
    # Gemini CLI reads comments and trailing commas: so does the check.
    world.write(
        world.gemini,
        '{\n  // mine\n  "security": {"auth": {"selectedType": "gemini-api-key",},},\n}\n',
    )
    assert one(world, "agent:gemini:config")[0] == "PASS"


def test_gemini_home_elsewhere(world: World) -> None:
    world.env["GEMINI_CLI_HOME"] = str(world.home / "g")
    status, detail, fix = one(world, "agent:gemini:config")
    assert status == "FAIL" and detail.startswith("Gemini CLI started here (GEMINI_CLI_HOME=")
    assert fix is not None and fix.startswith(AGAIN) and "GEMINI_CLI_HOME" in fix


def test_gemini_project_settings_override(world: World) -> None:
    project = world.write_json(
        world.project / ".gemini" / "settings.json",
        {"security": {"auth": {"selectedType": "oauth-personal"}}},
    )
    assert one(world, "agent:gemini:config") == (
        "FAIL",
        f"{project} (this project's settings) sets security.auth.selectedType = "
        '"oauth-personal", which wins over setup\'s "gemini-api-key"',
        f'remove security.auth.selectedType there: "${{EDITOR:-vi}}" {project}',
    )


def test_gemini_system_settings_enforce_another_type(world: World) -> None:
    system = world.write_json(
        world.admin / "gemini-settings.json", {"security": {"auth": {"enforcedType": "vertex-ai"}}}
    )
    assert one(world, "agent:gemini:config") == (
        "FAIL",
        f"{system} (an administrator's system settings) enforces security.auth.enforcedType = "
        '"vertex-ai": no API key',
        f"change it there: ask your administrator to change {system}",
    )


def test_an_unreadable_later_file_is_a_warning(world: World) -> None:
    project = world.write(world.project / ".gemini" / "settings.json", "[1, 2")
    found = by_id(world.doctor())
    assert found["agent:gemini:config"] == (
        "WARN",
        f"{project} (this project's settings, read after setup's file) is not a JSON object; "
        "Gemini CLI may refuse to start",
        f'"${{EDITOR:-vi}}" {project}',
    )
    assert found["agent:gemini:request"][0] == "PASS"


# --- OpenCode's config ----------------------------------------------------------------------


def opencode_data(world: World) -> dict[str, Any]:
    return dict(json.loads(world.opencode.read_text()))


def test_opencode_base_url_changed_and_model_gone(world: World) -> None:
    data = opencode_data(world)
    data["provider"]["databricks"]["options"]["baseURL"] = "https://x.example.com"
    data["provider"]["databricks"]["models"] = {}
    world.write_json(world.opencode, data)
    found = by_id(world.doctor())
    assert found["agent:opencode:config"] == (
        "FAIL",
        f'{world.opencode} has provider.databricks.options.baseURL = "https://x.example.com", '
        'not setup\'s "{env:DBX_FMAPI_OPENCODE_BASE_URL}"',
        AGAIN,
    )
    assert found["agent:opencode:config:2"] == (
        "FAIL",
        f"{world.opencode} no longer holds provider.databricks.models.databricks-claude-opus-4-6",
        AGAIN,
    )


@pytest.mark.parametrize(
    ("members", "why"),
    [
        ({"disabled_providers": ["databricks"]}, "disables the provider 'databricks' "),
        ({"enabled_providers": ["anthropic"]}, "enables only anthropic (enabled_providers), "),
    ],
)
def test_opencode_provider_turned_off(world: World, members: dict[str, Any], why: str) -> None:
    world.write_json(world.opencode, {**opencode_data(world), **members})
    status, detail, fix = one(world, "agent:opencode:config")
    assert status == "FAIL" and detail.startswith(f"{world.opencode} {why}") and fix == AGAIN


def test_opencode_project_and_managed_configs_override(world: World) -> None:
    nested = world.project / "src"
    nested.mkdir()
    project = world.write_json(
        world.project / "opencode.json",
        {"provider": {"databricks": {"options": {"apiKey": "sk-mine"}}}},
    )
    managed = world.write_json(
        world.admin / "opencode" / "opencode.jsonc", {"disabled_providers": ["databricks"]}
    )
    found = by_id(world.doctor())
    ids = [i for i in found if i.startswith("agent:opencode:config")]
    assert ids == ["agent:opencode:config", "agent:opencode:config:2"]
    assert found["agent:opencode:config"] == (
        "FAIL",
        f'{project} (this project\'s config) sets provider.databricks.options.apiKey = "sk-mine", '
        'which wins over setup\'s "{env:DBX_FMAPI_OPENCODE_API_KEY}"',
        f'remove provider.databricks.options.apiKey there: "${{EDITOR:-vi}}" {project}',
    )
    assert found["agent:opencode:config:2"] == (
        "FAIL",
        f"{managed} (an administrator's config) disables the provider 'databricks' "
        "(disabled_providers)",
        f"change it there: ask your administrator to change {managed}",
    )


def test_opencode_config_named_by_the_environment_overrides(world: World) -> None:
    other = world.write_json(
        world.home / "oc.json", {"provider": {"databricks": {"npm": "@ai-sdk/openai"}}}
    )
    world.env["OPENCODE_CONFIG"] = str(other)
    status, detail, _ = one(world, "agent:opencode:config")
    assert status == "FAIL" and detail.startswith(f"{other} (the file OPENCODE_CONFIG names) sets")
