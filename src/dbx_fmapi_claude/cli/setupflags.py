"""Setup's flags (`dbx-fmapi setup` and `setup-fmapi-claudecode`): the workspace, the credential,
the route and token mode, each agent's model flag from the registry, installs and prompts. Added
when setup's parser is first used (cli/parser.py), so other commands import no agent to parse
their arguments."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse


def add_setup_flags(p: argparse.ArgumentParser) -> None:
    from .. import agents
    from ..auth import source as credentials
    from ..workspace import routes

    p.add_argument("--host", help="workspace URL, e.g. https://my-workspace.cloud.databricks.com")
    p.add_argument("--profile", help="Databricks CLI profile name (default: DEFAULT)")
    p.add_argument("--model", help="main model (ANTHROPIC_MODEL; default: the Opus model)")
    p.add_argument("--opus", help="model for opus (ANTHROPIC_DEFAULT_OPUS_MODEL)")
    p.add_argument("--sonnet", help="model for sonnet (ANTHROPIC_DEFAULT_SONNET_MODEL)")
    p.add_argument("--haiku", help="model for haiku (ANTHROPIC_DEFAULT_HAIKU_MODEL)")
    p.add_argument(
        "--fable",
        help="model for `claude --model fable` (ANTHROPIC_DEFAULT_FABLE_MODEL; default: the "
        "newest READY fable model, when the workspace has one; none: no fable model)",
    )
    p.add_argument(
        "--subagent-model",
        metavar="ID",
        help="model for subagents (CLAUDE_CODE_SUBAGENT_MODEL; default: the main model; none: "
        "back to the main model)",
    )
    p.add_argument(
        "--route",
        choices=routes.CHOICES,
        help="where Claude Code sends requests: the workspace's AI Gateway or its serving "
        "endpoints (default auto: the AI Gateway when it answers)",
    )
    p.add_argument(
        "--settings-location",
        metavar="home|cwd|PATH",
        help="where .claude/settings.json goes: home (~), cwd, or a folder (default: home)",
    )
    p.add_argument("--token-mode", choices=("helper", "static"), help="default: helper")
    p.add_argument(
        "--auth",
        choices=credentials.KINDS,
        help="credential: "
        + ", ".join(f"{k.name} ({k.short})" for k in credentials.BY_NAME.values())
        + "; default: what the profile holds, or the DATABRICKS_* variables",
    )
    p.add_argument("--ttl", help="apiKeyHelper TTL, e.g. 15m or 90s; bare number = minutes")
    p.add_argument(
        "--margin",
        help="extra lifetime a token must have beyond the TTL (default 5m)",
    )
    p.add_argument("--shell", choices=("zsh", "bash", "fish", "none"), help="rc file to edit")
    p.add_argument(
        "--agents",
        metavar=",".join(agents.NAMES),
        help="the coding agents to set up (default: the previous run's, else claude; Claude "
        "Code is always set up)",
    )
    for agent in agents.every():
        if agent.model_flag:
            p.add_argument(agent.model_flag, metavar="ID", help=agent.model_help)
    p.add_argument(
        "--statusline",
        choices=("on", "off"),
        help="our status line (tokens, cost, budget) and budget hook in Claude Code; on "
        "(default) adds them when you have no status line of your own",
    )
    p.add_argument(
        "--mlflow-experiment",
        metavar="PATH|none",
        help="trace Claude Code sessions into this MLflow experiment in the workspace, e.g. "
        "/Users/you@example.com/claude-code, with MLflow's own Claude Code integration "
        "(installed on demand; docs/mlflow.md); none: stop tracing",
    )
    p.add_argument(
        "--otel-tables",
        metavar="CATALOG.SCHEMA.PREFIX",
        help="send the agents' OpenTelemetry metrics and logs to the workspace's tables "
        "PREFIX_otel_metrics, _otel_logs (none: stop; docs/telemetry.md)",
    )
    p.add_argument(
        "--otel-spans",
        metavar="on|off",
        help="with --otel-tables: traces into PREFIX_otel_spans too (default off: Claude "
        "Code's spans cost each run about 70 ms; docs/telemetry.md)",
    )
    p.add_argument(
        "--team",
        metavar="SOURCE",
        help="set up from a team file: a path, an https:// URL, /Workspace/... or /Volumes/... "
        "(its values are the defaults; its locked keys cannot be changed)",
    )
    install = p.add_mutually_exclusive_group()
    install.add_argument(
        "--install",
        action="store_true",
        help="install missing tools (Claude Code, the Databricks CLI, chosen agents; npm -g or "
        "the vendors' installers, at the tested versions) without asking; default: ask on a "
        "terminal, else install nothing",
    )
    install.add_argument("--skip-install", action="store_true", help="never install anything")
    p.add_argument("--no-verify", action="store_true", help="skip the per-model test request")
    p.add_argument("--yes", "-y", action="store_true", help="accept defaults, no prompts")
    p.add_argument("--dry-run", action="store_true", help="show the changes, write nothing")
