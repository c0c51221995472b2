"""``Connection.prepare()``: explicit, long-lived prepared statements, and the glue the
cursor calls to run a statement the prepared way."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Iterable, List, Optional, Sequence, Tuple, cast

from scratchbird._protocol import ClientProtocol, Response, Result
from scratchbird.errors import InterfaceError, ProgrammingError
from scratchbird.prepared import _runner
from scratchbird.prepared._cache import ServerStatement, StatementCache
from scratchbird.prepared._plan import StatementPlan

if TYPE_CHECKING:
    from scratchbird.connection import Connection
    from scratchbird.cursor import Cursor

__all__ = ["PreparedStatement", "execute_cached", "array_bind_candidate", "executemany_array"]


class PreparedStatement:
    """A statement prepared on the server (PARSE, REFERENCE 5.1), run many times.

    ``conn.prepare(sql, name=None)`` makes one. ``name`` gives it a fixed server name (a
    long-lived named statement); without one the driver picks a name. ``parameters``
    holds the parameter types the server described (REFERENCE 5.3: OIDs; 0 when the server
    infers them); its length is the parameter count. Placeholders are ``?``, ``$n`` or
    ``:name``, as for ``cursor.execute``.

    If the server drops the statement (it evicts silently beyond 256 statements), the next
    ``execute`` prepares it again and retries once, transparently.
    """

    def __init__(self, connection: Connection, sql: str, name: Optional[str] = None) -> None:
        cache: StatementCache = connection.statement_cache
        plan = StatementPlan(sql)
        if not plan.preparable:
            raise ProgrammingError(
                "only one statement can be prepared, with one placeholder style "
                "(?, $n or :name); this SQL has several statements or mixed styles")
        if name is not None and (not isinstance(name, str) or not name or "\x00" in name):
            raise ProgrammingError("a prepared statement name must be a non-empty str without NUL")
        self.connection = connection
        self.sql = sql
        self.name = name if name is not None else cache.new_name()
        self._cache = cache
        self._statement = ServerStatement(self.name, plan)
        self.closed = False
        with connection._lock:
            cache.live[self.name] = self._statement
            response = _runner.describe_statement(connection, cache, self._statement)
        if response.error is not None:
            cache.live.pop(self.name, None)
            raise response.error
        self.parameters: Tuple[int, ...] = tuple(response.parameter_types or ())

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"{len(self.parameters)} parameters"
        return f"<scratchbird.PreparedStatement {self.name!r} {state}>"

    def _check(self) -> None:
        if self.closed:
            raise InterfaceError("the prepared statement is closed")
        if self.connection.closed:
            raise InterfaceError("the connection is closed")

    def execute(self, parameters: Any = None, *, cursor: Optional[Cursor] = None) -> Cursor:
        """BIND + EXECUTE (+ PARSE when the server lost it); returns the cursor holding
        the result. A value that cannot be bound (an ``SqlLiteral``, a tuple for an IN
        list) runs this SQL with rendered literals instead."""
        self._check()
        cur = cursor if cursor is not None else self.connection.cursor()
        cur._check()
        params = cur.adapters.dump_params(parameters)
        encoded = _runner.encode_values(self.connection, self._statement.plan, params)
        if encoded is None:
            return cur.execute(self.sql, parameters, prepare=False)
        with self.connection._lock:
            self._cache.live.setdefault(self.name, self._statement)
            response = _runner.run_statement(
                self.connection, self._cache, self._statement, encoded,
                row_limit=cur.itersize if cur.stream else None, raw_text=cur._raw_text,
                adapters=cur.adapters)
        return _deliver(cur, response)

    def executemany(self, seq_of_parameters: Iterable[Any], *,
                    cursor: Optional[Cursor] = None) -> Cursor:
        """Run once per parameter set: by array bind for a rowset INSERT when the server
        granted it (REFERENCE 5.8), else BIND + EXECUTE per set, pipelined."""
        self._check()
        cur = cursor if cursor is not None else self.connection.cursor()
        cur._check()
        param_sets = [cur.adapters.dump_params(p) for p in seq_of_parameters] \
            if cur.adapters._dumpers else list(seq_of_parameters)
        with self.connection._lock:
            self._cache.live.setdefault(self.name, self._statement)
            done = _run_many(self.connection, self._cache, self._statement, param_sets, cur)
        if done is None:
            return cur.executemany(self.sql, param_sets)
        return cur

    def close(self) -> None:
        """CLOSE 'S' (REFERENCE 5.5). Closing twice, or after the connection, is a no-op."""
        if self.closed:
            return
        self.closed = True
        if not self.connection.closed:
            with self.connection._lock:
                _runner.close_statement(self.connection, self._cache, self._statement)

    def __enter__(self) -> "PreparedStatement":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _deliver(cur: Cursor, response: Response) -> Cursor:
    cur._load(response)
    if response.done and response.error is not None:
        raise response.error
    return cur


def _finish_many(cur: Cursor, total: int, last: Optional[Response], sql: str = "",
                 results: Sequence[Result] = ()) -> None:
    if last is not None and last.error is not None:
        cur._load(last)
        raise last.error
    cur._load(None)
    cur.rowcount = total
    cur.server_report = _many_report(cur, sql, results)
    if last is not None and last.results:
        cur.lastrowid = last.results[-1].last_insert_id or None


def _many_report(cur: Cursor, sql: str, results: Sequence[Result]) -> Optional[Dict[str, Any]]:
    """The server's report rows of every EXECUTE (INSERT status rows, REFERENCE 12.A.3),
    combined as the batched executemany combines them (docs/protocol.md 5.2)."""
    if not sql or not results:
        return None
    from scratchbird import _shapes
    from scratchbird._statements import split_statements
    statement = split_statements(sql)[0]
    shaped, rows_of, names_of = [], [], []
    for result in results:
        if result.description is None:
            continue
        one = _shapes.shape_result(result, statement, cur.report_rows, None)
        if one.report_shape is not None:
            shaped.append(one)
            rows_of.append(result.rows)
            names_of.append([col.name for col in result.description.columns])
    return _shapes.combined_report(shaped, rows_of, names_of) if shaped else None


def _run_many(conn: Connection, cache: StatementCache, stmt: ServerStatement,
              param_sets: Sequence[Any], cur: Cursor) -> Optional[bool]:
    """executemany on ``stmt``: True when done, None when a value needs the literal path."""
    if not param_sets:
        _finish_many(cur, 0, None)
        return True
    plan = stmt.plan
    if _runner.array_bind_allowed(conn) and _runner.is_rowset_insert(plan):
        exact = cast(ClientProtocol, conn._proto).binary_values
        packed = plan.array_packets(param_sets, exact, _runner.PACKET_BYTES)
        if packed is not None:
            results: List[Result] = []
            total, last = _runner.run_array_bind(conn, cache, stmt, packed,
                                                 raw_text=cur._raw_text,
                                                 adapters=cur.adapters, collect=results)
            _finish_many(cur, total, last, plan.sql, results)
            return True
    encoded = [_runner.encode_values(conn, plan, p) for p in param_sets]
    if any(e is None for e in encoded):
        return None
    results = []
    total, last = _runner.run_many(conn, cache, stmt, cast(List[_runner.Encoded], encoded),
                                   raw_text=cur._raw_text,
                                   adapters=cur.adapters, collect=results)
    _finish_many(cur, total, last, plan.sql, results)
    return True


def execute_cached(cur: Cursor, sql: str, params: Any, prepare: Optional[bool],
                   timeout: Optional[float] = None) -> Optional[Response]:
    """``cursor.execute`` through the statement cache: the Response when the statement
    ran prepared, None when it goes the QUERY way (not due yet, not preparable, or a
    value that needs literals). ``params`` are already dumped by the cursor's adapters."""
    conn = cur.connection
    cache: StatementCache = conn.statement_cache
    if prepare is None and (params is None or cache.prepare_threshold is None or not cache.size):
        return None                 # statements without parameters are not auto-prepared
    with conn._lock:
        plan, entry = cache.plan(sql)
        if not plan.preparable or (params is None and plan.param_count) \
                or not cache.wants_prepare(entry, prepare):
            return None
        encoded = _runner.encode_values(conn, plan, params)
        if encoded is None:
            return None
        if entry is None:           # prepare=True with the cache off: a one-off statement
            stmt = ServerStatement(cache.new_name(), plan)
            cache.live[stmt.name] = stmt
        else:
            if entry.statement is not None and entry.statement.oids is not None:
                cache.hits += 1
            else:
                cache.misses += 1
            stmt = cache.statement_for(entry)
        response = _runner.run_statement(conn, cache, stmt, encoded,
                                         row_limit=cur.itersize if cur.stream else None,
                                         raw_text=cur._raw_text, adapters=cur.adapters,
                                         timeout=timeout)
        if entry is None:
            cache.forget(stmt)
    return response


def array_bind_candidate(cur: Cursor, sql: str) -> bool:
    """Whether ``cursor.executemany(sql, ...)`` may go by array bind: feature 16 granted
    and ``sql`` a prepared rowset INSERT (REFERENCE 5.1, 5.8)."""
    conn = cur.connection
    if not _runner.array_bind_allowed(conn):
        return False
    entry = conn.statement_cache._entries.get(sql)
    plan = entry.plan if entry is not None else StatementPlan(sql)
    return _runner.is_rowset_insert(plan)


def executemany_array(cur: Cursor, sql: str, param_sets: Sequence[Any]) -> bool:
    """``cursor.executemany`` by array bind (check ``array_bind_candidate`` first);
    False when a value needs the literal path: then the batched path runs instead."""
    conn = cur.connection
    if not param_sets:
        return False
    cache: StatementCache = conn.statement_cache
    with conn._lock:
        plan, entry = cache.plan(sql)
        # Binary sessions keep their exact binary path for types whose text is lossy.
        exact = cast(ClientProtocol, conn._proto).binary_values
        packed = plan.array_packets(param_sets, exact, _runner.PACKET_BYTES)
        if packed is None:
            return False
        if entry is None:
            stmt = ServerStatement(cache.new_name(), plan)
            cache.live[stmt.name] = stmt
        else:
            stmt = cache.statement_for(entry)
        results: List[Result] = []
        total, last = _runner.run_array_bind(conn, cache, stmt, packed, raw_text=cur._raw_text,
                                             adapters=cur.adapters, collect=results)
        if entry is None:
            cache.forget(stmt)
    _finish_many(cur, total, last, sql, results)
    return True
