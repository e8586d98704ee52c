"""`dbx-fmapi run AGENT [args…]`: start a configured coding agent with fresh credentials, as its
`launch_mode` says (agents/base.py):

- WRAPPER (Claude Code): the wrapper (`dbx-fmapi-claude`), which makes sure a valid token is there.
- ITSELF (Codex): the program itself, its config's auth command refreshing the token; but where
  `Agent.relayed` says so (Codex: a command that talks to the model) it runs behind the loopback
  proxy too (`Agent.relay_launch`: agents/codex/relayed.py's `-c` overrides of setup's
  provider), so a token rejected mid-session is replaced (DBX_FMAPI_CODEX_RELAY=0 turns it off).
- PROXY (Gemini CLI, OpenCode): a loopback proxy (agents/proxy.py) for the agent's lifetime, with
  the agent pointed at it and the per-launch secret as its API key (in the environment, never in
  argv); the proxy puts a fresh token on each request. The agent runs in the foreground: Ctrl-C
  reaches it (it is in the terminal's foreground group; we ignore it meanwhile), SIGTERM and
  SIGHUP are passed on, and its exit status is ours; the proxy stops after it.
- With `otel_tables` in the configuration, each of them also gets an OTLP proxy for its own
  telemetry (agents/otelproxy.py; Codex then runs in the foreground too, its model requests
  still straight to the workspace).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Mapping, Sequence

from .. import agents
from ..agents.freshtoken import FreshToken, quiet
from ..auth import credentials, tokens
from ..core.context import Context
from ..core.errors import ExitCode, UserError
from ..record import config

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

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
    from ..agents import base

    mode = agents.get(agent).launch_mode
    if mode == base.WRAPPER:
        from ..agents.claude import wrapper

        return wrapper.run(list(args), ctx.env)
    cfg = config.require(ctx.paths, ctx.cwd_path)
    state = _configured(cfg, agent)
    exe = _program(agent, ctx)
    if mode == base.ITSELF:
        from ..agents import firstrun
        from ..telemetry import tables

        own = agents.get(agent)
        if own.relayed(list(args), ctx.env):
            return _behind_proxy(ctx, cfg, agent, state, exe, list(args))
        if tables.prefix_of(cfg) is not None:
            # Its model requests go straight to the workspace; its telemetry through our proxy.
            return _behind_proxy(ctx, cfg, agent, state, exe, list(args), model_proxy=False)
        if not firstrun.watch(own, list(args), ctx):
            os.execv(exe, [exe, *args])  # noqa: S606 - it refreshes its own token
        code = _foreground([exe, *args], dict(ctx.env))
        retry = firstrun.again(own, list(args), code, ctx)
        return code if retry is None else _foreground([exe, *retry], dict(ctx.env))
    return _behind_proxy(ctx, cfg, agent, state, exe, list(args))


def _behind_proxy(
    ctx: Context,
    cfg: config.Configuration,
    name: str,
    state: dict[str, Any],
    exe: str,
    args: list[str],
    *,
    model_proxy: bool = True,
) -> int:
    from ..agents import proxy
    from ..auth.tokens import margin_seconds

    source = credentials.for_record(cfg, ctx.env, ctx.paths.home_path)
    # The login (if any) happens here, on the terminal, before the agent starts. Without the
    # model proxy (Codex: only its telemetry goes through us), the first export fetches it,
    # off the agent's way; a login it needs is the agent's own token command's to ask for.
    first = (
        credentials.token(source, tokens.request_for(ctx, cfg, allow_login=True))
        if model_proxy
        else None
    )

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
        env = dict(ctx.env)
        argv = [exe]
        if model_proxy:
            p = stack.enter_context(
                proxy.start(base, token=fresh, env=ctx.env, login_status=agent.login_status)
            )
            env = launch_env(ctx.env, agent.launch_env(state, p.url, p.secret), agent.user_env)
            added, before_args = agent.relay_launch(state, p.url, p.secret)
            env.update(added)
            argv = [exe, *before_args]
        if model_proxy and _has_mcp(cfg):  # its MCP servers point here (mcp/agentfiles.py)
            from ..mcp import agentfiles

            root = stack.enter_context(proxy.start(str(cfg["host"]), token=fresh, env=ctx.env))
            env.update({agentfiles.ENV_URL: root.url, agentfiles.ENV_KEY: root.secret})
        before: list[str] = []
        from ..telemetry import tables

        prefix = tables.prefix_of(cfg)
        if prefix is not None:  # its telemetry into the workspace's tables (otelproxy.py)
            from ..agents import otelproxy

            spans = tables.spans_on(cfg)
            otel = stack.enter_context(
                otelproxy.start(str(cfg["host"]), fresh, prefix, env=ctx.env, spans=spans)
            )
            added, before = agent.otel_launch(env, otel.url, otel.secret, spans=spans)
            env.update(added)
        code = _foreground([*argv, *before, *args], env)
        from ..agents import firstrun

        retry = firstrun.again(agent, args, code, ctx)
        return code if retry is None else _foreground([*argv, *before, *retry], env)


def _has_mcp(cfg: dict[str, Any]) -> bool:
    found = cfg.get("mcp")
    return isinstance(found, list) and bool(found)


def launch_env(
    env: Mapping[str, str], ours: Mapping[str, str], user_wins: Sequence[str] | None = None
) -> dict[str, str]:
    """The agent's environment: the user's, with ours on top, except `user_wins` (the agent's
    `user_env`, its own choice of model, which a `-m` flag wins over in the agent itself;
    None: every agent's)."""
    if user_wins is None:
        user_wins = [key for agent in agents.every() for key in agent.user_env]
    out = {**env, **ours}
    for key in user_wins:
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
