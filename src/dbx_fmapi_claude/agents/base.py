"""The Agent interface: what setup, uninstall, status, doctor and `run` need to know about a coding
agent, so that each of them handles every agent the same way.

An agent has a name (`--agents`, `dbx-fmapi run NAME`, the record), a program found on PATH
(with the version it needs), an API it speaks (`api`; workspace/routes.py says where each route
serves it), the models it can use (`model_prefix`), its own config file, which setup merges
into (`plan_setup` adds a change to the plan and returns what the record must keep) and
uninstall takes back out (`plan_uninstall`: the bytes the user had, when nothing else changed
since), and how it gets fresh tokens (`freshness`, and `launch_env` for the agents that
`run` starts behind the loopback proxy).

Claude Code is the first agent and the `required` one (every configuration sets it up).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..changes import engine, undo
from ..core import ui
from ..core.fileio import read_bytes
from ..core.paths import Paths, which
from ..record import originals
from .mcpfiles import McpWriter
from .setupinput import AgentSetup as AgentSetup

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..record.view import Configuration
    from .aspects import Aspect, Verdict
    from .usagelog import Reader

VERSION_RE = re.compile(r"(\d+)\.(\d+)\.(\d+)")


@dataclass(frozen=True)
class ModelFamily:
    """Workspace models that share a name prefix, which `dbx-fmapi models` lists for the agents
    that use them."""

    name: str  # its "family" in `dbx-fmapi models --json`
    prefix: str
    title: str  # its heading in `dbx-fmapi models`


GPT = ModelFamily("gpt", "databricks-gpt-", "GPT endpoints")
GEMINI = ModelFamily("gemini", "databricks-gemini-", "Gemini endpoints")

# How `dbx-fmapi run NAME` starts an agent (Agent.launch_mode).
WRAPPER = "wrapper"  # through dbx-fmapi-claude, which makes sure a valid token is there
ITSELF = "itself"  # as it is: its own config runs `dbx-fmapi token` for fresh tokens
PROXY = "proxy"  # behind the loopback proxy, which puts a fresh token on each request


@dataclass(frozen=True)
class Finding:
    """One reason an agent's config, as the agent will read it, is not what setup wrote (doctor
    reports each). `fix`: the command to run, where SETUP_AGAIN stands for re-running setup with
    this configuration's agents; None means exactly that."""

    detail: str
    fix: str | None = None
    warn: bool = False  # it still works (a model overridden), but not as set up
    id: str = ""  # what it is about (a key, a file), when the agent names its findings


@dataclass(frozen=True)
class StatusView:
    """What `dbx-fmapi status` shows of an agent: keys of its own at the top level of the
    report (`fields`: the required agent's settings levels) and its line in the "agents"
    list (`row`; None: none)."""

    fields: dict[str, Any] = field(default_factory=dict)
    row: dict[str, Any] | None = None


SETUP_AGAIN = "{setup}"


def parse_version(text: str) -> tuple[int, int, int] | None:
    m = VERSION_RE.search(text or "")
    return (int(m[1]), int(m[2]), int(m[3])) if m else None


class Agent:
    """Defaults shared by the agents; each module's AGENT overrides what differs."""

    name = ""
    label = ""
    program = ""
    package: str | None = None  # the npm package setup installs it from
    min_version: tuple[int, int, int] = (0, 0, 0)  # oldest release with what we rely on
    tested = ""  # the release the rig tests run
    api: str | None = None  # the API it speaks (workspace/routes.py: its paths on each route)
    model_prefix: str | None = None  # the workspace's models it is offered by default
    model_flag = ""  # setup's flag that picks its model (none: its models are not its own)
    model_default = ""  # what that flag defaults to, for --help
    families: tuple[ModelFamily, ...] = ()  # the families `dbx-fmapi models` lists for it
    user_env: tuple[str, ...] = ()  # launch_env's variables a user's own value wins over
    launch_mode = PROXY
    # What the loopback proxy answers when no token can be had without a new login: a status
    # the agent ends the turn on (run behind the proxy; agents/proxy.py).
    login_status = 401
    freshness = ""  # how tokens stay fresh, for status and docs/agents.md
    launch = ""  # how to start it
    # Set up in every configuration (--agents cannot leave it out); its state is the
    # configuration's own, so status's heading and doctor's settings checks report it.
    required = False
    # How `dbx-fmapi mcp add` puts the workspace's MCP servers into its config file (None: it
    # gets none; agents/mcpfiles.py).
    mcp: McpWriter | None = None

    @property
    def usage_source(self) -> Reader | None:
        """How `dbx-fmapi usage` reads what it recorded of its sessions (None: nothing it can
        read; usage/sources.py)."""
        return None

    @property
    def model_help(self) -> str:
        """--help's line for model_flag."""
        return f"{self.label}'s model (default: {self.model_default})"

    @property
    def model_option(self) -> str:
        """model_flag as setup's options name it (`--codex-model` -> `codex_model`)."""
        return self.model_flag.lstrip("-").replace("-", "_")

    # --- its own first-run checks (agents/firstrun.py) ------------------------------------

    trust_flag = ""  # the agent's flag that runs it in an untrusted folder, for one run
    trusts_git = False  # a git repository is a trusted folder (it refuses only outside one)

    def may_refuse_folder(self, args: list[str]) -> bool:
        """Would this run stop on the agent's folder check (Gemini's trusted folders, `codex
        exec` outside git)? Such a run is watched so that its refusal gets our fix."""
        return False

    def refused_folder(self, args: list[str], code: int) -> bool:
        """Did the run end on that check (its exit status)?"""
        return False

    def with_trust(self, args: list[str]) -> list[str]:
        """`args` with trust_flag where the agent takes it."""
        return [self.trust_flag, *args]

    # --- the program ----------------------------------------------------------------------

    def find(self, env: Mapping[str, str], home: str | os.PathLike[str]) -> str | None:
        return which(self.program, env)

    def version(self, exe: str, env: Mapping[str, str]) -> str | None:
        """What `exe --version` says (its x.y.z), None when it does not answer."""
        import subprocess  # only when a program is asked: status and uninstall ask none

        try:
            out = subprocess.run(
                [exe, "--version"],
                capture_output=True,
                text=True,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                timeout=60,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        v = parse_version(out.stdout) or parse_version(out.stderr)
        return ".".join(map(str, v)) if v else None

    def supported(self, version: str | None) -> bool:
        v = parse_version(version or "")
        return v is not None and v >= self.min_version

    def judge_program(
        self, exe: str | None, said: str | None, why: str | None
    ) -> tuple[str, str, str | None]:
        """Doctor's line (status, detail, fix) for the program found at `exe` (None: not on
        PATH) and what its `--version` said (`said`; None: it failed, `why`)."""
        install = str(self.install_command)
        if exe is None:
            return ui.FAIL, f"not installed (no `{self.program}` on PATH)", install
        if said is None:
            return ui.FAIL, f"{exe} does not run: {why}", install
        version = parse_version(said)
        shown = ".".join(map(str, version)) if version else said
        low = ".".join(map(str, self.min_version))
        if version is None:
            return ui.WARN, f"{exe} says {said!r}, not a version this check can compare", install
        if version < self.min_version:
            return (
                ui.FAIL,
                f"{shown} at {exe} is older than {low}, the oldest that works with this setup",
                f"upgrade: {install}",
            )
        if self.tested and version > (parse_version(self.tested) or version):
            # Newer releases are the norm (agents update themselves); nothing to fix.
            return ui.PASS, f"{shown} at {exe} (newer than {self.tested}, the release tested)", None
        return ui.PASS, f"{shown} at {exe}", None

    @property
    def install_command(self) -> str | None:
        return f"npm install -g {self.pinned_package}" if self.package else None

    @property
    def pinned_package(self) -> str:
        """The npm package at the version this release was tested with."""
        return f"{self.package}@{self.tested}" if self.tested else str(self.package)

    # --- its files ------------------------------------------------------------------------

    def config_file(self, paths: Paths, env: Mapping[str, str]) -> Path | None:
        """The user file setup merges into (None: none of its own)."""
        return None

    def plan_setup(self, s: AgentSetup, plan: engine.Plan) -> dict[str, Any]:
        """Add the change to its config file to `plan`; return the record's state for it."""
        return {}

    def plan_uninstall(
        self, paths: Paths, env: Mapping[str, str], state: Mapping[str, Any], plan: engine.Plan
    ) -> None:
        """Add the change that takes setup's part back out of its config file."""

    def in_effect(self, state: Mapping[str, Any], paths: Paths) -> str | None:
        """Why its config file does not hold what setup wrote (None: it does)."""
        return None

    def findings(
        self, state: Mapping[str, Any], paths: Paths, env: Mapping[str, str], cwd: Path
    ) -> list[Finding]:
        """What stops setup's config from being the one the agent uses when started here with
        this environment (doctor): the file moved, unreadable, ours missing or changed, or
        overridden by a file the agent reads after it. [] when ours is in effect."""
        why = self.in_effect(state, paths)
        return [Finding(why)] if why else []

    # Doctor's lines for the parts of its config it checks one by one (`examine`); none: the
    # three checks every agent gets (doctor/agent_checks.py).
    aspects: tuple[Aspect, ...] = ()

    def examine(
        self,
        aspect: str,
        cfg: Configuration,
        paths: Paths,
        env: Mapping[str, str],
        cwd: Path,
        found: Mapping[str, Any],
    ) -> Verdict:
        """The verdict on one of `aspects` for the configuration `cfg`, given the values the
        aspects before it found (`found`, by id)."""
        raise NotImplementedError(aspect)

    def in_effect_line(self, state: Mapping[str, Any]) -> str:
        """Doctor's line when `findings` found nothing."""
        return f"{state.get('file')}: what setup wrote is in effect (model {state.get('model')})"

    def status_view(
        self, state: Mapping[str, Any], paths: Paths, env: Mapping[str, str], cwd: Path
    ) -> StatusView:
        """What status shows of it: its file, model, route, how its tokens stay fresh, how to
        start it, and what is wrong with its file (None: it holds what setup wrote)."""
        return StatusView(
            row={
                "name": self.name,
                "label": self.label,
                "file": state.get("file"),
                "model": state.get("model"),
                "route": state.get("route"),
                "base_url": state.get("base_url"),
                "tokens": self.freshness,
                "launch": self.launch,
                "problem": self.in_effect(state, paths),
            }
        )

    # --- launching ------------------------------------------------------------------------

    def launch_env(self, state: Mapping[str, Any], url: str, secret: str) -> dict[str, str]:
        """Environment for a run behind the loopback proxy at `url` with its `secret`."""
        return {}

    def relayed(self, args: list[str], env: Mapping[str, str]) -> bool:
        """Whether `dbx-fmapi run` puts an agent that refreshes its own token (ITSELF) behind
        the loopback proxy for these arguments, so a token rejected mid-session is replaced."""
        return False

    def relay_launch(
        self, state: Mapping[str, Any], url: str, secret: str
    ) -> tuple[dict[str, str], list[str]]:
        """For a run behind the proxy at `url`: environment to add and arguments to put before
        the user's, beside launch_env. ({}, []): launch_env says it all."""
        return {}, []

    def otel_launch(
        self, env: Mapping[str, str], url: str, secret: str, *, spans: bool = True
    ) -> tuple[dict[str, str], list[str]]:
        """How a run sends its OpenTelemetry exports to the OTLP proxy at `url` (otelproxy.py)
        with its `secret`: environment to add (given the run's `env`) and arguments to put
        before the user's. Without `spans` (`--otel-spans off`), spans the agent can be told
        not to make are not asked for (the proxy drops any that still come).
        ({}, []): the agent has no OTLP export of its own."""
        return {}, []

    def ping(self, ws: Any, base_url: str, model: str) -> None:
        """One-token request through its API at `base_url` (raises WorkspaceError)."""


def created_before(paths: Paths, target: Path, state: Mapping[str, Any], raw: bytes | None) -> bool:
    """Did setup create `target`? An earlier run's record says so, else the saved original
    (a run killed halfway), else whether it exists now."""
    if state.get("file") and state.get("created") is not None:
        return bool(state["created"])
    known, original = originals.load_original(paths, target)
    if known:
        return original is None
    return raw is None


def restore_change(
    paths: Paths,
    target: Path,
    raw: bytes,
    clean: Callable[[bytes], bytes | None],
    created: bool,
    what: str,
    *,
    same: Callable[[bytes, bytes], bool] = lambda cleaned, original: cleaned == original,
    empty: bytes = b"",
) -> engine.Change | None:
    """Uninstall's change for an agent file, from `clean` (the file's bytes with ours taken out;
    None: nothing left), by the one rule (changes/undo.py): the bytes from before setup when
    that is what is left (`same(cleaned, original)`), the file gone when setup created it and
    nothing else is left (behind a symlink: `empty`, the format's empty document), else the
    cleaned bytes. None when nothing changes. The same edit is redone on what the file holds
    when uninstall writes (the agent or the user may have changed it while uninstall waited)."""

    def edit(now: bytes | None) -> tuple[bytes | None, str, int | None]:
        if now is None:
            return None, what, None
        cleaned = clean(now)
        if cleaned == now:  # nothing of ours in it (any more)
            return now, what, None
        new, kind, mode = undo.left_behind(
            paths,
            target,
            cleaned,
            created=created,
            same=lambda original: same(empty if cleaned is None else cleaned, original),
            empty=empty,
        )
        return new, f"{what}: {_UNDONE[kind]}", mode

    new, label, mode = edit(raw)
    if new == raw:
        return None
    return redone(engine.Change(target, raw, new, label, mode=mode), edit)


_UNDONE = {
    undo.ORIGINAL: "restore as it was before setup",
    undo.DELETE: "delete (setup created it)",
    undo.ADDED_SINCE: "remove what setup added",
    undo.CLEANED: "remove what setup added",
}


def redone(
    change: engine.Change, edit: Callable[[bytes | None], tuple[bytes | None, str, int | None]]
) -> engine.Change:
    """`change`, whose edit is recomputed from the bytes on disk at write time (its label and
    mode with it), never the bytes planned before a question was answered."""

    def redo(now: bytes | None) -> engine.Redone:
        return engine.Redone(*edit(now))

    return replace(change, redo=redo)


def current(target: Path) -> bytes | None:
    return read_bytes(target)
