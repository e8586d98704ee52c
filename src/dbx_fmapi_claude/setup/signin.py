"""Setup's workspace steps: the workspace and its credential (flags, prompts, the DATABRICKS_*
variables), the dependencies, signing in."""

from __future__ import annotations

import time
from collections.abc import Mapping
from types import MappingProxyType

from ..auth import credentials, dbcli, loginpolicy, tokens
from ..auth.profilechoice import offered_profile, profile_hosts, switched_profile
from ..core.errors import ExitCode, usage_error
from ..workspace.hosts import EXAMPLE, normalize_host, same_host
from .answers import ENV_VARS, HELPER, PROG, STATIC, check_profile, span
from .context import SetupContext
from .results import Credential, Env, Flags, SignedIn


def _frozen(profiles: Mapping[str, str] | None) -> Mapping[str, str] | None:
    return None if profiles is None else MappingProxyType(dict(profiles))


def ask_host_and_profile(sc: SetupContext, flags: Flags) -> Credential:
    p = sc.prompter
    prev = flags.defaults()
    host, profile, mode = flags.answers.host, flags.answers.profile, flags.answers.token_mode
    if not host:
        prev_host = prev.get("host")
        if p is not None:
            host = p.text(
                "Workspace URL",
                str(prev_host) if prev_host else None,
                normalize_host,
                hint=None if prev_host else f"(e.g. {EXAMPLE})",
            )
        elif (found := env_credential(sc)) is not None:
            # CI: DATABRICKS_HOST with a token or client id/secret names the workspace
            # (read under the one host rule, as every source's host).
            host = str(found.host)
        elif isinstance(prev_host, str) and prev_host and sc.ctx.stdin_is_tty():
            # --yes on a terminal keeps the previous workspace; without a terminal the
            # contract wants the workspace named (scripts must say what they configure).
            host = normalize_host(prev_host)
        else:
            why = (
                "stdin is not a terminal"
                if not sc.ctx.stdin_is_tty()
                else "--yes turns the prompts off"
            )
            named = normalize_host(prev_host) if isinstance(prev_host, str) and prev_host else ""
            raise usage_error(
                f"--host is required: {why}, so setup cannot ask for the workspace URL",
                f"{PROG} --host {named or EXAMPLE}"
                + ("   (the workspace configured here)" if named else ""),
            )
    profiles = profile_hosts(sc.ctx)
    named = sc.env.get(credentials.PROFILE_VAR, "").strip()
    if not profile and named:
        # The SDKs take DATABRICKS_CONFIG_PROFILE as a named profile, the variables'
        # credential merging into it (credentials.resolve).
        profile = check_profile(named)
    env_source = env_credential(sc)
    if not profile and env_source is not None and sc.opts.auth in (None, env_source.kind):
        if env_source.host != host:
            raise usage_error(
                f"DATABRICKS_HOST is {env_source.host}, not the --host {host}: its "
                "credential belongs to another workspace",
                f"{PROG} --host {env_source.host}",
            )
        # profile "": the helper reads the same variables when Claude Code runs it
        mode = checked_mode(sc, env_source, mode)
        return Credential(env_source, _frozen(profiles), host, "", mode)
    if not profile:
        switched = switched_profile(sc.ctx) if profiles else None
        default = offered_profile(prev, host, profiles, switched)
        if p is not None:
            profile = p.text(
                "Databricks CLI profile name",
                default,
                lambda v: profile_for_host(sc, check_profile(v), host, profiles),
            )
        else:
            profile = default
    profile_for_host(sc, profile, host, profiles)
    source = profile_credential(sc, profile, host, profiles)
    mode = checked_mode(sc, source, mode)
    return Credential(source, _frozen(profiles), host, profile, mode)


def env_credential(sc: SetupContext) -> credentials.Source | None:
    """DATABRICKS_HOST plus a token or a client id/secret: enough for CI, no profile."""
    source = credentials.from_env(sc.env)
    return source if source is not None and source.host else None


def profile_credential(
    sc: SetupContext, profile: str, host: str, profiles: Mapping[str, str] | None
) -> credentials.Source:
    """What the profile holds (a new profile: OAuth, a login creates it), checked against
    --auth."""
    auth = sc.opts.auth
    known = profile in (profiles or {})
    source = (
        credentials.resolve(profile, sc.env, sc.paths.home_path)
        if known
        else credentials.Source(credentials.OAUTH, host, profile)
    )
    if auth and auth != source.kind:
        if not known:
            raise usage_error(
                f"--auth {auth} needs a profile holding a {credentials.NAMES[auth]}, or "
                f"DATABRICKS_HOST with {ENV_VARS[auth]}; profile {profile!r} is not in "
                "~/.databrickscfg",
                f"export DATABRICKS_HOST={host} {ENV_VARS[auth]}, then re-run setup",
            )
        raise usage_error(
            f"profile {profile!r} holds a {credentials.NAMES[source.kind]}, not the "
            f"--auth {auth} asked for",
            f"{PROG} --host {host} --profile {profile} --auth {source.kind}",
        )
    source.host = host  # this step's own Source, before it becomes its result
    return source


def checked_mode(sc: SetupContext, source: credentials.Source, mode: str) -> str:
    """The token mode: helper when the credential cannot go into a file (--token-mode static
    asked for one: refused)."""
    if not source.credential_kind.static_mode:
        if sc.opts.token_mode == STATIC:
            raise usage_error(
                "static mode would copy your personal access token into a settings file; "
                "helper mode hands it to Claude Code without copying it",
                f"{PROG} --token-mode helper",
            )
        return HELPER
    return mode


def profile_for_host(
    sc: SetupContext, profile: str, host: str, profiles: Mapping[str, str] | None
) -> str:
    """`profile`, unless ~/.databrickscfg has it for another workspace."""
    known = (profiles or {}).get(profile)
    if known and not same_host(known, host):
        raise usage_error(
            f"profile {profile!r} in ~/.databrickscfg is for {known}, not {host}",
            f"use another profile name: {PROG} --host {host} --profile NEW-NAME",
        )
    if known:  # a credential we cannot use (azure-cli, basic...) is refused at once
        credentials.resolve(profile, sc.env, sc.paths.home_path)
    return profile


# --- the dependencies ---------------------------------------------------------------------


def dependencies(sc: SetupContext) -> Env:
    """Claude Code and the Databricks CLI, installed when missing and allowed; the environment
    the later steps run programs in (an install puts its folders on PATH)."""
    from . import install  # its subprocess: not for a flag refused before this step

    env: Mapping[str, str] = dict(sc.env)
    kw = {"dry_run": sc.dry_run, "err": sc.info, "allowed": sc.may_install}
    for step in (
        install.claude_code(env, sc.paths.home, **kw),  # type: ignore[arg-type]
        install.databricks_cli(env, sc.paths.home, **kw),  # type: ignore[arg-type]
    ):
        if step.action == "missing":
            if step.name == "Claude Code":
                sc.not_installed(step.name, str(step.command))
            continue  # the CLI: signing in says so, when the credential needs it
        if step.action == "found":
            sc.out(f"  ok    {step.name}: {step.path}")
        elif step.action == "installed":
            sc.out(f"  ok    {step.name}: installed ({step.path})")
            env = install.with_extra_path(env, sc.paths.home)
        else:
            sc.out(f"  would install {step.name}: {step.command}")
    if dbcli.find(env) is not None:
        warning = dbcli.too_old_warning(dbcli.version(env))
        if warning:
            sc.warn(warning)
    return Env(MappingProxyType(dict(env)))


# --- signing in ---------------------------------------------------------------------------


def token_request(sc: SetupContext, flags: Flags, env: Mapping[str, str]) -> tokens.TokenRequest:
    """How setup asks for tokens: in its own environment (an install may have grown PATH),
    for the lifetime its answers need, never with a login (setup runs that itself)."""
    a = flags.answers
    plain = {k: v for k, v in env.items() if k != "CLAUDE_CODE_API_KEY_HELPER_TTL_MS"}
    cfg = {"ttl_seconds": a.ttl_seconds, "margin_seconds": a.margin_seconds}
    need = tokens.needed_lifetime(plain, cfg)
    return tokens.TokenRequest(sc.paths, dict(env), sc.ctx.stderr, need=need)


def can_login(sc: SetupContext, env: Mapping[str, str]) -> bool:
    browser = env.get("BROWSER", "")
    return (
        sc.ctx.stdin_is_tty() or loginpolicy.has_display(env) or bool(browser and browser != "none")
    )


def authenticate(sc: SetupContext, credential: Credential, flags: Flags, found: Env) -> SignedIn:
    from . import install

    env = dict(found.env)
    source = credential.source
    if source is not None and not source.credential_kind.browser_login:
        return authenticate_without_browser(sc, source, token_request(sc, flags, env))
    host, profile = credential.host, credential.profile
    if dbcli.find(env) is None:
        mac = install.platform(env) == "darwin"
        raise dbcli.CliError(
            "missing",
            "the Databricks CLI (`databricks`) is not installed",
            f"let setup install it: {PROG} --install   (or install it yourself: "
            f"{install.DATABRICKS_BREW if mac else install.DATABRICKS_CURL})",
        )
    profiles = credential.profiles
    known = None if profiles is None else profiles.get(profile)
    login = profiles is not None and not known

    token: dbcli.Token | None = None

    def fetch() -> dbcli.Token:
        if sc.dry_run:  # read-only: no lock file, no token-state record
            return dbcli.auth_token(profile, env=env, host=host)
        return tokens.get_token(token_request(sc, flags, env), profile, host)

    if not login:
        try:
            with sc.progress.step(f"getting a token for profile {profile}"):
                token = fetch()
        except dbcli.CliError as exc:
            if exc.kind not in ("login", "profile"):
                raise
            login = True
    if login:
        command = dbcli.login_command(host, profile)
        if sc.dry_run:
            sc.out(f"  would log in: {command}")
            return SignedIn(None)
        # A typo in the URL, a refused port, an untrusted certificate: said now, as what it
        # is (exit 1), not as a failed login after the CLI's retries.
        dbcli.check_reachable(host, env)
        if not can_login(sc, env):
            raise dbcli.CliError(
                "login",
                f"Databricks login needed for profile {profile!r} and there is no terminal "
                "or browser here to do it",
                command,
                ExitCode.AUTH_NEEDED,
            )
        loginpolicy.login(host, profile, env, sc.ctx.stderr)
        token = fetch()
    left = token.expiry - time.time() if token else 0.0
    sc.out(f"  ok    signed in: profile {profile} (token valid for {span(left)})")
    return SignedIn(token.access_token if token else None)


def authenticate_without_browser(
    sc: SetupContext, source: credentials.Source, request: tokens.TokenRequest
) -> SignedIn:
    """A service principal or a PAT: a token straight away, never a login (a dry run
    fetches one without keeping it)."""
    kind = source.credential_kind
    token = kind.dry_run_token(source, request) if sc.dry_run else kind.token(source, request)
    what = f"{kind.label} from {source.origin}"
    if not kind.expiry_known:
        sc.out(f"  ok    credential: {what} (no expiry known)")
    else:
        left = token.expiry - time.time()
        sc.out(f"  ok    credential: {what} (token valid for {span(left)})")
    return SignedIn(token.access_token)
