"""A resolved credential (its kind, workspace and profile; secrets only in memory) and the error
every credential source raises. Stdlib only: the token helper's path."""

from __future__ import annotations

from ..core.errors import ExitCode, UserError

OAUTH, M2M, PAT = "oauth", "m2m", "pat"
KINDS = (OAUTH, M2M, PAT)
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

    def __repr__(self) -> str:
        return f"Source(kind={self.kind!r}, host={self.host!r}, profile={self.profile!r})"


NAMES = {OAUTH: "OAuth (browser login)", M2M: "service principal", PAT: "personal access token"}
