"""A new agent is one package plus one registry line: a copy of dbx_fmapi_claude, installed in a
throwaway environment, gets a toy agent (agents/toy/, a JSON config file of its own, and the line
in agents/__init__.py MODULES) and nothing else; the toy then shows in `--help` (its model flag,
`--agents`, `run`), setup (a dry run, then a real one), the record's checks, `status`, `doctor`,
`dbx-fmapi models --validate` and `uninstall`, which takes its file back out."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import dbx_fmapi_claude
from tests.rig.sandbox import ENTRY_POINTS, Sandbox
from tests.rig.workspace import FakeWorkspace

PACKAGE = Path(dbx_fmapi_claude.__file__).parent
BIN = Path(__file__).resolve().parent.parent.parent / "bin"
MODEL = "databricks-gpt-5-mini"

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
REGISTRY_LINE = '    "opencode": "dbx_fmapi_claude.agents.opencode.agent",\n'


def _install_copy_with_toy(root: Path, sandbox: Sandbox) -> None:
    """A new environment holding a copy of the package plus the toy, its three programs first
    on the sandbox's PATH (setup records the helper it runs next to its own Python)."""
    env = root / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    site = next((env / "lib").glob("python3*")) / "site-packages"
    copy = site / "dbx_fmapi_claude"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "agents" / "toy").mkdir()
    (copy / "agents" / "toy" / "__init__.py").write_text("")
    (copy / "agents" / "toy" / "agent.py").write_text(TOY)
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

    sandbox.signed_in(workspace)
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

    # uninstall takes the file setup created back out, and the toy's state with the record.
    gone = sandbox.run(["dbx-fmapi", "uninstall", "--yes"], timeout=120)
    assert gone.code == 0, gone
    assert not toy_file.exists()
    after = sandbox.run(["dbx-fmapi", "status", "--json"])
    assert "toy" not in after.stdout, after
