"""Trying it without a Databricks workspace, by hand (docs/try-it.md, linked from the README):
the fake workspace started as that page says (`python3 -m tests.rig.workspace`, the system's
Python, no .venv) answers a request on each agent's route, and starts again on the same port
right after Ctrl-C."""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import socket
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.rig import http as rig_http
from tests.rig.sandbox import REPO_ROOT
from tests.rig.test_demo import plain_python

GPT, GEMINI, CLAUDE = "databricks-gpt-5", "databricks-gemini-2-5-pro", "databricks-claude-haiku-4-5"
SAY_HI = [{"role": "user", "content": "say hi"}]

# One request per agent's route on serving endpoints: (agent, path, body, the answer's text).
AGENT_ROUTES: list[tuple[str, str, dict[str, Any], Any]] = [
    (
        "Claude Code",
        "/serving-endpoints/anthropic/v1/messages",
        {"model": CLAUDE, "max_tokens": 16, "messages": SAY_HI},
        lambda r: r["content"][0]["text"],
    ),
    (
        "Codex",
        "/serving-endpoints/openai/v1/responses",
        {"model": GPT, "input": "say hi", "stream": False},
        lambda r: r["output"][0]["content"][0]["text"],
    ),
    (
        "Gemini CLI",
        f"/serving-endpoints/gemini/v1beta/models/{GEMINI}:generateContent",
        {"contents": [{"role": "user", "parts": [{"text": "say hi"}]}]},
        lambda r: r["candidates"][0]["content"]["parts"][0]["text"],
    ),
    (
        "OpenCode",
        "/serving-endpoints/chat/completions",
        {"model": GPT, "messages": SAY_HI, "stream": False},
        lambda r: r["choices"][0]["message"]["content"],
    ),
]


def start(*args: str) -> tuple[subprocess.Popen[str], str]:
    """`python3 -m tests.rig.workspace ARGS` from the repo root, and its URL (the first line)."""
    proc = subprocess.Popen(
        [plain_python(), "-m", "tests.rig.workspace", *args],
        cwd=REPO_ROOT,
        env={"PATH": os.environ["PATH"], "LANG": "C.UTF-8"},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()
    if not first.startswith("Fake Databricks workspace: "):
        proc.kill()
        _, err = proc.communicate(timeout=30)
        raise AssertionError((first, err, proc.returncode))
    return proc, first.split()[-1]


def stop(proc: subprocess.Popen[str]) -> str:
    """Ctrl-C, as a user stops it; its stderr."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    return err


def token_for(url: str) -> str:
    """A token from the fake workspace's own service principal (client credentials)."""
    resp = rig_http.post(
        f"{url}/oidc/v1/token",
        form={
            "grant_type": "client_credentials",
            "client_id": "test-sp",
            "client_secret": "test-sp-secret",
            "scope": "all-apis",
        },
    )
    assert resp.status == 200, resp.text
    return str(resp.json()["access_token"])


def test_the_standalone_workspace_answers_every_agents_route() -> None:
    proc, url = start("--reply", "pong from the fake workspace")
    try:
        token = token_for(url)
        answers = {}
        for agent, path, body, text in AGENT_ROUTES:
            resp = rig_http.post(url + path, json_body=body, token=token)
            assert resp.status == 200, (agent, resp.status, resp.text)
            answers[agent] = text(resp.json())
    finally:
        err = stop(proc)
    assert answers == dict.fromkeys(
        ("Claude Code", "Codex", "Gemini CLI", "OpenCode"), "pong from the fake workspace"
    )
    assert "Traceback" not in err, err
    assert proc.returncode == 0, err


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_it_starts_again_on_the_same_port_right_after_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    proc, url = start("--port", str(port))
    # A client still connected when the server stops (Claude Code keeps its connection open):
    # the server's side of it lingers in the kernel after the process has gone.
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", "/oidc/.well-known/oauth-authorization-server")
        assert conn.getresponse().read()
        stop(proc)
        assert proc.returncode == 0
        again, url_again = start("--port", str(port))
        try:
            assert url_again == url == f"http://127.0.0.1:{port}"
            meta = rig_http.get(f"{url_again}/oidc/.well-known/oauth-authorization-server")
            assert meta.status == 200
        finally:
            stop(again)
    finally:
        conn.close()


def test_a_port_another_program_listens_on_is_refused_with_one_line() -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        proc = subprocess.run(
            [plain_python(), "-m", "tests.rig.workspace", "--port", str(port)],
            cwd=REPO_ROOT,
            env={"PATH": os.environ["PATH"], "LANG": "C.UTF-8"},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert proc.returncode == 1
    assert proc.stderr == f"port {port} is in use: pick another with --port, or leave it out\n"
    assert proc.stdout == ""


def readme_by_hand() -> tuple[str, str]:
    """The two code blocks of docs/try-it.md (the README's "By hand" link): the first terminal's
    command, the second's."""
    readme = (REPO_ROOT / "README.md").read_text()
    section = readme.split("## Try it without a Databricks workspace", 1)[1].split("\n## ", 1)[0]
    assert "**By hand**" in section and "(docs/try-it.md)" in section
    by_hand = (REPO_ROOT / "docs" / "try-it.md").read_text()
    blocks = [b.split("\n", 1)[1] for b in by_hand.split("```bash")[1:]]
    first, second = (b.split("```", 1)[0] for b in blocks[:2])
    return first.strip(), second


def test_the_readme_by_hand_commands_work_without_a_test_run(
    tmp_path: Path, _claude_bin_path: str | None
) -> None:
    """Pasted as they stand, with a free port and a private folder for 8765 and /tmp/fakebin
    (tests run side by side), the system's Python and PATH, no .venv, no real CLI."""
    if not _claude_bin_path or ".cache" not in Path(_claude_bin_path).parts:
        pytest.skip("the pinned Claude Code is not in .cache: run the suite through ./scripts/test")
    first, second = readme_by_hand()
    port, fakebin = str(free_port()), str(tmp_path / "fakebin")
    first, second = (
        b.replace("8765", port).replace("/tmp/fakebin", fakebin) for b in (first, second)
    )
    assert first.startswith("python3 -m tests.rig.workspace ")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "TMPDIR": str(scratch)}
    if shutil.which("python3", path=env["PATH"]) != plain_python():
        pytest.skip("the system's python3 is older than 3.10")
    server = subprocess.Popen(
        ["bash", "-c", "exec " + first.split("#", 1)[0]],
        cwd=REPO_ROOT,
        env={**env, "HOME": str(tmp_path / "user-home")},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        assert server.stdout.readline() == f"Fake Databricks workspace: http://127.0.0.1:{port}\n"
        proc = subprocess.run(
            ["bash", "-e", "-c", second],
            cwd=REPO_ROOT,
            env={**env, "HOME": str(tmp_path / "user-home")},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        err = stop(server)
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    assert proc.stdout.count("pong") == 1, proc.stdout
    assert "Token       valid" in proc.stdout, proc.stdout
    assert "Traceback" not in err, err
    assert not (tmp_path / "user-home").exists()  # the user's own HOME: never touched


def test_tls_without_trustme_says_what_to_install() -> None:
    python = plain_python()
    if subprocess.run([python, "-c", "import trustme"], capture_output=True).returncode == 0:
        pytest.skip(f"{python} has trustme")
    proc = subprocess.run(
        [python, "-m", "tests.rig.workspace", "--tls"],
        cwd=REPO_ROOT,
        env={"PATH": os.environ["PATH"], "LANG": "C.UTF-8"},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (proc.returncode, proc.stdout) == (1, "")
    assert proc.stderr == (
        "--tls needs the trustme package: python3 -m pip install trustme"
        " (or use .venv/bin/python after ./scripts/test)\n"
    )
