"""Where the suite's CPU goes, per test: with DBX_TEST_CPU_LOG set (to a file), every test
appends one JSON line: its id, the CPU seconds (user + system) of its xdist worker and of the
programs it started and waited for (agents, the CLI, the product), and its wall seconds.
On a shared machine wall time says little; CPU is what a busy 2-core CI machine runs out of.

    DBX_TEST_CPU_LOG=/tmp/cpu.jsonl bash .ci/run
    python -m tests.rig.cpumeter /tmp/cpu.jsonl [--top 15]

Programs a test's program leaves running (a detached browser, a daemon) are not counted.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CPU_LOG_ENV = "DBX_TEST_CPU_LOG"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[object]:
    log = os.environ.get(CPU_LOG_ENV)
    t0, w0 = os.times(), time.monotonic()
    result = yield
    if not log:
        return result
    t1, w1 = os.times(), time.monotonic()
    row = {
        "id": item.nodeid,
        "self": round(t1.user - t0.user + t1.system - t0.system, 3),
        "children": round(
            t1.children_user - t0.children_user + t1.children_system - t0.children_system, 3
        ),
        "wall": round(w1 - w0, 3),
    }
    with open(log, "a") as f:  # one short line per write: workers do not interleave
        f.write(json.dumps(row) + "\n")
    return result


def summary(rows: list[dict[str, Any]], top: int = 15) -> list[str]:
    """The total, each area's (tests/<area>/) share, and the `top` tests by CPU."""

    def cpu(r: dict[str, Any]) -> float:
        return float(r["self"]) + float(r["children"])

    total = sum(cpu(r) for r in rows)
    lines = [f"tests: {len(rows)}, CPU: {total:.0f} s (programs started: "]
    lines[0] += f"{sum(float(r['children']) for r in rows):.0f} s)"
    areas: dict[str, float] = collections.defaultdict(float)
    for r in rows:
        parts = r["id"].split("::")[0].split("/")
        areas[parts[1] if len(parts) > 2 else parts[0]] += cpu(r)
    for area, seconds in sorted(areas.items(), key=lambda kv: -kv[1]):
        lines.append(f"  {seconds:7.1f} s  {area}")
    lines.append(f"the {top} most CPU:")
    for r in sorted(rows, key=cpu, reverse=True)[:top]:
        lines.append(f"  {cpu(r):6.1f} s CPU {float(r['wall']):6.1f} s wall  {r['id']}")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.rig.cpumeter")
    ap.add_argument("log", type=Path)
    ap.add_argument("--top", type=int, default=15)
    args = ap.parse_args(argv)
    rows = [json.loads(line) for line in args.log.read_text().splitlines() if line.strip()]
    print("\n".join(summary(rows, args.top)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
