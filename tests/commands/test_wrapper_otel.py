"""`dbx-fmapi-claude` with telemetry on (`--otel-tables`): claude's `--settings` point its OTLP
exports at the relay, with an otelHeadersHelper that prints the launch's key, only where flag
settings win: Claude Code 2.1.332 (measured) takes `--settings` over the user's and the
project's settings, and managed settings over `--settings`. The exports themselves, with the
real Claude Code: tests/telemetry/test_telemetry_relay.py."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from tests.helpers.otel_world import PREFIX, set_up
from tests.rig.sandbox import Sandbox
from tests.rig.workspace import FakeWorkspace


def launch_settings(sandbox: Sandbox, **env: str) -> dict[str, Any]:
    """The `--settings` the wrapper gave (the fake) claude."""
    out = sandbox.run(["dbx-fmapi-claude", "-p", "hi"], env=env)
    assert out.code == 0, out
    call = sandbox.calls("claude")[-1]
    assert call[0] == "--settings" and call[2:] == ["-p", "hi"], call
    return dict(json.loads(call[1]))


def takes_exports(settings: dict[str, Any]) -> bool:
    return "otelHeadersHelper" in settings or "OTEL_EXPORTER_OTLP_ENDPOINT" in settings["env"]


def test_the_wrapper_takes_claudes_exports_only_where_its_settings_win(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    set_up(sandbox, workspace, "--otel-tables", PREFIX)
    sandbox.fake_program("claude", "exit 0\n")
    settings = launch_settings(sandbox)
    model = settings["env"]["ANTHROPIC_BASE_URL"]
    otlp = settings["env"]["OTEL_EXPORTER_OTLP_ENDPOINT"]
    assert otlp.startswith("http://127.0.0.1:") and otlp != model  # the relay's, not the model's
    helper = settings["otelHeadersHelper"]
    printed = subprocess.run(
        ["/bin/sh", "-c", helper],
        env={"DBX_FMAPI_RELAY_KEY": "0123abcd", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert json.loads(printed) == {"Authorization": "Bearer 0123abcd"}  # the key, no token
    assert "0123abcd" not in helper

    # Where another level decides, the exports stay Claude Code's own (direct, as before).
    managed = Path(sandbox.env["DBX_FMAPI_MANAGED_SETTINGS_DIR"])
    managed.mkdir(parents=True)
    for data in (
        {"otelHeadersHelper": "dbx-fmapi token --otel-headers"},  # wins over --settings
        {"env": {"OTEL_EXPORTER_OTLP_ENDPOINT": f"{workspace.url}/api/2.0/otel"}},  # the same
    ):
        (managed / "managed-settings.json").write_text(json.dumps(data))
        assert not takes_exports(launch_settings(sandbox)), data
    (managed / "managed-settings.json").unlink()
    collector = "https://collector.example.com"
    assert not takes_exports(launch_settings(sandbox, OTEL_EXPORTER_OTLP_LOGS_ENDPOINT=collector))
    project = sandbox.home / ".claude" / "settings.local.json"
    project.write_text(json.dumps({"env": {"OTEL_EXPORTER_OTLP_ENDPOINT": collector}}))
    assert not takes_exports(launch_settings(sandbox))
    project.unlink()
    assert takes_exports(launch_settings(sandbox))

    set_up(sandbox, workspace, "--otel-tables", "none")  # telemetry off: only the model's
    settings = launch_settings(sandbox)
    assert set(settings) == {"apiKeyHelper", "env"}
    assert set(settings["env"]) == {"ANTHROPIC_BASE_URL"}
