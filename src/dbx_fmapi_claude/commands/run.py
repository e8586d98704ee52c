"""`dbx-fmapi run AGENT [args…]`: start a configured coding agent with fresh credentials.

- `claude`: the wrapper (`dbx-fmapi-claude`), which makes sure a valid token is there.
- `codex`: codex itself; its config's auth command refreshes the token.
- `gemini`, `opencode`: a loopback proxy (agents/proxy.py) for the agent's lifetime, with the
  agent pointed at it and the per-launch secret as its API key (in the environment, never in
  argv); the proxy puts a fresh token on each request. The agent runs in the foreground: Ctrl-C
  reaches it (it is in the terminal's foreground group; we ignore it meanwhile), SIGTERM and
  SIGHUP are passed on, and its exit status is ours; the proxy stops after it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Mapping
from typing import Any

from .. import agents
from ..agents.freshtoken import FreshToken, quiet
from ..auth import credentials, tokens
from ..core.context import Context
from ..core.errors import ExitCode, UserError
from ..record import config

SETUP = "setup-fmapi-claudecode"


def _configured(cfg: dict[str, Any], name: str) -> dict[str, Any]:
    state = cfg.get(name)
    if name not in config.agents_of(cfg) or not isinstance(state, dict):
        others = ",".join([*config.agents_of(cfg), name])
        raise UserError(
            f"{agents.get(name).label} is not set up for the configuration in effect here "
            f"({cfg.get('settings_file')})",
            f"{SETUP} --agents {others}",
        )
    return state


def _program(name: str, ctx: Context) -> str:
    agent = agents.get(name)
    exe = agent.find(ctx.env, ctx.paths.home_path)
    if exe is None:
        raise UserError(
            f"{agent.label} (`{agent.program}`) is not installed", f"{agent.install_command}"
        )
    return exe


def run(*, ctx: Context, agent: str, args: list[str]) -> int:
    if args[:1] == ["--"]:
        args = args[1:]
    if agent == "claude":
        from ..agents.claude import wrapper

        return wrapper.run(list(args), ctx.env)
    cfg = config.require(ctx.paths, ctx.cwd_path)
    state = _configured(cfg, agent)
    exe = _program(agent, ctx)
    if agent == "codex":
        from ..agents import firstrun

        codex = agents.get(agent)
        if not firstrun.watch(codex, list(args), ctx):
            os.execv(exe, [exe, *args])  # noqa: S606 - codex refreshes its own token
        code = _foreground([exe, *args], dict(ctx.env))
        retry = firstrun.again(codex, list(args), code, ctx)
        return code if retry is None else _foreground([exe, *retry], dict(ctx.env))
    return _behind_proxy(ctx, cfg, agent, state, exe, list(args))


def _behind_proxy(
    ctx: Context,
    cfg: config.Configuration,
    name: str,
    state: dict[str, Any],
    exe: str,
    args: list[str],
) -> int:
    from ..agents import proxy
    from ..auth.tokens import margin_seconds

    source = credentials.for_record(cfg, ctx.env, ctx.paths.home_path)
    # The login (if any) happens here, on the terminal, before the agent starts.
    first = credentials.token(source, tokens.request_for(ctx, cfg, allow_login=True))

    def fetch() -> Any:
        return credentials.token(source, tokens.request_for(ctx, cfg, err=quiet()))

    def refetch() -> Any:  # the workspace refused the held token: ask it, refresh if rejected
        request = tokens.request_for(ctx, cfg, err=quiet())
        request.always_check = True
        return credentials.token(source, request)

    keep = max(margin_seconds(ctx.env, cfg), 30.0)
    fresh = FreshToken(fetch, keep=keep, held=first, refetch=refetch)
    agent = agents.get(name)
    base = str(state.get("base_url") or "")
    with contextlib.ExitStack() as stack:
        p = stack.enter_context(proxy.start(base, token=fresh, env=ctx.env))
        env = launch_env(ctx.env, agent.launch_env(state, p.url, p.secret))
        if _has_mcp(cfg):  # the MCP servers in its config point here (mcp/agentfiles.py)
            from ..mcp import agentfiles

            root = stack.enter_context(proxy.start(str(cfg["host"]), token=fresh, env=ctx.env))
            env.update({agentfiles.ENV_URL: root.url, agentfiles.ENV_KEY: root.secret})
        code = _foreground([exe, *args], env)
        from ..agents import firstrun

        retry = firstrun.again(agent, args, code, ctx)
        return code if retry is None else _foreground([exe, *retry], env)


def _has_mcp(cfg: dict[str, Any]) -> bool:
    found = cfg.get("mcp")
    return isinstance(found, list) and bool(found)


# The user's own choice of model in the environment wins over the configured one (a `-m` flag
# wins over both, in the agent itself).
USER_WINS = ("GEMINI_MODEL", "OPENCODE_CONFIG_CONTENT")


def launch_env(env: Mapping[str, str], ours: Mapping[str, str]) -> dict[str, str]:
    """The agent's environment: the user's, with ours on top, except USER_WINS."""
    out = {**env, **ours}
    for key in USER_WINS:
        if key in env:
            out[key] = env[key]
    return out


def _foreground(argv: list[str], env: dict[str, str]) -> int:
    """Run argv to its end; its exit status (128+N for a signal, as a shell reports it)."""
    try:
        child = subprocess.Popen(argv, env=env)  # noqa: S603 - the user's own agent
    except OSError as exc:
        raise UserError(
            f"cannot start {argv[0]}: {exc.strerror or exc}", f"check it runs: {argv[0]} --version"
        ) from None

    def forward(signum: int, _frame: Any) -> None:
        with contextlib.suppress(ProcessLookupError):
            child.send_signal(signum)

    saved = {
        signal.SIGINT: signal.signal(signal.SIGINT, signal.SIG_IGN),
        signal.SIGTERM: signal.signal(signal.SIGTERM, forward),
        signal.SIGHUP: signal.signal(signal.SIGHUP, forward),
    }
    try:
        code = child.wait()
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)
    return 128 - code if code < 0 else code if code < 256 else ExitCode.ERROR
