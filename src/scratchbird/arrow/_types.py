"""Arrow types from the C data interface format strings the column plans use.

The plans (``scratchbird._pure.arrowcodec.plan_columns``) name each column's Arrow type by
its format string, so the compiled twin needs no pyarrow; this module turns them into
pyarrow types for the pure twin, for schemas of empty results and for conversions.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Optional, Sequence

from scratchbird.arrow._imports import require
from scratchbird.errors import DataError

if TYPE_CHECKING:
    import pyarrow      # no type information: Any to mypy, the names say what a value is

    from scratchbird._compiled.arrowcodec import Plan

__all__ = ["arrow_type", "wrap_uuid", "schema_for", "object_array"]

_SIMPLE = {
    "b": "bool_", "c": "int8", "s": "int16", "i": "int32", "l": "int64", "C": "uint8",
    "S": "uint16", "I": "uint32", "L": "uint64", "f": "float32", "g": "float64",
    "u": "string", "U": "large_string", "z": "binary", "Z": "large_binary", "tdD": "date32",
    "tin": "month_day_nano_interval",
}


def arrow_type(fmt: str) -> Optional[pyarrow.DataType]:
    """The pyarrow type of a format string (only the ones the plans use); "" is None."""
    pa = require("pyarrow", "arrow")
    if not fmt:
        return None
    if fmt in _SIMPLE:
        return getattr(pa, _SIMPLE[fmt])()
    if fmt == "ttu":
        return pa.time64("us")
    if fmt.startswith("tsu:"):
        return pa.timestamp("us", tz=fmt[4:] or None)
    if fmt.startswith("d:"):
        p, s = fmt[2:].split(",")
        return pa.decimal128(int(p), int(s))
    if fmt == "w:16":
        return pa.binary(16)
    if fmt == "+l":
        return pa.list_(pa.float32())
    raise ValueError(f"no Arrow type for format {fmt!r}")


def wrap_uuid(array: pyarrow.Array) -> pyarrow.Array:
    """A fixed_size_binary(16) array as the Arrow UUID extension type (``arrow.uuid``),
    where this pyarrow has it (18 and later); else the plain storage array."""
    pa = require("pyarrow", "arrow")
    if not hasattr(pa, "uuid"):
        return array
    return pa.ExtensionArray.from_storage(pa.uuid(), array)


def plan_type(plan: Plan) -> Optional[pyarrow.DataType]:
    """The pyarrow type a column plan produces (None: inferred from the values)."""
    from scratchbird._pure.arrowcodec import K_OBJECT, K_UUID
    kind, fmt = plan[0], plan[1]
    if kind == K_UUID:
        pa = require("pyarrow", "arrow")
        return pa.uuid() if hasattr(pa, "uuid") else pa.binary(16)
    if kind == K_OBJECT and not fmt:
        return require("pyarrow", "arrow").string()
    return arrow_type(fmt)


def schema_for(names: Iterable[str], plans: Iterable[Plan]) -> pyarrow.Schema:
    """The schema of a result with no rows (object columns with no fixed type: utf8)."""
    pa = require("pyarrow", "arrow")
    return pa.schema([pa.field(name, plan_type(plan)) for name, plan in zip(names, plans)])


def _plain(value: Any) -> Any:
    """A Python value pyarrow can infer a type for (nested values of the binary profile)."""
    if isinstance(value, tuple):            # ROW / COMPOSITE: a struct of f0, f1, ...
        return {f"f{i}": _plain(v) for i, v in enumerate(value)}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):             # MAP: key/value pairs (a map array, below)
        return [(_plain(k), _plain(v)) for k, v in value.items()]
    return value


def object_array(values: Sequence[Any], plan: Plan) -> pyarrow.Array:
    """Arrow array of a column decoded to Python values (``K_OBJECT``): the slow road for
    the binary types no C decoder fills. Lists and structs are inferred from the values;
    maps become ``map<k, v>``; what Arrow has no type for (RANGE, INET, BIT, TIMETZ,
    DECFLOAT, VARIANT, undeclared DECIMAL, ...) becomes utf8 of ``str(value)``."""
    pa = require("pyarrow", "arrow")
    from scratchbird._pure import bincodec as B
    type_id, fmt = plan[6], plan[1]
    family = type_id[0] if isinstance(type_id, tuple) else None
    if type_id in (B.INT128, B.UINT128):
        # decimal128(38, 0) in every batch (a stream keeps one schema); the few values of
        # 39 digits are refused, never changed
        from decimal import Decimal
        for v in values:
            if v is not None and abs(v) >= 10 ** 38:
                raise DataError(f"{plan[7]}: value {v} does not fit the Arrow type 'd:38,0'")
        return pa.array([None if v is None else Decimal(v) for v in values],
                        type=pa.decimal128(38, 0))
    if type_id == B.INTERVAL:
        return pa.array([None if v is None else pa.MonthDayNano(
            [v.months, v.days, v.microseconds * 1000]) for v in values], type=pa.month_day_nano_interval())
    if type_id == B.VECTOR:
        return pa.array(values, type=pa.list_(pa.float32()))
    if type_id == B.MAP:
        pairs = [None if v is None else _plain(v) for v in values]
        keys = pa.array([k for p in pairs if p for k, _ in p])
        items = pa.array([x for p in pairs if p for _, x in p])
        try:
            return pa.array(pairs, type=pa.map_(keys.type or pa.null(), items.type or pa.null()))
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            return pa.array([None if v is None else str(v) for v in values], type=pa.string())
    if family in (15, 16) and type_id != B.VARIANT:     # ARRAY, LIST, ROW, COMPOSITE
        try:
            return pa.array([_plain(v) for v in values])
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            pass
    return pa.array([None if v is None else str(v) for v in values], type=pa.string())
