"""`dbx-fmapi usage --workspace`: the workspace's system tables through a SQL warehouse; the
fake workspace runs the product's statements for real on DuckDB (tests/rig/sql_api.py)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from tests.helpers.json_shapes import USAGE_SHAPE, assert_shape, usage_reads_ok
from tests.helpers.usage_world import pat_setup
from tests.rig import sql_api
from tests.rig.sandbox import Sandbox
from tests.rig.workspace import DEFAULT_USER, FakeWorkspace

NOW = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
SONNET = "databricks-claude-sonnet-4-5"
OPUS = "databricks-claude-opus-4-6"


@pytest.fixture
def world(sandbox: Sandbox, workspace: FakeWorkspace) -> sql_api.SqlWorld:
    pat_setup(sandbox, workspace, "--statusline", "off")
    w = sql_api.state(workspace)
    w.serving_request(DEFAULT_USER, NOW, SONNET, 100, 10)
    w.serving_request(DEFAULT_USER, NOW, SONNET, 200, 20)
    w.serving_request(DEFAULT_USER, NOW, OPUS, 50, 5)
    w.serving_request("someone.else@example.com", NOW, SONNET, 9999, 9999)
    w.serving_request(DEFAULT_USER, NOW - dt.timedelta(days=400), SONNET, 7777, 7777)
    w.gateway_request(DEFAULT_USER, NOW, SONNET, 300, 30, cache_read=1000)
    w.list_price("0.07", NOW - dt.timedelta(days=800))
    w.billing(DEFAULT_USER, NOW.date(), SONNET, 10.0)
    w.billing(DEFAULT_USER, NOW.date(), SONNET, 5.0)
    w.billing("someone.else@example.com", NOW.date(), SONNET, 100.0)
    return w


def usage_ws(sandbox: Sandbox, *args: str) -> Any:
    return sandbox.run(["dbx-fmapi", "usage", "--workspace", *args], timeout=120)


def test_the_users_own_figures_from_each_table(
    sandbox: Sandbox, workspace: FakeWorkspace, world: sql_api.SqlWorld
) -> None:
    result = usage_ws(sandbox, "--json", "--since", "7d")
    assert result.code == 0, result
    data = json.loads(result.stdout)
    assert_shape(data, USAGE_SHAPE)
    ws = data["workspace"]
    assert usage_reads_ok(ws) == []
    assert ws["user"] == DEFAULT_USER and ws["warehouse"]["id"] == "wh0001"
    assert ws["serving"]["rows"] == [
        {"model": OPUS, "requests": "1", "input_tokens": "50", "output_tokens": "5"},
        {"model": SONNET, "requests": "2", "input_tokens": "300", "output_tokens": "30"},
    ]
    assert ws["gateway"]["rows"] == [
        {"model": SONNET, "requests": "1", "input_tokens": "300", "output_tokens": "30",
         "cache_read_tokens": "1000"},
    ]  # fmt: skip
    [billing] = ws["billing"]["rows"]
    assert billing["endpoint"] == SONNET and billing["currency"] == "USD"
    assert float(billing["dbus"]) == 15.0 and float(billing["list_cost"]) == pytest.approx(1.05)
    # The statements went with named markers and typed parameters, as the API takes them.
    assert all(":user" in s for s in world.executed)

    text = usage_ws(sandbox, "--since", "7d")
    assert text.code == 0, text
    assert f"Workspace {workspace.url}, as {DEFAULT_USER}" in text.stdout
    assert "'Serverless Starter Warehouse'" in text.stdout
    assert "  AI Gateway:" in text.stdout and "CACHE READ TOKENS" in text.stdout


def test_a_refused_read_names_the_grant_and_the_others_still_show(
    sandbox: Sandbox, world: sql_api.SqlWorld
) -> None:
    world.refused.add("system.ai_gateway.usage")
    result = usage_ws(sandbox)
    assert result.code == 0, result
    assert "AI Gateway: reading system.ai_gateway.usage was refused (PERMISSION_DENIED)" in (
        result.stdout
    )
    assert (
        f"an account admin runs: GRANT USE CATALOG ON CATALOG system TO `{DEFAULT_USER}`; "
        f"GRANT USE SCHEMA ON SCHEMA system.ai_gateway TO `{DEFAULT_USER}`; "
        f"GRANT SELECT ON TABLE system.ai_gateway.usage TO `{DEFAULT_USER}`;"
    ) in result.stdout
    assert "  serving endpoints:" in result.stdout  # read on its own
    data = json.loads(usage_ws(sandbox, "--json").stdout)["workspace"]
    assert usage_reads_ok(data) == []
    assert data["gateway"]["grant"].startswith("GRANT USE CATALOG")
    assert len(data["serving"]["rows"]) == 2


def test_a_failed_statement_is_reported(sandbox: Sandbox, world: sql_api.SqlWorld) -> None:
    world.fail_with = ("INTERNAL_ERROR", "the warehouse ran out of memory")
    result = usage_ws(sandbox)
    assert result.code == 0, result
    assert (
        "serving endpoints: the query on system.serving.endpoint_usage failed (INTERNAL_ERROR: "
        "the warehouse ran out of memory)"
    ) in result.stdout
    assert "was refused" not in result.stdout


def test_a_running_statement_is_polled(sandbox: Sandbox, world: sql_api.SqlWorld) -> None:
    world.running_polls = 2
    result = usage_ws(sandbox, "--json")
    assert result.code == 0, result
    assert len(json.loads(result.stdout)["workspace"]["serving"]["rows"]) == 2


def test_no_running_warehouse_is_not_started(
    sandbox: Sandbox, workspace: FakeWorkspace, world: sql_api.SqlWorld
) -> None:
    world.warehouses[0]["state"] = "STOPPED"
    before = sandbox.snapshot()
    result = usage_ws(sandbox)
    assert result.code == 1 and result.stdout == ""
    assert (
        "no SQL warehouse of " + workspace.url + " is running ('Serverless Starter Warehouse' is "
        "STOPPED)"
    ) in result.stderr
    assert "fix: databricks warehouses start wh0001 --profile DEFAULT" in result.stderr
    assert world.executed == []
    assert workspace.requests("/api/2.0/sql/statements") == []
    assert sandbox.snapshot() == before

    world.warehouses.clear()
    result = usage_ws(sandbox)
    assert result.code == 1 and "has no SQL warehouse you can use" in result.stderr
