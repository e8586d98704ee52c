"""The fake workspace's SQL warehouses and Statement Execution API, running each statement for
real on DuckDB (in memory) over tables with the documented system-table columns.

Shapes: ../shared/notes/databricks.md ("SQL Statement Execution", "System tables for usage and
cost") and the public API docs: `GET /api/2.0/sql/warehouses`, `POST /api/2.0/sql/statements`
(`wait_timeout`, `on_wait_timeout`, `format: JSON_ARRAY`, `disposition: INLINE`, named
`:param` markers with typed `parameters`), `GET /api/2.0/sql/statements/{id}`, `POST
.../{id}/cancel`. A failed statement is HTTP 200 with `status.state: FAILED` and `status.error`.
Assumed (not documented): a refused read answers error_code PERMISSION_DENIED with the message
`[INSUFFICIENT_PERMISSIONS] Insufficient privileges: User does not have SELECT on Table '…'`.

Dialect shims, the only rewriting done: `system` is a reserved catalog name in DuckDB, so the
`system.` catalog is attached as `dbx_system`; `:name` markers become DuckDB's `$name`.

    state(ws).serving_request("test.user@example.com", when, "databricks-claude-sonnet-4-5", 10, 5)
    state(ws).refused.add("system.ai_gateway.usage")
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from tests.rig.routing import Request, Response, Route

CATALOG = "dbx_system"
TABLES = {
    "serving.served_entities": "served_entity_id VARCHAR, endpoint_id VARCHAR, "
    "endpoint_name VARCHAR, entity_name VARCHAR, entity_type VARCHAR, workspace_id VARCHAR",
    "serving.endpoint_usage": "account_id VARCHAR, workspace_id VARCHAR, client_request_id "
    "VARCHAR, databricks_request_id VARCHAR, requester VARCHAR, status_code INTEGER, "
    "request_time TIMESTAMP, input_token_count BIGINT, output_token_count BIGINT, "
    "input_character_count BIGINT, output_character_count BIGINT, served_entity_id VARCHAR, "
    "request_streaming BOOLEAN",
    "ai_gateway.usage": "account_id VARCHAR, workspace_id VARCHAR, request_id VARCHAR, "
    "requester VARCHAR, event_time TIMESTAMP, endpoint_name VARCHAR, destination_model VARCHAR, "
    "status_code INTEGER, input_tokens BIGINT, output_tokens BIGINT, total_tokens BIGINT, "
    "token_details STRUCT(cache_read_input_tokens BIGINT, cache_creation_input_tokens BIGINT), "
    "user_agent VARCHAR",
    "billing.usage": "account_id VARCHAR, workspace_id VARCHAR, record_id VARCHAR, sku_name "
    "VARCHAR, cloud VARCHAR, usage_start_time TIMESTAMP, usage_end_time TIMESTAMP, usage_date "
    "DATE, usage_unit VARCHAR, usage_quantity DECIMAL(38, 18), billing_origin_product VARCHAR, "
    "usage_metadata STRUCT(endpoint_name VARCHAR, endpoint_id VARCHAR), identity_metadata "
    "STRUCT(run_as VARCHAR, created_by VARCHAR), product_features STRUCT(model_serving "
    "STRUCT(offering_type VARCHAR))",
    "billing.list_prices": "price_start_time TIMESTAMP, price_end_time TIMESTAMP, account_id "
    "VARCHAR, sku_name VARCHAR, cloud VARCHAR, currency_code VARCHAR, usage_unit VARCHAR, "
    'pricing STRUCT("default" VARCHAR, effective_list STRUCT("default" VARCHAR))',
}
PARAM = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
SYSTEM = re.compile(r"\bsystem\.(serving|ai_gateway|billing)\.", re.IGNORECASE)
SKU = "ENTERPRISE_SERVERLESS_REAL_TIME_INFERENCE_US_EAST"
CASTS = {"TIMESTAMP": "TIMESTAMP", "DATE": "DATE", "INT": "BIGINT", "BIGINT": "BIGINT"}


@dataclass
class SqlWorld:
    """One workspace's warehouses, system tables and statements."""

    workspace_id: str
    db: Any = None
    warehouses: list[dict[str, Any]] = field(default_factory=list)
    refused: set[str] = field(default_factory=set)  # tables the caller may not read
    fail_with: tuple[str, str] | None = None  # (error_code, message) for every statement
    running_polls: int = 0  # each statement answers RUNNING this many times first
    statements: dict[str, dict[str, Any]] = field(default_factory=dict)
    executed: list[str] = field(default_factory=list)  # statements as the client sent them
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        import duckdb  # only when a test asks for SQL (the try-it path runs on a bare python3)

        self.db = duckdb.connect()
        self.db.execute(f"ATTACH ':memory:' AS {CATALOG}")
        for schema in {t.split(".")[0] for t in TABLES}:
            self.db.execute(f"CREATE SCHEMA {CATALOG}.{schema}")
        for name, columns in TABLES.items():
            self.db.execute(f"CREATE TABLE {CATALOG}.{name} ({columns})")
        self.warehouses = [
            {
                "id": "wh0001",
                "name": "Serverless Starter Warehouse",
                "state": "RUNNING",
                "enable_serverless_compute": True,
                "cluster_size": "Small",
            }
        ]

    # ------------------------------------------------------------------ rows

    def _insert(self, table: str, row: dict[str, Any]) -> None:
        names = ", ".join(row)
        marks = ", ".join(f"${k}" for k in row)
        with self.lock:
            insert = f"INSERT INTO {CATALOG}.{table} ({names}) VALUES ({marks})"  # noqa: S608 - our names
            self.db.execute(insert, row)

    def serving_request(
        self, requester: str, when: dt.datetime, endpoint: str, input_tokens: int, output: int
    ) -> None:
        entity = uuid.uuid5(uuid.NAMESPACE_DNS, endpoint).hex
        with self.lock:
            known = self.db.execute(
                f"SELECT 1 FROM {CATALOG}.serving.served_entities WHERE served_entity_id = $e",  # noqa: S608
                {"e": entity},
            ).fetchall()
        if not known:
            self._insert(
                "serving.served_entities",
                {"served_entity_id": entity, "endpoint_id": entity[:16],
                 "endpoint_name": endpoint, "entity_name": f"system.ai.{endpoint}",
                 "entity_type": "FOUNDATION_MODEL", "workspace_id": self.workspace_id},
            )  # fmt: skip
        self._insert(
            "serving.endpoint_usage",
            {"workspace_id": self.workspace_id, "databricks_request_id": uuid.uuid4().hex,
             "requester": requester, "status_code": 200, "request_time": when,
             "input_token_count": input_tokens, "output_token_count": output,
             "served_entity_id": entity, "request_streaming": True},
        )  # fmt: skip

    def gateway_request(
        self,
        requester: str,
        when: dt.datetime,
        model: str,
        input_tokens: int,
        output: int,
        cache_read: int = 0,
    ) -> None:
        self._insert(
            "ai_gateway.usage",
            {"workspace_id": self.workspace_id, "request_id": uuid.uuid4().hex,
             "requester": requester, "event_time": when, "endpoint_name": model,
             "destination_model": model, "status_code": 200, "input_tokens": input_tokens,
             "output_tokens": output, "total_tokens": input_tokens + output,
             "token_details": {"cache_read_input_tokens": cache_read,
                               "cache_creation_input_tokens": 0},
             "user_agent": "claude-cli/2.1.332"},
        )  # fmt: skip

    def billing(self, run_as: str, day: dt.date, endpoint: str, dbus: float) -> None:
        start = dt.datetime(day.year, day.month, day.day)
        self._insert(
            "billing.usage",
            {"workspace_id": self.workspace_id, "record_id": uuid.uuid4().hex, "sku_name": SKU,
             "cloud": "AWS", "usage_start_time": start,
             "usage_end_time": start + dt.timedelta(hours=1), "usage_date": day,
             "usage_unit": "DBU", "usage_quantity": dbus,
             "billing_origin_product": "MODEL_SERVING",
             "usage_metadata": {"endpoint_name": endpoint, "endpoint_id": None},
             "identity_metadata": {"run_as": run_as, "created_by": None},
             "product_features": {"model_serving": {"offering_type": "PAY_PER_TOKEN"}}},
        )  # fmt: skip

    def list_price(self, price: str, since: dt.datetime) -> None:
        self._insert(
            "billing.list_prices",
            {"price_start_time": since, "price_end_time": None, "sku_name": SKU, "cloud": "AWS",
             "currency_code": "USD", "usage_unit": "DBU",
             "pricing": {"default": price, "effective_list": {"default": price}}},
        )  # fmt: skip

    # ------------------------------------------------------------------ statements

    def run(self, body: dict[str, Any]) -> dict[str, Any]:
        statement = str(body.get("statement") or "")
        self.executed.append(statement)
        sid = uuid.uuid4().hex
        answer: dict[str, Any] = {"statement_id": sid}
        failed = self.fail_with
        if failed is None:
            for table in sorted(self.refused):
                if table.lower() in statement.lower():
                    failed = (
                        "PERMISSION_DENIED",
                        "[INSUFFICIENT_PERMISSIONS] Insufficient privileges: User does not have "
                        f"SELECT on Table '{table}'. SQLSTATE: 42501",
                    )
                    break
        if failed is None:
            import duckdb

            try:
                answer.update(self._execute(statement, body.get("parameters") or []))
            except duckdb.Error as exc:
                failed = ("BAD_REQUEST", f"[PARSE_SYNTAX_ERROR] {exc}")
        if failed is not None:
            code, message = failed
            answer["status"] = {
                "state": "FAILED",
                "error": {"error_code": code, "message": message},
            }
        self.statements[sid] = {"answer": answer, "polls_left": self.running_polls}
        return self.poll(sid)

    def poll(self, sid: str) -> dict[str, Any]:
        entry = self.statements[sid]
        if entry["polls_left"] > 0:
            entry["polls_left"] -= 1
            return {"statement_id": sid, "status": {"state": "RUNNING"}}
        return dict(entry["answer"])

    def _execute(self, statement: str, parameters: list[dict[str, Any]]) -> dict[str, Any]:
        sql = SYSTEM.sub(lambda m: f"{CATALOG}.{m.group(1)}.", statement)
        sql = PARAM.sub(lambda m: f"${m.group(1)}", sql)
        values: dict[str, Any] = {}
        for p in parameters:
            kind = str(p.get("type") or "STRING").upper()
            value = p.get("value")
            if value is not None and kind in CASTS:
                sql = sql.replace(f"${p['name']}", f"CAST(${p['name']} AS {CASTS[kind]})")
            values[str(p["name"])] = value
        with self.lock:
            cursor = self.db.execute(sql, values)
            rows = cursor.fetchall()
            description = cursor.description or []
        columns = [
            {"name": d[0], "position": i, "type_name": str(d[1]).upper()}
            for i, d in enumerate(description)
        ]
        data = [[None if v is None else _text(v) for v in row] for row in rows]
        return {
            "status": {"state": "SUCCEEDED"},
            "manifest": {
                "format": "JSON_ARRAY",
                "schema": {"column_count": len(columns), "columns": columns},
                "total_row_count": len(data),
            },
            "result": {"row_count": len(data), "data_array": data},
        }


def _text(value: Any) -> str:
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return str(value)


def state(ws: Any) -> SqlWorld:
    """The SQL side of a FakeWorkspace, made on first use."""
    world = ws.__dict__.get("_sql_world")
    if world is None:
        world = ws.__dict__["_sql_world"] = SqlWorld(ws.workspace_id)
    return world


def route(ws: Any, method: str, path: str, parsed: Any) -> None:
    """Answer /api/2.0/sql/* (raises Response), or return for a 404."""
    world = state(ws)
    if path == "/api/2.0/sql/warehouses" and method == "GET":
        raise Response(200, {"warehouses": [dict(w) for w in world.warehouses]})
    if path == "/api/2.0/sql/statements" and method == "POST":
        body = parsed if isinstance(parsed, dict) else {}
        known = {w["id"]: w for w in world.warehouses}
        warehouse = known.get(str(body.get("warehouse_id")))
        if warehouse is None:
            raise Response(
                404,
                {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "Warehouse does not exist"},
            )
        if not body.get("statement"):
            raise Response(
                400, {"error_code": "INVALID_PARAMETER_VALUE", "message": "statement is required"}
            )
        raise Response(200, world.run(body))
    prefix = "/api/2.0/sql/statements/"
    if path.startswith(prefix):
        sid, _, action = path[len(prefix) :].partition("/")
        if sid not in world.statements:
            raise Response(
                404, {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "No such statement"}
            )
        if method == "GET" and not action:
            raise Response(200, world.poll(sid))
        if method == "POST" and action == "cancel":
            world.statements[sid]["answer"] = {"statement_id": sid, "status": {"state": "CANCELED"}}
            world.statements[sid]["polls_left"] = 0
            raise Response(200, {})


def _serve(req: Request) -> None:
    route(req.ws, req.method, req.path, req.parsed)


ROUTES = [Route("*", "/api/2.0/sql/*", _serve)]
