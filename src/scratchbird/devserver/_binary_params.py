"""Binary BIND parameters of the ``full`` profile (docs/protocol.md 1.7 and 5).

sbsql splices every BIND value into the SQL as a literal (REFERENCE 5.2, ``_binding``).
In a session that negotiated FEATURE_BINARY_VALUES, a statement whose PARSE declared at
least one *tagged* parameter type (``_constants.param_type_oid``: the top bit set, then
the TypeRef's family and code) is bound for real instead: each BIND value becomes a
Python value and the statement runs as a DuckDB prepared statement with them, its
``$1..$n`` (or ``?``) markers untouched. A value is

- NULL (length -1): ``None``, whatever its type;
- format 1 with a tagged type: ``bincodec.decode_value((family, code), bytes)``;
- format 1 with a plain OID: decoded as ``bincodec.OID_TYPE_IDS`` maps that OID, else
  taken as UTF-8 text (REFERENCE 8.6's reading of an unknown binary value);
- format 0 (text): the text itself, which DuckDB converts where the statement needs it.

Then it is handed to DuckDB with the DuckDB type that keeps it exact (an INT16 stays a
SMALLINT, an Interval keeps its months, a TIMESTAMPTZ its instant; see ``_duck_value``).
A value whose bytes do not fit its type is ERROR ``22P02``
``SBWP.BIND.BINARY_PARAMETER_INVALID`` naming the parameter; a type DuckDB has no
counterpart for (RANGE, MULTIRANGE, a DECIMAL over 38 digits, NaN or infinity) is ERROR
``0A000`` ``SBWP.BIND.PARAMETER_TYPE_UNSUPPORTED``. Both are extended-protocol errors:
no READY until SYNC, and the session goes on (REFERENCE 9.2).
"""
from __future__ import annotations

import datetime as _dt
import ipaddress
import struct
from decimal import Decimal
from typing import List, Optional, Sequence, cast

import duckdb
from duckdb.value.constant import Value

from scratchbird._constants import PARAM_TYPE_TAG, param_type_from_oid
from scratchbird._impl import bincodec
from scratchbird._server_messages import encode_parameter_description_p1
from scratchbird.binary_types import Geometry, Interval, Jsonb, Range
from scratchbird.errors import DataError

from ._binding import BindingError

__all__ = ["BoundParameters", "typed", "bind_parameters",
           "parameter_description_p1"]

B = bincodec
_MAX_DECIMAL_DIGITS = 38      # DuckDB's DECIMAL(38, s)

# wire type -> the DuckDB type a parameter of it is bound as (ints keep their width)
_DUCK_TYPES = {
    B.INT8: "TINYINT", B.INT16: "SMALLINT", B.INT32: "INTEGER", B.INT64: "BIGINT",
    B.INT128: "HUGEINT", B.UINT8: "UTINYINT", B.UINT16: "USMALLINT", B.UINT32: "UINTEGER",
    B.UINT64: "UBIGINT", B.UINT128: "UHUGEINT", B.FLOAT32: "FLOAT", B.BIT: "BIT",
    B.JSON: "JSON", B.JSONB: "JSON", B.TIMESTAMPTZ: "TIMESTAMPTZ",
    B.TIMETZ: "TIME WITH TIME ZONE", B.INTERVAL: "INTERVAL", B.VECTOR: "FLOAT[]",
}


class BoundParameters:
    """A portal bound with real parameters: the statement's SQL and the Python values."""

    __slots__ = ("sql", "values", "size")

    def __init__(self, sql: str, values: List[object], size: int) -> None:
        self.sql = sql
        self.values = values
        self.size = size

    def __repr__(self) -> str:
        return f"<BoundParameters {len(self.values)} values for {self.sql[:40]!r}>"


def typed(oids: Sequence[int]) -> bool:
    """True when PARSE declared a tagged parameter type (docs/protocol.md 1.7)."""
    return any(oid & PARAM_TYPE_TAG for oid in oids)


def bind_parameters(sql: str, oids: Sequence[int], formats: Sequence[int],
                    values: Sequence[Optional[bytes]]) -> BoundParameters:
    """The values of one BIND as DuckDB parameters. Raises BindingError (see module doc)."""
    out = []
    for i, raw in enumerate(values):
        oid = oids[i] if i < len(oids) else 0
        out.append(None if raw is None else _parameter(i + 1, oid, formats[i], bytes(raw)))
    size = len(sql.encode("utf-8")) + sum(8 + len(v) for v in values if v is not None)
    return BoundParameters(sql, out, size)


def _parameter(ordinal: int, oid: int, fmt: int, raw: bytes):
    if fmt == 0:
        return raw.decode("utf-8", "replace")
    type_id = param_type_from_oid(oid)
    if type_id is None:
        type_id = B.OID_TYPE_IDS.get(oid)
        if type_id is None:                      # REFERENCE 8.6: text, length prefix optional
            if len(raw) >= 4 and struct.unpack_from("<I", raw)[0] == len(raw) - 4:
                raw = raw[4:]
            return raw.decode("utf-8", "replace")
    try:
        value = B.decode_value(type_id, raw)
    except DataError as exc:
        raise BindingError("22P02", "SBWP.BIND.BINARY_PARAMETER_INVALID",
                           f"parameter ${ordinal}: {exc}") from None
    try:
        return _duck_value(tuple(type_id), value)
    except _NoDuckType as exc:
        raise BindingError("0A000", "SBWP.BIND.PARAMETER_TYPE_UNSUPPORTED",
                           f"parameter ${ordinal} ({B.type_label(type_id)}): {exc}") from None


class _NoDuckType(Exception):
    pass


def _interval_text(value: Interval) -> str:
    return f"{value.months} months {value.days} days {value.microseconds} microseconds"


def _decimal(value: Decimal):
    if not value.is_finite():
        raise _NoDuckType(f"{value} has no DuckDB DECIMAL")
    _sign, digits, exp = value.as_tuple()
    exponent = cast(int, exp)           # an int once the value is finite (not n, N, F)
    scale = max(-exponent, 0)
    precision = max(len(digits) + max(exponent, 0), scale, 1)
    if precision > _MAX_DECIMAL_DIGITS:
        raise _NoDuckType(f"{precision} digits do not fit DuckDB's DECIMAL({_MAX_DECIMAL_DIGITS})")
    return Value(value, duckdb.type(f"DECIMAL({precision},{scale})"))


def _duck_value(type_id, value):
    """``value`` (decoded as ``type_id``) as DuckDB should bind it."""
    if type_id in (B.DECIMAL, B.DECFLOAT, B.MONEY):
        return _decimal(value)
    if type_id == B.INTERVAL:
        return Value(_interval_text(value), duckdb.type("INTERVAL"))
    if type_id == B.TIMETZ:          # as text: DuckDB's Python conversion refuses offsets < 0
        return Value(value.isoformat(), duckdb.type("TIME WITH TIME ZONE"))
    if type_id == B.JSONB:
        value = value.text
    duck = _DUCK_TYPES.get(type_id)
    if duck is not None:
        return Value(value, duckdb.type(duck))
    return _nested(value)


def _nested(value):
    """A Python value (inside a nested one, or of a type DuckDB infers) for DuckDB."""
    if isinstance(value, list):
        return [None if v is None else _nested(v) for v in value]
    if isinstance(value, tuple):                 # ROW: field names are not on the wire
        return {f"f{i + 1}": None if v is None else _nested(v) for i, v in enumerate(value)}
    if isinstance(value, dict):                  # MAP: DuckDB's key/value list form
        return {"key": [_nested(k) for k in value],
                "value": [None if v is None else _nested(v) for v in value.values()]}
    if isinstance(value, Decimal):
        _decimal(value)                          # refuses what DuckDB cannot hold exactly
        return value
    if isinstance(value, Interval):
        if value.months:
            raise _NoDuckType("an interval with months inside a nested value")
        return value.to_timedelta()
    if isinstance(value, _dt.time) and value.utcoffset() is not None:
        raise _NoDuckType("a time with time zone inside a nested value")
    if isinstance(value, Jsonb):
        return value.text
    if isinstance(value, Geometry):
        return value.wkb
    if isinstance(value, (ipaddress.IPv4Interface, ipaddress.IPv6Interface,
                          ipaddress.IPv4Network, ipaddress.IPv6Network,
                          ipaddress.IPv4Address, ipaddress.IPv6Address)):
        return str(value)
    if isinstance(value, Range):                 # RANGE, and each member of a MULTIRANGE
        raise _NoDuckType("DuckDB has no range types")
    return value


def parameter_description_p1(oids: Sequence[int], array_bind: bool = False) -> bytes:
    """P1 PARAMETER_DESCRIPTION (REFERENCE 5.3) whose tagged types carry their real TypeRef.

    sbsql maps every OID through REFERENCE 8.2 (unknown ones to TEXT); here a tagged
    parameter type is announced as the (family, code) it names.
    """
    data = bytearray(encode_parameter_description_p1(oids, array_bind))
    pos = 72                                     # header; each parameter: 172 bytes + ntext
    for oid in oids:
        type_id = param_type_from_oid(oid)
        if type_id is not None and type_id != B.UNTYPED:
            data[pos + 24:pos + 168] = B.typeref_for(type_id).encode()
        pos += 172 + 5 + struct.unpack_from("<I", data, pos + 173)[0]
    return bytes(data)
