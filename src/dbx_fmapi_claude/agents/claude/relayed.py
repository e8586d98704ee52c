"""`dbx-fmapi-claude` puts claude behind the loopback relay (agents/relay.py), so a token the
workspace rejects in the middle of a session (revoked, rotated) is replaced and the refused
request sent once more before claude sees anything: on the AI Gateway Claude Code takes the
`400 Invalid Token` as fatal and runs no helper (docs/rejected-tokens.md).

How, keeping the wrapper what it was (claude replaces it by exec: same process, exit status,
signals, terminal and stdin): the wrapper binds a loopback port, forks, and execs claude with
`--settings` pointing its ANTHROPIC_BASE_URL at the port and its apiKeyHelper at a per-launch
key in the environment (never in argv). The forked child leaves the terminal (a session of
its own, stdio on /dev/null), serves the relay (relay_child.py) and ends when claude does.

With telemetry on (`--otel-tables`, and no managed settings deciding it: destination.py), the
relay takes Claude Code's OTLP exports too, on a second port bound the same way: they are
answered at once and sent on to the workspace in the background (docs/telemetry.md).

The hot path: os and _socket only here; the relay's imports happen in the child, while claude
starts. `DBX_FMAPI_CLAUDE_RELAY=0` turns it off (claude then talks to the workspace itself).
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from ...core.paths import Paths

ENV_KEY = "DBX_FMAPI_RELAY_KEY"
ENV_SWITCH = "DBX_FMAPI_CLAUDE_RELAY"
OTEL_ENDPOINT = "OTEL_EXPORTER_OTLP_ENDPOINT"
# claude's commands that make no model request: run as they are.
_SUBCOMMANDS = frozenset(
    {
        "agents",
        "auth",
        "config",
        "doctor",
        "install",
        "mcp",
        "migrate-installer",
        "plugin",
        "plugins",
        "setup-token",
        "update",
        "upgrade",
    }
)
_NO_MODEL = frozenset({"-v", "--version", "-h", "--help"})


def wanted(argv: list[str], env: Mapping[str, str], cfg: Mapping[str, Any]) -> bool:
    """Relay this launch? Helper mode with a token that can be refreshed, a claude command that
    talks to the model, and no `--settings` of the user's own (claude takes one)."""
    if env.get(ENV_SWITCH, "").strip().lower() in ("0", "no", "off", "false"):
        return False
    if cfg.get("token_mode") == "static" or (cfg.get("auth") or "oauth") == "pat":
        return False
    if not hasattr(os, "fork"):
        return False
    if argv and argv[0] in _SUBCOMMANDS:
        return False
    for arg in argv:
        if arg == "--":
            break
        if arg in _NO_MODEL or arg == "--settings" or arg.startswith("--settings="):
            return False
    return True


def start(
    base: str,
    cfg: Mapping[str, Any],
    paths: Paths,
    env: Mapping[str, str],
    *,
    otel: bool = False,
) -> tuple[list[str], dict[str, str]] | None:
    """Start the relay to the workspace URL `base` (claude's ANTHROPIC_BASE_URL): claude's extra
    arguments and environment, or None when it cannot start (claude then goes direct). With
    `otel`, the relay takes Claude Code's OTLP exports as well (relay_child.py), on a second
    port: OTEL_EXPORTER_OTLP_ENDPOINT there, and an otelHeadersHelper that prints the key."""
    import _socket

    socks = []
    try:
        for _ in range(2 if otel else 1):
            sock = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)
            socks.append(sock)
            sock.bind(("127.0.0.1", 0))
            sock.listen(64)  # connections wait here until the child serves them
        ports = [int(sock.getsockname()[1]) for sock in socks]
        secret = os.urandom(24).hex()
        parent = os.getpid()
        pid = os.fork()
    except OSError:
        for sock in socks:
            sock.close()
        return None
    if pid == 0:  # the relay: never returns
        fds = [sock.detach() for sock in socks]
        _child(fds, secret, base, cfg, paths, env, parent)
    for sock in socks:
        sock.close()  # claude needs no copy (and would not get one: not inheritable)
    env_json = f'"ANTHROPIC_BASE_URL": "http://127.0.0.1:{ports[0]}"'
    helper = ""
    if otel:
        env_json += f', "{OTEL_ENDPOINT}": "http://127.0.0.1:{ports[1]}"'
        # `{"Authorization": "Bearer KEY"}`, the key read from claude's environment.
        helper = (
            '"otelHeadersHelper": "printf \'{\\"Authorization\\": \\"Bearer %s\\"}\' '
            f'\\"${ENV_KEY}\\"", '
        )
    settings = f'{{"apiKeyHelper": "printf %s ${ENV_KEY}", {helper}"env": {{{env_json}}}}}'
    return ["--settings", settings], {ENV_KEY: secret}


def _child(
    fds: list[int],
    secret: str,
    base: str,
    cfg: Mapping[str, Any],
    paths: Paths,
    env: Mapping[str, str],
    parent: int,
) -> None:
    code = 0
    try:
        os.setsid()  # no Ctrl-C, no hang-up from the terminal: claude's, not ours
        null = os.open(os.devnull, os.O_RDWR)
        for target in (0, 1, 2):  # nothing of claude's terminal or pipes held open
            os.dup2(null, target)
        os.close(null)
        from . import relay_child

        relay_child.serve(fds, secret, base, cfg, paths, env, parent)
    except BaseException:  # noqa: BLE001 - a child of a fork must never return into the wrapper
        code = 1
    os._exit(code)
