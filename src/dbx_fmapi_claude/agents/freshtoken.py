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

    def __init__(self, fetch: Callable[[], Token], keep: float, held: Token | None = None) -> None:
        self._fetch = fetch
        self._keep = keep
        self._held: Token | None = held
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

    def __repr__(self) -> str:  # never the token
        return "<FreshToken>"


def quiet() -> io.StringIO:
    """Where a refresh behind the proxy writes its notes: not the agent's terminal."""
    return io.StringIO()
