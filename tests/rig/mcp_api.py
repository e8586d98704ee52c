"""The fake workspace's managed MCP servers, served by the official MCP SDK (mcp 2.x).

Databricks serves its managed MCP servers over streamable HTTP at documented paths
(../shared/notes/databricks.md, "Managed MCP servers"):

    /api/2.0/mcp/genie                                   Genie One
    /api/2.0/mcp/genie/{space_id}                        one Genie space (agent)
    /api/2.0/mcp/sql                                     Databricks SQL
    /api/2.0/mcp/functions/{catalog}/{schema}[/{fn}]     Unity Catalog functions
    /api/2.0/mcp/ai-search/{catalog}/{schema}/{index}    AI Search (older: vector-search)
    /api/2.0/mcp/external/{connection}                   an external server via a UC connection
    /ai-gateway/mcp-services/{catalog}.{schema}.{name}   the gateway form (system.ai.dbsql, ...)

The fake workspace authenticates the bearer itself (and logs which token came), then hands the
request to `McpHost.forward`, which relays it, streaming, to one real MCP server (the SDK's
lowlevel `Server` with its streamable-HTTP transport under uvicorn on loopback). That server
answers for every path: the path travels in the `X-Fake-Mcp-Path` header and decides the tools.

What the fake assumes (not documented by Databricks): the tool names of a Genie space
(`query_space_{id}`, `poll_response_{id}`), of functions and indexes
(`{catalog}__{schema}__{name}`), the 404 body for an unknown space, connection or service.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import re
import socket
import threading
from dataclasses import dataclass, field
from typing import Any

from tests.rig.routing import Request, Response, Route

PATH_HEADER = "X-Fake-Mcp-Path"

_MCP_PATH = re.compile(
    r"^(?:/api/2\.0/mcp/(?P<kind>genie|sql|functions|ai-search|vector-search|external)"
    r"(?P<rest>(?:/[^/]+)*)"
    r"|/ai-gateway/mcp-services/(?P<service>[^/]+))$"
)


def is_mcp_path(path: str) -> bool:
    return path.startswith(("/api/2.0/mcp/", "/ai-gateway/mcp-services/"))


@dataclass
class McpState:
    """What the workspace holds that its MCP servers answer from; tests change it."""

    genie_spaces: dict[str, str] = field(
        default_factory=lambda: {"01f0c0ffee0000000000000000000001": "Sales"}
    )
    # catalog.schema -> function names
    functions: dict[str, list[str]] = field(
        default_factory=lambda: {"main.tools": ["lookup_customer", "echo"]}
    )
    indexes: set[str] = field(default_factory=lambda: {"main.docs.handbook_index"})
    connections: set[str] = field(default_factory=lambda: {"github_conn"})
    services: set[str] = field(
        default_factory=lambda: {"system.ai.dbsql", "system.ai.genie_one_mcp"}
    )
    suspended_services: set[str] = field(default_factory=set)
    calls: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)  # path, tool, args


class NotFound(Exception):
    pass


def tools_for(state: McpState, path: str) -> list[dict[str, Any]]:
    """The tools the server at `path` offers: [{name, description, inputSchema}]; NotFound for a
    path that names nothing the workspace has."""
    m = _MCP_PATH.match(path)
    if m is None:
        raise NotFound(path)
    q = {"type": "object", "properties": {"question": {"type": "string"}}, "required": ["question"]}
    sql = {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]}
    if m["service"]:
        svc = m["service"]
        if svc not in state.services:
            raise NotFound(path)
        if svc.endswith("dbsql"):
            return tools_for(state, "/api/2.0/mcp/sql")
        return tools_for(state, "/api/2.0/mcp/genie")
    kind, parts = m["kind"], [p for p in (m["rest"] or "").split("/") if p]
    if kind == "genie" and not parts:
        return [
            {
                "name": "genie_ask",
                "description": "Ask Genie One a data question.",
                "inputSchema": q,
            },
            {
                "name": "genie_poll_response",
                "description": "Poll a Genie One response.",
                "inputSchema": {
                    "type": "object",
                    "properties": {"conversation_id": {"type": "string"}},
                },
            },
        ]
    if kind == "genie" and len(parts) == 1 and parts[0] in state.genie_spaces:
        sid = parts[0]
        return [
            {
                "name": f"query_space_{sid}",
                "description": f"Ask the Genie space {state.genie_spaces[sid]!r} a question.",
                "inputSchema": q,
            },
            {
                "name": f"poll_response_{sid}",
                "description": "Poll a Genie response.",
                "inputSchema": {
                    "type": "object",
                    "properties": {"conversation_id": {"type": "string"}},
                },
            },
        ]
    if kind == "sql" and not parts:
        return [
            {"name": "execute_sql", "description": "Run a SQL statement.", "inputSchema": sql},
            {
                "name": "execute_sql_read_only",
                "description": "Run a read-only query.",
                "inputSchema": sql,
            },
            {
                "name": "poll_sql_result",
                "description": "Poll a statement.",
                "inputSchema": {
                    "type": "object",
                    "properties": {"statement_id": {"type": "string"}},
                },
            },
        ]
    if kind == "functions" and len(parts) in (2, 3):
        names = state.functions.get(f"{parts[0]}.{parts[1]}")
        if names is None or (len(parts) == 3 and parts[2] not in names):
            raise NotFound(path)
        chosen = names if len(parts) == 2 else [parts[2]]
        return [
            {
                "name": f"{parts[0]}__{parts[1]}__{n}",
                "description": f"Unity Catalog function {parts[0]}.{parts[1]}.{n}",
                "inputSchema": {"type": "object", "properties": {"input": {"type": "string"}}},
            }
            for n in chosen
        ]
    if kind in ("ai-search", "vector-search") and len(parts) == 3:
        if ".".join(parts) not in state.indexes:
            raise NotFound(path)
        return [
            {
                "name": "__".join(parts),
                "description": f"Search the index {'.'.join(parts)}",
                "inputSchema": {"type": "object", "properties": {"query": {"type": "string"}}},
            }
        ]
    if kind == "external" and len(parts) == 1 and parts[0] in state.connections:
        return [
            {
                "name": "external_echo",
                "description": f"An external server through {parts[0]}",
                "inputSchema": {"type": "object", "properties": {"text": {"type": "string"}}},
            }
        ]
    raise NotFound(path)


def call_tool(state: McpState, path: str, name: str, args: dict[str, Any]) -> str:
    """The text a tool answers: it names the tool and echoes the arguments, so a test can see
    that the agent got this tool's answer."""
    if name not in {t["name"] for t in tools_for(state, path)}:
        raise NotFound(name)
    state.calls.append((path, name, dict(args)))
    if name.startswith(("genie_ask", "query_space_")):
        return json.dumps(
            {
                "conversation_id": "conv-1",
                "status": "COMPLETED",
                "answer": f"GENIE says: 42 orders match {args.get('question')!r}",
            }
        )
    if name.startswith("execute_sql"):
        return json.dumps(
            {
                "statement_id": "stmt-1",
                "status": {"state": "SUCCEEDED"},
                "result": {"data_array": [["42"]]},
                "query": args.get("query"),
            }
        )
    return json.dumps({"tool": name, "arguments": args, "answer": f"{name} done"})


class McpHost:
    """One real MCP server (the SDK's) on a loopback port, started on first use."""

    def __init__(self, state: McpState) -> None:
        self.state = state
        self._lock = threading.Lock()
        self._port: int | None = None
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._relays: set[http.client.HTTPConnection] = set()  # open upstream connections

    # -- the server ----------------------------------------------------------------------------

    def _app(self) -> Any:
        import mcp.types as types
        from mcp.server.lowlevel import Server
        from mcp.server.transport_security import TransportSecuritySettings

        state = self.state

        def path_of(ctx: Any) -> str:
            request = getattr(ctx, "request", None)
            return request.headers.get(PATH_HEADER, "") if request is not None else ""

        async def list_tools(ctx: Any, params: Any) -> Any:
            return types.ListToolsResult(
                tools=[types.Tool(**t) for t in tools_for(state, path_of(ctx))]
            )

        async def on_call_tool(ctx: Any, params: Any) -> Any:
            try:
                text = call_tool(state, path_of(ctx), params.name, dict(params.arguments or {}))
            except NotFound:
                return types.CallToolResult(
                    content=[types.TextContent(type="text", text=f"unknown tool {params.name}")],
                    is_error=True,
                )
            return types.CallToolResult(content=[types.TextContent(type="text", text=text)])

        server = Server(
            "databricks-managed-mcp", on_list_tools=list_tools, on_call_tool=on_call_tool
        )
        return server.streamable_http_app(
            streamable_http_path="/mcp",
            transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        )

    def start(self) -> int:
        """Start the server now (the first request starts it otherwise); its port."""
        return self._start()

    def _start(self) -> int:
        with self._lock:
            if self._port is not None:
                return self._port
            import uvicorn

            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
            # timeout_graceful_shutdown: a backstop only (stop() ends the relays first).
            config = uvicorn.Config(
                self._app(), log_level="warning", lifespan="on", timeout_graceful_shutdown=5
            )
            server = uvicorn.Server(config)
            ready = threading.Event()

            def serve() -> None:
                loop = asyncio.new_event_loop()
                asyncio.set_event_loop(loop)

                async def main() -> None:
                    task = asyncio.ensure_future(server.serve(sockets=[sock]))
                    while not server.started and not task.done():
                        await asyncio.sleep(0.01)
                    ready.set()
                    await task
                    # What outlives the server: sse_starlette's shutdown watcher (one per
                    # loop, polling a flag only a main-thread uvicorn sets). Left pending, the
                    # loop's close made it print "Task was destroyed but it is pending!".
                    rest = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
                    for t in rest:
                        t.cancel()
                    await asyncio.gather(*rest, return_exceptions=True)

                loop.run_until_complete(main())
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()

            thread = threading.Thread(target=serve, name="fake-mcp", daemon=True)
            thread.start()
            ready.wait(30)
            self._server, self._thread, self._port = server, thread, port
            return port

    def stop(self) -> None:
        """End the relays' open streams (an agent's SSE stream stays open until a side closes
        it: the server would wait for it), then the server, and wait for its thread."""
        with self._lock:
            for conn in list(self._relays):
                if conn.sock is not None:
                    with contextlib.suppress(OSError):
                        conn.sock.shutdown(socket.SHUT_RDWR)
            if self._server is not None:
                self._server.should_exit = True
            thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(10)

    # -- the relay -----------------------------------------------------------------------------

    def forward(self, h: Any, method: str, path: str, body: bytes) -> None:
        """Relay one request from the fake workspace's handler `h` to the MCP server and stream
        the answer back as it comes (an SSE stream stays open until either side closes)."""
        port = self._start()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        with self._lock:
            self._relays.add(conn)
        headers = {
            k: v
            for k, v in h.headers.items()
            if k.lower() not in ("host", "authorization", "content-length", "connection")
        }
        headers[PATH_HEADER] = path
        try:
            conn.request(method, "/mcp", body=body or None, headers=headers)
            resp = conn.getresponse()
            h.send_response(resp.status)
            for k, v in resp.getheaders():
                if k.lower() not in (
                    "transfer-encoding",
                    "content-length",
                    "connection",
                    "date",
                    "server",
                ):
                    h.send_header(k, v)
            h.send_header("Connection", "close")
            h.end_headers()
            h.close_connection = True
            while True:
                chunk = resp.read1(65536)
                if not chunk:
                    break
                h.wfile.write(chunk)
                h.wfile.flush()
        except (OSError, http.client.HTTPException):
            pass  # the agent went away, or stop() ended the stream
        finally:
            with self._lock:
                self._relays.discard(conn)
            with contextlib.suppress(OSError):
                conn.close()


def _serve(req: Request) -> bool:
    """Check the service and the path, then relay the request to the MCP server (which
    answers it, streaming): the bearer was checked already."""
    ws, path = req.ws, req.path
    service = path.removeprefix("/ai-gateway/mcp-services/")
    if service in ws.mcp.suspended_services:
        raise Response(
            400,
            {
                "error_code": "BAD_REQUEST",
                "message": "The MCP service is administratively suspended. Use the "
                "workspace endpoint /api/2.0/mcp/sql instead.",
            },
        )
    try:
        tools_for(ws.mcp, path)
    except NotFound:
        raise Response(
            404,
            {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": f"No MCP server at {path}"},
        ) from None
    req.record.status = 200
    ws.mcp_host().forward(req.h, req.method, path, req.body)
    return True


ROUTES = [Route("*", "/api/2.0/mcp/*", _serve), Route("*", "/ai-gateway/mcp-services/*", _serve)]
