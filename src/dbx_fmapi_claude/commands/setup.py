"""`setup-fmapi-claudecode` / `dbx-fmapi setup`: the seed's four steps, and more.

Order of work, so that every failure leaves every file as it was:
  1. answers: flags, then prompts (interactive) or defaults (previous run, then built-in);
  2. dependencies (Claude Code, Databricks CLI), only when missing;
  3. authentication through the `databricks` CLI (login when needed);
  4. models, checked against the workspace's live list of endpoints;
  5. the plan: the new bytes of every file we touch, computed in memory (a half rc block, a token
     headed for a git-tracked file, ... are refused here);
  6. verify: a one-token request per configured model (before writing: a failure changes nothing);
  7. write (or, with --dry-run, print the diffs), with a rollback if a write fails halfway: the
     change engine, changes.py, shared with uninstall.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..agents.claude import effective, settings
from ..auth import credentials, databrickscfg, dbcli, tokens
from ..changes import engine
from ..cli.prompts import Choice, Prompter
from ..core import ui
from ..core.context import Context
from ..core.errors import ExitCode, UserError
from ..core.fileio import q, read_bytes
from ..record import config
from ..setup import install
from ..shell import rcblock
from ..workspace import catalogue, routes
from ..workspace.client import FAMILIES, Workspace, WorkspaceError, diagnose, is_ready
from ..workspace.hosts import EXAMPLE, normalize_host

PROG = "setup-fmapi-claudecode"
PROFILE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@+-]{0,127}")
MODEL_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,199}(\[1m\])?")  # [1m]: the 1M variant
NONE = "none"  # --fable none, --subagent-model none: write no such model
OTHER = "\x00other"
HELPER = "helper"
STATIC = "static"
_STATUS_COLOURS = (("ok", "green"), ("FAIL", "red"), ("note", "yellow"))
ENV_VARS = {
    "m2m": "DATABRICKS_CLIENT_ID=… DATABRICKS_CLIENT_SECRET=…",
    "pat": "DATABRICKS_TOKEN=…",
    "oauth": "",
}
MAX_NEED_SECONDS = 55 * 60  # OAuth access tokens live about an hour
TOKEN_PLACEHOLDER = "<the token from databricks auth token>"  # noqa: S105 - dry-run text


# --- small helpers ---------------------------------------------------------------------------


def _usage(message: str, fix: str) -> UserError:
    return UserError(message, fix, ExitCode.USAGE)


def _sq(text: str) -> str:
    """Single-quote for /bin/sh, always (the apiKeyHelper string is read by people too)."""
    return "'" + text.replace("'", "'\"'\"'") + "'"


def _tilde(path: Path, home: Path) -> str:
    try:
        return "~/" + str(path.relative_to(home))
    except ValueError:
        return str(path)


def _span(seconds: float) -> str:
    s = max(int(seconds), 0)
    if s < 90:
        return f"{s}s"
    if s < 5400:
        return f"{round(s / 60)}m"
    return f"{s // 3600}h {s % 3600 // 60:02d}m"


def _duration_text(seconds: int) -> str:
    if seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    if seconds % 60 == 0:
        return f"{seconds // 60}m"
    return f"{seconds}s"


def _same_host(a: str, b: str) -> bool:
    try:
        return normalize_host(a) == normalize_host(b)
    except UserError:
        return a.rstrip("/") == b.rstrip("/")


# --- answers ---------------------------------------------------------------------------------


@dataclass
class Answers:
    host: str = ""
    profile: str = ""
    model: str = ""
    opus: str = ""
    sonnet: str = ""
    haiku: str = ""
    fable: str = ""  # "" = none
    subagent: str = ""  # "" = subagents use the main model
    route: str = routes.SERVING_NAME
    route_auto: bool = True
    location: str = "home"
    token_mode: str = HELPER
    ttl_seconds: int = config.DEFAULT_TTL_SECONDS
    margin_seconds: int = config.DEFAULT_MARGIN_SECONDS
    shell: str = "none"


def check_profile(value: str) -> str:
    value = value.strip()
    if not PROFILE_RE.fullmatch(value):
        raise _usage(
            f"invalid profile name {value!r} (letters, digits and . _ - @ + only)",
            f"{PROG} --profile my-workspace",
        )
    return value


def check_model(value: str, flag: str = "--model") -> str:
    value = value.strip()
    if not MODEL_RE.fullmatch(value):
        raise _usage(
            f"invalid model endpoint name {value!r} (letters, digits and . _ - only)",
            f"list the workspace's models with: dbx-fmapi models   (then {PROG} {flag} NAME)",
        )
    return value


def check_location(value: str, cwd: Path) -> str:
    """`home`, `cwd`, or an existing folder (returned absolute)."""
    text = value.strip()
    if text in ("home", "cwd"):
        return text
    if not text:
        raise _usage("the settings location is empty", f"{PROG} --settings-location home")
    folder = Path(os.path.expanduser(text))
    if not folder.is_absolute():
        folder = cwd / folder
    folder = Path(os.path.normpath(folder))
    if folder.exists() and not folder.is_dir():
        raise _usage(
            f"settings location {folder} is a file, not a folder",
            f"pass the folder that should hold .claude/: {PROG} --settings-location "
            f"{q(folder.parent)}",
        )
    if not folder.is_dir():
        raise _usage(
            f"settings location {folder} does not exist",
            f"create it first: mkdir -p {q(folder)}",
        )
    return str(folder)


def _duration(value: str, flag: str) -> int:
    try:
        return config.parse_duration(value)
    except ValueError as exc:
        raise _usage(f"{flag} {value!r}: {exc}", f"{PROG} {flag} 15m") from None


def _default_shell(env: Mapping[str, str]) -> str:
    name = os.path.basename(env.get("SHELL", "")).strip()
    if name in ("zsh", "bash", "fish"):
        return name
    return "zsh" if install.platform(env) == "darwin" else "bash"


def read_profiles(ctx: Context) -> dict[str, str] | None:
    """{profile: host} from ~/.databrickscfg ({} when absent, None when unreadable)."""
    try:
        sections = databrickscfg.load(str(ctx.paths.home), ctx.env)
    except (OSError, UnicodeDecodeError, databrickscfg.ParseError):
        return None
    return {
        name: databrickscfg.host_of(keys) or ""
        for name, keys in databrickscfg.profiles(sections or {}).items()
    }


def default_profile(prev: Mapping[str, Any], host: str, profiles: Mapping[str, str] | None) -> str:
    if prev.get("profile") and prev.get("host") == host:
        return str(prev["profile"])
    known = dict(profiles or {})
    if known.get("DEFAULT") and _same_host(known["DEFAULT"], host):
        return "DEFAULT"
    for name, h in known.items():
        if h and _same_host(h, host) and PROFILE_RE.fullmatch(name):
            return name
    if not known.get("DEFAULT"):
        return "DEFAULT"
    label = host.split("://", 1)[-1].split(".", 1)[0].split(":", 1)[0]
    label = re.sub(r"[^A-Za-z0-9_.-]", "-", label).strip("-") or "workspace"
    name, n = label, 1
    while name in known:
        n += 1
        name = f"{label}-{n}"
    return name


def default_location(prev: Mapping[str, Any], cwd: Path) -> str:
    loc = prev.get("settings_location")
    if not isinstance(loc, str) or not loc:
        return "home"
    if loc == "cwd":
        folder = Path(str(prev.get("settings_file") or "")).parent.parent
        if not prev.get("settings_file") or folder == cwd:
            return "cwd"
        return str(folder) if folder.is_dir() else "cwd"
    if loc != "home" and not os.path.isdir(loc):
        return "home"
    return loc


def find_installed(name: str, env: Mapping[str, str], home: Path) -> str | None:
    """Absolute path of our executable `name`: next to this Python, next to argv[0], or on
    PATH; the ~/.local/bin link instead when it points at the same file (a stable path)."""
    candidates = [Path(sys.executable).parent / name]
    if sys.argv and os.sep in sys.argv[0]:
        candidates.append(Path(os.path.abspath(sys.argv[0])).parent / name)
    import shutil

    on_path = shutil.which(name, path=env.get("PATH"))
    if on_path:
        candidates.append(Path(os.path.abspath(on_path)))
    found = next((c for c in candidates if c.is_file() and os.access(c, os.X_OK)), None)
    if found is None:
        return None
    local = home / ".local" / "bin" / name
    with contextlib.suppress(OSError):
        if local.exists() and os.path.samefile(local, found):
            return str(local)
    return str(found)


# --- the plan: new bytes for every file ------------------------------------------------------


Change = engine.Change


@dataclass
class Plan(engine.Plan):
    record: dict[str, Any] = field(default_factory=dict)  # config.json, as this run leaves it


def _git(args: list[str], cwd: Path, env: Mapping[str, str]) -> tuple[int, bytes] | None:
    """(exit status, stdout) of `git args` in `cwd`; None when git is missing or hangs."""
    import shutil

    git = shutil.which("git", path=env.get("PATH"))
    if not git:
        return None
    try:
        proc = subprocess.run(
            [git, *args],
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=15,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.returncode, proc.stdout


def git_tracked(path: Path, env: Mapping[str, str]) -> bool:
    """True when git tracks `path` (checked from its own folder)."""
    if not path.parent.is_dir():
        return False
    result = _git(["ls-files", "--error-unmatch", "--", path.name], path.parent, env)
    return result is not None and result[0] == 0


def git_exposed(path: Path, env: Mapping[str, str]) -> bool:
    """True when `path` lies in a git work tree and git does not ignore it."""
    folder = path.parent
    while not folder.is_dir() and folder != folder.parent:
        folder = folder.parent
    inside = _git(["rev-parse", "--is-inside-work-tree"], folder, env)
    if inside is None or inside[0] != 0 or inside[1].strip() != b"true":
        return False
    ignored = _git(["check-ignore", "-q", "--no-index", "--", str(path)], folder, env)
    return ignored is not None and ignored[0] == 1


def git_exclude_for(path: Path, env: Mapping[str, str]) -> tuple[Path, str] | None:
    """The repository's own, never-committed ignore file (`.git/info/exclude`, worktrees
    included) and the pattern that ignores `path`; None outside a work tree."""
    folder = path.parent
    while not folder.is_dir() and folder != folder.parent:
        folder = folder.parent
    top = _git(["rev-parse", "--show-toplevel"], folder, env)
    where = _git(["rev-parse", "--git-path", "info/exclude"], folder, env)
    if top is None or where is None or top[0] != 0 or where[0] != 0:
        return None
    root = Path(os.fsdecode(top[1].strip()))
    exclude = Path(os.fsdecode(where[1].strip()))
    if not exclude.is_absolute():
        exclude = Path(os.path.normpath(folder / exclude))
    try:
        rel = path.resolve().relative_to(root.resolve())
    except ValueError:
        return None
    return exclude, "/" + rel.as_posix()


def exclude_block(pattern: str) -> str:
    return (
        f"{rcblock.BEGIN}\n# Added by dbx-fmapi-claude setup: static mode keeps a token in this "
        f"file; `dbx-fmapi uninstall` removes this block.\n{pattern}\n{rcblock.END}"
    )


def onboarding_bytes(raw: bytes | None) -> bytes | None:
    """~/.claude.json with the onboarding flag added, every other byte kept; None when nothing
    is to change. The rule lives in onboarding.py: dbx-fmapi-claude puts the flag back too."""
    from ..agents.claude.onboarding import with_flag

    return with_flag(raw)


# --- the command -----------------------------------------------------------------------------


class Setup:
    def __init__(self, ctx: Context, opts: dict[str, Any]) -> None:
        self.ctx = ctx
        self.opts = opts
        self.env: dict[str, str] = dict(ctx.env)
        self.paths = ctx.paths
        self.dry_run = bool(opts.get("dry_run"))
        self.prev: dict[str, Any] = {}
        self.prompter: Prompter | None = None
        self.token: dbcli.Token | None = None
        self.endpoints: list[dict[str, Any]] | None = None
        self.endpoints_error: str | None = None
        self.catalogue = catalogue.Catalogue()
        self.today = catalogue.today(self.env)
        self.a = Answers()
        self.profiles: dict[str, str] | None = None
        self.source: credentials.Source | None = None  # the credential: oauth, m2m or pat
        self.progress = ui.Progress(ctx)  # a transient line on stderr while we wait, TTY only
        self._noted_key: set[str] | None = None  # where a personal ANTHROPIC_API_KEY was seen
        self.exclude: tuple[Path, str] | None = None  # (.git/info/exclude, pattern), static mode

    # output
    def out(self, line: str = "") -> None:
        for word, colour in _STATUS_COLOURS:  # as the other commands: on a terminal only
            if line.startswith(f"  {word} "):
                line = "  " + ui.painter(self.ctx)(word, colour) + line[2 + len(word) :]
                break
        self.ctx.out(line)
        self.ctx.stdout.flush()

    def warn(self, line: str) -> None:
        label = ui.Painter(ui.stderr_color(self.ctx))("warning", "yellow")
        self.ctx.err(f"{PROG}: {label}: {line}")

    def info(self, line: str) -> None:
        self.ctx.err(line)

    # --- 1. answers -------------------------------------------------------------------------

    def load_previous(self) -> None:
        try:
            prev, dropped = config.salvage(self.paths)  # a damaged key: only that one is lost
        except config.RecordTooNew:
            raise  # rewriting a newer release's record would lose what it holds
        except UserError as exc:
            self.warn(f"{exc.message}; starting from the defaults")
            self.prev = {}
            return
        self.prev = prev or {}
        for note in dropped:
            self.warn(note)

    def check_flags(self) -> None:
        o = self.opts
        if o.get("host") is not None:
            self.a.host = normalize_host(str(o["host"]))
        if o.get("profile") is not None:
            self.a.profile = check_profile(str(o["profile"]))
        for name in ("model", *FAMILIES):
            if o.get(name) is not None:
                setattr(self.a, name, check_model(str(o[name]), f"--{name}"))
        for name, flag in (("fable", "--fable"), ("subagent", "--subagent-model")):
            value = o.get("subagent_model" if name == "subagent" else name)
            if value is not None and str(value).strip().lower() != NONE:
                setattr(self.a, name, check_model(str(value), flag))
        if o.get("settings_location") is not None:
            self.a.location = check_location(str(o["settings_location"]), self.ctx.cwd)
        prev_ttl = self.prev.get("ttl_seconds")
        if o.get("ttl") is not None:
            self.a.ttl_seconds = _duration(str(o["ttl"]), "--ttl")
        elif isinstance(prev_ttl, int) and prev_ttl > 0:
            self.a.ttl_seconds = prev_ttl
        prev_margin = self.prev.get("margin_seconds")
        if o.get("margin") is not None:
            self.a.margin_seconds = _duration(str(o["margin"]), "--margin")
        elif isinstance(prev_margin, int) and prev_margin >= 0:
            self.a.margin_seconds = prev_margin
        if self.a.ttl_seconds + self.a.margin_seconds > MAX_NEED_SECONDS:
            raise _usage(
                f"--ttl {_duration_text(self.a.ttl_seconds)} plus the "
                f"{_duration_text(self.a.margin_seconds)} margin is longer than a Databricks "
                "token lives (about 1h): every helper call would force a refresh",
                f"{PROG} --ttl 15m",
            )
        mode = o.get("token_mode") or self.prev.get("token_mode") or "helper"
        self.a.token_mode = mode if mode in ("helper", "static") else "helper"
        shell = o.get("shell") or self.prev.get("shell") or _default_shell(self.env)
        self.a.shell = shell if shell in ("zsh", "bash", "fish", "none") else "none"

    def interactive(self) -> bool:
        return (
            self.opts.get("host") is None and not self.opts.get("yes") and self.ctx.stdin_is_tty()
        )

    def ask_host_and_profile(self) -> None:
        p = self.prompter
        if not self.a.host:
            prev_host = self.prev.get("host")
            if p is not None:
                self.a.host = p.text(
                    "Workspace URL",
                    str(prev_host) if prev_host else None,
                    normalize_host,
                    hint=None if prev_host else f"(e.g. {EXAMPLE})",
                )
            elif self.env_credential() is not None:
                # CI: DATABRICKS_HOST with a token or client id/secret names the workspace.
                self.a.host = normalize_host(self.env["DATABRICKS_HOST"])
            elif isinstance(prev_host, str) and prev_host and self.ctx.stdin_is_tty():
                # --yes on a terminal keeps the previous workspace; without a terminal the
                # contract wants the workspace named (scripts must say what they configure).
                self.a.host = normalize_host(prev_host)
            else:
                why = (
                    "stdin is not a terminal"
                    if not self.ctx.stdin_is_tty()
                    else "--yes turns the prompts off"
                )
                raise _usage(
                    f"--host is required: {why}, so setup cannot ask for the workspace URL",
                    f"{PROG} --host {EXAMPLE}",
                )
        self.profiles = read_profiles(self.ctx)
        env_source = self.env_credential()
        if (
            not self.a.profile
            and env_source is not None
            and self.opts.get("auth")
            in (
                None,
                env_source.kind,
            )
        ):
            self.use_env_credential(env_source)
            return
        if not self.a.profile:
            default = default_profile(self.prev, self.a.host, self.profiles)
            if p is not None:
                self.a.profile = p.text(
                    "Databricks CLI profile name",
                    default,
                    lambda v: self.profile_for_host(check_profile(v)),
                )
            else:
                self.a.profile = default
        self.profile_for_host(self.a.profile)
        self.source = self.profile_credential(self.a.profile)

    def env_credential(self) -> credentials.Source | None:
        """DATABRICKS_HOST plus a token or a client id/secret: enough for CI, no profile."""
        source = credentials.from_env(self.env)
        return source if source is not None and source.host else None

    def use_env_credential(self, source: credentials.Source) -> None:
        if source.host != self.a.host:
            raise _usage(
                f"DATABRICKS_HOST is {source.host}, not the --host {self.a.host}: its "
                "credential belongs to another workspace",
                f"{PROG} --host {source.host}",
            )
        self.a.profile = ""  # the helper reads the same variables when Claude Code runs it
        self.source = source
        self.check_mode()

    def profile_credential(self, profile: str) -> credentials.Source:
        """What the profile holds (a new profile: OAuth, a login creates it), checked against
        --auth."""
        auth = self.opts.get("auth")
        known = profile in (self.profiles or {})
        source = (
            credentials.resolve(profile, self.env, self.paths.home_path)
            if known
            else credentials.Source(credentials.OAUTH, self.a.host, profile)
        )
        if auth and auth != source.kind:
            if not known:
                raise _usage(
                    f"--auth {auth} needs a profile holding a {credentials.NAMES[auth]}, or "
                    f"DATABRICKS_HOST with {ENV_VARS[auth]}; profile {profile!r} is not in "
                    "~/.databrickscfg",
                    f"export DATABRICKS_HOST={self.a.host} {ENV_VARS[auth]}, then re-run setup",
                )
            raise _usage(
                f"profile {profile!r} holds a {credentials.NAMES[source.kind]}, not the "
                f"--auth {auth} asked for",
                f"{PROG} --host {self.a.host} --profile {profile} --auth {source.kind}",
            )
        source.host = self.a.host
        self.source = source
        self.check_mode()
        return source

    def check_mode(self) -> None:
        if self.source is not None and self.source.kind == credentials.PAT:
            if self.opts.get("token_mode") == STATIC:
                raise _usage(
                    "static mode would copy your personal access token into a settings file; "
                    "helper mode hands it to Claude Code without copying it",
                    f"{PROG} --token-mode helper",
                )
            self.a.token_mode = HELPER

    def profile_for_host(self, profile: str) -> str:
        """`profile`, unless ~/.databrickscfg has it for another workspace."""
        known = (self.profiles or {}).get(profile)
        if known and not _same_host(known, self.a.host):
            raise _usage(
                f"profile {profile!r} in ~/.databrickscfg is for {known}, not {self.a.host}",
                f"use another profile name: {PROG} --host {self.a.host} --profile NEW-NAME",
            )
        if known:  # a credential we cannot use (azure-cli, basic...) is refused at once
            credentials.resolve(profile, self.env, self.paths.home_path)
        return profile

    # --- 2. dependencies --------------------------------------------------------------------

    def dependencies(self) -> None:
        self.install_dependencies()
        if dbcli.find(self.env) is not None:
            warning = dbcli.too_old_warning(dbcli.version(self.env))
            if warning:
                self.warn(warning)

    def install_dependencies(self) -> None:
        if self.opts.get("skip_install"):
            if install.find_claude(self.env, self.paths.home) is None:
                self.warn(f"Claude Code is not installed; install it with: {install.CLAUDE_CURL}")
            return
        for step in (
            install.claude_code(self.env, self.paths.home, dry_run=self.dry_run, err=self.info),
            install.databricks_cli(self.env, self.paths.home, dry_run=self.dry_run, err=self.info),
        ):
            if step.action == "found":
                self.out(f"  ok    {step.name}: {step.path}")
            elif step.action == "installed":
                self.out(f"  ok    {step.name}: installed ({step.path})")
                self.env = install.with_extra_path(self.env, self.paths.home)
            else:
                self.out(f"  would install {step.name}: {step.command}")

    # --- 3. authentication ------------------------------------------------------------------

    def need_seconds(self) -> float:
        env = {k: v for k, v in self.env.items() if k != "CLAUDE_CODE_API_KEY_HELPER_TTL_MS"}
        cfg = {"ttl_seconds": self.a.ttl_seconds, "margin_seconds": self.a.margin_seconds}
        return tokens.needed_lifetime(env, cfg)

    def token_request(self) -> tokens.TokenRequest:
        """How setup asks for tokens: in its own environment (an install may have grown PATH),
        for the lifetime its answers need, never with a login (setup runs that itself)."""
        return tokens.TokenRequest(self.paths, self.env, self.ctx.stderr, need=self.need_seconds())

    def can_login(self) -> bool:
        browser = self.env.get("BROWSER", "")
        return (
            self.ctx.stdin_is_tty()
            or tokens.has_display(self.env)
            or bool(browser and browser != "none")
        )

    def authenticate(self) -> None:
        if self.source is not None and self.source.kind != credentials.OAUTH:
            return self.authenticate_without_browser(self.source)
        host, profile = self.a.host, self.a.profile
        if dbcli.find(self.env) is None:
            raise dbcli.CliError(
                "missing",
                "the Databricks CLI (`databricks`) is not installed",
                dbcli.install_hint(),
            )
        profiles = self.profiles
        known = None if profiles is None else profiles.get(profile)
        login = profiles is not None and not known

        def fetch() -> dbcli.Token:
            if self.dry_run:  # read-only: no lock file, no token-state record
                return dbcli.auth_token(profile, env=self.env, host=host)
            return tokens.get_token(self.token_request(), profile, host)

        if not login:
            try:
                with self.progress.step(f"getting a token for profile {profile}"):
                    self.token = fetch()
            except dbcli.CliError as exc:
                if exc.kind not in ("login", "profile"):
                    raise
                login = True
        if login:
            command = dbcli.login_command(host, profile)
            if self.dry_run:
                self.out(f"  would log in: {command}")
                return
            if not self.can_login():
                raise dbcli.CliError(
                    "login",
                    f"Databricks login needed for profile {profile!r} and there is no terminal "
                    "or browser here to do it",
                    command,
                    ExitCode.AUTH_NEEDED,
                )
            tokens.login(host, profile, self.env, self.ctx.stderr)
            self.token = fetch()
        left = self.token.expiry - time.time() if self.token else 0.0
        self.out(f"  ok    signed in: profile {profile} (token valid for {_span(left)})")

    def authenticate_without_browser(self, source: credentials.Source) -> None:
        """A service principal or a PAT: a token straight away, never a login (a dry run
        fetches one without keeping it)."""
        if self.dry_run and source.kind == credentials.M2M:
            self.token = credentials._fetch(source, self.env)
        else:
            self.token = credentials.token(source, self.token_request())
        what = f"{credentials.NAMES[source.kind]} from {source.origin}"
        if self.token.expiry == credentials.NO_EXPIRY:
            self.out(f"  ok    credential: {what} (no expiry known)")
        else:
            left = self.token.expiry - time.time()
            self.out(f"  ok    credential: {what} (token valid for {_span(left)})")

    # --- 4. models --------------------------------------------------------------------------

    def load_endpoints(self) -> None:
        """The catalogue, through every listing the workspace offers (catalogue.py)."""
        if self.token is None:
            return
        ws = Workspace(self.a.host, self.token.access_token, self.env)
        with self.progress.step(f"reading the models {self.a.host} serves"):
            self.catalogue = catalogue.discover(ws)
        self.endpoints = self.catalogue.endpoints
        if not self.catalogue.read:
            exc = self.catalogue.errors.get("serving-endpoints")
            self.endpoints_error = exc.message if exc else "no listing answered"
            seeds = [catalogue.fallback(f, self.today) for f in FAMILIES]
            self.warn(
                f"cannot list the workspace's models ({self.endpoints_error}); using the "
                f"defaults {', '.join(seeds)}"
            )

    # --- the route --------------------------------------------------------------------------

    def choose_route(self) -> None:
        """--route auto (the default, and what a record without a route means): the AI Gateway
        when it answers (its model listing, else a one-token request), else serving endpoints. A
        route the user named is taken as it is: verify says so when it does not work."""
        asked = self.opts.get("route")
        prev_route = self.prev.get("route")
        if asked is None:
            auto = self.prev.get("route_auto", True) is not False or prev_route not in routes.ROUTES
            asked = routes.AUTO if auto else prev_route
        self.a.route_auto = asked == routes.AUTO
        if not self.a.route_auto:
            self.a.route = str(asked)
            route = routes.get(self.a.route)
            self.out(f"  ok    route: {route.label}, {route.base_url(self.a.host)} (--route)")
            self._add_gateway_models()
            return
        if self.token is None:  # a dry run that could not sign in: nothing to probe with
            self.a.route = prev_route if prev_route in routes.ROUTES else routes.SERVING_NAME
            return
        ws = Workspace(self.a.host, self.token.access_token, self.env)
        candidate = self.a.model or self.a.opus or self._default_for("opus")
        with self.progress.step("checking whether the workspace serves the AI Gateway route"):
            probe = routes.probe_gateway(ws, candidate)
        if probe.works:
            self.a.route = routes.GATEWAY_NAME
            if probe.models is not None:
                self.catalogue.add_gateway_models(probe.models)
            route = routes.GATEWAY
            self.out(f"  ok    route: {route.label}, {route.base_url(self.a.host)}")
            return
        self.a.route = routes.SERVING_NAME
        why = "it does not answer"
        if probe.error is not None and probe.error.code == "FEATURE_DISABLED":
            why = "not enabled for this workspace"
        elif probe.error is not None:
            why = diagnose(probe.error, self.a.host, "use the AI Gateway")[0].removeprefix(
                "cannot use the AI Gateway: "
            )
        route = routes.SERVING
        self.out(f"  ok    route: {route.label}, {route.base_url(self.a.host)} (AI Gateway: {why})")
        if prev_route == routes.GATEWAY_NAME:
            self.warn(
                f"the AI Gateway this workspace used stopped working ({why}); switching Claude "
                "Code to serving endpoints"
            )

    def _add_gateway_models(self) -> None:
        if self.a.route != routes.GATEWAY_NAME or self.token is None:
            return
        ws = Workspace(self.a.host, self.token.access_token, self.env)
        with contextlib.suppress(WorkspaceError):  # verify reports a gateway that does not answer
            self.catalogue.add_gateway_models(routes.list_gateway_models(ws))

    # --- 4. models --------------------------------------------------------------------------

    def names(self) -> set[str] | None:
        if not self.catalogue.read:
            return None
        names = self.catalogue.names()
        if self.a.route == routes.GATEWAY_NAME:  # the gateway takes Unity Catalog names too
            names |= {m.uc_name for m in self.catalogue.models if m.uc_name}
        return names

    def _known(self, name: str) -> bool:
        names = self.names()
        return names is None or name in names or catalogue.base_name(name) in names

    def _prev_model(self, key: str) -> str | None:
        value = self.prev.get(key)
        if not isinstance(value, str) or not MODEL_RE.fullmatch(value):
            return None
        if self.names() is not None:
            return value if self._known(value) else None
        return value if self.prev.get("host") == self.a.host else None

    def _default_for(self, fam: str) -> str:
        """The family's default: the workspace's newest READY model that is not retiring, else
        the newest acceptable one of a neighbouring family, else today's fallback name."""
        if not self.catalogue.read:
            return catalogue.fallback(fam, self.today)
        order = {"opus": ("opus", "sonnet", "haiku"), "sonnet": ("sonnet", "opus", "haiku")}
        for other in order.get(fam, (fam, "sonnet", "opus")):
            name = self.catalogue.default(other, self.today)
            if name is not None:
                if other != fam:
                    self.warn(
                        f"the workspace has no {fam.capitalize()} model that is READY and not "
                        f"retiring: {fam} uses {name}"
                    )
                return name
        return catalogue.fallback(fam, self.today)

    def default_model(self, key: str) -> str:
        prev = self._prev_model(key)
        if prev:  # the user's earlier choice: kept; a retiring one is warned about (doctor too)
            return prev
        if key == "model":
            return self.a.opus or self.default_model("opus")
        return self._default_for(key)

    def _model_choices(self, fam: str | None, default: str) -> list[Choice]:
        models = self.catalogue.claude(fam)
        if fam is None:
            models = [m for m in models if m.family in FAMILIES]
        names = [m.name for m in models]

        def label(m: catalogue.Model) -> str:
            notes = []
            if not m.ready:
                notes.append("not ready")
            if m.long_context:
                notes.append("1M-token context")
            retires = catalogue.retirement_note(m.name, self.today)
            if retires:
                notes.append(retires.split(" (", 1)[0])
            return m.name + (f"  ({'; '.join(notes)})" if notes else "")

        labels = {m.name: label(m) for m in models}
        if not self.catalogue.read:
            seeds = [catalogue.fallback(f, self.today) for f in ([fam] if fam else FAMILIES)]
            names = seeds
            labels = {n: n for n in names}
        if default not in names and not self.catalogue.read:
            names.insert(0, default)
            labels[default] = default
        choices = [Choice(n, labels[n]) for n in names]
        choices.append(Choice(OTHER, "other (type an endpoint name)"))
        return choices

    def _exists(self, name: str, flag: str) -> str:
        if self._known(name):
            return name
        claude = [m.name for m in self.catalogue.claude() if not m.long_context]
        have = ", ".join(claude) if claude else "none (no databricks-claude-* endpoint)"
        example = claude[0] if claude else "NAME"
        listed = any(e.get("name") == name for e in self.endpoints or [])
        what = (
            f"{name!r} is not a Claude model endpoint (Claude Code needs one that speaks the "
            "Anthropic Messages API)"
            if listed
            else f"the workspace has no model endpoint {name!r}"
        )
        raise _usage(
            f"{what}; its Claude endpoints: {have}",
            f"{PROG} {flag} {example}   (list them: dbx-fmapi models)",
        )

    def ask_models(self) -> None:
        p = self.prompter
        labels = {
            "model": "Model (ANTHROPIC_MODEL)",
            "opus": "Opus model",
            "sonnet": "Sonnet model",
            "haiku": "Haiku model",
        }
        for key in ("model", *FAMILIES):  # the flags first: an error names the flag given
            if getattr(self.a, key):
                self._exists(getattr(self.a, key), f"--{key}")
        for key, flag in (("fable", "--fable"), ("subagent", "--subagent-model")):
            if getattr(self.a, key):
                self._exists(getattr(self.a, key), flag)
        for key in ("model", *FAMILIES):
            if getattr(self.a, key):
                continue
            default = self.default_model(key)
            if p is None:
                setattr(self.a, key, self._exists(default, f"--{key}"))
                continue
            choices = self._model_choices(None if key == "model" else key, default)
            index = next((i for i, c in enumerate(choices) if c.value == default), 0)
            value = p.choose(labels[key], choices, index)
            if value == OTHER:
                flag = f"--{key}"

                def valid(v: str, flag: str = flag) -> str:
                    return self._exists(check_model(v, flag), flag)

                value = p.text("Endpoint name", None, valid)
            setattr(self.a, key, value)
        self.ask_fable_and_subagent()
        chosen = [self.a.model, self.a.opus, self.a.sonnet, self.a.haiku, self.a.fable]
        for name in dict.fromkeys(n for n in chosen + [self.a.subagent] if n):
            model = self.catalogue.find(name)
            if model is not None and model.state == "NOT_READY":
                self.warn(f"model endpoint {name} is not READY yet; requests to it may fail")
            retires = catalogue.retirement_note(name, self.today)
            if retires:
                self.warn(f"model {name} {retires}: pick a newer one (dbx-fmapi models)")

    def ask_fable_and_subagent(self) -> None:
        """Fable: the flag, else the previous run's while the workspace has it, else the newest
        READY fable model when the workspace has one (`claude --model fable` then answers).
        Subagents: the flag, else the previous run's; none means they use the main model."""
        o = self.opts
        if not self.a.fable and str(o.get("fable") or "").lower() != NONE:
            prev = self._prev_model("fable")
            if prev:
                self.a.fable = prev
            elif self.catalogue.read:
                self.a.fable = self.catalogue.default("fable", self.today) or ""
        if not self.a.subagent and str(o.get("subagent_model") or "").lower() != NONE:
            self.a.subagent = self._prev_model("subagent") or ""

    def context_tokens(self) -> int | None:
        """CLAUDE_CODE_MAX_CONTEXT_TOKENS for a main model whose name Claude Code does not
        recognise (it would assume 1M tokens and compact too late): a Claude model's window."""
        if catalogue.recognised(self.a.model):
            return None
        return catalogue.CONTEXT_TOKENS

    def ask_location(self) -> None:
        p = self.prompter
        if self.opts.get("settings_location") is not None:
            return
        default = default_location(self.prev, self.ctx.cwd)
        if p is None:
            self.a.location = default
            return
        home_file = self.paths.settings_file_for("home", self.ctx.cwd)
        cwd_file = self.paths.settings_file_for("cwd", self.ctx.cwd)
        choices = [
            Choice("home", f"home directory ({_tilde(home_file, self.paths.home)})"),
            Choice("cwd", f"current directory ({cwd_file})"),
            Choice("custom", "custom path (a folder; .claude/settings.json goes inside it)"),
        ]
        index = {"home": 0, "cwd": 1}.get(default, 2)
        value = p.choose("Settings location", choices, index)
        if value == "custom":
            value = p.text(
                "Folder for .claude/settings.json",
                default if index == 2 else None,
                lambda v: check_location(v, self.ctx.cwd),
            )
        self.a.location = value

    # --- 5. the plan ------------------------------------------------------------------------

    def settings_target(self) -> Path:
        path = self.paths.settings_file_for(self.a.location, self.ctx.cwd)
        if self.a.token_mode != STATIC:
            return path
        if not git_tracked(path, self.env):
            ours = self.prev.get("git_exclude") and self.prev.get("settings_file") == str(path)
            if ours or git_exposed(path, self.env):  # a re-run keeps the block it added
                self.exclude = git_exclude_for(path, self.env)
                if self.exclude is None:
                    self.warn(
                        f"{path} is inside a git repository and not ignored: never commit it "
                        f"(it will hold your token); ignore it with: echo .claude/{path.name} "
                        f">> {q(path.parent.parent / '.gitignore')}"
                    )
            return path
        local = path.with_name("settings.local.json")
        if self.a.location == "home":
            raise _usage(
                f"{_tilde(path, self.paths.home)} is tracked by git; static mode would commit "
                "your token",
                f"use the token helper instead (no token in the file): {PROG} --token-mode helper",
            )
        if git_tracked(local, self.env):
            raise _usage(
                f"{path} and {local.name} are tracked by git; static mode would commit your token",
                f"use the token helper instead: {PROG} --token-mode helper",
            )
        use_local = bool(self.opts.get("yes"))
        if self.prompter is not None:
            self.prompter.say(f"  {path} is tracked by git: a token must not go there.")
            use_local = self.prompter.confirm(f"Put the token in {local} instead?", True)
        if not use_local:
            raise _usage(
                f"{path} is tracked by git; static mode would commit your token",
                f"accept {local.name} instead with --yes, or use the token helper: "
                f"{PROG} --token-mode helper",
            )
        self.out(f"  note  {path} is tracked by git: the token goes to {local}")
        return local

    def personal_key(self, target: Path) -> bool:
        """A personal ANTHROPIC_API_KEY in the shell or a settings level would go to the
        workspace as x-api-key on every request: say where, and whether our blank in `target`
        stops it (it cannot beat a level above `target`)."""
        levels = effective.load_levels(
            self.paths, effective.project_dir(self.paths, target, self.ctx.cwd), target
        )
        rank = next((i for i, lv in enumerate(levels) if lv.managed), len(levels))
        found = False
        if self.env.get(settings.ENV_API_KEY):
            found = True
            self.note_key("your shell environment", blocked=True)
        for i, level in enumerate(levels):
            value = ((level.data or {}).get("env") or {}).get(settings.ENV_API_KEY)
            if not isinstance(value, str) or not value:
                continue
            found = True
            self.note_key(level.label, blocked=i <= rank, fix=f'"${{EDITOR:-vi}}" {q(level.path)}')
        return found

    def note_key(self, where: str, *, blocked: bool, fix: str = "") -> None:
        if self._noted_key is None:
            self._noted_key = set()
        if where in self._noted_key:
            return
        self._noted_key.add(where)
        if blocked:
            self.out(
                f"  note  a personal ANTHROPIC_API_KEY is set in {where}: Claude Code would send "
                "it to the workspace with every request; the settings setup writes blank it "
                "(uninstall undoes that)"
            )
        else:
            self.warn(
                f"a personal ANTHROPIC_API_KEY is set in {where}, which Claude Code reads after "
                f"the settings setup writes: it would still reach the workspace; remove it: {fix}"
            )

    def plan(self, target: Path, helper_cmd: str, executable: str) -> Plan:
        plan = Plan()
        a, prev = self.a, self.prev
        prev_file = prev.get("settings_file")
        first_time = not prev or prev_file != str(target)

        # Claude settings.
        raw = read_bytes(target)
        corrupt: settings.SettingsCorrupt | None = None
        try:
            old = settings.parse(raw, target) if raw is not None else {}
        except settings.SettingsCorrupt as exc:
            corrupt, old = exc, dict(exc.salvage)
        token = None
        if a.token_mode == STATIC:
            token = self.token.access_token if self.token is not None else TOKEN_PLACEHOLDER
        route = routes.get(a.route)
        env = settings.desired_env(
            host=a.host,
            model=a.model,
            opus=a.opus,
            sonnet=a.sonnet,
            haiku=a.haiku,
            mode=a.token_mode,
            ttl_seconds=a.ttl_seconds,
            token=token,
            blank_api_key=self.personal_key(target),
            base=route.base_url(a.host),
            fable=a.fable or None,
            subagent=a.subagent or None,
            context_tokens=self.context_tokens(),
            disable_betas=route.disable_experimental_betas,
        )
        drop = self.stale_optional_keys(env)
        helper_arg = helper_cmd if a.token_mode == HELPER else None
        new = settings.merge(old, env=env, helper=helper_arg, drop=drop)
        if raw is not None and corrupt is None and new == old:
            new_bytes: bytes = raw
        else:
            new_bytes = settings.dumps(new)

        def redo_settings(now: bytes | None) -> bytes | None:
            data = settings.parse(now, target) if now is not None else {}
            merged = settings.merge(data, env=env, helper=helper_arg, drop=drop)
            return now if now is not None and merged == data else settings.dumps(merged)

        holds_token = isinstance((old.get("env") or {}).get(settings.ENV_TOKEN), str)
        plan.add(
            Change(
                target,
                raw,
                new_bytes,
                "Claude settings",
                secret=a.token_mode == STATIC,
                # A file read past its comments is kept too: uninstall puts those bytes back.
                keep_original=(corrupt is None or corrupt.relaxed) and not holds_token,
                backup_first=corrupt is not None,
                redo=redo_settings,
            )
        )
        if corrupt is not None:
            plan.notes.append(f"{target} is not valid ({corrupt.why}): it is backed up first")
        if raw is None or first_time:
            # What setup replaces is judged against the file as it was before our first change:
            # the saved original, when a run that was killed halfway already changed the file.
            base, base_raw = old, raw
            known, original = config.load_original(self.paths, target)
            if known:
                base_raw = original
                try:
                    base = settings.parse(original, target) if original is not None else {}
                except settings.SettingsCorrupt as exc:
                    base = dict(exc.salvage)
            replaced: dict[str, Any] = {}
            old_env = base.get("env") or {}
            for key in settings.ALL_ENV_KEYS:
                if key != settings.ENV_TOKEN and key in old_env:
                    replaced[key] = {"value": old_env[key]}
            helper = base.get(settings.HELPER_KEY)
            if settings.HELPER_KEY in base and not effective.is_our_helper(
                helper, prev.get("api_key_helper")
            ):
                replaced[settings.HELPER_KEY] = {"value": base[settings.HELPER_KEY]}
            env_existed = "env" in base
            created = base_raw is None
        else:
            replaced = dict(prev.get("replaced") or {})
            env_existed = bool(prev.get("env_existed"))
            created = bool(prev.get("settings_created"))

        # The settings file of an earlier run, when it moved: our keys leave it.
        if isinstance(prev_file, str) and prev_file and prev_file != str(target):
            self._plan_old_settings(plan, Path(prev_file))

        # ~/.claude.json: the onboarding flag, only when absent.
        claude_json = self.paths.claude_json
        cj_raw = read_bytes(claude_json)
        cj_new = onboarding_bytes(cj_raw)
        onboarding_added = bool(prev.get("onboarding_added"))
        if not onboarding_added and cj_new is None:  # added by a run killed halfway?
            known, original = config.load_original(self.paths, claude_json)
            onboarding_added = known and onboarding_bytes(original) is not None
        if cj_new is not None:
            plan.add(
                Change(
                    claude_json,
                    cj_raw,
                    cj_new,
                    "onboarding flag",
                    keep_original=True,
                    redo=lambda now: onboarding_bytes(now) or now,
                )
            )
            onboarding_added = True
        elif cj_raw is not None:
            try:
                json.loads(cj_raw)
            except ValueError:
                self.warn(
                    f"{claude_json} is not valid JSON; leaving it alone (Claude Code owns it). "
                    "The first launch may show its onboarding screens."
                )

        # Shell wrapper block.
        rc = self.paths.rc_file(a.shell, self.env)
        if rc is not None:
            rc_path, block = rc, rcblock.render(a.shell, executable)

            def with_block(now: bytes | None) -> bytes:
                text = (now or b"").decode("utf-8", "surrogateescape")
                try:
                    new_text = rcblock.upsert_block(text, block)
                except rcblock.HalfBlock as exc:
                    raise UserError(
                        f"{rc_path} has {exc}: cannot tell where the dbx-fmapi-claude block ends",
                        f"remove the stray marker line, then re-run setup: grep -n "
                        f"'dbx-fmapi-claude <<<\\|dbx-fmapi-claude >>>' {q(rc_path)}",
                    ) from None
                return new_text.encode("utf-8", "surrogateescape")

            rc_raw = read_bytes(rc)
            plan.add(
                Change(
                    rc,
                    rc_raw,
                    with_block(rc_raw),
                    "shell function dbx-fmapi-claude",
                    keep_original=True,
                    redo=with_block,
                )
            )
        prev_rc = prev.get("rc_file")
        if isinstance(prev_rc, str) and prev_rc and prev_rc != (str(rc) if rc else None):
            self._plan_old_rc(plan, Path(prev_rc))

        # Static mode in a git work tree: the token file goes into the repository's own
        # exclude file (never committed, never shared), so no `git add .` picks it up.
        if self.exclude is not None:
            exclude, block = self.exclude[0], exclude_block(self.exclude[1])

            def with_exclude(now: bytes | None) -> bytes:
                text = (now or b"").decode("utf-8", "surrogateescape")
                return rcblock.upsert_block(text, block).encode("utf-8", "surrogateescape")

            ex_raw = read_bytes(exclude)
            plan.add(
                Change(
                    exclude,
                    ex_raw,
                    with_exclude(ex_raw),
                    "git exclude: the static token file stays out of commits",
                    keep_original=True,
                    redo=with_exclude,
                )
            )
            plan.notes.append(f"{target} holds a token: git now ignores it ({exclude})")

        # Our record.
        plan.record = {
            "version": 1,
            "host": a.host,
            "profile": a.profile,
            "auth": self.source.kind if self.source else credentials.OAUTH,
            "model": a.model,
            "opus": a.opus,
            "sonnet": a.sonnet,
            "haiku": a.haiku,
            **({"fable": a.fable} if a.fable else {}),
            **({"subagent": a.subagent} if a.subagent else {}),
            **({"context_tokens": env_context} if (env_context := self.context_tokens()) else {}),
            "route": a.route,
            "route_auto": a.route_auto,
            "settings_location": a.location,
            "settings_file": str(target),
            "token_mode": a.token_mode,
            "ttl_seconds": a.ttl_seconds,
            "margin_seconds": a.margin_seconds,
            "shell": a.shell,
            "rc_file": str(rc) if rc else None,
            **({"git_exclude": str(self.exclude[0])} if self.exclude else {}),
            "executable": executable,
            "api_key_helper": helper_cmd,
            "replaced": replaced,
            "env_existed": env_existed,
            "settings_created": created,
            "onboarding_added": onboarding_added,
        }
        cfg_raw = read_bytes(self.paths.config_file)
        cfg_new = (json.dumps(plan.record, indent=2, sort_keys=True) + "\n").encode()
        plan.add(
            Change(
                self.paths.config_file,
                cfg_raw,
                cfg_new,
                "setup record",
                True,
                redo=lambda now: cfg_new,
            )
        )
        return plan

    def stale_optional_keys(self, env: Mapping[str, str]) -> dict[str, Any]:
        """Keys an earlier run wrote that this one does not (settings.OPTIONAL_ENV_KEYS): each
        with the value written (a value changed by hand since stays), or what it replaced."""
        prev = self.prev
        wrote = {
            settings.ENV_FABLE: prev.get("fable"),
            settings.ENV_SUBAGENT: prev.get("subagent"),
            settings.ENV_CONTEXT: str(prev["context_tokens"])
            if prev.get("context_tokens")
            else None,
        }
        replaced = prev.get("replaced") or {}
        out: dict[str, Any] = {}
        for key, value in wrote.items():
            if key in env or not value:
                continue
            prior = replaced.get(key)
            out[key] = prior if isinstance(prior, dict) and "value" in prior else str(value)
        return out

    def _plan_old_settings(self, plan: Plan, path: Path) -> None:
        raw = read_bytes(path)
        if raw is None:
            return
        try:
            data = settings.parse(raw, path)
        except settings.SettingsCorrupt:
            self.warn(f"{path} (used by the previous setup) is not valid JSON; left as it is")
            return
        replaced = {
            **(self.prev.get("replaced") or {}),
            "env_existed": self.prev.get("env_existed"),
        }
        helper = data.get(settings.HELPER_KEY)
        ours = effective.is_our_helper(helper, self.prev.get("api_key_helper"))
        cleaned = settings.remove_ours(data, replaced=replaced, helper_is_ours=ours)
        if cleaned == data:
            return
        new: bytes | None = settings.dumps(cleaned)
        if not cleaned and self.prev.get("settings_created"):
            new = None
        plan.add(Change(path, raw, new, "previous Claude settings"))

    def _plan_old_rc(self, plan: Plan, path: Path) -> None:
        raw = read_bytes(path)
        if raw is None:
            return
        text = raw.decode("utf-8", "surrogateescape")
        try:
            cleaned = rcblock.remove_block(text)
        except rcblock.HalfBlock:
            self.warn(f"{path} has a half dbx-fmapi-claude block; left as it is")
            return
        new: bytes | None = cleaned.encode("utf-8", "surrogateescape")
        known, original = config.load_original(self.paths, path)
        if known and original is not None and new == original:
            what = "previous shell function (the file as it was before setup)"
        elif not cleaned.strip() and (path.suffix == ".fish" or (known and original is None)):
            new, what = None, "previous shell function (a file setup created: deleted)"
        else:
            what = "previous shell function"
        plan.add(Change(path, raw, new, what))

    # --- 6. verify --------------------------------------------------------------------------

    def flags_for(self, model: str) -> str:
        """The flags that chose `model` (`--sonnet NAME`, …), for a fix that names the right one."""
        roles = [r for r in ("model", *FAMILIES, "fable") if getattr(self.a, r) == model]
        if self.a.subagent == model:
            roles.append("subagent-model")
        return " ".join(f"--{r} NAME" for r in roles or ["model"])

    def verify(self) -> None:
        if self.opts.get("no_verify") or self.dry_run or self.token is None:
            return
        ws = Workspace(self.a.host, self.token.access_token, self.env, timeout=60.0)
        a = self.a
        chosen = [a.model, a.opus, a.sonnet, a.haiku, a.fable, a.subagent]
        models = list(dict.fromkeys(n for n in chosen if n))
        base = routes.get(a.route).base_url(a.host)
        self.out("Verify: one-token request per model")
        failures: list[tuple[str, WorkspaceError]] = []
        for model in models:
            try:
                with self.progress.step(f"one-token request to {model}"):
                    ws.ping_model(model, base)
            except WorkspaceError as exc:
                if exc.status == 429:
                    self.out(f"  ok    {model} (rate limited right now, but it answers)")
                    continue
                self.out(f"  FAIL  {model}: {exc.message}")
                failures.append((model, exc))
                continue
            self.out(f"  ok    {model}")
        if not failures:
            return
        model, error = failures[0]
        keep = f"{PROG} --no-verify   (writes the files anyway)"
        login = f"{dbcli.login_command(self.a.host, self.a.profile)}   then re-run setup"
        pick = f"pick another: {PROG} {self.flags_for(model)}   (list them: dbx-fmapi models)"
        listed = next((e for e in self.endpoints or [] if e.get("name") == model), None)
        # What the route itself says (gateway off, an account-level URL's redirect, traffic
        # splitting, 400 Invalid Token): workspace.diagnose's words, with their own fixes.
        if error.code == "FEATURE_DISABLED" or error.status in (301, 302, 303, 307, 308, 400):
            message, fix = diagnose(
                error, self.a.host, f"send a test request to {model}", login=login, retry=PROG
            )
        elif error.status in (401, 403):
            message = f"the workspace rejected the token for {model} (HTTP {error.status})"
            fix = login
        elif listed is not None and not is_ready(listed):
            message = f"model endpoint {model} is not READY (HTTP {error.status})"
            fix = f"{pick}; or wait until it is READY and re-run setup"
        elif error.status == 404:
            message = f"model endpoint {model} does not answer (HTTP 404)"
            fix = pick
        else:
            message, fix = diagnose(
                error, self.a.host, f"send a test request to {model}", login=login, retry=PROG
            )
            if error.kind != "tls":
                fix = f"{fix}; or {keep}"
        names = ", ".join(m for m, _ in failures)
        raise UserError(f"{message}; failed: {names}; nothing was written", fix)

    # --- 7. write ---------------------------------------------------------------------------

    def show_diffs(self, plan: Plan) -> None:
        if not plan.changes:
            self.out("Everything is already configured: nothing would change.")
            return
        secrets = [self.token.access_token] if self.token is not None else []
        engine.show(plan, self.ctx.stdout, secrets)
        self.out("Dry run: nothing was written.")

    def apply(self, plan: Plan) -> None:
        """Write every change, all or nothing (changes.apply)."""
        engine.preflight(plan.changes, name="setup")
        # Under the profile's lock: no static-mode token refresh (wrapper, login) and no other
        # setup for this profile writes in between.
        with tokens.profile_lock(self.paths, self.a.profile):
            engine.apply(plan, paths=self.paths, say=self.out, name="setup", again=PROG)
            for ch in plan.changes:
                if ch.what.startswith("previous Claude settings"):
                    config.drop_original(self.paths, ch.path)

    # --- the whole thing --------------------------------------------------------------------

    def run(self) -> int:
        self.load_previous()
        self.check_flags()
        if self.interactive():
            self.prompter = Prompter(self.ctx.stdin, self.ctx.stdout, self.env)
            self.prompter.say(
                "Set up Claude Code for your Databricks workspace. Enter keeps the [default]; "
                "Ctrl-C cancels (nothing is written until the end)."
            )
        self.ask_host_and_profile()
        helper_path = find_installed("dbx-fmapi", self.env, self.paths.home)
        wrapper_path = find_installed("dbx-fmapi-claude", self.env, self.paths.home)
        if helper_path is None or wrapper_path is None:
            raise UserError(
                "cannot find the installed dbx-fmapi / dbx-fmapi-claude executables",
                "reinstall from the clone: bash setup-fmapi-claudecode.sh",
            )
        target: Path | None = None
        if self.prompter is None:  # known now: refuse a git-tracked token file before signing in
            self.ask_location()
            target = self.settings_target()
        if self.a.profile:
            self.out(f"Workspace: {self.a.host}   profile: {self.a.profile}")
        else:
            self.out(f"Workspace: {self.a.host}   credential: DATABRICKS_* variables")
        self.dependencies()
        self.authenticate()
        self.load_endpoints()
        self.choose_route()
        self.ask_models()
        if target is None:
            self.ask_location()
            target = self.settings_target()
        helper_cmd = f"{_sq(helper_path)} token" + (
            f" --profile {_sq(self.a.profile)}" if self.a.profile else ""
        )
        plan = self.plan(target, helper_cmd, wrapper_path)
        extra = "".join(
            f", {label} {value}"
            for label, value in (("fable", self.a.fable), ("subagents", self.a.subagent))
            if value
        )
        self.out(
            f"Models: main {self.a.model}, opus {self.a.opus}, sonnet {self.a.sonnet}, "
            f"haiku {self.a.haiku}{extra}"
        )
        self.verify()
        if self.dry_run:
            self.show_diffs(plan)
            return ExitCode.OK
        mode = (
            f"token helper, TTL {_duration_text(self.a.ttl_seconds)}"
            if self.a.token_mode == HELPER
            else "static token (refreshed by dbx-fmapi-claude)"
        )
        settings_file = Path(str(plan.record["settings_file"]))
        if not plan.changes:
            self.out(
                f"Everything is already configured: no file changed ({settings_file}, {mode})."
            )
        else:
            self.apply(plan)
            for ch in plan.changes:
                if ch.path == self.paths.config_file:
                    continue
                verb = "removed" if ch.new is None else "wrote" if ch.old is None else "updated"
                self.out(f"  {verb} {_tilde(ch.path, self.paths.home)} ({ch.what})")
            self.out(f"Settings: {settings_file} ({mode})")
        if self.a.token_mode == STATIC:
            self.out(
                "  note  static mode: a running claude keeps the token it started with, so a "
                "session cannot outlive it (about an hour: then requests fail with 403, and "
                "Claude Code's advice to run /login does not apply); start sessions with "
                "dbx-fmapi-claude, or use the token helper, which refreshes inside a session: "
                f"{PROG} --token-mode helper"
            )
        rc = plan.record.get("rc_file")
        if rc:
            self.out(
                f"Done. Open a new terminal (or run: source {_tilde(Path(rc), self.paths.home)}), "
                "then run: dbx-fmapi-claude"
            )
        else:
            self.out(f"Done. Run: {plan.record['executable']}")
        return ExitCode.OK


def run(*, ctx: Context, **options: Any) -> int:
    return Setup(ctx, options).run()
