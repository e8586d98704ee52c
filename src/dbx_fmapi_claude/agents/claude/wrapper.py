"""`dbx-fmapi-claude [claude args…]`: make sure a valid token is there, then exec `claude`.

The hot path: stdlib only, no network call when the token is known to be valid for long enough.
"""

from __future__ import annotations

import os
import sys
import time

from ...auth import source as kinds
from ...auth import tokens
from ...core.errors import ExitCode, UserError
from ...core.paths import Paths, which
from ...record import config
from . import onboarding, settings

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from ...record.view import Configuration
    from . import destination

CLAUDE_INSTALL = "curl -fsSL https://claude.ai/install.sh | bash"
PROG = "dbx-fmapi-claude"


def find_claude(env: Mapping[str, str], home: str | os.PathLike[str]) -> str | None:
    """`claude` on PATH, else where its installers put it."""
    found = which("claude", env)
    if found:
        return found
    home = os.fspath(home)
    for path in (
        os.path.join(home, ".local", "bin", "claude"),
        os.path.join(home, ".claude", "local", "claude"),
    ):
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


def _still_usable(exc: UserError, expiry: float | None) -> bool:
    """After a failed refresh: may claude start anyway? Yes when the failure is not one a login
    or a fix on this machine would cure (the network, the workspace) and the token it will use
    still has life; claude's own helper runs will refresh it once the workspace answers."""
    kind = getattr(exc, "kind", None)
    if kind not in ("network", "timeout", "failed", "old_cli") or expiry is None:
        return False
    left = expiry - time.time()
    if left <= tokens.USABLE_SLACK:
        return False
    sys.stderr.write(
        f"{PROG}: warning: {exc.message}; starting claude with the current token, which lives "
        f"{left:.0f}s more\n"
    )
    return True


def ensure_helper_token(paths: Paths, env: Mapping[str, str], cfg: Configuration) -> None:
    kind = kinds.of(cfg.auth)
    if not kind.expiry_known:
        return  # nothing expires that we could know of: the helper hands out the PAT as is
    if not kind.browser_login:
        return _ensure_source_token(paths, env, cfg)
    profile = str(cfg.profile)
    need = tokens.needed_lifetime(env, cfg)
    expiry = tokens.known_expiry(paths, profile)
    if expiry is not None and expiry - time.time() > need:
        return  # known valid: no CLI call, no network
    _say_refreshing()
    try:
        request = tokens.TokenRequest(paths, env, sys.stderr, need=need, allow_login=True)
        tokens.get_token(request, profile, str(cfg.host))
    except UserError as exc:
        if not _still_usable(exc, expiry):
            raise


def _ensure_source_token(paths: Paths, env: Mapping[str, str], cfg: Configuration) -> None:
    """A service principal: its cached token when it lives long enough, else a fresh one."""
    from ...auth import credentials

    source = credentials.for_record(cfg, env, paths.home_path)
    need = tokens.needed_lifetime(env, cfg)
    expiry = credentials.known_expiry(source, paths)
    if expiry is not None and expiry - time.time() > need:
        return
    _say_refreshing()
    try:
        credentials.token(source, tokens.TokenRequest(paths, env, sys.stderr, need=need))
    except UserError as exc:
        if not _still_usable(exc, expiry):
            raise


def _static_expiry(paths: Paths, profile: str, token: str) -> float | None:
    """The token's own `exp` (Databricks OAuth tokens are JWTs), else the expiry we recorded
    for it (matched by fingerprint: hashing costs an import, so only when needed)."""
    expiry = tokens.jwt_expiry(token)
    return expiry if expiry is not None else tokens.known_expiry(paths, profile, token)


def ensure_static_token(paths: Paths, env: Mapping[str, str], cfg: Configuration) -> None:
    """Static mode: refresh ANTHROPIC_AUTH_TOKEN in the settings file when it is about to expire,
    under the profile lock, atomically, keeping every other key and the file 0600."""
    profile = str(cfg.profile)
    path = str(cfg.settings_file)
    need = tokens.needed_lifetime(env, cfg)

    def current() -> tuple[dict[str, Any], str | None]:
        data, _ = settings.load(path)
        return data, settings.stored_token(data)

    def fresh(tok: str | None) -> bool:
        expiry = _static_expiry(paths, profile, tok) if tok else None
        return expiry is not None and expiry - time.time() > need

    _, tok = current()
    if fresh(tok):
        return
    with tokens.profile_lock(paths, profile):
        data, tok = current()  # another launch may have refreshed it while we waited
        if fresh(tok):
            return
        _say_refreshing()
        try:
            if kinds.of(cfg.auth).browser_login:
                request = tokens.TokenRequest(paths, env, sys.stderr, need=need, allow_login=True)
                new = tokens.get_token(request, profile, str(cfg.host), locked=True)
            else:  # a service principal (setup refuses static mode for a PAT)
                from ...auth import credentials

                source = credentials.for_record(cfg, env, paths.home_path)
                new = credentials.token(
                    source, tokens.TokenRequest(paths, env, sys.stderr, need=need)
                )
        except UserError as exc:
            if _still_usable(exc, _static_expiry(paths, profile, tok) if tok else None):
                return
            raise
        data, tok = current()  # again: setup or an editor may have changed it meanwhile
        if new.access_token != tok:
            from pathlib import Path  # only to write: the check above stays pathlib-free

            settings.store(Path(path), settings.set_token(data, new.access_token), secret=True)


def _asks_help(argv: list[str]) -> bool:
    for arg in argv:
        if arg == "--":
            return False
        if arg in ("-h", "--help"):
            return True
    return False


def _help_header(cfg: Configuration | None) -> str:
    where = (
        f"set up for {cfg.host} (profile {cfg.profile or 'from DATABRICKS_*'})"
        if cfg
        else "not set up yet: setup-fmapi-claudecode"
    )
    return (
        f"{PROG}: runs `claude` with the same arguments after making sure its Databricks "
        f"token is fresh; {where}.\n"
        f"{PROG}: manage it with `dbx-fmapi status`, `dbx-fmapi doctor`, `dbx-fmapi --help`. "
        "Claude Code's own help follows.\n\n"
    )


def _say_refreshing() -> None:
    """A refresh can take seconds (a slow token endpoint, a login): say so, on a terminal."""
    try:
        tty = sys.stderr.isatty()
    except (ValueError, OSError):
        tty = False
    if tty:
        sys.stderr.write(f"{PROG}: getting a fresh Databricks token...\n")
        sys.stderr.flush()


def run(argv: list[str], env: Mapping[str, str]) -> int:
    paths = Paths.from_env(env)
    # The configuration Claude Code will use here: a folder set up for another workspace has
    # its own (setup's record holds one per settings file).
    cwd = os.getcwd()
    if _asks_help(argv):  # help needs no token: ours first (stderr), then claude's
        cfg = config.load(paths, cwd)
        sys.stderr.write(_help_header(cfg if config.is_set_up(cfg) else None))
        claude = find_claude(env, paths.home_path)
        if claude is None:
            raise UserError("Claude Code (`claude`) is not installed", CLAUDE_INSTALL)
        sys.stderr.flush()
        os.execv(claude, [claude, *argv])  # noqa: S606 - claude prints its help
    cfg = config.require(paths, cwd)
    claude = find_claude(env, paths.home_path)
    if claude is None:
        raise UserError("Claude Code (`claude`) is not installed", CLAUDE_INSTALL)
    from . import destination

    levels = destination.Levels(paths.home_path, cwd, env)  # each settings file read once
    refused = levels.refusal(cfg.host or "")
    if refused is not None:  # claude would send the workspace's token somewhere else
        raise refused
    if cfg.static:
        ensure_static_token(paths, env, cfg)
    else:
        ensure_helper_token(paths, env, cfg)
    try:
        onboarding.restore(paths, cfg)  # a claude running during setup may have dropped it
    except UserError as exc:  # claude then shows its onboarding screens: worth a line, no more
        sys.stderr.write(f"{PROG}: warning: {exc.message}\n")
    if env.get("ANTHROPIC_API_KEY"):
        # A personal key in the shell would go to the workspace as x-api-key: not through us.
        sys.stderr.write(
            f"{PROG}: note: ANTHROPIC_API_KEY from your shell is not passed to claude (it would "
            "be sent to your Databricks workspace)\n"
        )
        clean = {k: v for k, v in env.items() if k != "ANTHROPIC_API_KEY"}
    else:
        clean = None
    sys.stdout.flush()
    sys.stderr.flush()
    args, extra = _relayed(argv, env, cfg, paths, levels)
    if extra:
        launch = {**(os.environ if clean is None else clean), **extra}
        os.execve(claude, [claude, *args, *argv], launch)  # noqa: S606 - as below
    if clean is not None:
        os.execve(claude, [claude, *argv], clean)  # noqa: S606 - as below, minus the key
    os.execv(claude, [claude, *argv])  # noqa: S606 - replacing ourselves with claude is the job
    return ExitCode.ERROR  # pragma: no cover - execv does not return


def _relayed(
    argv: list[str],
    env: Mapping[str, str],
    cfg: Mapping[str, Any],
    paths: Paths,
    levels: destination.Levels,
) -> tuple[list[str], dict[str, str]]:
    """claude's extra arguments and environment when it runs behind the relay (relayed.py):
    a token rejected mid-session is then replaced and the request sent again; with telemetry
    on (`--otel-tables`), Claude Code's exports are answered on loopback and sent on by the
    relay, off claude's way. `levels`: the settings levels as the launch read them."""
    from . import relayed

    if not relayed.wanted(argv, env, cfg):
        return [], {}
    base = levels.base_url()
    if not base or not base.startswith(("https://", "http://127.0.0.1")):
        return [], {}
    # Telemetry on: the exports go through the relay unless another level decides for claude.
    from ...telemetry import tables

    host = cfg.get("host")
    otel = (
        tables.prefix_of(cfg) is not None
        and isinstance(host, str)
        and levels.otel_relayable(tables.endpoint(host))
    )
    started = relayed.start(base, cfg, paths, env, otel=otel)
    return started if started is not None else ([], {})


def main() -> None:
    try:
        code = run(sys.argv[1:], os.environ)
    except UserError as exc:
        sys.stderr.write(exc.render(PROG) + "\n")
        code = exc.code
    except KeyboardInterrupt:
        sys.stderr.write("\n")
        code = ExitCode.INTERRUPTED
    except OSError as exc:
        sys.stderr.write(f"{PROG}: error: cannot start claude: {exc.strerror or exc}\n")
        code = ExitCode.ERROR
    except Exception as exc:  # noqa: BLE001 - a bug of ours: one line and exit 3, no traceback
        from ...core.errorhandler import report  # only now: its imports stay off the launch path

        code = report(PROG, exc)
    sys.exit(int(code))
