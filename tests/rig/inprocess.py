"""Our own commands run inside the test process, for a step a test needs done but is not about
(the setup before a doctor check, say): the same code as the installed program, without a
Python start and the imports (about 0.2 CPU-s a run). The sandbox's environment, folder, stdin
and file descriptors are the program's for the call, so what the command starts (the CLI, the
helper) sees what it would see under Sandbox.run; everything is restored after.

Not for tests of the program itself: its start, its exit, its signals and its interplay with a
terminal are the process's, and a command that replaces itself (`dbx-fmapi-claude`, `run`)
would replace the test.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from tests.rig.sandbox import Result, Sandbox

# program -> (module, function): the entry points of pyproject.toml that run a command and
# return (never exec another program).
ENTRY = {
    "dbx-fmapi": ("dbx_fmapi_claude.cli.main", "main"),
    "setup-fmapi-claudecode": ("dbx_fmapi_claude.cli.main", "setup_main"),
}
_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGPIPE)
# Commands that replace the process (an agent) or fork: always a program.
REPLACING = {"run", "mlflow-hook"}
# Set to 1: every such step runs as a program again (Sandbox.run), to compare.
PROGRAMS_ONLY_ENV = "DBX_TEST_PROGRAMS_ONLY"


@contextlib.contextmanager
def _as_the_program(
    env: Mapping[str, str], cwd: str, argv0: str, files: tuple[IO[bytes], IO[bytes], IO[bytes]]
) -> Iterator[None]:
    """os.environ, the folder, sys.argv[0], fds 0-2 (`files`) and sys.std* as the program
    would have them."""
    saved_env = dict(os.environ)
    saved_cwd = os.getcwd()
    saved_argv = list(sys.argv)
    saved_streams = (sys.stdin, sys.stdout, sys.stderr)
    saved_handlers = {s: signal.getsignal(s) for s in _SIGNALS}
    saved_fds = [os.dup(fd) for fd in (0, 1, 2)]
    saved_tempdir = tempfile.tempdir
    _forget_environment(None)  # the program builds its own from its environment
    try:
        for stream in saved_streams:
            with contextlib.suppress(Exception):
                stream.flush()
        for fd, file in enumerate(files):
            os.dup2(file.fileno(), fd)
        sys.stdin = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115 - restored below
        sys.stdout = open(1, "w", encoding="utf-8", errors="replace", closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", encoding="utf-8", errors="replace", closefd=False)  # noqa: SIM115
        os.environ.clear()
        os.environ.update(env)
        os.chdir(cwd)
        sys.argv = [argv0]
        yield
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        sys.stdin, sys.stdout, sys.stderr = saved_streams
        for fd, saved in enumerate(saved_fds):
            os.dup2(saved, fd)
            os.close(saved)
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
        sys.argv = saved_argv
        for s, handler in saved_handlers.items():
            if handler is not None:
                signal.signal(s, handler)
        # What a process would forget when it exits: the profiles it logged into, and what the
        # standard library read once from the program's environment: urlopen's opener (its
        # proxies: a sandbox's HTTP_PROXY would otherwise send this process's later requests to
        # a catcher long gone) and tempfile's folder (the sandbox's TMPDIR).
        policy = sys.modules.get("dbx_fmapi_claude.auth.loginpolicy")
        if policy is not None:
            policy.LOGGED_IN.clear()
        _forget_environment(saved_tempdir)


def _forget_environment(tempdir: str | None) -> None:
    """Reset the standard library's caches of environment variables (see _as_the_program)."""
    request = sys.modules.get("urllib.request")
    if request is not None:
        request.install_opener(None)  # type: ignore[arg-type]
    tempfile.tempdir = tempdir


def run_in_process(
    box: Sandbox,
    argv: list[str],
    *,
    input: str | None = None,
    env: Mapping[str, str | None] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    timeout: float = 120,
) -> Result:
    """Sandbox.run(argv) for one of ENTRY's programs, inside this process (see the module).
    Sandbox.run itself when PATH finds no such program or another one than ours (a test's
    stand-in), and with DBX_TEST_PROGRAMS_ONLY=1. `timeout` is for those program runs."""
    import importlib

    from tests.rig.sandbox import Result

    if os.environ.get(PROGRAMS_ONLY_ENV) == "1":
        return box.run(argv, input=input, env=env, cwd=cwd, timeout=timeout)

    program = argv[0]
    if program not in ENTRY:  # another program (the wrapper, an agent): run it
        return box.run(argv, input=input, env=env, cwd=cwd, timeout=timeout)
    module, function = ENTRY[program]
    full_env = box._env(env)
    exe = shutil.which(program, path=full_env.get("PATH", ""))
    ours = os.path.join(os.path.dirname(sys.executable), program)
    if (
        exe is None
        or os.path.realpath(exe) != os.path.realpath(ours)
        or (len(argv) > 1 and argv[1] in REPLACING)
    ):
        # Not on PATH, or a test's own program by that name: what a program run would meet.
        return box.run(argv, input=input, env=env, cwd=cwd, timeout=timeout)
    entry = getattr(importlib.import_module(module), function)
    start = time.monotonic()
    code = 0
    with tempfile.TemporaryFile() as inp, tempfile.TemporaryFile() as out:
        with tempfile.TemporaryFile() as err:
            inp.write((input or "").encode())
            inp.seek(0)
            with _as_the_program(full_env, str(cwd or box.home), exe, (inp, out, err)):
                try:
                    entry(list(argv[1:]))
                except SystemExit as stop:
                    code = stop.code if isinstance(stop.code, int) else int(stop.code is not None)
            err.seek(0)
            stderr = err.read().decode("utf-8", "replace")
        out.seek(0)
        stdout = out.read().decode("utf-8", "replace")
    return Result(code, stdout, stderr, list(argv), time.monotonic() - start)
