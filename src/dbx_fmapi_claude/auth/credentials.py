"""Where a workspace token comes from: the credential sources behind one call.

- `oauth`: a person's browser login, through `databricks auth token` (tokens.get_token).
- `m2m`: a service principal's client id and secret (in the profile, or DATABRICKS_CLIENT_ID /
  DATABRICKS_CLIENT_SECRET): we ask the workspace's OAuth token endpoint ourselves
  (client-credentials grant), under the same per-profile lock and lifetime guarantee.
- `pat`: a personal access token (the profile's `token`, or DATABRICKS_TOKEN), handed out as is.

The secrets stay where the user put them: we read them when a token is needed and never copy
them into argv, settings, logs, messages or our record. The one thing kept is an M2M access
token, in a 0600 file, so that twenty helpers at once cause one token request, not twenty.

Stdlib only and light: this is the token helper's path. HTTP modules load only for a fetch.
"""

from __future__ import annotations

import os
import time

from ..core.errors import UserError
from ..core.jsonread import loads
from .source import (
    BY_NAME,
    KINDS,
    M2M,
    NAMES,
    NO_EXPIRY,
    OAUTH,
    PAT,
    CredentialError,
    CredentialKind,
    Source,
    of,
)
from .unified import ENV_VARS, PROFILE_VAR, chosen_profile, env_values, from_env, resolve

__all__ = [
    "BY_NAME",
    "ENV_VARS",
    "KINDS",
    "M2M",
    "NAMES",
    "NO_EXPIRY",
    "OAUTH",
    "PAT",
    "PROFILE_VAR",
    "CredentialError",
    "CredentialKind",
    "Source",
    "chosen_profile",
    "env_values",
    "for_record",
    "from_env",
    "known_expiry",
    "m2m_token",
    "of",
    "resolve",
    "token",
]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import IO, Any

    from ..core.paths import Paths
    from .dbcli import Token
    from .tokens import TokenRequest


def for_record(cfg: Mapping[str, Any], env: Mapping[str, str], home: str) -> Source:
    """The credential a setup recorded: its kind, its profile (none: DATABRICKS_* variables),
    and the workspace setup verified."""
    from ..record.view import Configuration

    if not isinstance(cfg, Configuration):
        cfg = Configuration(cfg)
    kind = cfg.auth
    profile = cfg.profile
    host = cfg.host
    if kind in BY_NAME and BY_NAME[kind].browser_login and profile is not None:
        return Source(kind, host, profile)  # the CLI's login: nothing to read here
    if profile is None:
        # The variables setup was given, never a profile DATABRICKS_CONFIG_PROFILE names later.
        found = from_env(env)
        if found is None:
            raise CredentialError(
                "missing",
                "no Databricks credential in the environment (DATABRICKS_TOKEN, or "
                "DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET)",
                "export DATABRICKS_HOST and DATABRICKS_TOKEN (or the client id/secret), or pass "
                "--profile",
            )
        source = found
    else:
        source = resolve(profile, env, home)
    if source.kind != kind:
        where = f"profile {profile!r}" if profile else "the DATABRICKS_* variables"
        raise CredentialError(
            "missing",
            f"setup configured a {NAMES.get(kind, kind)} credential, but {where} now holds "
            f"{NAMES.get(source.kind, source.kind)}",
            "re-run setup: setup-fmapi-claudecode",
        )
    source.host = host or source.host
    return source


def token(source: Source, request: TokenRequest) -> Token:
    """A token from `source` that stays valid for at least `request.need` seconds where that can
    be known (a PAT's life cannot). Never opens a login for m2m or pat."""
    return source.credential_kind.token(source, request)


def known_expiry(source: Source, paths: Paths) -> float | None:
    """What we know of the current token's expiry without asking anyone (the wrapper's check)."""
    return source.credential_kind.known_expiry(source, paths)


# --- PAT ---------------------------------------------------------------------------------------


def _pat(source: Source) -> Token:
    from .dbcli import Token

    value = (source._secret or "").strip()
    if not value or any(c.isspace() for c in value):
        where = (
            f"profile {source.profile!r} (its `token`)" if source.profile else "DATABRICKS_TOKEN"
        )
        raise CredentialError(
            "missing",
            f"the personal access token in {where} is empty or malformed",
            "create a new token (workspace → Settings → Developer → Access tokens) and put it "
            "there",
        )
    return Token(value, NO_EXPIRY)


# --- M2M ---------------------------------------------------------------------------------------


def _cache_key(source: Source) -> str:
    import hashlib

    return hashlib.sha256(f"{source.host}\n{source.client_id}".encode()).hexdigest()[:24]


def _cache_path(paths: Paths) -> str:
    return os.path.join(paths.config_dir_path, "m2m-tokens.json")


def _read_cache(paths: Paths) -> dict[str, Any]:
    try:
        with open(_cache_path(paths), "rb") as fh:
            data = loads(fh.read())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_cache(paths: Paths, key: str, tok: Token) -> None:
    import json
    from pathlib import Path

    from ..core.fileio import atomic_write

    cache = _read_cache(paths)
    now = time.time()
    cache = {k: v for k, v in cache.items() if isinstance(v, dict) and v.get("expiry", 0) > now}
    # ok: when it was last known good (fetched, or accepted by a rejected-token check)
    cache[key] = {"access_token": tok.access_token, "expiry": tok.expiry, "ok": now}
    import contextlib

    with contextlib.suppress(UserError):  # a cache we cannot write costs a request per run
        atomic_write(Path(_cache_path(paths)), (json.dumps(cache) + "\n").encode(), secret=True)


def _cached(paths: Paths, key: str, need: float) -> Token | None:
    from .dbcli import Token

    entry = _read_cache(paths).get(key)
    if not isinstance(entry, dict):
        return None
    try:
        tok = Token(str(entry["access_token"]), float(entry["expiry"]))
    except (KeyError, TypeError, ValueError):
        return None
    return tok if tok.expiry - time.time() > need else None


def m2m_cached_expiry(source: Source, paths: Paths) -> float | None:
    entry = _read_cache(paths).get(_cache_key(source))
    return float(entry["expiry"]) if isinstance(entry, dict) and "expiry" in entry else None


def _known_good_lately(paths: Paths, key: str) -> bool:
    from .rejected import FRESH_FOR

    entry = _read_cache(paths).get(key)
    ok = entry.get("ok") if isinstance(entry, dict) else None
    return isinstance(ok, (int, float)) and 0 <= time.time() - ok < FRESH_FOR


def m2m_token(
    source: Source,
    *,
    paths: Paths,
    env: Mapping[str, str],
    need: float,
    err: IO[str],
    request: TokenRequest | None = None,
) -> Token:
    """A service principal's access token that outlives `need`: the cached one, else one fresh
    from the token endpoint, fetched by one process at a time. The cached one was handed out
    before: unless known good moments ago, one request asks the workspace whether it still
    accepts it (auth/rejected.py), and a rejected one (revoked) is replaced."""
    from .tokens import profile_lock

    always = request is not None and request.always_check
    key = _cache_key(source)
    tok = _cached(paths, key, need)
    if tok is not None and not always and _known_good_lately(paths, key):
        return tok
    with profile_lock(paths, source.lock_name):
        tok = _cached(paths, key, need)  # another helper may have fetched it while we waited
        if tok is not None and (always or not _known_good_lately(paths, key)) and source.host:
            from . import rejected

            verdict = rejected.check(source.host, tok.access_token, env)
            if request is not None:
                request.verdict = verdict
            if verdict == rejected.ACCEPTED:
                _write_cache(paths, key, tok)  # known good now
            elif verdict == rejected.REJECTED:
                tok = None
                if request is not None:
                    request.verdict = rejected.REPLACED
        if tok is not None:
            return tok
        tok = _fetch(source, env)
        _write_cache(paths, key, tok)
    left = tok.expiry - time.time()
    if left < need:
        err.write(
            f"dbx-fmapi: warning: the service principal's token lives {left:.0f}s, less than the "
            f"{need:.0f}s asked for (helper TTL + margin); lower the TTL with: "
            "setup-fmapi-claudecode --ttl 5m\n"
        )
    return tok


def _fix_secret(source: Source) -> str:
    where = (
        f"client_id/client_secret of profile {source.profile!r} in ~/.databrickscfg"
        if source.profile
        else "DATABRICKS_CLIENT_ID / DATABRICKS_CLIENT_SECRET"
    )
    return (
        f"check the {where}: the secret may be wrong or expired (create a new one for the "
        "service principal in the account console), the principal may be disabled, or it may "
        "lack permission to use the serving endpoints"
    )


def _fetch(source: Source, env: Mapping[str, str]) -> Token:
    import base64
    import urllib.error

    from . import oauthhttp
    from .dbcli import Token

    host = source.host
    if not host:
        raise CredentialError(
            "missing",
            f"no workspace URL for the service principal ({source.origin})",
            "set the profile's host, or export DATABRICKS_HOST",
        )
    if not source.client_id or not source._secret:
        raise CredentialError(
            "missing", "the service principal's client id or secret is empty", _fix_secret(source)
        )
    basic = base64.b64encode(f"{source.client_id}:{source._secret}".encode()).decode()
    try:
        status, meta = oauthhttp.post_form(
            f"{host}/oidc/.well-known/oauth-authorization-server", {}, None, env
        )
        endpoint = meta.get("token_endpoint") if status == 200 and isinstance(meta, dict) else None
        status, body = oauthhttp.post_form(
            oauthhttp.token_endpoint(host, endpoint),
            {"grant_type": "client_credentials", "scope": "all-apis"},
            f"Basic {basic}",
            env,
        )
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise CredentialError(
            "network",
            f"the workspace {host} cannot be reached for a service-principal token: {reason}",
            "check your network or VPN, then retry",
        ) from None
    if status == 200 and isinstance(body, dict) and body.get("access_token"):
        life = float(body.get("expires_in") or 3600)
        return Token(str(body["access_token"]), time.time() + life)
    desc = ""
    if isinstance(body, dict):
        desc = ": ".join(str(body[k]) for k in ("error", "error_description") if body.get(k))
    if 300 <= status < 400:
        raise CredentialError(
            "unsafe",
            f"the workspace's token endpoint answered HTTP {status} (a redirect), which is not "
            "followed: the service principal's secret is sent only to the workspace itself",
            "check that the profile's host (or DATABRICKS_HOST) is your workspace's own URL, "
            "https://<workspace>.cloud.databricks.com",
        )
    if status in (400, 401, 403):
        raise CredentialError(
            "rejected",
            f"the workspace rejected the service principal {source.client_id!r} "
            f"({source.origin}): HTTP {status}{' ' + desc if desc else ''}",
            _fix_secret(source),
        )
    raise CredentialError(
        "network",
        f"the workspace's token endpoint failed (HTTP {status}{' ' + desc if desc else ''}); "
        "this is not a problem with your credentials",
        "retry later; if it persists, check the workspace status page",
    )
