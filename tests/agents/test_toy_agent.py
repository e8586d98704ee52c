"""A new agent is one package plus one registry line: a copy of dbx_fmapi_claude, installed in a
throwaway environment, gets a toy agent (agents/toy/, a JSON config file of its own, and the line
in agents/__init__.py MODULES) and nothing else; the toy then shows in `--help` (its model flag,
`--agents`, `run`), setup (a dry run, then a real one), the record's checks, `status`, `doctor`,
`dbx-fmapi models --validate` and `uninstall`, which takes its file back out. An agent without an
MCP writer or a usage reader is skipped by `dbx-fmapi mcp` and `dbx-fmapi usage`; one that declares
them (`Agent.mcp`, `Agent.usage_source`) gets its servers, its usage counted and its servers taken
back out by uninstall, with no other line anywhere."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import dbx_fmapi_claude
from tests.rig.sandbox import ENTRY_POINTS, Sandbox
from tests.rig.workspace import FakeWorkspace

PACKAGE = Path(dbx_fmapi_claude.__file__).parent
BIN = Path(__file__).resolve().parent.parent.parent / "bin"
MODEL = "databricks-gpt-5-mini"
SPACE = "01f0c0ffee0000000000000000000001"

TOY = '''"""Toy Agent: ~/.toy/config.json gets a provider on the workspace's chat route."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ...core.paths import Paths
from ..base import AgentSetup
from ..jsonagent import ANY, JsonAgent


class Toy(JsonAgent):
    name = "toy"
    label = "Toy Agent"
    program = "toy-agent"
    api = "chat"  # served on both routes already (workspace/routes.py)
    model_flag = "--toy-model"
    model_default = "the main model"
    launch = "dbx-fmapi run toy"
    home_env = "TOY_HOME"

    def config_file(self, paths: Paths, env: Mapping[str, str]) -> Path:
        return paths.home / ".toy" / "config.json"

    def members(self, s: AgentSetup, provider: str) -> dict[tuple[str, ...], Any]:
        return {("databricks",): {"model": s.model, "baseURL": "{env:TOY_BASE_URL}"}}

    def expected(self, state: Mapping[str, Any]) -> dict[tuple[str, ...], Any]:
        return {("databricks", "model"): ANY}

    def owned(self, state: Mapping[str, Any]) -> list[tuple[str, ...]]:
        return [("databricks",)]

    def launch_env(self, state: Mapping[str, Any], url: str, secret: str) -> dict[str, str]:
        return {"TOY_BASE_URL": url, "TOY_API_KEY": secret}


AGENT = Toy()
'''
# The toy again, with an MCP writer (JSON members under "servers", as Gemini CLI's) and a usage
# reader (~/.toy/usage.jsonl, one line per answer).
TOY_WITH_MCP_AND_USAGE = TOY.replace(
    "from ..jsonagent import ANY, JsonAgent\n",
    "from ..jsonagent import ANY, JsonAgent\n"
    "from ..mcpfiles import JsonMembers\n"
    "from ..usagelog import Reader, Request, json_lines\n",
).replace(
    '    home_env = "TOY_HOME"\n',
    """    home_env = "TOY_HOME"
    mcp = JsonMembers("toy", "Toy Agent", "servers", "http", lambda var: f"${var}")

    @property
    def usage_source(self) -> Reader:
        def read(home: Path, env: Mapping[str, str], since: float) -> Any:
            for item in json_lines(home / ".toy" / "usage.jsonl"):
                yield Request("toy", item["session"], item["model"], item["time"], item["input"])

        return read
""",
)
REGISTRY_LINE = '    "opencode": "dbx_fmapi_claude.agents.opencode.agent",\n'


def _install_copy_with_toy(root: Path, sandbox: Sandbox, toy: str = TOY) -> None:
    """A new environment holding a copy of the package plus the toy, its three programs first
    on the sandbox's PATH (setup records the helper it runs next to its own Python)."""
    env = root / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    site = next((env / "lib").glob("python3*")) / "site-packages"
    copy = site / "dbx_fmapi_claude"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "agents" / "toy").mkdir()
    (copy / "agents" / "toy" / "__init__.py").write_text("")
    (copy / "agents" / "toy" / "agent.py").write_text(toy)
    registry = copy / "agents" / "__init__.py"
    text = registry.read_text()
    assert REGISTRY_LINE in text
    line = '    "toy": "dbx_fmapi_claude.agents.toy.agent",\n'
    registry.write_text(text.replace(REGISTRY_LINE, REGISTRY_LINE + line))
    python = env / "bin" / "python"
    for name in ENTRY_POINTS:
        script = env / "bin" / name
        script.write_text(f"#!{python}\n" + (BIN / name).read_text().split("\n", 1)[1])
        script.chmod(0o755)
        (sandbox.bin / name).unlink()
        (sandbox.bin / name).symlink_to(script)


def _words(text: str) -> str:
    return " ".join(text.split())


def test_a_toy_agent_is_one_package_and_one_registry_line(
    sandbox: Sandbox, workspace: FakeWorkspace, tmp_path: Path
) -> None:
    _install_copy_with_toy(tmp_path / "toy", sandbox)
    toy_file = sandbox.home / ".toy" / "config.json"

    # --help: run's choices, --agents, the toy's own model flag with its help line.
    top = sandbox.run(["dbx-fmapi", "--help"])
    assert top.code == 0 and "(claude, codex, gemini, opencode, toy)" in _words(top.stdout), top
    run_help = sandbox.run(["dbx-fmapi", "run", "--help"])
    assert "{claude,codex,gemini,opencode,toy}" in run_help.stdout, run_help
    for argv in (["dbx-fmapi", "setup", "--help"], ["setup-fmapi-claudecode", "--help"]):
        shown = sandbox.run(argv)
        assert shown.code == 0, shown
        text = _words(shown.stdout)
        assert "--agents claude,codex,gemini,opencode,toy" in text
        assert "--toy-model ID Toy Agent's model (default: the main model)" in text

    sandbox.login(workspace)
    base = ["setup-fmapi-claudecode", "--host", workspace.url, "--shell", "none"]
    base += ["--skip-install", "--no-verify"]

    # setup: a dry run shows the toy's file and writes nothing; the real one writes it.
    before = sandbox.snapshot()
    dry = sandbox.run([*base, "--toy-model", MODEL, "--dry-run"], timeout=120)
    assert dry.code == 0, dry
    assert f"+++ {toy_file}" in dry.stdout and MODEL in dry.stdout
    assert sandbox.snapshot() == before
    done = sandbox.run([*base, "--toy-model", MODEL], timeout=120)
    assert done.code == 0, done
    assert "Toy Agent" in done.output  # its program is not installed: said, and set up anyway
    written = json.loads(toy_file.read_text())
    assert written == {"databricks": {"model": MODEL, "baseURL": "{env:TOY_BASE_URL}"}}

    # The record's checks know the toy (the released package's would call the record damaged).
    status = sandbox.run(["dbx-fmapi", "status", "--json"])
    assert status.code == 0, status
    (row,) = json.loads(status.stdout)["agents"]
    assert (row["name"], row["label"], row["model"], row["file"]) == (
        "toy",
        "Toy Agent",
        MODEL,
        str(toy_file),
    )
    wire = (f"{workspace.url}/serving-endpoints", f"{workspace.url}/ai-gateway/mlflow/v1")
    assert row["base_url"] in wire and row["problem"] is None
    human = sandbox.run(["dbx-fmapi", "status"])
    assert f"Toy Agent: {MODEL} at " in human.stdout, human

    doctor = sandbox.run(["dbx-fmapi", "doctor", "--json"], timeout=120)
    checks = {c["id"]: c for c in json.loads(doctor.stdout)["checks"]}
    assert checks["agent:toy:config"]["title"] == "Toy Agent config"
    assert checks["agent:toy:config"]["status"] == "PASS", checks
    assert checks["agent:toy:binary"]["status"] in ("FAIL", "WARN")  # not installed

    models = sandbox.run(["dbx-fmapi", "models"], timeout=120)
    assert models.code == 0 and "toy" in models.stdout, models

    # `dbx-fmapi mcp` and `dbx-fmapi usage` skip an agent without an MCP writer or a usage
    # reader: Claude Code gets the server, the toy's file stays as it is, and nothing is counted.
    toy_bytes = toy_file.read_bytes()
    added = sandbox.run(["dbx-fmapi", "mcp", "add", "genie", SPACE, "--name", "genie"])
    assert added.code == 0 and "Added MCP server genie" in added.stdout, added
    assert "Toy" not in added.output and toy_file.read_bytes() == toy_bytes
    listed = sandbox.run(["dbx-fmapi", "mcp", "list"])
    assert listed.code == 0 and "genie" in listed.stdout, listed
    usage = sandbox.run(["dbx-fmapi", "usage", "--by", "agent", "--json"])
    assert usage.code == 0 and json.loads(usage.stdout)["rows"] == [], usage

    # uninstall takes the file setup created back out, and the toy's state with the record.
    gone = sandbox.run(["dbx-fmapi", "uninstall", "--yes"], timeout=120)
    assert gone.code == 0, gone
    assert not toy_file.exists()
    after = sandbox.run(["dbx-fmapi", "status", "--json"])
    assert "toy" not in after.stdout, after


def test_a_toy_agent_that_declares_an_mcp_writer_and_a_usage_reader_gets_them_called(
    sandbox: Sandbox, workspace: FakeWorkspace, tmp_path: Path
) -> None:
    _install_copy_with_toy(tmp_path / "toy", sandbox, TOY_WITH_MCP_AND_USAGE)
    toy_file = sandbox.home / ".toy" / "config.json"
    sandbox.login(workspace)
    setup = ["setup-fmapi-claudecode", "--host", workspace.url, "--shell", "none"]
    done = sandbox.run([*setup, "--skip-install", "--no-verify", "--toy-model", MODEL], timeout=120)
    assert done.code == 0, done

    added = sandbox.run(["dbx-fmapi", "mcp", "add", "genie", SPACE, "--name", "genie"])
    assert added.code == 0, added
    assert f"  Toy Agent: {toy_file}, when started with: dbx-fmapi run toy\n" in added.stdout
    assert json.loads(toy_file.read_text())["servers"] == {
        "genie": {
            "type": "http",
            "url": f"$DBX_FMAPI_MCP_URL/api/2.0/mcp/genie/{SPACE}",
            "headers": {"Authorization": "Bearer $DBX_FMAPI_MCP_KEY"},
        }
    }

    answer = {"session": "s1", "model": MODEL, "time": time.time(), "input": 7}
    (sandbox.home / ".toy" / "usage.jsonl").write_text(json.dumps(answer) + "\n")
    usage = sandbox.run(["dbx-fmapi", "usage", "--by", "agent", "--json"])
    assert usage.code == 0, usage
    (row,) = json.loads(usage.stdout)["rows"]
    assert (row["agent"], row["requests"], row["input_tokens"]) == ("toy", 1, 7), row

    # uninstall: the servers out, and the file (which setup created) with them.
    (sandbox.home / ".toy" / "usage.jsonl").unlink()
    gone = sandbox.run(["dbx-fmapi", "uninstall", "--yes"], timeout=120)
    assert gone.code == 0, gone
    assert not toy_file.exists()
