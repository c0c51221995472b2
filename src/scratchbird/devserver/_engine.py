"""The dev server's SQL engine: DuckDB behind the result shapes of a real ScratchBird server.

I/O free: the protocol side (``_session.py``) feeds SQL text in and turns the
:class:`StatementResult` objects that come out into ROW_DESCRIPTION / DATA_ROW /
COMMAND_COMPLETE frames.  What is emulated (REFERENCE sections 4, 6, 8 and 12):

* every value is UTF-8 text rendered by DuckDB (see :mod:`._results`), NULL in the form the real
  server uses for its origin (``<NULL>`` from a table, ``NULL`` for a bare literal, else empty);
* type codes are inferred from the first row's text (REFERENCE 8.2);
* result shapes and tags: ``SELECT n`` (no rows -> no ROW_DESCRIPTION), INSERT status rows,
  DDL catalog rows tagged ``SELECT 1``, ``EMPTY`` for empty SQL; with ``spec_shapes`` set on
  the session (the ``full`` profile) the design spec's shapes instead: a 0-row SELECT is
  described, DDL answers ``CREATE TABLE`` etc., DML ``INSERT 0 n`` / ``UPDATE n`` /
  ``DELETE n``, and there are no catalog or status rows;
* the session is always inside a transaction whose id comes from one engine-wide counter;
  a failing statement does not end the transaction (DuckDB's aborted transaction is rolled back
  and the session's writes are replayed); BEGIN is a no-op;
* committed work of other sessions becomes visible to a session whose transaction has not
  written anything yet (read-committed-like, 12.B.4), by renewing its DuckDB snapshot;
* transaction characteristics by SQL (12.D, ``_txn_sql``): ``SET TRANSACTION ISOLATION LEVEL
  {READ COMMITTED | SERIALIZABLE}`` / ``{READ ONLY | READ WRITE}`` answer with a report row and
  hold for the session's later transactions (``session_defaults``).

DuckDB has one isolation level, snapshot isolation, and no savepoints. What a session gets
depends on ``spec_semantics`` (set by the profile):

* ``sbsql`` (False), as today's server: savepoints are accepted and undo nothing (ROLLBACK TO
  an unknown name is the engine's refusal, 12.A.8); read-only is accepted, reported and not
  enforced (12.D); both isolation levels read committed work of others as above;
* ``full`` (True), as the design spec: ROLLBACK TO undoes for real, with the same replay that
  errors use (``_recover``): DuckDB's transaction is rolled back and the writes logged before
  the savepoint are replayed; READ ONLY refuses writes (25006); SERIALIZABLE keeps one DuckDB
  snapshot for the whole transaction (snapshot isolation: DuckDB's strongest, reported as
  ``serializable`` because that is the level asked for and the nearest DuckDB has);
  ``interrupt()`` (a CANCEL, ``_watch``) stops the running statement with ERROR 57014.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import weakref
from typing import Any, Callable, Iterator, List, Optional, Tuple, Union, cast

import duckdb

from . import _sqltext as sqltext
from . import _txn_sql
from ._results import (
    NULL_EXPRESSION,
    NULL_FROM_TABLE,
    NULL_LITERAL,
    OID_TEXT,
    catalog_row,
    infer_type_oids,
    null_constant_expr,
    render_expr,
    status_row,
    uuid7,
)

__all__ = ["Engine", "EngineSession", "StatementResult", "EngineError", "BATCH_ROWS"]

#: rows per batch handed to the protocol side
BATCH_ROWS = 4096
#: first txn id handed out by an engine
FIRST_TXN_ID = 100

# DuckDB statement types whose effects must be replayed after an error (transactional writes).
_WRITE_TYPES = frozenset(
    {"INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "ALTER", "COPY", "MERGE_INTO", "EXECUTE",
     "CREATE_FUNC", "MULTI", "COPY_DATABASE"}
)
# Statement types that autocommit leaves alone ("commit a non-SELECT statement").
_QUERY_TYPES = frozenset({"SELECT", "EXPLAIN"})
_DML_TYPES = frozenset({"INSERT", "UPDATE", "DELETE", "MERGE_INTO"})
_DDL_TYPES = frozenset({"CREATE", "DROP", "ALTER", "CREATE_FUNC"})
# First words whose DuckDB statement type is known without asking DuckDB's parser.
_FAST_TYPES = {"SELECT": "SELECT", "VALUES": "SELECT", "INSERT": "INSERT", "DELETE": "DELETE",
               "CREATE": "CREATE", "DROP": "DROP", "ALTER": "ALTER"}
_CONSTANT_SELECT_VERBS = frozenset({"SELECT", "WITH"})

# Diagnostic codes (the real server's D field).
CODE_DUPLICATE = "CATALOG.OBJECT.DUPLICATE_NAME"
CODE_NOT_FOUND = "SBSQL.NAME_RESOLUTION.NOT_FOUND_OR_NOT_VISIBLE"
CODE_PARSER = "SBSQL.PARSER.STATEMENT_FAMILY_UNKNOWN"
CODE_UNIQUE = "SB-BULK-CONSTRAINT-UNIQUE-PERSISTED-CONFLICT"
CODE_NOT_NULL = "SB-BULK-CONSTRAINT-NOT-NULL"
CODE_FOREIGN_KEY = "SB-BULK-CONSTRAINT-FOREIGN-KEY"
CODE_CHECK = "SB-BULK-CONSTRAINT-CHECK"
CODE_OVERFLOW = "SBLR.NUMERIC_OVERFLOW"
CODE_DIVIDE_BY_ZERO = "SBLR.DIVIDE_BY_ZERO"
CODE_INVALID_REQUEST = "SB_ENGINE_API_INVALID_REQUEST"
CODE_WRITE_CONFLICT = "SB-TXN-WRITE-CONFLICT"
CODE_REJECTED = "SBSQL.EXECUTION.REJECTED"


class EngineError(Exception):
    """A statement or transaction operation failed; becomes an ERROR frame (S, C, M, D)."""

    def __init__(self, message: str, code: str, sqlstate: str = "42000"):
        super().__init__(message)
        self.message = message
        self.code = code
        self.sqlstate = sqlstate

    def __repr__(self) -> str:
        return f"EngineError({self.message!r}, code={self.code!r}, sqlstate={self.sqlstate!r})"


_ERROR_PREFIX_RE = re.compile(r"^[A-Za-z][A-Za-z ]*? Error: ")
_UNKNOWN_NAME_HINTS = ("not found", "does not exist", "does not have", "could not find", "unknown")


def _error_message(exc: BaseException) -> str:
    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    return _ERROR_PREFIX_RE.sub("", first, count=1).strip() or first


def map_error(exc: BaseException) -> EngineError:
    """Translate a DuckDB exception into the EngineError the real server would send."""
    if isinstance(exc, duckdb.InterruptException):      # interrupt(): a CANCEL (7.2)
        return EngineError("canceling statement due to user request",
                           "EXECUTION.QUERY_CANCELLED", "57014")
    message = _error_message(exc)
    low = message.lower()
    if "division by zero" in low:
        code = CODE_DIVIDE_BY_ZERO
    elif isinstance(exc, duckdb.CatalogException):
        code = CODE_DUPLICATE if "already exists" in low else CODE_NOT_FOUND
    elif isinstance(exc, duckdb.BinderException):
        code = CODE_NOT_FOUND if any(h in low for h in _UNKNOWN_NAME_HINTS) else CODE_REJECTED
    elif isinstance(exc, (duckdb.ParserException, duckdb.SyntaxException)):
        code = CODE_PARSER
    elif isinstance(exc, duckdb.ConstraintException):
        if "not null" in low:
            code = CODE_NOT_NULL
        elif "foreign key" in low:
            code = CODE_FOREIGN_KEY
        elif "check constraint" in low:
            code = CODE_CHECK
        elif "primary key" in low or "unique" in low or "duplicate key" in low:
            code = CODE_UNIQUE
        else:
            code = CODE_REJECTED
    elif isinstance(exc, duckdb.OutOfRangeException):
        code = CODE_OVERFLOW
    elif isinstance(exc, (duckdb.ConversionException, duckdb.InvalidInputException)):
        code = CODE_INVALID_REQUEST
    elif isinstance(exc, duckdb.TransactionException):
        code = CODE_WRITE_CONFLICT
    else:
        code = CODE_REJECTED
    return EngineError(message, code)


class StatementResult:
    """One statement's result.  ``columns``/``type_oids``/``has_rows`` are final on creation;
    ``tag``/``rows`` are final once :meth:`batches` is exhausted (they are already final for
    results without rows and for synthetic rows)."""

    __slots__ = ("columns", "type_oids", "has_rows", "tag", "rows", "_pending", "_fetch", "_count_rows",
                 "describe_empty")

    def __init__(self, tag: str, rows: int, columns: Optional[List[str]] = None,
                 pending: Optional[List[list]] = None,
                 fetch: Optional[Callable[[], Optional[list]]] = None, count_rows: bool = False,
                 describe_empty: bool = False):
        self._pending = [b for b in (pending or ()) if b]
        self.has_rows = bool(self._pending)
        # send a ROW_DESCRIPTION even without rows (full profile: the spec's 0-row shape)
        self.describe_empty = describe_empty and not self.has_rows
        if self.has_rows:
            self.columns = list(columns or ())
            self.type_oids = infer_type_oids(self._pending[0][0])
        elif self.describe_empty:
            self.columns = list(columns or ())
            self.type_oids = [OID_TEXT] * len(self.columns)   # no first row to infer from (8.2)
            fetch = None
        else:
            self.columns, self.type_oids = [], []
            fetch = None
        self.tag = tag
        self.rows = rows
        self._fetch = fetch
        self._count_rows = count_rows

    def batches(self) -> Iterator[List[tuple]]:
        """The rows, in batches of at most BATCH_ROWS tuples of bytes.  May raise EngineError
        when a streamed query fails part-way (the session's transaction survives)."""
        pending, self._pending = self._pending, []
        fetch, self._fetch = self._fetch, None
        count = 0
        batch: Optional[list]
        try:
            for batch in pending:
                count += len(batch)
                yield batch
            if fetch is not None:
                while True:
                    batch = fetch()
                    if not batch:
                        break
                    count += len(batch)
                    yield batch
        finally:
            if self._count_rows and (pending or fetch is not None):
                self.rows = count
                self.tag = f"SELECT {count}"

    def __repr__(self) -> str:
        return (f"StatementResult(tag={self.tag!r}, rows={self.rows}, columns={self.columns!r}, "
                f"type_oids={self.type_oids!r}, has_rows={self.has_rows})")


def _count_of(row: Optional[tuple]) -> int:
    """The affected-row count of a DuckDB "Count" result row (0 when there is none)."""
    try:
        return int(row[0]) if row else 0
    except (TypeError, ValueError, IndexError):
        return 0


def _no_rows(tag: str, rows: int = 0) -> StatementResult:
    return StatementResult(tag, rows)


def _fixed_rows(columns: List[str], rows: List[tuple], tag: Optional[str] = None,
                count: Optional[int] = None) -> StatementResult:
    if not rows:
        return _no_rows("SELECT 0", 0)
    chunks = [rows[i:i + BATCH_ROWS] for i in range(0, len(rows), BATCH_ROWS)]
    count = len(rows) if count is None else count
    return StatementResult(tag or f"SELECT {count}", count, columns, chunks)


class Engine:
    """One DuckDB database shared by all sessions of a dev server."""

    def __init__(self, database: str = ":memory:"):
        self._db = duckdb.connect(database)
        self._lock = threading.RLock()
        self._txn_ids = itertools.count(FIRST_TXN_ID)
        self._commit_seq = 0                     # bumped by every successful COMMIT
        self._objects: dict = {}                 # (kind, schema, name) -> object uuid
        self._sessions: "weakref.WeakSet[EngineSession]" = weakref.WeakSet()
        self._closed = False

    def _next_txn_id(self) -> int:
        return next(self._txn_ids)

    @property
    def commit_seq(self) -> int:
        """Bumped by every successful COMMIT: what the result cache checks its entries by."""
        return self._commit_seq

    def open_session(self, user: Optional[str] = None) -> "EngineSession":
        if self._closed:
            raise EngineError("engine is closed", CODE_REJECTED)
        session = EngineSession(self, user)
        self._sessions.add(session)
        return session

    def close(self) -> None:
        if self._closed:
            return
        for session in list(self._sessions):
            session.close()
        with self._lock:
            self._closed = True
            self._db.close()

    def _catalog_ids(self, action: str, kind: str, schema: str, name: str) -> Tuple[str, str]:
        """(object uuid, schema uuid) for a DDL catalog row; DROP reports the uuid of CREATE."""
        schema_key = ("schema", "", (schema or "main").lower())
        key = (kind, "" if kind == "schema" else schema_key[2], name.lower())
        with self._lock:
            if action == "CREATE":
                object_uuid = self._objects[key] = uuid7()
            elif action == "DROP":
                object_uuid = self._objects.pop(key, None) or uuid7()
            else:
                object_uuid = self._objects.setdefault(key, uuid7())
            schema_uuid = self._objects.setdefault(schema_key, uuid7())
        return object_uuid, schema_uuid


class EngineSession:
    """One client session: its own DuckDB connection, always inside a transaction."""

    def __init__(self, engine: Engine, user: Optional[str] = None):
        self._engine = engine
        self._lock = engine._lock
        self.user = user or "sysdba"
        # writing statements of the current transaction (with their parameters when bound)
        self._log: List[Union[str, Tuple[str, list]]] = []
        self._savepoints: List[str] = []
        self._savepoint_marks: List[int] = []   # len(self._log) at each savepoint
        self.spec_semantics = False        # the full profile's transactions (module doc)
        self.isolation = "read_committed"  # session defaults set by SET TRANSACTION (12.D)
        self.access_read_only = False
        self.interrupted = False           # interrupt() was called during this request
        self._gen = 0                      # bumped whenever a pending stream becomes invalid
        self._closed = False
        self._native: Any = None           # execute_script(native=...): binary results
        self._params: Optional[list] = None  # execute_script(params=...): bound parameters
        self.spec_shapes = False           # the design spec's result shapes (full profile)
        with self._lock:
            con = engine._db.cursor()
            con.execute("SET TimeZone = 'UTC'")
            # Integer "/" like the real server (7/2 -> 3, 1/0 and 1.5/0 -> SBLR.DIVIDE_BY_ZERO).
            con.execute("SET integer_division = true")
            try:
                con.execute("SET python_enable_replacements = false")
            except duckdb.Error:  # pragma: no cover - older/newer DuckDB without the setting
                pass
            con.execute("BEGIN TRANSACTION")
            self._con = con
            self._snap_seq = engine._commit_seq
            self.txn_id = engine._next_txn_id()

    @property
    def read_only(self) -> bool:
        """The open transaction has written nothing, so each statement sees the latest commit."""
        return not self._log

    # -- transaction control (frames and SQL) ----------------------------------------------------

    def begin(self) -> None:
        """TXN_BEGIN / SQL BEGIN: the session is always in a transaction; nothing changes."""
        self._check_open()

    def commit(self) -> None:
        """Commit; a new transaction (new txn id) starts whether or not the commit worked."""
        self._check_open()
        self._gen += 1
        with self._lock:
            try:
                self._con.execute("COMMIT")
            except duckdb.Error as exc:
                err = map_error(exc)
                self._rollback_quietly()
                self._new_transaction()
                raise err from None
            self._engine._commit_seq += 1
            self._new_transaction()

    def rollback(self) -> None:
        """Roll back; a new transaction with a new txn id starts."""
        self._check_open()
        self._gen += 1
        with self._lock:
            self._rollback_quietly()
            self._new_transaction()

    def interrupt(self) -> None:
        """Stop the running statement (from another thread): it fails with 57014. The
        flag also stops the request's next statement or fetch, so an interrupt that lands
        between two DuckDB calls (where DuckDB ignores it) is not lost. The session clears
        it when the request ends (``clear_interrupt``)."""
        self.interrupted = True
        if not self._closed:
            try:
                self._con.interrupt()
            except duckdb.Error:  # pragma: no cover - a closed connection
                pass

    def clear_interrupt(self) -> None:
        self.interrupted = False

    def _check_interrupt(self) -> None:
        if self.interrupted:
            raise map_error(duckdb.InterruptException("interrupted"))

    def close(self) -> None:
        """Disconnect: roll back (which uses up a txn id, like the real server) and release."""
        if self._closed:
            return
        self._gen += 1
        self._closed = True
        with self._lock:
            if not self._engine._closed:
                self._rollback_quietly()
                try:
                    self._con.close()
                except duckdb.Error:  # pragma: no cover
                    pass
            self._engine._next_txn_id()

    # -- statements ----------------------------------------------------------------------------

    def execute_script(self, sql: str, autocommit: bool = False, params: Optional[list] = None,
                       native=None) -> Iterator[StatementResult]:
        """Run the statements of ``sql`` in order, one result each (lazily, see module doc).

        The ``full`` profile's extensions: ``params`` are bound as DuckDB prepared-statement
        parameters (binary BIND values); ``native`` (``_native.NATIVE``) makes row-returning
        statements answer with DuckDB's own values for binary results, not text."""
        self._check_open()
        self._native, self._params = native, params
        texts = sqltext.split_statements(sql or "")
        if not texts:
            yield _no_rows("EMPTY", 0)
            return
        for text in texts:
            self._gen += 1                 # the previous result's stream ends here
            characteristics = _txn_sql.parse(text)
            if characteristics is not None:
                yield self._characteristics(characteristics)
                continue
            info = sqltext.classify(text)
            if info.kind != sqltext.OTHER:
                yield self._transaction_statement(info)
                continue
            stype = _FAST_TYPES.get(info.verb)
            if stype is not None:          # unambiguous first word: skip DuckDB's extra parse
                yield self._run(info, stype, autocommit)
                continue
            parsed = self._parse(text)
            if not parsed:
                yield _no_rows("EMPTY", 0)
            for stmt in parsed:
                sub = info
                if len(parsed) > 1:
                    sub = sqltext.classify(stmt.query.strip().rstrip(";").strip())
                self._gen += 1
                yield self._run(sub, stmt.type.name, autocommit)

    # -- internals -----------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise EngineError("session is closed", CODE_REJECTED, "08003")

    def _rollback_quietly(self) -> None:
        try:
            self._con.execute("ROLLBACK")
        except duckdb.Error:
            pass

    def _new_transaction(self) -> None:
        """Start the replacement transaction (lock held)."""
        self._con.execute("BEGIN TRANSACTION")
        self._snap_seq = self._engine._commit_seq
        self._log = []
        self._savepoints = []
        self._savepoint_marks = []
        self.txn_id = self._engine._next_txn_id()

    def _recover(self) -> None:
        """After a DuckDB error (lock held): if DuckDB aborted the transaction, roll it back
        and replay this transaction's writes so that, as on the real server, it survives."""
        con = self._con
        try:
            con.execute("SELECT 1").fetchall()
            return                          # not aborted (e.g. a bind-time error)
        except duckdb.Error:
            pass
        self._replay(len(self._log))

    def _replay(self, upto: int) -> None:
        """Roll DuckDB's transaction back and redo the first ``upto`` logged writes (lock
        held): recovery after an error, and ROLLBACK TO in the full profile."""
        con = self._con
        self._rollback_quietly()
        con.execute("BEGIN TRANSACTION")
        self._snap_seq = self._engine._commit_seq
        del self._log[upto:]
        for text in self._log:
            try:
                con.execute(*text) if isinstance(text, tuple) else con.execute(text)
            except duckdb.Error:
                # The writes cannot be restored (e.g. another session committed a conflicting
                # row meanwhile): the transaction is lost and a new one starts.
                self._rollback_quietly()
                self._new_transaction()
                return

    def _refresh_snapshot(self) -> None:
        """Read-committed emulation (lock held): a transaction that has written nothing yet
        sees what other sessions committed since its snapshot was taken."""
        if self._log or self._snap_seq == self._engine._commit_seq:
            return
        if self.spec_semantics and self.isolation == "serializable":
            return                          # one snapshot for the whole transaction
        try:
            self._con.execute("COMMIT")
        except duckdb.Error:
            self._rollback_quietly()
        self._con.execute("BEGIN TRANSACTION")
        self._snap_seq = self._engine._commit_seq

    def _parse(self, text: str) -> list:
        with self._lock:
            try:
                return self._con.extract_statements(text)
            except duckdb.Error as exc:
                err = map_error(exc)
                self._recover()
                raise err from None

    def _transaction_statement(self, info: sqltext.StatementInfo) -> StatementResult:
        kind = info.kind
        if kind == sqltext.BEGIN:
            self.begin()
            return _no_rows("BEGIN")
        if kind == sqltext.COMMIT:
            self.commit()
            return _no_rows("COMMIT")
        if kind == sqltext.ROLLBACK:
            self.rollback()
            return _no_rows("ROLLBACK")
        name = info.savepoint.lower()
        if kind == sqltext.SAVEPOINT:
            self._savepoints.append(name)
            self._savepoint_marks.append(len(self._log))
            return _no_rows("SAVEPOINT")
        if kind == sqltext.RELEASE:
            if name in self._savepoints:
                at = self._savepoints.index(name)
                del self._savepoints[at:], self._savepoint_marks[at:]
            return _no_rows("RELEASE")
        # ROLLBACK TO: sbsql accepts it without effect (12.A.8) unless the savepoint is unknown.
        if name not in self._savepoints:
            # the live server's generic engine refusal (captures/17_savepoints_reset.json)
            raise EngineError("The engine rejected the admitted SBLR envelope.", CODE_INVALID_REQUEST)
        at = self._savepoints.index(name)
        del self._savepoints[at + 1:], self._savepoint_marks[at + 1:]
        if self.spec_semantics:            # full profile: undo the writes since the savepoint
            self._gen += 1
            with self._lock:
                self._replay(self._savepoint_marks[at])
        return _no_rows("ROLLBACK")

    def _characteristics(self, chars) -> StatementResult:
        """SET TRANSACTION and friends (``_txn_sql``, REFERENCE 12.D)."""
        if chars.form == "refused":
            raise EngineError(f"transaction characteristics refused: {chars.problem}", CODE_PARSER)
        if chars.isolation is not None:
            self.isolation = chars.isolation
        if chars.read_only is not None:
            self.access_read_only = chars.read_only
        if chars.form == "begin":
            self.begin()
            return _no_rows("BEGIN")
        if chars.form == "session":
            return _fixed_rows(["session_uuid", "scope"], [(uuid7().encode(), b"all_or_self")])
        ro = self.access_read_only
        row = (b"session_defaults", b"read_only" if ro else b"read_write",
               b"true" if ro else b"false", self.isolation.encode())
        return _fixed_rows(list(_txn_sql.REPORT_COLUMNS), [row], "SELECT 1")

    def _run(self, info: sqltext.StatementInfo, stype: str, autocommit: bool) -> StatementResult:
        text = info.text
        self._check_interrupt()
        if self.spec_semantics and self.access_read_only and stype in _WRITE_TYPES:
            raise EngineError(f"cannot execute {info.tag_word} in a read-only transaction",
                              "SBSQL.TRANSACTION.READ_ONLY", "25006")
        with self._lock:
            try:
                self._refresh_snapshot()
                if stype == "SELECT":
                    result = self._query(info)
                elif stype in _DDL_TYPES and info.verb in ("CREATE", "DROP", "ALTER"):
                    result = self._ddl(info)
                elif stype in _DML_TYPES and not info.has_returning():
                    result = self._dml(info, stype)
                else:
                    result = self._generic(info, stype)
            except Exception as exc:       # DuckDB errors, and anything its Python layer raises
                if isinstance(exc, EngineError):
                    raise
                err = map_error(exc)
                self._gen += 1
                self._recover()
                raise err from None
            if stype in _WRITE_TYPES:
                self._log.append(text if self._params is None else (text, self._params))
            if autocommit and stype not in _QUERY_TYPES:
                self.commit()
        return result

    def _query(self, info: sqltext.StatementInfo) -> StatementResult:
        """A row-returning query: rendered by DuckDB and streamed from the cursor."""
        con = self._con
        text = info.text
        described = con.execute("DESCRIBE " + text, self._params).fetchall()
        names = [row[0] for row in described]
        types = [row[1] for row in described]
        reads_table = info.reads_table()
        items = None
        if not reads_table and (info.verb in _CONSTANT_SELECT_VERBS or text.startswith("(")):
            reads_table, items = self._select_items(text)
            if items is not None and len(items) != len(names):
                items = None
        if info.verb == "VALUES":
            names = [f"c{k}" for k in range(len(names))]
        null_text = NULL_FROM_TABLE if reads_table else NULL_EXPRESSION
        exprs = []
        for k, duck_type in enumerate(types):
            if items is not None and not items[k][0]:
                names[k] = f"column{k + 1}"
            if self._native is not None:   # binary results: DuckDB's own values (_native)
                exprs.append(self._native.fetch_expr(f"#{k + 1}", duck_type))
            elif duck_type.strip('"').upper() == "NULL" and not reads_table:
                constant = info.verb in _CONSTANT_SELECT_VERBS or text.startswith("(")
                bare = items[k][1] if items is not None else constant
                exprs.append(null_constant_expr(NULL_LITERAL if bare else NULL_EXPRESSION))
            else:
                exprs.append(render_expr(f"#{k + 1}", duck_type, null_text))
        self._check_interrupt()            # DuckDB ignores an interrupt between two calls
        con.execute("SELECT " + ", ".join(exprs) + " FROM (\n" + text + "\n) AS _sb_q",
                    self._params)
        first = con.fetchmany(BATCH_ROWS)
        if not first:
            if not self.spec_shapes:
                return _no_rows("SELECT 0", 0)     # no ROW_DESCRIPTION (REFERENCE 4.2)
            if self._native is not None:
                return self._native.result(names, described, [], describe_empty=True)
            return StatementResult("SELECT 0", 0, names, describe_empty=True)
        gen = self._gen
        fetch = lambda: self._fetch(gen)  # noqa: E731
        if self._native is not None:
            return self._native.result(names, described, [first], fetch)
        return StatementResult(f"SELECT {len(first)}", len(first), names, [first], fetch,
                               count_rows=True)

    def _fetch(self, gen: int) -> Optional[list]:
        if gen != self._gen or self._closed:
            return None                    # the session moved on: the stream was dropped
        self._check_interrupt()
        with self._lock:
            try:
                batch = self._con.fetchmany(BATCH_ROWS)
            except Exception as exc:
                err = map_error(exc)
                self._gen += 1
                self._recover()
                raise err from None
        return batch

    def _select_items(self, text: str) -> Tuple[bool, Optional[List[Tuple[str, bool]]]]:
        """For a SELECT without a top-level FROM: (reads a table?, [(alias, bare NULL?)...])
        from DuckDB's own parse tree; (False, None) when it cannot tell."""
        try:
            raw = cast(tuple, self._con.execute("SELECT json_serialize_sql(?)", [text]).fetchone())[0]
        except duckdb.Error:
            self._recover()
            return False, None
        try:
            doc = json.loads(raw)
            if doc.get("error"):
                return False, None
            node = doc["statements"][0]["node"]
            while node and node.get("type") == "SET_OPERATION_NODE":
                kids = node.get("children") or [node.get("left")]
                node = kids[0] if kids else None
            if not node or node.get("type") != "SELECT_NODE":
                return False, None
            if (node.get("from_table") or {}).get("type", "EMPTY") != "EMPTY":
                return True, None
            items = []
            for expr in node.get("select_list") or []:
                literal = expr.get("literal") or {}
                value = expr.get("value") or {}
                bare = expr.get("class") == "CONSTANT" and (
                    literal.get("kind") == "NULL_LITERAL" or value.get("is_null") is True)
                items.append((expr.get("alias") or "", bare))
            return False, items
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            return False, None

    def _ddl(self, info: sqltext.StatementInfo) -> StatementResult:
        self._con.execute(info.text)
        kind, schema, name = info.ddl_target()
        if self.spec_shapes:        # the spec's tag, e.g. "CREATE TABLE"; no catalog row
            return _no_rows(info.verb if kind == "object" else f"{info.verb} {kind.upper()}")
        object_uuid, schema_uuid = self._engine._catalog_ids(info.verb, kind, schema, name)
        columns, values = catalog_row(info.verb, kind, name, object_uuid, schema_uuid, self.user)
        return _fixed_rows(columns, [tuple(values)], "SELECT 1")

    def _dml(self, info: sqltext.StatementInfo, stype: str) -> StatementResult:
        row = self._con.execute(info.text, self._params).fetchone()
        n = _count_of(row)
        if self.spec_shapes:        # "INSERT 0 n", "UPDATE n", "DELETE n"; no status row
            word = "MERGE" if stype == "MERGE_INTO" else info.tag_word
            return _no_rows(f"INSERT 0 {n}" if stype == "INSERT" else f"{word} {n}", n)
        if stype == "INSERT":
            if info.insert_has_column_list():
                columns, values = status_row(n)
                return _fixed_rows(columns, [tuple(values)], f"INSERT {n}", n)
            return _no_rows("INSERT", n)
        if info.tag_word in ("UPDATE", "DELETE", "TRUNCATE", "MERGE"):
            return _no_rows(info.tag_word, n)
        return _no_rows("MERGE" if stype == "MERGE_INTO" else stype, n)

    def _generic(self, info: sqltext.StatementInfo, stype: str) -> StatementResult:
        """Anything else (RETURNING, PRAGMA, EXPLAIN, CALL, SET, COPY, ...): run once through
        a relation, then render its retained rows through DuckDB."""
        # None for a statement without a result, whatever DuckDB's stubs say
        rel: Optional[duckdb.DuckDBPyRelation] = self._con.sql(info.text, params=self._params)
        returning = stype in _DML_TYPES
        if rel is None:
            return _no_rows(info.tag_word, 0)
        columns = list(rel.columns)
        if not returning and columns in (["Count"], ["Success"]):
            n = 0
            if columns == ["Count"]:
                rows = rel.fetchall()
                n = _count_of(rows[0] if rows else None)
            return _no_rows(info.tag_word, n)
        if self._native is not None:       # binary results: DuckDB's own values (_native)
            return self._native.relation_result(columns, rel)
        null_text = NULL_FROM_TABLE if returning else NULL_EXPRESSION
        exprs = [render_expr(f"#{k + 1}", str(t), null_text) for k, t in enumerate(rel.types)]
        rows = rel.project(", ".join(exprs)).fetchall()
        return _fixed_rows(columns, rows)
