"""`dbx-fmapi mlflow-hook --experiment PATH [--profile P]`: Claude Code's Stop hook for
`--mlflow-experiment` (agents/claude/mlflowhook.py writes it).

Claude Code runs it at the end of every turn with the hook's JSON on stdin, and waits for it. It
gets a token for the profile the way `dbx-fmapi token` does (never a browser login: a hook has no
one to ask), then starts MLflow's own hook, `mlflow autolog claude stop-hook`, from the pinned
MLflow (tracing/mlflowenv.py) in the background, detached, with the same JSON on its stdin, and
returns: MLflow's import and its requests take seconds (docs/performance.md) that the end of a
turn, and a `claude -p` run, should not wait for. Only MLflow's environment carries the
workspace and the token:
MLflow's tracking URI `databricks` authenticates through the Databricks SDK, which reads
DATABRICKS_HOST and DATABRICKS_TOKEN (and, pointed at an empty config file, nothing else). No
token in a file, an argument or a log.

Tracing never breaks a session: whatever goes wrong here (MLflow missing, no token) is one line
in the hook log (~/.config/dbx-fmapi-claude/mlflow-hook.log) and exit 0; `dbx-fmapi doctor` says
what to do. Standard library only, like the token helper.
"""

from __future__ import annotations

import os
import time

from ..core.context import Context
from ..core.errors import ExitCode, UserError

LOG_NAME = "mlflow-hook.log"
NEED_SECONDS = 120.0  # the token outlives MLflow's few requests of this turn
# The user's own MLflow and Databricks settings would send the trace elsewhere, or with another
# credential: the hook's environment has only ours.
DROPPED_PREFIXES = ("DATABRICKS_",)
DROPPED = frozenset(
    {
        "MLFLOW_EXPERIMENT_ID",
        "MLFLOW_TRACKING_TOKEN",
        "MLFLOW_TRACKING_USERNAME",
        "MLFLOW_TRACKING_PASSWORD",
        "MLFLOW_TRACKING_INSECURE_TLS",
    }
)


def hook_env(env: dict[str, str], *, host: str, token: str, experiment: str) -> dict[str, str]:
    """The environment MLflow's hook runs with. `DBX_FMAPI_MLFLOW_TRACKING_URI` (tests: an
    MLflow server behind the fake workspace) replaces the `databricks` tracking URI; the token
    then goes to it as MLFLOW_TRACKING_TOKEN."""
    out = {k: v for k, v in env.items() if not k.startswith(DROPPED_PREFIXES) and k not in DROPPED}
    out.update(
        {
            "DATABRICKS_HOST": host,
            "DATABRICKS_TOKEN": token,
            "DATABRICKS_AUTH_TYPE": "pat",
            "DATABRICKS_CONFIG_FILE": os.devnull,
            "MLFLOW_CLAUDE_TRACING_ENABLED": "true",
            "MLFLOW_TRACKING_URI": "databricks",
            "MLFLOW_EXPERIMENT_NAME": experiment,
        }
    )
    out.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")  # no usage reports to MLflow's servers
    if env.get("SSL_CERT_FILE") and not env.get("REQUESTS_CA_BUNDLE"):
        out["REQUESTS_CA_BUNDLE"] = env["SSL_CERT_FILE"]  # a company proxy's CA, for requests
    override = env.get("DBX_FMAPI_MLFLOW_TRACKING_URI")
    if override:
        out["MLFLOW_TRACKING_URI"] = override
        out["MLFLOW_TRACKING_TOKEN"] = token
    return out


def _log(ctx: Context, line: str) -> None:
    try:
        os.makedirs(ctx.paths.config_dir_path, exist_ok=True)
        path = os.path.join(ctx.paths.config_dir_path, LOG_NAME)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as f:
            f.write(time.strftime("%Y-%m-%dT%H:%M:%S ") + line.replace("\n", " ") + "\n")
    except OSError:
        pass


def run(*, ctx: Context, experiment: str, profile: str | None = None) -> int:
    from ..tracing import mlflowenv

    exe = mlflowenv.installed(ctx.env, ctx.paths.home_path)
    if exe is None:
        _log(ctx, f"MLflow {mlflowenv.VERSION} is not installed: no trace (run dbx-fmapi doctor)")
        return ExitCode.OK
    try:
        host, token = _token(ctx, profile)
    except UserError as exc:
        _log(ctx, f"no token, no trace: {exc.message} (fix: {exc.fix})")
        return ExitCode.OK
    env = hook_env(dict(ctx.env), host=host, token=token, experiment=experiment)
    try:
        payload = ctx.stdin.buffer.read() if hasattr(ctx.stdin, "buffer") else b""
    except (OSError, ValueError):
        payload = b""
    try:
        detach(exe, [exe, "autolog", "claude", "stop-hook"], env, payload)
    except OSError as exc:
        _log(ctx, f"cannot run {exe}: {exc.strerror}")
    return ExitCode.OK


def detach(exe: str, argv: list[str], env: dict[str, str], payload: bytes) -> None:
    """Run `argv` in a session of its own, `payload` on its stdin, its output to /dev/null, and
    return without waiting for it (Claude Code waits for the hook's own output to close)."""
    read, write = os.pipe()
    try:
        os.write(write, payload[:60000])  # the hook's JSON: well under a pipe's buffer
    finally:
        os.close(write)
    pid = os.fork()
    if pid == 0:  # the first child: a new session, then a grandchild nobody waits for
        try:
            os.setsid()
            if os.fork() == 0:
                null = os.open(os.devnull, os.O_RDWR)
                os.dup2(read, 0)
                os.dup2(null, 1)
                os.dup2(null, 2)
                os.execve(exe, argv, env)  # noqa: S606 - MLflow's own hook
        finally:
            os._exit(0)
    os.close(read)
    os.waitpid(pid, 0)


def _token(ctx: Context, profile: str | None) -> tuple[str, str]:
    from ..auth import credentials, tokens
    from ..record import config

    record = config.load_record(ctx.paths)
    views = config.views(record)
    cfg = next((v for v in views if profile and v.get("profile") == profile), None)
    cfg = cfg or config.in_effect(record, ctx.paths, ctx.cwd_path)
    if cfg is not None and (cfg.get("profile") or None) == profile:
        source = credentials.for_record(cfg, ctx.env, ctx.paths.home_path)
    else:
        source = credentials.resolve(profile, ctx.env, ctx.paths.home_path)
    if not source.host:
        raise UserError(f"no workspace known for profile {profile!r}", "setup-fmapi-claudecode")
    request = tokens.request_for(ctx, cfg, need=NEED_SECONDS, allow_login=False)
    tok = credentials.token(source, request)
    return source.host.rstrip("/"), tok.access_token
