"""Stand-ins that answer an agent's `--version` in the real program's words, for the setup (and
doctor) runs that only prepare or check our files around a real agent's run: setup and doctor
ask each chosen agent for its version, and a real Gemini CLI or OpenCode start costs a second
or more of CPU. tests/rig/test_rig_agents.py::test_pinned_versions holds the real programs'
versions to the pins, and the setup and doctor tests about the programs run the real ones."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.rig.agents import agent_version
from tests.rig.sandbox import REPO_ROOT, Sandbox

# What each real program's --version prints, around its version.
VERSION_WORDS = {"codex": "codex-cli {}", "gemini": "{}", "opencode": "{}"}
# scripts/test's variable for each program's pinned version.
PIN_VARIABLES = {
    "codex": "CODEX_VERSION",
    "gemini": "GEMINI_CLI_VERSION",
    "opencode": "OPENCODE_VERSION",
}


def pins(script: Path = REPO_ROOT / "scripts" / "test") -> dict[str, str]:
    """The versions scripts/test installs unless told otherwise (`X_VERSION=${X_VERSION:-1.2}`)."""
    found = {}
    for line in script.read_text().splitlines():
        for name, var in PIN_VARIABLES.items():
            if line.startswith(f"{var}="):
                found[name] = line.split(":-", 1)[1].rstrip("}")
    return found


def version_of(name: str) -> str:
    """The real program's version: its pin (test_pinned_versions holds the real programs to the
    pins), or, with the pin overridden in the environment, the program's own --version."""
    if os.environ.get(PIN_VARIABLES[name]):
        return agent_version(name)
    return pins()[name]


def version_stand_in(sandbox: Sandbox, name: str) -> None:
    """`name` on the sandbox's PATH answers --version as the real program does (nothing else)."""
    sandbox.fake_program(name, f'echo "{VERSION_WORDS[name].format(version_of(name))}"\n')


@contextmanager
def real_after(sandbox: Sandbox, **programs: str) -> Iterator[None]:
    """Stand-ins for `programs` (name=real path) inside the block; the real programs after it,
    at the same place on PATH."""
    for name in programs:
        version_stand_in(sandbox, name)
    yield
    for name, exe in programs.items():
        (sandbox.bin / name).unlink()
        sandbox.link_program(name, exe)
