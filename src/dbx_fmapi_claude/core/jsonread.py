"""`loads`: json.loads without importing json, for the hot paths.

`import json` pulls in re, enum, functools and collections: most of what the token helper
would spend beyond Python's own start (docs/performance.md). The parsing itself is
done by `_json`, the C scanner that json.loads uses, so every document it accepts gives exactly
json.loads's result. Anything it does not accept (invalid JSON, a byte-order mark, non-UTF-8
bytes) goes to json.loads itself, which then returns or raises exactly as it always would.
Writing still uses json (only done when something changed).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

try:
    import _json
except ImportError:  # pragma: no cover - CPython always has it; other Pythons take json
    _json = None  # type: ignore[assignment]

_WHITESPACE = " \t\n\r"  # json's own: nothing else may surround a document
_CONSTANTS = {"-Infinity": float("-inf"), "Infinity": float("inf"), "NaN": float("nan")}


class _Options:
    """What json.JSONDecoder() passes its C scanner, with json.loads's defaults."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = _CONSTANTS.__getitem__


def _make_scanner() -> Any:
    """The C scanner, or None (then every call is json.loads): a Python whose _json differs
    must cost speed, never correctness."""
    if _json is None:
        return None
    try:
        return _json.make_scanner(_Options())  # type: ignore[arg-type]
    except Exception:  # noqa: BLE001 - any surprise here means: use json
        return None


_scan = _make_scanner()


def _slow(raw: str | bytes) -> Any:
    import json

    return json.loads(raw)


def loads(raw: str | bytes) -> Any:
    """json.loads(raw), same result and same exceptions (ValueError, RecursionError…)."""
    if _scan is None:
        return _slow(raw)
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")  # json also detects UTF-16/32; those fail here, go slow
        except UnicodeDecodeError:
            return _slow(raw)
    else:
        text = raw
    start = len(text) - len(text.lstrip(_WHITESPACE))
    try:
        value, end = _scan(text, start)
    except Exception:  # noqa: BLE001 - StopIteration, ValueError, or 3.11's SystemError when
        # json.decoder is not loaded: json.loads gives the real answer (or the real error)
        return _slow(raw)
    if text[end:].strip(_WHITESPACE):
        return _slow(raw)  # "Extra data"
    return value
