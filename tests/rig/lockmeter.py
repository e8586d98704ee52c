"""Sum up a login-lock log (tests.rig.sandbox.LOGIN_LOCK_LOG_ENV): how many logins took the
machine-wide login lock, how long they held it and waited for it, as a share of the run.

    DBX_TEST_LOGIN_LOCK_LOG=/tmp/lock.log ./scripts/test tests/setup/test_setup.py
    python -m tests.rig.lockmeter /tmp/lock.log [--wall SECONDS]

The run's span is from the first "want" to the last "release" unless --wall gives the wall
time of the whole run (pytest's own figure).
"""

from __future__ import annotations

import argparse
from pathlib import Path


def intervals(text: str) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """(held, waited) intervals, pairing each pid's want/acquire/release in order."""
    open_want: dict[str, float] = {}
    open_held: dict[str, float] = {}
    held: list[tuple[float, float]] = []
    waited: list[tuple[float, float]] = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) != 3:
            continue
        event, when, pid = parts[0], float(parts[1]), parts[2]
        if event == "want":
            open_want[pid] = when
        elif event == "acquire":
            if pid in open_want:
                waited.append((open_want.pop(pid), when))
            open_held[pid] = when
        elif event == "release" and pid in open_held:
            held.append((open_held.pop(pid), when))
    return held, waited


def union(spans: list[tuple[float, float]]) -> float:
    total, end = 0.0, float("-inf")
    for a, b in sorted(spans):
        if b <= end:
            continue
        total += b - max(a, end)
        end = b
    return total


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.rig.lockmeter")
    ap.add_argument("log", type=Path)
    ap.add_argument("--wall", type=float, help="the run's wall time, seconds")
    args = ap.parse_args(argv)
    held, waited = intervals(args.log.read_text())
    if not held:
        print("no logins")
        return 0
    first = min(a for a, _ in held + waited)
    last = max(b for _, b in held)
    wall = args.wall or (last - first)
    busy = union(held)
    print(f"logins: {len(held)}")
    print(f"lock held: {busy:.1f} s of {wall:.1f} s ({100 * busy / wall:.0f} %)")
    print(f"waiting for it: {sum(b - a for a, b in waited):.1f} s summed over logins")
    print(f"mean hold: {sum(b - a for a, b in held) / len(held):.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
