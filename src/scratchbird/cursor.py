"""The DB-API Cursor: executes statements and hands out their results."""
from __future__ import annotations

from typing import Any, Iterable, Iterator, List, Optional, Sequence, Tuple

from scratchbird._binary_params import plan_binary
from scratchbird._columns import ColumnInfo, column_info, describe
from scratchbird._impl import literals
from scratchbird._protocol import Response, Result
from scratchbird.adapters import AdaptersMap
from scratchbird.errors import InterfaceError

__all__ = ["Cursor"]

# executemany packs many statements into one QUERY, well under the 64 MiB frame limit.
_BATCH_BYTES = 4 << 20
_STATEMENT_SEPARATOR = "\n;\n"   # the newline ends a trailing -- comment first


class Cursor:
    """PEP 249 cursor.

    By default a result is read whole at ``execute()``. With ``stream=True`` (see
    ``Connection.cursor``) rows are read ``itersize`` at a time as they are fetched, so
    a huge result costs constant memory; the rest of an unread stream is dropped when
    another request runs on the connection. Several result sets (a multi-statement
    query) are walked with ``nextset()``.
    """

    def __init__(self, connection, raw_text: Optional[bool] = None, stream: bool = False) -> None:
        self.connection = connection
        self.arraysize = 1
        self.itersize = 2000
        self.closed = False
        self.stream = stream
        self._raw_text = raw_text
        self.adapters = AdaptersMap(connection.adapters)
        self._response: Optional[Response] = None
        self._index = 0
        self._result: Optional[Result] = None
        self._rows: list = []
        self._pos = 0
        self._description = None
        self.rowcount = -1
        self.lastrowid: Optional[int] = None
        self.statusmessage: Optional[str] = None
        self._row_sink = None    # a columnar sink factory for the next execute (scratchbird.arrow)
        self._arrow_pending = None   # a batch read for a stream's schema, not handed out yet

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"rowcount={self.rowcount}"
        return f"<scratchbird.Cursor {state}{' stream' if self.stream else ''}>"

    def _check(self) -> None:
        if self.closed:
            raise InterfaceError("the cursor is closed")
        if self.connection.closed:
            raise InterfaceError("the connection is closed")

    # ------------------------------------------------------------ executing

    def execute(self, operation: str, parameters: Any = None) -> "Cursor":
        """Run ``operation`` with ``parameters`` (named ``:name``, qmark ``?`` or
        numeric ``$1`` placeholders). Raises the server's error, mapped to PEP 249."""
        self._check()
        parameters = self.adapters.dump_params(parameters)
        row_limit = self.itersize if self.stream else None
        plan = None
        if parameters is not None and self.connection.binary_values:
            plan = plan_binary(operation, [parameters])
        if plan is not None:
            response = self.connection._execute_extended(
                plan[0], plan[1], plan[2], row_limit, raw_text=self._raw_text, adapters=self.adapters,
                row_sink=self._row_sink)
        else:
            sql = literals.merge_params(operation, parameters)
            response = self._run(sql, row_limit, self._row_sink)
        self._load(response)
        if response.done and response.error is not None:
            raise response.error
        return self

    def executemany(self, operation: str, seq_of_parameters: Iterable[Any]) -> "Cursor":
        """Run ``operation`` once per parameter set. The statements travel many to a
        QUERY (the server splits them, REFERENCE 4.1), so this costs few round trips."""
        self._check()
        if self.connection.binary_values:
            param_sets = [self.adapters.dump_params(p) for p in seq_of_parameters]
            plan = plan_binary(operation, param_sets) if param_sets else None
            if plan is not None:
                return self._executemany_binary(plan)
            seq_of_parameters = param_sets
        base = operation.rstrip()
        while base.endswith(";"):
            base = base[:-1].rstrip()
        total = 0
        batch: List[str] = []
        size = 0
        last: Optional[Response] = None
        for params in seq_of_parameters:
            statement = literals.merge_params(base, self.adapters.dump_params(params))
            batch.append(statement)
            size += len(statement) + 3
            if size >= _BATCH_BYTES:
                last, added = self._run_batch(batch)
                total += added
                batch, size = [], 0
        if batch:
            last, added = self._run_batch(batch)
            total += added
        self._load(None)
        self.rowcount = total
        if last is not None and last.results:
            self.lastrowid = last.results[-1].last_insert_id or None
        return self

    def _executemany_binary(self, plan) -> "Cursor":
        """One PARSE, then BIND + EXECUTE per parameter set, in pipelined batches."""
        sql, oids, rows = plan
        total, last = 0, None
        start = 0
        while start < len(rows):
            size, end = 0, start
            while end < len(rows) and (end == start or size < _BATCH_BYTES):
                size += sum(len(v) + 4 for v in rows[end] if v is not None) + 64
                end += 1
            last = self.connection._execute_extended(sql, oids, rows[start:end], None,
                                                     raw_text=self._raw_text, adapters=self.adapters)
            if last.error is not None:
                self._load(last)
                raise last.error
            total += sum(r.rowcount for r in last.results if r.rowcount > 0)
            start = end
        self._load(None)
        self.rowcount = total
        if last is not None and last.results:
            self.lastrowid = last.results[-1].last_insert_id or None
        return self

    def _run_batch(self, statements: List[str]) -> Tuple[Response, int]:
        response = self._run(_STATEMENT_SEPARATOR.join(statements), None)
        if response.error is not None:
            self._load(response)
            raise response.error
        return response, sum(r.rowcount for r in response.results if r.rowcount > 0)

    def _run(self, sql: str, row_limit: Optional[int], row_sink=None) -> Response:
        return self.connection._execute_sql(sql, row_limit, raw_text=self._raw_text,
                                            adapters=self.adapters, row_sink=row_sink)

    def _load(self, response: Optional[Response]) -> None:
        self._response = response
        self._select(0)

    def _select(self, index: int) -> None:
        self._index = index
        results = self._response.results if self._response is not None else []
        result = results[index] if index < len(results) else None
        self._result = result
        self._description = None
        if result is None:
            self._rows, self._pos = [], 0
            self.rowcount, self.lastrowid, self.statusmessage = -1, None, None
            return
        self._rows, self._pos = result.rows, 0
        self._update_status()

    def _update_status(self) -> None:
        result = self._result
        self.rowcount = result.rowcount
        self.lastrowid = result.last_insert_id or None
        self.statusmessage = result.tag

    def _more_coming(self) -> bool:
        """True when the current result is still streaming in."""
        response = self._response
        return (response is not None and not response.done and self._result is not None
                and self._result is response.results[-1] and not self._result.complete)

    def _read_more(self) -> None:
        """Read the next ``itersize`` rows (or the rest) of the streaming response."""
        response = self.connection._read_more(self._response, self.itersize)
        if self._result is not None and self._result.complete:
            self._update_status()
        if response.done and response.error is not None:
            raise response.error

    def _fill(self) -> bool:
        """Make at least one unread row available; False at the end of the result."""
        while self._pos >= len(self._rows):
            if not self._more_coming():
                return False
            self._rows.clear()   # the list is the protocol's: it appends the next rows
            self._pos = 0
            self._read_more()
        return True

    def nextset(self) -> Optional[bool]:
        """Move to the next result set of a multi-statement query."""
        self._check()
        if self._response is None:
            return None
        while self._more_coming():   # drop the rest of the current result
            self._rows.clear()
            self._pos = 0
            self._read_more()
        while self._index + 1 >= len(self._response.results) and not self._response.done:
            self._read_more()
        if self._index + 1 >= len(self._response.results):
            return None
        self._select(self._index + 1)
        return True

    # ------------------------------------------------------------ results

    @property
    def description(self) -> Optional[Tuple[Tuple[Any, ...], ...]]:
        """7-item sequences: name, type_code, display_size, internal_size, precision,
        scale, null_ok. Today's server sends no sizes (REFERENCE 8.1), so those are None."""
        if self._description is None and self._result is not None:
            rd = self._result.description
            if rd is not None:
                if rd.dbapi is None:
                    rd.dbapi = tuple(describe(col) for col in rd.columns)
                self._description = rd.dbapi
        return self._description

    @property
    def columns(self) -> Optional[Tuple[ColumnInfo, ...]]:
        """Everything known about each column: database type name, family and code,
        whether values are binary, nullability, precision, scale, length, datetime
        precision, and the Python type a non-NULL value will have."""
        if self._result is None or self._result.description is None:
            return None
        return tuple(column_info(col, self.adapters.loader_for(col))
                     for col in self._result.description.columns)

    def fetchone(self) -> Optional[tuple]:
        self._check_result()
        if self._pos >= len(self._rows) and not self._fill():
            return None
        row = self._rows[self._pos]
        self._pos += 1
        return row

    def fetchmany(self, size: Optional[int] = None) -> List[tuple]:
        self._check_result()
        n = self.arraysize if size is None else size
        out: List[tuple] = []
        while len(out) < n and (self._pos < len(self._rows) or self._fill()):
            take = self._rows[self._pos:self._pos + n - len(out)]
            self._pos += len(take)
            out += take
        return out

    def fetchall(self) -> List[tuple]:
        self._check_result()
        if self._pos == 0 and not self._more_coming():
            rows = self._rows            # hand the list over without a copy
        else:
            rows = self._rows[self._pos:]
            while self._more_coming():
                self._rows.clear()
                self._read_more()
                rows += self._rows
        self._rows, self._pos = [], 0
        if self._result is not None:
            self._result.rows = self._rows
        return rows

    # ------------------------------------------------------------ columnar (scratchbird.arrow)

    def fetch_arrow(self, *, numeric_as: Optional[str] = None):
        """The remaining rows as a ``pyarrow.Table``. On a ``stream=True`` cursor the rows
        not yet read are decoded straight into Arrow buffers (fast); rows already read as
        tuples are converted (slower). See README, "Columnar fetch"."""
        from scratchbird.arrow import fetch_arrow
        return fetch_arrow(self, numeric_as=numeric_as)

    def fetch_arrow_batches(self, batch_rows: int = 65536, *, numeric_as: Optional[str] = None):
        """A ``pyarrow.RecordBatchReader`` over the remaining rows, ``batch_rows`` at a
        time: memory stays bounded on a ``stream=True`` cursor."""
        from scratchbird.arrow import fetch_arrow_batches
        return fetch_arrow_batches(self, batch_rows, numeric_as=numeric_as)

    def fetch_numpy(self, *, numeric_as: Optional[str] = None):
        """The remaining rows as ``{column name: numpy array}``; a column with NULLs is a
        ``numpy.ma.MaskedArray`` masked where the NULLs are."""
        from scratchbird.arrow import fetch_numpy
        return fetch_numpy(self, numeric_as=numeric_as)

    def fetch_pandas(self, *, numeric_as: Optional[str] = None):
        """The remaining rows as a ``pandas.DataFrame`` (through Arrow)."""
        from scratchbird.arrow import fetch_pandas
        return fetch_pandas(self, numeric_as=numeric_as)

    def fetch_polars(self, *, numeric_as: Optional[str] = None):
        """The remaining rows as a ``polars.DataFrame`` (through Arrow)."""
        from scratchbird.arrow import fetch_polars
        return fetch_polars(self, numeric_as=numeric_as)

    def __arrow_c_stream__(self, requested_schema: Any = None):
        """The Arrow PyCapsule stream interface: ``pyarrow.table(cur)``,
        ``polars.DataFrame(cur)`` and DuckDB read the remaining rows in batches."""
        from scratchbird.arrow import arrow_c_stream
        return arrow_c_stream(self, requested_schema)

    def _check_result(self) -> None:
        self._check()
        if self.description is None:
            raise InterfaceError("the last operation produced no result set to fetch from")
        if not isinstance(self._rows, list):
            raise InterfaceError("this cursor's rows are decoded column by column "
                                 "(conn.arrow_stream): read them with fetch_arrow*()")

    def __iter__(self) -> Iterator[tuple]:
        return self

    def __next__(self) -> tuple:
        row = self.fetchone()
        if row is None:
            raise StopIteration
        return row

    @property
    def rownumber(self) -> Optional[int]:
        return self._pos if self.description is not None else None

    # ------------------------------------------------------------ the rest of PEP 249

    def setinputsizes(self, sizes: Sequence[Any]) -> None:
        """Accepted and ignored: values are rendered from their Python types."""

    def setoutputsize(self, size: int, column: Optional[int] = None) -> None:
        """Accepted and ignored: values arrive whole."""

    def close(self) -> None:
        if self._more_coming() and not self.connection.closed:
            self.connection._drain_stream()
        self.closed = True
        self._response, self._result, self._rows = None, None, []

    def __enter__(self) -> "Cursor":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
