"""OTLP/JSON to OTLP/protobuf, standard library only.

Gemini CLI (0.61.0, `telemetry.otlpProtocol: "http"`) and OpenCode (1.18.33) export OTLP over
HTTP as JSON (`content-type: application/json`), while the workspace's OTLP endpoint takes
binary protobuf only. The loopback proxy turns each JSON export into the same message in binary
form, from the OpenTelemetry protocol's own field numbers (opentelemetry-proto v1: the
collector's Export{Trace,Logs,Metrics}ServiceRequest and what they hold); tests decode the
result with the real definitions.

JSON as OTLP writes it: lowerCamelCase names (snake_case taken too), trace and span ids in hex,
64-bit integers as strings or numbers, enums as integers (or their names). Every field present
is written, defaults included, so a oneof (AnyValue, a data point's value) keeps its member.
An unknown field is skipped, as protobuf's JSON parsers may do; a value of the wrong type
raises ValueError (the proxy then answers 400 and sends nothing).

What the user typed and what the model answered stay on the machine, as with Claude Code's and
Codex's defaults: attributes in REDACTED are left out wherever they appear (measured: OpenCode's
model-call spans carry the prompt and the answer, `ai.prompt`, `ai.response.text`…; Gemini CLI's
resource carries `process.command_args`, which holds a `-p` prompt).
"""

from __future__ import annotations

import base64
import json
import math
import struct

from .otlpschema import ENUMS, SCHEMAS

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# Attributes that hold prompts, answers, tool inputs and outputs (the AI SDK's telemetry, as
# OpenCode 1.18.33 records it; OpenTelemetry's gen_ai events), or a command line.
REDACTED = frozenset(
    {
        "ai.prompt",
        "ai.prompt.messages",
        "ai.prompt.tools",
        "ai.prompt.toolChoice",
        "ai.response.text",
        "ai.response.toolCalls",
        "ai.response.reasoning",
        "ai.response.object",
        "ai.response.providerMetadata",
        "ai.toolCall.args",
        "ai.toolCall.result",
        "ai.value",
        "ai.values",
        "gen_ai.prompt",
        "gen_ai.completion",
        "gen_ai.input.messages",
        "gen_ai.output.messages",
        "gen_ai.system_instructions",
        "process.command_args",
        "process.command_line",
    }
)

_MASK64 = (1 << 64) - 1


def convert(signal: str, body: bytes) -> bytes:
    """The OTLP/JSON export `body` for `signal` ("traces", "logs", "metrics") as protobuf."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError("an OTLP/JSON export is an object")
    out = bytearray()
    _message(out, data, signal)
    return bytes(out)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def _message(out: bytearray, data: Any, schema: str) -> None:
    if not isinstance(data, dict):
        raise ValueError(f"{schema}: an object expected")
    fields = SCHEMAS[schema]
    for key, value in data.items():
        spec = fields.get(key) or fields.get(_camel(key))
        if spec is None or value is None:
            continue
        number, kind, sub = spec
        if kind.startswith("rep_"):
            if not isinstance(value, list):
                raise ValueError(f"{schema}.{key}: a list expected")
            _repeated(out, number, kind[4:], sub, value)
        else:
            _field(out, number, kind, sub, value)


def _repeated(out: bytearray, number: int, kind: str, sub: str, values: list[Any]) -> None:
    if not values:
        return
    if kind == "msg":
        for value in values:
            if sub == "KeyValue" and isinstance(value, dict) and value.get("key") in REDACTED:
                continue
            _field(out, number, "msg", sub, value)
        return
    packed = bytearray()
    for value in values:
        if kind == "fixed64":
            packed += struct.pack("<Q", _int(value) & _MASK64)
        elif kind == "double":
            packed += struct.pack("<d", _float(value))
        else:  # uint
            _varint(packed, _int(value) & _MASK64)
    _tag(out, number, 2)
    _varint(out, len(packed))
    out += packed


def _field(out: bytearray, number: int, kind: str, sub: str, value: Any) -> None:
    if kind == "msg":
        inner = bytearray()
        _message(inner, value, sub)
        _tag(out, number, 2)
        _varint(out, len(inner))
        out += inner
    elif kind in ("string", "bytes", "id"):
        raw = _bytes(kind, value)
        _tag(out, number, 2)
        _varint(out, len(raw))
        out += raw
    elif kind in ("fixed64", "sfixed64"):
        _tag(out, number, 1)
        out += struct.pack("<Q", _int(value) & _MASK64)
    elif kind == "double":
        _tag(out, number, 1)
        out += struct.pack("<d", _float(value))
    elif kind == "fixed32":
        _tag(out, number, 5)
        out += struct.pack("<I", _int(value) & 0xFFFFFFFF)
    elif kind == "sint":
        n = _int(value)
        _tag(out, number, 0)
        _varint(out, ((n << 1) ^ (n >> 63)) & _MASK64)
    else:  # int, uint, bool, enum: varint
        _tag(out, number, 0)
        if kind == "bool":
            if not isinstance(value, bool):
                raise ValueError("a boolean expected")
            _varint(out, int(value))
        elif kind == "enum" and isinstance(value, str) and not value.lstrip("-").isdigit():
            if value not in ENUMS:
                raise ValueError(f"unknown enum value {value!r}")
            _varint(out, ENUMS[value])
        else:
            _varint(out, _int(value) & _MASK64)


def _bytes(kind: str, value: Any) -> bytes:
    if not isinstance(value, str):
        raise ValueError(f"a string expected for a {kind}")
    if kind == "string":
        return value.encode("utf-8")
    if kind == "id" and len(value) in (0, 16, 32):
        try:
            return bytes.fromhex(value)  # OTLP/JSON: trace and span ids in hex
        except ValueError:
            pass
    alt = b"-_" if "-" in value or "_" in value else None  # the URL-safe alphabet
    try:
        return base64.b64decode(value + "=" * (-len(value) % 4), altchars=alt, validate=True)
    except ValueError:
        raise ValueError(f"bad {kind} value") from None


def _int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("an integer expected")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise ValueError(f"an integer expected, not {value!r}")


def _float(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError("a number expected")
    if isinstance(value, (int, float)):
        return float(value)
    if value in ("NaN", "Infinity", "-Infinity"):
        return {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}[value]
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    raise ValueError(f"a number expected, not {value!r}")


def _tag(out: bytearray, number: int, wire: int) -> None:
    _varint(out, (number << 3) | wire)


def _varint(out: bytearray, n: int) -> None:
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
