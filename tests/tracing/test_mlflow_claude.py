"""`--mlflow-experiment` with the real Claude Code and a real MLflow tracking server.

The server (`mlflow server`, the pinned MLflow, sqlite backend, loopback) stands in for the
workspace's MLflow: the fake workspace forwards its MLflow API paths (/api/2.0/mlflow/…,
/api/3.0/mlflow/…) to it after its own token check, as a workspace serves MLflow under its own
host. The hook's tracking URI is then that host as an MLflow server URL
(DBX_FMAPI_MLFLOW_TRACKING_URI), not `databricks`: the workspace's own trace-upload APIs are not
MLflow's open-source ones. Everything before MLflow's request is the product's path: setup's
hook, `dbx-fmapi mlflow-hook`, the token from the real Databricks CLI for the profile.
"""

from __future__ import annotations

import json
import time
import urllib.error
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import mlflow_world
from tests.helpers.mgmt import doctor_json
from tests.helpers.usage_world import pat_setup
from tests.rig.mlflow_api import MlflowServer
from tests.rig.sandbox import Sandbox
from tests.rig.workspace import FakeWorkspace

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

EXPERIMENT = "/Users/test.user@example.com/claude code"
MARKER = "LEAKMARKERMLFLOWQQ"


@pytest.fixture(scope="session")
def mlflow_venv() -> Path:
    return mlflow_world.ensure()


@pytest.fixture
def server(mlflow_venv: Path, tmp_path: Path) -> Iterator[MlflowServer]:
    srv = MlflowServer(mlflow_venv, tmp_path / "mlflow-server").start()
    try:
        yield srv
    finally:
        srv.stop()


def one_tool_call(body: dict[str, Any]) -> str | dict[str, Any]:
    answered = any(
        isinstance(m.get("content"), list)
        and any(isinstance(c, dict) and c.get("type") == "tool_result" for c in m["content"])
        for m in body.get("messages", [])
    )
    if answered:
        return "all done"
    return {"tool_use": {"name": "Bash", "input": {"command": "echo traced", "description": "x"}}}


def spans_of(server: MlflowServer, trace: dict[str, Any]) -> list[tuple[str, str]]:
    """(name, span type) of each span of a trace, from the trace data MLflow stored with it (the
    artifact `traces.json`, read through the server's artifacts REST API)."""
    location = trace["tags"]["mlflow.artifactLocation"].removeprefix("mlflow-artifacts:/")
    path = f"/api/2.0/mlflow-artifacts/artifacts/{location}/traces.json"
    deadline = time.monotonic() + 60  # uploaded right after the trace itself
    while True:
        try:
            raw = server.get_bytes(path)
            break
        except urllib.error.HTTPError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    out = []
    for span in json.loads(raw)["spans"]:
        kind = (span.get("attributes") or {}).get("mlflow.spanType", "")
        out.append((span["name"], json.loads(kind) if kind.startswith('"') else kind))
    return out


def finished_traces(server: MlflowServer) -> dict[str, Any]:
    """The experiment's traces once one is complete (MLflow's hook runs on in the background
    after the turn; at most two minutes)."""
    deadline = time.monotonic() + 120
    traces: dict[str, Any] = {}
    while time.monotonic() < deadline:
        try:
            exp = server.get("/api/2.0/mlflow/experiments/get-by-name", experiment_name=EXPERIMENT)
        except urllib.error.HTTPError:
            time.sleep(0.5)
            continue
        where = {"experiment_id": exp["experiment"]["experiment_id"]}
        traces = server.post(
            "/api/3.0/mlflow/traces/search",
            {"locations": [{"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": where}]},
        )
        done = [t for t in traces.get("traces") or [] if t.get("response_preview")]
        if done:
            return traces
        time.sleep(0.5)
    return traces


def test_a_claude_session_is_traced_into_the_experiment_with_fresh_tokens(
    sandbox: Sandbox,
    claude_bin: str,
    workspace: FakeWorkspace,
    server: MlflowServer,
    mlflow_venv: Path,
) -> None:
    workspace.token_marker = MARKER
    workspace.mlflow_upstream = server.url
    sandbox.env["DBX_FMAPI_MLFLOW_VENV"] = str(mlflow_venv)
    sandbox.env["DBX_FMAPI_MLFLOW_TRACKING_URI"] = workspace.url
    # A personal access token profile: no browser login (the machine-wide login lock stays
    # free); the token still comes through `dbx-fmapi mlflow-hook`'s credential path.
    setup = pat_setup(sandbox, workspace, "--mlflow-experiment", EXPERIMENT)
    assert f"MLflow 3.12.0: {mlflow_venv}" in setup.stdout

    _, report = doctor_json(sandbox)
    checks = {c["id"]: c for c in report["checks"]}
    assert checks["mlflow"]["status"] == "PASS", checks["mlflow"]
    assert checks["mlflow-experiment"]["status"] == "WARN"  # not there before the first trace
    assert "databricks experiments create-experiment" in checks["mlflow-experiment"]["fix"]

    workspace.reply = one_tool_call
    result = sandbox.claude(["-p", "run echo", "--allowedTools", "Bash"], timeout=240)
    assert (result.code, result.stdout.strip()) == (0, "all done"), result

    traces = finished_traces(server)
    [trace] = traces["traces"]
    assert trace["request_preview"] == "run echo" and trace["response_preview"] == "all done"
    assert trace["trace_metadata"]["mlflow.claude_code_version"] == "2.1.332"
    spans = spans_of(server, trace)
    # The turn: the conversation, the model's call that asked for the tool, the tool.
    assert sorted(spans) == [
        ("claude_code_conversation", "AGENT"),
        ("llm", "LLM"),
        ("tool_Bash", "TOOL"),
    ], spans
    mlflow_calls = [
        r for r in workspace.log if r.path.startswith(("/api/2.0/mlflow", "/api/3.0/mlflow"))
    ]
    assert mlflow_calls and all(
        r.token is not None and r.token.state == "valid" for r in mlflow_calls
    )
    leaked = [
        str(p)
        for p in sandbox.root.rglob("*")
        if p.is_file()
        and ".databricks" not in p.parts  # the CLI's token cache
        and p.name != ".databrickscfg"  # the PAT the user put there
        and MARKER.encode() in p.read_bytes()
    ]
    assert leaked == []
