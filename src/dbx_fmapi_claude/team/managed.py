"""Claude Code's managed settings for a fleet, rendered from a team file.

Claude Code reads managed settings above every user and project level (measured with 2.1.332 on
Linux; the folders and the macOS/Windows forms read from its binary and its repository's MDM
examples, ../shared/notes/claude-code.md): a user cannot override a managed `apiKeyHelper` or a
managed `env` key. With them, a developer needs only the package and a CLI login for the team's
profile (`databricks auth login --host H --profile P`): no setup run, no file in their HOME.

    linux    managed-settings.json     -> /etc/claude-code/
    macos    managed-settings.json     -> /Library/Application Support/ClaudeCode/
             dbx-fmapi-claude.mobileconfig (preference domain com.anthropic.claudecode), for an MDM
    windows  managed-settings.json     -> C:\\Program Files\\ClaudeCode\\
             dbx-fmapi-claude.reg      (HKLM\\SOFTWARE\\Policies\\ClaudeCode, value Settings)

This module only renders bytes; the admin's own tool deploys them.
"""

from __future__ import annotations

import json
import plistlib
import uuid

from ..agents.claude import settings
from ..core.errors import ExitCode, UserError
from ..workspace import routes
from .schema import TeamFile

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

OSES = ("linux", "macos", "windows")
FOLDERS = {
    "linux": "/etc/claude-code",
    "macos": "/Library/Application Support/ClaudeCode",
    "windows": "C:\\Program Files\\ClaudeCode",
}
DOMAIN = "com.anthropic.claudecode"
MOBILECONFIG = "dbx-fmapi-claude.mobileconfig"
REGFILE = "dbx-fmapi-claude.reg"
JSONFILE = "managed-settings.json"
DEFAULT_HELPER = "dbx-fmapi"


def _need(team: TeamFile, key: str, example: str) -> Any:
    value = team.get(key)
    if not value:
        raise UserError(
            f"team file {team.source} sets no {key}: managed settings need it",
            f'add "{key}": {example} to the team file',
            ExitCode.USAGE,
        )
    return value


def settings_for(
    team: TeamFile, *, route: str | None = None, helper: str = DEFAULT_HELPER
) -> dict[str, Any]:
    """The managed settings object: `apiKeyHelper` running `helper` (a program name found on
    PATH, or an absolute path) for the team's profile, and the env that points Claude Code at
    the workspace. `route` overrides the team file's (managed settings need a fixed one)."""
    host = _need(team, "host", '"https://my-workspace.cloud.databricks.com"')
    profile = _need(team, "profile", '"company"')
    models = team.models
    if not models.get("model"):
        raise UserError(
            f"team file {team.source} sets no models.model: managed settings need the main model",
            'add "models": {"model": "databricks-claude-opus-4-8", "opus": …, "sonnet": …, '
            '"haiku": …}',
            ExitCode.USAGE,
        )
    name = route or team.get("route") or routes.AUTO
    if name == routes.AUTO:
        raise UserError(
            "managed settings need a fixed route: the team file says auto, which each setup "
            "decides by asking the workspace",
            'pass --route ai-gateway or --route serving-endpoints (or set "route" in the file)',
            ExitCode.USAGE,
        )
    chosen = routes.get(name)
    env = settings.desired_env(
        host=host,
        model=models["model"],
        opus=models.get("opus") or models["model"],
        sonnet=models.get("sonnet") or models["model"],
        haiku=models.get("haiku") or models["model"],
        mode="helper",
        ttl_seconds=team.ttl_seconds or 15 * 60,
        base=chosen.base_url(host),
        fable=models.get("fable"),
        subagent=models.get("subagent"),
        disable_betas=chosen.disable_experimental_betas,
    )
    if team.margin_seconds is not None:
        env["DBX_FMAPI_TOKEN_MARGIN_SECONDS"] = str(team.margin_seconds)
    # Profile names are letters, digits, '.', '_', '-' (schema.py): no quoting, so the same
    # command works under /bin/sh and under Windows' shell.
    command = f"{_helper_word(helper)} token --profile {profile}"
    managed: dict[str, Any] = {settings.HELPER_KEY: command, "env": env}
    tables = team.get("otel_tables")
    if tables and tables != "none":  # OpenTelemetry into the workspace (docs/telemetry.md)
        from ..agents.claude import telemetry

        env.update(
            telemetry.desired_env(
                host=host,
                prefix=str(tables),
                ttl_seconds=team.ttl_seconds or 15 * 60,
                spans=team.get("otel_spans") == "on",
            )
        )
        managed[telemetry.HELPER_KEY] = telemetry.helper_command(command)
    experiment = team.get("mlflow_experiment")
    if experiment and experiment != "none":  # MLflow tracing (docs/mlflow.md)
        managed.update(mlflow_hook(helper, str(experiment), str(profile)))
    return managed


def mlflow_hook(helper: str, experiment: str, profile: str) -> dict[str, Any]:
    """The `hooks` key for `mlflow_experiment`: setup's Stop hook (`dbx-fmapi mlflow-hook`,
    agents/claude/mlflowhook.py) for the team's experiment and profile. Managed hooks run beside the
    developers' own, and are the only ones that do where the managed settings also say
    `allowManagedHooksOnly` (measured with 2.1.332: tests/team/test_managed_mlflow.py)."""
    from ..agents.claude import mlflowhook

    command = (
        f"{_helper_word(helper)} mlflow-hook --experiment {_path_word(experiment)} "
        f"--profile {profile}"
    )
    return mlflowhook.add({}, command, [])  # {} plus our hook: only the `hooks` key


def _path_word(path: str) -> str:
    """The experiment's path as one word under /bin/sh and Windows' shell alike: double quotes
    around a path with spaces; anything but letters, digits, spaces and @ . _ - / + : = , is
    refused (a quote, $, %, a glob or a shell character would need quoting no shell shares)."""
    import re

    if not re.fullmatch(r"[\w@./+:=, -]+", path):
        raise UserError(
            f"mlflow_experiment {path!r} cannot be used in a managed hook command: only "
            "letters, digits, spaces and @ . _ - / + : = , are",
            "rename the experiment in the team file (e.g. /Shared/claude-code)",
            ExitCode.USAGE,
        )
    return f'"{path}"' if " " in path else path


def _helper_word(helper: str) -> str:
    if not helper or any(c in helper for c in "\"'`$;&|<>\n\r\0"):
        raise UserError(
            f"--helper {helper!r} cannot be used in a command",
            "give the program name (dbx-fmapi) or an absolute path without quotes or $",
            ExitCode.USAGE,
        )
    return f'"{helper}"' if " " in helper else helper


def _stable_uuid(*parts: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "dbx-fmapi-claude:" + ":".join(parts))).upper()


def render(
    team: TeamFile, os_name: str, *, route: str | None = None, helper: str = DEFAULT_HELPER
) -> dict[str, bytes]:
    """File name -> bytes for `os_name`."""
    managed = settings_for(team, route=route, helper=helper)
    text = json.dumps(managed, indent=2) + "\n"
    out = {JSONFILE: text.encode()}
    if os_name == "macos":
        out[MOBILECONFIG] = mobileconfig(managed, team.source)
    elif os_name == "windows":
        out[REGFILE] = regfile(managed)
    return out


def mobileconfig(managed: dict[str, Any], source: str) -> bytes:
    """A configuration profile an MDM pushes: Claude Code's preference domain, forced."""
    ident = "com.dbx-fmapi-claude.managed-settings"
    body = json.dumps(managed, sort_keys=True)
    payload = {
        "PayloadType": "com.apple.ManagedClient.preferences",
        "PayloadVersion": 1,
        "PayloadIdentifier": f"{ident}.{DOMAIN}",
        "PayloadUUID": _stable_uuid("payload", body),
        "PayloadDisplayName": "Claude Code on Databricks",
        "PayloadContent": {DOMAIN: {"Forced": [{"mcx_preference_settings": managed}]}},
    }
    profile = {
        "PayloadType": "Configuration",
        "PayloadVersion": 1,
        "PayloadIdentifier": ident,
        "PayloadUUID": _stable_uuid("profile", body),
        "PayloadDisplayName": "Claude Code on Databricks (dbx-fmapi-claude)",
        "PayloadDescription": f"Managed settings rendered from the team file {source}",
        "PayloadScope": "System",
        "PayloadContent": [payload],
    }
    return plistlib.dumps(profile, fmt=plistlib.FMT_XML, sort_keys=True)


def regfile(managed: dict[str, Any]) -> bytes:
    """HKLM\\SOFTWARE\\Policies\\ClaudeCode, value `Settings`: the settings as one-line JSON."""
    one_line = json.dumps(managed, separators=(",", ":"))
    escaped = one_line.replace("\\", "\\\\").replace('"', '\\"')
    text = (
        "Windows Registry Editor Version 5.00\r\n\r\n"
        "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\ClaudeCode]\r\n"
        f'"Settings"="{escaped}"\r\n'
    )
    return text.encode("utf-16")
