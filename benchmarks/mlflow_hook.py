"""MLflow tracing benchmark: what `--mlflow-experiment`'s Stop hook adds at the end of a turn.

Starts the world of tests/tracing/test_mlflow_claude.py (the fake workspace forwarding its MLflow
API to a real `mlflow server` of the pinned MLflow, a sandbox HOME set up with
`--mlflow-experiment`, the real Claude Code) and times, whole process, alternating run by run:
  with-hook     `claude -p "say hi"` as set up: at the end of the turn, the Stop hook
                (`dbx-fmapi mlflow-hook` -> `mlflow autolog claude stop-hook`) logs one trace
  without-hook  the same run with `--settings '{"disableAllHooks": true}'`
  hook-alone    the hook command by itself, fed a finished session's hook input
Prints each one's minimum, median and maximum wall time, in seconds.

With --serve it writes the three as scripts (printing their paths) instead, and keeps the world
up until interrupted, for timing them with another tool.

Usage: DBX_TEST_CLAUDE_BIN=… DBX_TEST_DATABRICKS_BIN=… .venv/bin/python benchmarks/mlflow_hook.py
       [--runs 10] [--serve]
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

from tests.helpers import mlflow_world  # noqa: E402 - needs the repo root
from tests.rig.mlflow_api import MlflowServer  # noqa: E402
from tests.rig.sandbox import Sandbox  # noqa: E402
from tests.rig.workspace import FakeWorkspace  # noqa: E402

EXPERIMENT = "/Users/bench@example.com/claude"
QUIET = {"DISABLE_AUTOUPDATER": "1", "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1"}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--serve", action="store_true")
    args = ap.parse_args()
    claude = os.environ["DBX_TEST_CLAUDE_BIN"]
    venv = mlflow_world.ensure()
    with tempfile.TemporaryDirectory(prefix="mlflow-bench-") as tmp, FakeWorkspace() as ws:
        server = MlflowServer(venv, Path(tmp) / "server").start()
        try:
            ws.mlflow_upstream = server.url
            sb = Sandbox(Path(tmp) / "sb", claude_bin=claude)
            sb.env.update(
                {"DBX_FMAPI_MLFLOW_VENV": str(venv), "DBX_FMAPI_MLFLOW_TRACKING_URI": ws.url}
            )
            sb.login(ws)
            setup = sb.run(
                ["setup-fmapi-claudecode", "--skip-install", "--host", ws.url, "--shell", "none"]
                + ["--no-verify", "--mlflow-experiment", EXPERIMENT],
                timeout=300,
            )
            assert setup.code == 0, setup
            sb.seed_onboarding()
            first = sb.claude(["-p", "say hi"], timeout=300)  # warm: experiment created
            assert first.code == 0, first
            cfg = json.loads((sb.home / ".config/dbx-fmapi-claude/config.json").read_text())
            hook = cfg["configs"][-1]["mlflow_hook"]
            [transcript] = list((sb.home / ".claude" / "projects").rglob("*.jsonl"))
            payload = json.dumps(
                {"session_id": transcript.stem, "transcript_path": str(transcript)}
            )
            cases = {
                "with-hook": ([claude, "-p", "say hi"], None),
                "without-hook": (
                    [claude, "-p", "say hi", "--settings", '{"disableAllHooks": true}'],
                    None,
                ),
                "hook-alone": (["/bin/sh", "-c", hook], payload),
            }
            if args.serve:
                env = " ".join(f"{k}={shlex.quote(v)}" for k, v in {**sb.env, **QUIET}.items())
                for name, (argv, stdin) in cases.items():
                    feed = f" <<< {shlex.quote(stdin)}" if stdin else ""
                    script = Path(tmp) / f"{name}.sh"
                    script.write_text(
                        f"#!/bin/bash\ncd {shlex.quote(str(sb.home))} && exec env -i {env} "
                        f"{shlex.join(argv)}{feed} >/dev/null\n"
                    )
                    script.chmod(0o755)
                    print(f"{name}: {script}")
                sys.stdout.flush()
                while True:
                    time.sleep(3600)
            times: dict[str, list[float]] = {name: [] for name in cases}
            for _ in range(args.runs):
                for name, (argv, stdin) in cases.items():
                    start = time.perf_counter()
                    r = sb.run(argv, input=stdin, env=QUIET, timeout=300)
                    times[name].append(time.perf_counter() - start)
                    assert r.code == 0, r
            for name, got in times.items():
                print(
                    f"{name:13} min {min(got):.3f}  median {statistics.median(got):.3f}  "
                    f"max {max(got):.3f}  (s, {len(got)} runs)"
                )
            found = server.post("/api/3.0/mlflow/traces/search", {"locations": []})
            print(f"traces logged: {len(found.get('traces') or [])}")
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
