"""The real Codex, Gemini CLI and OpenCode against the fake workspace, each with a config the
test writes itself: they answer through the workspace with a valid token and the right model,
and they behave the way the product will rely on (docs/agents.md records each fact).

Every run is isolated (tests/rig/agents.py) and goes through a NetTrap: each test also checks
that the agent reached nothing but the workspace. The run on each agent's serving-endpoints route
also checks that `dbx-fmapi usage` counts it (one row, the tokens the workspace answered with):
an agent start costs seconds of CPU, so one run serves both.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.agent_usage import answered, one_run_counted
from tests.helpers.agent_versions import PIN_VARIABLES, pins
from tests.helpers.programs import token_command
from tests.rig.agent_routes import _tokens
from tests.rig.agents import Agents, NetTrap, codex_toml, opencode_config
from tests.rig.workspace import FakeWorkspace

pytestmark = pytest.mark.e2e

GPT = "databricks-gpt-5"
GEMINI = "databricks-gemini-2-5-pro"
SHELL_PROOF = "rig-tool-ran"


@pytest.fixture
def gateway(workspace: FakeWorkspace) -> FakeWorkspace:
    workspace.ai_gateway = "on"
    return workspace


def command_runs(root: Path) -> list[tuple[str, list[str]]]:
    """(parent process name, argv) of each run of token_command."""
    log = root / "token-command.log"
    if not log.exists():
        return []
    runs = []
    for line in log.read_text().splitlines():
        parent, *argv = line.split("\0")
        runs.append((parent.removeprefix("parent="), argv))
    return runs


# --------------------------------------------------------------------------- Codex


def codex_reply(body: dict[str, Any]) -> str | dict[str, Any]:
    """First turn: run a shell command through whichever shell tool Codex offers; once the
    command's output comes back, answer with it."""
    outputs = [
        i
        for i in body.get("input") or []
        if isinstance(i, dict) and i.get("type") == "function_call_output"
    ]
    if outputs:
        return "tool said: " + json.dumps(outputs[-1].get("output"))
    names = [t.get("name") for t in body.get("tools", [])]
    command = f"echo {SHELL_PROOF} > proof.txt; cat proof.txt"
    if "exec_command" in names:
        return {"tool_use": {"name": "exec_command", "input": {"cmd": command}}}
    if "shell_command" in names:
        return {"tool_use": {"name": "shell_command", "input": {"command": command}}}
    return "no shell tool offered: " + ", ".join(map(str, names))


@pytest.mark.parametrize(
    "base", ["/serving-endpoints/openai/v1", "/ai-gateway/openai/v1", "/ai-gateway/codex/v1"]
)
def test_codex_answers_through_the_workspace(
    agents: Agents, gateway: FakeWorkspace, net_trap: NetTrap, codex_bin: str, base: str
) -> None:
    gateway.reply_text = "pong from the workspace"
    token = gateway.issue_token()
    script = token_command(agents.sandbox.root, [token])
    agents.write_codex_config(
        codex_toml(base_url=gateway.url + base, model=GPT, auth_command=[str(script)])
    )
    result = agents.codex("say hi")
    assert result.code == 0, result
    assert result.stdout.strip() == "pong from the workspace"
    assert "Model metadata" not in result.stderr  # the workspace's /models was understood

    [post] = gateway.requests(f"{base}/responses")
    assert post.method == "POST" and post.status == 200 and post.model == GPT and post.stream
    assert post.token is not None and post.token.valid and post.token.matches(token)
    models = gateway.requests(f"{base}/models")
    assert models and all(r.method == "GET" and r.status == 200 for r in models)
    assert all(r.query.get("client_version") for r in models)
    assert token not in repr(gateway.log)
    assert net_trap.hosts() == []
    if base.startswith("/serving-endpoints/"):  # `dbx-fmapi usage` counts the run
        row = one_run_counted(agents, "codex", GPT)
        assert row["input_tokens"] == _tokens(post.json.get("input")), ("usage", row)


def test_codex_runs_a_tool_and_refreshes_before_each_request(
    agents: Agents, workspace: FakeWorkspace, net_trap: NetTrap, codex_bin: str
) -> None:
    """refresh_interval_ms elapsed: the command runs again before the next request, which
    carries the new token (not the old one, as Claude Code's helper TTL does)."""
    root = agents.sandbox.root
    tokens = [workspace.issue_token() for _ in range(20)]
    script = token_command(root, tokens)
    workspace.reply = codex_reply
    base = workspace.url + "/serving-endpoints/openai/v1"
    agents.write_codex_config(
        codex_toml(base_url=base, model=GPT, auth_command=[str(script)], refresh_interval_ms=1)
    )
    result = agents.codex("run the command", args=["--sandbox", "workspace-write"])
    assert result.code == 0, result
    assert SHELL_PROOF in result.stdout  # the command's output went back to the model
    assert (agents.project / "proof.txt").read_text().strip() == SHELL_PROOF

    def index(req: Any) -> int:
        return next(
            i for i, t in enumerate(tokens) if req.token is not None and req.token.matches(t)
        )

    posts = workspace.requests("/serving-endpoints/openai/v1/responses")
    assert [r.status for r in posts] == [200, 200]
    # The second turn went out with a newer token than the first: the command ran in between.
    first, second = (index(r) for r in posts)
    assert second > first
    assert len(command_runs(root)) > len(posts)  # also before the /models calls
    assert all(r.token is not None and r.token.valid for r in workspace.log)
    assert net_trap.hosts() == []


def test_codex_token_command_runs_without_a_shell_and_again_on_401(
    agents: Agents, workspace: FakeWorkspace, codex_bin: str
) -> None:
    root = agents.sandbox.root
    first, second = workspace.issue_token(), workspace.issue_token()
    script = token_command(root, [first, second])
    args = ["$HOME", "a b", "*", "`id`"]
    workspace.fail("/serving-endpoints/openai/v1/responses", 401, times=1)
    base = workspace.url + "/serving-endpoints/openai/v1"
    agents.write_codex_config(
        codex_toml(base_url=base, model=GPT, auth_command=[str(script), *args])
    )
    result = agents.codex("say hi")
    assert (result.code, result.stdout.strip()) == (0, "pong"), result

    # argv exactly as configured (no expansion, no word splitting), started by codex itself.
    runs = command_runs(root)
    assert runs == [("codex", args), ("codex", args)]
    rejected, retried = workspace.requests("/serving-endpoints/openai/v1/responses")
    assert rejected.status == 401 and rejected.token is not None and rejected.token.matches(first)
    assert retried.status == 200 and retried.token is not None and retried.token.matches(second)
    # The padded output ("  tok  \n\n") became exactly "Bearer tok".
    assert retried.bearer_exact


@pytest.mark.parametrize(
    ("base", "status"), [("/serving-endpoints/openai/v1", 403), ("/ai-gateway/codex/v1", 400)]
)
def test_codex_does_not_refresh_on_a_rejected_token(
    agents: Agents, gateway: FakeWorkspace, codex_bin: str, base: str, status: int
) -> None:
    """Databricks answers a stale token with 403 (serving endpoints) or 400 (AI Gateway), not
    401: Codex fails the turn without running the command again. Only refresh_interval_ms keeps
    its token fresh, so the command must hand out tokens that outlive the interval."""
    root = agents.sandbox.root
    stale, fresh = gateway.issue_token(), gateway.issue_token()
    gateway.revoke_pat(stale)  # revokes this one token
    script = token_command(root, [stale, fresh])
    no_retries = {"request_max_retries": 0, "stream_max_retries": 0}
    agents.write_codex_config(
        codex_toml(
            base_url=gateway.url + base,
            model=GPT,
            auth_command=[str(script)],
            extra_provider=no_retries,
        )
    )
    result = agents.codex("say hi")
    assert result.code == 1, result
    posts = gateway.requests(f"{base}/responses")
    assert [r.status for r in posts] == [status]
    assert len(command_runs(root)) == 1
    assert all(r.token is not None and r.token.state == "revoked" for r in gateway.log)


# --------------------------------------------------------------------------- Gemini CLI


def gemini_reply(body: dict[str, Any]) -> str | dict[str, Any]:
    for content in body.get("contents") or []:
        for part in content.get("parts", []):
            if "functionResponse" in part:
                return "tool said: " + json.dumps(part["functionResponse"])
    names = [
        f.get("name") for t in body.get("tools", []) for f in t.get("functionDeclarations", [])
    ]
    if "run_shell_command" in names:
        command = f"echo {SHELL_PROOF} > proof.txt; cat proof.txt"
        return {"tool_use": {"name": "run_shell_command", "input": {"command": command}}}
    return "no shell tool offered: " + ", ".join(map(str, names))


def test_gemini_answers_through_the_workspace(
    agents: Agents, gateway: FakeWorkspace, net_trap: NetTrap, gemini_bin: str
) -> None:
    """On the serving-endpoints route; the AI Gateway's route is test_gemini_runs_a_tool's."""
    base = "/serving-endpoints/gemini"
    gateway.reply_text = "pong from the workspace"
    token = gateway.issue_token()
    result = agents.gemini(GEMINI, "say hi", base_url=gateway.url + base, api_key=token)
    assert result.code == 0, result
    assert result.stdout.strip() == "pong from the workspace"

    [req] = gateway.log  # one request: no countTokens, no model listing, no routing call
    assert req.method == "POST" and req.status == 200
    assert req.path == f"{base}/v1beta/models/{GEMINI}:streamGenerateContent"
    assert req.query == {"alt": "sse"} and req.model == GEMINI
    assert req.token is not None and req.token.valid and req.token.matches(token)
    assert req.bearer_exact
    # GEMINI_API_KEY_AUTH_MECHANISM=bearer adds Authorization; x-goog-api-key stays.
    assert req.api_key is not None and req.api_key.matches(token)
    assert token not in repr(gateway.log)
    assert net_trap.hosts() == []
    # `dbx-fmapi usage` counts the run
    row = one_run_counted(agents, "gemini", GEMINI)
    assert row["input_tokens"] == _tokens(req.json.get("contents")), ("usage", row)


def test_gemini_runs_a_tool(
    agents: Agents, gateway: FakeWorkspace, net_trap: NetTrap, gemini_bin: str
) -> None:
    """On the AI Gateway's route, which it answers through like the serving endpoints (each
    Gemini CLI start costs seconds of CPU: one run shows both)."""
    gateway.reply = gemini_reply
    base = "/ai-gateway/gemini"
    token = gateway.issue_token()
    result = agents.gemini(
        GEMINI, "run it", base_url=gateway.url + base, api_key=token, args=["--yolo"]
    )
    assert result.code == 0, result
    assert SHELL_PROOF in result.stdout
    assert (agents.project / "proof.txt").read_text().strip() == SHELL_PROOF
    assert [r.status for r in gateway.log] == [200, 200]
    assert all(r.token is not None and r.token.matches(token) for r in gateway.log)
    assert net_trap.hosts() == []

    # The tool's turn and the answer's, nothing else (no countTokens, no model listing, no
    # routing call), each as on the serving endpoints.
    for req in gateway.log:
        assert req.method == "POST" and req.status == 200
        assert req.path == f"{base}/v1beta/models/{GEMINI}:streamGenerateContent", req.path
        assert req.query == {"alt": "sse"} and req.model == GEMINI
        assert req.token is not None and req.token.valid and req.token.matches(token)
        assert req.bearer_exact
        # GEMINI_API_KEY_AUTH_MECHANISM=bearer adds Authorization; x-goog-api-key stays.
        assert req.api_key is not None and req.api_key.matches(token)
    assert token not in repr(gateway.log)


@pytest.mark.parametrize(
    ("base", "status"),
    [("/serving-endpoints/gemini", 403), ("/ai-gateway/gemini", 400), ("401", 401)],
)
def test_gemini_fails_on_a_rejected_key(
    agents: Agents, gateway: FakeWorkspace, gemini_bin: str, base: str, status: int
) -> None:
    """The key is fixed at start: a rejected one ends the run after one request (no retry and
    nothing to refresh it with), whatever the status."""
    token = gateway.issue_token()
    if status == 401:
        base = "/serving-endpoints/gemini"
        gateway.fail(base, 401, times=None)
    else:
        gateway.revoke_access_tokens()
    result = agents.gemini(GEMINI, "say hi", base_url=gateway.url + base, api_key=token)
    assert result.code == 1, result
    assert result.stdout == ""
    assert f"status: {status}" in result.stderr
    assert [r.status for r in gateway.log] == [status]


# --------------------------------------------------------------------------- OpenCode


def test_opencode_answers_through_the_workspace(
    agents: Agents, gateway: FakeWorkspace, net_trap: NetTrap, opencode_bin: str
) -> None:
    """On the serving-endpoints route, the key from the environment ({env:NAME}); the AI
    Gateway's route is test_opencode_reads_its_config_once's."""
    base = "/serving-endpoints"
    gateway.reply_text = "pong from the workspace"
    token = gateway.issue_token()
    config = opencode_config(
        provider="databricks",
        npm="@ai-sdk/openai-compatible",
        base_url=gateway.url + base,
        models=[GPT],
        api_key="{env:DBX_RIG_TOKEN}",
    )
    agents.write_opencode_config(config)
    result = agents.opencode(f"databricks/{GPT}", "say hi", env={"DBX_RIG_TOKEN": token})
    assert result.code == 0, result
    assert result.stdout.strip() == "pong from the workspace"

    reqs = gateway.log
    # The answer, and the session title (small_model: the same model).
    assert reqs and all(r.path == f"{base}/chat/completions" and r.status == 200 for r in reqs)
    assert all(r.model == GPT and r.stream for r in reqs)
    assert all(r.token is not None and r.token.matches(token) and r.bearer_exact for r in reqs)
    assert token not in repr(gateway.log)
    assert net_trap.hosts() == []  # with the plugin SDK pre-seeded: no npm at start
    # `dbx-fmapi usage` counts the run
    row = one_run_counted(agents, "opencode", GPT)
    chats = answered(gateway, "/chat/completions")
    assert row["input_tokens"] in [_tokens(r.json.get("messages")) for r in chats], ("usage", row)


def test_opencode_reads_its_config_once(
    agents: Agents, gateway: FakeWorkspace, net_trap: NetTrap, opencode_bin: str
) -> None:
    """A key file and a header rewritten while OpenCode runs change nothing in that run: the
    next request still carries the values read at start. On the AI Gateway's route, which it
    answers through like the serving endpoints (each OpenCode start costs seconds of CPU: one
    run shows both)."""
    old, new = gateway.issue_token(), gateway.issue_token()
    key_file = agents.sandbox.root / "key"
    key_file.write_text(old)
    base = "/ai-gateway/mlflow/v1"

    def config(value: str) -> dict[str, Any]:
        return opencode_config(
            provider="databricks",
            npm="@ai-sdk/openai-compatible",
            base_url=gateway.url + base,
            models=[GPT],
            api_key="{file:" + str(key_file) + "}",
            headers={"x-rig-config": value},
        )

    path = agents.write_opencode_config(config("first"))
    calls: list[str] = []

    def reply(body: dict[str, Any]) -> str | dict[str, Any]:
        if any(m.get("role") == "tool" for m in body.get("messages", [])):
            return "pong from the workspace"
        if not body.get("tools"):
            return "title"  # the session-title request has no tools
        calls.append("tool")
        key_file.write_text(new)  # mid-session, before the second request
        path.write_text(json.dumps(config("second"), indent=2))
        return {
            "tool_use": {
                "name": "bash",
                "input": {"command": f"echo {SHELL_PROOF}", "description": "Print a word"},
            }
        }

    gateway.reply = reply
    result = agents.opencode(f"databricks/{GPT}", "run it")
    assert result.code == 0, result
    assert result.stdout.strip().endswith("pong from the workspace"), result
    assert calls == ["tool"]
    after = [r for r in gateway.log if any(m.get("role") == "tool" for m in r.json["messages"])]
    assert after, [r.json["messages"][-1] for r in gateway.log]
    tool_output = [m for m in after[0].json["messages"] if m.get("role") == "tool"]
    assert SHELL_PROOF in json.dumps(tool_output)  # the command ran
    for req in after:
        assert req.token is not None and req.token.matches(old), "the key file was read again"
        assert req.headers["x-rig-config"] == "first", "the config was read again"

    # Every request (the answer's turns, and the session title: small_model is the same model)
    # went to the gateway's route, with the key read at start, exactly as a bearer token.
    reqs = gateway.log
    assert reqs and all(r.path == f"{base}/chat/completions" and r.status == 200 for r in reqs)
    assert all(r.model == GPT and r.stream for r in reqs)
    assert all(r.token is not None and r.token.matches(old) and r.bearer_exact for r in reqs)
    assert old not in repr(gateway.log)
    assert net_trap.hosts() == []


# --------------------------------------------------------------------------- versions


def test_pinned_versions(
    agents: Agents, codex_bin: str, gemini_bin: str, opencode_bin: str
) -> None:
    """The binaries the suite runs are the pinned ones, and each answers offline (the stand-ins
    of tests/helpers/agent_versions.py answer --version with the pins)."""
    if any(os.environ.get(v) for v in PIN_VARIABLES.values()):
        pytest.skip("versions overridden in the environment")
    wanted = pins()
    assert set(wanted) == {"codex", "gemini", "opencode"}, wanted
    assert {name: agents.version(name) for name in wanted} == wanted
