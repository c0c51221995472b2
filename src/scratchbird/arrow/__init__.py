"""Columnar fetch: results as Arrow tables, record batch streams, NumPy, pandas and Polars.

How rows reach Arrow (README, "Columnar fetch"):

- **Fast path**: rows not yet read when a fetch starts are decoded straight from the
  DATA_ROW frames into Arrow buffers by ``arrowcodec.ArrowSink`` (compiled: C buffers
  exported through the Arrow C data interface; no Python object per value). This is the
  case on a ``conn.cursor(stream=True)`` cursor (all rows after the first ``itersize``) and
  for ``conn.fetch_arrow(sql)`` (all rows).
- **Tuple path**: rows already decoded to tuples (a default cursor reads its whole result at
  ``execute()``) are converted column by column through pyarrow: correct, slower.

The protocol stays I/O-free: ``ClientProtocol.set_row_sink`` swaps the row decoder of the
current result for a sink; the cursor reads more frames as it always does.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

from scratchbird.arrow._convert import batch_from_columns, batch_from_tuples, conform, unify_batches
from scratchbird.arrow._imports import require
from scratchbird.errors import InterfaceError

if TYPE_CHECKING:
    from types import ModuleType

    import pandas       # pyarrow and pandas have no type information: Any to mypy
    import polars
    import pyarrow

    from scratchbird._compiled.arrowcodec import ArrowSink, Plan
    from scratchbird._protocol import Result
    from scratchbird._server_messages import RowDescription
    from scratchbird.connection import Connection
    from scratchbird.cursor import Cursor

#: ``make_sink(description, decoder)`` -> ``(sink, read_data_rows)`` (``set_row_sink``)
SinkFactory = Callable[["RowDescription", Any], Tuple["ArrowSink", Callable[..., int]]]
#: one piece of ``_chunks``: ``("tuples", rows)`` or ``("columns", sink.take())``
Chunk = Tuple[str, List[Any]]

__all__ = ["fetch_arrow", "fetch_arrow_batches", "fetch_numpy", "fetch_pandas", "fetch_polars",
           "arrow_c_stream", "fetch_arrow_sql", "arrow_stream_sql", "sink_factory"]


def _numeric_as(numeric_as: Optional[str]) -> str:
    from scratchbird._impl import arrowcodec
    value = arrowcodec.NUMERIC_AS_DEFAULT if numeric_as is None else numeric_as
    arrowcodec.parse_numeric_as(value)      # a bad option fails before any I/O
    return value


def sink_factory(connection: Connection, numeric_as: Optional[str] = None) -> SinkFactory:
    """``make_sink(description, decoder)`` for ``ClientProtocol.set_row_sink``."""
    from scratchbird._impl import arrowcodec
    numeric_as = _numeric_as(numeric_as)
    proto = connection._check_open()

    def make_sink(description: RowDescription, decoder: Any
                  ) -> Tuple[ArrowSink, Callable[..., int]]:
        # the request's NULL/text options are the tuple decoder's (REFERENCE 8.5)
        raw_text = getattr(decoder, "raw_text", proto._req_raw_text)
        markers = getattr(decoder, "null_markers", proto.null_markers)
        sink = arrowcodec.ArrowSink(description.columns, markers, raw_text, numeric_as)
        return sink, arrowcodec.read_data_rows
    return make_sink


def _current(cur: Cursor) -> Result:
    """The cursor's current result (``_check`` saw one)."""
    result = cur._result
    if result is None:
        raise InterfaceError("the last operation produced no result set to fetch from")
    return result


def _plans(cur: Cursor, numeric_as: str) -> Tuple[List[str], Sequence[Plan]]:
    from scratchbird._impl import arrowcodec
    result = _current(cur)
    description = result.description
    if description is None:
        raise InterfaceError("the last operation produced no result set to fetch from")
    rows: Any = result.rows     # a list of tuples, or the sink set_row_sink put there
    raw_text = rows.raw_text if hasattr(rows, "plans") else (
        cur._raw_text if cur._raw_text is not None else cur.connection._check_open().raw_text)
    if hasattr(rows, "plans"):
        return [c.name for c in description.columns], rows.plans
    return ([c.name for c in description.columns],
            arrowcodec.plan_columns(description.columns, raw_text, numeric_as))


def _check(cur: Cursor) -> None:
    cur._check()
    if cur.description is None:
        raise InterfaceError("the last operation produced no result set to fetch from")


def _chunks(cur: Cursor, batch_rows: Optional[int], numeric_as: str) -> Iterator[Chunk]:
    """The cursor's remaining rows: ``("tuples", rows)`` for the rows it holds as tuples,
    then ``("columns", sink.take())`` as the sink fills, ``batch_rows`` at a time."""
    result = _current(cur)
    response, conn = cur._response, cur.connection
    if isinstance(cur._rows, list):
        leftover = cur._rows[cur._pos:]
        cur._rows.clear()
        cur._pos = 0
        step = batch_rows or len(leftover) or 1
        for start in range(0, len(leftover), step):     # batch_rows bounds these batches too
            yield "tuples", leftover[start:start + step]
    rows: object = result.rows  # a list of tuples, or the sink set_row_sink puts there
    if isinstance(rows, list) and response is not None and cur._more_coming():
        conn._set_row_sink(response, sink_factory(conn, numeric_as))
        cur._rows = result.rows
    while True:
        sink: Any = result.rows
        if not isinstance(sink, list) and len(sink):
            yield "columns", sink.take()
        if response is None or not cur._more_coming():
            break
        done = conn._read_more(response, batch_rows)
        if result.complete:
            cur._update_status()
        if done.done and done.error is not None:
            raise done.error
    result.rows = cur._rows = []
    cur._pos = 0


def _batches(cur: Cursor, batch_rows: Optional[int], numeric_as: str
             ) -> Iterator[pyarrow.RecordBatch]:
    """Record batches of the cursor's remaining rows (tuples first, then the sink)."""
    names, plans = _plans(cur, numeric_as)
    for kind, data in _chunks(cur, batch_rows, numeric_as):
        if kind == "tuples":
            yield batch_from_tuples(names, plans, data)
        else:
            yield batch_from_columns(names, plans, data)


def fetch_arrow(cur: Cursor, *, numeric_as: Optional[str] = None) -> pyarrow.Table:
    """The cursor's remaining rows as a ``pyarrow.Table``."""
    require("pyarrow", "arrow")
    _check(cur)
    numeric_as = _numeric_as(numeric_as)
    names, plans = _plans(cur, numeric_as)
    return unify_batches(list(_batches(cur, None, numeric_as)), names, plans)


def fetch_arrow_batches(cur: Cursor, batch_rows: int = 65536, *,
                        numeric_as: Optional[str] = None) -> pyarrow.RecordBatchReader:
    """A ``pyarrow.RecordBatchReader`` over the remaining rows, at most ``batch_rows`` a
    batch from the sink (the tuples already read come first, as one batch).

    The schema is the first batch's, so that batch is read at once; it stays with the
    cursor until a reader hands it out. A consumer that opens the stream, looks at the
    schema and releases it (DuckDB does, before it scans) loses no rows: the next
    reader of the same result starts with that batch again.
    """
    pa = require("pyarrow", "arrow")
    _check(cur)
    if not isinstance(batch_rows, int) or batch_rows < 1:
        raise InterfaceError(f"batch_rows must be a positive int, not {batch_rows!r}")
    numeric_as = _numeric_as(numeric_as)
    pending = cur._arrow_pending
    if pending is None or pending[0] is not cur._result or pending[1] != "pa":
        names, plans = _plans(cur, numeric_as)
        batches = _batches(cur, batch_rows, numeric_as)
        first = next(batches, None)
        if first is None:
            from scratchbird.arrow._types import schema_for
            return pa.RecordBatchReader.from_batches(schema_for(names, plans), iter(()))
        pending = cur._arrow_pending = [cur._result, "pa", first, batches, first.schema]
    schema = pending[4]

    def rest() -> Iterator[pyarrow.RecordBatch]:
        if pending[2] is not None:
            first, pending[2] = pending[2], None
            yield first
        for batch in pending[3]:
            yield conform(batch, schema)
        if cur._arrow_pending is pending:
            cur._arrow_pending = None
    return pa.RecordBatchReader.from_batches(schema, rest())


def _native(cur: Cursor, plans: Sequence[Plan]) -> bool:
    """True when every remaining row can reach the consumer without pyarrow: the compiled
    sink, no column decoded to Python objects, and no rows held as tuples."""
    from scratchbird._impl import arrowcodec
    from scratchbird._pure.arrowcodec import K_OBJECT
    holds_tuples = isinstance(cur._rows, list) and len(cur._rows) > cur._pos
    return (arrowcodec.__name__ == "scratchbird._compiled.arrowcodec" and not holds_tuples
            and all(plan[0] != K_OBJECT for plan in plans))


def arrow_c_stream(cur: Cursor, requested_schema: Any = None, batch_rows: Optional[int] = None
                   ) -> object:
    """The Arrow PyCapsule stream of the remaining rows (``__arrow_c_stream__``).

    Compiled, with every column filled in C and no rows held as tuples (a cursor from
    ``conn.arrow_stream``), the stream is the compiled module's own ArrowArrayStream:
    no pyarrow anywhere. Otherwise it is ``fetch_arrow_batches``'s reader. The producer
    keeps its own schema (``requested_schema`` is not applied; the consumer casts).
    """
    from scratchbird._impl import arrowcodec
    _check(cur)
    if batch_rows is None:      # a cursor from conn.arrow_stream keeps its batch_rows
        batch_rows = cur.itersize if cur._row_sink is not None else 65536
    numeric_as = _numeric_as(None)
    names, plans = _plans(cur, numeric_as)
    pending = cur._arrow_pending
    if (pending is None or pending[0] is not cur._result) and not _native(cur, plans):
        return fetch_arrow_batches(cur, batch_rows).__arrow_c_stream__(requested_schema)
    if pending is not None and pending[0] is cur._result and pending[1] == "pa":
        return fetch_arrow_batches(cur, batch_rows).__arrow_c_stream__(requested_schema)
    if pending is None or pending[0] is not cur._result:
        chunks = _chunks(cur, batch_rows, numeric_as)
        first = next(chunks, None)
        formats = ([col.format for col in first[1]] if first is not None
                   else [plan[1] for plan in plans])
        pending = cur._arrow_pending = [cur._result, "c", first and first[1], chunks, formats]

    def columns() -> Iterator[List[Any]]:
        if pending[2] is not None:
            first, pending[2] = pending[2], None
            yield first
        for _kind, taken in pending[3]:
            yield taken
        if cur._arrow_pending is pending:
            cur._arrow_pending = None
    return arrowcodec.export_stream(names, pending[4], columns())


def arrow_stream_sql(connection: Connection, sql: str, params: Any = None, *,
                     batch_rows: int = 65536, numeric_as: Optional[str] = None) -> Cursor:
    """``conn.arrow_stream``: a cursor whose result is decoded column by column from the
    first row; read it with ``fetch_arrow*`` or hand it to any PyCapsule consumer."""
    cur: Cursor = connection.cursor(stream=True)
    cur.itersize = batch_rows
    cur._row_sink = sink_factory(connection, numeric_as)
    try:
        cur.execute(sql, params)
    except BaseException:
        cur.close()
        raise
    return cur


def _masked(column: Any, np: ModuleType) -> Any:
    pa = require("pyarrow", "arrow")
    array = column.combine_chunks() if hasattr(column, "combine_chunks") else column
    if array.null_count == 0:
        return array.to_numpy(zero_copy_only=False)
    t = array.type
    fill = None     # numbers and booleans keep their dtype; the rest shows NaT or None
    if pa.types.is_integer(t):
        fill = pa.scalar(0, type=t)
    elif pa.types.is_floating(t):
        fill = pa.scalar(0.0, type=t)
    elif pa.types.is_boolean(t):
        fill = pa.scalar(False)
    values = (array.fill_null(fill) if fill is not None else array).to_numpy(zero_copy_only=False)
    mask = array.is_null().to_numpy(zero_copy_only=False)
    return np.ma.masked_array(values, mask=mask)


def fetch_numpy(cur: Cursor, *, numeric_as: Optional[str] = None) -> Dict[str, Any]:
    """``{column name: ndarray}``, a ``numpy.ma.MaskedArray`` where a column has NULLs."""
    np = require("numpy", "arrow")
    table = fetch_arrow(cur, numeric_as=numeric_as)
    return {name: _masked(table.column(i), np) for i, name in enumerate(table.column_names)}


def fetch_pandas(cur: Cursor, *, numeric_as: Optional[str] = None) -> pandas.DataFrame:
    """The remaining rows as a ``pandas.DataFrame``."""
    require("pandas", "pandas")
    return fetch_arrow(cur, numeric_as=numeric_as).to_pandas()


def _for_polars(table: pyarrow.Table) -> pyarrow.Table:
    """Polars reads neither extension types nor month_day_nano intervals: UUID goes as its
    16-byte storage, INTERVAL as a struct of months, days and nanoseconds."""
    pa = require("pyarrow", "arrow")
    for i, field in enumerate(table.schema):
        column = table.column(i)
        if isinstance(field.type, pa.ExtensionType):
            column = pa.chunked_array([c.storage for c in column.chunks], type=field.type.storage_type)
        elif field.type == pa.month_day_nano_interval():
            values = column.to_pylist()
            column = pa.array([None if v is None else {"months": v.months, "days": v.days,
                                                       "nanoseconds": v.nanoseconds} for v in values],
                              type=pa.struct([("months", pa.int32()), ("days", pa.int32()),
                                              ("nanoseconds", pa.int64())]))
        else:
            continue
        table = table.set_column(i, field.name, column)
    return table


def fetch_polars(cur: Cursor, *, numeric_as: Optional[str] = None) -> polars.DataFrame:
    """The remaining rows as a ``polars.DataFrame`` (UUID as 16-byte binary, INTERVAL as a
    struct of months, days, nanoseconds: Polars has neither type)."""
    pl = require("polars", "polars")
    frame: polars.DataFrame = pl.from_arrow(_for_polars(fetch_arrow(cur, numeric_as=numeric_as)))
    return frame


def fetch_arrow_sql(connection: Connection, sql: str, params: Any = None, *,
                    numeric_as: Optional[str] = None, batch_rows: int = 65536) -> pyarrow.Table:
    """``conn.fetch_arrow``: every row of ``sql`` goes through the columnar sink."""
    require("pyarrow", "arrow")
    cur = connection.cursor(stream=True)
    try:
        cur.itersize = batch_rows
        cur._row_sink = sink_factory(connection, numeric_as)
        cur.execute(sql, params)
        cur._row_sink = None
        if cur.description is None:
            raise InterfaceError("the statement produced no result set to fetch from")
        return fetch_arrow(cur, numeric_as=numeric_as)
    finally:
        cur.close()
