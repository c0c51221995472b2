"""The DB-API Cursor: executes statements and hands out their results."""
from __future__ import annotations

from typing import Any, Iterable, Iterator, List, Optional, Sequence, Tuple

from scratchbird._impl import literals
from scratchbird._protocol import Response, Result
from scratchbird.errors import InterfaceError

__all__ = ["Cursor"]

# executemany packs many statements into one QUERY, well under the 64 MiB frame limit.
_BATCH_BYTES = 4 << 20
_STATEMENT_SEPARATOR = "\n;\n"   # the newline ends a trailing -- comment first


class Cursor:
    """PEP 249 cursor. Results are read whole at ``execute()``; several result sets
    (a multi-statement query) are walked with ``nextset()``."""

    def __init__(self, connection, raw_text: Optional[bool] = None) -> None:
        self.connection = connection
        self.arraysize = 1
        self.closed = False
        self._raw_text = raw_text
        self._results: List[Result] = []
        self._index = 0
        self._rows: list = []
        self._pos = 0
        self._description = None
        self.rowcount = -1
        self.lastrowid: Optional[int] = None
        self.statusmessage: Optional[str] = None

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"rowcount={self.rowcount}"
        return f"<scratchbird.Cursor {state}>"

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
        sql = literals.merge_params(operation, parameters)
        response = self._run(sql)
        self._load(response)
        if response.error is not None:
            raise response.error
        return self

    def executemany(self, operation: str, seq_of_parameters: Iterable[Any]) -> "Cursor":
        """Run ``operation`` once per parameter set. The statements travel many to a
        QUERY (the server splits them, REFERENCE 4.1), so this costs few round trips."""
        self._check()
        base = operation.rstrip()
        while base.endswith(";"):
            base = base[:-1].rstrip()
        total = 0
        batch: List[str] = []
        size = 0
        last: Optional[Response] = None
        for params in seq_of_parameters:
            statement = literals.merge_params(base, params)
            batch.append(statement)
            size += len(statement) + 3
            if size >= _BATCH_BYTES:
                last, added = self._run_batch(batch)
                total += added
                batch, size = [], 0
        if batch:
            last, added = self._run_batch(batch)
            total += added
        self._results, self._rows, self._pos, self._description = [], [], 0, None
        self.rowcount = total
        if last is not None and last.results:
            self.lastrowid = last.results[-1].last_insert_id or None
        return self

    def _run_batch(self, statements: List[str]) -> Tuple[Response, int]:
        response = self._run(_STATEMENT_SEPARATOR.join(statements))
        if response.error is not None:
            self._load(response)
            raise response.error
        return response, sum(r.rowcount for r in response.results if r.rowcount > 0)

    def _run(self, sql: str) -> Response:
        conn = self.connection
        if self._raw_text is None:
            return conn._execute_sql(sql)
        proto = conn._check_open()
        saved = proto.raw_text
        proto.raw_text = self._raw_text
        try:
            return conn._execute_sql(sql)
        finally:
            proto.raw_text = saved

    def _load(self, response: Response) -> None:
        self._results = response.results
        self._index = 0
        self._select(0)

    def _select(self, index: int) -> None:
        self._index = index
        result = self._results[index] if index < len(self._results) else None
        self._description = None
        if result is None:
            self._rows, self._pos = [], 0
            self.rowcount, self.lastrowid, self.statusmessage = -1, None, None
            return
        self._rows, self._pos = result.rows, 0
        self.rowcount = result.rowcount
        self.lastrowid = result.last_insert_id or None
        self.statusmessage = result.tag
        self._result = result

    def nextset(self) -> Optional[bool]:
        """Move to the next result set of a multi-statement query."""
        self._check()
        if self._index + 1 >= len(self._results):
            return None
        self._select(self._index + 1)
        return True

    # ------------------------------------------------------------ results

    @property
    def description(self) -> Optional[Tuple[Tuple[Any, ...], ...]]:
        """7-item sequences: name, type_code, display_size, internal_size, precision,
        scale, null_ok. Today's server sends no sizes (REFERENCE 8.1), so those are None."""
        if self._description is None and self._results and self._index < len(self._results):
            rd = self._results[self._index].description
            if rd is not None:
                self._description = tuple(_describe(col) for col in rd.columns)
        return self._description

    def fetchone(self) -> Optional[tuple]:
        self._check_result()
        if self._pos >= len(self._rows):
            return None
        row = self._rows[self._pos]
        self._pos += 1
        return row

    def fetchmany(self, size: Optional[int] = None) -> List[tuple]:
        self._check_result()
        n = self.arraysize if size is None else size
        rows = self._rows[self._pos:self._pos + n]
        self._pos += len(rows)
        return rows

    def fetchall(self) -> List[tuple]:
        self._check_result()
        if self._pos == 0:
            rows, self._rows = self._rows, []   # hand the list over without a copy
        else:
            rows = self._rows[self._pos:]
            self._rows = []
        self._pos = 0
        return rows

    def _check_result(self) -> None:
        self._check()
        if self.description is None:
            raise InterfaceError("the last operation produced no result set to fetch from")

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
        self.closed = True
        self._results, self._rows = [], []

    def __enter__(self) -> "Cursor":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _describe(col) -> Tuple[Any, ...]:
    ref = col.typeref
    precision = scale = None
    internal = col.type_size if col.type_size is not None and col.type_size >= 0 else None
    if ref is not None and ref.modifier_bitmap:
        precision = ref.precision if ref.modifier_bitmap & 1 else None
        scale = ref.scale if ref.modifier_bitmap & 2 else None
    null_ok = {0: False, 1: True}.get(col.nullable)
    return (col.name, col.type_oid, None, internal, precision, scale, null_ok)
