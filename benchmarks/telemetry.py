"""Telemetry's cost on a Claude Code session, everything side by side in one run.

Each case is a HOME set up by the product against a fake workspace of its own (the real Claude
Code, the real Databricks CLI with a cached login), then `claude -p "say hi"` timed as a whole
process, the cases interleaved round-robin so machine drift hits all alike:
  off          setup without --otel-tables (the baseline)
  on           --otel-tables, the tables exist and the endpoint answers (metrics and logs)
  spans        --otel-tables --otel-spans on: the same, with Claude Code's spans as well
  drop         --otel-tables, the endpoint closes every connection without an answer
  hang         --otel-tables, the endpoint takes the request and never answers
  refused      --otel-tables, the endpoint moved to a closed port (connection refused) and a
               no-op otelHeadersHelper: what Claude Code's own exporters cost, without ours
  noop         --otel-tables, the endpoint answers, but the otelHeadersHelper is a `printf` of a
               header with no valid token (each export answered 401 at once): everything of `on`
               except our helper's process at the shutdown flush
  w-off, w-on, w-hang
               the same as off, on and hang, launched as `dbx-fmapi-claude -p "say hi"`: claude
               behind the wrapper's relay, which answers the exports on loopback and sends them
               on after claude has exited (agents/claude/relay_child.py). The relay's own CPU is
               not in `cpu` (it outlives claude, adopted by init).

Budgets (../shared/PRODUCT.md): on - off <= 50 ms median; an unreachable or hanging endpoint
delays the end of a run by <= 1 s. The figures go to docs/performance.md. Besides each case's
median, `ratio` is the median over the rounds of that round's run / the first case's run of
the same round (paired: the cases of one round run back to back, so machine drift cancels),
and `cpu` the same for user+system seconds of the finished processes.

Usage (after ./scripts/test installed things; DBX_TEST_CLAUDE_BIN and DBX_TEST_DATABRICKS_BIN
as ./scripts/test sets them), the default cases off,on,spans,hang,refused:
  .venv/bin/python benchmarks/telemetry.py --runs 20
and the wrapper's beside plain claude's:
  .venv/bin/python benchmarks/telemetry.py --runs 20 --cases off,on,w-off,w-on,w-hang

`--serve DIR` prepares the cases, writes DIR/run-<case>.sh (`claude -p "say hi"` with that HOME
and environment) and keeps the fake workspaces up until interrupted, so that a whole-process
timer (`/usr/bin/time`, hyperfine, …) can pair them: e.g. run-on.sh against run-off.sh.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.helpers.rejected import logged_in  # noqa: E402
from tests.rig import otlp_api  # noqa: E402 - needs the repo root on sys.path
from tests.rig.sandbox import Result, Sandbox  # noqa: E402
from tests.rig.workspace import FakeWorkspace  # noqa: E402

PREFIX = "main.telemetry.claude"
CASES = ("off", "on", "spans", "drop", "hang", "refused", "noop", "w-off", "w-on", "w-hang")
WRAPPER = "w-"  # the cases launched through dbx-fmapi-claude
DEFAULT_CASES = "off,on,spans,hang,refused"


def prepare(case: str, root: Path, claude: str) -> tuple[Sandbox, FakeWorkspace]:
    ws = FakeWorkspace().start()
    otel = otlp_api.state(ws)
    otel.create_tables(PREFIX)
    kind = case.removeprefix(WRAPPER)
    otel.mode = {"drop": "drop", "hang": "hang"}.get(kind, "answer")
    otel.hang_seconds = 600
    box = Sandbox(root / case, claude_bin=claude)
    logged_in(box, ws)
    extra = [] if kind == "off" else ["--otel-tables", PREFIX]
    if case == "spans":
        extra += ["--otel-spans", "on"]
    setup = box.run(
        ["setup-fmapi-claudecode", "--host", ws.url, "--skip-install", "--no-verify"]
        + ["--shell", "none", *extra],
        timeout=120,
    )
    assert setup.code == 0, setup
    shutdown = os.environ.get("BENCH_OTEL_SHUTDOWN_MS")
    if shutdown and kind != "off":  # try another CLAUDE_CODE_OTEL_SHUTDOWN_TIMEOUT_MS
        path = box.home / ".claude" / "settings.json"
        data = json.loads(path.read_text())
        data["env"]["CLAUDE_CODE_OTEL_SHUTDOWN_TIMEOUT_MS"] = shutdown
        path.write_text(json.dumps(data, indent=2))
    if case == "noop":
        path = box.home / ".claude" / "settings.json"
        data = json.loads(path.read_text())
        data["otelHeadersHelper"] = """printf '{"Authorization": "Bearer none"}'"""
        path.write_text(json.dumps(data, indent=2))
    if case == "refused":
        path = box.home / ".claude" / "settings.json"
        data = json.loads(path.read_text())
        data["env"]["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:9/api/2.0/otel"
        data["otelHeadersHelper"] = "printf '{}'"  # ours refuses another endpoint
        path.write_text(json.dumps(data, indent=2))
    return box, ws


def launch(box: Sandbox, case: str, timeout: float = 180) -> Result:
    """One `-p "say hi"` run of the case: claude, or the wrapper that becomes claude."""
    if case.startswith(WRAPPER):
        return box.run([str(box.bin / "dbx-fmapi-claude"), "-p", "say hi"], timeout=timeout)
    return box.claude(["-p", "say hi"], timeout=timeout)


def serve(cases: list[str], root: Path, claude: str) -> None:
    """Prepare every case, write its run script, keep the workspaces up until interrupted."""
    root.mkdir(parents=True, exist_ok=True)
    boxes = {c: prepare(c, root, claude) for c in cases}
    for c, (box, _) in boxes.items():
        box.seed_onboarding()
        env = box._env(
            {"DISABLE_AUTOUPDATER": "1", "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1"}
        )
        words = " ".join(f"{k}={shlex.quote(v)}" for k, v in sorted(env.items()))
        script = root / f"run-{c}.sh"
        exe = str(box.bin / "dbx-fmapi-claude") if c.startswith(WRAPPER) else claude
        script.write_text(
            f"#!/bin/sh\nexec env -i {words} {shlex.quote(exe)} -p 'say hi' </dev/null\n"
        )
        script.chmod(0o755)
        print(script, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        for _, ws in boxes.values():
            otlp_api.state(ws).release.set()
            ws.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--cases", default=DEFAULT_CASES, help=f"of {','.join(CASES)}")
    parser.add_argument("--serve", metavar="DIR", help="write run scripts, keep serving")
    args = parser.parse_args()
    claude = os.environ.get("DBX_TEST_CLAUDE_BIN")
    if not claude:
        sys.exit("set DBX_TEST_CLAUDE_BIN (./scripts/test prints where it is)")
    cases = [c for c in args.cases.split(",") if c]
    if args.serve:
        serve(cases, Path(args.serve), claude)
        return
    times: dict[str, list[float]] = {c: [] for c in cases}
    cpus: dict[str, list[float]] = {c: [] for c in cases}
    codes: dict[str, set[int]] = {c: set() for c in cases}
    with tempfile.TemporaryDirectory(prefix="bench-telemetry-") as tmp:
        boxes = {c: prepare(c, Path(tmp), claude) for c in cases}
        for c in cases:  # warm-up, not counted
            launch(boxes[c][0], c)
        for _ in range(args.runs):
            for c in cases:
                before = _children_cpu()
                result = launch(boxes[c][0], c)
                cpus[c].append(_children_cpu() - before)
                times[c].append(result.duration)
                codes[c].add(result.code)
        exports = {c: len(otlp_api.state(boxes[c][1]).exports) for c in cases}
        for _, ws in boxes.values():
            otlp_api.state(ws).release.set()
            ws.stop()
    first = cases[0]
    base = statistics.median(times[first])
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"claude -p 'say hi', {args.runs} runs each, interleaved (seconds); load now {load}")
    print(
        f"{'case':<9} {'min':>7} {'median':>7} {'max':>7} {'vs ' + first:>9} {'ratio':>6} "
        f"{'cpu':>5}  exit  exports"
    )
    for c in cases:
        t = times[c]
        med = statistics.median(t)
        ratio = statistics.median(a / b for a, b in zip(t, times[first], strict=True))
        cpu = statistics.median(
            a / b if b else 1.0 for a, b in zip(cpus[c], cpus[first], strict=True)
        )
        print(
            f"{c:<9} {min(t):7.3f} {med:7.3f} {max(t):7.3f} {1000 * (med - base):+8.0f}ms "
            f"{ratio:6.3f} {cpu:5.2f}  {sorted(codes[c])}  {exports[c]}"
        )


def _children_cpu() -> float:
    """User + system seconds of this process's finished children so far."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    main()
