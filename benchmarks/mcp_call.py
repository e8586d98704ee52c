"""MCP tool call benchmark: direct to the workspace vs through the loopback proxy that
`dbx-fmapi run gemini|opencode` starts for the agents' MCP servers, side by side in one run.

The workspace is the tests' fake one (tests/rig/workspace.py) serving a Genie space through the
official MCP SDK; the client is a stdlib MCP client (mcp/probe.py's requests): one session each
way, then `--calls` tools/call requests, interleaved direct/proxy in a shuffled order so machine
drift hits both alike, the first `--warmup` excluded. Budget (shared PRODUCT.md): the proxy adds
<= 2 ms to the median tool call.

Usage: .venv/bin/python benchmarks/mcp_call.py [--calls 300] [--warmup 20]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dbx_fmapi_claude.agents import proxy  # noqa: E402
from tests.rig.workspace import FakeWorkspace  # noqa: E402

SPACE = "01f0c0ffee0000000000000000000001"


class Session:
    def __init__(self, url: str, token: str) -> None:
        self.url, self.token, self.session, self.next_id = url, token, "", 1
        self.post(
            {
                "method": "initialize",
                "params": {
                    "protocolVersion": "2025-06-18",
                    "capabilities": {},
                    "clientInfo": {"name": "bench", "version": "1"},
                },
            }
        )
        self.post({"method": "notifications/initialized"}, note=True)

    def post(self, msg: dict[str, Any], note: bool = False) -> bytes:
        body = {"jsonrpc": "2.0", **msg}
        if not note:
            body["id"] = self.next_id
            self.next_id += 1
        headers = {
            "Authorization": f"Bearer {self.token}",
            "Content-Type": "application/json",
            "Accept": "application/json, text/event-stream",
        }
        if self.session:
            headers["Mcp-Session-Id"] = self.session
            headers["Mcp-Protocol-Version"] = "2025-06-18"
        req = urllib.request.Request(self.url, json.dumps(body).encode(), headers, method="POST")
        with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310 - loopback
            self.session = resp.headers.get("Mcp-Session-Id") or self.session
            return resp.read()

    def call(self) -> float:
        start = time.perf_counter()
        out = self.post(
            {
                "method": "tools/call",
                "params": {"name": f"query_space_{SPACE}", "arguments": {"question": "orders?"}},
            }
        )
        elapsed = time.perf_counter() - start
        assert b"GENIE says" in out, out
        return elapsed * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=300)
    ap.add_argument("--warmup", type=int, default=20)
    args = ap.parse_args()
    with FakeWorkspace() as ws:
        token = ws.issue_token()
        path = f"/api/2.0/mcp/genie/{SPACE}"
        with proxy.start(ws.url, token=lambda: token) as p:
            sessions = {
                "direct": Session(ws.url + path, token),
                "proxy": Session(p.url + path, p.secret),
            }
            order = ["direct", "proxy"] * (args.calls + args.warmup)
            random.shuffle(order)
            times: dict[str, list[float]] = {"direct": [], "proxy": []}
            seen = {"direct": 0, "proxy": 0}
            for name in order:
                ms = sessions[name].call()
                seen[name] += 1
                if seen[name] > args.warmup:
                    times[name].append(ms)
    print(f"{args.calls} tool calls each, interleaved; milliseconds")
    print(f"{'case':<8} {'median':>8} {'p25':>8} {'p75':>8} {'max':>8}")
    for name, xs in times.items():
        q = statistics.quantiles(xs, n=4)
        print(f"{name:<8} {statistics.median(xs):8.2f} {q[0]:8.2f} {q[2]:8.2f} {max(xs):8.2f}")
    added = statistics.median(times["proxy"]) - statistics.median(times["direct"])
    print(f"\nproxy adds per tool call (median): {added:.2f} ms (budget 2)")


if __name__ == "__main__":
    main()
