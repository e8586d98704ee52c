"""Issue 25, section 1: what a real workspace sends, held against the official SDKs
(databricks-sdk-go 0.175, databricks-sdk 0.167; docs/databricks-shapes.md).

- A serving endpoint's kind comes from its served entities (`foundation_model`,
  `external_model`): `endpoint_type` is in no SDK's ServingEndpoint, so the fake serves entries
  with and without it (FakeWorkspace.endpoint_type_field) and both must give the same answers.
- Unity Catalog model services are paged as the SDKs page them (at most 100 a page) with the
  opaque page token URL-encoded; the gateway's listing is paged on the last id received.
- Gateway listing ids: `system.ai.claude-…` is the same model as `databricks-claude-…`; an id
  ending `-anthropic` names no endpoint. Neither is ever offered as a default.
- SCIM error bodies (`detail`, `scimType`) are read, so a 403 keeps its words and its fix.

In-process against the fake workspace, except the setup journeys (real Databricks CLI).
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest

from dbx_fmapi_claude.workspace import catalogue, routes
from dbx_fmapi_claude.workspace.client import Workspace, WorkspaceError, diagnose
from tests.helpers.mgmt import doctor, fake_claude, find_check, run_setup, set_up
from tests.rig.sandbox import ISSUE_13_TODAY, Sandbox
from tests.rig.workspace import FakeWorkspace, current_endpoints, scim_error

TODAY = catalogue.today({"DBX_FMAPI_TODAY": ISSUE_13_TODAY})
UC_PATH = "/api/2.1/unity-catalog/model-services"


def client(workspace: FakeWorkspace) -> Workspace:
    return Workspace(workspace.url, workspace.issue_token(), {})


# --- serving endpoints: the kind of an endpoint ----------------------------------------------


@pytest.mark.parametrize("with_type", [True, False], ids=["endpoint_type", "sdk-shape"])
def test_kinds_and_defaults_come_from_the_served_entities(
    workspace: FakeWorkspace, with_type: bool
) -> None:
    workspace.set_endpoints(current_endpoints())
    workspace.endpoint_type_field = with_type
    listed = client(workspace).endpoints()
    assert all(("endpoint_type" in e) is with_type for e in listed)

    cat = catalogue.discover(client(workspace))
    assert cat.source == "serving-endpoints" and not cat.errors.get("serving-endpoints")
    defaults = {fam: cat.default(fam, TODAY) for fam in catalogue.FAMILIES}
    assert defaults == {
        "opus": "databricks-claude-opus-4-8",
        "sonnet": "databricks-claude-sonnet-4-6",
        "haiku": "databricks-claude-haiku-4-5",
        "fable": "databricks-claude-fable-5-2",
    }
    external = cat.find("anthropic-external-claude")
    assert external is not None and external.kind == "external"
    assert cat.find("my-custom-model") is None  # neither Claude nor served by the route
    kinds = {e["name"]: catalogue.endpoint_kind(e) for e in listed}
    assert kinds["my-custom-model"] == "other"
    assert kinds["databricks-gpt-5-5"] == "foundation"  # for Codex and OpenCode


def test_an_entry_without_entities_or_type_is_read_by_its_name() -> None:
    assert catalogue.endpoint_kind({"name": "databricks-claude-opus-4-8"}) == "foundation"
    assert catalogue.endpoint_kind({"name": "team-claude"}) == "other"
    # the hint counts only when the entities say nothing
    entity = {"external_model": {"provider": "anthropic", "name": "claude-sonnet-4-5"}}
    wrong_hint = {
        "name": "x",
        "endpoint_type": "FOUNDATION_MODEL_API",
        "config": {"served_entities": [entity]},
    }
    assert catalogue.endpoint_kind(wrong_hint) == "external"
    assert catalogue.endpoint_kind({"name": "y", "endpoint_type": "EXTERNAL_MODEL"}) == "external"


@pytest.mark.parametrize("with_type", [True, False], ids=["endpoint_type", "sdk-shape"])
def test_setup_yes_on_a_serving_endpoints_workspace_in_either_form(
    sandbox: Sandbox, workspace: FakeWorkspace, with_type: bool
) -> None:
    workspace.set_endpoints(current_endpoints())  # no newer listing, no AI Gateway
    workspace.endpoint_type_field = with_type
    # a personal access token: no browser login (what is read is the same for every credential)
    profile = f"\n[pat]\nhost = {workspace.url}\ntoken = {workspace.issue_pat()}\n"
    (sandbox.home / ".databrickscfg").write_text(profile)
    today = {"DBX_FMAPI_TODAY": ISSUE_13_TODAY}
    result = run_setup(sandbox, workspace, "--yes", "--profile", "pat", env=today)
    assert result.code == 0, result
    env = json.loads((sandbox.home / ".claude/settings.json").read_text())["env"]
    assert env["ANTHROPIC_DEFAULT_OPUS_MODEL"] == "databricks-claude-opus-4-8"
    assert env["ANTHROPIC_DEFAULT_SONNET_MODEL"] == "databricks-claude-sonnet-4-6"
    assert env["ANTHROPIC_DEFAULT_HAIKU_MODEL"] == "databricks-claude-haiku-4-5"
    assert "no model endpoint" not in result.stderr and "READY and not" not in result.stderr
    # verify asked each default model for one token, through serving endpoints
    asked = {r.model for r in workspace.messages_requests()}
    assert {"databricks-claude-opus-4-8", "databricks-claude-haiku-4-5"} <= asked
    assert all(r.path.startswith("/serving-endpoints/") for r in workspace.messages_requests())

    models = sandbox.run(["dbx-fmapi", "models", "--json"], timeout=60)
    assert models.code == 0, models
    rows = {r["name"]: r for r in json.loads(models.stdout)["endpoints"]}
    assert rows["databricks-claude-opus-4-8"]["kind"] == "foundation"
    assert rows["anthropic-external-claude"]["kind"] == "external"


# --- Unity Catalog model services: paging ----------------------------------------------------


def test_model_services_are_paged_as_the_sdks_page_them(workspace: FakeWorkspace) -> None:
    workspace.modernize(gateway=False)
    workspace.model_services_empty_first_page = True  # the next page needs the token back
    cat = catalogue.discover(client(workspace))
    assert "model-services" not in cat.errors, cat.errors
    assert cat.source == "model-services"
    opus = cat.find("databricks-claude-opus-4-8")
    assert opus is not None and opus.uc_name == "system.ai.claude-opus-4-8"
    pages = workspace.requests(UC_PATH)
    assert len(pages) == 2 and all(int(r.query["page_size"]) <= 100 for r in pages)
    token = pages[1].query["page_token"]
    assert {"+", "/", "="} <= set(token)  # came back exactly as handed out
    assert all(r.status == 200 for r in pages)


def test_the_fake_refuses_what_a_real_server_refuses(workspace: FakeWorkspace) -> None:
    workspace.modernize(gateway=False)
    ws = client(workspace)
    query = {"parent": "schemas/system.ai", "page_size": "1000"}
    with pytest.raises(WorkspaceError) as big:
        ws.get(f"{UC_PATH}?{urlencode(query)}")
    assert big.value.status == 499 and big.value.body == ""
    first = ws.get(f"{UC_PATH}?{urlencode({**query, 'page_size': '2'})}")
    token = first["next_page_token"]
    assert {"+", "/", "="} <= set(token)
    with pytest.raises(WorkspaceError) as mangled:  # pasted unencoded: `+` arrives as a space
        ws.get(f"{UC_PATH}?parent=schemas/system.ai&page_size=2&page_token={token}")
    assert mangled.value.status == 400 and mangled.value.code == "INVALID_PARAMETER_VALUE"
    second = ws.get(f"{UC_PATH}?{urlencode({**query, 'page_size': '2', 'page_token': token})}")
    assert second["model_services"] and second["model_services"] != first["model_services"]


# --- the AI Gateway's listing: paging and ids ------------------------------------------------


def test_the_gateway_listing_is_paged_on_the_last_id_received(
    workspace: FakeWorkspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace.modernize()
    ws = client(workspace)
    everything = [m["id"] for m in routes.list_gateway_models(ws)]
    assert len(everything) > 4
    monkeypatch.setattr(routes, "LISTING_LIMIT", 2)
    workspace.clear_log()
    assert [m["id"] for m in routes.list_gateway_models(ws)] == everything
    pages = workspace.requests("/ai-gateway/anthropic/v1/models")
    afters = [r.query.get("after_id") for r in pages]
    assert afters[0] is None and afters[1:] == everything[1:-1:2][: len(afters) - 1]


def test_gateway_ids_are_one_model_per_endpoint_and_never_a_non_endpoint(
    workspace: FakeWorkspace,
) -> None:
    workspace.modernize()
    workspace.gateway_model_ids = ("endpoint", "system.ai", "anthropic")
    ws = client(workspace)
    cat = catalogue.discover(ws, routes.list_gateway_models(ws))
    names = [m.name for m in cat.claude()]
    assert len(names) == len(set(names))
    assert not [n for n in names if n.startswith("system.ai.") or "-anthropic" in n], names
    opus = cat.find("databricks-claude-opus-4-8")
    assert opus is not None and opus.uc_name == "system.ai.claude-opus-4-8" and opus.gateway
    assert cat.find("databricks-claude-opus-4-8[1m]") is not None
    assert cat.default("sonnet", TODAY) == "databricks-claude-sonnet-4-6"


def test_with_only_the_gateway_readable_the_defaults_are_endpoint_names(
    workspace: FakeWorkspace,
) -> None:
    workspace.modernize()
    workspace.gateway_model_ids = ("system.ai", "anthropic")
    ws = client(workspace)
    listed = routes.list_gateway_models(ws)
    workspace.fail("/api/", 503, times=None)  # every other listing is down
    cat = catalogue.discover(ws, listed)
    assert cat.source == "ai-gateway"
    defaults = {fam: cat.default(fam, TODAY) for fam in ("opus", "sonnet", "haiku")}
    assert defaults == {
        "opus": "databricks-claude-opus-4-8",
        "sonnet": "databricks-claude-sonnet-4-6",
        "haiku": "databricks-claude-haiku-4-5",
    }
    assert [m.name for m in cat.claude("opus")][:2] == [
        "databricks-claude-opus-4-8",
        "databricks-claude-opus-4-8[1m]",
    ]


# --- SCIM errors -----------------------------------------------------------------------------


def test_a_scim_403_keeps_its_words_and_its_fix(workspace: FakeWorkspace) -> None:
    ws = client(workspace)
    me = "/api/2.0/preview/scim/v2/Me"
    workspace.fail(me, 403, body=scim_error(403, "Invalid access token."))
    with pytest.raises(WorkspaceError) as rejected:
        ws.me()
    message, fix = diagnose(rejected.value, workspace.url, "read the current user")
    assert "Invalid access token." in message and fix == "dbx-fmapi login"

    denied = "This API is disabled for users without the workspace-access entitlement."
    workspace.fail(me, 403, body=scim_error(403, denied, scim_type="forbidden"))
    with pytest.raises(WorkspaceError) as refused:
        ws.me()
    assert refused.value.message == f"forbidden {denied}"
    message, _ = diagnose(refused.value, workspace.url, "read the current user")
    assert denied in message

    workspace.fail(me, 500, body=scim_error(500, "null"))
    with pytest.raises(WorkspaceError) as broken:
        ws.me()
    assert broken.value.message == "SCIM API Internal Error"


def test_doctor_keeps_the_hint_of_a_scim_403(sandbox: Sandbox, workspace: FakeWorkspace) -> None:
    fake_claude(sandbox)
    set_up(sandbox, workspace)
    # Every answer, not just the next: doctor's token, handed out by setup more than
    # rejected.FRESH_FOR ago on a busy machine, is checked against the same path first (a 403
    # there replaces it, and the next /Me would pass).
    workspace.fail(
        "/api/2.0/preview/scim/v2/Me",
        403,
        times=None,
        body=scim_error(403, "Invalid access token."),
    )
    report = doctor(sandbox)
    assert report.code == 1, report
    status, detail, fix = find_check(report, "Workspace")
    assert status == "FAIL" and "Invalid access token." in detail
    assert fix == "dbx-fmapi login"
