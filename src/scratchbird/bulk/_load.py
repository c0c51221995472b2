"""``Connection.load``: one call from Python or columnar data into a table, through COPY.

Accepted ``data`` and how it travels (``bulk/_copy.py`` for the COPY itself):

- an iterable of tuples or lists: rows, in the order of ``columns`` (or of the table);
- a list of dicts: rows keyed by column name (the first dict's keys name the columns);
- a CSV path (``.csv``, or any name not ending in ``.parquet``/``.pq``) or a text or binary
  file object: a header row, then rows; values travel as text and the server converts
  them to the target columns' types; with ``create=True`` each column's type is inferred
  (bigint, double precision or text); an empty field is NULL;
- a Parquet path (``.parquet``, ``.pq``), read batch by batch;
- a pandas or Polars DataFrame, a pyarrow Table, RecordBatch or RecordBatchReader, or
  anything with ``__arrow_c_stream__``: Arrow, encoded column by column in C.

``create=True`` runs ``CREATE TABLE`` from the data's schema first (a plain CREATE: the
real server refuses ``IF NOT EXISTS``, REFERENCE 12.B.7.9). The COPY names its columns in
its packets, not in the statement (the server matches fields to columns by name, 7.8).
"""
from __future__ import annotations

import codecs
import csv
import io
import itertools
import os
import re
from typing import (TYPE_CHECKING, Any, Callable, Iterable, Iterator, List, Optional, Sequence,
                    Tuple, Union)

from scratchbird._impl import literals
from scratchbird.errors import ProgrammingError

from ._copy import DEFAULT_BATCH_ROWS
from ._values import tag_for_value

if TYPE_CHECKING:
    import pyarrow      # no type information: Any to mypy, the names say what a value is

    from scratchbird.connection import Connection
    from scratchbird.cursor import Cursor

#: a CSV field's text to the value sent for its column (an empty field is NULL, not converted)
Converter = Callable[[str], Any]
#: called with the rows sent so far, after each packet
ProgressCallback = Optional[Callable[[int], Any]]

__all__ = ["load"]

_SIMPLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)*\Z")
_PARQUET_SUFFIXES = (".parquet", ".pq")
_SQL_FOR_TAG = {1: "text", 2: "bigint", 3: "boolean", 4: "integer", 5: "uint64",
                6: "double precision", 7: "blob"}


def _table_name(table: str) -> str:
    if not isinstance(table, str) or not table:
        raise ProgrammingError("load() needs a table name")
    return table if _SIMPLE_NAME.match(table) else literals.quote_identifier(table)


def _quote_column(name: str) -> str:
    return name if _SIMPLE_NAME.match(name) and "." not in name else \
        literals.quote_identifier(name)


def _sql_type_for_value(value: Any) -> str:
    import datetime as dt
    import uuid
    from decimal import Decimal
    if isinstance(value, Decimal):
        return "numeric"
    if isinstance(value, dt.datetime):
        return "timestamptz" if value.tzinfo is not None else "timestamp"
    if isinstance(value, dt.date):
        return "date"
    if isinstance(value, dt.time):
        return "time"
    if isinstance(value, uuid.UUID):
        return "uuid"
    return _SQL_FOR_TAG[tag_for_value(value)]


def _create(conn: Connection, table: str, names: Sequence[str], types: Sequence[str]) -> None:
    columns = ", ".join(f"{_quote_column(n)} {t}" for n, t in zip(names, types))
    conn.cursor().execute(f"CREATE TABLE {table} ({columns})")


# ---------------------------------------------------------------- CSV


def _csv_reader(source: Any) -> Tuple[Callable[[], None], Iterator[List[str]]]:
    """(close function, csv.reader) for a path or a text or binary file object."""
    if isinstance(source, (str, os.PathLike)):
        handle = open(source, newline="", encoding="utf-8")
        return handle.close, csv.reader(handle)
    if isinstance(source, io.TextIOBase) or "b" not in getattr(source, "mode", "b"):
        return (lambda: None), csv.reader(source)
    text = codecs.getreader("utf-8")(source)
    return (lambda: None), csv.reader(text)


def _infer_csv_types(rows: List[List[Optional[str]]], ncols: int
                     ) -> Tuple[List[str], List[Converter]]:
    """bigint when every non-empty value is an integer, double precision when a number,
    else text; with the converters that make those values."""
    types: List[str] = []
    converters: List[Converter] = []
    for k in range(ncols):
        values = [v for v in (row[k] for row in rows) if v is not None]
        kind = "bigint"
        for value in values:
            try:
                int(value)
                continue
            except ValueError:
                pass
            try:
                float(value)
                kind = "double precision"
            except ValueError:
                kind = "text"
                break
        types.append(kind)
        converters.append({"bigint": int, "double precision": float}.get(kind, str))
    return types, converters


def _csv_rows(source: Any
              ) -> Tuple[List[str], Iterator[List[Optional[str]]], Callable[[], None]]:
    close, reader = _csv_reader(source)
    try:
        header = next(reader)
    except StopIteration:
        close()
        raise ProgrammingError("the CSV data has no header row") from None
    ncols = len(header)

    def rows() -> Iterator[List[Optional[str]]]:
        for number, row in enumerate(reader, 2):
            if len(row) != ncols:
                raise ProgrammingError(f"CSV line {number} has {len(row)} fields; the header "
                                       f"has {ncols}")
            yield [value if value != "" else None for value in row]
    return header, rows(), close


# ---------------------------------------------------------------- load


def load(conn: Connection, table: str, data: Any, *, columns: Optional[Sequence[str]] = None,
         create: bool = False, batch_rows: int = DEFAULT_BATCH_ROWS,
         progress: ProgressCallback = None) -> int:
    """Load ``data`` into ``table`` with COPY FROM STDIN; returns the rows inserted."""
    from ._arrow import is_arrow_data
    name = _table_name(table)
    close: Optional[Callable[[], None]] = None
    rows: Iterator[Any]             # the caller's rows: tuples, lists or dicts
    names: Optional[List[str]]
    types: List[str]
    try:
        if isinstance(data, (str, os.PathLike)) and \
                str(data).lower().endswith(_PARQUET_SUFFIXES):
            return _load_arrow(conn, name, _parquet_reader(data), columns, create, batch_rows,
                               progress)
        if isinstance(data, (str, os.PathLike)) or hasattr(data, "read"):
            header, rows, close = _csv_rows(data)
            names = list(columns) if columns is not None else header
            converters: Optional[List[Converter]] = None
            if create:
                head = list(itertools.islice(rows, 1000))
                types, converters = _infer_csv_types(head, len(names))
                _create(conn, name, names, types)
                rows = itertools.chain(head, rows)
            if converters is not None:
                rows = ([None if v is None else f(v) for f, v in zip(converters, row)]
                        for row in rows)
            return _copy_rows(conn, name, names, rows, batch_rows, progress)
        if _is_pandas(data):
            from ._arrow import require_pyarrow
            data = require_pyarrow().Table.from_pandas(data, preserve_index=False)
        if is_arrow_data(data):
            return _load_arrow(conn, name, data, columns, create, batch_rows, progress)
        rows = iter(data)
        first = next(rows, None)
        if first is None:
            return 0
        if isinstance(first, dict):
            names = list(columns) if columns is not None else list(first)
            rows = (tuple(row.get(n) for n in names)
                    for row in itertools.chain([first], rows))
        else:
            names = list(columns) if columns is not None else None
            rows = itertools.chain([first], rows)
        if create:
            head = list(itertools.islice(rows, 1000))
            if names is None:
                raise ProgrammingError("create=True with tuples needs columns=[...]")
            types = []
            for k in range(len(names)):
                value = next((row[k] for row in head if row[k] is not None), None)
                types.append("text" if value is None else _sql_type_for_value(value))
            _create(conn, name, names, types)
            rows = itertools.chain(head, rows)
        return _copy_rows(conn, name, names, rows, batch_rows, progress)
    finally:
        if close is not None:
            close()


def _is_pandas(data: Any) -> bool:
    return type(data).__module__.startswith("pandas") and hasattr(data, "to_records")


def _parquet_reader(path: Union[str, os.PathLike[str]]) -> pyarrow.RecordBatchReader:
    from ._arrow import require_pyarrow
    require_pyarrow()
    import pyarrow.parquet as pq
    parquet = pq.ParquetFile(path)
    import pyarrow as pa
    return pa.RecordBatchReader.from_batches(parquet.schema_arrow,
                                             parquet.iter_batches(batch_size=65536))


class _NothingToLoad(Exception):
    """No row came: the COPY is abandoned (COPY_DONE would get NO_ROWS, 7.8)."""


def _copy_rows(conn: Connection, table: str, names: Optional[Sequence[str]],
               rows: Iterable[Sequence[Any]], batch_rows: int,
               progress: ProgressCallback) -> int:
    cur: Cursor = conn.cursor()
    try:
        with cur.copy(f"COPY {table} FROM STDIN", columns=names, batch_rows=batch_rows,
                      progress=progress) as copy:
            copy.write_rows(rows)
            if not copy.rows_sent and not copy._rows:
                raise _NothingToLoad()
    except _NothingToLoad:
        return 0
    return max(cur.rowcount, 0)


def _load_arrow(conn: Connection, table: str, data: Any, columns: Optional[Sequence[str]],
                create: bool, batch_rows: int, progress: ProgressCallback) -> int:
    from ._arrow import arrow_batches, require_pyarrow, sql_type_for
    pa = require_pyarrow()
    schema, batches = arrow_batches(data)
    names = list(columns) if columns is not None else list(schema.names)
    if create:
        _create(conn, table, names, [sql_type_for(field.type) for field in schema])
    reader = pa.RecordBatchReader.from_batches(schema, batches)
    cur: Cursor = conn.cursor()
    try:
        with cur.copy(f"COPY {table} FROM STDIN", columns=names, batch_rows=batch_rows,
                      progress=progress) as copy:
            copy.write_arrow(reader)
            if not copy.rows_sent:
                raise _NothingToLoad()
    except _NothingToLoad:
        return 0
    return max(cur.rowcount, 0)
