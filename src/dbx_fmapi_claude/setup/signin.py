"""Steps 1-3: the answers (flags, prompts, defaults), the dependencies, signing in."""

from __future__ import annotations

import time
from collections.abc import Mapping
from types import MappingProxyType

from ..auth import credentials, dbcli, tokens
from ..auth.profilechoice import offered_profile, profile_hosts, switched_profile
from ..core.errors import ExitCode, usage_error
from ..workspace.hosts import EXAMPLE, normalize_host, same_host
from . import install
from .answers import (
    ENV_VARS,
    HELPER,
    PROG,
    STATIC,
    check_profile,
    span,
)
from .previous import PreviousSteps
from .results import Credential, SignedIn


def _frozen(profiles: Mapping[str, str] | None) -> Mapping[str, str] | None:
    return None if profiles is None else MappingProxyType(dict(profiles))


class SignIn(PreviousSteps):
    def interactive(self) -> bool:
        return self.opts.host is None and not self.opts.yes and self.ctx.stdin_is_tty()

    def ask_host_and_profile(self) -> Credential:
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
            elif (found := self.env_credential()) is not None:
                # CI: DATABRICKS_HOST with a token or client id/secret names the workspace
                # (read under the one host rule, as every source's host).
                self.a.host = str(found.host)
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
                host = normalize_host(prev_host) if isinstance(prev_host, str) and prev_host else ""
                raise usage_error(
                    f"--host is required: {why}, so setup cannot ask for the workspace URL",
                    f"{PROG} --host {host or EXAMPLE}"
                    + ("   (the workspace configured here)" if host else ""),
                )
        profiles = profile_hosts(self.ctx)
        named = self.env.get(credentials.PROFILE_VAR, "").strip()
        if not self.a.profile and named:
            # The SDKs take DATABRICKS_CONFIG_PROFILE as a named profile, the variables'
            # credential merging into it (credentials.resolve).
            self.a.profile = check_profile(named)
        env_source = self.env_credential()
        if (
            not self.a.profile
            and env_source is not None
            and self.opts.auth
            in (
                None,
                env_source.kind,
            )
        ):
            self.use_env_credential(env_source)
            return Credential(env_source, _frozen(profiles))
        if not self.a.profile:
            switched = switched_profile(self.ctx) if profiles else None
            default = offered_profile(self.prev, self.a.host, profiles, switched)
            if p is not None:
                self.a.profile = p.text(
                    "Databricks CLI profile name",
                    default,
                    lambda v: self.profile_for_host(check_profile(v), profiles),
                )
            else:
                self.a.profile = default
        self.profile_for_host(self.a.profile, profiles)
        return Credential(self.profile_credential(self.a.profile, profiles), _frozen(profiles))

    def env_credential(self) -> credentials.Source | None:
        """DATABRICKS_HOST plus a token or a client id/secret: enough for CI, no profile."""
        source = credentials.from_env(self.env)
        return source if source is not None and source.host else None

    def use_env_credential(self, source: credentials.Source) -> None:
        if source.host != self.a.host:
            raise usage_error(
                f"DATABRICKS_HOST is {source.host}, not the --host {self.a.host}: its "
                "credential belongs to another workspace",
                f"{PROG} --host {source.host}",
            )
        self.a.profile = ""  # the helper reads the same variables when Claude Code runs it
        self.check_mode(source)

    def profile_credential(
        self, profile: str, profiles: Mapping[str, str] | None
    ) -> credentials.Source:
        """What the profile holds (a new profile: OAuth, a login creates it), checked against
        --auth."""
        auth = self.opts.auth
        known = profile in (profiles or {})
        source = (
            credentials.resolve(profile, self.env, self.paths.home_path)
            if known
            else credentials.Source(credentials.OAUTH, self.a.host, profile)
        )
        if auth and auth != source.kind:
            if not known:
                raise usage_error(
                    f"--auth {auth} needs a profile holding a {credentials.NAMES[auth]}, or "
                    f"DATABRICKS_HOST with {ENV_VARS[auth]}; profile {profile!r} is not in "
                    "~/.databrickscfg",
                    f"export DATABRICKS_HOST={self.a.host} {ENV_VARS[auth]}, then re-run setup",
                )
            raise usage_error(
                f"profile {profile!r} holds a {credentials.NAMES[source.kind]}, not the "
                f"--auth {auth} asked for",
                f"{PROG} --host {self.a.host} --profile {profile} --auth {source.kind}",
            )
        source.host = self.a.host
        self.check_mode(source)
        return source

    def check_mode(self, source: credentials.Source) -> None:
        if not source.credential_kind.static_mode:
            if self.opts.token_mode == STATIC:
                raise usage_error(
                    "static mode would copy your personal access token into a settings file; "
                    "helper mode hands it to Claude Code without copying it",
                    f"{PROG} --token-mode helper",
                )
            self.a.token_mode = HELPER

    def profile_for_host(self, profile: str, profiles: Mapping[str, str] | None) -> str:
        """`profile`, unless ~/.databrickscfg has it for another workspace."""
        known = (profiles or {}).get(profile)
        if known and not same_host(known, self.a.host):
            raise usage_error(
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
        kw = {"dry_run": self.dry_run, "err": self.info, "allowed": self.may_install}
        for step in (
            install.claude_code(self.env, self.paths.home, **kw),  # type: ignore[arg-type]
            install.databricks_cli(self.env, self.paths.home, **kw),  # type: ignore[arg-type]
        ):
            if step.action == "missing":
                if step.name == "Claude Code":
                    self.not_installed(step.name, str(step.command))
                continue  # the CLI: signing in says so, when the credential needs it
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

    def authenticate(self, credential: Credential) -> SignedIn:
        source = credential.source
        if source is not None and not source.credential_kind.browser_login:
            return self.authenticate_without_browser(source)
        host, profile = self.a.host, self.a.profile
        if dbcli.find(self.env) is None:
            mac = install.platform(self.env) == "darwin"
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
            if self.dry_run:  # read-only: no lock file, no token-state record
                return dbcli.auth_token(profile, env=self.env, host=host)
            return tokens.get_token(self.token_request(), profile, host)

        if not login:
            try:
                with self.progress.step(f"getting a token for profile {profile}"):
                    token = fetch()
            except dbcli.CliError as exc:
                if exc.kind not in ("login", "profile"):
                    raise
                login = True
        if login:
            command = dbcli.login_command(host, profile)
            if self.dry_run:
                self.out(f"  would log in: {command}")
                return SignedIn(None)
            # A typo in the URL, a refused port, an untrusted certificate: said now, as what it
            # is (exit 1), not as a failed login after the CLI's retries.
            dbcli.check_reachable(host, self.env)
            if not self.can_login():
                raise dbcli.CliError(
                    "login",
                    f"Databricks login needed for profile {profile!r} and there is no terminal "
                    "or browser here to do it",
                    command,
                    ExitCode.AUTH_NEEDED,
                )
            tokens.login(host, profile, self.env, self.ctx.stderr)
            token = fetch()
        left = token.expiry - time.time() if token else 0.0
        self.out(f"  ok    signed in: profile {profile} (token valid for {span(left)})")
        return SignedIn(token.access_token if token else None)

    def authenticate_without_browser(self, source: credentials.Source) -> SignedIn:
        """A service principal or a PAT: a token straight away, never a login (a dry run
        fetches one without keeping it)."""
        kind = source.credential_kind
        if self.dry_run:
            token = kind.dry_run_token(source, self.token_request())
        else:
            token = kind.token(source, self.token_request())
        what = f"{kind.label} from {source.origin}"
        if not kind.expiry_known:
            self.out(f"  ok    credential: {what} (no expiry known)")
        else:
            left = token.expiry - time.time()
            self.out(f"  ok    credential: {what} (token valid for {span(left)})")
        return SignedIn(token.access_token)

    # --- 4. models --------------------------------------------------------------------------
