"""DATA_ROW codec for binary-value sessions (pure-Python twin of ``ext/bincodec.pyx``).

The binary sibling of ``rowcodec``: a P1 ROW_DESCRIPTION column with value_format 0
("canonical binary", REFERENCE 4.4) carries its values in the layouts of
docs/protocol.md, "Binary values". Each column's decoder is chosen once, from the
column's type id, when the decoder is built (a table keyed by type id,
``bincodec_scalar.CODECS``); a column whose type cannot be decoded gets a decoder that
refuses its first non-NULL value.

NULL is the DATA_ROW null-bitmap bit (or a length of -1), so NULL and '' are distinct.
A value whose bytes do not fit its type raises DataError naming the column (index and
name) and the type; framing errors of the DATA_ROW itself raise ProtocolError, as in
``rowcodec``.
"""
from __future__ import annotations

import struct
from typing import TYPE_CHECKING, Any, Iterable, List, NoReturn, Optional, Sequence, Tuple

from scratchbird._constants import DATA_ROW, ZERO_UUID
from scratchbird._pure import bincodec_temporal  # noqa: F401 - registers the temporal codecs
from scratchbird._pure.bincodec_nested import MAX_DEPTH, MAX_NDIM, decode_any, infer_spec
from scratchbird._pure.bincodec_scalar import (
    ARRAY, BINARY, BIT, BLOB, BOOLEAN, CIDR, CODECS, COMPOSITE, DATE, DECFLOAT, DECIMAL, ENUM,
    FLOAT32, FLOAT64, GEOGRAPHY, GEOMETRY, INET, INT8, INT16, INT32, INT64, INT128, INTERVAL,
    JSON, JSONB, LIST, MACADDR, MAP, MONEY, MULTIRANGE, POINT, RANGE, ROW, SHAPE, TEXT, TIME,
    TIMESTAMP, TIMESTAMPTZ, TIMETZ, TSQUERY, TSVECTOR, TYPE_NAMES, TZ, UINT8, UINT16, UINT32,
    UINT64, UINT128, UNTYPED, UUID, VARIANT, VECTOR, XML, Decoder, JsonLoads, Options, TypeId,
    TypeSpec, _Malformed, type_label,
)
from scratchbird._pure import rowcodec as _rowcodec
from scratchbird.errors import DataError

if TYPE_CHECKING:
    from scratchbird._server_messages import Column, TypeRef
    from scratchbird._typing import Buffer

__all__ = [
    "BinaryRowDecoder", "read_data_rows", "decode_value", "encode_value", "encode_data_row",
    "encode_data_row_frames", "encode_param", "column_type_id", "typeref_for", "type_label",
    "TYPE_NAMES", "OID_TYPE_IDS", "TZ", "MAX_DEPTH", "MAX_NDIM",
    "UNTYPED", "BOOLEAN", "INT8", "INT16", "INT32", "INT64", "INT128", "UINT8", "UINT16",
    "UINT32", "UINT64", "UINT128", "DECIMAL", "DECFLOAT", "FLOAT32", "FLOAT64", "MONEY", "TEXT",
    "BINARY", "BIT", "DATE", "TIME", "TIMETZ", "TIMESTAMP", "TIMESTAMPTZ", "INTERVAL", "UUID",
    "BLOB", "ARRAY", "LIST", "MAP", "ROW", "COMPOSITE", "VARIANT", "RANGE", "MULTIRANGE", "ENUM",
    "INET", "CIDR", "MACADDR", "JSON", "JSONB", "XML", "GEOMETRY", "GEOGRAPHY", "POINT",
    "SHAPE", "VECTOR", "TSVECTOR", "TSQUERY",
]

# Legacy type OIDs (REFERENCE 8.7's spec OIDs and 8.8's driver mapping, inverted) for a
# column that has no CanonicalTypeRef. 701 is FLOAT64 here: the server's (6,2) for 701
# in PARAMETER_DESCRIPTION is its own inconsistency (REFERENCE 8.2).
OID_TYPE_IDS = {
    16: BOOLEAN, 21: INT16, 23: INT32, 20: INT64, 16384: INT128, 700: FLOAT32, 701: FLOAT64,
    1700: DECIMAL, 16385: DECIMAL, 790: MONEY, 25: TEXT, 1042: TEXT, 1043: TEXT, 17: BINARY,
    1082: DATE, 1083: TIME, 1266: TIMETZ, 1114: TIMESTAMP, 1184: TIMESTAMPTZ, 1186: INTERVAL,
    2950: UUID, 114: JSON, 3802: JSONB, 142: XML, 869: INET, 650: CIDR, 829: MACADDR,
    774: MACADDR, 1560: BIT, 1562: BIT, 3614: TSVECTOR, 3615: TSQUERY, 16386: VECTOR,
    1007: ARRAY, 1016: ARRAY, 1009: ARRAY, 3904: RANGE, 3926: RANGE, 3906: RANGE,
    3908: RANGE, 3910: RANGE, 3912: RANGE,
}

# CanonicalTypeRef type_flags per REFERENCE 8.8 (for typeref_for)
_TYPE_FLAGS = {
    INT128: 0x20, UINT8: 0x10, UINT16: 0x10, UINT32: 0x10, UINT64: 0x10, UINT128: 0x30,
    DECIMAL: 0x20, FLOAT32: 0x40, FLOAT64: 0x40, BLOB: 0x100, ARRAY: 0x80, LIST: 0x80,
    MAP: 0x80, RANGE: 0x80, MULTIRANGE: 0x80,
}
MODIFIER_DATETIME_PRECISION = 1 << 2
MODIFIER_TZ_POLICY = 1 << 10
NO_DECODING = "no binary decoding for this type"

_U16x2 = struct.Struct("<HH")
_I32 = struct.Struct("<i")


def _plan_column(col: Column) -> Tuple[TypeId, str, Optional[str]]:
    """``(type_id, label, problem)`` for a column: problem is None when values decode.

    The type comes from the P1 CanonicalTypeRef (REFERENCE 4.4, 8.8): family and code,
    timezone_policy 1 for WITH TIME ZONE, datetime_precision (modifier bit 2) above 6
    refused; a column with only an OID maps it through ``OID_TYPE_IDS``.
    """
    typeref = getattr(col, "typeref", None)
    if typeref is None:
        oid = getattr(col, "type_oid", 0)
        type_id = OID_TYPE_IDS.get(oid)
        if type_id is None:
            return UNTYPED, f"OID {oid}", NO_DECODING
        return type_id, type_label(type_id), None
    family, code = typeref.family, typeref.code
    type_id = (family, code)
    if code & TZ:
        return type_id, f"type ({family},{code})", NO_DECODING
    if type_id in (TIME, TIMESTAMP):
        policy = typeref.timezone_policy
        if policy == 1:
            type_id = (family, code | TZ)
        elif policy != 0:
            return type_id, type_label(type_id), (
                f"timezone_policy {policy} is not 0 (without time zone) or 1 (with time zone)")
    label = type_label(type_id)
    if (family in (11, 12) and typeref.modifier_bitmap & MODIFIER_DATETIME_PRECISION
            and typeref.datetime_precision > 6):
        return type_id, label, (f"datetime precision {typeref.datetime_precision} is finer "
                                "than the microseconds Python holds")
    if type_id == UNTYPED or type_id not in CODECS:
        return type_id, label, NO_DECODING
    return type_id, label, None


def column_type_id(col: Column) -> TypeId:
    """The type id a column's binary values are decoded as (see ``_plan_column``)."""
    return _plan_column(col)[0]


def _column_context(index: int, col: Column, label: str) -> str:
    name = getattr(col, "name", None)
    return f"column {index} ({name!r}, {label})" if name is not None else f"column {index} ({label})"


def _refuser(problem: str) -> Decoder:
    def refuse(data: bytes, opts: Options, depth: int) -> NoReturn:
        raise _Malformed(problem)
    return refuse


class BinaryRowDecoder:
    """Turns DATA_ROW payloads of a binary-value result into tuples.

    ``columns`` are ``scratchbird._server_messages.Column`` objects (``typeref`` or
    ``type_oid``, and ``name``). ``json_loads`` (for example ``json.loads``) parses JSON
    and JSONB values; without it JSON is ``str`` and JSONB is ``Jsonb``.
    """

    def __init__(self, columns: Iterable[Column], json_loads: Optional[JsonLoads] = None) -> None:
        # Built into locals first, as the compiled twin: a failed re-initialisation
        # leaves the old state whole.
        columns = tuple(columns)
        plans = [_plan_column(col) for col in columns]
        opts = Options(json_loads)
        type_ids = tuple(plan[0] for plan in plans)
        contexts = tuple(_column_context(i, col, plan[1])
                         for i, (col, plan) in enumerate(zip(columns, plans)))
        decoders = tuple(_refuser(plan[2]) if plan[2] else CODECS[plan[0]][0] for plan in plans)
        self._columns, self._json_loads, self._opts = columns, json_loads, opts
        self._type_ids, self._contexts, self._decoders = type_ids, contexts, decoders

    # read-only: the decoders are chosen from these once
    @property
    def columns(self) -> Tuple[Column, ...]:
        return self._columns

    @property
    def json_loads(self) -> Optional[JsonLoads]:
        return self._json_loads

    @property
    def type_ids(self) -> Tuple[TypeId, ...]:
        """The type id of each column."""
        return self._type_ids

    @property
    def ncolumns(self) -> int:
        return len(self._decoders)

    def decode_row(self, payload: Buffer) -> Tuple[Any, ...]:
        """One DATA_ROW payload (REFERENCE 4.6) to a tuple."""
        values = _rowcodec.data_row_values(payload, len(self._decoders))
        decoders, opts = self._decoders, self._opts
        out: List[Any] = []
        i = 0
        try:
            for i, raw in enumerate(values):
                out.append(None if raw is None else decoders[i](raw, opts, 0))
        except _Malformed as exc:
            raise DataError(f"{self._contexts[i]}: {exc}") from None
        return tuple(out)


# The frame loop is the text decoder's: it only asks the decoder for decode_row().
read_data_rows = _rowcodec.read_data_rows

# ---------------------------------------------------------------- single values


def _spec(type_id: TypeSpec) -> TypeSpec:
    """A type spec as a tuple: ``(family, code, *parameters)`` (docs/protocol.md)."""
    if not isinstance(type_id, (tuple, list)) or len(type_id) < 2:
        raise TypeError(f"a type id is a (family, code) tuple, not {type_id!r}")
    return tuple(type_id)


def decode_value(type_id: TypeSpec, data: Buffer, json_loads: Optional[JsonLoads] = None) -> Any:
    """One binary value of ``type_id`` (``(family, code)``) from its bytes."""
    key = _spec(type_id)[:2]
    try:
        return decode_any(key, bytes(data), Options(json_loads), 0)
    except _Malformed as exc:
        raise DataError(f"{type_label(key)}: {exc}") from None


def _encode(spec: TypeSpec, value: Any) -> bytes:
    codec = CODECS.get(spec[:2])
    if codec is None or spec[:2] == UNTYPED:
        raise _Malformed("no binary encoding for this type")
    if value is None and spec[:2] != VARIANT:   # a VARIANT can hold a NULL
        raise _Malformed("None has no binary value (NULL is the DATA_ROW null bitmap)")
    return codec[1](value, spec)


def encode_value(type_id: TypeSpec, value: Any) -> bytes:
    """The binary value of ``value`` as ``type_id``, a type spec (docs/protocol.md)."""
    spec = _spec(type_id)
    try:
        return _encode(spec, value)
    except _Malformed as exc:
        raise DataError(f"{type_label(spec)}: {exc}") from None


def encode_data_row(type_ids: Sequence[TypeSpec], values: Sequence[Any]) -> bytes:
    """DATA_ROW payload of binary values; None is a null-bitmap NULL (the dev server's path)."""
    ncols = len(values)
    if len(type_ids) != ncols:
        raise DataError(f"{ncols} values for {len(type_ids)} column types")
    if ncols > 0xFFFF:
        raise DataError(f"a DATA_ROW holds at most 65535 columns, not {ncols}")
    bitmap = bytearray((ncols + 7) // 8)
    parts = [b""]
    for i, (type_id, value) in enumerate(zip(type_ids, values)):
        if value is None:
            bitmap[i >> 3] |= 1 << (i & 7)
            continue
        spec = _spec(type_id)
        try:
            raw = _encode(spec, value)
        except _Malformed as exc:
            raise DataError(f"column {i} ({type_label(spec)}): {exc}") from None
        parts.append(_I32.pack(len(raw)))
        parts.append(raw)
    parts[0] = _U16x2.pack(ncols, len(bitmap)) + bytes(bitmap)
    return b"".join(parts)


def encode_data_row_frames(type_ids: Sequence[TypeSpec], rows: Iterable[Sequence[Any]],
                           sequence: int, attachment_id: Buffer = ZERO_UUID,
                           txn_id: int = 0) -> Tuple[bytes, int]:
    """Whole DATA_ROW frames (flags 0) for many rows of binary values: the dev server's
    bulk path, the binary sibling of ``rowcodec.encode_data_row_frames``.

    Returns ``(frames_bytes, next_sequence)``; each frame is ``encode_header`` plus
    ``encode_data_row(type_ids, row)``, with the sequence going up by one per row.
    """
    from scratchbird._pure.framing import encode_header
    if len(attachment_id) != 16:
        raise ValueError("attachment_id must be 16 bytes")
    if len(type_ids) > 0xFFFF:
        raise DataError(f"a DATA_ROW holds at most 65535 columns, not {len(type_ids)}")
    out = []
    for row in rows:
        payload = encode_data_row(type_ids, row)
        out.append(encode_header(DATA_ROW, len(payload), sequence, attachment_id, txn_id))
        out.append(payload)
        sequence += 1
    return b"".join(out), sequence


def encode_param(value: Any) -> Tuple[TypeId, Optional[bytes]]:
    """``(type_id, bytes)`` for a parameter, the type inferred from the Python value.

    None gives ``(UNTYPED, None)``: the caller sends the NULL marker.
    """
    if value is None:
        return UNTYPED, None
    try:
        spec = infer_spec(value)
        return spec[:2], _encode(spec, value)
    except _Malformed as exc:
        raise DataError(f"parameter of Python type {type(value).__name__}: {exc}") from None


def typeref_for(type_id: TypeSpec) -> TypeRef:
    """The P1 CanonicalTypeRef announcing ``type_id`` (the dev server's ROW_DESCRIPTION)."""
    from scratchbird._server_messages import TypeRef
    family, code = _spec(type_id)[:2]
    typeref = TypeRef(family, code & ~TZ, flags=_TYPE_FLAGS.get((family, code), 0))
    if family == 11 and code & TZ:
        typeref.modifier_bitmap |= MODIFIER_TZ_POLICY
        typeref.timezone_policy = 1
    return typeref
