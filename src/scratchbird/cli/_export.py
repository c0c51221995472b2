"""``scratchbird export``: a query's result streamed to Parquet, Arrow IPC or CSV.

The rows come through ``cursor.fetch_arrow_batches`` on a ``cursor(stream=True)``: the
compiled sink fills Arrow buffers straight from the DATA_ROW frames, ``batch_rows`` at a
time, and each batch is written and dropped before the next is read, so memory stays
bounded whatever the result's size. The file's schema is the stream's (fixed by the
result's declared column types, not by the first batch's values); an empty result still
writes a file with that schema (and, for CSV, the header line); a 0-row SELECT that
``sbsql`` answers with no column description writes a file with no columns.
"""
from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Callable, List, Optional, Protocol

import click

if TYPE_CHECKING:
    import pyarrow      # no type information: Any to mypy, the names say what a value is

    from scratchbird.connection import Connection
    from scratchbird.cursor import Cursor

__all__ = ["export_query", "writer_for", "BATCH_ROWS"]

BATCH_ROWS = 65536

_PARQUET = (".parquet", ".pq")
_ARROW = (".arrow", ".feather", ".ipc")


class BatchWriter(Protocol):
    """What ``export_query`` writes through: one of the ``*Out`` classes below."""

    def write(self, batch: pyarrow.RecordBatch) -> None: ...

    def close(self) -> None: ...


#: a ``*Out`` class: opens ``path`` for a stream of ``schema``
WriterClass = Callable[[Path, "pyarrow.Schema"], BatchWriter]


def _pyarrow() -> ModuleType:
    from scratchbird.arrow._imports import require
    return require("pyarrow", "arrow")


class ParquetOut:
    def __init__(self, path: Path, schema: pyarrow.Schema) -> None:
        import pyarrow.parquet as pq
        self.writer = pq.ParquetWriter(str(path), schema)

    def write(self, batch: pyarrow.RecordBatch) -> None:
        self.writer.write_batch(batch)

    def close(self) -> None:
        self.writer.close()


class ArrowOut:
    """The Arrow IPC file format (Feather v2)."""

    def __init__(self, path: Path, schema: pyarrow.Schema) -> None:
        self.writer = _pyarrow().ipc.new_file(str(path), schema)

    def write(self, batch: pyarrow.RecordBatch) -> None:
        self.writer.write_batch(batch)

    def close(self) -> None:
        self.writer.close()


def _csv_text(value: Any) -> Optional[str]:
    """A value Arrow's CSV writer cannot render (lists, structs, maps, extension types,
    bytes): JSON for nested values, hex for bytes, ``str`` otherwise."""
    if value is None:
        return None
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).hex()
    if isinstance(value, (list, dict, tuple)):
        return json.dumps(value, default=str)
    return str(value)


class CsvOut:
    """RFC 4180 CSV through ``pyarrow.csv.CSVWriter``: a header line, quotes only where
    needed, NULL as an empty field, booleans as ``true``/``false``. Columns whose type the
    writer cannot cast to text are rendered per value by ``_csv_text`` (per batch, so the
    memory bound holds)."""

    def __init__(self, path: Path, schema: pyarrow.Schema) -> None:
        pa = _pyarrow()
        import pyarrow.csv as pcsv
        self.pa = pa
        self.as_text: List[int] = [i for i, field in enumerate(schema)
                                   if not _csv_castable(pa, field.type)]
        fields = [pa.field(f.name, pa.string()) if i in self.as_text else f
                  for i, f in enumerate(schema)]
        self.schema = pa.schema(fields)
        self.writer = pcsv.CSVWriter(str(path), self.schema,
                                     write_options=pcsv.WriteOptions(quoting_style="needed"))

    def write(self, batch: pyarrow.RecordBatch) -> None:
        if self.as_text:
            pa = self.pa
            columns = list(batch.columns)
            for i in self.as_text:
                columns[i] = pa.array([_csv_text(v) for v in columns[i].to_pylist()],
                                      type=pa.string())
            batch = pa.RecordBatch.from_arrays(columns, schema=self.schema)
        self.writer.write_batch(batch)

    def close(self) -> None:
        self.writer.close()


def _csv_castable(pa: ModuleType, arrow_type: pyarrow.DataType) -> bool:
    if pa.types.is_binary(arrow_type) or pa.types.is_large_binary(arrow_type) or \
            pa.types.is_fixed_size_binary(arrow_type) or \
            isinstance(arrow_type, pa.ExtensionType):
        return False        # bytes need not be UTF-8; extension types have no CSV form
    try:
        pa.array([], type=arrow_type).cast(pa.string())
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid, TypeError):
        return False
    return True


def writer_for(path: Path) -> WriterClass:
    """The writer class for ``path``'s suffix (checked before connecting)."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return CsvOut
    if suffix in _PARQUET:
        return ParquetOut
    if suffix in _ARROW:
        return ArrowOut
    raise click.ClickException(f"{path}: unknown output format (use .csv, .parquet or .arrow)")


def export_query(conn: Connection, sql: str, out: Path, writer_class: WriterClass,
                 progress: Callable[[int], None], *, batch_rows: int = BATCH_ROWS,
                 numeric_as: Optional[str] = None) -> int:
    """Stream ``sql``'s rows into ``out``; returns the number of rows written."""
    cur: Cursor = conn.cursor(stream=True)
    cur.itersize = batch_rows
    cur.execute(sql)
    if cur.description is None:
        # sbsql answers a 0-row SELECT with no ROW_DESCRIPTION (REFERENCE 12; docs/protocol.md
        # 5.2): with no columns remembered for the text there is no schema to write, so the
        # file is written with none. Anything else (DDL, INSERT: a server report, or
        # another tag) is refused.
        if cur.server_report is not None or (cur.statusmessage or "").split()[:1] != ["SELECT"]:
            raise click.ClickException("the statement returned no result set")
        writer_class(out, _pyarrow().schema([])).close()
        return 0
    reader = cur.fetch_arrow_batches(batch_rows, numeric_as=numeric_as)
    writer = writer_class(out, reader.schema)
    total = 0
    try:
        for batch in reader:
            writer.write(batch)
            total += batch.num_rows
            progress(total)
    finally:
        writer.close()
    return total
