"""The in-process runner (tests/rig/inprocess.py): a command run inside the test process leaves
nothing of its environment behind, and says what the program says."""

from __future__ import annotations

import http.server
import os
import tempfile
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.rig.inprocess import _as_the_program
from tests.rig.sandbox import Sandbox


class _Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the standard library's name
        self.send_response(200)
        self.send_header("content-length", "5")
        self.end_headers()
        self.wfile.write(b"hello")

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def hello() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_what_a_command_read_from_its_environment_is_forgotten_after_it(
    tmp_path: Path, hello: str
) -> None:
    """A command that made a request in a sandbox with a proxy for everything but loopback (the
    rig's egress catcher) must not leave urlopen's opener with that proxy: this process's later
    requests to loopback would go to a catcher long gone (connection refused). Nor the
    sandbox's TMPDIR as tempfile's folder."""
    files = [open(tmp_path / name, "w+b") for name in ("in", "out", "err")]  # noqa: SIM115
    tempdir_before = tempfile.gettempdir()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HTTP_PROXY": "http://127.0.0.1:9",
        "http_proxy": "http://127.0.0.1:9",
        "NO_PROXY": "127.0.0.1",
        "no_proxy": "127.0.0.1",
        "TMPDIR": str(tmp_path),
    }
    try:
        with _as_the_program(env, str(tmp_path), "program", (files[0], files[1], files[2])):
            with urllib.request.urlopen(hello, timeout=30) as resp:  # noqa: S310 - loopback
                assert resp.read() == b"hello"  # no proxy for loopback, as the program says
            assert tempfile.gettempdir() == str(tmp_path)
    finally:
        for f in files:
            f.close()
    assert "HTTP_PROXY" not in os.environ and "no_proxy" not in os.environ
    with urllib.request.urlopen(hello, timeout=30) as resp:  # noqa: S310 - loopback
        assert resp.read() == b"hello"
    assert tempfile.gettempdir() == tempdir_before


def test_a_command_in_process_says_what_the_program_says(sandbox: Sandbox) -> None:
    for argv in (["dbx-fmapi", "status"], ["setup-fmapi-claudecode", "--host", "notaurl"]):
        program = sandbox.run(argv)
        here = sandbox.run_here(argv)
        assert (here.code, here.stdout, here.stderr) == (
            program.code,
            program.stdout,
            program.stderr,
        ), argv
