"""Columnar DATA_ROW decoding into Arrow columns (pure-Python twin of ``ext/arrowcodec.pyx``).

An ``ArrowSink`` takes the place of a result's row list: the protocol hands it DATA_ROW
payloads (``read_data_rows``) and ``take()`` returns what it holds so far as one Arrow
column per result column, then starts empty again. The compiled twin fills Arrow buffers
(validity bitmap, offsets, data) in C and exports them through the Arrow C data interface;
this twin reaches the same columns by another road: Python values, then ``pyarrow``.

The plan of each column (its kind and Arrow format, ``plan_columns``) is shared with the
compiled twin, so both choose the same Arrow type. The type map and the choices behind it
are in README.md ("Columnar fetch") and docs/protocol.md (section 10).

Text values (REFERENCE 8.2-8.5): the declared code chooses the kind (16 bool, 20 int64,
1700 per ``numeric_as``, anything else utf8), the NULL policy is the tuple decoder's (the
bitmap bit, and the null markers unless ``raw_text``). On today's server the code is a hint
from the first row only, so a value that does not parse under its column's kind turns the
whole column of that batch into utf8 holding the server's text: never a wrong value.
"""
from __future__ import annotations

import re
from decimal import Decimal
from typing import (TYPE_CHECKING, Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple,
                    cast)

from scratchbird._pure import bincodec as _bincodec
from scratchbird._pure.rowcodec import DEFAULT_NULL_MARKERS, data_row_values, _text
from scratchbird._constants import DATA_ROW, OID_BOOL, OID_INT8, OID_NUMERIC
from scratchbird.errors import DataError, ProgrammingError

if TYPE_CHECKING:
    from scratchbird._typing import Buffer, FrameSource

__all__ = ["ArrowSink", "read_data_rows", "plan_columns", "parse_numeric_as",
           "NUMERIC_AS_DEFAULT", "export_stream"]

# column kinds (same values in the compiled twin)
K_UTF8 = 0       # text: the value's text; binary: inner length + UTF-8
K_BOOL = 1
K_INT64 = 2      # text only (binary integers are K_FIXED)
K_DEC128 = 3
K_FLOAT64 = 4    # text only
K_BYTES = 5      # binary: inner length + bytes
K_FIXED = 6      # binary: little-endian fixed-width numbers, copied as they are
K_DATE = 7
K_TIME = 8
K_TS = 9
K_UUID = 10
K_OBJECT = 11    # decoded to Python values, converted by pyarrow (the documented slow road)

NUMERIC_AS_DEFAULT = "str"
_NUMERIC_AS_RE = re.compile(r"decimal128\(\s*(\d+)\s*,\s*(\d+)\s*\)\Z")
_TRUE = frozenset((b"t", b"true", b"1"))
_FALSE = frozenset((b"f", b"false", b"0"))
_INT_RE = re.compile(rb"[+-]?[0-9]+\Z")
_DEC_RE = re.compile(rb"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z")
_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1
_MOD_PRECISION, _MOD_SCALE = 1, 2
B = _bincodec

# (kind, format, width, precision, scale, is_text, type_id or type code, context)
Plan = Tuple[int, str, int, int, int, bool, Any, str]

# binary type id -> (kind, Arrow format, width)
_BINARY_PLANS: Dict[Tuple[int, int], Tuple[int, str, int]] = {
    B.BOOLEAN: (K_BOOL, "b", 0),
    B.INT8: (K_FIXED, "c", 1), B.INT16: (K_FIXED, "s", 2), B.INT32: (K_FIXED, "i", 4),
    B.INT64: (K_FIXED, "l", 8),
    B.UINT8: (K_FIXED, "C", 1), B.UINT16: (K_FIXED, "S", 2), B.UINT32: (K_FIXED, "I", 4),
    B.UINT64: (K_FIXED, "L", 8),
    B.FLOAT32: (K_FIXED, "f", 4), B.FLOAT64: (K_FIXED, "g", 8),
    B.DATE: (K_DATE, "tdD", 4), B.TIME: (K_TIME, "ttu", 8),
    B.TIMESTAMP: (K_TS, "tsu:", 8), B.TIMESTAMPTZ: (K_TS, "tsu:UTC", 8),
    B.UUID: (K_UUID, "w:16", 16),
    B.TEXT: (K_UTF8, "u", 0), B.ENUM: (K_UTF8, "u", 0), B.XML: (K_UTF8, "u", 0),
    B.JSON: (K_UTF8, "u", 0), B.JSONB: (K_UTF8, "u", 0), B.TSVECTOR: (K_UTF8, "u", 0),
    B.TSQUERY: (K_UTF8, "u", 0),
    B.BINARY: (K_BYTES, "z", 0), B.BLOB: (K_BYTES, "z", 0), B.GEOMETRY: (K_BYTES, "z", 0),
    B.GEOGRAPHY: (K_BYTES, "z", 0), B.POINT: (K_BYTES, "z", 0), B.SHAPE: (K_BYTES, "z", 0),
}
# binary types decoded to Python values: the Arrow format they become ("" = inferred)
_OBJECT_FORMATS: Dict[Tuple[int, int], str] = {
    B.INT128: "d:38,0", B.UINT128: "d:38,0", B.INTERVAL: "tin", B.VECTOR: "+l",
}


def parse_numeric_as(numeric_as: str) -> Tuple[int, str, int, int]:
    """``(kind, format, precision, scale)`` for text NUMERIC (code 1700) columns."""
    if numeric_as == "str":
        return K_UTF8, "u", 0, 0
    if numeric_as == "float64":
        return K_FLOAT64, "g", 0, 0
    m = _NUMERIC_AS_RE.match(numeric_as) if isinstance(numeric_as, str) else None
    if m is not None:
        p, s = int(m.group(1)), int(m.group(2))
        if 1 <= p <= 38 and s <= p:
            return K_DEC128, f"d:{p},{s}", p, s
    raise ProgrammingError(
        f"numeric_as must be 'str', 'float64' or 'decimal128(p, s)' with 1 <= p <= 38 and "
        f"0 <= s <= p, not {numeric_as!r}")


def plan_columns(columns: Sequence[Any], raw_text: bool = False,
                 numeric_as: str = NUMERIC_AS_DEFAULT) -> Tuple[Plan, ...]:
    """One plan per column: ``(kind, format, width, precision, scale, is_text, type_id, context)``.

    ``format`` is the Arrow C data interface format string of the column's Arrow type.
    """
    numeric = parse_numeric_as(numeric_as)
    plans: List[Plan] = []
    for i, col in enumerate(columns):
        if col.format != 1:     # a text value (docs/protocol.md 1.1: format 1 is binary)
            oid = col.type_oid
            context = f"column {i} ({col.name!r}, code {oid})"
            if raw_text:
                plan = (K_UTF8, "u", 0, 0, 0)
            elif oid == OID_BOOL:
                plan = (K_BOOL, "b", 0, 0, 0)
            elif oid == OID_INT8:
                plan = (K_INT64, "l", 8, 0, 0)
            elif oid == OID_NUMERIC:
                kind, fmt, p, s = numeric
                plan = (kind, fmt, 16 if kind == K_DEC128 else 8 if kind == K_FLOAT64 else 0, p, s)
            else:
                plan = (K_UTF8, "u", 0, 0, 0)
            plans.append(plan + (True, oid, context))
            continue
        type_id, label, problem = _bincodec._plan_column(col)
        context = _bincodec._column_context(i, col, label)
        fixed = _BINARY_PLANS.get(type_id) if problem is None else None
        typeref = col.typeref
        if fixed is not None:
            plans.append((fixed[0], fixed[1], fixed[2], 0, 0, False, type_id, context))
        elif (type_id in (B.DECIMAL, B.MONEY) and problem is None and typeref is not None
              and typeref.modifier_bitmap & (_MOD_PRECISION | _MOD_SCALE)
              == (_MOD_PRECISION | _MOD_SCALE) and 1 <= typeref.precision <= 38
              and 0 <= typeref.scale <= typeref.precision):
            p, s = typeref.precision, typeref.scale
            plans.append((K_DEC128, f"d:{p},{s}", 16, p, s, False, type_id, context))
        else:
            plans.append((K_OBJECT, _OBJECT_FORMATS.get(type_id, ""), 0, 0, 0, False, type_id,
                          context))
    return tuple(plans)


# --------------------------------------------------------------- text values

def _scaled_decimal(text: bytes, precision: int, scale: int) -> Optional[int]:
    """The text of a decimal as an int scaled by ``10**scale``, or None when it does not
    fit ``decimal128(precision, scale)`` exactly (it is never rounded)."""
    sign, digits, exp = Decimal(text.decode("ascii")).as_tuple()
    coef: int = int("".join(map(str, digits))) if digits else 0
    if coef == 0:
        return 0
    if len(digits) > 38:         # as the compiled twin: at most 38 significant digits
        return None
    k = cast(int, exp) + scale     # an int: the text matched _DEC_RE, so it is finite
    if k >= 0:
        if k > 38:
            return None
        coef *= 10 ** k
    else:
        if -k > 80:
            return None
        coef, rest = divmod(coef, 10 ** -k)
        if rest:
            return None
    if coef >= 10 ** precision:
        return None
    return -coef if sign else coef


def _parse_text(kind: int, raw: bytes, precision: int, scale: int) -> Any:
    """A text value under its column's kind, or ``_FAIL`` when it does not parse."""
    if kind == K_INT64:
        if _INT_RE.match(raw):
            digits = raw.lstrip(b"+-").lstrip(b"0")
            if len(digits) <= 19:
                v = int(digits or b"0")
                v = -v if raw[:1] == b"-" else v
                if _INT64_MIN <= v <= _INT64_MAX:
                    return v
        return _FAIL
    if kind == K_BOOL:
        low = raw.lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        return _FAIL
    if kind == K_FLOAT64:
        return float(raw) if _DEC_RE.match(raw) else _FAIL
    if _DEC_RE.match(raw):                       # K_DEC128
        scaled = _scaled_decimal(raw, precision, scale)
        return _FAIL if scaled is None else scaled
    return _FAIL


_FAIL = object()


# --------------------------------------------------------------- binary values

def binary_value_error(plan: Plan, raw: Buffer) -> DataError:
    """The DataError for a binary value that cannot go into its Arrow column (shared with
    the compiled twin): the decoder's own complaint, or that it does not fit."""
    kind, fmt, _w, _p, _s, _t, type_id, context = plan
    try:
        value = _bincodec.decode_value(type_id, bytes(raw))
    except DataError as exc:
        reason = str(exc).split(": ", 1)[-1]
        return DataError(f"{context}: {reason}")
    return DataError(f"{context}: value {value!r} does not fit the Arrow type {fmt!r}")


def _binary_value(plan: Plan, raw: Buffer) -> Any:
    kind, fmt, _w, precision, scale, _t, type_id, _c = plan
    try:
        value = _bincodec.decode_value(type_id, bytes(raw))
    except DataError:
        raise binary_value_error(plan, raw) from None
    if kind == K_DEC128:
        if not value.is_finite():
            raise binary_value_error(plan, raw)
        scaled = _scaled_decimal(str(value).encode("ascii"), precision, scale)
        if scaled is None:
            raise binary_value_error(plan, raw)
        return scaled
    if kind == K_UUID:
        return value.bytes
    if kind == K_UTF8:
        return str(value)           # JSONB arrives as Jsonb (its text)
    return value


# --------------------------------------------------------------- the sink

class ArrowSink:
    """Collects a result's rows as Arrow columns (see the module docstring).

    ``len(sink)`` is the number of rows held; ``take()`` returns one column per result
    column (a ``pyarrow.Array`` here, an object with ``__arrow_c_array__`` in the compiled
    twin, or a list of Python values for a ``K_OBJECT`` column) and empties the sink.
    """

    def __init__(self, columns: Iterable[Any],
                 null_markers: Iterable[Buffer] = DEFAULT_NULL_MARKERS, raw_text: bool = False,
                 numeric_as: str = NUMERIC_AS_DEFAULT) -> None:
        self.columns = tuple(columns)
        self.plans = plan_columns(self.columns, raw_text, numeric_as)
        self.null_markers = tuple(bytes(m) for m in null_markers)
        self.raw_text = bool(raw_text)
        self._values: List[List[Any]] = [[] for _ in self.plans]
        # text of typed text columns
        self._raws: List[List[Optional[str]]] = [[] for _ in self.plans]
        self._fell_back = [False] * len(self.plans)
        self._rows = 0

    def __len__(self) -> int:
        return self._rows

    @property
    def ncolumns(self) -> int:
        return len(self.plans)

    def decode_row(self, payload: Buffer) -> None:
        """Append one DATA_ROW payload (REFERENCE 4.6); returns None (the sink keeps it)."""
        plans, markers = self.plans, (() if self.raw_text else self.null_markers)
        for i, raw in enumerate(data_row_values(payload, len(plans))):
            plan = plans[i]
            kind, is_text = plan[0], plan[5]
            if is_text:
                if raw is not None and raw in markers:
                    raw = None
                if kind == K_UTF8 or raw is None:
                    self._values[i].append(None if raw is None else _text(raw, i))
                    if kind != K_UTF8:
                        self._raws[i].append(None)
                    continue
                value = _FAIL if self._fell_back[i] else _parse_text(kind, raw, plan[3], plan[4])
                if value is _FAIL:
                    self._fell_back[i] = True
                    self._raws[i].append(_text(raw, i))
                    self._values[i].append(None)
                else:
                    self._raws[i].append(raw.decode("ascii"))
                    self._values[i].append(value)
            elif raw is None:
                self._values[i].append(None)
            elif kind == K_OBJECT:
                try:
                    self._values[i].append(_bincodec.decode_value(plan[6], bytes(raw)))
                except DataError:
                    raise binary_value_error(plan, raw) from None
            else:
                self._values[i].append(_binary_value(plan, raw))
        self._rows += 1

    def discard(self) -> None:
        """Drop the rows held (a stream being drained)."""
        self._empty()

    def _empty(self) -> Tuple[List[List[Any]], List[List[Optional[str]]], List[bool]]:
        """Start empty again; returns what was held (values, raws, fell_back)."""
        held = self._values, self._raws, self._fell_back
        self._values = [[] for _ in self.plans]
        self._raws = [[] for _ in self.plans]
        self._fell_back = [False] * len(self.plans)
        self._rows = 0
        return held

    def take(self) -> List[Any]:
        """The rows held, one column per result column; the sink starts empty again."""
        values, raws, fell_back = self._empty()
        out: List[Any] = []
        for plan, vals, raw, fell in zip(self.plans, values, raws, fell_back):
            if plan[0] == K_OBJECT:
                out.append(vals)
            elif fell:
                out.append(_array(raw, "u"))
            else:
                out.append(_array(vals, plan[1], plan[0]))
        return out


def _array(values: List[Any], fmt: str, kind: int = K_UTF8) -> Any:
    from scratchbird.arrow._types import arrow_type, wrap_uuid
    import pyarrow as pa
    if kind == K_DEC128:
        scale = int(fmt.split(",")[1])
        values = [None if v is None else Decimal(f"{v}E-{scale}") for v in values]   # exact
    if fmt == "u" and sum(len(v) for v in values if v is not None) > 0x7FFFFFFF:
        fmt = "U"       # past 2 GiB of text: large_utf8 (64-bit offsets)
    if fmt == "z" and sum(len(v) for v in values if v is not None) > 0x7FFFFFFF:
        fmt = "Z"
    array = pa.array(values, type=arrow_type(fmt))
    return wrap_uuid(array) if kind == K_UUID else array


def read_data_rows(reader: FrameSource, sink: ArrowSink, rows: Any, max_rows: int) -> int:
    """Decode consecutive complete DATA_ROW frames from ``reader`` into ``sink``.

    ``rows`` is where the protocol keeps the result's rows: the sink itself, or (while a
    stream is drained) a throwaway list, and then the rows are dropped. Stops as
    ``rowcodec.read_data_rows`` does; returns the number of rows read.
    """
    count = 0
    while count < max_rows and reader.peek_type() == DATA_ROW:
        sink.decode_row(reader.next_frame().payload)
        count += 1
    if rows is not sink:
        sink.discard()
    return count


def export_stream(names: Sequence[str], formats: Sequence[str],
                  batches: Iterable[List[Any]]) -> object:
    """An ``arrow_array_stream`` PyCapsule of the batches (lists of ``take()`` columns):
    here through a pyarrow ``RecordBatchReader``; the compiled twin builds the C stream
    itself. A batch whose column types differ from ``formats`` fails the stream."""
    from scratchbird.arrow._types import arrow_type
    import pyarrow as pa
    fields = []
    for name, fmt in zip(names, formats):
        t = pa.uuid() if fmt == "w:16" and hasattr(pa, "uuid") else arrow_type(fmt)
        fields.append(pa.field(str(name), t))
    schema = pa.schema(fields)

    def record_batches() -> Iterator[Any]:
        for columns in batches:
            for i, (field, column) in enumerate(zip(schema, columns)):
                if column.type != field.type:
                    raise DataError(
                        f"column {i} ({field.name!r}) was {formats[i]!r} in the first batch but "
                        f"is {column.type} here: a value did not parse under the column's "
                        "declared type code (REFERENCE 8.2); fetch_arrow() reads it whole as utf8")
            yield pa.RecordBatch.from_arrays(list(columns), schema=schema)
    return pa.RecordBatchReader.from_batches(schema, record_batches()).__arrow_c_stream__()
