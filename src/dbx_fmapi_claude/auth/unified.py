"""Which credential the Databricks SDKs' unified-auth rules pick, and what they refuse.

Read from databricks-sdk-go (`config/config_file.go`, `config_attributes.go`) and checked
against databricks-sdk (Python) 0.167 as an oracle (tests/auth/test_profile_rules.py holds its
verdicts):
- a profile named by --profile or DATABRICKS_CONFIG_PROFILE; without one, the DATABRICKS_*
  variables alone when they hold a credential or a host, else `[__settings__] default_profile`,
  else [DEFAULT];
- the environment is read first, a profile fills the gaps: a variable replaces the profile's
  value for its key;
- two authorization methods at once without an auth_type (DATABRICKS_AUTH_TYPE or the profile's
  `auth_type`) are refused.
Where we differ, on purpose: DATABRICKS_HOST naming another workspace than a profile holding a
token or a client secret is refused (the SDKs would send that secret there); hosts follow our
one host rule.
Stdlib only: the token helper resolves a profile on every call.
"""

from __future__ import annotations

from .source import AUTH_TYPES, BY_NAME, M2M, OAUTH, PAT, CredentialError, CredentialKind, Source

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

# The DATABRICKS_* variables that set an SDK attribute we read (databricks-sdk-go config.go `env:`
# tags). ARM_* and GOOGLE_* are not read: we use none of those credentials.
ENV_VARS = {
    "host": "DATABRICKS_HOST",
    "token": "DATABRICKS_TOKEN",
    "client_id": "DATABRICKS_CLIENT_ID",
    "client_secret": "DATABRICKS_CLIENT_SECRET",
    "username": "DATABRICKS_USERNAME",
    "password": "DATABRICKS_PASSWORD",
    "auth_type": "DATABRICKS_AUTH_TYPE",
}
PROFILE_VAR = "DATABRICKS_CONFIG_PROFILE"
_METHOD_NAMES = {
    "pat": "a personal access token",
    "oauth": "a service principal (client id/secret)",
    "basic": "a username/password",
    "azure": "Azure credentials",
    "google": "Google credentials",
    "metadata-service": "a metadata service URL",
}


def env_values(env: Mapping[str, str]) -> dict[str, str]:
    """The SDK attributes the DATABRICKS_* variables set (an empty variable sets nothing)."""
    return {attr: env[var].strip() for attr, var in ENV_VARS.items() if env.get(var, "").strip()}


def _env_host(env: Mapping[str, str]) -> str | None:
    from ..workspace.hosts import EXAMPLE, host_from

    raw = env.get("DATABRICKS_HOST", "").strip()
    return host_from(raw, "DATABRICKS_HOST", f"export DATABRICKS_HOST={EXAMPLE}") if raw else None


def _kind(values: Mapping[str, str], where: Mapping[str, str], profile: str | None) -> str | None:
    """The credential kind `values` hold, by the SDKs' rules: an auth_type chooses; two
    authorization methods without one are refused (they say "more than one authorization method
    configured"); none is OAuth for a profile (a login makes one) and None for the variables."""
    from . import databrickscfg

    auth_type = values.get("auth_type", "").strip().lower()
    if auth_type:
        kind = AUTH_TYPES.get(auth_type)
        if kind is not None:
            return kind
        if profile is not None and "auth_type" not in where:
            return databrickscfg.OTHER
        raise CredentialError(
            "unsupported",
            f"DATABRICKS_AUTH_TYPE={auth_type} is a credential dbx-fmapi does not use (it uses "
            "pat, oauth-m2m and databricks-cli)",
            "unset DATABRICKS_AUTH_TYPE, or export DATABRICKS_AUTH_TYPE=pat (or oauth-m2m, "
            "databricks-cli)",
        )
    methods = databrickscfg.auth_methods(values)
    if len(methods) > 1:
        said = [
            f"{_METHOD_NAMES.get(m, m)} ({_origin(m, values, where, profile)})" for m in methods
        ]
        fix = "keep one of them, or choose one: export DATABRICKS_AUTH_TYPE=pat (or oauth-m2m)"
        if profile is not None:
            fix += f", or add `auth_type = pat` (or oauth-m2m) to profile {profile!r}"
        raise CredentialError(
            "conflict",
            "more than one authorization method configured: "
            + " and ".join(said)
            + "; the Databricks SDKs refuse this too",
            fix,
        )
    if methods == ["pat"]:
        return PAT
    if values.get("client_id") and values.get("client_secret"):
        return M2M
    if methods and methods != ["oauth"]:
        return databrickscfg.OTHER
    return OAUTH if profile is not None else None


def _origin(
    method: str, values: Mapping[str, str], where: Mapping[str, str], profile: str | None
) -> str:
    """Where a method's values come from: the variables' names, or the profile's keys."""
    from .databrickscfg import AUTH_METHODS

    keys = [k for k in dict(AUTH_METHODS)[method] if values.get(k, "").strip()]
    envs = [where[k] for k in keys if k in where]
    mine = [k for k in keys if k not in where]
    said = envs + ([f"{'/'.join(mine)} in profile {profile!r}"] if mine else [])
    return ", ".join(said)


def from_env(env: Mapping[str, str]) -> Source | None:
    """The credential in the DATABRICKS_* variables alone (CI without a config file): a token
    or a client id/secret, with DATABRICKS_HOST; None when they hold none."""
    values = env_values(env)
    where = {k: ENV_VARS[k] for k in values}
    credential = _holding_secret(_kind(values, where, None))
    if credential is None:
        # DATABRICKS_AUTH_TYPE=databricks-cli: a profile's login, not the variables; a
        # username/password alone is no credential we use (ignored).
        return None
    return credential.source(_env_host(env), None, values)


def _holding_secret(kind: str | None) -> CredentialKind | None:
    """The kind named `kind` when its secret is in the profile or the variables themselves
    (no browser login renews it): those are what go to the workspace as they are."""
    credential = BY_NAME.get(kind) if kind is not None else None
    return credential if credential is not None and not credential.browser_login else None


def chosen_profile(
    profile: str | None, env: Mapping[str, str], sections: Mapping[str, Mapping[str, str]]
) -> tuple[str | None, str]:
    """Which profile the SDKs use, and why: the one given, else DATABRICKS_CONFIG_PROFILE, else
    none when the variables hold a credential or a host, else `[__settings__] default_profile`
    (`databricks auth switch`), else [DEFAULT] when it has keys. (None, "") for none."""
    from . import databrickscfg

    if profile:
        return profile, "--profile"
    if env.get(PROFILE_VAR, "").strip():
        return env[PROFILE_VAR].strip(), PROFILE_VAR
    values = env_values(env)
    if databrickscfg.auth_methods(values) or "host" in values:
        return None, ""
    default = databrickscfg.default_profile(sections)
    if default:
        return default, f"[{databrickscfg.SETTINGS_SECTION}] default_profile"
    if sections.get("DEFAULT"):
        return "DEFAULT", "the [DEFAULT] profile"
    return None, ""


def resolve(profile: str | None, env: Mapping[str, str], home: str) -> Source:
    """The credential the Databricks SDKs would use (their unified-auth rules), refusing what
    they refuse and what we cannot use. `profile` None: chosen as `chosen_profile` says.

    Beside a profile, a DATABRICKS_* credential variable replaces the profile's value for that
    key (as in the SDKs: the environment is read first, the profile fills the gaps), so a
    variable of another kind is two methods at once and refused; DATABRICKS_AUTH_TYPE chooses.
    DATABRICKS_HOST naming another workspace than a token or service-principal profile is
    refused (the SDKs would send the profile's secret to the variable's host); a CLI-login
    profile keeps its own host (the Databricks CLI gets its token)."""
    from . import databrickscfg, dbcli

    file = databrickscfg.path(home, env)
    sections = databrickscfg.read(home, env) or {}
    named, why = chosen_profile(profile, env, sections)
    if named is None:
        source = from_env(env)
        if source is None:
            raise CredentialError(
                "missing",
                "no Databricks credential in the environment (DATABRICKS_TOKEN, or "
                "DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET)",
                "export DATABRICKS_HOST and DATABRICKS_TOKEN (or the client id/secret), or pass "
                "--profile",
            )
        return source
    if named == databrickscfg.SETTINGS_SECTION:
        raise CredentialError(
            "missing",
            f"{databrickscfg.SETTINGS_SECTION} ({why}) is the CLI's settings, not a profile",
            "name a profile: --profile NAME",
        )
    section = sections.get(named)
    if section is None:
        if why == "--profile":
            return Source(OAUTH, None, named)  # a new profile: a login creates it
        raise CredentialError(
            "missing",
            f"{file} has no profile {named!r} (named by {why})",
            f"pass the profile to use: --profile NAME (or fix {why})",
        )
    host = databrickscfg.profile_host(section, named, file)
    values = env_values(env)
    where = {k: ENV_VARS[k] for k in values if k != "host"}
    merged = {**section, **{k: v for k, v in values.items() if k != "host"}}
    kind = _kind(merged, where, named)
    env_host = _env_host(env)
    if env_host and host and env_host != host and _holding_secret(kind) is not None:
        raise CredentialError(
            "conflict",
            f"DATABRICKS_HOST is {env_host}, but profile {named!r} is for {host}: the profile's "
            "credential is not sent to another workspace",
            f"unset DATABRICKS_HOST (or set it to {host}), or use another profile",
        )
    host = host or env_host
    if kind == databrickscfg.OTHER:
        raise dbcli.nonoauth_error(named, kind, host)
    return BY_NAME.get(str(kind), BY_NAME[OAUTH]).source(host, named, merged)
