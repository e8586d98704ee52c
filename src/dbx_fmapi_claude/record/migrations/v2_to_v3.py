"""Version 2 to 3: Claude Code's keys in each configuration (its models, token mode and what setup
changed in its settings file) move under "claude", as the other agents' state is under their
names. The workspace, the credential, the route and the settings location stay where they are."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# Claude Code's keys in version 2 (fields.CLAUDE_KEYS in version 3; the otel, mlflow and failure
# hook ones were written by development builds only), written out here so that this step stays
# what it was when the format changes again.
CLAUDE_KEYS = (
    "model",
    "opus",
    "sonnet",
    "haiku",
    "fable",
    "subagent",
    "context_tokens",
    "token_mode",
    "api_key_helper",
    "replaced",
    "env_existed",
    "settings_created",
    "statusline",
    "statusline_command",
    "prompt_hook",
    "otel_tables",
    "otel",
    "mlflow_experiment",
    "mlflow_hook",
    "failure_hook",
)


def _one(config: Any) -> Any:
    if not isinstance(config, dict):
        return config  # damaged: the record's checks name it
    out = {k: v for k, v in config.items() if k not in CLAUDE_KEYS}
    out["claude"] = {k: config[k] for k in CLAUDE_KEYS if k in config}
    return out


def migrate(data: dict[str, Any]) -> dict[str, Any]:
    out = {**data, "version": 3}
    if isinstance(data.get("configs"), list):
        out["configs"] = [_one(c) for c in data["configs"]]
    return out
