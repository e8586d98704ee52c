"""`dbx-fmapi doctor [--json]`: every check, PASS/WARN/FAIL/SKIP, each problem with its fix.

Order: dependencies, our setup record, the settings as Claude Code sees them (every level plus
the environment), the helper and shell wrapper, the CLI profile, the token, the workspace, each
model, and a real one-token request per model. A check whose prerequisite failed is SKIP.
Exit 1 when anything FAILs; WARN alone exits 0. Never prints a token.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import stat
import subprocess
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from ..agents.claude import effective, settings
from ..auth import credentials, databrickscfg, dbcli, tokens
from ..core import ui
from ..core.context import Context
from ..core.errors import ExitCode, UserError
from ..core.fileio import q
from ..record import config, setupstate

SCHEMA_VERSION = 1
CLAUDE_INSTALL = "curl -fsSL https://claude.ai/install.sh | bash"
SETUP = "setup-fmapi-claudecode"
LOGIN = "dbx-fmapi login"
VERSION_TIMEOUT = 20.0
HELPER_TIMEOUT = 90.0
HTTP_TIMEOUT = 20.0  # per request; Workspace applies DBX_FMAPI_HTTP_TIMEOUT over it
# Process-environment variables that change where or how Claude Code authenticates.
WATCHED_ENV = (
    "ANTHROPIC_API_KEY",
    settings.ENV_TOKEN,
    settings.ENV_BASE_URL,
    "CLAUDE_CODE_USE_BEDROCK",
    "CLAUDE_CODE_USE_VERTEX",
    "CLAUDE_CODE_USE_FOUNDRY",
    *settings.ALL_ENV_KEYS,
)
OTHER_PROVIDERS = ("CLAUDE_CODE_USE_BEDROCK", "CLAUDE_CODE_USE_VERTEX", "CLAUDE_CODE_USE_FOUNDRY")
FAIL_IF_OVERRIDDEN = (settings.ENV_BASE_URL, settings.ENV_TOKEN)


@dataclass
class Check:
    id: str
    title: str
    status: str
    detail: str
    fix: str | None = None


class Report:
    def __init__(self, ctx: Context, live: bool) -> None:
        self.ctx = ctx
        self.checks: list[Check] = []
        self.by_id: dict[str, Check] = {}
        self.live = live  # print each check as it completes (people), not for --json
        self.paint = ui.painter(ctx)
        self.progress = ui.Progress(ctx)
        self.levels: list[effective.Level] = []  # every settings level, from check_settings

    def add(self, id: str, title: str, status: str, detail: str, fix: str | None = None) -> Check:
        check = Check(id, title, status, detail, fix if status in (ui.WARN, ui.FAIL) else None)
        self.checks.append(check)
        self.by_id[id] = check
        if self.live:
            self.progress.clear()
            self._print(check)
        return check

    def ok(self, id: str) -> bool:
        check = self.by_id.get(id)
        return check is not None and check.status in (ui.PASS, ui.WARN)

    def skip(self, id: str, title: str, needs: str) -> Check:
        return self.add(id, title, ui.SKIP, f"needs {needs}")

    def _print(self, check: Check) -> None:
        p = self.paint
        self.ctx.out(f"{p.status(check.status)}  {p(check.title, 'bold')}: {check.detail}")
        if check.fix:
            self.ctx.out(f"      fix: {check.fix}")
        self.ctx.stdout.flush()

    def counts(self) -> dict[str, int]:
        return {s.lower(): sum(1 for c in self.checks if c.status == s) for s in ui.STATUSES}


# --- dependencies ----------------------------------------------------------------------------


def _version_of(exe: str, env: Mapping[str, str]) -> tuple[str | None, str | None]:
    """(first line of `exe --version`, None) or (None, why it failed)."""
    run_env = dict(env)
    run_env.setdefault("DISABLE_AUTOUPDATER", "1")
    run_env.setdefault("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
    try:
        proc = subprocess.run(
            [exe, "--version"],
            env=run_env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=VERSION_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return None, f"`{exe} --version` did not finish within {VERSION_TIMEOUT:g}s"
    except OSError as exc:
        return None, f"cannot run {exe}: {exc.strerror or exc}"
    out = (proc.stdout or "").strip().splitlines()
    if proc.returncode != 0 or not out:
        why = dbcli.scrub(proc.stderr or proc.stdout or "") or f"exit status {proc.returncode}"
        return None, f"`{exe} --version` failed: {why}"
    return out[0].strip(), None


def check_claude(r: Report) -> None:
    from ..agents.claude.wrapper import find_claude

    exe = find_claude(r.ctx.env, r.ctx.paths.home)
    if exe is None:
        r.add(
            "claude",
            "Claude Code",
            ui.FAIL,
            "not installed (no `claude` on PATH)",
            f"{CLAUDE_INSTALL}   (or: npm install -g @anthropic-ai/claude-code)",
        )
        return
    version, why = _version_of(exe, r.ctx.env)
    if version is None:
        r.add("claude", "Claude Code", ui.FAIL, f"{exe} does not run: {why}", CLAUDE_INSTALL)
        return
    r.add("claude", "Claude Code", ui.PASS, f"{version} at {exe}")


def check_cli(r: Report) -> None:
    title = "Databricks CLI"
    exe = dbcli.find(r.ctx.env)
    if exe is None:
        r.add(
            "databricks-cli",
            title,
            ui.FAIL,
            "not installed (no `databricks` on PATH)",
            dbcli.install_hint(),
        )
        return
    version, why = _version_of(exe, r.ctx.env)
    if version is None:
        r.add("databricks-cli", title, ui.FAIL, f"{exe} does not run: {why}", dbcli.install_hint())
        return
    v = dbcli.parse_version(version)
    if v is not None and v < (0, 205, 0):
        r.add(
            "databricks-cli",
            title,
            ui.FAIL,
            f"{version} at {exe} is the legacy Python CLI; `databricks auth token` needs the "
            "new CLI (v0.205 or later)",
            dbcli.install_hint(),
        )
    elif v is not None and v < dbcli.MIN_VERSION:
        r.add(
            "databricks-cli",
            title,
            ui.WARN,
            f"{version} at {exe} is older than v0.296, the minimum fully supported (no "
            "--force-refresh: a token may be handed out with less life than the helper needs)",
            "upgrade: " + dbcli.upgrade_hint(),
        )
    else:
        r.add(
            "databricks-cli",
            title,
            ui.PASS,
            f"{version} at {exe}; tokens stored: {_token_storage(r, v)}",
        )


def _token_storage(r: Report, version: tuple[int, int, int] | None) -> str:
    """Where this CLI keeps OAuth tokens: the plaintext cache before v1.0; from v1.0 the OS
    keyring unless DATABRICKS_AUTH_STORAGE or [__settings__] auth_storage says plaintext."""
    cache = "~/.databricks/token-cache.json"
    if version is not None and version < (1, 0, 0):
        return f"plaintext file ({cache})"
    mode = r.ctx.env.get("DATABRICKS_AUTH_STORAGE", "").strip().lower()
    if not mode:
        try:
            sections = databrickscfg.load(str(r.ctx.paths.home), r.ctx.env) or {}
        except (OSError, ValueError):
            sections = {}
        mode = sections.get(databrickscfg.SETTINGS_SECTION, {}).get("auth_storage", "").lower()
    if mode == "plaintext":
        return f"plaintext file ({cache})"
    return "OS keyring (secure)"


# --- our record and the settings -------------------------------------------------------------


def check_config(r: Report) -> dict[str, Any] | None:
    try:
        cfg = config.load(r.ctx.paths, r.ctx.cwd)  # the configuration Claude Code uses here
        away = config.elsewhere(r.ctx.paths, r.ctx.cwd) if cfg is None else None
    except UserError as exc:
        r.add("config", "Setup", ui.FAIL, exc.message, exc.fix)
        return None
    if away is not None:
        r.add("config", "Setup", ui.FAIL, away.message, away.fix)
        return None
    if cfg is None or not config.is_set_up(cfg):
        r.add("config", "Setup", ui.FAIL, "dbx-fmapi-claude is not set up on this machine", SETUP)
        return None
    r.add(
        "config",
        "Setup",
        ui.PASS,
        f"workspace {cfg['host']}, profile {cfg['profile']}, {setupstate.token_mode(cfg)} token "
        "mode",
    )
    return cfg


def check_settings(r: Report, cfg: Mapping[str, Any]) -> effective.Level | None:
    title = "Settings file"
    managed = setupstate.managed_settings(cfg)
    if managed is None:
        r.add("settings", title, ui.FAIL, "setup recorded no settings file", SETUP)
        return None
    project = effective.project_dir(r.ctx.paths, managed, r.ctx.cwd)
    levels = effective.load_levels(r.ctx.paths, project, managed, r.ctx.env)
    r.levels = levels
    level = next(lv for lv in levels if lv.managed)
    if not level.exists:
        r.add("settings", title, ui.FAIL, f"{managed} is missing", f"{SETUP}  (recreates it)")
        return None
    if level.error is not None or level.data is None:
        r.add(
            "settings",
            title,
            ui.FAIL,
            f"{managed} is not a valid settings file ({level.error}); Claude Code ignores it",
            f"{SETUP}  (saves it as a timestamped backup, then repairs it)",
        )
        return None
    env = level.data.get("env") or {}
    mode = setupstate.token_mode(cfg)
    missing = []
    from ..workspace.routes import for_record

    want_url = for_record(cfg).base_url(str(cfg["host"]))
    if env.get(settings.ENV_BASE_URL) != want_url:
        missing.append(f"{settings.ENV_BASE_URL}={want_url}")
    for role, key in setupstate.ROLES.items():
        if cfg.get(role) and env.get(key) != cfg[role]:
            missing.append(f"{key}={cfg[role]}")
    helper = level.data.get(settings.HELPER_KEY)
    if mode == "helper" and not effective.is_our_helper(helper, cfg.get("api_key_helper")):
        missing.append(f"{settings.HELPER_KEY} (dbx-fmapi token)")
    if mode == "static" and not env.get(settings.ENV_TOKEN):
        missing.append(settings.ENV_TOKEN)
    if missing:
        r.add(
            "settings",
            title,
            ui.FAIL,
            f"{managed} lacks what setup put there: {', '.join(missing)}",
            f"{SETUP}  (puts them back, keeps your other settings)",
        )
        return None
    if mode == "static":
        try:
            loose = stat.S_IMODE(os.stat(managed).st_mode) & 0o077
        except OSError:
            loose = 0
        if loose:
            r.add(
                "settings",
                title,
                ui.WARN,
                f"{managed} holds a token but others can read it",
                f"chmod 600 {q(managed)}",
            )
            return level
    r.add("settings", title, ui.PASS, f"{managed} ({level.name} level, {mode} token mode)")
    return level


def check_effective(r: Report, cfg: Mapping[str, Any], mine: effective.Level) -> None:
    levels = r.levels
    eff = effective.resolve(levels, r.ctx.env, list(WATCHED_ENV))
    mode = setupstate.token_mode(cfg)
    ours = dict((mine.data or {}).get("env") or {})
    found = 0
    title = "Effective settings"

    for level in levels:
        if level.exists and level.error is not None and not level.managed:
            found += 1
            r.add(
                f"effective:{level.name}",
                title,
                ui.WARN,
                f"{level.path} is not valid JSON ({level.error}); Claude Code ignores it",
                f'"${{EDITOR:-vi}}" {q(level.path)}',
            )

    for key, value in ours.items():
        if key not in settings.ALL_ENV_KEYS:
            continue
        win = eff.env.get(key)
        if win is None or win.path is None or win.source == mine.name and win.path == mine.path:
            continue
        if win.value == value:
            continue
        found += 1
        status = ui.FAIL if key in FAIL_IF_OVERRIDDEN else ui.WARN
        effect = (
            f"Claude Code sends requests to {win.shown}, not to your workspace"
            if key == settings.ENV_BASE_URL
            else f"Claude Code uses {win.shown}"
        )
        if win.source == effective.ADMIN and not win.secret:
            effect += f", not setup's {value}"
        r.add(
            f"effective:{key}",
            title,
            status,
            f"{key} is overridden by {win.label}: {effect}",
            win.remove_fix(),
        )

    helper = eff.helper
    if (
        mode == "helper"
        and helper is not None
        and helper.path != mine.path
        and helper.value != (mine.data or {}).get(settings.HELPER_KEY)
    ):
        found += 1
        r.add(
            "effective:apiKeyHelper",
            title,
            ui.FAIL,
            f"apiKeyHelper is overridden by {helper.label}: Claude Code runs "
            f"{helper.shown!r}, not `dbx-fmapi token`",
            helper.remove_fix(),
        )
    if mode == "helper" and settings.ENV_TOKEN in eff.env:
        tok = eff.env[settings.ENV_TOKEN]
        found += 1
        r.add(
            f"effective:{settings.ENV_TOKEN}",
            title,
            ui.FAIL,
            f"a stale {settings.ENV_TOKEN} ({tok.label}) sits beside the apiKeyHelper; it wins "
            "the Authorization header, so requests fail once it expires",
            tok.remove_fix(),
        )
    if mode == "static" and helper is not None:
        found += 1
        r.add(
            "effective:apiKeyHelper",
            title,
            ui.FAIL,
            f"an apiKeyHelper ({helper.label}) sits beside the static {settings.ENV_TOKEN}; "
            "the two must not both be in effect",
            helper.remove_fix(),
        )
    key_api = eff.env.get("ANTHROPIC_API_KEY")
    if key_api is not None and key_api.value:  # an empty value is setup's blank over one
        found += 1
        r.add(
            "effective:ANTHROPIC_API_KEY",
            title,
            ui.FAIL,
            f"ANTHROPIC_API_KEY is set in {key_api.label}: it conflicts with your Databricks "
            "token (Claude Code asks whether to use it, and may send it instead)",
            key_api.remove_fix(),
        )
    for key in OTHER_PROVIDERS:
        win = eff.env.get(key)
        if win is not None and str(win.value).strip().lower() not in ("", "0", "false", "no"):
            found += 1
            r.add(
                f"effective:{key}",
                title,
                ui.FAIL,
                f"{key} is set in {win.label}: Claude Code then ignores the workspace",
                win.remove_fix(),
            )
    if not found:
        r.add(
            "effective",
            title,
            ui.PASS,
            "no other settings level or environment variable overrides or conflicts with ours",
        )


def check_helper(r: Report, cfg: Mapping[str, Any], mine: effective.Level) -> str | None:
    """Helper mode: the apiKeyHelper's program exists, is executable, asks for our profile."""
    title = "apiKeyHelper"
    command = str((mine.data or {}).get(settings.HELPER_KEY) or "")
    words = effective.helper_argv(command)
    program = words[0] if words else ""
    path: str | None
    if "/" in program:
        path = os.path.expanduser(program)
    else:
        path = shutil.which(program, path=r.ctx.env.get("PATH")) if program else None
    if not path or not os.path.lexists(path):
        r.add(
            "helper",
            title,
            ui.FAIL,
            f"its program {program or '(none)'} does not exist (moved or uninstalled?)",
            f"{SETUP}  (points the helper at the installed dbx-fmapi)",
        )
        return None
    if not os.path.isfile(path) or not os.access(path, os.X_OK):
        r.add(
            "helper", title, ui.FAIL, f"its program {path} is not executable", f"chmod +x {q(path)}"
        )
        return None
    profile = effective.helper_profile(command)
    if profile is not None and profile != cfg.get("profile"):
        r.add(
            "helper",
            title,
            ui.FAIL,
            f"it asks for profile {profile!r}, but setup configured {cfg.get('profile')!r}",
            SETUP,
        )
        return None
    r.add("helper", title, ui.PASS, command)
    return command


def check_shell(r: Report, cfg: Mapping[str, Any]) -> None:
    title = "Shell wrapper"
    rc = setupstate.rc_file(cfg)
    if rc is None or cfg.get("shell") in (None, "none"):
        r.add("shell", title, ui.PASS, "not installed (--shell none); run dbx-fmapi-claude by path")
        return
    state = setupstate.block_state(rc)
    if state == "half":
        r.add(
            "shell",
            title,
            ui.FAIL,
            f"{rc} has only one of the dbx-fmapi-claude markers; the block is broken",
            f'"${{EDITOR:-vi}}" {q(rc)}  # remove the partial block, then run: {SETUP}',
        )
        return
    if state != "present":
        r.add(
            "shell",
            title,
            ui.WARN,
            f"no dbx-fmapi-claude block in {rc}",
            f"{SETUP} --shell {cfg.get('shell')}",
        )
        return
    exe = str(cfg.get("executable") or "")
    if exe and not os.access(exe, os.X_OK):
        r.add(
            "shell",
            title,
            ui.FAIL,
            f"the block in {rc} runs {exe}, which is missing or not executable",
            f"{SETUP}  (rewrites the block)",
        )
        return
    r.add("shell", title, ui.PASS, f"dbx-fmapi-claude defined in {rc}")


# --- Databricks ------------------------------------------------------------------------------


def check_profile(r: Report, cfg: Mapping[str, Any]) -> None:
    from ..workspace.hosts import normalize_host

    if not cfg.get("profile"):  # CI: setup was given DATABRICKS_* variables, no profile
        source = credentials.from_env(r.ctx.env)
        expected = str(cfg.get("auth") or credentials.OAUTH)
        if source is None or source.kind != expected:
            r.add(
                "profile",
                "Credential",
                ui.FAIL,
                f"setup used a {credentials.NAMES.get(expected, expected)} from DATABRICKS_* "
                "variables, and this environment has none",
                "export DATABRICKS_TOKEN (or DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET)",
            )
        else:
            r.add(
                "profile",
                "Credential",
                ui.PASS,
                f"{credentials.NAMES[source.kind]} from DATABRICKS_* variables",
            )
        return
    title = "CLI profile"
    profile = str(cfg["profile"])
    host = str(cfg["host"])
    cfg_path = setupstate.databrickscfg_path(r.ctx.paths, r.ctx.env)
    try:
        profiles = setupstate.read_profiles(r.ctx.paths, r.ctx.env)
    except UserError as exc:
        r.add("profile", title, ui.FAIL, exc.message, exc.fix)
        return
    if profiles is None or profile not in profiles:
        where = f"{cfg_path} does not exist" if profiles is None else f"not in {cfg_path}"
        r.add(
            "profile",
            title,
            ui.FAIL,
            f"profile {profile!r}: {where}",
            f"{LOGIN}   (runs: {dbcli.login_command(host, profile)})",
        )
        return
    their = databrickscfg.host_of(profiles[profile]) or ""
    try:
        same = bool(their) and normalize_host(their) == host
    except UserError:
        same = False
    if not same:
        r.add(
            "profile",
            title,
            ui.FAIL,
            f"profile {profile!r} in {cfg_path} points at {their or 'no host'}, not {host}",
            f"{LOGIN}   (runs: {dbcli.login_command(host, profile)})",
        )
        return
    kind = databrickscfg.credential_kind(profiles[profile])
    expected = str(cfg.get("auth") or credentials.OAUTH)
    if kind not in credentials.KINDS:
        refusal = dbcli.nonoauth_error(profile, kind, host)
        r.add("profile", title, ui.FAIL, refusal.message, refusal.fix)
        return
    if kind != expected:
        r.add(
            "profile",
            title,
            ui.FAIL,
            f"profile {profile!r} now holds a {credentials.NAMES[kind]}, but setup configured "
            f"a {credentials.NAMES[expected]} credential",
            f"{SETUP} --profile {profile}",
        )
        return
    r.add(
        "profile", title, ui.PASS, f"{profile!r} in {cfg_path} ({their}, {credentials.NAMES[kind]})"
    )


def check_pat(host: str, token: str, env: Mapping[str, str]) -> tuple[str, str] | None:
    """None when the workspace accepts a personal access token, else (message, fix)."""
    from ..workspace.client import Workspace, WorkspaceError

    try:
        Workspace(host, token, env, timeout=HTTP_TIMEOUT).me()
    except WorkspaceError as exc:
        if exc.kind == "http" and exc.status in (401, 403):
            return (
                f"the workspace rejected the personal access token (HTTP {exc.status}: "
                f"{exc.message}): it was revoked, has expired or belongs to another workspace",
                "create a new token (workspace → Settings → Developer → Access tokens), put it "
                "in the profile's `token` (or DATABRICKS_TOKEN), then: dbx-fmapi doctor",
            )
        return (exc.message, "check your network or VPN, then: dbx-fmapi doctor")
    return None


def check_token(r: Report, cfg: Mapping[str, Any]) -> dbcli.Token | None:
    title = "Token"
    profile = str(cfg["profile"])
    need = tokens.needed_lifetime(r.ctx.env, cfg)
    try:
        source = credentials.for_record(cfg, r.ctx.env, r.ctx.paths.home_path)
        with r.progress.step("getting a token"):
            # err: doctor reports short lifetimes itself
            request = r.ctx.token_request(cfg, need=need, err=io.StringIO())
            tok = credentials.token(source, request)
    except dbcli.CliError as exc:
        if exc.kind == "login":
            r.add(
                "token",
                title,
                ui.FAIL,
                f"the Databricks login for profile {profile!r} has expired or was revoked; the "
                "CLI cannot refresh it",
                LOGIN,
            )
        else:
            r.add("token", title, ui.FAIL, exc.message, exc.fix)
        return None
    except UserError as exc:
        r.add("token", title, ui.FAIL, exc.message, exc.fix)
        return None
    left = tok.expiry - time.time()
    if tok.expiry == credentials.NO_EXPIRY:
        r.add(
            "token",
            title,
            ui.PASS,
            "personal access token (its expiry is not known; the workspace check below tries it)",
        )
    elif left < need:
        r.add(
            "token",
            title,
            ui.WARN,
            f"the workspace's tokens live {ui.duration(left)}, less than the helper TTL plus "
            f"margin ({ui.duration(need)})",
            f"{SETUP} --ttl 5m",
        )
    else:
        r.add("token", title, ui.PASS, f"obtained; valid for {ui.duration(left)}")
    return tok


def check_helper_run(r: Report, command: str, mine: effective.Level) -> None:
    """Run the apiKeyHelper the way Claude Code does: /bin/sh -c, in the project folder, with
    the settings env; it must print one line and nothing else."""
    title = "apiKeyHelper run"
    env = dict(r.ctx.env)
    for key, value in ((mine.data or {}).get("env") or {}).items():
        if isinstance(value, str):
            env[key] = value
    cwd = mine.path.parent.parent if mine.name != "user" else r.ctx.cwd
    if not cwd.is_dir():
        cwd = r.ctx.cwd
    try:
        with r.progress.step("running the apiKeyHelper"):
            proc = subprocess.run(
                ["/bin/sh", "-c", command],
                env=env,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=HELPER_TIMEOUT,
                check=False,
            )
    except subprocess.TimeoutExpired:
        r.add(
            "helper-run",
            title,
            ui.FAIL,
            f"it did not finish within {HELPER_TIMEOUT:g}s",
            f"run it yourself to see why: {command}",
        )
        return
    out = proc.stdout.strip()
    if proc.returncode != 0:
        last = (proc.stderr or "").strip().splitlines()
        why = dbcli.scrub(last[-1]) if last else "no message"
        r.add(
            "helper-run",
            title,
            ui.FAIL,
            f"it exited with status {proc.returncode}: {why}",
            f"run it yourself to see why: {command}",
        )
        return
    if not out or any(c.isspace() for c in out):
        r.add(
            "helper-run",
            title,
            ui.FAIL,
            "it printed something Claude Code cannot use as a key (empty or more than one word)",
            f"run it yourself to see why: {command}",
        )
        return
    r.add("helper-run", title, ui.PASS, "prints a token, as Claude Code expects")


def check_static_token(r: Report, cfg: Mapping[str, Any], mine: effective.Level) -> None:
    title = "Token in settings"
    raw = ((mine.data or {}).get("env") or {}).get(settings.ENV_TOKEN)
    if not isinstance(raw, str) or not raw:
        return  # check_settings already failed on this
    expiry = tokens.known_expiry(r.ctx.paths, str(cfg["profile"]), raw)
    if expiry is None:
        expiry = tokens.jwt_expiry(raw)
    if expiry is None:
        r.add("static-token", title, ui.PASS, "present (lifetime unknown)")
        return
    left = expiry - time.time()
    if left <= 0:
        r.add(
            "static-token",
            title,
            ui.WARN,
            f"expired {ui.duration(-left)} ago: plain `claude` fails until dbx-fmapi-claude "
            "refreshes it",
            "dbx-fmapi-claude --version   (refreshes the token, then exits)",
        )
        return
    r.add("static-token", title, ui.PASS, f"valid for {ui.duration(left)}")


def _diagnose(exc: Any, host: str, doing: str) -> tuple[str, str, str]:
    """(status, detail, fix) for a WorkspaceError while trying to `doing`: workspace.diagnose's
    reading; a rate limit is a WARN (Claude Code waits and retries), anything else a FAIL."""
    from ..workspace.client import diagnose

    detail, fix = diagnose(exc, host, doing, login=LOGIN)
    return (ui.WARN if exc.status == 429 else ui.FAIL, detail, fix)


def check_route(r: Report, cfg: Mapping[str, Any], ws: Any) -> bool:
    """The route setup chose still answers: the AI Gateway's model listing (no tokens spent).
    Serving endpoints answer wherever the workspace does; the requests below try them."""
    from ..workspace import routes
    from ..workspace.client import WorkspaceError

    route = routes.for_record(cfg)
    host = str(cfg["host"])
    title = "Route"
    if route.name == routes.SERVING_NAME:
        r.add("route", title, ui.PASS, f"{route.label}, {route.base_url(host)}")
        return True
    try:
        with r.progress.step("asking the AI Gateway for its models"):
            listed = routes.list_gateway_models(ws)
    except WorkspaceError as exc:
        detail, fix = _diagnose(exc, host, "reach the AI Gateway")[1:]
        if cfg.get("route_auto") is not False:
            fix = f"re-run setup, which picks the route that works: {SETUP}   ({fix})"
        r.add(
            "route",
            title,
            ui.FAIL,
            f"setup chose the AI Gateway, {route.base_url(host)}, and it stopped working: "
            f"{detail.removeprefix('cannot reach the AI Gateway: ')}",
            fix,
        )
        return False
    r.add("route", title, ui.PASS, f"{route.label}, {route.base_url(host)} ({len(listed)} models)")
    return True


def check_workspace(r: Report, cfg: Mapping[str, Any], tok: dbcli.Token) -> Any:
    from ..workspace.client import Workspace, WorkspaceError

    host = str(cfg["host"])
    ws = Workspace(host, tok.access_token, r.ctx.env, timeout=HTTP_TIMEOUT)
    try:
        with r.progress.step(f"contacting {host}"):
            me = ws.me()
    except WorkspaceError as exc:
        if cfg.get("auth") == credentials.PAT:
            pat = check_pat(host, tok.access_token, r.ctx.env)
            if pat is not None:
                r.add("workspace", "Workspace", ui.FAIL, *pat)
                return None
        status, detail, fix = _diagnose(exc, host, "read the current user")
        r.add("workspace", "Workspace", ui.FAIL if status == ui.WARN else status, detail, fix)
        return None
    user = me.get("userName") if isinstance(me, dict) else None
    who = f", signed in as {user}" if user else ""
    r.add("workspace", "Workspace", ui.PASS, f"{host} reachable{who}")
    return ws


class _Suggest:
    """Replacement models for the fix lines: the newest READY endpoint of the same family."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.endpoints: list[dict[str, Any]] | None = None
        self.fetched = False

    def flags(self, name: str, roles: list[str]) -> str:
        from ..workspace import catalogue
        from ..workspace.client import WorkspaceError, claude_endpoints, is_ready

        if not self.fetched:
            self.fetched = True
            try:
                self.endpoints = self.ws.endpoints()
            except WorkspaceError:
                self.endpoints = None
        fam = catalogue.parse(name).family
        today = catalogue.today(self.ws.env)
        same = [
            str(e["name"])
            for e in claude_endpoints(self.endpoints or [])
            if is_ready(e)
            and e["name"] != name
            and fam
            and catalogue.parse(e["name"]).family == fam
        ]
        # Newest first; one retiring soon only when the family has nothing else, and then said.
        fresh = [n for n in same if not catalogue.retiring(n, today)]
        pick = (fresh or same or ["<name>"])[0]
        flag = {"subagent": "subagent-model"}
        flags = " ".join(f"--{flag.get(role, role)} {pick}" for role in roles)
        note = catalogue.retirement_note(pick, today) if not fresh and same else None
        return (
            f"{flags}   (it {note.split(' (', 1)[0]}: the newest this workspace has)"
            if note
            else flags
        )


def _endpoint_of(name: str) -> str:
    """The serving endpoint behind a configured name: a `[1m]` variant's base model, a Unity
    Catalog name's pay-per-token endpoint (system.ai.claude-x -> databricks-claude-x)."""
    from ..workspace.catalogue import base_name

    name = base_name(name)
    if name.startswith("system.ai."):
        short = name.rsplit(".", 1)[-1]
        return short if short.startswith("databricks-") else f"databricks-{short}"
    return name


def check_models(r: Report, cfg: Mapping[str, Any], ws: Any) -> list[str]:
    """Each configured endpoint exists, is READY and is not retired or retiring within the week
    (a WARN); returns those that answer."""
    from ..workspace import catalogue
    from ..workspace.client import WorkspaceError, is_ready

    ready: list[str] = []
    suggest = _Suggest(ws)
    today = catalogue.today(r.ctx.env)
    for name, roles in setupstate.roles_by_model(cfg).items():
        cid = f"model:{name}"
        title = f"Model {name}"
        as_roles = ", ".join(roles)
        try:
            with r.progress.step(f"looking up serving endpoint {name}"):
                entry = ws.endpoint(_endpoint_of(name))
        except WorkspaceError as exc:
            if exc.kind == "http" and exc.status == 404:
                r.add(
                    cid,
                    title,
                    ui.FAIL,
                    f"does not exist in this workspace (configured as {as_roles})",
                    f"{SETUP} {suggest.flags(name, roles)}   (all models: dbx-fmapi models)",
                )
            elif exc.kind == "http" and exc.status == 403:
                r.add(
                    cid,
                    title,
                    ui.FAIL,
                    f"you may not see this endpoint ({exc.message})",
                    f"ask a workspace admin for CAN_QUERY on serving endpoint {name}",
                )
            else:
                status, detail, fix = _diagnose(
                    exc, str(cfg["host"]), f"look up serving endpoint {name}"
                )
                r.add(cid, title, status, detail, fix)
            continue
        if not is_ready(entry):
            state = entry.get("state") or {}
            why = state.get("ready", "unknown") if isinstance(state, dict) else "unknown"
            update = state.get("config_update") if isinstance(state, dict) else None
            during = f" (config update: {update})" if update else ""
            r.add(
                cid,
                title,
                ui.FAIL,
                f"exists but is {why}{during}; requests to it fail (configured as {as_roles})",
                "wait until it is READY (dbx-fmapi models), or pick another: "
                f"{SETUP} {suggest.flags(name, roles)}",
            )
            continue
        retires = catalogue.retirement_note(name, today)
        if retires:
            r.add(
                cid,
                title,
                ui.WARN,
                f"READY, but {retires} (configured as {as_roles}); Claude Code warns about it too",
                f"{SETUP} {suggest.flags(name, roles)}   (all models: dbx-fmapi models)",
            )
        else:
            r.add(cid, title, ui.PASS, f"READY (configured as {as_roles})")
        ready.append(name)
    return ready


def check_requests(r: Report, cfg: Mapping[str, Any], ws: Any, names: list[str]) -> None:
    from ..workspace.client import WorkspaceError
    from ..workspace.routes import for_record

    host = str(cfg["host"])
    base = for_record(cfg).base_url(host)
    for name in names:
        cid = f"request:{name}"
        title = f"Request to {name}"
        started = time.monotonic()
        try:
            with r.progress.step(f"sending a one-token request to {name}"):
                ws.ping_model(name, base)
        except WorkspaceError as exc:
            status, detail, fix = _request_diagnosis(exc, host, name)
            r.add(cid, title, status, detail, fix)
            continue
        took = time.monotonic() - started
        r.add(cid, title, ui.PASS, f"answered a one-token request in {took:.1f}s")


def _request_diagnosis(exc: Any, host: str, name: str) -> tuple[str, str, str]:
    """What the Anthropic route's own answers mean; anything else as any workspace error."""
    from ..workspace.client import error_label

    msg = str(exc.message)
    label = error_label(exc)
    if exc.code == "FEATURE_DISABLED" or exc.status in (301, 302, 303, 307, 308):
        return _diagnose(exc, host, f"send a one-token request to {name}")
    if exc.kind == "http" and exc.status == 403 and "token" not in msg.lower():
        return (
            ui.FAIL,
            f"the gateway refused the request ({label}: {msg}): you are not allowed to query "
            "this model",
            f"ask a workspace admin for CAN_QUERY on serving endpoint {name} (and access to the "
            "Anthropic route)",
        )
    if exc.kind == "http" and exc.status == 404:
        return (
            ui.FAIL,
            f"the gateway does not serve this model through the Anthropic route ({label}: {msg})",
            f"pick another from `dbx-fmapi models`, then re-run {SETUP}",
        )
    if exc.kind == "http" and exc.status == 400 and "token" in msg.lower():
        return (ui.FAIL, f"the gateway rejected the token ({label}: {msg})", LOGIN)
    return _diagnose(exc, host, f"send a one-token request to {name}")


# --- the command -----------------------------------------------------------------------------


def diagnose(r: Report) -> None:
    check_claude(r)
    check_cli(r)
    cfg = check_config(r)
    if cfg is None:
        for cid, title in (
            ("settings", "Settings file"),
            ("profile", "CLI profile"),
            ("token", "Token"),
            ("workspace", "Workspace"),
        ):
            r.skip(cid, title, "setup")
        return
    mode = setupstate.token_mode(cfg)
    mine = check_settings(r, cfg)
    helper: str | None = None
    if mine is None:
        r.skip("effective", "Effective settings", "a valid settings file")
        if mode == "helper":
            r.skip("helper", "apiKeyHelper", "a valid settings file")
    else:
        check_effective(r, cfg, mine)
        if mode == "helper":
            helper = check_helper(r, cfg, mine)
    check_shell(r, cfg)
    check_profile(r, cfg)
    tok: dbcli.Token | None = None
    if not r.ok("databricks-cli"):
        r.skip("token", "Token", "the Databricks CLI")
    elif not r.ok("profile"):
        r.skip("token", "Token", "the CLI profile")
    else:
        tok = check_token(r, cfg)
    if mode == "helper" and mine is not None:
        if helper is None:
            r.skip("helper-run", "apiKeyHelper run", "a working apiKeyHelper")
        elif tok is None:
            r.skip("helper-run", "apiKeyHelper run", "a token")
        else:
            check_helper_run(r, helper, mine)
    if mode == "static" and mine is not None:
        check_static_token(r, cfg, mine)
    models = list(setupstate.roles_by_model(cfg))
    ws = check_workspace(r, cfg, tok) if tok is not None else None
    if tok is None:
        r.skip("workspace", "Workspace", "a token")
    if ws is None:
        for name in models:
            r.skip(f"model:{name}", f"Model {name}", "the workspace")
        for name in models:
            r.skip(f"request:{name}", f"Request to {name}", "the workspace")
        return
    route_ok = check_route(r, cfg, ws)
    ready = check_models(r, cfg, ws)
    if route_ok:
        check_requests(r, cfg, ws, ready)
    for name in models:
        if not route_ok:
            r.skip(f"request:{name}", f"Request to {name}", "a route that answers")
        elif name not in ready:
            r.skip(f"request:{name}", f"Request to {name}", f"model {name} READY")


def run(*, ctx: Context, json: bool = False) -> int:
    report = Report(ctx, live=not json)
    try:
        diagnose(report)
    finally:
        report.progress.clear()
    counts = report.counts()
    failed = counts["fail"] > 0
    if json:
        ctx.out(
            _dumps(
                {
                    "version": SCHEMA_VERSION,
                    "ok": not failed,
                    "summary": counts,
                    "checks": [asdict(c) for c in report.checks],
                }
            )
        )
    else:
        p = report.paint
        parts = [
            p(f"{counts['pass']} passed", "green"),
            p(f"{counts['warn']} warning{'s' if counts['warn'] != 1 else ''}", "yellow")
            if counts["warn"]
            else f"{counts['warn']} warnings",
            p(f"{counts['fail']} failed", "red") if failed else "0 failed",
            f"{counts['skip']} skipped",
        ]
        ctx.out("\n" + ", ".join(parts) + ".")
        if failed:
            ctx.out("Fix the FAIL lines above (each shows its fix), then run: dbx-fmapi doctor")
    return ExitCode.ERROR if failed else ExitCode.OK


def _dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2)
