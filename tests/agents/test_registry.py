"""The registries are the only truth: every agent's API is served on every route, the record's
checks take the route and agent names from them, and each agent with a model flag says its
default for --help."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from dbx_fmapi_claude import agents
from dbx_fmapi_claude.agents.claude import relayed
from dbx_fmapi_claude.agents.mcpfiles import McpWriter
from dbx_fmapi_claude.auth import credentials
from dbx_fmapi_claude.record import config, fields
from dbx_fmapi_claude.workspace import routes
from tests.helpers.sourcetree import PACKAGE, module_name


def test_every_agents_api_is_served_on_every_route() -> None:
    for agent in agents.every():
        assert agent.api is not None, agent.name
        for route in routes.ROUTES.values():
            assert route.apis[agent.api], (agent.name, route.name)
            assert route.base_url("https://h/", agent.api).startswith("https://h/")


def test_the_claude_route_is_the_anthropic_api() -> None:
    assert routes.GATEWAY.base_url("https://h") == "https://h/ai-gateway/anthropic"
    assert routes.SERVING.base_url("https://h/") == "https://h/serving-endpoints/anthropic"
    assert routes.GATEWAY.models_url("https://h") == "https://h/ai-gateway/anthropic/v1/models"
    assert routes.SERVING.models_url("https://h") is None
    assert routes.get(None) is routes.SERVING and routes.get("ai-gateway") is routes.GATEWAY


def test_the_record_checks_read_the_registries() -> None:
    # The record (on the hot path, so no dataclasses) spells the route names itself: the same.
    allowed, _ = fields.FIELDS["route"]
    assert allowed == frozenset(routes.ROUTES)
    assert fields.AGENT_NAMES == agents.NAMES
    allowed, _ = fields.FIELDS["auth"]  # the credential kinds' names, spelled there too
    assert allowed == frozenset(credentials.BY_NAME)
    assert (routes.AUTO, *routes.ROUTES) == routes.CHOICES


def test_each_model_flag_says_its_default() -> None:
    flags = [a for a in agents.every() if a.model_flag]
    assert [a.name for a in flags] == [n for n in agents.NAMES if n != "claude"]
    for agent in flags:
        assert agent.model_flag == f"--{agent.name}-model" and agent.model_default
        assert agent.model_option == f"{agent.name}_model"


def test_credential_kinds_say_what_differs() -> None:
    pat, m2m, oauth = (credentials.BY_NAME[n] for n in ("pat", "m2m", "oauth"))
    assert credentials.of(None) is oauth and credentials.of("m2m") is m2m
    assert [k.name for k in credentials.BY_NAME.values() if k.browser_login] == ["oauth"]
    assert [k.name for k in credentials.BY_NAME.values() if not k.expiry_known] == ["pat"]
    assert not pat.static_mode and m2m.static_mode and oauth.static_mode
    assert credentials.NAMES == {
        "oauth": "OAuth (browser login)",
        "m2m": "service principal",
        "pat": "personal access token",
    }
    src = credentials.Source("pat", "https://h", None, secret="dapi-0123")
    assert src.credential_kind is pat


def _names_imported(path: Path) -> set[str]:
    """Every module and name `path` imports from our package, as dotted names (an import
    inside a function counts too)."""
    name, is_package = module_name(path)
    here = name.split(".") if is_package else name.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = here[: len(here) - node.level + 1] if node.level else []
            target = ".".join(base + ([node.module] if node.module else []))
            found |= {target, *(f"{target}.{alias.name}" for alias in node.names)}
    return found


def test_claude_codes_mcp_part_is_its_agents_like_every_agents() -> None:
    # `dbx-fmapi mcp`, status, doctor and uninstall reach ~/.claude.json only through
    # `Agent.mcp`, as they reach Codex's config.toml and the JSON agents' files.
    claude = agents.get("claude")
    assert isinstance(claude.mcp, McpWriter)
    assert not (PACKAGE / "mcp" / "claudejson.py").exists()
    pieces = ("dbx_fmapi_claude.agents.claude.mcp", "dbx_fmapi_claude.mcp.claudejson")
    outside = [p for p in sorted(PACKAGE.rglob("*.py")) if not p.is_relative_to(PACKAGE / "agents")]
    reached = {
        str(p.relative_to(PACKAGE)): sorted(n for n in _names_imported(p) if n.startswith(pieces))
        for p in outside
    }
    assert {k: v for k, v in reached.items() if v} == {}
    named = [str(p.relative_to(PACKAGE)) for p in outside if "claude_json" in p.read_text()]
    assert named == ["core/paths.py"]  # where the file is; only Claude Code's part writes it


def test_the_required_agent_is_the_registrys_and_its_state_is_the_records_claude_key() -> None:
    assert [a.name for a in agents.every() if a.required] == [agents.REQUIRED]
    assert agents.DEFAULT == (agents.REQUIRED,) == (fields.CLAUDE,)
    assert fields.agents_of({}) == [agents.REQUIRED]


def test_the_record_and_the_credential_kinds_read_one_table() -> None:
    """The record may not import auth: the kinds' names and which no browser login renews live
    in record/fields.py, and auth's classes read them there; the record's message names each."""
    assert tuple(credentials.BY_NAME) == fields.CREDENTIAL_KINDS
    without = tuple(k.name for k in credentials.BY_NAME.values() if not k.browser_login)
    assert fields.WITHOUT_PROFILE == without == ("m2m", "pat")
    _, what = fields.FIELDS["auth"]
    names = [f'"{n}"' for n in credentials.BY_NAME]
    assert what == ", ".join(names[:-1]) + " or " + names[-1]
    assert [k.name for k in credentials.BY_NAME.values() if not k.renewed] == ["pat"]


@pytest.mark.parametrize(
    "auth, profile, set_up",
    [
        (None, None, False),
        ("oauth", None, False),
        ("m2m", None, True),
        ("pat", None, True),
        ("oauth", "DEFAULT", True),
        ("sso", None, False),
    ],
)
def test_a_configuration_without_a_profile_is_set_up_for_a_kind_no_login_renews(
    auth: str | None, profile: str | None, set_up: bool
) -> None:
    cfg = {"host": "https://h", "auth": auth, "profile": profile}
    assert config.is_set_up(cfg) is set_up
    assert config.Configuration(cfg).is_set_up is set_up


@pytest.mark.parametrize(
    "cfg, relays",
    [
        ({}, True),
        ({"auth": "oauth"}, True),
        ({"auth": "m2m"}, True),
        ({"auth": "pat"}, False),  # nothing new to replace a rejected PAT with
        ({"auth": "oauth", "token_mode": "static"}, False),
        ({"auth": "sso"}, True),  # not a kind (the record's checks refuse it): OAuth's answer
    ],
)
def test_the_wrapper_relays_a_kind_whose_rejected_token_can_be_replaced(
    cfg: dict[str, str], relays: bool
) -> None:
    assert relayed.wanted(["-p", "hi"], {}, cfg) is relays
