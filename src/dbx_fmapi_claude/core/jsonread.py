"""`loads` and `dumps`: json.loads and json.dumps without importing json, for the hot paths.

`import json` pulls in re, enum, functools and collections: most of what the token helper
would spend beyond Python's own start (docs/performance.md). The parsing itself is
done by `_json`, the C scanner that json.loads uses, so every document it accepts gives exactly
json.loads's result. Anything it does not accept (invalid JSON, a byte-order mark, non-UTF-8
bytes) goes to json.loads itself, which then returns or raises exactly as it always would.
`dumps` is json.dumps's own C encoder (`_json.make_encoder`) with json.dumps's arguments, so
the same object gives the same text; anything it does not take goes to json.dumps, which then
returns or raises exactly as it always would.
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


class _NotPlain(Exception):
    """An object the C encoder would hand to json's `default`: json.dumps says what to do."""


def _refuse(obj: object) -> object:
    raise _NotPlain


def _make_encoder(sort_keys: bool) -> Any:
    """json.dumps's C encoder with its default separators and ensure_ascii, or None."""
    if _json is None:
        return None
    try:
        return _json.make_encoder(
            {}, _refuse, _json.encode_basestring_ascii, None, ": ", ", ", sort_keys, False, True
        )
    except Exception:  # noqa: BLE001 - a Python whose encoder differs: use json
        return None


_encoders: dict[bool, Any] = {}


def dumps(obj: object, *, sort_keys: bool = False) -> str:
    """json.dumps(obj, sort_keys=sort_keys): the same text, the same exceptions."""
    encode: Any = _encoders.get(sort_keys)
    if encode is None:
        encode = _encoders[sort_keys] = _make_encoder(sort_keys) or _slow_dumps
    if encode is _slow_dumps or isinstance(obj, str):
        return _slow_dumps(obj, sort_keys=sort_keys)
    try:
        return "".join(encode(obj, 0))
    except Exception:  # noqa: BLE001 - _NotPlain, a key json would refuse, a cycle…: json.dumps
        return _slow_dumps(obj, sort_keys=sort_keys)  # gives the real answer (or the real error)


def _slow_dumps(obj: object, *, sort_keys: bool = False) -> str:
    import json

    return json.dumps(obj, sort_keys=sort_keys)
