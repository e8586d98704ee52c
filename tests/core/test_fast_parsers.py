"""The hot paths' own parsers, against the standard library they stand in for.

`jsonread.loads` must give json.loads's result (or json.loads's exception) for every input;
`dbcli.parse_expiry` must give what datetime gives for every timestamp the CLI can print and
refuse everything datetime would not read.
"""

from __future__ import annotations

import json
import math
import random
import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest

from dbx_fmapi_claude.auth.dbcli import parse_expiry
from dbx_fmapi_claude.auth.tokens import jwt_expiry
from dbx_fmapi_claude.core import jsonread

VALID_JSON: list[str | bytes] = [
    '{"access_token": "eyJx.eyJy.sig", "token_type": "Bearer", "expiry": "2026-11-25T01:20:09Z"}',
    '  {"a": [1, -2, 3.5, -0.0, 1e308, 2E-5, 12345678901234567890123], "b": {"c": null}} \n',
    '{"t": true, "f": false, "n": null, "nan": NaN, "inf": Infinity, "ninf": -Infinity}',
    '"just a string"',
    "[]",
    "{}",
    "0",
    '{"esc": "a\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00", "raw": "ünïcødé ✓ 😀"}',
    '{"dup": 1, "dup": 2}',
    b'{"bytes": "\xc3\xa9"}',
    b'\xef\xbb\xbf{"utf8 with bom": 1}',
    '{"x": 1}'.encode("utf-16"),
    '{"x": 1}'.encode("utf-32-le"),
    "\t\r\n[1]\t\r\n",
]

INVALID_JSON: list[str | bytes] = [
    "",
    "   ",
    "{",
    "[1,]",
    "{'a': 1}",
    '{"a": 1} 2',
    '{"a": 1}x',
    "\ufeff{}",
    '{"a": "\x01"}',
    '{"a": "\\x41"}',
    "nul",
    "01",
    "[1 2]",
    '{"a" 1}',
    b"\xff\xfe\xfa",
    b'{"a": "\xe9"}',
    "\u00a0{}",  # no-break space is not JSON whitespace
    "[" * 100_000,  # RecursionError, as json.loads gives
]


def _outcome(fn, raw):  # type: ignore[no-untyped-def]
    try:
        value = fn(raw)
    except Exception as exc:  # noqa: BLE001 - the exception is what we compare
        return ("raises", type(exc), str(exc))
    # NaN != NaN: compare a canonical text form (json.dumps keeps key order and types)
    return ("value", json.dumps(value, allow_nan=True), type(value))


@pytest.mark.parametrize("raw", VALID_JSON, ids=range(len(VALID_JSON)))
def test_jsonread_equals_json_on_valid_documents(raw: str | bytes) -> None:
    expected = _outcome(json.loads, raw)
    assert expected[0] == "value"
    assert _outcome(jsonread.loads, raw) == expected


@pytest.mark.parametrize("raw", INVALID_JSON, ids=range(len(INVALID_JSON)))
def test_jsonread_raises_what_json_raises(raw: str | bytes) -> None:
    expected = _outcome(json.loads, raw)
    assert expected[0] == "raises"
    assert _outcome(jsonread.loads, raw) == expected


def test_jsonread_number_types_match() -> None:
    value = jsonread.loads('{"i": 3, "f": 3.0, "big": 1e400, "nan": NaN}')
    assert type(value["i"]) is int and type(value["f"]) is float
    assert value["big"] == math.inf and math.isnan(value["nan"])


def test_jsonread_does_not_import_json() -> None:
    """The point of the module: reading valid JSON loads neither json nor re (a fresh process,
    since this one has both already)."""
    code = (
        "import sys; from dbx_fmapi_claude.core.jsonread import loads; "
        "assert loads(b'{\"a\": [1, \"\\\\u00e9\"]}') == {'a': [1, 'é']}; "
        "print(sorted(m for m in ('json', 're', 'enum') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- expiry ------------------------------------------------------------------------------------


def _reference_expiry(text: str) -> float:
    """The previous implementation (regex + datetime), kept here as the oracle."""
    m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:?\d\d)?", text.strip())
    if not m:
        raise ValueError(text)
    base, frac, tz = m.groups()
    frac = (frac or ".0")[:7]
    if tz in (None, "Z"):
        tz = "+00:00"
    return datetime.fromisoformat(base + frac + tz).timestamp()


def _random_stamps(n: int) -> list[str]:
    rng = random.Random(20261125)
    stamps = []
    for _ in range(n):
        offset = timedelta(minutes=rng.randint(-23 * 60 - 59, 23 * 60 + 59))
        moment = datetime(1971, 1, 1, tzinfo=timezone.utc) + timedelta(
            seconds=rng.randint(0, 130 * 365 * 86400)
        )
        local = moment.astimezone(timezone(offset))
        text = local.strftime("%Y-%m-%dT%H:%M:%S")
        digits = rng.randint(0, 9)
        if digits:
            text += "." + "".join(rng.choice("0123456789") for _ in range(digits))
        sign = "-" if offset < timedelta(0) else "+"
        minutes = abs(int(offset.total_seconds())) // 60
        forms = ["colon", "plain"] if offset else ["Z", "", "colon", "plain"]
        tz = rng.choice(forms)
        if tz == "colon":
            text += f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"
        elif tz == "plain":
            text += f"{sign}{minutes // 60:02d}{minutes % 60:02d}"
        else:
            text += tz
        stamps.append(text)
    return stamps


def test_expiry_equals_datetime_for_random_timestamps() -> None:
    stamps = _random_stamps(3000) + [
        "2024-02-29T23:59:59.999999999+00:00",
        "2000-02-29T00:00:00Z",
        "1970-01-01T00:00:00Z",
        "9999-12-31T23:59:59.999999-23:59",
        "0001-01-01T00:00:00+00:00",
        " 2026-11-25T01:20:09.123456789+05:30\n",
        "2026-11-25T01:20:09.1-0000",
    ]
    mismatches = [(s, parse_expiry(s), _reference_expiry(s)) for s in stamps]
    mismatches = [m for m in mismatches if m[1] != m[2]]
    assert not mismatches, mismatches[:5]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "2026-11-25",
        "2026-11-25 01:20:09Z",
        "2026-11-25t01:20:09Z",
        "2026-11-25T01:20:09z",
        "2026-11-25T01:20:09Zjunk",
        "2026-11-25T01:20:09.Z",
        "2026-11-25T01:20:09.",
        "2026-11-25T01:20",
        "2026-11-25T1:20:09Z",
        "2026-13-01T00:00:00Z",
        "2026-00-01T00:00:00Z",
        "2026-02-29T00:00:00Z",
        "1900-02-29T00:00:00Z",
        "2026-04-31T00:00:00Z",
        "2026-11-00T00:00:00Z",
        "2026-11-25T24:00:00Z",
        "2026-11-25T01:60:00Z",
        "2026-11-25T01:20:60Z",
        "0000-01-01T00:00:00Z",
        "2026-11-25T01:20:09+1:00",
        "2026-11-25T01:20:09+01:0",
        "2026-11-25T01:20:09+01",
        "2026-11-25T01:20:09+24:00",
        "2026-11-25T01:20:09+01:60",
        "2026-11-25T01:20:09+01-00",
        "2026-11-25T01:20:09 +01:00",
        "٢٠٢٦-11-25T01:20:09Z",
        "2026-11-25T01:20:09.１Z",
        "+2026-11-25T01:20:09Z",
        "2026-11-25T01:20:09.5+01:00:00",
    ],
)
def test_expiry_rejects_what_is_not_rfc3339(text: str) -> None:
    with pytest.raises(ValueError, match="unrecognised expiry"):
        parse_expiry(text)


def test_jwt_expiry_reads_exp_and_refuses_the_rest() -> None:
    import base64

    def jwt(payload: bytes) -> str:
        body = base64.urlsafe_b64encode(payload).rstrip(b"=").decode()
        return f"eyJhbGciOiJSUzI1NiJ9.{body}.c2ln"

    assert jwt_expiry(jwt(b'{"exp": 1795000000, "sub": "\xc3\xa9?>~"}')) == 1795000000.0
    assert jwt_expiry(jwt(b'{"exp": 1795000000.5}')) == 1795000000.5
    assert jwt_expiry(jwt(b'{"sub": "x"}')) is None
    assert jwt_expiry(jwt(b"[1]")) is None
    assert jwt_expiry(jwt(b"not json")) is None
    assert jwt_expiry("dapi0123456789abcdef") is None
    assert jwt_expiry("a.é.c") is None
    assert jwt_expiry("a.b.c.d") is None


def test_jsonread_without_the_c_scanner_is_plain_json(monkeypatch: pytest.MonkeyPatch) -> None:
    """A Python whose _json cannot give a scanner: every call goes to json.loads."""
    monkeypatch.setattr(jsonread, "_scan", None)
    for raw in VALID_JSON[:4] + INVALID_JSON[:4]:
        assert _outcome(jsonread.loads, raw) == _outcome(json.loads, raw)


class _Custom:
    pass


JSON_VALUES: list[object] = [
    {"DEFAULT": {"expiry": 1796575405.123456, "fp": "0123abcd", "ok": 1796571805.5}},
    {"b": [1, -2, 3.5, -0.0, 1e308, 12345678901234567890123], "a": {"c": None, "t": True}},
    {"nan": math.nan, "inf": math.inf, "ninf": -math.inf, "f": False},
    {"ünï": 'cødé ✓ 😀 \x01 "q" \\ /', 1: "int key", 2.5: "float key", None: "null key"},
    [],
    {},
    0,
    "just a string",
    (1, 2),
]
NOT_JSON: list[object] = [
    {"a": _Custom()},
    {"a": {1, 2}},
    {("tuple", "key"): 1},
    {"a": 1, 2: "mixed keys cannot be sorted"},
    b"bytes",
]


def _dumped(fn, value, sort_keys):  # type: ignore[no-untyped-def]
    try:
        return ("value", fn(value, sort_keys=sort_keys))
    except Exception as exc:  # noqa: BLE001 - the exception is what we compare
        return ("raises", type(exc), str(exc))


@pytest.mark.parametrize("value", JSON_VALUES, ids=range(len(JSON_VALUES)))
@pytest.mark.parametrize("sort_keys", [False, True])
def test_jsondumps_equals_json(value: object, sort_keys: bool) -> None:
    """The same text as json.dumps (or, for keys json cannot sort, the same error)."""
    assert _dumped(jsonread.dumps, value, sort_keys) == _dumped(json.dumps, value, sort_keys)


@pytest.mark.parametrize("value", NOT_JSON, ids=range(len(NOT_JSON)))
def test_jsondumps_raises_what_json_raises(value: object) -> None:
    assert _dumped(jsonread.dumps, value, True) == _dumped(json.dumps, value, True)
    assert _dumped(jsonread.dumps, value, True)[0] == "raises"


def test_jsondumps_of_a_cycle_raises_what_json_raises() -> None:
    cycle: dict[str, object] = {}
    cycle["self"] = cycle
    with pytest.raises(ValueError, match="Circular reference detected"):
        jsonread.dumps(cycle)


def test_jsondumps_does_not_import_json() -> None:
    """Writing the token record after a check: neither json nor re (a fresh process)."""
    code = (
        "import sys; from dbx_fmapi_claude.core.jsonread import dumps; "
        "assert dumps({'p': {'ok': 1.5, 'fp': 'é'}}, sort_keys=True) == "
        '\'{"p": {"fp": "\\\\u00e9", "ok": 1.5}}\'; '
        "print(sorted(m for m in ('json', 're', 'enum') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_jsondumps_without_the_c_encoder_is_plain_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jsonread, "_make_encoder", lambda sort_keys: None)
    monkeypatch.setattr(jsonread, "_encoders", {})
    assert jsonread.dumps({"b": 1, "a": [None]}, sort_keys=True) == '{"a": [null], "b": 1}'
    assert "json" in sys.modules
