"""Arrow data for COPY: record batches turned into SBNR packets column by column, straight
from the Arrow buffers (``copycodec.encode_sbnr_columns``, compiled), with no Python
object per value.

Each Arrow type maps to one SBNR tag (REFERENCE 7.8); types SBNR has no tag for are cast
to text by Arrow itself, column by column, and travel text-tagged as the server expects:

| Arrow | SBNR tag |
| --- | --- |
| int64, uint32 (as int64) | int64 (2) |
| int8, int16, int32, uint8, uint16 (as int32) | int32 (4) |
| uint64 | uint64 (5) |
| float16, float32, float64 (as float64) | real64 (6) |
| bool | boolean (3) |
| string, large_string, string_view | text (1) |
| binary, large_binary, fixed_size_binary, binary_view | binary (7) |
| anything else (decimal, date, time, timestamp, duration, null, dictionary, ...) | text (1), Arrow's own cast to string |

pyarrow is optional (``pip install 'scratchbird[arrow]'``); it is imported only here.
"""
from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING, Any, Iterator, List, Optional, Tuple

from scratchbird._impl import copycodec

if TYPE_CHECKING:
    import pyarrow      # no type information: Any to mypy, the names say what a value is

__all__ = ["require_pyarrow", "is_arrow_data", "arrow_batches", "tags_for_schema", "prepare_batch",
           "sql_type_for"]


def require_pyarrow() -> ModuleType:
    try:
        import pyarrow
    except ImportError:
        raise ImportError("loading Arrow, Parquet, pandas or Polars data needs pyarrow: "
                          "pip install 'scratchbird[arrow]'") from None
    module: ModuleType = pyarrow
    return module


def is_arrow_data(data: Any) -> bool:
    """pyarrow Tables, RecordBatches and readers, or anything with ``__arrow_c_stream__``
    (Polars and pandas DataFrames included)."""
    if hasattr(data, "__arrow_c_stream__"):
        return True
    module = type(data).__module__ or ""
    return module.startswith("pyarrow")


def arrow_batches(data: Any) -> Tuple[pyarrow.Schema, Iterator[pyarrow.RecordBatch]]:
    """``(schema, iterator of RecordBatch)`` for Arrow-like data, streaming where it can."""
    pa = require_pyarrow()
    if isinstance(data, pa.RecordBatch):
        return data.schema, iter([data])
    if isinstance(data, pa.Table):
        return data.schema, iter(data.to_batches())
    if isinstance(data, pa.RecordBatchReader):
        return data.schema, iter(data)
    reader = pa.RecordBatchReader.from_stream(data)      # the Arrow PyCapsule interface
    return reader.schema, iter(reader)


def _plan(pa: ModuleType, arrow_type: pyarrow.DataType) -> Tuple[int, Optional[pyarrow.DataType]]:
    """(tag, target type to cast to or None) for one Arrow type."""
    t = pa.types
    if t.is_dictionary(arrow_type):
        return _plan(pa, arrow_type.value_type)     # prepare_batch decodes it first
    if t.is_int64(arrow_type):
        return copycodec.TAG_INT64, None
    if t.is_uint32(arrow_type):
        return copycodec.TAG_INT64, pa.int64()
    if t.is_int32(arrow_type):
        return copycodec.TAG_INT32, None
    if t.is_int8(arrow_type) or t.is_int16(arrow_type) or t.is_uint8(arrow_type) \
            or t.is_uint16(arrow_type):
        return copycodec.TAG_INT32, pa.int32()
    if t.is_uint64(arrow_type):
        return copycodec.TAG_UINT64, None
    if t.is_float64(arrow_type):
        return copycodec.TAG_REAL64, None
    if t.is_floating(arrow_type):
        return copycodec.TAG_REAL64, pa.float64()
    if t.is_boolean(arrow_type):
        return copycodec.TAG_BOOLEAN, None
    if t.is_string(arrow_type):
        return copycodec.TAG_TEXT, None
    if t.is_large_string(arrow_type) or getattr(t, "is_string_view", lambda _: False)(arrow_type):
        return copycodec.TAG_TEXT, pa.string()
    if t.is_binary(arrow_type):
        return copycodec.TAG_BINARY, None
    if t.is_large_binary(arrow_type) or t.is_fixed_size_binary(arrow_type) \
            or getattr(t, "is_binary_view", lambda _: False)(arrow_type):
        return copycodec.TAG_BINARY, pa.binary()
    return copycodec.TAG_TEXT, pa.string()


def tags_for_schema(schema: pyarrow.Schema) -> List[int]:
    pa = require_pyarrow()
    return [_plan(pa, field.type)[0] for field in schema]


def prepare_batch(batch: pyarrow.RecordBatch, tags: List[int]) -> List[Tuple[Any, Any, Any, int]]:
    """The batch's columns as ``(validity, offsets, data, offset)`` buffer tuples in the
    layouts of ``tags`` (casting column by column where the Arrow type differs)."""
    pa = require_pyarrow()
    columns: List[Tuple[Any, Any, Any, int]] = []
    for array, tag in zip(batch.columns, tags):
        if pa.types.is_dictionary(array.type):
            array = array.dictionary_decode()
        _tag, target = _plan(pa, array.type)
        if target is not None:
            array = array.cast(target)
        elif pa.types.is_null(array.type):
            array = array.cast(pa.string())
        buffers = array.buffers()
        if tag in (copycodec.TAG_TEXT, copycodec.TAG_BINARY):
            columns.append((buffers[0], buffers[1], buffers[2] or b"", array.offset))
        else:
            columns.append((buffers[0], None, buffers[1] or b"", array.offset))
    return columns


_SQL_TYPES = [
    ("is_boolean", "boolean"), ("is_int8", "smallint"), ("is_int16", "smallint"),
    ("is_int32", "integer"), ("is_int64", "bigint"), ("is_uint8", "integer"),
    ("is_uint16", "integer"), ("is_uint32", "bigint"), ("is_uint64", "uint64"),
    ("is_floating", "double precision"), ("is_date", "date"), ("is_time", "time"),
    ("is_string", "text"), ("is_large_string", "text"), ("is_binary", "blob"),
    ("is_large_binary", "blob"), ("is_fixed_size_binary", "blob"), ("is_duration", "interval"),
]


def sql_type_for(arrow_type: pyarrow.DataType) -> str:
    """The column type ``create=True`` gives an Arrow type (names both the real server,
    REFERENCE 12.B.7.9, and DuckDB accept)."""
    pa = require_pyarrow()
    t = pa.types
    if t.is_dictionary(arrow_type):
        arrow_type = arrow_type.value_type
    if t.is_decimal(arrow_type):
        return f"numeric({arrow_type.precision},{arrow_type.scale})"
    if t.is_timestamp(arrow_type):
        return "timestamptz" if arrow_type.tz else "timestamp"
    for predicate, name in _SQL_TYPES:
        if getattr(t, predicate)(arrow_type):
            return name
    return "text"
