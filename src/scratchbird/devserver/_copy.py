"""COPY FROM STDIN in the dev server (REFERENCE 7.8, 12.A.13, 12.B.7.7, 12.D).

The session hands a ``COPY <table> [(columns)] FROM STDIN`` QUERY to ``start_copy``; the
COPY frames that follow go to ``CopyIn.data`` / ``done``. Formats: text lines (format 0,
feature 8 absent), SBNR v2 and SBCP v1 packets (format 1). Rows are buffered until
COPY_DONE, as on the real server, and then ingested in one statement through an Arrow
table registered with DuckDB (never one INSERT per row).

Replies, as the real server's: nothing to an accepted COPY_DATA; DATA_ROW_INVALID and
DESCRIPTOR_MISMATCH at once, to the offending COPY_DATA (the COPY is dropped); NO_ROWS
and execution errors at COPY_DONE; CLIENT_ABORTED to COPY_FAIL; each + READY(3). The
``sbsql`` profile reports ROW_DESCRIPTION(accepted/inserted/rejected) with one DATA_ROW
per SBNR/SBCP packet (one for a whole text COPY) before ``COPY n``; the ``full`` profile
answers with COMMAND_COMPLETE ``COPY n`` only (docs/protocol.md 7).
"""
from __future__ import annotations

import itertools
import re
import struct
from typing import List, Optional, Tuple, cast

from scratchbird._impl import copycodec

__all__ = ["CopyIn", "CopyRefused", "is_copy_from_stdin", "start_copy", "ingest", "start", "on_frame"]

_COPY_FROM_STDIN = re.compile(
    r"\s*COPY\s+(?P<table>.+?)\s*(?:\((?P<columns>[^)]*)\))?\s*FROM\s+STDIN\s*;?\s*\Z",
    re.IGNORECASE | re.DOTALL)
TEXT_WINDOW = 1 << 20           # COPY_IN_RESPONSE window, text (7.8)
BINARY_WINDOW = 32 << 20        # and binary
_SBCP_MAGIC = b"SBCP"
_ASCII_WHITESPACE = " \t\n\x0b\x0c\r"   # what a text COPY line is trimmed of (7.8)
_ARROW_TYPE_FOR_TAG = {1: "string", 2: "int64", 3: "bool_", 4: "int32", 5: "uint64",
                       6: "float64", 7: "binary"}
_copy_ids = itertools.count(1)

# (SQLSTATE, M, D) of the real server's COPY errors (captures 14 and 15, 12.B.7.7)
TEXT_INVALID = ("22000", "SBSQL.COPY.DATA_ROW_INVALID",
                "CopyData payload must contain newline-delimited canonical field=value rows")
BINARY_INVALID = ("22000", "SBSQL.COPY.DATA_ROW_INVALID", "CopyData binary rowset frame is malformed")
MISMATCH = ("42000", "SBSQL.COPY.DESCRIPTOR_MISMATCH",
            "COPY native row packet descriptor changed after the prepared bulk stream was bound")
NO_ROWS = ("22000", "SBSQL.COPY.NO_ROWS",
           "COPY FROM STDIN requires at least one canonical input row before CopyDone")
ABORTED = ("57014", "SBSQL.COPY.CLIENT_ABORTED", "client aborted the active COPY stream")
SHAPE_MISMATCH = ("42000", "The engine rejected the admitted SBLR envelope.",
                  "SB_ENGINE_API_INVALID_REQUEST;dml.direct_physical_bulk_append:"
                  "typed_row_shape_mismatch")


class CopyRefused(Exception):
    """A COPY error: ERROR(sqlstate, message, detail) + READY(3); the COPY is over."""

    def __init__(self, error: Tuple[str, str, str]) -> None:
        super().__init__(error[1])
        self.error = error


def is_copy_from_stdin(sql: str) -> bool:
    return _COPY_FROM_STDIN.match(sql) is not None


def _pyarrow():
    try:
        import pyarrow
    except ImportError:  # pragma: no cover - depends on the environment
        raise CopyRefused(("0A000", "FEATURE.NOT_AVAILABLE",
                           "the dev server needs pyarrow for COPY: pip install "
                           "'scratchbird[devserver]'")) from None
    return pyarrow


class CopyIn:
    """One COPY in progress: its target, its format and the rows received so far."""

    def __init__(self, table: str, columns: List[Tuple[str, str]], binary: bool) -> None:
        self.table = table
        self.columns = columns              # [(name, DuckDB type)] of the target
        self.binary = binary
        # (names, columns, rows, SBNR type tags or None for SBCP text values)
        self.packets: List[Tuple[List[str], list, int, Optional[list]]] = []
        self.descriptor: Optional[tuple] = None
        self.text_rows: List[dict] = []

    @property
    def format(self) -> int:
        return 1 if self.binary else 0

    # ------------------------------------------------------------ COPY_DATA

    def data(self, payload) -> None:
        """Take one COPY_DATA; raises CopyRefused for what the server refuses at once."""
        data = bytes(payload)
        if not self.binary:
            self._text(data)
        elif data[:4] == copycodec.SBNR_MAGIC:
            try:
                tags, names, nrows, columns = copycodec.decode_sbnr_columns(data)
            except (ValueError, UnicodeDecodeError):
                raise CopyRefused(BINARY_INVALID) from None
            descriptor = (tuple(tags), tuple(names))
            if self.descriptor is None:
                self.descriptor = descriptor
            elif descriptor != self.descriptor:
                raise CopyRefused(MISMATCH)
            self.packets.append((names, columns, nrows, tags))
        elif data[:4] == _SBCP_MAGIC:
            self._sbcp(data)
        else:   # text in a binary COPY (12.A.13)
            raise CopyRefused(BINARY_INVALID)

    def _text(self, data: bytes) -> None:
        rows = []
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise CopyRefused(TEXT_INVALID) from None
        for line in text.split("\n"):
            # ASCII whitespace only, as the server's C trim and the driver's refusals
            # (docs/protocol.md 7.1); str.strip() would also eat U+2028, U+00A0, ...
            line = line.strip(_ASCII_WHITESPACE)
            if not line:
                continue
            if "=" not in line:
                raise CopyRefused(TEXT_INVALID)
            row = {}
            for field in line.split(";"):
                name, sep, value = field.partition("=")
                if not sep or not name:
                    raise CopyRefused(TEXT_INVALID)
                row[name] = None if value.upper() in ("NULL", "<NULL>") else value
            rows.append(row)
        self.text_rows.extend(rows)

    def _sbcp(self, data: bytes) -> None:
        """SBCP v1: untyped text fields (7.8); one report row per packet, as SBNR."""
        try:
            if len(data) < 12 or data[4] != 1:
                raise ValueError("bad SBCP head")
            (nrows,) = struct.unpack_from("<I", data, 8)
            pos, rows = 12, []
            for _ in range(nrows):
                (nfields,) = struct.unpack_from("<I", data, pos)
                pos += 4
                row = {}
                for _ in range(nfields):
                    (n,) = struct.unpack_from("<I", data, pos)
                    name = data[pos + 4:pos + 4 + n].decode("utf-8")
                    pos += 4 + n
                    is_null = data[pos]
                    (m,) = struct.unpack_from("<I", data, pos + 1)
                    value = data[pos + 5:pos + 5 + m].decode("utf-8")
                    if not name or pos + 5 + m > len(data):
                        raise ValueError("bad SBCP field")
                    pos += 5 + m
                    row[name] = None if is_null else value
                rows.append(row)
            if pos != len(data) or not rows:
                raise ValueError("SBCP trailing bytes")
        except (ValueError, IndexError, struct.error, UnicodeDecodeError):
            raise CopyRefused(BINARY_INVALID) from None
        names = list(rows[0])
        if any(list(row) != names for row in rows):
            raise CopyRefused(SHAPE_MISMATCH)
        columns = [[row[name] for row in rows] for name in names]
        self.packets.append((names, columns, len(rows), None))

    # ------------------------------------------------------------ COPY_DONE

    def report_counts(self) -> List[int]:
        """Rows per report row: one per packet (binary), one for the whole COPY (text)."""
        if self.binary:
            return [p[2] for p in self.packets]
        return [len(self.text_rows)]

    def arrow_table(self):
        """All rows as one Arrow table (names as sent), or CopyRefused."""
        pa = _pyarrow()
        if not self.binary:
            rows = self.text_rows
            if not rows:
                raise CopyRefused(NO_ROWS)
            names = list(rows[0])
            if any(list(row) != names for row in rows):
                # every line must carry the same field set (12.A.13)
                if any(set(row) != set(names) for row in rows):
                    raise CopyRefused(SHAPE_MISMATCH)
            return pa.table({name: pa.array([row[name] for row in rows], pa.string())
                             for name in names})
        if not self.packets:
            raise CopyRefused(NO_ROWS)
        batches = []
        for names, columns, nrows, tags in self.packets:
            if tags is None:            # SBCP: text values
                arrays = [pa.array(col, pa.string()) for col in columns]
            else:                       # SBNR: Arrow buffers made by decode_sbnr_columns
                arrays = []
                for (validity, offsets, data), tag in zip(columns, tags):
                    buffers = [pa.py_buffer(validity)]
                    if offsets is not None:
                        buffers.append(pa.py_buffer(offsets))
                    buffers.append(pa.py_buffer(data))
                    arrays.append(pa.Array.from_buffers(
                        getattr(pa, _ARROW_TYPE_FOR_TAG[tag])(), nrows, buffers))
            batches.append(pa.record_batch(arrays, names=names))
        schema = batches[0].schema
        return pa.Table.from_batches([b.cast(schema) if b.schema != schema else b
                                      for b in batches])


def start_copy(es, sql: str, binary: bool) -> CopyIn:
    """Check the COPY's target (DuckDB DESCRIBE) and open the COPY; EngineError if unknown."""
    from ._engine import map_error
    import duckdb
    match = cast("re.Match[str]", _COPY_FROM_STDIN.match(sql))  # is_copy_from_stdin(sql) held
    table = match.group("table").strip()
    with es._lock:
        try:
            es._refresh_snapshot()
            described = es._con.execute(f"DESCRIBE {table}").fetchall()
        except duckdb.Error as exc:
            err = map_error(exc)
            es._recover()
            raise err from None
    columns = [(row[0], row[1]) for row in described]
    wanted = match.group("columns")
    if wanted is not None:
        keep = {_ident(name).lower() for name in wanted.split(",")}
        columns = [col for col in columns if col[0].lower() in keep]
    return CopyIn(table, columns, binary)


def _ident(name: str) -> str:
    name = name.strip()
    if len(name) >= 2 and name[0] == name[-1] == '"':
        return name[1:-1].replace('""', '"')
    return name


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def ingest(es, copy: CopyIn) -> int:
    """Insert every received row in one statement; returns the row count. Raises
    CopyRefused (shape, NO_ROWS) or EngineError (DuckDB refused the rows)."""
    from ._engine import EngineError, map_error
    import duckdb
    table = copy.arrow_table()
    types = {name.lower(): duck_type for name, duck_type in copy.columns}
    select, target = [], []
    for name in table.column_names:
        duck_type = types.get(name.lower())
        if duck_type is None:
            raise EngineError("object name could not be resolved or is not visible",
                              "SBSQL.NAME_RESOLUTION.NOT_FOUND_OR_NOT_VISIBLE")
        select.append(f"CAST({_quote(name)} AS {duck_type})")
        target.append(_quote(name))
    view = f"_sb_copy_{next(_copy_ids)}"
    sql = (f"INSERT INTO {copy.table} ({', '.join(target)}) "
           f"SELECT {', '.join(select)} FROM {view}")
    with es._lock:
        es._gen += 1
        try:
            # kept registered for the transaction: a later error replays its writes
            # (EngineSession._recover), and this INSERT reads the view again then
            es._con.register(view, table)
            es._con.execute(sql)
        except duckdb.Error as exc:
            err = map_error(exc)
            es._recover()
            raise err from None
        es._log.append(sql)
    return table.num_rows


# ---------------------------------------------------------------- the session's side


def start(session, sql: str) -> None:
    """COPY ... FROM STDIN: COPY_IN_RESPONSE, binary when feature 8 was granted (7.8)."""
    from ._engine import EngineError
    from scratchbird import _constants as C
    session._flush()
    try:
        copy = start_copy(session.es, sql, bool(session.features & C.FEATURE_BINARY_COPY))
    except EngineError as exc:
        session._error(exc.sqlstate or "42000", exc.message, exc.code)
        session._ready(2)
        return
    window = BINARY_WINDOW if copy.binary else TEXT_WINDOW
    option = session.options.get("copy_window_bytes", "")
    if option.isdigit():
        window = min(int(option), 0xFFFFFFFF)
    session.copy_in = copy
    session._send(C.COPY_IN_RESPONSE, struct.pack("<BI", copy.format, window))


def _failed(session, error) -> None:
    session.copy_in = None
    session._error(*error)
    session._ready(3)


def on_frame(session, frame, payload) -> None:
    """COPY_DATA, COPY_DONE or COPY_FAIL while a COPY is in progress."""
    from scratchbird import _constants as C
    copy = session.copy_in
    if frame.msg_type == C.COPY_FAIL:
        _failed(session, ABORTED)
        return
    session._txn_mismatch(frame, "COPY_DATA" if frame.msg_type == C.COPY_DATA else "COPY_DONE")
    try:
        if frame.msg_type == C.COPY_DATA:
            copy.data(payload)          # no reply unless refused (12.D)
        else:
            _finish(session, copy)
    except CopyRefused as exc:
        _failed(session, exc.error)


def _finish(session, copy: CopyIn) -> None:
    """COPY_DONE: ingest, then the import report (sbsql) and ``COPY n`` (7.8, 12.D)."""
    from ._engine import EngineError
    from scratchbird import _constants as C
    from scratchbird._impl import rowcodec
    from scratchbird._server_messages import (Column, encode_command_complete,
                                              encode_row_description_legacy,
                                              encode_row_description_p1)
    session._flush()
    try:
        total = ingest(session.es, copy)
    except EngineError as exc:
        _failed(session, (exc.sqlstate or "42000", exc.message, exc.code))
        return
    session.copy_in = None
    if session.profile.name != "full":   # the full profile reports COPY n only (protocol.md 7)
        columns = [Column(name, C.OID_INT8) for name in
                   ("accepted_rows", "inserted_rows", "rejected_rows")]
        session._send(C.ROW_DESCRIPTION, encode_row_description_p1(columns)
                      if session.layout == "p1" else encode_row_description_legacy(columns))
        for count in copy.report_counts():
            text = str(count).encode()
            session._send(C.DATA_ROW, rowcodec.encode_data_row((text, text, b"0")))
    session._send(C.COMMAND_COMPLETE, encode_command_complete(f"COPY {total}", total))
    session._ready(2)
