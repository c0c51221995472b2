"""Record batches from what the sinks hand out, from tuples, and schema unification."""
from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any, Iterable, List, Optional, Sequence

from scratchbird._pure import arrowcodec as _plan
from scratchbird._typing import Row
from scratchbird.arrow._imports import require
from scratchbird.arrow._types import arrow_type, object_array, plan_type, wrap_uuid
from scratchbird.errors import DataError

if TYPE_CHECKING:
    import pyarrow      # no type information: Any to mypy, the names say what a value is

    from scratchbird._compiled.arrowcodec import Plan

__all__ = ["batch_from_columns", "batch_from_tuples", "unify_batches", "conform"]


def batch_from_columns(names: Sequence[str], plans: Sequence[Plan],
                       columns: Iterable[Any]) -> pyarrow.RecordBatch:
    """A RecordBatch of ``sink.take()``: C-built columns come in through the Arrow
    PyCapsule interface (no copy), object columns through pyarrow."""
    pa = require("pyarrow", "arrow")
    arrays: List[pyarrow.Array] = []
    for plan, column in zip(plans, columns):
        if isinstance(column, list):
            arrays.append(object_array(column, plan))
        elif isinstance(column, pa.Array):
            arrays.append(column)
        else:
            arrays.append(pa.array(column))         # __arrow_c_array__
    return pa.RecordBatch.from_arrays(arrays, names=list(names))


def _tuple_values(plan: Plan, values: List[Any]) -> List[Any]:
    kind, is_text = plan[0], plan[5]
    if kind == _plan.K_UUID:
        return [None if v is None else v.bytes for v in values]
    if kind == _plan.K_FLOAT64 and is_text:
        return [float(v) if isinstance(v, Decimal) else v for v in values]
    if kind == _plan.K_UTF8:
        return [v if v is None or isinstance(v, str) else str(v) for v in values]
    return values


def _text_of(value: Any) -> Optional[str]:
    if isinstance(value, bool):
        return "true" if value else "false"
    return None if value is None else str(value)


def batch_from_tuples(names: Sequence[str], plans: Sequence[Plan],
                      rows: Sequence[Row]) -> pyarrow.RecordBatch:
    """A RecordBatch of rows already decoded to tuples (the slow road: a Python object per
    value). A column whose values do not fit its planned type (a text value that did not
    parse under its code, a loader's value) becomes utf8 of the values' text."""
    pa = require("pyarrow", "arrow")
    arrays: List[pyarrow.Array] = []
    for i, plan in enumerate(plans):
        values = [row[i] for row in rows]
        if plan[0] == _plan.K_OBJECT:
            arrays.append(object_array(values, plan))
            continue
        try:
            array = pa.array(_tuple_values(plan, values), type=arrow_type(plan[1]))
            if plan[0] == _plan.K_UUID:
                array = wrap_uuid(array)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
            array = pa.array([_text_of(v) for v in values], type=pa.string())
        arrays.append(array)
    return pa.RecordBatch.from_arrays(arrays, names=list(names))


def _common_type(types: Iterable[pyarrow.DataType]) -> pyarrow.DataType:
    pa = require("pyarrow", "arrow")
    return pa.large_string() if any(t == pa.large_string() for t in types) else pa.string()


def unify_batches(batches: List[pyarrow.RecordBatch], names: Sequence[str],
                  plans: Sequence[Plan]) -> pyarrow.Table:
    """A Table of batches whose column types may differ (a text column that fell back to
    utf8 in one batch): such columns become utf8 in every batch."""
    pa = require("pyarrow", "arrow")
    if not batches:
        from scratchbird.arrow._types import schema_for
        return schema_for(names, plans).empty_table()
    schemas = [b.schema for b in batches]
    if all(s.equals(schemas[0]) for s in schemas[1:]):
        return pa.Table.from_batches(batches)
    fields: List[pyarrow.Field] = []
    for i, name in enumerate(names):
        types = [s.field(i).type for s in schemas]
        if all(t == types[0] for t in types):
            fields.append(pa.field(name, types[0]))
            continue
        try:    # inferred nested types: list<null> of an all-empty batch joins list<int64>
            unified = pa.unify_schemas([pa.schema([pa.field(name, t)]) for t in types],
                                       promote_options="permissive")
            fields.append(unified.field(0))
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            fields.append(pa.field(name, _common_type(types)))
    schema = pa.schema(fields)
    return pa.Table.from_batches([conform(b, schema) for b in batches], schema=schema)


def conform(batch: pyarrow.RecordBatch, schema: pyarrow.Schema) -> pyarrow.RecordBatch:
    """``batch`` cast to ``schema`` (the stream's first batch), or a DataError naming the
    column whose values no longer fit."""
    pa = require("pyarrow", "arrow")
    if batch.schema.equals(schema):
        return batch
    arrays: List[pyarrow.Array] = []
    for i, field in enumerate(schema):
        column = batch.column(i)
        if column.type != field.type:
            try:
                column = column.cast(field.type)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                raise DataError(
                    f"column {i} ({field.name!r}) was {field.type} in the first batch but is "
                    f"{column.type} here: a value did not parse under the column's declared "
                    f"type code (REFERENCE 8.2); fetch_arrow() reads it whole as utf8 ({exc})"
                ) from None
        arrays.append(column)
    return pa.RecordBatch.from_arrays(arrays, schema=schema)
