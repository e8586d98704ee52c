"""Traces of agent sessions into the workspace: MLflow's own Claude Code integration
(`mlflowenv.py`: the pinned MLflow in its own environment; the Stop hook in Claude Code's
settings: agents/claude/mlflowhook.py; `commands/mlflow_hook.py`: the hook itself, with our
fresh token)."""
