"""Every doctor check, in the order the report lists them, with what each requires.

`requires`: listed as SKIP "needs <needed_as of the first that did not hold>" until those hold.
`within`: left out unless those hold (what it looks at exists only then). Without a setup
record the report still lists the path to a working setup (settings file, profile, token,
workspace) as SKIPs; the checks that refine a configuration appear once there is one.
"""

from __future__ import annotations

from . import agent_checks, deps, mcp_checks, mlflow_checks, team_checks, telemetry_checks
from . import credential_checks as cred
from . import setup_checks as sets
from . import workspace_checks as ws
from .graph import Spec, walk
from .report import Run

# The required agent (Claude Code), asked as every agent is (agent_checks), its checks placed on
# the path to a working setup: its program first, its aspects (Agent.aspects) after the setup
# record and after the token, as each declares.
CORE = agent_checks.required()

CHECKS: tuple[Spec, ...] = (
    Spec(CORE.name, CORE.label, agent_checks.program(CORE), needed_as=CORE.label),
    Spec("databricks-cli", "Databricks CLI", deps.databricks_cli, needed_as="the Databricks CLI"),
    Spec("config", "Setup", sets.record, needed_as="setup"),
    # its settings file, what overrides it, its apiKeyHelper
    *agent_checks.aspect_specs(CORE, after="config"),
    Spec("shell", "Shell wrapper", sets.shell, within=("config",)),
    Spec("team", "Team file", team_checks.team, within=("config",), when=team_checks.has_team),
    Spec("profile", "CLI profile", cred.profile, needed_as="the CLI profile", requires=("config",)),
    Spec(
        "token",
        "Token",
        cred.token,
        needed_as="a token",
        requires=("config", "databricks-cli", "profile"),
    ),
    *agent_checks.aspect_specs(CORE, after="token"),  # its apiKeyHelper's run, or its token
    Spec(
        "workspace",
        "Workspace",
        ws.workspace,
        needed_as="the workspace",
        requires=("config", "token"),
    ),
    Spec("route", "Route", ws.route, needed_as="a route that answers", within=("workspace",)),
    Spec(
        "model",
        "Model {}",
        ws.model,
        needed_as="model {} READY",
        requires=("workspace",),
        within=("config",),
        each=ws.configured_models,
    ),
    Spec(
        "request",
        "Request to {}",
        ws.request,
        requires=("workspace", "route", "model:{}"),
        within=("config",),
        each=ws.configured_models,
    ),
    Spec(
        "mcp",
        "MCP server {}",
        mcp_checks.server,
        requires=("workspace",),
        within=("config",),
        each=mcp_checks.configured,
    ),
    Spec(
        "mlflow",
        "MLflow tracing",
        mlflow_checks.tracing,
        within=("config",),
        when=mlflow_checks.configured,
    ),
    Spec(
        "mlflow-experiment",
        "MLflow experiment",
        mlflow_checks.experiment,
        requires=("workspace",),
        within=("config",),
        when=mlflow_checks.configured,
    ),
    Spec(
        "telemetry",
        "Telemetry {}",
        telemetry_checks.table,
        requires=("workspace",),
        within=("config",),
        each=telemetry_checks.signals,
    ),
    # Per agent beside Claude Code: agent:<name>:binary, :config, :request.
    *agent_checks.specs(),
)


def diagnose(run: Run) -> None:
    walk(CHECKS, run)
