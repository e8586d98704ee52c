"""The fake workspace as a token authority: the access tokens (JWT-shaped, or PATs), refresh
tokens and authorization codes it issued, kept by digest, and the controls tests use on them
(issue, revoke, expire, what the workspace thinks of a token now). FakeWorkspace is one."""

from __future__ import annotations

import json
import secrets
import threading
import time
import uuid

from tests.rig.records import (
    CLI_CLIENT_ID,
    DEFAULT_USER,
    DEFAULT_WORKSPACE_ID,
    TokenRef,
    _AccessToken,
    _AuthCode,
    _b64url,
    _digest,
    _RefreshToken,
)


class TokenAuthority:
    """Issues and checks the workspace's tokens; its knobs are the FakeWorkspace's."""

    url: str

    def __init__(
        self, access_token_lifetime: float = 3600, refresh_token_lifetime: float | None = None
    ) -> None:
        self.access_token_lifetime = access_token_lifetime
        self.refresh_token_lifetime = refresh_token_lifetime
        self.workspace_id = DEFAULT_WORKSPACE_ID
        self.user_name = DEFAULT_USER
        # Put into every access token's signature and every refresh token, so a leak scan can
        # find any of them, or a piece of one, anywhere (letters only: valid in both).
        self.token_marker = ""
        self._lock = threading.RLock()
        self._next_id = 0
        self._access: dict[str, _AccessToken] = {}  # digest -> token
        self._refresh: dict[str, _RefreshToken] = {}  # raw -> token
        self._codes: dict[str, _AuthCode] = {}

    def issue_token(self, lifetime: float | None = None, client_id: str = CLI_CLIENT_ID) -> str:
        """A valid raw access token, for direct use."""
        return self._new_access_token(lifetime, self.user_name, client_id)[0]

    def issue_pat(self, lifetime: float = 90 * 86400) -> str:
        """A personal access token (`dapi` + 32 hex, like the real ones) the workspace accepts
        until it expires or revoke_pat() revokes it."""
        now = time.time()
        raw = "dapi" + self.token_marker + secrets.token_hex(16)
        tok = _AccessToken(self._new_id(), _digest(raw), now, now + lifetime, self.user_name, "pat")
        with self._lock:
            self._access[tok.digest] = tok
        return raw

    def revoke_pat(self, raw: str) -> None:
        with self._lock:
            tok = self._access.get(_digest(raw.strip()))
            if tok is not None:
                tok.revoked = True

    def issue_refresh_token(self, client_id: str = CLI_CLIENT_ID) -> str:
        return self._new_refresh_token(client_id)

    def revoke_token(self, raw: str) -> None:
        """The workspace stops accepting this one access token (revoked), whatever its expiry
        says; its refresh token still works. revoke_access_tokens(): all of them (rotated)."""
        self.revoke_pat(raw)

    def revoke_access_tokens(self) -> None:
        with self._lock:
            for t in self._access.values():
                t.revoked = True

    def revoke_refresh_tokens(self) -> None:
        with self._lock:
            for r in self._refresh.values():
                r.revoked = True

    def expire_access_tokens(self) -> None:
        now = time.time()
        with self._lock:
            for t in self._access.values():
                t.exp = min(t.exp, now - 1)

    def expire_refresh_tokens(self) -> None:
        now = time.time()
        with self._lock:
            for r in self._refresh.values():
                r.exp = now - 1

    def token_ref(self, raw: str | None) -> TokenRef | None:
        """What the workspace thinks of a raw access token right now."""
        if raw is None:
            return None
        raw = raw.strip()
        digest = _digest(raw)
        now = time.time()
        with self._lock:
            t = self._access.get(digest)
            if t is None:
                return TokenRef(0, "unknown", None, digest)
            state = "revoked" if t.revoked else "expired" if t.exp <= now else "valid"
            return TokenRef(t.id, state, t.exp - now, digest)

    def token_state(self, raw: str) -> str:
        ref = self.token_ref(raw)
        return ref.state if ref else "unknown"

    # ------------------------------------------------------------------ token internals

    def _new_id(self) -> int:
        with self._lock:
            self._next_id += 1
            return self._next_id

    def _new_access_token(
        self, lifetime: float | None, sub: str, client_id: str
    ) -> tuple[str, _AccessToken]:
        now = time.time()
        life = self.access_token_lifetime if lifetime is None else lifetime
        tid = self._new_id()
        header = {"kid": "fake-key-1", "typ": "at+jwt", "alg": "RS256"}
        payload = {
            "client_id": client_id,
            "scope": "offline_access all-apis",
            "iss": f"{self.url}/oidc",
            "aud": self.workspace_id,
            "sub": sub,
            "iat": int(now),
            "exp": int(now + life),
            "jti": str(uuid.uuid4()),
        }
        raw = ".".join(
            [
                _b64url(json.dumps(header, separators=(",", ":")).encode()),
                _b64url(json.dumps(payload, separators=(",", ":")).encode()),
                self.token_marker + _b64url(secrets.token_bytes(256)),
            ]
        )
        tok = _AccessToken(tid, _digest(raw), now, now + life, sub, client_id)
        with self._lock:
            self._access[tok.digest] = tok
        return raw, tok

    def _new_refresh_token(self, client_id: str) -> str:
        raw = "doau" + self.token_marker + secrets.token_hex(32)  # opaque, like the real ones
        life = self.refresh_token_lifetime
        exp = None if life is None else time.time() + life
        with self._lock:
            self._refresh[raw] = _RefreshToken(self._new_id(), client_id, exp)
        return raw
