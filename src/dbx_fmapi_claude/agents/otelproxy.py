"""The agents' OpenTelemetry exports into the workspace, through a loopback proxy of ours.

Codex, Gemini CLI and OpenCode can only send a header they were given at start (measured:
docs/telemetry-agents.md), and a workspace token lives about an hour. `dbx-fmapi run AGENT` with
`otel_tables` set starts this proxy (agents/proxy.py: loopback only, the per-launch secret, the
same guards) and points the agent's OTLP/HTTP exporter at it. For each export the proxy:

- takes only `POST /v1/metrics`, `/v1/logs`, `/v1/traces` (anything else: 404, never forwarded);
- turns OTLP/JSON (Gemini CLI, OpenCode) into protobuf (otlpjson.py), the one encoding the
  workspace takes;
- with spans off (`--otel-spans`, the default), answers a `/v1/traces` export and drops it:
  nothing reaches the workspace, and the agent, answered from loopback, pays nothing for it
  (Gemini CLI and OpenCode's own spans have no switch of their own; Codex and OpenCode's model
  call spans are not asked for at all: agents' `otel_launch`);
- answers the agent at once (200, an empty Export…ServiceResponse), and sends the export to
  `{host}/api/2.0/otel/v1/…` from a queue of its own, with a fresh token and
  `X-Databricks-UC-Table-Name: PREFIX_otel_{metrics,logs,spans}`; a token the workspace
  rejects is replaced and the export sent once more, as on the model path.

So telemetry never slows or breaks a session: an unreachable, hanging or refusing workspace
costs the agent nothing (its exporter is answered from loopback), and when the agent ends, the
exports still queued get DRAIN_SECONDS to reach the workspace before the proxy stops.
"""

from __future__ import annotations

import collections
import gzip
import http.client
import logging
import socket
import threading
import time
import zlib
from collections.abc import Callable, Mapping
from http import HTTPStatus

from ..auth.rejected import is_rejection
from ..telemetry import tables
from . import otlpjson, proxy
from .relay import Handler
from .upstream import Upstream

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

log = logging.getLogger("dbx_fmapi_claude.agents.proxy")

# The exporter's path -> its signal (the table suffix and header: telemetry/tables.py).
SIGNALS = {f"/v1/{signal}": signal for signal in tables.SIGNALS}
# After the agent ended: how long exports still queued may take to reach the workspace (the
# product's budget for an unreachable or hanging endpoint: at most 1 s at the end of a run; the
# same 800 ms Claude Code is given for its last export).
DRAIN_SECONDS = 0.8
ENV_DRAIN = "DBX_FMAPI_OTEL_DRAIN_MS"  # a longer (or shorter) wait, in milliseconds
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 10.0
MAX_QUEUED = 32 * 1024 * 1024  # bytes waiting; beyond, the oldest export is dropped
WORKERS = 3  # one export of each signal at a time (Codex sends all three as it exits)
_MAX_BODY = 64 * 1024 * 1024


def drain_from(env: Mapping[str, str]) -> float:
    """DRAIN_SECONDS, or DBX_FMAPI_OTEL_DRAIN_MS when it is a number of milliseconds >= 0."""
    try:
        value = float(env.get(ENV_DRAIN, ""))
    except ValueError:
        return DRAIN_SECONDS
    return value / 1000 if value >= 0 else DRAIN_SECONDS


def start(
    host: str,
    token: Callable[[], str],
    prefix: str,
    *,
    env: Mapping[str, str] | None = None,
    drain_seconds: float | None = None,
    spans: bool = True,
    secret: str | None = None,
    sock: socket.socket | None = None,
    client_tables: bool = False,
) -> proxy.Proxy:
    """A running OTLP proxy to the workspace `host` for the tables of `prefix` (traces
    dropped unless `spans`). `secret`, `sock`: as proxy.start's (the Claude Code wrapper's
    relay binds its port before it forks); `client_tables`: an export that names its table
    (X-Databricks-UC-Table-Name, as Claude Code sends the ones its settings give) goes there."""
    if drain_seconds is None:
        drain_seconds = drain_from(env or {})

    def prepare(server: proxy.Server) -> None:
        names = tables.names(prefix)
        sent = {s: names[s] for s in tables.signals_of(spans)}
        forwarder = Forwarder(server.upstream, token, sent, drain_seconds)
        forwarder.client_tables = client_tables
        server.forwarder = forwarder  # type: ignore[attr-defined]
        server.drain = forwarder.drain
        # The token ready before the first export (Codex sends all of them as it exits, when
        # the drain would otherwise wait for the token's fetch as well).
        threading.Thread(
            target=_warm, args=(token,), name="dbx-fmapi-otel-token", daemon=True
        ).start()

    return proxy.start(
        tables.endpoint(host),
        token=token,
        secret=secret,
        sock=sock,
        env=env,
        connect_timeout=CONNECT_TIMEOUT,
        read_timeout=READ_TIMEOUT,
        handler=OtelHandler,
        prepare=prepare,
    )


class OtelHandler(Handler):
    """The relay's checks (secret, path, body), then the export queued instead of relayed."""

    def _deliver(self, path: str, body: bytes | None) -> int | str:
        signal = SIGNALS.get(path)
        if signal is None or self.command != "POST":
            return self._answer(
                HTTPStatus.NOT_FOUND,
                "only OTLP exports (POST /v1/metrics, /v1/logs, /v1/traces) go through this proxy",
            )
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        encoding = (self.headers.get("Content-Encoding") or "identity").strip().lower()
        data = body or b""
        forwarder: Forwarder = self.server.forwarder  # type: ignore[attr-defined]
        table = self.headers.get(tables.HEADER) if forwarder.client_tables else None
        if not forwarder.takes(signal, table) and ctype in (
            "application/json",
            "application/x-protobuf",
        ):
            forwarder.outcomes.append((signal, "dropped"))  # spans off: not for the workspace
            return self._accepted(ctype)
        if ctype == "application/json":
            try:
                data = otlpjson.convert(signal, _decoded(data, encoding))
            except (ValueError, OSError, EOFError, zlib.error) as exc:
                return self._answer(HTTPStatus.BAD_REQUEST, f"not an OTLP/JSON export: {exc}")
            encoding = "identity"
        elif ctype != "application/x-protobuf":
            return self._answer(
                HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
                "OTLP/HTTP exports are application/x-protobuf or application/json",
            )
        forwarder.submit(signal, data, encoding, table)
        return self._accepted(ctype)

    def _accepted(self, ctype: str) -> int:
        """An empty Export…ServiceResponse: full success, as far as the agent need know."""
        body = b"{}" if ctype == "application/json" else b""
        try:
            self.send_response_only(HTTPStatus.OK, "OK")
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            self.close_connection = True
        return HTTPStatus.OK


def _warm(token: Callable[[], str]) -> None:
    try:
        token()
    except Exception:  # noqa: BLE001 - the first export will say why, in the debug log
        log.debug("otel: no token yet", exc_info=True)


def _decoded(data: bytes, encoding: str) -> bytes:
    if encoding in ("", "identity"):
        return data
    if encoding == "gzip":
        return gzip.decompress(data)
    if encoding == "deflate":
        return zlib.decompress(data)
    raise ValueError(f"content-encoding {encoding} is not supported")


class Forwarder:
    """Sends queued exports to the workspace on threads of its own, never the agent's time."""

    def __init__(
        self,
        upstream: Upstream,
        token: Callable[[], str],
        names: Mapping[str, str],
        drain_seconds: float = DRAIN_SECONDS,
    ) -> None:
        self._up = upstream
        self._token = token
        self._tables = dict(names)
        self._drain_seconds = drain_seconds
        self._queue: collections.deque[tuple[str, bytes, str, str]] = collections.deque()
        self._queued = 0
        self._busy = 0
        self._closing = False
        self._cond = threading.Condition()
        self._threads: list[threading.Thread] = []
        # What happened to each export (for `run --debug` and the tests): (signal, status).
        self.outcomes: list[tuple[str, int | str]] = []
        self.dropped = 0
        self.client_tables = False  # an export's own table header wins (see start)

    def takes(self, signal: str, table: str | None = None) -> bool:
        """Is `signal` sent to the workspace (a table for it: `table`, the one the export
        named, or the configuration's)?"""
        return bool(table) or signal in self._tables

    def submit(self, signal: str, data: bytes, encoding: str, table: str | None = None) -> None:
        table = table or self._tables[signal]
        with self._cond:
            while self._queue and self._queued + len(data) > MAX_QUEUED:
                old = self._queue.popleft()
                self._queued -= len(old[1])
                self.dropped += 1
            self._queue.append((signal, data, encoding, table))
            self._queued += len(data)
            if len(self._threads) < WORKERS and self._busy + len(self._queue) > len(self._threads):
                thread = threading.Thread(target=self._work, name="dbx-fmapi-otel", daemon=True)
                self._threads.append(thread)
                thread.start()
            self._cond.notify()

    def drain(self) -> None:
        """Wait (at most drain_seconds) for what is queued or on its way, then stop the
        workers; the proxy then cuts any send still in progress."""
        deadline = time.monotonic() + self._drain_seconds
        with self._cond:
            self._closing = True
            self._cond.notify_all()
            while self._queue or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    self.dropped += len(self._queue)
                    self._queue.clear()
                    break
                self._cond.wait(left)

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closing:
                    self._cond.wait()
                if not self._queue:
                    return
                signal, data, encoding, table = self._queue.popleft()
                self._queued -= len(data)
                self._busy += 1
            try:
                outcome: int | str = self._send(signal, data, encoding, table)
            except Exception as exc:  # noqa: BLE001 - telemetry never breaks the session
                outcome = type(exc).__name__
                log.info("otel: a %s export did not reach the workspace: %s", signal, outcome)
            finally:
                with self._cond:
                    self._busy -= 1
                    self._cond.notify_all()
            self.outcomes.append((signal, outcome))

    def _send(self, signal: str, data: bytes, encoding: str, table: str) -> int:
        bearer = self._token()
        status, body = self._post(signal, data, encoding, table, bearer)
        replace = getattr(self._token, "replace", None)
        if status in (400, 401, 403) and replace is not None and is_rejection(status, body):
            new = replace(bearer)
            if isinstance(new, str) and new and new != bearer:
                log.info("otel: the workspace refused the token; sending once more with a new one")
                status, body = self._post(signal, data, encoding, table, new)
        if status >= 300:
            log.info("otel: the workspace answered %s to a %s export", status, signal)
        return status

    def _post(
        self, signal: str, data: bytes, encoding: str, table: str, bearer: str
    ) -> tuple[int, bytes]:
        headers: dict[str, Any] = {
            "Content-Type": "application/x-protobuf",
            "Content-Length": str(len(data)),
            "Authorization": f"Bearer {bearer}",
            tables.HEADER: table,
        }
        if encoding not in ("", "identity"):
            headers["Content-Encoding"] = encoding
        up = self._up
        for attempt in (1, 2):
            conn, reused = up.get()
            try:
                conn.request("POST", up.target(f"/v1/{signal}"), body=data, headers=headers)
                response = conn.getresponse()
                answer = response.read(_MAX_BODY)
            except (OSError, http.client.HTTPException):
                up.discard(conn)
                if reused and attempt == 1:
                    continue  # the workspace closed this idle connection: a new one, once
                raise
            if response.will_close:
                up.discard(conn)
            else:
                up.put(conn)
            return response.status, answer
        raise AssertionError("unreachable: the second attempt returns or raises")
