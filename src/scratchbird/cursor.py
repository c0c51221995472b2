"""The DB-API Cursor: executes statements and hands out their results."""
from __future__ import annotations

from types import TracebackType
from typing import (TYPE_CHECKING, Any, Callable, Dict, Iterable, Iterator, List, Optional,
                    Sequence, Tuple, Type)

from scratchbird import _shapes
from scratchbird._binary_params import BinaryPlan, plan_binary
from scratchbird._columns import ColumnInfo, column_info, describe
from scratchbird._impl import literals
from scratchbird._protocol import Response, Result
from scratchbird._statements import Statement, split_statements
from scratchbird._typing import DescriptionItem, Row
from scratchbird.prepared._statement import array_bind_candidate, execute_cached, executemany_array
from scratchbird.adapters import AdaptersMap
from scratchbird.errors import InterfaceError, NotSupportedError, ProgrammingError

if TYPE_CHECKING:
    import pandas
    import polars
    import pyarrow
    from typing_extensions import Self

    from scratchbird.bulk._copy import Copy
    from scratchbird.connection import Connection

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

    Each statement's answer is shaped by ``_shapes``: the server's own report rows (DDL
    catalog row, INSERT/COPY status row) are not result sets but ``server_report``, unless
    ``report_rows=True``; a SELECT that matched nothing is an empty result set.
    """

    def __init__(self, connection: Connection, raw_text: Optional[bool] = None, stream: bool = False,
                 report_rows: Optional[bool] = None) -> None:
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
        self._rows: List[Row] = []   # a columnar sink instead with conn.arrow_stream
        self._pos = 0
        self._description: Optional[Tuple[DescriptionItem, ...]] = None
        self.rowcount = -1
        self.lastrowid: Optional[int] = None
        self.statusmessage: Optional[str] = None
        if report_rows is None:
            report_rows = getattr(connection.params, "report_rows", False)
        self.report_rows = bool(report_rows)
        self._statements: Tuple[Statement, ...] = ()
        self._shape: Optional[_shapes.Shaped] = None
        #: the server's report row of the current statement (a dict of its columns), or None
        self.server_report: Optional[Dict[str, Any]] = None
        self._batch_reports: List[Tuple[_shapes.Shaped, List[Row], List[str]]] = []
        # a columnar sink factory for the next execute (scratchbird.arrow)
        self._row_sink: Optional[Callable[..., Any]] = None
        # a batch read for a stream's schema, not handed out yet
        self._arrow_pending: Optional[List[Any]] = None

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"rowcount={self.rowcount}"
        return f"<scratchbird.Cursor {state}{' stream' if self.stream else ''}>"

    def _check(self) -> None:
        if self.closed:
            raise InterfaceError("the cursor is closed")
        if self.connection.closed:
            raise InterfaceError("the connection is closed")

    # ------------------------------------------------------------ executing

    def execute(self, operation: str, parameters: Any = None, *,
                timeout: Optional[float] = None, prepare: Optional[bool] = None) -> Self:
        """Run ``operation`` with ``parameters`` (named ``:name``, qmark ``?`` or
        numeric ``$1`` placeholders). Raises the server's error, mapped to PEP 249.
        ``timeout``: seconds before the statement is cancelled (QueryCanceledError; see
        ``Connection.cancel``); default the ``statement_timeout`` connect option.
        ``prepare``: True runs it as a prepared statement, False never does, None lets
        the statement cache decide (``prepare_threshold``, see scratchbird.prepared)."""
        self._check()
        self._statements = split_statements(operation)
        row_limit = self.itersize if self.stream else None
        if parameters is None and prepare is None:
            # Nothing to dump, bind or merge, and the statement cache never auto-prepares
            # a statement without parameters (prepared.execute_cached): the text goes as
            # a QUERY. The common case (`SELECT 1`), so it skips the steps below.
            response: Response = self.connection._execute_sql(
                operation, row_limit, raw_text=self._raw_text, adapters=self.adapters,
                timeout=timeout, log_sql=operation, row_sink=self._row_sink)
        else:
            log_params = parameters
            parameters = self.adapters.dump_params(parameters)
            cached = None
            if prepare is not False and self._row_sink is None:   # columnar: unprepared
                cached = execute_cached(self, operation, parameters, prepare, timeout)
            if cached is not None:
                response = cached
            else:
                plan = None
                if parameters is not None and self.connection.binary_values:
                    plan = plan_binary(operation, [parameters])
                if plan is not None:
                    response = self.connection._execute_extended(
                        plan[0], plan[1], plan[2], row_limit, raw_text=self._raw_text,
                        adapters=self.adapters, timeout=timeout, log_params=log_params,
                        row_sink=self._row_sink)
                else:
                    sql = literals.merge_params(operation, parameters)
                    response = self._run(sql, row_limit, timeout=timeout, log_sql=operation,
                                         log_params=log_params, row_sink=self._row_sink)
        self._load(response)
        if response.done and response.error is not None:
            raise response.error
        return self

    def executemany(self, operation: str, seq_of_parameters: Iterable[Any]) -> Self:
        """Run ``operation`` once per parameter set. The statements travel many to a
        QUERY (the server splits them, REFERENCE 4.1), so this costs few round trips."""
        self._check()
        if array_bind_candidate(self, operation):     # REFERENCE 5.8, scratchbird.prepared
            seq_of_parameters = list(seq_of_parameters)
            dumped = [self.adapters.dump_params(p) for p in seq_of_parameters] \
                if self.adapters._dumpers else seq_of_parameters     # no dumpers: as they are
            if executemany_array(self, operation, dumped):
                return self
        if self.connection.binary_values:
            param_sets = [self.adapters.dump_params(p) for p in seq_of_parameters]
            plan = plan_binary(operation, param_sets) if param_sets else None
            if plan is not None:
                return self._executemany_binary(plan)
            seq_of_parameters = param_sets
        base = operation.rstrip()
        while base.endswith(";"):
            base = base[:-1].rstrip()
        self._statements = split_statements(base)
        self._batch_reports = []
        total = 0
        batch: List[str] = []
        size = 0
        last: Optional[Response] = None
        for params in seq_of_parameters:
            statement = literals.merge_params(base, self.adapters.dump_params(params))
            batch.append(statement)
            size += len(statement) + 3
            if size >= _BATCH_BYTES:
                last, added = self._run_batch(batch, operation)
                total += added
                batch, size = [], 0
        if batch:
            last, added = self._run_batch(batch, operation)
            total += added
        self._load(None)
        self.rowcount = total
        self.server_report = _shapes.combined_report(*zip(*self._batch_reports)) \
            if self._batch_reports else None
        if last is not None and last.results:
            self.lastrowid = last.results[-1].last_insert_id or None
        return self

    def _executemany_binary(self, plan: BinaryPlan) -> Self:
        """One PARSE, then BIND + EXECUTE per parameter set, in pipelined batches."""
        sql, oids, rows = plan
        total = 0
        last: Optional[Response] = None
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

    def _run_batch(self, statements: List[str], operation: str = "") -> Tuple[Response, int]:
        response = self._run(_STATEMENT_SEPARATOR.join(statements), None,
                             log_sql=f"{operation} (x{len(statements)})")
        if response.error is not None:
            self._load(response)
            raise response.error
        # each statement's answer by the same rule as execute() (_shapes): a DDL catalog
        # row counts nothing, an INSERT status row its inserted rows
        sent = self._statements * len(statements)
        total = 0
        memory = getattr(self.connection, "_descriptions", None)
        for result, statement in zip(response.results, _shapes.align_statements(
                sent, response.results, True, False)):
            shaped = _shapes.shape_result(result, statement, self.report_rows, memory)
            total += max(shaped.rowcount, 0)
            if shaped.report_shape is not None:
                rd = result.description
                assert rd is not None           # a report has a row description
                self._batch_reports.append((shaped, result.rows, [col.name for col in rd.columns]))
        return response, total

    def _run(self, sql: str, row_limit: Optional[int], **kwargs: Any) -> Response:
        return self.connection._execute_sql(sql, row_limit, raw_text=self._raw_text,
                                            adapters=self.adapters, **kwargs)

    def _load(self, response: Optional[Response]) -> None:
        self._response = response
        self._select(0)

    def _select(self, index: int) -> None:
        self._index = index
        results = self._response.results if self._response is not None else []
        result = results[index] if index < len(results) else None
        self._result = result
        self._description = None
        self._shape, self.server_report = None, None
        if result is None:
            self._rows, self._pos = [], 0
            self.rowcount, self.lastrowid, self.statusmessage = -1, None, None
            return
        self._rows, self._pos = result.rows, 0
        self._update_status()
        self._apply_shape()

    def _apply_shape(self) -> None:
        """Decide what the current result is to the user (``_shapes``)."""
        result = self._result
        assert result is not None and self._response is not None   # _select() has a result
        statements = self._statements
        statement = statements[0] if len(statements) == 1 else self._statement()
        if (not result.complete and result.description is not None and not self.report_rows
                and _shapes.is_report_candidate(statement, result.description)):
            while self._more_coming():      # a report is one row (or a few): read it whole
                response = self.connection._read_more(self._response,
                                                      len(result.rows) + self.itersize)
                if response.done and response.error is not None:
                    raise response.error
            statement = self._statement()
        shaped = _shapes.shape_result(result, statement, self.report_rows,
                                      getattr(self.connection, "_descriptions", None))
        self._shape = shaped
        self.rowcount = shaped.rowcount
        self.server_report = shaped.report
        if not shaped.result_set:
            self._rows, self._pos = [], 0

    def _statement(self) -> Statement:
        """The statement the current result answers (``_shapes.align_statements``)."""
        response = self._response
        assert response is not None         # there is a current result
        if len(self._statements) == 1:      # every result answers it (align_statements)
            return self._statements[0]
        return _shapes.align_statements(self._statements, response.results, response.done,
                                        response.error is not None)[self._index]

    def _update_status(self) -> None:
        result = self._result
        assert result is not None           # callers check there is a current result
        if self._shape is None or self._shape.result_set:
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
        assert self._response is not None   # callers checked _more_coming()
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

    def copy(self, statement: str, *, columns: Optional[Sequence[str]] = None,
             format: str = "auto", batch_rows: int = 50_000,
             progress: Optional[Callable[[int], Any]] = None) -> Copy:
        """COPY FROM STDIN (REFERENCE 7.8): ``with cur.copy("COPY t (a, b) FROM STDIN") as
        copy: copy.write_row((1, "x"))``. Binary SBNR rows when the server offers them,
        else text lines; ``rowcount`` and ``server_report`` are set when the block ends,
        and an exception in the block abandons the whole COPY. See ``bulk.Copy``."""
        from scratchbird.bulk._copy import Copy
        self._check()
        return Copy(self, statement, columns=columns, format=format, batch_rows=batch_rows,
                    progress=progress)

    # ------------------------------------------------------------ results

    @property
    def description(self) -> Optional[Tuple[DescriptionItem, ...]]:
        """7-item sequences: name, type_code, display_size, internal_size, precision,
        scale, null_ok. Today's server sends no sizes (REFERENCE 8.1), so those are None."""
        if self._description is None and self._shape is not None:
            rd = self._shape.description
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
        if self._shape is None or self._shape.description is None:
            return None
        return tuple(column_info(col, self.adapters.loader_for(col))
                     for col in self._shape.description.columns)

    def fetchone(self) -> Optional[Row]:
        self._check_result()
        if self._pos >= len(self._rows) and not self._fill():
            return None
        row = self._rows[self._pos]
        self._pos += 1
        return row

    def fetchmany(self, size: Optional[int] = None) -> List[Row]:
        self._check_result()
        n = self.arraysize if size is None else size
        out: List[Row] = []
        while len(out) < n and (self._pos < len(self._rows) or self._fill()):
            take = self._rows[self._pos:self._pos + n - len(out)]
            self._pos += len(take)
            out += take
        return out

    def fetchall(self) -> List[Row]:
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

    def fetch_arrow(self, *, numeric_as: Optional[str] = None) -> pyarrow.Table:
        """The remaining rows as a ``pyarrow.Table``. On a ``stream=True`` cursor the rows
        not yet read are decoded straight into Arrow buffers (fast); rows already read as
        tuples are converted (slower). See README, "Columnar fetch"."""
        from scratchbird.arrow import fetch_arrow
        return fetch_arrow(self, numeric_as=numeric_as)

    def fetch_arrow_batches(self, batch_rows: int = 65536, *, numeric_as: Optional[str] = None
                            ) -> pyarrow.RecordBatchReader:
        """A ``pyarrow.RecordBatchReader`` over the remaining rows, ``batch_rows`` at a
        time: memory stays bounded on a ``stream=True`` cursor."""
        from scratchbird.arrow import fetch_arrow_batches
        return fetch_arrow_batches(self, batch_rows, numeric_as=numeric_as)

    def fetch_numpy(self, *, numeric_as: Optional[str] = None) -> Dict[str, Any]:
        """The remaining rows as ``{column name: numpy array}``; a column with NULLs is a
        ``numpy.ma.MaskedArray`` masked where the NULLs are."""
        from scratchbird.arrow import fetch_numpy
        return fetch_numpy(self, numeric_as=numeric_as)

    def fetch_pandas(self, *, numeric_as: Optional[str] = None) -> pandas.DataFrame:
        """The remaining rows as a ``pandas.DataFrame`` (through Arrow)."""
        from scratchbird.arrow import fetch_pandas
        return fetch_pandas(self, numeric_as=numeric_as)

    def fetch_polars(self, *, numeric_as: Optional[str] = None) -> polars.DataFrame:
        """The remaining rows as a ``polars.DataFrame`` (through Arrow)."""
        from scratchbird.arrow import fetch_polars
        return fetch_polars(self, numeric_as=numeric_as)

    def __arrow_c_stream__(self, requested_schema: Any = None) -> object:
        """The Arrow PyCapsule stream interface: ``pyarrow.table(cur)``,
        ``polars.DataFrame(cur)`` and DuckDB read the remaining rows in batches."""
        from scratchbird.arrow import arrow_c_stream
        return arrow_c_stream(self, requested_schema)

    def _check_result(self) -> None:
        self._check()
        if self._shape is None or not self._shape.result_set:
            raise ProgrammingError("no results to fetch: the last statement returned no "
                                   "result set")
        rows: object = self._rows       # a columnar sink replaces the list (scratchbird.arrow)
        if not isinstance(rows, list):
            raise InterfaceError("this cursor's rows are decoded column by column "
                                 "(conn.arrow_stream): read them with fetch_arrow*()")

    def __iter__(self) -> Self:
        return self

    def __next__(self) -> Row:
        row = self.fetchone()
        if row is None:
            raise StopIteration
        return row

    @property
    def rownumber(self) -> Optional[int]:
        return self._pos if self._shape is not None and self._shape.result_set else None

    # ------------------------------------------------------------ the rest of PEP 249

    def callproc(self, procname: str, parameters: Any = None) -> Any:
        """SBWP has no procedure call (REFERENCE appendix A): use ``execute``."""
        raise NotSupportedError("callproc() is not supported: SBWP has no procedure call; "
                                "run the statement with execute()")

    def setinputsizes(self, sizes: Sequence[Any]) -> None:
        """Accepted and ignored: values are rendered from their Python types."""

    def setoutputsize(self, size: int, column: Optional[int] = None) -> None:
        """Accepted and ignored: values arrive whole."""

    def close(self) -> None:
        if self._more_coming() and not self.connection.closed:
            self.connection._drain_stream()
        self.closed = True
        self._response, self._result, self._rows = None, None, []

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException],
                 tb: Optional[TracebackType]) -> None:
        self.close()
