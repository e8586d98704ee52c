"""The relay process `dbx-fmapi-claude` forks before it becomes claude (relayed.py): the loopback
proxy of `dbx-fmapi run` (agents/proxy.py, relay.py) with the configuration's token source, the
launch's key, and the listening socket bound before the fork. It lives while its parent (now
claude) does: claude's exit makes this process an orphan, and it stops within half a second,
plus, with telemetry on, the time the exports it still holds take (at most DRAIN_SECONDS): those
go through the OTLP proxy of `dbx-fmapi run` (agents/otelproxy.py) on the second socket.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Mapping

from ...auth import credentials
from ...auth.dbcli import Token
from ...auth.tokens import TokenRequest, margin_seconds, needed_lifetime
from ...core.paths import Paths
from ...telemetry import tables
from .. import proxy
from ..freshtoken import FreshToken, quiet

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

POLL = 0.5  # seconds between two looks at whether claude is still there
# Claude Code takes a 400 as final, at once: when only a new login gives a token, its message
# (`run: dbx-fmapi login --profile P`) shows within the turn, not after minutes of 401 retries.
LOGIN_STATUS = 400
# After claude exited: how long the exports still held may take to reach the workspace. Nobody
# waits for this process (claude has gone), so longer than `dbx-fmapi run`'s 0.8 s; bounded all
# the same: an endpoint that hangs never keeps it alive. DBX_FMAPI_OTEL_DRAIN_MS sets another.
DRAIN_SECONDS = 5.0


def serve(
    fds: list[int],
    secret: str,
    base: str,
    cfg: Mapping[str, Any],
    paths: Paths,
    env: Mapping[str, str],
    parent: int,
) -> None:
    sock = socket.socket(fileno=fds[0])
    source = credentials.for_record(cfg, env, paths.home_path)

    def request() -> TokenRequest:
        return TokenRequest(paths, env, quiet(), need=needed_lifetime(env, cfg))

    def fetch() -> Token:
        return credentials.token(source, request())

    def refetch() -> Token:  # the workspace refused the held token: ask it, refresh if rejected
        asked = request()
        asked.always_check = True
        return credentials.token(source, asked)

    fresh = FreshToken(fetch, keep=max(margin_seconds(env, cfg), 30.0), refetch=refetch)
    relay = proxy.start(
        base, token=fresh, secret=secret, env=env, sock=sock, login_status=LOGIN_STATUS
    )
    exports = None
    if fds[1:]:
        otel_sock = socket.socket(fileno=fds[1])
        try:
            exports = _otel(otel_sock, secret, cfg, env, fresh)
        except Exception:  # noqa: BLE001 - telemetry never breaks the session
            otel_sock.close()  # claude's exporter is refused at once, and goes on
    # The token for claude's first request, while claude starts (a failure here is told to
    # claude by that request's answer).
    threading.Thread(target=_warm, args=(fresh,), daemon=True).start()
    try:
        while os.getppid() == parent:
            time.sleep(POLL)
    finally:
        if exports is not None:
            exports.stop()  # what it holds gets DRAIN_SECONDS to reach the workspace
        relay.stop()


def _otel(
    sock: socket.socket,
    secret: str,
    cfg: Mapping[str, Any],
    env: Mapping[str, str],
    fresh: FreshToken,
) -> proxy.Proxy:
    """Claude Code's OTLP exports (`--otel-tables`): answered at once, sent on to the
    workspace's endpoint in the background with the relay's token, to the tables Claude Code
    names (its settings' per-signal headers), and after claude exits for DRAIN_SECONDS more."""
    from .. import otelproxy

    prefix = tables.prefix_of(cfg) or ""
    return otelproxy.start(
        str(cfg.get("host") or ""),
        fresh,
        prefix,
        env=env,
        drain_seconds=otelproxy.drain_from(env) if otelproxy.ENV_DRAIN in env else DRAIN_SECONDS,
        spans=tables.spans_on(cfg),
        secret=secret,
        sock=sock,
        client_tables=True,
    )


def _warm(fresh: FreshToken) -> None:
    with contextlib.suppress(Exception):  # the first request asks again and reports it
        fresh()
