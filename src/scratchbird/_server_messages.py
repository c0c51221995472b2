"""Server-to-client SBWP payloads: parsers (driver side) and encoders (dev server side).

I/O-free. DATA_ROW lives in the row codec (``rowcodec``), which is the hot path.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple, cast

from scratchbird._client_messages import MessageFormatError, _Cursor, lpstr
from scratchbird._constants import TYPEREF_FOR_OID, ZERO_UUID, oid_for_typeref
from scratchbird._typing import Buffer, DescriptionItem

_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")

# ---------------------------------------------------------------- authentication (3.8-3.11)


def encode_auth_request(method: int = 1, data: bytes = b"") -> bytes:
    """AUTH_REQUEST: u8 method + 3 zero bytes (+ method data, spec only)."""
    return bytes((method, 0, 0, 0)) + data


@dataclass
class AuthRequest:
    method: int
    data: bytes


def parse_auth_request(payload: Buffer) -> AuthRequest:
    if len(payload) < 1:
        raise MessageFormatError("AUTH_REQUEST payload is empty")
    return AuthRequest(payload[0], bytes(payload[4:]))


def encode_auth_ok(session_id: bytes, info: bytes = b"") -> bytes:
    """AUTH_OK: uuid16 session id, u32 info length, info (REFERENCE 3.11)."""
    return bytes(session_id) + _U32.pack(len(info)) + info


@dataclass
class AuthOk:
    session_id: bytes
    info: bytes


def parse_auth_ok(payload: Buffer) -> AuthOk:
    cur = _Cursor(payload, "AUTH_OK")
    session_id = cur.take(16)
    info = cur.lpstr() if cur.remaining else b""
    return AuthOk(session_id, info)


# ---------------------------------------------------------------- SERVER_INFO (3.12)

@dataclass
class ServerInfo:
    session_id: bytes
    product: str
    channel: str
    dialect: str
    supported_features: int
    slot2: bytes = ZERO_UUID
    slot3: bytes = ZERO_UUID
    value1: int = 1
    value3: int = 1


def encode_server_info(session_id: bytes, product: str = "ScratchBird native SBWP P1",
                       channel: str = "public-alpha", dialect: str = "sbsql",
                       supported_features: int = 0x016FE3D6) -> bytes:
    return (bytes(session_id) + bytes(32) + lpstr(product) + lpstr(channel) + lpstr(dialect)
            + struct.pack("<QQQ", 1, supported_features, 1))


def parse_server_info(payload: Buffer) -> ServerInfo:
    cur = _Cursor(payload, "SERVER_INFO")
    session_id, slot2, slot3 = cur.take(16), cur.take(16), cur.take(16)
    product = cur.lpstr().decode("utf-8", "replace")
    channel = cur.lpstr().decode("utf-8", "replace")
    dialect = cur.lpstr().decode("utf-8", "replace")
    value1, features, value3 = cur.u64(), cur.u64(), cur.u64()
    return ServerInfo(session_id, product, channel, dialect, features, slot2, slot3, value1, value3)


# ---------------------------------------------------------------- PARAMETER_STATUS (3.13)


def encode_parameter_status(entries: Sequence[Tuple[str, str]]) -> bytes:
    """u32 count + entries {lpstr key, u8 type=1, u8 redaction=0, u8 defaulted=0, lpstr value}."""
    parts = [_U32.pack(len(entries))]
    for key, value in entries:
        parts.append(lpstr(key) + b"\x01\x00\x00" + lpstr(value))
    return b"".join(parts)


def parse_parameter_status(payload: Buffer) -> Dict[str, str]:
    """Both layouts: the server's counted list, and the spec's single ``lpstr, lpstr`` pair."""
    cur = _Cursor(payload, "PARAMETER_STATUS")
    try:
        count = cur.u32()
        out = {}
        for _ in range(count):
            key = cur.lpstr().decode("utf-8", "replace")
            cur.take(3)
            out[key] = cur.lpstr().decode("utf-8", "replace")
        if cur.remaining == 0:
            return out
    except MessageFormatError:
        pass
    cur = _Cursor(payload, "PARAMETER_STATUS")
    key = cur.lpstr().decode("utf-8", "replace")
    value = cur.lpstr().decode("utf-8", "replace")
    return {key: value}


# ---------------------------------------------------------------- READY (3.14)

class Ready(NamedTuple):
    txn_id: int
    status: int                     # legacy: 0/1; P1: ord('T') or ord('R')
    reason: Optional[int] = None    # P1 only
    session_id: bytes = ZERO_UUID
    attachment_id: bytes = ZERO_UUID
    version: Optional[int] = None
    features: Optional[int] = None
    layout: str = "p1"


def encode_ready_legacy(txn_id: int) -> bytes:
    return struct.pack("<B3xQQ", 1 if txn_id else 0, txn_id, txn_id)


def encode_ready_p1(session_id: bytes, txn_id: int, reason: int, features: int,
                    version: int = 0x0101) -> bytes:
    status = 0x54 if txn_id else 0x52
    return (bytes(session_id) * 2 + bytes(16)
            + struct.pack("<QBBHQII", txn_id, status, reason, version, features, 0, 0))


_READY_LEGACY = struct.Struct("<B3xQQ")
_READY_P1 = struct.Struct("<QBBHQ")


def parse_ready(payload: Buffer) -> Ready:
    """READY in either form, told apart by length: 20 bytes legacy, 76 bytes P1."""
    if len(payload) == 20:
        status, txn_id, _epoch = _READY_LEGACY.unpack_from(payload)
        return Ready(txn_id, status, layout="legacy")
    if len(payload) >= 76:
        txn_id, status, reason, version, features = _READY_P1.unpack_from(payload, 48)
        return Ready(txn_id, status, reason, bytes(payload[0:16]), bytes(payload[16:32]),
                     version, features, "p1")
    raise MessageFormatError(f"READY payload of {len(payload)} bytes (expected 20 or 76)")


# ---------------------------------------------------------------- ROW_DESCRIPTION (4.3, 4.4)

@dataclass
class TypeRef:
    """The 144-byte P1 CanonicalTypeRef (REFERENCE 4.4)."""

    family: int = 8
    code: int = 1
    version: int = 1
    flags: int = 0
    descriptor_uuid: bytes = ZERO_UUID
    domain_uuid: bytes = ZERO_UUID
    element_uuid: bytes = ZERO_UUID
    descriptor_version: int = 1
    array_rank: int = 0
    modifier_bitmap: int = 0
    precision: int = 0
    scale: int = 0
    datetime_precision: int = 0
    length_chars: int = 0
    length_bytes: int = 0
    charset_uuid: bytes = ZERO_UUID
    collation_uuid: bytes = ZERO_UUID
    timezone_policy: int = 0
    calendar_policy: int = 0
    numeric_locale_policy: int = 0

    _STRUCT = struct.Struct("<HHHH16s16s16sIIQqiiqq16s16sHHH2x")

    def encode(self) -> bytes:
        return self._STRUCT.pack(
            self.family, self.code, self.version, self.flags, self.descriptor_uuid,
            self.domain_uuid, self.element_uuid, self.descriptor_version, self.array_rank,
            self.modifier_bitmap, self.precision, self.scale, self.datetime_precision,
            self.length_chars, self.length_bytes, self.charset_uuid, self.collation_uuid,
            self.timezone_policy, self.calendar_policy, self.numeric_locale_policy)

    @classmethod
    def decode(cls, data: Buffer, offset: int = 0) -> "TypeRef":
        return cls(*cls._STRUCT.unpack_from(data, offset))

    @classmethod
    def for_oid(cls, oid: int) -> "TypeRef":
        family, code = TYPEREF_FOR_OID.get(oid, (8, 1))
        if (family, code) == (0, 0):
            return cls(0, 0, 0, 0, descriptor_version=0)
        return cls(family, code)


assert TypeRef._STRUCT.size == 144


def _typeref_oid(typeref: TypeRef) -> int:
    # A temporal type says "with time zone" in timezone_policy (docs/protocol.md 1.2).
    code = typeref.code
    if typeref.family == 11 and typeref.timezone_policy == 1:
        code |= 0x8000
    return oid_for_typeref(typeref.family, code)


@dataclass
class Column:
    """One result column, from either ROW_DESCRIPTION layout."""

    name: str
    type_oid: int
    type_size: int = -1
    type_modifier: int = -1
    format: int = 0            # 0 text, 1 binary (legacy numbering)
    nullable: int = 1
    table_oid: int = 0
    column_index: int = 0
    typeref: Optional[TypeRef] = None
    column_class: int = 0
    updatability: int = 0
    metadata_bitmap: int = 0
    extra_text: List[Tuple[int, bytes]] = field(default_factory=list)


@dataclass
class RowDescription:
    columns: List[Column]
    layout: str = "p1"
    result_set_kind: int = 0
    # the PEP 249 description, built once (descriptions are reused for repeated statements)
    dbapi: Optional[Tuple[DescriptionItem, ...]] = field(default=None, repr=False, compare=False)
    # True when its column names are no report's (_reports.names_never_report), found once
    report_free: Optional[bool] = field(default=None, repr=False, compare=False)


def encode_row_description_legacy(columns: Sequence[Column]) -> bytes:
    parts = [struct.pack("<HH", len(columns), 0)]
    for i, col in enumerate(columns):
        parts.append(lpstr(col.name) + struct.pack(
            "<IHIhiBBH", col.table_oid, i, col.type_oid, col.type_size, col.type_modifier,
            col.format, col.nullable, 0))
    return b"".join(parts)


_P1_COLUMN_HEAD = struct.Struct("<IBBBBQ")   # ordinal, class, value_format, nullability, updatability, metadata


def encode_row_description_p1(columns: Sequence[Column]) -> bytes:
    parts = [struct.pack("<HBBI", 1, 0, 1, len(columns)), bytes(64)]
    for i, col in enumerate(columns):
        typeref = col.typeref or TypeRef.for_oid(col.type_oid)
        value_format = 1 if col.format == 0 else 0   # P1 numbering is the opposite (4.4)
        parts.append(_P1_COLUMN_HEAD.pack(i + 1, col.column_class, value_format, col.nullable,
                                          col.updatability, col.metadata_bitmap or 0x401))
        parts.append(typeref.encode())
        parts.append(bytes(48) + bytes(8))
        parts.append(b"\x03" + lpstr(col.name))
    return b"".join(parts)


def _parse_ntext(cur: _Cursor) -> Tuple[int, bytes]:
    state = cur.u8()
    return state, cur.lpstr()


# metadata bits that add one more ntext, in wire order (REFERENCE 4.4)
_P1_EXTRA_TEXT_BITS = (1, 2, 3, 4, 5, 6, 9, 7, 35)


def parse_row_description(payload: Buffer, layout: Optional[str] = None) -> RowDescription:
    """Parse ROW_DESCRIPTION. ``layout`` comes from the STARTUP we sent; when None the
    drivers' shape test (``u16@0 == 1 and byte@3 == 1``) decides (REFERENCE 8.4 item 7)."""
    if layout is None:
        layout = "p1" if len(payload) >= 8 and payload[0] == 1 and payload[1] == 0 \
            and payload[3] == 1 else "legacy"
    cur = _Cursor(payload, "ROW_DESCRIPTION")
    columns = []
    if layout == "legacy":
        count = cur.u16()
        cur.u16()
        for _ in range(count):
            name = cur.lpstr().decode("utf-8", "replace")
            cur.need(20)
            table_oid, index, oid, size, modifier, fmt, nullable, _r = \
                struct.unpack_from("<IHIhiBBH", cur.data, cur.pos)
            cur.pos += 20
            columns.append(Column(name, oid, size, modifier, fmt, nullable, table_oid, index))
        return RowDescription(columns, "legacy")
    cur.need(72)
    _version, kind, _flags, count = struct.unpack_from("<HBBI", cur.data, 0)
    cur.pos = 72
    for i in range(count):
        cur.need(216)
        ordinal, cls, value_format, nullability, updatability, metadata = \
            _P1_COLUMN_HEAD.unpack_from(cur.data, cur.pos)
        typeref = TypeRef.decode(cur.data, cur.pos + 16)
        cur.pos += 216
        state, label = _parse_ntext(cur)
        extra = []
        for bit in _P1_EXTRA_TEXT_BITS:
            if metadata & (1 << bit):
                extra.append((bit, _parse_ntext(cur)[1]))
        oid = _typeref_oid(typeref)
        columns.append(Column(
            label.decode("utf-8", "replace"), oid, -1, -1,
            0 if value_format == 1 else 1, nullability, 0, i, typeref, cls, updatability,
            metadata, extra))
    return RowDescription(columns, "p1", kind)


# ---------------------------------------------------------------- COMMAND_COMPLETE (4.5)

class CommandComplete(NamedTuple):
    command_type: int
    rows: int
    last_insert_id: int
    tag: str


def encode_command_complete(tag: str, rows: int = 0, last_insert_id: int = 0,
                            command_type: int = 1) -> bytes:
    return struct.pack("<B3xQQ", command_type, rows, last_insert_id) + tag.encode("utf-8") + b"\x00"


_CC_HEAD = struct.Struct("<B3xQQ")


def parse_command_complete(payload: Buffer) -> CommandComplete:
    if len(payload) < 20:
        raise MessageFormatError(f"COMMAND_COMPLETE payload of {len(payload)} bytes (at least 20)")
    command_type, rows, last_id = _CC_HEAD.unpack_from(payload)
    tag = bytes(payload[20:]).partition(b"\x00")[0]
    return CommandComplete(command_type, rows, last_id, tag.decode("utf-8", "replace"))


# ---------------------------------------------------------------- ERROR (9.1)


def encode_error(fields: Sequence[Tuple[str, str]]) -> bytes:
    """ERROR: ``u8 code + cstr value`` per non-empty field, then a 0x00 terminator."""
    parts = []
    for code, value in fields:
        if value:
            parts.append(code.encode("ascii") + value.encode("utf-8") + b"\x00")
    return b"".join(parts) + b"\x00"


def parse_error(payload: Buffer) -> Dict[str, str]:
    """All fields by one-letter code; unknown codes are kept; stops at the terminator."""
    data = bytes(payload)
    out: Dict[str, str] = {}
    pos = 0
    while pos < len(data) and data[pos] != 0:
        code = chr(data[pos])
        end = data.find(b"\x00", pos + 1)
        if end < 0:
            raise MessageFormatError("ERROR payload has an unterminated field")
        out[code] = data[pos + 1:end].decode("utf-8", "replace")
        pos = end + 1
    return out


# ---------------------------------------------------------------- extended protocol (5.3)


def encode_parameter_description_legacy(oids: Sequence[int]) -> bytes:
    return struct.pack("<HH", len(oids), 0) + b"".join(_U32.pack(o) for o in oids)


def encode_parameter_description_p1(oids: Sequence[int], array_bind: bool = False) -> bytes:
    head = struct.pack("<HBB", 1, 0, 1) + bytes(64) + _U32.pack(len(oids))
    flags = 0x0E if array_bind else 0x06
    parts = [head]
    for i, oid in enumerate(oids):
        parts.append(struct.pack("<IBBBBQQ", i + 1, 0, 0, 2, 0, flags, 1 << 10))
        parts.append(TypeRef.for_oid(oid).encode())
        parts.append(bytes(4) + b"\x00" + _U32.pack(0))
    return b"".join(parts)


def parse_parameter_description(payload: Buffer, layout: str) -> List[int]:
    """Parameter type OIDs (P1 TypeRefs are mapped back to OIDs)."""
    cur = _Cursor(payload, "PARAMETER_DESCRIPTION")
    if layout == "legacy":
        count = cur.u16()
        cur.u16()
        return [cur.u32() for _ in range(count)]
    cur.need(72)
    count = struct.unpack_from("<I", cur.data, 68)[0]
    cur.pos = 72
    out = []
    for _ in range(count):
        cur.need(172)
        typeref = TypeRef.decode(cur.data, cur.pos + 24)
        cur.pos += 172
        _parse_ntext(cur)
        out.append(_typeref_oid(typeref))
    return out


# ---------------------------------------------------------------- other server frames


def encode_copy_in_response(fmt: int, window_bytes: int) -> bytes:
    """COPY_IN_RESPONSE (REFERENCE 7.8): u8 format, u32 window."""
    return struct.pack("<BI", fmt, window_bytes)


def parse_copy_in_response(payload: Buffer) -> Tuple[int, int]:
    if len(payload) < 5:
        raise MessageFormatError("COPY_IN_RESPONSE payload shorter than 5 bytes")
    return cast(Tuple[int, int], struct.unpack_from("<BI", payload))


def encode_notification(channel: str, payload: str, value: int = 0) -> bytes:
    return lpstr(channel) + lpstr(payload) + _U32.pack(value)


def parse_notification(payload: Buffer) -> Tuple[str, str, int]:
    cur = _Cursor(payload, "NOTIFICATION")
    channel = cur.lpstr().decode("utf-8", "replace")
    body = cur.lpstr().decode("utf-8", "replace")
    value = cur.u32() if cur.remaining >= 4 else 0
    return channel, body, value


class CancelOutcome(NamedTuple):
    """CANCELLED (0x66, REFERENCE 7.2): what the server says a CANCEL did. The real
    server cannot interrupt anything (12.A.10), so a "targeted" CANCEL reports
    ``user_statement_cancelled`` even when nothing was cancelled: read the outcome of the
    request itself (an ERROR 57014), not this record."""

    cancel_id: bytes
    outcome_class: str
    sqlstate: str
    diagnostic_code: str
    transaction_effect: str
    retryability: str


def encode_cancelled(cancel_id: bytes, outcome: Sequence[str]) -> bytes:
    return bytes(cancel_id) + b"".join(lpstr(v) for v in outcome)


def parse_cancelled(payload: Buffer) -> CancelOutcome:
    data = bytes(payload)
    if len(data) < 16:
        raise MessageFormatError("CANCELLED payload shorter than its 16-byte cancel uuid")
    cur = _Cursor(data[16:], "CANCELLED")
    texts = [cur.lpstr().decode("utf-8", "replace") for _ in range(5)]
    return CancelOutcome(data[:16], *texts)
