"""Version 1 to 2: one configuration, flat, becomes the only one of `configs`; the keys every
configuration shares (SHARED: the one shell block, the one onboarding flag) stay at the top."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# The keys of the whole record in version 2 (fields.SHARED then; written out here so that this
# step stays what it was when the format changes again).
SHARED = ("shell", "rc_file", "executable", "onboarding_added")


def migrate(data: dict[str, Any]) -> dict[str, Any]:
    """Version 1 held one configuration, flat: it becomes the only one of `configs`."""
    shared = {k: data[k] for k in SHARED if k in data}
    one = {k: v for k, v in data.items() if k not in SHARED and k != "version"}
    return {**shared, "version": 2, "configs": [one] if one else []}
