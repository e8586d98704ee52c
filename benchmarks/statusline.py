"""Status line benchmark: `dbx-fmapi statusline` against a bare Python start, side by side.

Measures whole processes, interleaved round-robin so machine drift hits all alike:
  python-start      `python -c pass` with the same interpreter (the baseline)
  statusline        `dbx-fmapi statusline` as Claude Code runs it on a refresh: the JSON on
                    stdin, the session's transcript already read once (its cache is warm), the
                    day's summary fresh, prices and a budget set
  statusline-new    the same after one more answer was written (as on a refresh mid-session:
                    the new lines are read, the caches written)
  statusline-cold   the same with the session's cache removed before each run: the whole
                    transcript of a long session (SESSION answers) is read

The HOME holds a month of records: DAYS x SESSIONS_PER_DAY Claude Code sessions of ANSWERS
answers each (the summary, refreshed in the background, reads those; the status line does not).

Budget (../shared/PRODUCT.md): statusline <= python-start + 10 ms median; no network.

Usage: .venv/bin/python benchmarks/statusline.py [--runs 40]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.helpers.usage_world import PRICES, SONNET, claude_line  # noqa: E402 - needs the repo root

DAYS, SESSIONS_PER_DAY, ANSWERS, SESSION = 20, 5, 100, 2000
USAGE = {
    "input_tokens": 12,
    "output_tokens": 400,
    "cache_read_input_tokens": 40_000,
    "cache_creation_input_tokens": 2_000,
}


def write_session(path: Path, session: str, answers: int, start: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as f:
        for i in range(answers):
            user = {"type": "user", "sessionId": session, "message": {"content": "x" * 200}}
            f.write(json.dumps(user) + "\n")
            line = claude_line(f"msg_{session}_{i}", SONNET, USAGE, start + i, session)
            f.write(json.dumps(line) + "\n")


def build_home(root: Path) -> tuple[dict[str, str], str]:
    home = root / "home"
    projects = home / ".claude" / "projects" / "-work-project"
    now = time.time()
    for day in range(DAYS):
        for s in range(SESSIONS_PER_DAY):
            name = f"d{day}s{s}"
            write_session(projects / f"{name}.jsonl", name, ANSWERS, now - day * 86400 - 3600)
    current = projects / "current.jsonl"
    write_session(current, "current", SESSION, now - 7200)
    config = home / ".config" / "dbx-fmapi-claude"
    config.mkdir(parents=True, exist_ok=True)
    prices = dict(PRICES, budget={"monthly": 500, "warn": 80})
    (config / "prices.json").write_text(json.dumps(prices))
    env = {
        "HOME": str(home),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
    }
    payload = {
        "session_id": "current",
        "transcript_path": str(current),
        "model": {"id": SONNET, "display_name": "Sonnet 4.5"},
        "cost": {"total_cost_usd": 1.0},
    }
    return env, json.dumps(payload)


def timed(argv: list[str], env: dict[str, str], stdin: str) -> tuple[float, float]:
    """(wall seconds, CPU seconds: user + system of the process)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    proc.stdin.write(stdin.encode())
    proc.stdin.close()
    proc.stdout.read()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{argv} failed: {err.decode()}")
    return elapsed, usage.ru_utime + usage.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=40)
    args = ap.parse_args()
    py = sys.executable
    exe = str(Path(py).parent / "dbx-fmapi")
    root = Path(tempfile.mkdtemp(prefix="bench-statusline-"))
    try:
        env, payload = build_home(root)
        config = Path(env["HOME"]) / ".config" / "dbx-fmapi-claude"
        # The summary, as the background refresh writes it (timed once, for the record).
        start = time.perf_counter()
        subprocess.run(
            [py, "-m", "dbx_fmapi_claude.usage.refresh", str(config), str(config / "prices.json")],
            env=env,
            check=True,
        )
        refresh_s = time.perf_counter() - start
        line = subprocess.run(
            [exe, "statusline"], input=payload, env=env, capture_output=True, text=True
        ).stdout.strip()
        cases = {
            "python-start": ([py, "-c", "pass"], None),
            "statusline": ([exe, "statusline"], None),
            "statusline-new": ([exe, "statusline"], None),
            "statusline-cold": ([exe, "statusline"], config / "statusline-sessions"),
        }
        current = Path(json.loads(payload)["transcript_path"])
        added = 0
        samples: dict[str, list[float]] = {k: [] for k in cases}
        cpu: dict[str, list[float]] = {k: [] for k in cases}
        for _ in range(args.runs):
            for name, (argv, wipe) in cases.items():
                if wipe is not None:
                    shutil.rmtree(wipe, ignore_errors=True)
                if name == "statusline-new":
                    added += 1
                    with current.open("a") as f:
                        line_ = claude_line(f"msg_new_{added}", SONNET, USAGE, time.time())
                        f.write(json.dumps(line_) + "\n")
                # The summary stays fresh: the status line never waits on a refresh anyway.
                summary = config / "usage-summary.json"
                data = json.loads(summary.read_text())
                data["written"] = time.time()
                summary.write_text(json.dumps(data))
                wall, used = timed(argv, env, payload)
                samples[name].append(wall)
                cpu[name].append(used)
        med = {k: statistics.median(v) * 1000 for k, v in samples.items()}
        records = DAYS * SESSIONS_PER_DAY * ANSWERS + SESSION
        print(f"status line: {line}")
        print(f"{args.runs} runs each, interleaved; HOME with {records} answers this month")
        for name, ms in med.items():
            q = statistics.quantiles([s * 1000 for s in samples[name]], n=4)
            c = statistics.median(cpu[name]) * 1000
            print(
                f"  {name:16} median {ms:7.1f} ms   (quartiles {q[0]:.1f} .. {q[2]:.1f})   "
                f"CPU {c:.1f} ms"
            )
        over = med["statusline"] - med["python-start"]
        cold = med["statusline-cold"] - med["python-start"]
        new = med["statusline-new"] - med["python-start"]
        print(f"statusline over a Python start: {over:+.1f} ms median (budget +10 ms)")
        cpu_over = statistics.median(cpu["statusline"]) - statistics.median(cpu["python-start"])
        print(f"  in CPU time (less sensitive to a busy machine): {cpu_over * 1000:+.1f} ms")
        print(f"  after a new answer: {new:+.1f} ms")
        print(f"  first refresh of a {SESSION}-answer session: {cold:+.1f} ms")
        print(f"background summary of the month (not on the status line's path): {refresh_s:.2f} s")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
