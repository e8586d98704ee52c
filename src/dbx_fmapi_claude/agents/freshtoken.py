"""The token the loopback proxy puts on each request: the one held while it has life left, a
fresh one from the configuration's credential source (the same as `dbx-fmapi token`) when not.

A request never waits for a refresh while the held token outlives `keep` seconds, and two
requests that find it stale together cause one refresh (a lock), not two.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable

from ..auth.dbcli import Token


class FreshToken:
    """Callable: `token()` -> the access token. `fetch()` gets a new one (it guarantees the
    lifetime the configuration asks for); `keep`: the life a held token must still have;
    `held`: one fetched before (at launch), used on the same terms as any held token: only
    while it still outlives `keep` (an agent can take longer to start than a short-lived token
    lives)."""

    def __init__(
        self,
        fetch: Callable[[], Token],
        keep: float,
        held: Token | None = None,
        refetch: Callable[[], Token] | None = None,
    ) -> None:
        self._fetch = fetch
        self._keep = keep
        self._held: Token | None = held
        # After the workspace refused a token: a fetch that asks the workspace about it and
        # refreshes it when it is rejected (revoked, rotated) although its expiry says good.
        self._refetch = refetch
        self._lock = threading.Lock()
        self.fetches = 0

    def __call__(self) -> str:
        held = self._held
        if held is not None and held.expiry - time.time() > self._keep:
            return held.access_token
        with self._lock:
            held = self._held
            if held is None or held.expiry - time.time() <= self._keep:
                held = self._held = self._fetch()
                self.fetches += 1
            return held.access_token

    def replace(self, rejected: str) -> str | None:
        """The workspace refused `rejected`: a different token to retry with, or None when
        there is none (the workspace still accepts that token: the refusal was about something
        else). Requests refused together cause one refetch; a refetch that fails raises."""
        with self._lock:
            held = self._held
            fresh = held is not None and held.expiry - time.time() > self._keep
            if held is not None and fresh and held.access_token != rejected:
                return held.access_token  # another request has replaced it already
            if self._refetch is None:
                return None
            new = self._refetch()
            self.fetches += 1
            self._held = new
            return new.access_token if new.access_token != rejected else None

    def __repr__(self) -> str:  # never the token
        return "<FreshToken>"


def quiet() -> io.StringIO:
    """Where a refresh behind the proxy writes its notes: not the agent's terminal."""
    return io.StringIO()
