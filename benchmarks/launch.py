"""Launch-overhead benchmark, everything side by side in one run.

Measures, as whole processes, interleaved round-robin so machine drift hits all alike:
  claude-direct    `claude --version`                           (the baseline)
  wrapper-helper   `dbx-fmapi-claude --version`, helper mode, token known valid
  wrapper-static   `dbx-fmapi-claude --version`, static mode, token in settings valid
  seed-wrapper     the seed README's wrapper: read the token from settings.json, one validation
                   request to the workspace (here with 100 ms injected latency, a typical
                   laptop-to-workspace round trip), then `claude --version`
  token-helper     `dbx-fmapi token` with a valid cached token, called again every round (a round
                   takes longer than rejected.FRESH_FOR: it is checked, one request)
  token-new        the same, the token not handed out before (our token record removed first,
                   outside the timing): the normal path, where the rejected-token check adds nothing
  token-again      the same, the token handed out before and last known good long ago (our record
                   aged first, outside the timing): the path with the rejected-token check, one
                   request to the workspace (with the same injected latency as the seed's)
  helper-by-claude the same, run as Claude Code runs it (CLAUDE_CODE_ENTRYPOINT set): it also
                   reads where Claude Code's settings send the token
  otel-end         `dbx-fmapi token --otel-headers` as Claude Code runs its otelHeadersHelper at
                   the shutdown flush of a `claude -p` with --otel-tables: its OTEL_* environment,
                   the token handed out by the apiKeyHelper at the session's start (30 s before:
                   our record aged first, outside the timing), not checked again (it was good
                   minutes ago: commands/token.py OTEL_FRESH_FOR), and taken from the CLI's own
                   token cache without running the CLI (auth/clicache.py)
  otel-quick       the same at the end of a session shorter than rejected.FRESH_FOR (no check)
  quick-claude     a stand-in `claude` that exits at once (`-p hi`): the baseline for the two below
  quick-relay      `dbx-fmapi-claude -p hi` with that stand-in: the relay started (a port, a fork)
  quick-direct     the same with DBX_FMAPI_CLAUDE_RELAY=0 (claude talks to the workspace itself)
  prompt-claude    the real `claude -p hi` answered by the fake workspace, helper mode
  prompt-relay     `dbx-fmapi-claude -p hi`, the real claude behind the relay (whole session)
  prompt-direct    the same with DBX_FMAPI_CLAUDE_RELAY=0
  cli-token        `databricks auth token --profile P -o json` alone (the CLI's own time, which
                   the budget does not count; here it is the rig's fake CLI, a Python program)

Budgets (../shared/PRODUCT.md): wrapper overhead over claude-direct <= 50 ms median; token-helper
minus cli-token <= 50 ms median. Besides wall time, `cpu` is the median user+system time of the
finished process tree (the program and what it ran: for the token cases, the CLI too), which a
busy machine disturbs far less than wall time.

--real-cli uses the real Databricks CLI (DBX_TEST_DATABRICKS_BIN, as ./scripts/test builds it)
instead of the rig's fake. --baseline DIR adds the same wrapper and helper cases for an earlier
release's source tree (e.g. `git worktree add /tmp/base <commit>`), set up in HOMEs of its own
and interleaved with ours, so "before" and "after" are measured side by side in one run.

Usage: .venv/bin/python benchmarks/launch.py [--runs 30]   (after ./scripts/test installed things)
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.rig.sandbox import install_browser, install_fake_databricks  # noqa: E402 - repo root
from tests.rig.workspace import FakeWorkspace  # noqa: E402 - needs the repo root on sys.path

SEED_WRAPPER = textwrap.dedent(
    """\
    import json, os, sys, urllib.request, urllib.error
    settings = os.path.expanduser("~/.claude/settings.json")
    env = json.load(open(settings))["env"]
    host = env["ANTHROPIC_BASE_URL"].split("/serving-endpoints")[0]
    req = urllib.request.Request(host + "/api/2.0/preview/scim/v2/Me")
    req.add_header("Authorization", "Bearer " + env["ANTHROPIC_AUTH_TOKEN"])
    try:
        urllib.request.urlopen(req, timeout=10).read()
    except urllib.error.HTTPError:
        pass  # the seed would refresh here; the benchmark keeps the token valid
    os.execvp("claude", ["claude", *sys.argv[1:]])
    """
)


# What Claude Code 2.1.332 puts in its apiKeyHelper's environment that says who runs it.
BY_CLAUDE = {"CLAUDE_CODE_ENTRYPOINT": "sdk-cli"}


def run_setup(env: dict[str, str], host: str, mode: str, cwd: Path) -> None:
    proc = subprocess.run(
        [
            "setup-fmapi-claudecode",
            "--host",
            host,
            "--token-mode",
            mode,
            "--skip-install",
            "--no-verify",
            "--shell",
            "none",
            "--yes",
        ],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if proc.returncode != 0:
        sys.exit(f"setup failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")


def baseline_scripts(tree: Path, bin_dir: Path) -> None:
    """The release in `tree` as installed scripts: its bin/ files with its src/ first on the
    path, run by this Python (the same interpreter and startup as ours)."""
    for name in ("dbx-fmapi", "dbx-fmapi-claude", "setup-fmapi-claudecode"):
        body = (tree / "bin" / name).read_text().split("\n", 1)[1]
        script = bin_dir / name
        script.write_text(
            f"#!{sys.executable}\nimport sys\nsys.path.insert(0, {str(tree / 'src')!r})\n{body}"
        )
        script.chmod(0o755)
    import compileall

    compileall.compile_dir(tree / "src", quiet=1)  # both sides start from compiled files


def set_up_homes(
    tmp: Path, tag: str, bin_dir: Path, base_env: dict[str, str], login_home: Path, url: str
) -> tuple[dict[str, str], Path, dict[str, str], Path]:
    """A helper-mode HOME and a static-mode HOME for the scripts in `bin_dir`, sharing the CLI
    login made in `login_home`."""
    out: list[tuple[dict[str, str], Path]] = []
    for mode in ("helper", "static"):
        home = tmp / f"{tag}-{mode}-home"
        if home != login_home:
            home.mkdir(exist_ok=True)
            shutil.copytree(login_home / ".databricks", home / ".databricks", dirs_exist_ok=True)
            shutil.copy2(login_home / ".databrickscfg", home / ".databrickscfg")
        env = dict(base_env, HOME=str(home), PATH=f"{bin_dir}:{base_env['PATH']}")
        run_setup(env, url, mode, home)
        out.append((env, home))
    return out[0][0], out[0][1], out[1][0], out[1][1]


def token_record(home: Path) -> Path:
    return home / ".config" / "dbx-fmapi-claude" / "token-state.json"


def forget(home: Path) -> None:
    """The next `dbx-fmapi token` hands out a token it did not hand out before."""
    token_record(home).unlink(missing_ok=True)


def age(home: Path, ok: float = 0.0) -> None:
    """The next `dbx-fmapi token` hands out a token it handed out long ago (it checks it)."""
    import json

    path = token_record(home)
    if not path.exists():
        subprocess.run(["dbx-fmapi", "token"], env=HOMES[home], cwd=home, capture_output=True)
    state = json.loads(path.read_text())
    for entry in state.values():
        if isinstance(entry, dict):
            entry["ok"] = ok
    path.write_text(json.dumps(state))


def session_start(home: Path) -> None:
    """The apiKeyHelper handed the token out when the session started, 30 s ago."""
    age(home, time.time() - 30)


def moment_ago(home: Path) -> None:
    """The apiKeyHelper handed the token out a moment ago (a session of a second)."""
    age(home, time.time())


def otel_env(env: dict[str, str], url: str) -> dict[str, str]:
    """What Claude Code 2.1.332 gives its otelHeadersHelper under --otel-tables (setup's env)."""
    otel = {"OTEL_EXPORTER_OTLP_ENDPOINT": f"{url}/api/2.0/otel", "OTEL_METRICS_EXPORTER": "otlp"}
    return dict(env, **BY_CLAUDE, **otel, OTEL_LOGS_EXPORTER="otlp")


HOMES: dict[Path, dict[str, str]] = {}
OTEL_ARGV = ["dbx-fmapi", "token", "--otel-headers"]


CPU: dict[str, list[float]] = {}


def timed(argv: list[str], env: dict[str, str], cwd: Path, name: str = "") -> float:
    """Wall seconds of one run; its process tree's user+system seconds go to CPU[name]."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    err = proc.stderr.read() if proc.stderr else b""
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{argv} failed: {err.decode(errors='replace')}")
    CPU.setdefault(name, []).append(usage.ru_utime + usage.ru_stime)
    return elapsed


def cli_login(env: dict[str, str], host: str) -> None:
    """`databricks auth login` into the benchmark's HOME (the rig's browser signs in)."""
    subprocess.run(
        ["databricks", "auth", "login", "--host", host, "--profile", "DEFAULT"],
        env=env,
        capture_output=True,
        timeout=60,
        check=True,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--latency", type=float, default=0.100, help="seed's validation round trip")
    ap.add_argument("--real-cli", action="store_true", help="the real Databricks CLI")
    ap.add_argument("--baseline", type=Path, help="an earlier release's source tree")
    args = ap.parse_args()
    real_cli = os.environ.get("DBX_TEST_DATABRICKS_BIN") if args.real_cli else None
    if args.real_cli and not real_cli:
        sys.exit("--real-cli: set DBX_TEST_DATABRICKS_BIN (./scripts/test builds the CLI)")

    claude = os.environ.get("DBX_TEST_CLAUDE_BIN") or shutil.which("claude")
    if not claude:
        sys.exit("set DBX_TEST_CLAUDE_BIN or put claude on PATH (./scripts/test installs it)")
    venv_bin = Path(sys.executable).parent

    with tempfile.TemporaryDirectory(prefix="dbx-bench-") as tmp, FakeWorkspace() as ws:
        home = Path(tmp) / "home"
        bin_dir = Path(tmp) / "bin"
        home.mkdir()
        bin_dir.mkdir()
        os.symlink(claude, bin_dir / "claude")
        if real_cli:
            os.symlink(real_cli, bin_dir / "databricks")
        else:
            install_fake_databricks(bin_dir)
        browser = install_browser(Path(tmp))
        for name in ("dbx-fmapi", "dbx-fmapi-claude", "setup-fmapi-claudecode"):
            os.symlink(venv_bin / name, bin_dir / name)
        (bin_dir / "seed-wrapper").write_text(f"#!{sys.executable}\n{SEED_WRAPPER}")
        (bin_dir / "seed-wrapper").chmod(0o755)
        env = {
            "HOME": str(home),
            "PATH": f"{bin_dir}:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "DISABLE_AUTOUPDATER": "1",
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            "BROWSER": str(browser),
            # The real CLI: tokens in its plaintext file in this HOME, its cache here too.
            "DATABRICKS_AUTH_STORAGE": "plaintext",
            "DATABRICKS_CACHE_DIR": str(Path(tmp) / "cli-cache"),
        }
        cli_login(env, ws.url)
        run_setup(env, ws.url, "helper", home)
        # Static mode (the seed's design) in a second HOME sharing the same CLI login; the seed's
        # wrapper reads its token from that settings file.
        static_home = Path(tmp) / "static-home"
        static_home.mkdir()
        shutil.copytree(home / ".databricks", static_home / ".databricks")
        shutil.copy2(home / ".databrickscfg", static_home / ".databrickscfg")
        static_env = dict(env, HOME=str(static_home))
        run_setup(static_env, ws.url, "static", static_home)
        baseline: dict[str, tuple[list[str], dict[str, str], Path]] = {}
        if args.baseline is not None:
            base_bin = Path(tmp) / "baseline-bin"
            base_bin.mkdir()
            baseline_scripts(args.baseline.resolve(), base_bin)
            b_env, b_home, bs_env, bs_home = set_up_homes(
                Path(tmp), "baseline", base_bin, env, home, ws.url
            )
            baseline = {
                "wrapper-helper@base": (["dbx-fmapi-claude", "--version"], b_env, b_home),
                "wrapper-static@base": (["dbx-fmapi-claude", "--version"], bs_env, bs_home),
                "token-helper@base": (["dbx-fmapi", "token"], b_env, b_home),
                "token-new@base": (["dbx-fmapi", "token"], b_env, b_home),
                "token-again@base": (["dbx-fmapi", "token"], b_env, b_home),
                "helper-by-claude@base": (["dbx-fmapi", "token"], dict(b_env, **BY_CLAUDE), b_home),
                "otel-end@base": (OTEL_ARGV, otel_env(b_env, ws.url), b_home),
                "otel-quick@base": (OTEL_ARGV, otel_env(b_env, ws.url), b_home),
            }
            HOMES[b_home] = b_env
        ws.set_latency("/api/2.0/preview/scim", args.latency)
        quick_bin = Path(tmp) / "quick-bin"
        quick_bin.mkdir()
        (quick_bin / "claude").write_text("#!/bin/sh\nexit 0\n")
        (quick_bin / "claude").chmod(0o755)
        quick_env = dict(env, PATH=f"{quick_bin}:{env['PATH']}")
        direct = {"DBX_FMAPI_CLAUDE_RELAY": "0"}
        relay_cases = {
            "quick-claude": (["claude", "-p", "hi"], quick_env, home),
            "quick-relay": (["dbx-fmapi-claude", "-p", "hi"], quick_env, home),
            "quick-direct": (["dbx-fmapi-claude", "-p", "hi"], dict(quick_env, **direct), home),
            "prompt-claude": (["claude", "-p", "hi"], env, home),
            "prompt-relay": (["dbx-fmapi-claude", "-p", "hi"], env, home),
            "prompt-direct": (["dbx-fmapi-claude", "-p", "hi"], dict(env, **direct), home),
        }

        cases = {
            "claude-direct": (["claude", "--version"], env, home),
            "wrapper-helper": (["dbx-fmapi-claude", "--version"], env, home),
            "wrapper-static": (["dbx-fmapi-claude", "--version"], static_env, static_home),
            "seed-wrapper": (["seed-wrapper", "--version"], static_env, static_home),
            "token-helper": (["dbx-fmapi", "token"], env, home),
            "token-new": (["dbx-fmapi", "token"], env, home),
            "token-again": (["dbx-fmapi", "token"], env, home),
            "helper-by-claude": (["dbx-fmapi", "token"], dict(env, **BY_CLAUDE), home),
            "otel-end": (OTEL_ARGV, otel_env(env, ws.url), home),
            "otel-quick": (OTEL_ARGV, otel_env(env, ws.url), home),
            "cli-token": (
                ["databricks", "auth", "token", "--profile", "DEFAULT", "-o", "json"],
                env,
                home,
            ),
            **relay_cases,
            **baseline,
        }
        HOMES[home] = env
        # Prepared outside the timing: which token record the helper finds.
        preps = {"token-new": forget, "token-again": age, "token-new@base": forget}
        preps["token-again@base"] = age
        for tag in ("", "@base"):
            preps["otel-end" + tag] = session_start
            preps["otel-quick" + tag] = moment_ago
        for name, (argv, e, cwd) in cases.items():  # warm-up: page cache, bytecode
            for _ in range(3):
                if name in preps:
                    preps[name](cwd)
                timed(argv, e, cwd)
        samples: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(args.runs):
            for name, (argv, e, cwd) in cases.items():
                if name in preps:
                    preps[name](cwd)
                samples[name].append(timed(argv, e, cwd, name))
        refreshes = ws.refresh_count()

    med = {k: statistics.median(v) * 1000 for k, v in samples.items()}
    print(f"{args.runs} runs each, interleaved; milliseconds")
    print(f"{'case':20} {'median':>8} {'min':>8} {'p25':>8} {'p75':>8} {'max':>8} {'cpu':>8}")
    for name, vals in samples.items():
        ms = sorted(v * 1000 for v in vals)
        q = statistics.quantiles(ms, n=4)
        cpu = statistics.median(CPU[name][-len(vals) :]) * 1000
        print(
            f"{name:20} {med[name]:8.1f} {ms[0]:8.1f} {q[0]:8.1f} {q[2]:8.1f} {ms[-1]:8.1f} "
            f"{cpu:8.1f}"
        )
    base = med["claude-direct"]
    print()
    print(f"wrapper overhead, helper mode : {med['wrapper-helper'] - base:6.1f} ms (budget 50)")
    print(f"wrapper overhead, static mode : {med['wrapper-static'] - base:6.1f} ms (budget 50)")
    print(f"seed wrapper overhead         : {med['seed-wrapper'] - base:6.1f} ms")
    print(
        f"token helper minus CLI time   : {med['token-new'] - med['cli-token']:6.1f} ms"
        " (budget 50; token-new: the normal path, no check)"
    )
    print(f"seed / ours (launch, helper)  : {med['seed-wrapper'] / med['wrapper-helper']:6.2f}x")
    print(
        f"rejected-token check (token-again - token-new): "
        f"{med['token-again'] - med['token-new']:6.1f} ms, of which the injected round trip "
        f"{args.latency * 1000:.0f} ms"
    )
    print(
        f"relay at launch (quick-relay - quick-direct): "
        f"{med['quick-relay'] - med['quick-direct']:6.1f} ms; wrapper with the relay over claude: "
        f"{med['quick-relay'] - med['quick-claude']:6.1f} ms (budget 50)"
    )
    print(
        f"a whole `-p hi` session behind the relay (prompt-relay - prompt-direct): "
        f"{med['prompt-relay'] - med['prompt-direct']:6.1f} ms"
    )
    if args.baseline is not None:
        for name in (
            "wrapper-helper",
            "wrapper-static",
            "token-helper",
            "token-new",
            "token-again",
            "otel-end",
            "otel-quick",
        ):
            now, then = CPU[name][-args.runs :], CPU[name + "@base"][-args.runs :]
            paired = statistics.median(a / b for a, b in zip(now, then, strict=True) if b)
            print(
                f"{name} ours / baseline : {med[name] / med[name + '@base']:6.2f}"
                f" (cpu, paired: {paired:4.2f})"
            )
    print(f"token refreshes during the run: {refreshes}")


if __name__ == "__main__":
    main()
