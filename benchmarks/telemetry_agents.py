"""Telemetry's cost on a Codex, Gemini CLI or OpenCode session run by `dbx-fmapi run`, the cases
side by side in one run (interleaved round-robin so machine drift hits all alike). Each case is a
HOME set up by the product against a fake workspace of its own (the real agent, the real
Databricks CLI with a cached login), then the agent's one-prompt run timed as a whole process:
  off     setup without --otel-tables (the baseline)
  on      --otel-tables, the tables exist and the endpoint answers
  drop    --otel-tables, the endpoint closes every connection without an answer
  hang    --otel-tables, the endpoint takes the request and never answers

The agent's exports are answered by the OTLP proxy on loopback (agents/otelproxy.py), so only
the proxy's drain at the end (at most 1 s) can show. Figures: docs/telemetry-agents.md.

Usage: .venv/bin/python benchmarks/telemetry_agents.py codex|gemini|opencode [--runs 7]
(DBX_TEST_{CODEX,GEMINI,OPENCODE}_BIN, DBX_TEST_CLAUDE_BIN and DBX_TEST_DATABRICKS_BIN as
./scripts/test sets them)
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.helpers.agent_users import (  # noqa: E402
    CODEX_USER,
    GPT,
    gemini_env,
    link,
    users_gemini_settings,
)
from tests.helpers.rejected import logged_in  # noqa: E402
from tests.rig import otlp_api  # noqa: E402 - needs the repo root on sys.path
from tests.rig.agents import Agents, seed_opencode_plugin  # noqa: E402
from tests.rig.sandbox import Sandbox  # noqa: E402
from tests.rig.workspace import FakeWorkspace  # noqa: E402

PREFIX = "main.telemetry.agents"
CASES = ("off", "on", "drop", "hang")
RUN = {
    "codex": ["exec", "--skip-git-repo-check", "say hi"],
    "gemini": ["-p", "say hi"],
    "opencode": ["run", "say hi"],
}


def prepare(
    agent: str, case: str, root: Path, claude: str
) -> tuple[Sandbox, FakeWorkspace, Agents, dict]:
    ws = FakeWorkspace().start()
    otel = otlp_api.state(ws)
    otel.create_tables(PREFIX)
    otel.mode = {"drop": "drop", "hang": "hang"}.get(case, "answer")
    otel.hang_seconds = 600
    box = Sandbox(root / case, claude_bin=claude)
    agents = Agents(box)
    link(box, agent, os.environ[f"DBX_TEST_{agent.upper()}_BIN"])
    logged_in(box, ws)
    extra = [] if case == "off" else ["--otel-tables", PREFIX]
    if agent == "codex":
        agents.write_codex_config(CODEX_USER)
        env = agents.codex_env()
        extra += ["--codex-model", GPT]
    elif agent == "gemini":
        users_gemini_settings(agents)
        env = gemini_env(agents)
    else:
        path = agents.xdg["XDG_CONFIG_HOME"] / "opencode" / "opencode.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text('{"autoupdate": false, "share": "disabled"}\n')
        seed_opencode_plugin(path.parent, agents.version("opencode"))
        env = agents.opencode_env()
        extra += ["--opencode-model", GPT]
    setup = box.run(
        ["setup-fmapi-claudecode", "--host", ws.url, "--skip-install", "--no-verify"]
        + ["--shell", "none", "--agents", f"claude,{agent}", *extra],
        env=env,
        timeout=120,
    )
    assert setup.code == 0, setup
    return box, ws, agents, env


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("agent", choices=sorted(RUN))
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--cases", default=",".join(CASES))
    args = parser.parse_args()
    claude = os.environ.get("DBX_TEST_CLAUDE_BIN")
    if not claude:
        sys.exit("set DBX_TEST_CLAUDE_BIN (./scripts/test prints where it is)")
    cases = [c for c in args.cases.split(",") if c]
    times: dict[str, list[float]] = {c: [] for c in cases}
    codes: dict[str, set[int]] = {c: set() for c in cases}
    argv = ["dbx-fmapi", "run", args.agent, *RUN[args.agent]]
    with tempfile.TemporaryDirectory(prefix="bench-telemetry-agents-") as tmp:
        boxes = {c: prepare(args.agent, c, Path(tmp), claude) for c in cases}
        for c in cases:  # warm-up, not counted
            box, _, agents, env = boxes[c]
            box.run(argv, env=env, cwd=agents.project, timeout=300)
        for _ in range(args.runs):
            for c in cases:
                box, _, agents, env = boxes[c]
                result = box.run(argv, env=env, cwd=agents.project, timeout=300)
                times[c].append(result.duration)
                codes[c].add(result.code)
        exports = {c: len(otlp_api.state(boxes[c][1]).exports) for c in cases}
        for _, ws, _, _ in boxes.values():
            otlp_api.state(ws).release.set()
            ws.stop()
    base = statistics.median(times[cases[0]])
    print(
        f"dbx-fmapi run {args.agent} {' '.join(RUN[args.agent])!r}, {args.runs} runs each,"
        " interleaved (seconds)"
    )
    print(f"{'case':<9} {'min':>7} {'median':>7} {'max':>7} {'vs ' + cases[0]:>9}  exit  exports")
    for c in cases:
        t = times[c]
        med = statistics.median(t)
        print(
            f"{c:<9} {min(t):7.3f} {med:7.3f} {max(t):7.3f} {1000 * (med - base):+8.0f}ms"
            f"  {sorted(codes[c])}  {exports[c]}"
        )


if __name__ == "__main__":
    main()
