"""The record's format versions, one module per change of format: each holds the step that turns
a record of one version into the next one's (`STEPS`). config.py imports this package only when
it reads a record older than the one this code writes."""

from __future__ import annotations

from . import v1_to_v2, v2_to_v3

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

# version -> the step that turns a record of that version into the next one's.
STEPS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {
    1: v1_to_v2.migrate,
    2: v2_to_v3.migrate,
}
