"""``cursor.copy()``: COPY FROM STDIN from Python rows (REFERENCE 7.8, 12.A.13, 12.D).

A thin blocking loop around ``ClientProtocol``'s COPY frames and the compiled row
encoders (``copycodec``)::

    with cur.copy("COPY t (a, b) FROM STDIN") as copy:
        copy.write_row((1, "x"))
    cur.rowcount, cur.server_report

- **Binary** (SBNR v2) when the server's COPY_IN_RESPONSE says format 1 (feature 8
  granted): one packet per COPY_DATA, type tags fixed by the first packet (or
  ``set_types``) and the same in every packet, as the server requires (12.D).
- **Text** (``name=value;...`` lines) when it says format 0. A value text COPY cannot
  carry is refused (DataError) before its COPY_DATA is sent, and the COPY is abandoned.
- Leaving the block sends COPY_DONE and reads the import report (one row per SBNR packet,
  summed); an exception sends COPY_FAIL, so nothing of the COPY is stored, and re-raises.
- The server refuses a bad packet at once (DESCRIPTOR_MISMATCH, DATA_ROW_INVALID: 12.D).
  Between packets the loop checks, without blocking, whether a reply arrived; if so it
  stops sending and raises it. The replies to COPY frames sent after the refused one
  (ASYNC-011 each) are drained up to a PING fence, so the connection stays in step.
"""
from __future__ import annotations

import itertools
import os
from types import TracebackType
from typing import (TYPE_CHECKING, Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple,
                    Type)

from scratchbird import _constants as c
from scratchbird._impl import copycodec
from scratchbird._typing import Buffer
from scratchbird.errors import (DataError, Error, InterfaceError, NotSupportedError,
                                ProgrammingError, ProtocolError)

from ._values import infer_tags, parse_copy_sql, parse_types, render_copy_text

if TYPE_CHECKING:
    from scratchbird._protocol import ClientProtocol, Response
    from scratchbird._transport import ByteTransport
    from scratchbird.connection import Connection
    from scratchbird.cursor import Cursor

__all__ = ["Copy", "refuse_plain_copy", "DEFAULT_BATCH_ROWS"]

# Rows per SBNR packet (and per text COPY_DATA): the server runs imports in chunks of
# 50,000 rows (7.8); a packet also stays within the advisory window.
DEFAULT_BATCH_ROWS = 50_000
FORMATS = ("auto", "binary", "text")
# Errors that answer a COPY_DATA (the COPY is dropped there), not the COPY_DONE (12.D).
EARLY_CODES = frozenset({"SBSQL.COPY.DESCRIPTOR_MISMATCH", "SBSQL.COPY.DATA_ROW_INVALID"})
REPORT_COLUMNS = ("accepted_rows", "inserted_rows", "rejected_rows")


def _wire(conn: Connection) -> Tuple[ClientProtocol, ByteTransport]:
    """The connection's protocol core and transport; a closed connection (the COPY's
    transport failed and was closed) is an InterfaceError, not an AttributeError."""
    proto, transport = conn._proto, conn._transport
    if proto is None or transport is None:
        raise InterfaceError("the connection is closed")
    return proto, transport


class Copy:
    """One COPY FROM STDIN in progress (made by ``Cursor.copy``; use it in a ``with``)."""

    def __init__(self, cursor: Cursor, statement: str, *, columns: Optional[Sequence[str]] = None,
                 format: str = "auto", batch_rows: int = DEFAULT_BATCH_ROWS,
                 progress: Optional[Callable[[int], Any]] = None) -> None:
        if format not in FORMATS:
            raise ProgrammingError(f"COPY format must be one of {', '.join(FORMATS)}, not {format!r}")
        if batch_rows < 1:
            raise ProgrammingError("batch_rows must be at least 1")
        self.cursor = cursor
        self.statement = statement
        self.table, sql_columns = parse_copy_sql(statement)
        self.columns: Optional[List[str]] = list(columns) if columns is not None else sql_columns
        self._named = self.columns is not None     # named by the caller, not read off the table
        self.format = format
        self.batch_rows = batch_rows
        self.progress = progress
        self.rows_sent = 0
        self.mode: Optional[str] = None          # "binary" or "text", from COPY_IN_RESPONSE
        self.window = 0
        self._types: Optional[List[Optional[int]]] = None
        self._tags: Optional[List[int]] = None
        self._header: Optional[bytes] = None
        self._names_checked = False
        self._rows: List[Any] = []
        self._response: Optional[Response] = None
        self._locked = False
        self._done = False

    def __repr__(self) -> str:
        return f"<scratchbird.Copy {self.table} mode={self.mode} rows_sent={self.rows_sent}>"

    # ------------------------------------------------------------ starting

    def __enter__(self) -> "Copy":
        conn = self.cursor.connection
        proto = conn._check_open()
        if not proto.negotiated_features & c.FEATURE_STREAMING:
            raise NotSupportedError(
                "COPY FROM STDIN needs feature 1 (STREAMING), which this session did not "
                "negotiate (a legacy STARTUP negotiates none, REFERENCE 7.8)")
        if self.columns is None:
            self.columns = self._table_columns(conn)
        conn._lock.acquire()
        self._locked = True
        try:
            self._start(conn)
        except BaseException:
            self._release()
            raise
        return self

    def _table_columns(self, conn: Connection) -> Optional[List[str]]:
        """The target's column names from one row of it (the server's ROW_DESCRIPTION
        lists the attributes of the rows it returns, 12.A.4); None for an empty table."""
        response = conn._execute_sql(f"SELECT * FROM {self.table} LIMIT 1")
        if response.error is not None:
            raise response.error
        for result in response.results:
            if result.description is not None:
                return [col.name for col in result.description.columns]
        return None

    def _start(self, conn: Connection) -> None:
        response = conn._request(lambda proto: proto.query_frame(self.statement))
        conn._streaming = None
        if response.done:
            if response.error is not None:
                raise response.error
            raise ProgrammingError("the server did not start a COPY FROM STDIN for this statement")
        if not conn._autocommit:
            conn._in_transaction = True
        self._response = response
        if response.copy_in is None:    # not done, so a COPY_IN_RESPONSE stopped the read
            raise ProtocolError("the server started no COPY FROM STDIN for this statement")
        fmt, window = response.copy_in
        self.window = window or c.MAX_PAYLOAD
        mode = "binary" if fmt == 1 else "text"
        if self.format != "auto" and self.format != mode:
            self._abort(f"{self.format} COPY refused by the client")
            raise NotSupportedError(
                f"the server chose {mode} COPY (format {fmt}; binary when feature 8 was "
                f"negotiated, REFERENCE 7.8), so {self.format} COPY is not possible on this "
                "connection" + (" (connect with binary_copy=false for text COPY)"
                                if mode == "binary" else ""))
        self.mode = mode

    # ------------------------------------------------------------ writing

    def set_types(self, types: Sequence[Any]) -> None:
        """SBNR type tags, one per column: 1-7 or ``"text"``, ``"int64"``, ``"boolean"``,
        ``"int32"``, ``"uint64"``, ``"real64"``, ``"binary"`` (None: from the first packet).
        Only before the first packet: every packet of a COPY must keep the same tags."""
        if self._tags is not None:
            raise ProgrammingError("set_types() must come before the first rows are sent")
        self._types = parse_types(types, len(self.columns) if self.columns else None)

    def write_row(self, row: Sequence[Any]) -> None:
        """Queue one row (a tuple or a list, in column order); sent in batches."""
        self._check_writable()
        self._rows.append(row)
        if len(self._rows) >= self.batch_rows:
            self._send_rows()

    def write_rows(self, rows: Iterable[Sequence[Any]]) -> None:
        """Queue many rows; sent ``batch_rows`` at a time."""
        self._check_writable()
        iterator = iter(rows)
        while True:
            room = self.batch_rows - len(self._rows)
            chunk = list(itertools.islice(iterator, room))
            if not chunk:
                return
            self._rows.extend(chunk)
            if len(self._rows) >= self.batch_rows:
                self._send_rows()

    def write(self, data: Buffer) -> None:
        """Send already-encoded bytes as one COPY_DATA: text lines in a text COPY, one
        complete SBNR v2 or SBCP v1 packet in a binary COPY (REFERENCE 7.8)."""
        self._check_writable()
        self._send_rows()
        payload = bytes(data)
        if not payload:
            return
        if len(payload) > c.MAX_PAYLOAD:
            raise DataError(f"COPY data of {len(payload)} bytes exceeds the 64 MiB frame limit")
        self._send_data(payload)

    def write_arrow(self, data: Any) -> None:
        """Send Arrow data (a pyarrow Table, RecordBatch or RecordBatchReader, or anything
        with ``__arrow_c_stream__``): in a binary COPY, column by column from the Arrow
        buffers (``bulk/_arrow.py``); in a text COPY, as Python rows. Its column names are
        the COPY's unless ``columns=`` named them."""
        from ._arrow import arrow_batches, prepare_batch, tags_for_schema
        self._check_writable()
        self._send_rows()
        schema, batches = arrow_batches(data)
        columns = self.columns      # not None when the caller named them (_named)
        if not self._named or columns is None:
            columns = self.columns = list(schema.names)
        elif len(columns) != len(schema):
            raise ProgrammingError(f"the COPY names {len(columns)} columns; the Arrow data "
                                   f"has {len(schema)}")
        if self.mode != "binary":
            for batch in batches:
                columns = [column.to_pylist() for column in batch.columns]
                self.write_rows(zip(*columns))
            return
        tags = tags_for_schema(schema)
        if self._tags is None:
            self._tags = tags
            self._header = copycodec.sbnr_header(tags, columns)
        elif self._tags != tags:
            raise DataError(f"the Arrow data's SBNR types {tags} differ from the COPY's "
                            f"{self._tags}; every packet of a COPY must keep them (12.D)")
        header = self._sbnr_head()[0]
        limit = min(self.window, c.MAX_PAYLOAD)
        for batch in batches:
            buffers = prepare_batch(batch, tags)
            total = batch.num_rows
            start = 0
            while start < total:
                stop = min(total, start + self.batch_rows)
                payload, end = copycodec.encode_sbnr_columns(
                    header, tags, columns, buffers, start, stop, limit, self.rows_sent)
                self._send_data(payload)
                self.rows_sent += end - start
                start = end
                if self.progress is not None:
                    self.progress(self.rows_sent)

    def _sbnr_head(self) -> Tuple[bytes, List[int]]:
        """The SBNR header and tags, fixed together by the first packet (12.D)."""
        if self._header is None or self._tags is None:
            raise InterfaceError("the COPY's SBNR column types are not fixed yet")
        return self._header, self._tags

    def _check_writable(self) -> None:
        if self._response is None or self._done:
            raise InterfaceError("the COPY is not in progress (use it inside 'with cur.copy(...)')")

    def _send_rows(self) -> None:
        rows = self._rows
        if not rows:
            return
        names = self.columns
        if names is None:
            raise ProgrammingError(
                f"cannot tell the columns of {self.table} (it has no rows to describe them): "
                "name them in the statement, COPY t (a, b) FROM STDIN, or with columns=")
        limit = min(self.window, c.MAX_PAYLOAD)
        if self.mode == "text" and not self._names_checked:
            for name in names:        # a text field's name ends at its first '=' (7.8)
                if not name or name != name.strip() or any(ch in name for ch in "=;\r\n"):
                    raise ProgrammingError(f"column name {name!r} cannot be sent in text COPY")
            self._names_checked = True
        if self.mode == "binary" and self._tags is None:
            self._tags = infer_tags(rows, len(names), self._types)
            self._header = copycodec.sbnr_header(self._tags, names)
        start = 0
        try:
            while start < len(rows):
                if self.mode == "binary":
                    header, tags = self._sbnr_head()
                    payload, end = copycodec.encode_sbnr_packet(
                        header, tags, names, rows, start, limit, render_copy_text,
                        self.rows_sent)
                else:
                    payload, end = copycodec.encode_text_rows(
                        names, rows, start, limit, render_copy_text, self.rows_sent)
                self._send_data(payload)
                self.rows_sent += end - start
                start = end
                if self.progress is not None:
                    self.progress(self.rows_sent)
        finally:
            del rows[:start]

    def _send_data(self, payload: bytes) -> None:
        conn = self.cursor.connection
        proto, transport = _wire(conn)
        self._send(conn, proto.copy_data_frame(payload))
        if transport.readable():
            self._check_early(conn)

    def _send(self, conn: Connection, frame: bytes) -> None:
        try:
            _wire(conn)[1].send(frame)
        except BaseException:
            conn._close_transport()
            self._done = True
            raise

    def _check_early(self, conn: Connection) -> None:
        """A reply during the data phase means the server dropped the COPY (12.D)."""
        try:
            proto, transport = _wire(conn)
            proto.feed(transport.recv())
            response = proto.read_response()
        except BaseException:
            conn._close_transport()
            self._done = True
            raise
        if response is not None and response.done:
            self._done = True
            self._fence(conn)
            raise response.error or ProtocolError("the server ended the COPY without an error")

    # ------------------------------------------------------------ ending

    def __exit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException],
                 tb: Optional[TracebackType]) -> None:
        try:
            if self._done or self._response is None:
                return
            if exc_type is None:
                try:
                    self._send_rows()
                except BaseException as error:
                    if not self._done:
                        self._abort(f"client error: {error}")
                    raise
                if not self._done:
                    self._finish()
            else:
                self._abort(f"client error: {exc_type.__name__}: {exc}")
        finally:
            self._release()

    def _release(self) -> None:
        if self._locked:
            self._locked = False
            self.cursor.connection._lock.release()

    def _finish(self) -> None:
        conn = self.cursor.connection
        self._done = True
        self._send(conn, _wire(conn)[0].copy_done_frame())
        response = conn._read(None)
        if response.error is not None:
            if response.error.diag_code in EARLY_CODES:
                self._fence(conn)      # our COPY_DONE still gets its ASYNC-011 (12.D)
            raise response.error
        report: Dict[str, int] = {}
        for result in response.results:
            if result.description is None:
                continue
            names = [col.name for col in result.description.columns]
            for row in result.rows:
                for name, value in zip(names, row):
                    report[name] = report.get(name, 0) + int(value)
        last = response.results[-1] if response.results else None
        cursor = self.cursor
        cursor._load(None)
        cursor.rowcount = report.get("inserted_rows", last.rowcount if last else -1)
        cursor.statusmessage = last.tag if last else None
        cursor.server_report = report or None
        if conn._autocommit:
            conn._request(lambda proto: proto.commit_frame())

    def _abort(self, reason: str) -> None:
        """COPY_FAIL: the server drops the whole COPY (57014 CLIENT_ABORTED, 7.8)."""
        conn = self.cursor.connection
        self._done = True
        proto = conn._proto
        if conn.closed or proto is None or not proto.copy_open:
            return
        self._send(conn, proto.copy_fail_frame(reason[:200]))
        response = conn._read(None)
        error = response.error
        if error is not None and error.diag_code in EARLY_CODES:
            self._fence(conn)          # the COPY had already been dropped: ASYNC-011 follows

    def _fence(self, conn: Connection) -> None:
        proto, transport = _wire(conn)
        payload = os.urandom(8)
        self._send(conn, proto.fence_frame(payload))
        try:
            while not proto.read_fence(payload):
                proto.feed(transport.recv())
        except BaseException:
            conn._close_transport()
            raise


def refuse_plain_copy(conn: Connection) -> None:
    """``execute("COPY ... FROM STDIN")`` started a COPY the cursor cannot feed: abandon it
    (COPY_FAIL) and say where COPY goes."""
    conn._streaming = None
    try:
        proto, transport = _wire(conn)
        transport.send(proto.copy_fail_frame("COPY FROM STDIN outside cursor.copy()"))
    except BaseException:
        conn._close_transport()
        raise
    conn._read(None)
    raise ProgrammingError("COPY FROM STDIN runs through cursor.copy() (the COPY was abandoned)")
