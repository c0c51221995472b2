"""Client-to-server SBWP payloads: encoders (driver side) and parsers (dev server side).

I/O-free: every function takes and returns bytes or plain objects. Layouts cite the
REFERENCE section they come from. Payloads only; ``framing.encode_frame`` adds the header.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union
from uuid import UUID

from scratchbird._constants import CLIENT_OFFERED_FEATURES
from scratchbird._typing import Buffer

_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_I32 = struct.Struct("<i")
_U64 = struct.Struct("<Q")

STARTUP_FILLER = b"\x11" * 16 + bytes(32)  # the 48 ignored bytes, as the drivers send them

# P1 STARTUP key value types (REFERENCE 3.6)
VALUE_TEXT = 0x01
VALUE_UINT = 0x02
VALUE_BOOL = 0x03
VALUE_UUID = 0x04

# Keys the real server admits in a P1 STARTUP; any other key is fatal (REFERENCE 3.6).
ADMITTED_STARTUP_KEYS = frozenset("""
application_name auth_forbidden_methods auth_method_id auth_method_payload auth_payload_b64
auth_payload_json auth_provider_profile auth_required_methods auth_require_channel_binding
calendar charset client_flags client_encoding database decimal_locale default_catalog
default_schema keepalive_interval_ms keepalive_timeout_ms language proxy_principal_assertion
role statement_timeout_ms timezone time_zone traceparent tracestate user
workload_identity_token""".split())


class MessageFormatError(ValueError):
    """A payload does not have the layout its message type requires."""


def lpstr(data: Union[str, bytes]) -> bytes:
    """u32 length + bytes (REFERENCE 1)."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return _U32.pack(len(data)) + data


class _Cursor:
    """Bounds-checked little-endian reads over a payload."""

    __slots__ = ("data", "pos", "what")

    def __init__(self, data: Buffer, what: str) -> None:
        self.data = data
        self.pos = 0
        self.what = what

    def need(self, n: int) -> None:
        if n < 0 or self.pos + n > len(self.data):
            raise MessageFormatError(
                f"{self.what} payload truncated: need {n} bytes at offset {self.pos}, "
                f"have {len(self.data) - self.pos}")

    def take(self, n: int) -> bytes:
        self.need(n)
        out = bytes(self.data[self.pos:self.pos + n])
        self.pos += n
        return out

    def u8(self) -> int:
        self.need(1)
        self.pos += 1
        return self.data[self.pos - 1]

    def unpack(self, st: struct.Struct) -> Any:
        self.need(st.size)
        value = st.unpack_from(self.data, self.pos)[0]
        self.pos += st.size
        return value

    def u16(self) -> int:
        value: int = self.unpack(_U16)
        return value

    def u32(self) -> int:
        value: int = self.unpack(_U32)
        return value

    def i32(self) -> int:
        value: int = self.unpack(_I32)
        return value

    def u64(self) -> int:
        value: int = self.unpack(_U64)
        return value

    def lpstr(self) -> bytes:
        return self.take(self.u32())

    def cstr(self) -> bytes:
        end = bytes(self.data[self.pos:]).find(b"\x00")
        if end < 0:
            raise MessageFormatError(f"{self.what} payload: unterminated string at offset {self.pos}")
        out = bytes(self.data[self.pos:self.pos + end])
        self.pos += end + 1
        return out

    @property
    def remaining(self) -> int:
        return len(self.data) - self.pos


# ---------------------------------------------------------------- STARTUP (3.5, 3.6)

StartupValue = Union[str, bytes, int, bool, UUID]


def _key_record(key: str, value: StartupValue, redaction: int = 0) -> bytes:
    if isinstance(value, bool):
        vtype, raw = VALUE_BOOL, b"\x01" if value else b"\x00"
    elif isinstance(value, int):
        vtype, raw = VALUE_UINT, _U64.pack(value)
    elif isinstance(value, UUID):
        vtype, raw = VALUE_UUID, value.bytes
    else:
        vtype, raw = VALUE_TEXT, value.encode("utf-8") if isinstance(value, str) else bytes(value)
    return lpstr(key) + bytes((vtype, redaction)) + _U32.pack(len(raw)) + raw


def encode_startup_p1(params: Sequence[Tuple[str, StartupValue]], *,
                      features: int = CLIENT_OFFERED_FEATURES, required: int = 0,
                      optional: int = 0, min_version: int = 0x0101,
                      max_version: int = 0x0101, connect_flags: int = 0,
                      filler: bytes = STARTUP_FILLER) -> bytes:
    """P1 STARTUP payload (REFERENCE 3.6) with no extension offers."""
    if len(filler) != 48:
        raise ValueError("the STARTUP filler is 48 bytes")
    parts = [struct.pack("<HHIQQQ", min_version, max_version, connect_flags,
                         features, required, optional), filler, _U32.pack(len(params))]
    parts += [_key_record(k, v) for k, v in params]
    parts.append(_U32.pack(0))  # extension_offer_count, always present
    return b"".join(parts)


def encode_startup_legacy(params: Sequence[Tuple[str, str]], features: int = 0) -> bytes:
    """Legacy STARTUP payload (REFERENCE 3.5): must stay under 84 bytes to be read as legacy."""
    body = b"".join(k.encode() + b"\x00" + v.encode() + b"\x00" for k, v in params)
    return bytes((1, 1, 0, 0)) + _U64.pack(features) + body + b"\x00"


@dataclass
class Startup:
    """A parsed STARTUP: which layout, the version window, features and keys."""

    layout: str                          # "p1" or "legacy"
    min_version: int = 0x0101
    max_version: int = 0x0101
    connect_flags: int = 0
    features: int = 0
    required: int = 0
    optional: int = 0
    params: Dict[str, str] = field(default_factory=dict)
    key_types: Dict[str, int] = field(default_factory=dict)
    extensions: List[Tuple[str, int, int, int, int]] = field(default_factory=list)


def is_p1_startup(payload: Buffer) -> bool:
    """The server's shape test (REFERENCE 3.5): length >= 84, byte 1 <= 2, byte 3 <= 2."""
    return len(payload) >= 84 and payload[1] <= 2 and payload[3] <= 2


def _render_key_value(vtype: int, raw: bytes) -> str:
    if vtype in (VALUE_TEXT, 0x05, 0x06):
        return raw.decode("utf-8", "replace")
    if vtype == VALUE_UINT:
        return str(int.from_bytes(raw, "little")) if len(raw) in (4, 8) else ""
    if vtype == VALUE_BOOL:
        return "true" if raw[:1] not in (b"", b"\x00") else "false"
    if vtype == VALUE_UUID:
        return str(UUID(bytes=raw)) if len(raw) == 16 else ""
    return ""


def parse_startup(payload: Buffer) -> Startup:
    """Parse either STARTUP layout. Raises MessageFormatError for a malformed P1 payload.

    Only the byte layout is checked here; the version, flag and feature rules of the
    negotiation (REFERENCE 3.6 steps 1-12) belong to the server that applies them.
    """
    if not is_p1_startup(payload):
        cur = _Cursor(payload, "STARTUP")
        out = Startup("legacy")
        if len(payload) >= 12:
            cur.pos = 4
            out.features = cur.u64()
            while cur.remaining:
                if cur.data[cur.pos] == 0:
                    break
                try:
                    key = cur.cstr().decode("utf-8", "replace")
                    value = cur.cstr().decode("utf-8", "replace")
                except MessageFormatError:
                    break
                out.params[key] = value
        return out
    cur = _Cursor(payload, "STARTUP")
    out = Startup("p1")
    out.min_version, out.max_version = cur.u16(), cur.u16()
    out.connect_flags = cur.u32()
    out.features, out.required, out.optional = cur.u64(), cur.u64(), cur.u64()
    cur.take(48)
    count = cur.u32()
    if count > 256:
        raise MessageFormatError(f"STARTUP declares {count} keys (at most 256)")
    for _ in range(count):
        key = cur.lpstr().decode("utf-8", "replace")
        vtype, redaction = cur.u8(), cur.u8()
        raw = cur.lpstr()
        out.key_types[key] = vtype
        if redaction < 3:
            out.params[key] = _render_key_value(vtype, raw)
        else:
            out.params[key] = ""
    ext_count = cur.u32()
    if ext_count > 64:
        raise MessageFormatError(f"STARTUP declares {ext_count} extension offers (at most 64)")
    for _ in range(ext_count):
        name = cur.lpstr().decode("utf-8", "replace")
        major, min_minor, max_minor = cur.u16(), cur.u16(), cur.u16()
        out.extensions.append((name, major, min_minor, max_minor, cur.u32()))
    if cur.remaining:
        raise MessageFormatError(f"STARTUP has {cur.remaining} trailing bytes")
    return out


# ---------------------------------------------------------------- simple messages


def encode_auth_response(credential: Union[str, bytes]) -> bytes:
    """AUTH_RESPONSE: the raw credential bytes (REFERENCE 3.9)."""
    return credential.encode("utf-8") if isinstance(credential, str) else bytes(credential)


def encode_query(sql: Union[str, bytes], flags: int = 0, max_rows: int = 0,
                 timeout_ms: int = 0) -> bytes:
    """QUERY (REFERENCE 4.1): u32 flags, u32 max_rows, u32 timeout_ms, SQL + NUL."""
    if isinstance(sql, str):
        sql = sql.encode("utf-8")
    return struct.pack("<III", flags, max_rows, timeout_ms) + sql + b"\x00"


@dataclass
class Query:
    flags: int
    max_rows: int
    timeout_ms: int
    sql: str


def parse_query(payload: Buffer) -> Query:
    """QUERY as the server reads it: shorter than 12 bytes is empty SQL; NUL optional."""
    if len(payload) < 12:
        return Query(0, 0, 0, "")
    flags, max_rows, timeout_ms = struct.unpack_from("<III", payload, 0)
    body = bytes(payload[12:])
    end = body.find(b"\x00")
    if end >= 0:
        body = body[:end]
    return Query(flags, max_rows, timeout_ms, body.decode("utf-8", "replace"))


def encode_txn_begin() -> bytes:
    """TXN_BEGIN: the server ignores the payload (REFERENCE 6.2); we send none."""
    return b""


def encode_txn_commit(flags: int = 0) -> bytes:
    """TXN_COMMIT: the 4-byte form, ``u8 flags`` + 3 zero bytes (REFERENCE 6.3)."""
    return bytes((flags & 0xFF, 0, 0, 0))


def encode_txn_rollback() -> bytes:
    """TXN_ROLLBACK: payload ignored; 4 zero bytes are conventional (REFERENCE 6.4)."""
    return bytes(4)


def encode_ping(payload: Union[int, bytes] = 0) -> bytes:
    """PING: any bytes, echoed by PONG; an int is packed as u64 (REFERENCE 7.1)."""
    return _U64.pack(payload) if isinstance(payload, int) else bytes(payload)


def encode_terminate() -> bytes:
    return b""


def encode_set_option(name: str, value: str) -> bytes:
    """SET_OPTION (REFERENCE 7.4): lpstr name + lpstr value, nothing after."""
    return lpstr(name) + lpstr(value)


def parse_set_option(payload: Buffer) -> Tuple[str, str]:
    cur = _Cursor(payload, "SET_OPTION")
    name = cur.lpstr().decode("utf-8", "replace")
    value = cur.lpstr().decode("utf-8", "replace")
    if cur.remaining:
        raise MessageFormatError("SET_OPTION has trailing bytes")
    return name, value


def encode_reset_session(rollback: bool = True) -> bytes:
    """RESET_SESSION (REFERENCE 7.5): 18 bytes, byte 17 = rollback the open transaction."""
    out = bytearray(18)
    out[17] = 1 if rollback else 0
    return bytes(out)


def encode_cancel(cancel_id: bytes, target: bytes = b"") -> bytes:
    """CANCEL (REFERENCE 7.2): the 16-byte cancel UUID, then a 16-byte target (non-zero
    makes the request "targeted"; 32 bytes in all), or the UUID alone (16 bytes)."""
    if len(cancel_id) != 16 or len(target) not in (0, 16):
        raise ValueError("CANCEL takes a 16-byte cancel id and an optional 16-byte target")
    return bytes(cancel_id) + bytes(target)


def encode_savepoint(name: str) -> bytes:
    """TXN_SAVEPOINT / TXN_RELEASE / TXN_ROLLBACK_TO payload: one lpstr (REFERENCE 6.5)."""
    return lpstr(name)


# ---------------------------------------------------------------- extended protocol (5)


def encode_parse(name: str, sql: str, param_oids: Sequence[int] = ()) -> bytes:
    """PARSE (REFERENCE 5.1)."""
    return (lpstr(name) + lpstr(sql) + struct.pack("<HH", len(param_oids), 0)
            + b"".join(_U32.pack(o) for o in param_oids))


def encode_bind(portal: str, statement: str, values: Sequence[Optional[bytes]],
                formats: Sequence[int] = (0,)) -> bytes:
    """BIND (REFERENCE 5.2). Note format_count 0 means *binary* on this server."""
    parts = [lpstr(portal), lpstr(statement), _U16.pack(len(formats))]
    parts += [_U16.pack(f) for f in formats]
    parts.append(struct.pack("<HH", len(values), 0))
    for v in values:
        parts.append(_I32.pack(-1) if v is None else _I32.pack(len(v)) + bytes(v))
    return b"".join(parts)


def encode_describe(kind: str, name: str) -> bytes:
    """DESCRIBE (REFERENCE 5.3): u8 kind, 3 reserved, lpstr name."""
    return kind.encode("ascii") + bytes(3) + lpstr(name)


def encode_execute(portal: str = "", max_rows: int = 0, flags: Optional[int] = None) -> bytes:
    """EXECUTE (REFERENCE 5.4): lpstr portal, u32 max_rows, optional u32 flags."""
    out = lpstr(portal) + _U32.pack(max_rows)
    return out if flags is None else out + _U32.pack(flags)


def encode_close(kind: str, name: str) -> bytes:
    """CLOSE (REFERENCE 5.5)."""
    return kind.encode("ascii") + bytes(3) + lpstr(name)


def encode_sync() -> bytes:
    return b""
