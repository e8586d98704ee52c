"""Loopback proxy benchmark: direct vs through the proxy, side by side in one run.

Three processes, as in real use (the agent, `dbx-fmapi run` holding the proxy, the workspace):
  this process    the client (an agent); http.client over kept-alive connections
  upstream        a stdlib HTTP/1.1 server on 127.0.0.1 streaming SSE (the workspace)
  one per proxy   each candidate implementation, pointed at the upstream

Measures, interleaved request by request in a shuffled order so machine drift hits all alike, the
first requests excluded as warm-up:
  ttfb        request sent -> first SSE event received, kept-alive connection (agents keep them)
  ttfb-new    the same on a new connection each time
  event       per-event latency: upstream write -> client read, for events spaced like tokens
              (the upstream stamps each event with a monotonic clock shared by the processes)
  throughput  one long SSE stream (--mb), MB/s, best of --rounds rounds

Budget (shared PRODUCT.md): the proxy adds <= 2 ms to the median TTFB and no throughput loss a
user could notice.

Usage: .venv/bin/python benchmarks/proxy.py [--pairs 400] [--mb 32] [--candidates threaded,...]
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import random
import socket
import statistics
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-secret-not-a-real-one"  # noqa: S105 - a stand-in, not a credential
TOKEN = "bench-token-not-a-real-one"  # noqa: S105 - a stand-in, not a credential
CHUNK = 64 * 1024


# --- the upstream (a workspace that streams) -------------------------------------------------


class _Upstream(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # Real servers send each event at once; without this Nagle holds small writes back.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - base signature
        pass

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%b\r\n" % (len(data), data))

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        self.send_response_only(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if url.path.endswith("/long"):
            block = _event_block()
            left = int(query["bytes"])
            while left > 0:
                self._chunk(block[:left])
                left -= len(block)
        else:
            gap = float(query.get("gap_ms", "1")) / 1000
            for i in range(int(query.get("events", "5"))):
                if i:
                    time.sleep(gap)  # tokens arrive spaced out; here the pace is the point
                stamp = time.perf_counter_ns()
                self._chunk(b'data: {"i": %d, "t": %d, "text": "lorem ipsum"}\n\n' % (i, stamp))
        self.wfile.write(b"0\r\n\r\n")


def _event_block() -> bytes:
    event = b'data: {"candidates": [{"content": {"parts": [{"text": "' + b"x" * 200 + b'"}]}}]}\n\n'
    return event * (CHUNK // len(event))


def _serve_upstream(pipe: Connection) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    pipe.send(server.server_address[1])
    pipe.recv()  # until the benchmark says stop
    server.shutdown()
    server.server_close()


# --- the candidates --------------------------------------------------------------------------


def _threaded(upstream: str) -> Callable[[], tuple[int, Callable[[], None]]]:
    def start() -> tuple[int, Callable[[], None]]:
        from dbx_fmapi_claude.agents import proxy

        p = proxy.start(upstream, lambda: TOKEN, SECRET)
        return p.port, p.stop

    return start


def _asyncio(upstream: str) -> Callable[[], tuple[int, Callable[[], None]]]:
    from proxy_asyncio import start_asyncio

    return lambda: start_asyncio(upstream, lambda: TOKEN, SECRET)


def _tcp_relay(upstream: str) -> Callable[[], tuple[int, Callable[[], None]]]:
    from proxy_asyncio import start_tcp_relay

    return lambda: start_tcp_relay(upstream)


# threaded: the product (src/dbx_fmapi_claude/agents/proxy.py); the others: benchmarks/
# proxy_asyncio.py, an asyncio-streams version and a bare TCP relay (the floor for Python).
CANDIDATES: dict[str, Callable[[str], Callable[[], tuple[int, Callable[[], None]]]]] = {
    "threaded": _threaded,
    "asyncio": _asyncio,
    "tcp-relay": _tcp_relay,
}


def _serve_candidate(name: str, upstream: str, pipe: Connection) -> None:
    sys.path.insert(0, str(ROOT / "src"))
    port, stop = CANDIDATES[name](upstream)()
    pipe.send(port)
    while pipe.recv() == "cpu":
        pipe.send(time.process_time())  # the CPU this candidate spent, all threads
    stop()


def _spawn(target: Callable[..., None], *args: object) -> tuple[int, Connection, object]:
    ctx = multiprocessing.get_context("spawn")
    here, there = ctx.Pipe()
    proc = ctx.Process(target=target, args=(*args, there), daemon=True)
    proc.start()
    port = here.recv()
    return port, here, proc


# --- the client ------------------------------------------------------------------------------


class Route:
    def __init__(self, name: str, port: int, headers: dict[str, str]) -> None:
        self.name = name
        self.port = port
        self.headers = {"Content-Type": "application/json", **headers}
        self.conn = http.client.HTTPConnection("127.0.0.1", port)
        self.ttfb: list[float] = []
        self.ttfb_new: list[float] = []
        self.event: list[float] = []
        self.mbps: list[float] = []

    def sse(self, fresh: bool, events: int, gap_ms: float, keep: bool) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port) if fresh else self.conn
        body = b'{"contents": [{"role": "user", "parts": [{"text": "hello"}]}]}'
        t0 = time.perf_counter_ns()
        conn.request("POST", f"/sse?events={events}&gap_ms={gap_ms}", body, self.headers)
        response = conn.getresponse()
        first: int | None = None
        buffer = b""
        lat: list[float] = []
        while data := response.read1(CHUNK):
            now = time.perf_counter_ns()
            first = first or now
            buffer += data
            *events_in, buffer = buffer.split(b"\n\n")
            for raw in events_in:
                lat.append((now - json.loads(raw[len(b"data: ") :])["t"]) / 1e6)
        assert response.status == 200 and first is not None, (self.name, response.status)
        if fresh:
            conn.close()
        if keep:
            (self.ttfb_new if fresh else self.ttfb).append((first - t0) / 1e6)
            if not fresh:
                self.event.extend(lat)

    def long(self, size: int) -> None:
        t0 = time.perf_counter()
        self.conn.request("POST", f"/long?bytes={size}", b"{}", self.headers)
        response = self.conn.getresponse()
        got = 0
        while data := response.read1(CHUNK):
            got += len(data)
        assert got == size, (self.name, got, size)
        self.mbps.append(size / 1e6 / (time.perf_counter() - t0))


def _cpu(pipe: Connection) -> float:
    pipe.send("cpu")
    return float(pipe.recv())


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=400, help="requests per route (ttfb)")
    parser.add_argument("--fresh", type=int, default=150, help="requests per route (ttfb-new)")
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--events", type=int, default=5, help="SSE events per request")
    parser.add_argument("--gap-ms", type=float, default=1.0, help="time between events")
    parser.add_argument("--mb", type=int, default=32, help="size of the long stream")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--candidates", default=",".join(CANDIDATES))
    args = parser.parse_args()

    up_port, up_pipe, _ = _spawn(_serve_upstream)
    upstream = f"http://127.0.0.1:{up_port}/ai-gateway/gemini"
    routes = [Route("direct", up_port, {})]
    pipes = [up_pipe]
    for name in args.candidates.split(","):
        port, pipe, _ = _spawn(_serve_candidate, name, upstream)
        routes.append(Route(name, port, {"x-goog-api-key": SECRET}))
        pipes.append(pipe)
    # `direct` goes to the upstream root; its handler ignores the base path.
    started = time.perf_counter()
    try:
        for fresh, count in ((False, args.pairs), (True, args.fresh)):
            for i in range(args.warmup + count):
                for route in random.sample(routes, len(routes)):
                    route.sse(fresh, args.events, args.gap_ms, keep=i >= args.warmup)
        cpu = [0.0] + [_cpu(pipe) for pipe in pipes[1:]]
        for _ in range(args.rounds):
            for route in random.sample(routes, len(routes)):
                route.long(args.mb * 1_000_000)
        cpu = [0.0] + [_cpu(pipe) - before for pipe, before in zip(pipes[1:], cpu[1:], strict=True)]
    finally:
        for pipe in pipes:
            pipe.send("stop")
    elapsed = time.perf_counter() - started

    direct = routes[0]
    base_ttfb = statistics.median(direct.ttfb)
    print(
        f"{args.pairs} kept-alive + {args.fresh} new-connection requests per route, "
        f"{args.events} events {args.gap_ms:g} ms apart; {args.mb} MB stream x {args.rounds}; "
        f"{elapsed:.1f} s"
    )
    header = (
        f"{'route':<10} {'ttfb p50':>9} {'p99':>7} {'added p50':>10} "
        f"{'new-conn p50':>13} {'p99':>7} {'event p50':>10} {'p99':>7} "
        f"{'MB/s':>7} {'ratio':>6} {'cpu s/GB':>9}"
    )
    print(header)
    print("-" * len(header))
    gigabytes = args.mb * args.rounds / 1000
    for route, seconds in zip(routes, cpu, strict=True):
        mbps = max(route.mbps)
        print(
            f"{route.name:<10} {statistics.median(route.ttfb):9.2f} {_pct(route.ttfb, 99):7.2f} "
            f"{statistics.median(route.ttfb) - base_ttfb:10.2f} "
            f"{statistics.median(route.ttfb_new):13.2f} {_pct(route.ttfb_new, 99):7.2f} "
            f"{statistics.median(route.event):10.2f} {_pct(route.event, 99):7.2f} "
            f"{mbps:7.0f} {mbps / max(direct.mbps):6.2f} {seconds / gigabytes:9.2f}"
        )
    print(
        "times in ms; 'added' = median TTFB minus the direct median (budget: <= 2 ms); "
        "cpu s/GB = the proxy process's CPU time per GB relayed on the long stream"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
