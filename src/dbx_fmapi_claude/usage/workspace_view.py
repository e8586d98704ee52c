"""`dbx-fmapi usage --workspace`: this user's figures from the workspace's system tables, through
a running SQL warehouse. Three reads, each on its own: a refused one says which grant an account
admin runs, the others still show.

- `system.serving.endpoint_usage` joined with `system.serving.served_entities`: requests and
  tokens per serving endpoint;
- `system.ai_gateway.usage`: requests and tokens (cache reads included) per model on the gateway;
- `system.billing.usage` priced with `system.billing.list_prices`: model serving DBUs and their
  list cost per endpoint. Billing rows arrive hours late.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from ..auth import credentials, tokens
from ..core import ui
from ..core.context import Context
from ..core.errors import UserError
from ..record import config
from ..workspace import client
from . import sql

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

SERVING = """
SELECT e.endpoint_name AS model, COUNT(*) AS requests,
       SUM(u.input_token_count) AS input_tokens, SUM(u.output_token_count) AS output_tokens
FROM system.serving.endpoint_usage AS u
JOIN system.serving.served_entities AS e ON u.served_entity_id = e.served_entity_id
WHERE u.requester = :user AND u.request_time >= :since
GROUP BY e.endpoint_name ORDER BY e.endpoint_name
""".strip()

GATEWAY = """
SELECT destination_model AS model, COUNT(*) AS requests,
       SUM(input_tokens) AS input_tokens, SUM(output_tokens) AS output_tokens,
       SUM(token_details.cache_read_input_tokens) AS cache_read_tokens
FROM system.ai_gateway.usage
WHERE requester = :user AND event_time >= :since
GROUP BY destination_model ORDER BY destination_model
""".strip()

BILLING = """
SELECT u.usage_metadata.endpoint_name AS endpoint, SUM(u.usage_quantity) AS dbus,
       SUM(u.usage_quantity * CAST(p.pricing.effective_list.default AS DOUBLE)) AS list_cost,
       MAX(p.currency_code) AS currency
FROM system.billing.usage AS u
LEFT JOIN system.billing.list_prices AS p
  ON u.sku_name = p.sku_name AND u.cloud = p.cloud AND u.usage_unit = p.usage_unit
 AND u.usage_start_time >= p.price_start_time
 AND (p.price_end_time IS NULL OR u.usage_start_time < p.price_end_time)
WHERE u.billing_origin_product = 'MODEL_SERVING' AND u.identity_metadata.run_as = :user
  AND u.usage_date >= :since_date
GROUP BY u.usage_metadata.endpoint_name ORDER BY endpoint
""".strip()

# (name, statement, the tables it reads, and the grants an account admin runs for a user)
READS = (
    ("serving", SERVING, ("system.serving.endpoint_usage", "system.serving.served_entities")),
    ("gateway", GATEWAY, ("system.ai_gateway.usage",)),
    ("billing", BILLING, ("system.billing.usage", "system.billing.list_prices")),
)


def grants(tables: tuple[str, ...], user: str) -> str:
    """The statements that let `user` read `tables` (Unity Catalog: USE on the catalog and the
    schema, SELECT on the table)."""
    who = f"`{user}`"
    schemas = sorted({t.rsplit(".", 1)[0] for t in tables})
    lines = [f"GRANT USE CATALOG ON CATALOG system TO {who};"]
    lines += [f"GRANT USE SCHEMA ON SCHEMA {s} TO {who};" for s in schemas]
    lines += [f"GRANT SELECT ON TABLE {t} TO {who};" for t in tables]
    return " ".join(lines)


@dataclass
class Read:
    name: str
    columns: list[str] = field(default_factory=list)
    rows: list[list[str | None]] = field(default_factory=list)
    error: str | None = None
    grant: str | None = None

    def as_json(self) -> dict[str, Any]:
        if self.error is not None:
            return {"error": self.error, "grant": self.grant}
        return {"rows": [dict(zip(self.columns, r, strict=False)) for r in self.rows]}


@dataclass
class View:
    host: str
    user: str
    warehouse: sql.Warehouse
    reads: list[Read]

    def as_json(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "user": self.user,
            "warehouse": {"id": self.warehouse.id, "name": self.warehouse.name},
            **{r.name: r.as_json() for r in self.reads},
        }

    def lines(self) -> list[str]:
        out = [
            f"Workspace {self.host}, as {self.user} (system tables through SQL warehouse "
            f"{self.warehouse.name!r}; billing rows arrive hours late):"
        ]
        titles = {
            "serving": "serving endpoints",
            "gateway": "AI Gateway",
            "billing": "billing (DBUs at list prices)",
        }
        for r in self.reads:
            if r.error is not None:
                out.append(f"  {titles[r.name]}: {r.error}")
                if r.grant:
                    out.append(f"    an account admin runs: {r.grant}")
                continue
            if not r.rows:
                out.append(f"  {titles[r.name]}: no rows")
                continue
            out.append(f"  {titles[r.name]}:")
            header = [c.upper().replace("_", " ") for c in r.columns]
            cells = [[_cell(v) for v in row] for row in r.rows]
            widths = [max(len(x[i]) for x in [header, *cells]) for i in range(len(header))]
            for row in [header, *cells]:
                text = "  ".join(
                    v.ljust(w) if i == 0 else v.rjust(w)
                    for i, (v, w) in enumerate(zip(row, widths, strict=True))
                )
                out.append("    " + text.rstrip())
        return out


def _cell(value: str | None) -> str:
    """A value as the table shows it: decimals (DBUs, costs) to 4 places."""
    if value is None:
        return "-"
    try:
        number = float(value)
    except ValueError:
        return value
    return f"{number:.4f}".rstrip("0").rstrip(".") if "." in value else value


def fetch(ctx: Context, since: float) -> View:
    cfg = config.require(ctx.paths, ctx.cwd)
    host = str(cfg["host"])
    progress = ui.Progress(ctx)
    with progress.step("getting a token"):
        source = credentials.for_record(cfg, ctx.env, ctx.paths.home_path)
        tok = credentials.token(source, tokens.request_for(ctx, cfg, allow_login=True))
    ws = client.Workspace(host, tok.access_token, ctx.env)
    try:
        with progress.step(f"finding a SQL warehouse in {host}"):
            me = ws.me() or {}
            found = sql.warehouses(ws)
    except client.WorkspaceError as exc:
        raise UserError(
            *client.diagnose(exc, host, "list the SQL warehouses", retry="dbx-fmapi usage")
        ) from None
    user = str(me.get("userName") or "")
    warehouse = sql.pick(found)
    if warehouse is None:
        if not found:
            raise UserError(
                f"{host} has no SQL warehouse you can use, so its system tables cannot be read",
                "ask a workspace admin for CAN USE on a SQL warehouse, then: dbx-fmapi usage "
                "--workspace",
            )
        stopped = found[0]
        profile = f" --profile {cfg['profile']}" if cfg.get("profile") else ""
        raise UserError(
            f"no SQL warehouse of {host} is running ({stopped.name!r} is {stopped.state}); "
            "usage does not start one (it costs money and minutes)",
            f"databricks warehouses start {stopped.id}{profile}   then: dbx-fmapi usage "
            "--workspace",
        )
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(since))
    params = [
        {"name": "user", "value": user, "type": "STRING"},
        {"name": "since", "value": stamp, "type": "TIMESTAMP"},
        {"name": "since_date", "value": stamp[:10], "type": "DATE"},
    ]
    reads = []
    for name, statement, tables in READS:
        used = [p for p in params if re.search(rf":{p['name']}\b", statement)]
        read = Read(name)
        try:
            with progress.step(f"reading {', '.join(tables)}"):
                read.columns, read.rows = sql.execute(ws, warehouse.id, statement, used)
        except sql.SqlError as exc:
            if exc.refused:
                read.error = f"reading {tables[0]} was refused ({exc.code})"
                read.grant = grants(tables, user)
            else:
                read.error = f"the query on {tables[0]} failed ({exc.code}: {exc.message})"
        except client.WorkspaceError as exc:
            read.error = f"the query on {tables[0]} failed: {exc.message}"
        reads.append(read)
    return View(host, user, warehouse, reads)
