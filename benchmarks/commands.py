"""Command start benchmark: our own commands as whole processes, ours beside a --baseline tree.

The commands a user (and the test suite, hundreds of times) starts, each in a HOME of its kind:
  setup-refused   `setup-fmapi-claudecode --host notaurl` in an empty HOME (refused, exit 2)
  setup-help      `setup-fmapi-claudecode --help`
  setup-dry-run   `setup-fmapi-claudecode --host URL … --dry-run` where setup already ran
                  (signs in through the rig's fake Databricks CLI, reads the fake workspace)
  doctor          `dbx-fmapi doctor` where setup ran (its checks ask the CLI and the workspace)
  status          `dbx-fmapi status`
  uninstall       `dbx-fmapi uninstall --dry-run`
  models          `dbx-fmapi models` (the workspace's Claude endpoints)
  mcp-list        `dbx-fmapi mcp list`
  help            `dbx-fmapi --help`

Both trees run as the installed scripts run (their bin/ files, their src/ first on the path, this
Python, compiled first), against one fake workspace, in HOMEs set up by each tree's own setup.

Modes (one per run):
  (default)       `--runs` rounds, interleaved round-robin so drift hits all alike: the median
                  user+system CPU of each process tree (the command and what it ran), and
                  ours / baseline paired per round
  --instructions  each case once under valgrind's callgrind: the instructions our process ran
                  (its children, the fake CLI, not counted); steady on a busy machine
  --importtime    each case once under `python -X importtime`: modules loaded and their total
  --compare       stdout, stderr and exit code of ours and the baseline's, each HOME's path and
                  bin folder written alike: they must be the same bytes

Usage, on a quiet machine, after ./scripts/test installed things:
  git worktree add /tmp/base <commit>
  .venv/bin/python benchmarks/commands.py --baseline /tmp/base [--runs 20]
  .venv/bin/python benchmarks/commands.py --baseline /tmp/base --instructions
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.launch import baseline_scripts, cli_login, run_setup  # noqa: E402 - needs the repo root
from tests.rig.sandbox import install_browser, install_fake_databricks  # noqa: E402
from tests.rig.workspace import FakeWorkspace  # noqa: E402

# name -> (argv after the program, HOME kind: "empty" or "set-up", exit codes it may end with)
CASES: dict[str, tuple[list[str], str, tuple[int, ...]]] = {
    "setup-refused": (["setup-fmapi-claudecode", "--host", "notaurl"], "empty", (2,)),
    "setup-help": (["setup-fmapi-claudecode", "--help"], "empty", (0,)),
    "setup-dry-run": (
        ["setup-fmapi-claudecode", "--host", "{url}", "--skip-install", "--no-verify"]
        + ["--shell", "none", "--yes", "--dry-run"],
        "set-up",
        (0,),
    ),
    "doctor": (["dbx-fmapi", "doctor"], "set-up", (0, 1)),
    "status": (["dbx-fmapi", "status"], "set-up", (0,)),
    "uninstall": (["dbx-fmapi", "uninstall", "--dry-run", "--yes"], "set-up", (0,)),
    "models": (["dbx-fmapi", "models"], "set-up", (0,)),
    "mcp-list": (["dbx-fmapi", "mcp", "list"], "set-up", (0,)),
    "help": (["dbx-fmapi", "--help"], "empty", (0,)),
}


class Side:
    """One tree's scripts and its two HOMEs."""

    def __init__(
        self, tag: str, tree: Path, tmp: Path, env: dict[str, str], login: Path, url: str
    ) -> None:
        self.tag = tag
        self.tmp = tmp
        self.bin = tmp / f"{tag}-bin"
        self.bin.mkdir()
        baseline_scripts(tree, self.bin)
        self.homes = {"empty": tmp / f"{tag}-empty", "set-up": tmp / f"{tag}-home"}
        for home in self.homes.values():
            home.mkdir()
        home = self.homes["set-up"]
        shutil.copytree(login / ".databricks", home / ".databricks")
        shutil.copy2(login / ".databrickscfg", home / ".databrickscfg")
        self.base_env = env
        run_setup(self.env("set-up"), url, "helper", home)

    def env(self, kind: str) -> dict[str, str]:
        env = dict(self.base_env, HOME=str(self.homes[kind]))
        env["PATH"] = f"{self.bin}:{env['PATH']}"
        return env

    def argv(self, case: str, url: str) -> list[str]:
        args = [a.replace("{url}", url) for a in CASES[case][0]]
        return [sys.executable, str(self.bin / args[0]), *args[1:]]

    def run(
        self, case: str, url: str, prefix: tuple[str, ...] = (), flags: tuple[str, ...] = ()
    ) -> tuple[int, str, str]:
        """Exit code, stdout, stderr; `prefix` runs before Python, `flags` are Python's."""
        kind = CASES[case][1]
        python, *argv = self.argv(case, url)
        proc = subprocess.run(
            [*prefix, python, *flags, *argv],
            env=self.env(kind),
            cwd=self.homes[kind],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        return proc.returncode, proc.stdout, proc.stderr

    def alike(self, text: str) -> str:
        """The text with this side's paths written as the other side's (the originals' file
        names are hashes of a path)."""
        for home in self.homes.values():
            text = text.replace(str(home), "<HOME>")
        text = re.sub(r"originals/[0-9a-f]{24}\.json", "originals/<hash>.json", text)
        return text.replace(str(self.bin), "<BIN>")


def cpu(side: Side, case: str, url: str) -> float:
    """User+system seconds of one run's process tree."""
    kind = CASES[case][1]
    proc = subprocess.Popen(
        side.argv(case, url),
        env=side.env(kind),
        cwd=side.homes[kind],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    err = proc.stderr.read() if proc.stderr else b""
    _, status, usage = os.wait4(proc.pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code not in CASES[case][2]:
        sys.exit(f"{side.tag} {case} ended {code}: {err.decode(errors='replace')}")
    return usage.ru_utime + usage.ru_stime


def instructions(side: Side, case: str, url: str) -> int:
    out = side.tmp / "callgrind.out"
    prefix = ("valgrind", "--tool=callgrind", f"--callgrind-out-file={out}")
    code, _, err = side.run(case, url, prefix)
    out.unlink(missing_ok=True)
    found = re.search(r"Collected : (\d+)", err)
    if code not in CASES[case][2] or not found:
        sys.exit(f"{side.tag} {case} under callgrind ended {code}: {err[-2000:]}")
    return int(found.group(1))


def importtime(side: Side, case: str, url: str, keep: Path | None) -> tuple[int, float]:
    """(modules loaded, their total self time in ms) of one run; its report kept in `keep`."""
    code, _, err = side.run(case, url, flags=("-X", "importtime"))
    if keep is not None:
        (keep / f"{side.tag}-{case}.txt").write_text(err)
    rows = [line.split("|") for line in err.splitlines() if line.startswith("import time:")]
    rows = [r for r in rows if len(r) == 3 and r[0].split(":")[1].strip().isdigit()]
    return len(rows), sum(int(r[0].split(":")[1]) for r in rows) / 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--baseline", type=Path, help="an earlier release's source tree")
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--instructions", action="store_true", help="callgrind, once per case")
    mode.add_argument("--importtime", action="store_true", help="-X importtime, once per case")
    mode.add_argument("--compare", action="store_true", help="ours and the baseline's output")
    ap.add_argument("--keep", type=Path, help="with --importtime: a folder for each report")
    ap.add_argument("cases", nargs="*", metavar="CASE", help=f"of {', '.join(CASES)} (default all)")
    args = ap.parse_args()
    if set(args.cases) - set(CASES):
        sys.exit(f"unknown cases: {sorted(set(args.cases) - set(CASES))}")
    if args.compare and args.baseline is None:
        sys.exit("--compare needs --baseline")
    if args.instructions and not shutil.which("valgrind"):
        sys.exit("--instructions needs valgrind")
    cases = args.cases or list(CASES)

    with tempfile.TemporaryDirectory(prefix="dbx-bench-commands-") as name, FakeWorkspace() as ws:
        tmp = Path(name)
        login = tmp / "login"
        tools = tmp / "tools"
        login.mkdir()
        tools.mkdir()
        install_fake_databricks(tools)
        env = {
            "HOME": str(login),
            "PATH": f"{tools}:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "BROWSER": str(install_browser(tmp)),
            "DATABRICKS_AUTH_STORAGE": "plaintext",
            "DATABRICKS_CACHE_DIR": str(tmp / "cli-cache"),
            "PYTHONHASHSEED": "0",
        }
        cli_login(env, ws.url)
        sides = [Side("ours", ROOT, tmp, env, login, ws.url)]
        if args.baseline is not None:
            sides.append(Side("base", args.baseline.resolve(), tmp, env, login, ws.url))

        if args.compare:
            differ = 0
            for case in cases:
                ours, base = (side.run(case, ws.url) for side in sides)
                same = sides[0].alike(str(ours)) == sides[1].alike(str(base))
                differ += not same
                print(f"{case:14} {'same' if same else 'DIFFERENT'} (exit {ours[0]}, {base[0]})")
                if not same:
                    print(f"  ours: {sides[0].alike(str(ours))[:2000]}")
                    print(f"  base: {sides[1].alike(str(base))[:2000]}")
            sys.exit(1 if differ else 0)
        if args.instructions or args.importtime:

            def measure(side: Side, case: str, url: str) -> object:
                if args.instructions:
                    return instructions(side, case, url)
                return importtime(side, case, url, args.keep)

            unit = "instructions" if args.instructions else "(modules, import ms)"
            print(f"{'case':14} " + " ".join(f"{s.tag:>22}" for s in sides) + f"   {unit}")
            for case in cases:
                values = [measure(side, case, ws.url) for side in sides]
                ratio = ""
                if len(values) == 2 and args.instructions:
                    ratio = f"   ours/base {values[0] / values[1]:.2f}"  # type: ignore[operator]
                print(f"{case:14} " + " ".join(f"{str(v):>22}" for v in values) + ratio)
            return

        for side in sides:  # warm-up: page cache, bytecode
            for case in cases:
                cpu(side, case, ws.url)
        samples: dict[tuple[str, str], list[float]] = {}
        start = time.perf_counter()
        for _ in range(args.runs):
            for case in cases:
                for side in sides:
                    samples.setdefault((side.tag, case), []).append(cpu(side, case, ws.url))
        print(f"{args.runs} runs each, interleaved, in {time.perf_counter() - start:.0f} s")
        print(f"{'case':14} {'ours cpu ms':>12} {'base cpu ms':>12} {'ours/base':>10}")
        for case in cases:
            ours = samples[("ours", case)]
            line = f"{case:14} {statistics.median(ours) * 1000:12.1f}"
            if len(sides) == 2:
                base = samples[("base", case)]
                paired = statistics.median(a / b for a, b in zip(ours, base, strict=True) if b)
                line += f" {statistics.median(base) * 1000:12.1f} {paired:10.2f}"
            print(line)


if __name__ == "__main__":
    main()
