"""Every benchmark script still starts (`--help`): they import the suite's helpers, which move
(two were broken by a move of tests/ until this test)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# proxy_asyncio.py is a module proxy.py imports (no command line of its own).
SCRIPTS = sorted(p for p in (ROOT / "benchmarks").glob("*.py") if p.stem != "proxy_asyncio")


@pytest.mark.subprocess
@pytest.mark.parametrize("script", SCRIPTS, ids=[s.stem for s in SCRIPTS])
def test_the_benchmark_starts(script: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(script), "--help"],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("usage: "), proc.stdout
