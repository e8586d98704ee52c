"""The real Codex, Gemini CLI and OpenCode, each run isolated inside a Sandbox.

Each agent gets the sandbox's HOME plus its own config home (CODEX_HOME, GEMINI_CLI_HOME,
XDG_CONFIG_HOME / XDG_DATA_HOME / XDG_CACHE_HOME / XDG_STATE_HOME), never reads an
administrator's system files, and has auto-update, telemetry and every start-up download
switched off (docs/agents.md lists each switch and where it comes from). Every run also goes
through a NetTrap: HTTP(S)_PROXY points at a local proxy that refuses and records every
connection the agent tries outside 127.0.0.1, so a test can say the agent reached nothing else
and never stalls on a network that is not there.

    agents = Agents(sandbox, trap)
    agents.write_codex_config(codex_toml(base_url=..., model=..., auth_command=[...]))
    result = agents.codex("say hi")                    # codex exec --skip-git-repo-check
    result = agents.gemini("databricks-gemini-2-5-pro", "say hi", api_key_file=...)
    result = agents.opencode("databricks/databricks-gpt-5", "say hi")

Binaries: $DBX_TEST_CODEX_BIN, $DBX_TEST_GEMINI_BIN, $DBX_TEST_OPENCODE_BIN (scripts/test
installs the pinned npm packages into .cache/<name>/<version>/ and exports them).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from collections.abc import Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.rig.sandbox import Result, Sandbox

BIN_ENV = {
    "codex": "DBX_TEST_CODEX_BIN",
    "gemini": "DBX_TEST_GEMINI_BIN",
    "opencode": "DBX_TEST_OPENCODE_BIN",
}
# The pinned versions scripts/test installs (the tests read the binary's own --version).
PACKAGES = {
    "codex": "@openai/codex",
    "gemini": "@google/gemini-cli",
    "opencode": "opencode-ai",
}


def agent_bin(name: str) -> str | None:
    """Path of a real agent from its DBX_TEST_*_BIN variable, or None."""
    return os.environ.get(BIN_ENV[name]) or None


_versions: dict[str, str] = {}


def agent_version(name: str) -> str:
    """The real agent's own `--version` (last word: "0.171.0"), asked once per binary."""
    exe = agent_bin(name)
    if exe is None:
        raise RuntimeError(f"{BIN_ENV[name]} is unset")
    if exe not in _versions:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ["HOME"]}
        out = subprocess.run(
            [exe, "--version"], capture_output=True, text=True, env=env, timeout=60
        )
        _versions[exe] = out.stdout.strip().rsplit(" ", 1)[-1]
    return _versions[exe]


# --------------------------------------------------------------------------- network trap


class NetTrap:
    """A local HTTP proxy that answers every request 403 and records where it was going
    (CONNECT host:port for HTTPS, the absolute URL for plain HTTP). proxy_env() points an
    agent's HTTP(S)_PROXY at it, with loopback exempt (NO_PROXY)."""

    def __init__(self) -> None:
        self.attempts: list[str] = []
        self._lock = threading.Lock()
        trap = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _refuse(self) -> None:
                with trap._lock:
                    trap.attempts.append(f"{self.command} {self.path}")
                body = b"blocked by the test rig\n"
                self.send_response(403)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)
                self.close_connection = True

            do_CONNECT = do_GET = do_POST = do_HEAD = do_PUT = _refuse

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def start(self) -> NetTrap:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> NetTrap:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def hosts(self) -> list[str]:
        """The hosts the agent tried to reach (in order, repeats kept)."""
        with self._lock:
            attempts = list(self.attempts)
        out = []
        for a in attempts:
            target = a.split(" ", 1)[1]
            if "://" in target:
                target = target.split("://", 1)[1].split("/", 1)[0]
            out.append(target.rsplit(":", 1)[0] if target.count(":") == 1 else target)
        return out

    def proxy_env(self) -> dict[str, str]:
        env = {}
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
            env[name] = env[name.lower()] = self.url
        env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
        return env


# --------------------------------------------------------------------------- configs


def toml_str(value: str) -> str:
    """A TOML basic string."""
    return json.dumps(value)  # JSON string escapes are valid TOML basic-string escapes


def codex_toml(
    *,
    base_url: str,
    model: str,
    auth_command: Sequence[str] | None = None,
    refresh_interval_ms: int | None = None,
    timeout_ms: int | None = None,
    provider: str = "databricks",
    extra_provider: Mapping[str, Any] | None = None,
) -> str:
    """A Codex config.toml with one custom Responses provider and its command-backed bearer
    token ([model_providers.X.auth]: command, args, timeout_ms, refresh_interval_ms), plus the
    switches that keep Codex off the network at start (update check, analytics, feedback)."""
    lines = [
        f"model = {toml_str(model)}",
        f"model_provider = {toml_str(provider)}",
        "check_for_update_on_startup = false",
        "",
        "[analytics]",
        "enabled = false",
        "",
        "[feedback]",
        "enabled = false",
        "",
        "[features]",
        "plugins = false  # else it reaches github.com, api.github.com, chatgpt.com at start",
        "",
        f"[model_providers.{provider}]",
        'name = "Databricks"',
        f"base_url = {toml_str(base_url)}",
        'wire_api = "responses"',
    ]
    for key, value in (extra_provider or {}).items():
        lines.append(f"{key} = {json.dumps(value)}")
    if auth_command is not None:
        command, *args = auth_command
        lines += [
            "",
            f"[model_providers.{provider}.auth]",
            f"command = {toml_str(command)}",
            "args = [" + ", ".join(toml_str(a) for a in args) + "]",
        ]
        if timeout_ms is not None:
            lines.append(f"timeout_ms = {timeout_ms}")
        if refresh_interval_ms is not None:
            lines.append(f"refresh_interval_ms = {refresh_interval_ms}")
    return "\n".join(lines) + "\n"


def gemini_settings() -> dict[str, Any]:
    """~/.gemini/settings.json for an API key (sent as a bearer token: see gemini_env), with
    auto-update, usage statistics, telemetry, the IDE companion and folder trust off."""
    return {
        "security": {"auth": {"selectedType": "gemini-api-key"}, "folderTrust": {"enabled": False}},
        "general": {"enableAutoUpdate": False, "enableAutoUpdateNotification": False},
        "privacy": {"usageStatisticsEnabled": False},
        "telemetry": {"enabled": False},
        "ide": {"enabled": False},
    }


def opencode_config(
    *,
    provider: str,
    npm: str,
    base_url: str,
    models: Sequence[str],
    api_key: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """An opencode.json with one provider (an AI SDK package: @ai-sdk/openai-compatible,
    @ai-sdk/openai, @ai-sdk/anthropic, @ai-sdk/google), its models, and auto-update and
    sharing off. api_key may be "{env:NAME}" or "{file:PATH}" (OpenCode substitutes both)."""
    options: dict[str, Any] = {"baseURL": base_url}
    if api_key is not None:
        options["apiKey"] = api_key
    if headers:
        options["headers"] = dict(headers)
    return {
        "$schema": "https://opencode.ai/config.json",
        "autoupdate": False,
        "share": "disabled",
        # Without it OpenCode picks a "small" model for session titles by name from the same
        # provider (databricks-gemini-3-flash on 1.18.33: a 404 on a workspace without it).
        "small_model": f"{provider}/{models[0]}",
        "provider": {
            provider: {
                "npm": npm,
                "name": "Databricks",
                "options": options,
                "models": {m: {"name": m} for m in models},
            }
        },
    }


def seed_opencode_plugin(config_dir: Path, version: str) -> None:
    """OpenCode runs a background `npm install @opencode-ai/plugin@<its version>` in every
    config folder at start (it reaches the npm registry; the run does not wait for it). A
    package.json, a package-lock.json and node_modules/@opencode-ai/plugin at that version make
    it skip the install (measured on 1.18.33: no connection attempt at all)."""
    dep = {"@opencode-ai/plugin": version}
    (config_dir / "package.json").write_text(json.dumps({"dependencies": dep}) + "\n")
    lock = {
        "name": "opencode",
        "lockfileVersion": 3,
        "requires": True,
        "packages": {
            "": {"dependencies": dep},
            "node_modules/@opencode-ai/plugin": {"version": version},
        },
    }
    (config_dir / "package-lock.json").write_text(json.dumps(lock) + "\n")
    module = config_dir / "node_modules" / "@opencode-ai" / "plugin"
    module.mkdir(parents=True, exist_ok=True)
    (module / "package.json").write_text(
        json.dumps({"name": "@opencode-ai/plugin", "version": version}) + "\n"
    )


# --------------------------------------------------------------------------- runner


class Agents:
    """Runs the real agents inside a Sandbox (see the module doc)."""

    def __init__(self, sandbox: Sandbox, trap: NetTrap | None = None) -> None:
        self.sandbox = sandbox
        self.trap = trap
        self.home = sandbox.home
        self.project = sandbox.root / "project"  # the folder each agent runs in
        self.project.mkdir(exist_ok=True)
        self.codex_home = self.home / ".codex"
        self.gemini_home = self.home  # GEMINI_CLI_HOME: Gemini CLI keeps .gemini/ under it
        self.xdg = {
            "XDG_CONFIG_HOME": self.home / ".config",
            "XDG_DATA_HOME": self.home / ".local" / "share",
            "XDG_CACHE_HOME": self.home / ".cache",
            "XDG_STATE_HOME": self.home / ".local" / "state",
        }
        self.system_dir = sandbox.rig / "agents-system"  # stands in for /etc/<agent>
        self.system_dir.mkdir(exist_ok=True)
        # Gemini CLI's launcher is a Node script: the sandbox PATH needs `node`.
        node = shutil.which("node")
        if node and not (sandbox.bin / "node").exists():
            (sandbox.bin / "node").symlink_to(node)

    # ------------------------------------------------------------------ environments

    def _base_env(self) -> dict[str, str | None]:
        env: dict[str, str | None] = {}
        if self.trap is not None:
            env.update(self.trap.proxy_env())
        return env

    def codex_env(self) -> dict[str, str | None]:
        env = self._base_env()
        env["CODEX_HOME"] = str(self.codex_home)
        return env

    def gemini_env(self, api_key: str | None, base_url: str) -> dict[str, str | None]:
        env = self._base_env()
        env.update(
            {
                "GEMINI_CLI_HOME": str(self.gemini_home),
                # Its own system settings and defaults, not /etc/gemini-cli/*.
                "GEMINI_CLI_SYSTEM_SETTINGS_PATH": str(self.system_dir / "gemini-settings.json"),
                "GEMINI_CLI_SYSTEM_DEFAULTS_PATH": str(self.system_dir / "gemini-defaults.json"),
                "GEMINI_CLI_NO_RELAUNCH": "true",  # no second node process for a bigger heap
                "GEMINI_TELEMETRY_ENABLED": "false",
                "GEMINI_FORCE_FILE_STORAGE": "true",  # no OS keychain
                "GOOGLE_GEMINI_BASE_URL": base_url,
                "GEMINI_API_KEY_AUTH_MECHANISM": "bearer",
                "GEMINI_API_KEY": api_key,
            }
        )
        return env

    def opencode_env(self) -> dict[str, str | None]:
        env = self._base_env()
        env.update({k: str(v) for k, v in self.xdg.items()})
        env.update(
            {
                "OPENCODE_DISABLE_AUTOUPDATE": "1",
                "OPENCODE_DISABLE_MODELS_FETCH": "1",  # no models.dev catalogue download
                "OPENCODE_DISABLE_LSP_DOWNLOAD": "1",
                "OPENCODE_DISABLE_DEFAULT_PLUGINS": "1",
                "OPENCODE_DISABLE_SHARE": "1",
                "OPENCODE_DISABLE_CLAUDE_CODE": "1",  # no ~/.claude prompts or skills
                "OPENCODE_TEST_MANAGED_CONFIG_DIR": str(self.system_dir / "opencode"),
            }
        )
        return env

    # ------------------------------------------------------------------ config files

    def write_codex_config(self, text: str) -> Path:
        self.codex_home.mkdir(parents=True, exist_ok=True)
        path = self.codex_home / "config.toml"
        path.write_text(text)
        return path

    def write_gemini_settings(self, settings: Mapping[str, Any] | None = None) -> Path:
        path = self.gemini_home / ".gemini" / "settings.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(settings or gemini_settings(), indent=2) + "\n")
        return path

    def write_opencode_config(self, config: Mapping[str, Any], seed_plugin: bool = True) -> Path:
        """~/.config/opencode/opencode.json. seed_plugin: also pre-seed the folder's plugin SDK
        (see seed_opencode_plugin), so OpenCode does not try npm at start."""
        path = self.xdg["XDG_CONFIG_HOME"] / "opencode" / "opencode.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(config, indent=2) + "\n")
        if seed_plugin:
            seed_opencode_plugin(path.parent, agent_version("opencode"))
        return path

    # ------------------------------------------------------------------ one-shot runs

    def _run(
        self,
        name: str,
        args: list[str],
        env: dict[str, str | None],
        extra_env: Mapping[str, str | None] | None,
        timeout: float,
    ) -> Result:
        exe = agent_bin(name)
        if exe is None:
            raise RuntimeError(f"{BIN_ENV[name]} is unset: run the suite through ./scripts/test")
        env.update(extra_env or {})
        return self.sandbox.run([exe, *args], env=env, cwd=self.project, timeout=timeout)

    def codex(
        self,
        prompt: str,
        *,
        args: Sequence[str] = (),
        env: Mapping[str, str | None] | None = None,
        timeout: float = 120,
    ) -> Result:
        """`codex exec --skip-git-repo-check [args] PROMPT` (stdin /dev/null)."""
        argv = ["exec", "--skip-git-repo-check", *args, prompt]
        return self._run("codex", argv, self.codex_env(), env, timeout)

    def gemini(
        self,
        model: str,
        prompt: str,
        *,
        base_url: str,
        api_key: str | None,
        args: Sequence[str] = (),
        env: Mapping[str, str | None] | None = None,
        timeout: float = 120,
    ) -> Result:
        """`gemini -m MODEL [args] -p PROMPT` with the key in GEMINI_API_KEY (sent as
        `Authorization: Bearer`)."""
        if not (self.gemini_home / ".gemini" / "settings.json").exists():
            self.write_gemini_settings()
        argv = ["-m", model, *args, "-p", prompt]
        return self._run("gemini", argv, self.gemini_env(api_key, base_url), env, timeout)

    def opencode(
        self,
        model: str,
        prompt: str,
        *,
        args: Sequence[str] = (),
        env: Mapping[str, str | None] | None = None,
        timeout: float = 120,
    ) -> Result:
        """`opencode run -m PROVIDER/MODEL [args] PROMPT`."""
        argv = ["run", "-m", model, *args, prompt]
        return self._run("opencode", argv, self.opencode_env(), env, timeout)

    def version(self, name: str) -> str:
        """The agent's own `--version` answer (last word, e.g. "0.171.0")."""
        env = {
            "codex": self.codex_env,
            "gemini": lambda: self.gemini_env(None, "http://127.0.0.1:9"),
            "opencode": self.opencode_env,
        }[name]()
        result = self._run(name, ["--version"], env, None, 60)
        assert result.code == 0, result
        return result.stdout.strip().rsplit(" ", 1)[-1]
