"""MLflow in the fake workspace: the REST API a Databricks workspace serves under
/api/2.0/mlflow/ (and /api/2.0/mlflow-artifacts/, /api/3.0/mlflow/), after the workspace's own
token check.

Two ways to answer: forwarded to a real MLflow tracking server the test started (`MlflowServer`:
`mlflow server`, sqlite backend, loopback; its answers are MLflow's own), or, without one, the
one call doctor makes, `experiments/get-by-name`, from `experiments` (name -> id), with the
error body Databricks gives for a missing experiment.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tests.rig.routing import Request, Response, Route

PREFIXES = ("/api/2.0/mlflow/", "/api/2.0/mlflow-artifacts/", "/api/3.0/mlflow/")
_HOP = {"host", "authorization", "content-length", "connection", "transfer-encoding"}


def is_mlflow_path(path: str) -> bool:
    return path.startswith(PREFIXES)


def forward(
    upstream: str, method: str, raw_path: str, body: bytes, headers: Mapping[str, str]
) -> tuple[int, bytes, dict[str, str], str]:
    """(status, body, headers, content type) of the same request to the MLflow server."""
    req = urllib.request.Request(  # noqa: S310 - a loopback server the test started
        upstream.rstrip("/") + raw_path, data=body if body else None, method=method
    )
    for k, v in headers.items():
        if k.lower() not in _HOP:
            req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:  # noqa: S310
            data, status, got = resp.read(), resp.status, resp.headers
    except urllib.error.HTTPError as exc:
        data, status, got = exc.read(), exc.code, exc.headers
    ctype = got.get("Content-Type") or "application/json"
    return status, data, {}, ctype


def answer(experiments: Mapping[str, str], method: str, path: str, query: Mapping[str, str]) -> Any:
    """(status, body) without a server: get-by-name only."""
    if path == "/api/2.0/mlflow/experiments/get-by-name" and method == "GET":
        name = query.get("experiment_name", "")
        if name in experiments:
            exp = {"experiment_id": experiments[name], "name": name, "lifecycle_stage": "active"}
            return 200, {"experiment": exp}
        return 404, {
            "error_code": "RESOURCE_DOES_NOT_EXIST",
            "message": f"Node named '{name}' does not exist.",
        }
    return 404, {"error_code": "ENDPOINT_NOT_FOUND", "message": f"No API found for '{path}'"}


def handle(req: Request) -> None:
    """Every MLflow path, its bearer already checked by the workspace."""
    ws = req.ws
    if ws.mlflow_upstream:
        status, data, _, ctype = forward(
            ws.mlflow_upstream, req.method, req.h.path, req.body, req.h.headers
        )
        raise Response(status, data, content_type=ctype)
    status, body = answer(ws.mlflow_experiments, req.method, req.path, req.query)
    raise Response(status, body)


ROUTES = [Route("*", prefix + "*", handle) for prefix in PREFIXES]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class MlflowServer:
    """`mlflow server` from the pinned MLflow (sqlite backend, artifacts proxied, loopback)."""

    def __init__(self, venv: Path, root: Path) -> None:
        self.venv, self.root = venv, root
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""

    def start(self) -> MlflowServer:
        self.root.mkdir(parents=True, exist_ok=True)
        port = _free_port()
        env = {
            **os.environ,
            "MLFLOW_DISABLE_TELEMETRY": "true",
            "DO_NOT_TRACK": "true",
            "HOME": str(self.root),
        }
        log = open(self.root / "server.log", "wb")  # noqa: SIM115 - lives as long as the server
        self.proc = subprocess.Popen(  # noqa: S603 - our own pinned program
            [
                str(self.venv / "bin" / "mlflow"),
                "server",
                "--backend-store-uri",
                f"sqlite:///{self.root / 'mlflow.db'}",
                "--artifacts-destination",
                str(self.root / "artifacts"),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                "1",
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 300  # a hang guard: 120 s was not enough at load 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("mlflow server exited: " + self.log()[-2000:])
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=2) as r:  # noqa: S310
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError("mlflow server did not answer /health: " + self.log()[-2000:])

    def log(self) -> str:
        try:
            return (self.root / "server.log").read_text(errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)  # its own session: the server and workers
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None

    def get(self, path: str, **query: str) -> Any:
        from urllib.parse import urlencode

        url = f"{self.url}{path}" + (f"?{urlencode(query)}" if query else "")
        with urllib.request.urlopen(url, timeout=30) as r:  # noqa: S310
            return json.loads(r.read())

    def get_bytes(self, path: str) -> bytes:
        with urllib.request.urlopen(f"{self.url}{path}", timeout=30) as r:  # noqa: S310
            return bytes(r.read())

    def post(self, path: str, body: Any) -> Any:
        req = urllib.request.Request(  # noqa: S310
            f"{self.url}{path}",
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=30) as r:  # noqa: S310
            return json.loads(r.read())
