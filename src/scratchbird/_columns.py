"""Column metadata for ``cursor.description`` and ``cursor.columns``, from what the
ROW_DESCRIPTION carries: the type code, and in P1 sessions the CanonicalTypeRef
(REFERENCE 4.4: modifier bits 0 precision, 1 scale, 2 datetime precision, 3 length in
characters, 4 length in bytes; nullability 0 no, 1 yes, 2 unknown)."""
from __future__ import annotations

import datetime as _dt
import decimal
import ipaddress
import uuid
from typing import TYPE_CHECKING, Any, Callable, NamedTuple, Optional, Tuple

from scratchbird import binary_types as bt
from scratchbird._impl import bincodec
from scratchbird._typing import DescriptionItem

if TYPE_CHECKING:
    from scratchbird._server_messages import Column

__all__ = ["ColumnInfo", "describe", "column_info"]

_MOD_PRECISION, _MOD_SCALE, _MOD_DT_PRECISION, _MOD_CHARS, _MOD_BYTES = 1, 2, 4, 8, 16
_TEXT_NAMES = {16: "BOOLEAN", 20: "INT64", 1700: "DECIMAL", 25: "TEXT"}
# Python type of a text-session value, by type code (REFERENCE 8.2)
_TEXT_PYTHON = {16: bool, 20: int, 1700: decimal.Decimal, 25: str}
# Python type of a binary value, by family (docs/protocol.md 1.2)
_FAMILY_PYTHON = {
    1: bool, 2: int, 3: int, 4: decimal.Decimal, 5: decimal.Decimal, 6: float,
    7: decimal.Decimal, 8: str, 9: bytes, 10: str, 12: bt.Interval, 13: uuid.UUID,
    14: bytes, 15: list, 16: tuple, 17: bt.Range, 18: str, 20: str, 21: bt.Geometry, 22: list,
}
_TEMPORAL_PYTHON = {1: _dt.date, 2: _dt.time, 3: _dt.datetime}
_NETWORK_PYTHON = {1: ipaddress.IPv4Interface, 2: ipaddress.IPv4Network, 3: str}


class ColumnInfo(NamedTuple):
    """Everything known about one result column."""

    name: str
    type_code: int              # the DB-API type_code (PostgreSQL-numbered OID)
    type_name: str              # database type name, e.g. INT64, DECIMAL, TIMESTAMPTZ
    family: Optional[int]       # CanonicalTypeRef family and code (P1 sessions)
    code: Optional[int]
    binary: bool                # values arrive in binary (value_format 0)
    nullable: Optional[bool]    # None when the server does not know
    precision: Optional[int]
    scale: Optional[int]
    length: Optional[int]       # declared length (characters or bytes)
    datetime_precision: Optional[int]
    python_type: Optional[type]  # the type a non-NULL value will have


def column_info(col: Column, loader: Optional[Callable[[Any], Any]] = None) -> ColumnInfo:
    ref = col.typeref
    binary = col.format == 1
    precision = scale = length = dt_precision = None
    family = code = None
    if ref is not None:
        family, code = ref.family, ref.code
        bits = ref.modifier_bitmap
        precision = ref.precision if bits & _MOD_PRECISION else None
        scale = ref.scale if bits & _MOD_SCALE else None
        dt_precision = ref.datetime_precision if bits & _MOD_DT_PRECISION else None
        if bits & _MOD_CHARS:
            length = ref.length_chars
        elif bits & _MOD_BYTES:
            length = ref.length_bytes
    if binary and ref is not None:
        type_id = bincodec.column_type_id(col)
        type_name = bincodec.type_label(type_id).split(" (")[0]
        python = _binary_python(type_id)
    else:
        type_name = _TEXT_NAMES.get(col.type_oid, "TEXT")
        python = _TEXT_PYTHON.get(col.type_oid, str)
    if loader is not None:
        python = None           # whatever the loader returns
    nullable = {0: False, 1: True}.get(col.nullable)
    return ColumnInfo(col.name, col.type_oid, type_name, family, code, binary, nullable,
                      precision, scale, length, dt_precision, python)


def _binary_python(type_id: Tuple[int, int]) -> Optional[type]:
    family, code = type_id[0], type_id[1]
    if family == 11:
        return _TEMPORAL_PYTHON.get(code & 0x7FFF)
    if family == 19:
        return _NETWORK_PYTHON.get(code)
    if family == 20 and code == 3:
        return bt.Jsonb
    if family == 16 and code == 1:
        return dict
    return _FAMILY_PYTHON.get(family)


def describe(col: Column) -> DescriptionItem:
    """The PEP 249 7-tuple: name, type_code, display_size, internal_size, precision,
    scale, null_ok."""
    info = column_info(col)
    internal = col.type_size if col.type_size is not None and col.type_size >= 0 else info.length
    return (col.name, col.type_oid, None, internal, info.precision, info.scale, info.nullable)
