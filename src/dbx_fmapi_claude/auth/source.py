"""The kinds of credential (one class each, in one registry: how a token is got, what is known of
its expiry, how it is renewed, what doctor and status check), a resolved credential (its kind,
workspace and profile; secrets only in memory) and the error every credential source raises.
Stdlib only, plain classes: the token helper's path."""

from __future__ import annotations

from ..core.errors import ExitCode, UserError
from ..record.fields import M2M, OAUTH, PAT, WITHOUT_PROFILE  # the record reads them there

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from ..core.paths import Paths
    from .dbcli import Token
    from .tokens import TokenRequest

ENV_ORIGIN = "env"  # the credential comes from DATABRICKS_* variables, not a profile
NO_EXPIRY = float("inf")  # a PAT's expiry is not known from the token


class CredentialError(UserError):
    """`kind`: "rejected" (the workspace refused the secret), "network", "missing", "conflict"
    (two credentials, or two workspaces, at once), "unsupported" (an auth type we do not use),
    "unsafe" (the secret would go somewhere other than the workspace: refused)."""

    def __init__(self, kind: str, message: str, fix: str | None, code: int = ExitCode.ERROR):
        super().__init__(message, fix, code)
        self.kind = kind


class Source:
    """A resolved credential. Holds secrets only in memory; its repr never shows them."""

    __slots__ = ("kind", "host", "profile", "client_id", "_secret")

    def __init__(
        self,
        kind: str,
        host: str | None,
        profile: str | None,
        client_id: str | None = None,
        secret: str | None = None,
    ) -> None:
        self.kind = kind
        self.host = host
        self.profile = profile  # None: from the environment
        self.client_id = client_id
        self._secret = secret  # the client secret (m2m) or the token (pat)

    @property
    def origin(self) -> str:
        return f"profile {self.profile!r}" if self.profile else "DATABRICKS_* variables"

    @property
    def lock_name(self) -> str:
        return f"{self.kind}-{self.profile}" if self.profile else f"{self.kind}-{ENV_ORIGIN}"

    @property
    def credential_kind(self) -> CredentialKind:
        return BY_NAME[self.kind]

    def __repr__(self) -> str:
        return f"Source(kind={self.kind!r}, host={self.host!r}, profile={self.profile!r})"


class CredentialKind:
    """One kind of credential. Each subclass below is one kind; BY_NAME is the registry."""

    name = ""  # as in --auth and the record
    auth_type = ""  # the SDKs' auth_type (in a profile, DATABRICKS_AUTH_TYPE) that chooses it
    label = ""  # for people
    in_profile = ""  # what a profile holding it holds, for messages
    short = ""  # in --auth's help
    env_vars = ""  # the DATABRICKS_* variables that hold it (setup's messages)
    expiry_known = True  # its tokens say when they expire (a PAT's do not)
    renewed = True  # a token the workspace rejects can be replaced by a new one (not a PAT's)
    static_mode = True  # its token may be copied into a settings file (static token mode)
    status_source = "credential"  # `status --check`: where its token came from
    rejected_fix = ""  # `status --check`: the fix when the workspace rejects its token
    checked_by_workspace = False  # only the workspace can tell whether it is still good

    @property
    def browser_login(self) -> bool:
        """A person's browser login through the Databricks CLI renews it (else it holds its
        secret itself, and may come from DATABRICKS_* variables without a profile)."""
        return self.name not in WITHOUT_PROFILE

    def token(self, source: Source, request: TokenRequest) -> Token:
        """A token that stays valid for `request.need` seconds where that can be known."""
        raise NotImplementedError

    def known_expiry(self, source: Source, paths: Paths) -> float | None:
        """What we know of the current token's expiry without asking anyone."""
        return None

    def dry_run_token(self, source: Source, request: TokenRequest) -> Token:
        """A token for setup's dry run, which keeps nothing."""
        return self.token(source, request)

    def source(self, host: str | None, profile: str | None, values: Mapping[str, str]) -> Source:
        """The credential of this kind that `values` (a profile's keys, or the DATABRICKS_*
        variables') hold, for `host`."""
        return Source(self.name, host, profile)

    def login_note(self, source: Source, token: Token, now: float) -> str | None:
        """What `dbx-fmapi login` says of the token it got for a credential of this kind that
        no browser login renews (None: nothing more)."""
        return None


class OAuth(CredentialKind):
    """A person's browser login, through `databricks auth token` (auth/tokens.py)."""

    name, label, short = OAUTH, "OAuth (browser login)", "browser login"
    auth_type = "databricks-cli"
    status_source = "cli"
    rejected_fix = "dbx-fmapi login"  # not reached: a rejected login is replaced or refused

    def token(self, source: Source, request: TokenRequest) -> Token:
        from . import tokens

        return tokens.get_token(request, str(source.profile), source.host)

    def known_expiry(self, source: Source, paths: Paths) -> float | None:
        from . import tokens

        return tokens.known_expiry(paths, str(source.profile))


class ServicePrincipal(CredentialKind):
    """Client credentials, exchanged at the workspace's token endpoint (auth/credentials.py)."""

    name, label, short = M2M, "service principal", "service principal"
    auth_type = "oauth-m2m"
    in_profile = "a service principal (client_id/client_secret)"
    env_vars = "DATABRICKS_CLIENT_ID=… DATABRICKS_CLIENT_SECRET=…"
    status_source = "workspace"
    rejected_fix = "check the service principal's secret and permissions in the account console"

    def token(self, source: Source, request: TokenRequest) -> Token:
        from .credentials import m2m_token

        return m2m_token(
            source,
            paths=request.paths,
            env=request.env,
            need=request.need,
            err=request.err,
            request=request,
        )

    def known_expiry(self, source: Source, paths: Paths) -> float | None:
        from .credentials import m2m_cached_expiry

        return m2m_cached_expiry(source, paths)

    def dry_run_token(self, source: Source, request: TokenRequest) -> Token:
        from .credentials import _fetch

        return _fetch(source, request.env)

    def source(self, host: str | None, profile: str | None, values: Mapping[str, str]) -> Source:
        return Source(
            self.name, host, profile, values.get("client_id"), values.get("client_secret")
        )

    def login_note(self, source: Source, token: Token, now: float) -> str | None:
        from ..core import ui

        return (
            f"The service principal got a token from {source.host}, valid for "
            f"{ui.duration(token.expiry - now)}; new ones are fetched automatically."
        )


class PersonalAccessToken(CredentialKind):
    """A personal access token, handed out as it is."""

    name, label, short = PAT, "personal access token", "personal access token"
    auth_type = "pat"
    in_profile = "a personal access token"
    env_vars = "DATABRICKS_TOKEN=…"
    expiry_known = False
    renewed = False
    static_mode = False
    rejected_fix = "create a new personal access token and put it in the profile"
    checked_by_workspace = True

    def token(self, source: Source, request: TokenRequest) -> Token:
        from .credentials import _pat

        return _pat(source)

    def known_expiry(self, source: Source, paths: Paths) -> float | None:
        return NO_EXPIRY

    def source(self, host: str | None, profile: str | None, values: Mapping[str, str]) -> Source:
        return Source(self.name, host, profile, None, values.get("token"))


BY_NAME: dict[str, CredentialKind] = {
    k.name: k for k in (OAuth(), ServicePrincipal(), PersonalAccessToken())
}
KINDS = tuple(BY_NAME)
NAMES = {k.name: k.label for k in BY_NAME.values()}
AUTH_TYPES = {k.auth_type: k.name for k in BY_NAME.values()}  # auth_type -> kind


def of(name: object) -> CredentialKind:
    """The kind a record's `auth` names (none: OAuth, as setup wrote before other kinds)."""
    return BY_NAME[name] if isinstance(name, str) and name in BY_NAME else BY_NAME[OAUTH]
