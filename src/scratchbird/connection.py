"""The DB-API Connection: opens the transport, runs the handshake, sends requests.

Blocking I/O around the I/O-free ``ClientProtocol``. One request at a time per
connection (a lock serialises threads that share it).
"""
from __future__ import annotations

import json
import logging
import threading
import time
from types import TracebackType
from typing import (TYPE_CHECKING, Any, Callable, Dict, List, Optional, Sequence, Tuple,
                    Type)

from scratchbird import _constants as c
from scratchbird._shapes import DescriptionMemory
from scratchbird._dsn import ConnectParams, make_params
from scratchbird._impl import literals, responsecodec
from scratchbird._log import count_frames, describe_params, log, shorten
from scratchbird._protocol import ClientProtocol, Response
from scratchbird.adapters import AdaptersMap, adapters as _global_adapters
from scratchbird._transport import ByteTransport, attempts, open_transport
from scratchbird.errors import (AuthenticationError, ConnectionLost, Error, InterfaceError,
                                OperationalError, ProgrammingError, ProtocolError)
from scratchbird.lifecycle import LifecycleMixin, RequestControl
from scratchbird.transactions import TransactionMixin
from scratchbird.notify import NotifyMixin

if TYPE_CHECKING:
    import pyarrow
    from typing_extensions import Self

    from scratchbird._connection_host import MakeFrame
    from scratchbird.cursor import Cursor
    from scratchbird.prepared import PreparedStatement, StatementCache
    from scratchbird.transactions._block import Transaction
else:
    # imported once, not per cursor() (the type checker keeps its own import order)
    from scratchbird.cursor import Cursor

__all__ = ["Connection", "connect"]

_DRAIN_ROWS = 8192
_receive = responsecodec.receive


def connect(dsn: Optional[str] = None, **kwargs: Any) -> "Connection":
    """Open a connection. ``dsn`` is a URI (``scratchbird://user:pw@host:port/db?...``)
    or ``key=value`` text; keyword arguments override it (see README, DSN reference)."""
    return Connection(make_params(dsn, **kwargs))


class Connection(TransactionMixin, LifecycleMixin, NotifyMixin):
    """A session with one ScratchBird server (PEP 249 Connection)."""

    from scratchbird.errors import (  # PEP 249 optional extension: errors as attributes
        Warning, Error, InterfaceError, DatabaseError, DataError, OperationalError,
        IntegrityError, InternalError, ProgrammingError, NotSupportedError)

    def __init__(self, params: ConnectParams) -> None:
        self._params = params
        self._lock = threading.RLock()
        self._transport: Optional[ByteTransport] = None
        self._proto: Optional[ClientProtocol] = None
        self._autocommit = False
        self._in_transaction = False
        self._streaming: Optional[Response] = None
        self.adapters = AdaptersMap(_global_adapters)
        self._descriptions = DescriptionMemory()   # SQL text -> its last ROW_DESCRIPTION
        self.closed = False
        self._broken = False
        self._control = RequestControl(self)   # cancel(), deadlines, the send lock
        self._tx_stack: List[Transaction] = []   # open transaction() blocks
        self._isolation_level: Optional[str] = None
        self._read_only: Optional[bool] = None
        self._bytes_in = 0
        #: the last report row of a SET TRANSACTION answer (REFERENCE 12.D), or None
        self.server_report: Optional[Dict[str, Any]] = None
        self._statement_cache: Optional[StatementCache] = None
        self._open()

    # ------------------------------------------------------------ opening

    def _open(self) -> None:
        params = self._params
        last: Optional[Error] = None
        for tls in attempts(params):
            try:
                self._handshake(tls)
                return
            except (AuthenticationError, ProgrammingError, InterfaceError):
                raise
            except OperationalError as exc:
                # Try the next transport only when this one failed before the server
                # answered in SBWP (sslmode allow/prefer); refusals are final.
                if exc.sqlstate is not None:
                    raise
                last = exc
        assert last is not None
        raise last

    def _startup_params(self) -> List[Tuple[str, str]]:
        params = self._params
        out: List[Tuple[str, str]] = []
        if params.application_name:
            out.append(("application_name", params.application_name))
        if params.search_path:
            out.append(("default_schema", params.search_path.split(",")[0].strip()))
        return out

    #: opens the byte stream (the asyncio front end passes its own, aio/_transport.py)
    _open_transport: Callable[[ConnectParams, bool], ByteTransport] = staticmethod(open_transport)

    def _handshake(self, tls: bool) -> None:
        params = self._params
        transport = self._open_transport(params, tls)
        proto = ClientProtocol(
            user=params.user, password=params.password, database=params.database,
            startup_params=self._startup_params(), layout=params.startup_layout,
            allow_cleartext=tls or params.sslmode == "disable",
            null_markers=params.null_markers, raw_text=params.raw_text,
            compression=params.compression == "zstd", binary=params.binary_transfer,
            features=c.CLIENT_OFFERED_FEATURES & ~(
                0 if params.binary_copy else c.FEATURE_BINARY_COPY),
            json_loads=json.loads if params.parse_json else None)
        try:
            transport.settimeout(params.connect_timeout)
            # Plaintext: STARTUP must go out at once, the server sniffs for 100 ms (3.3).
            transport.send(proto.startup_frame())
            while not proto.handshake_done:
                out = proto.advance_handshake()
                if out:
                    transport.send(out)
                if not proto.handshake_done:
                    proto.feed(transport.recv())
            transport.settimeout(params.socket_timeout)
        except BaseException as exc:
            transport.close()
            log.debug("connect to %s:%s as %r (database %r, tls=%s) failed: %s", params.host,
                      params.port, params.user, params.database, tls, type(exc).__name__)
            raise
        self._transport, self._proto = transport, proto
        log.debug("connected to %s:%s as %r (database %r, tls=%s, auth method %s, "
                  "features 0x%x)", params.host, params.port, params.user, params.database,
                  tls, proto.auth_method, proto.negotiated_features)

    # ------------------------------------------------------------ state

    def __repr__(self) -> str:
        p = self._params
        state = "closed" if self.closed or self._proto is None else f"txn={self._proto.txn_id}"
        return (f"<scratchbird.Connection {p.user}@{p.host}:{p.port}/{p.database} "
                f"tls={bool(self._transport and self._transport.tls)} {state}>")

    @property
    def params(self) -> ConnectParams:
        return self._params

    @property
    def info(self) -> Dict[str, Any]:
        """What the server told us: parameters, negotiated features, session and txn ids."""
        proto = self._check_open()
        return {
            "session_id": proto.session_id.hex(),
            "txn_id": proto.txn_id,
            "protocol_version": f"{proto.protocol_version >> 8}.{proto.protocol_version & 0xFF}",
            "negotiated_features": proto.negotiated_features,
            "server": proto.server_info.product if proto.server_info else None,
            "dialect": proto.server_info.dialect if proto.server_info else None,
            "tls": self._transport is not None and self._transport.tls,
            "parameters": dict(proto.parameters),
        }

    @property
    def txn_id(self) -> int:
        return self._check_open().txn_id

    @property
    def autocommit(self) -> bool:
        return self._autocommit

    @autocommit.setter
    def autocommit(self, value: bool) -> None:
        self._check_open()
        value = bool(value)
        if value and not self._autocommit and self._in_transaction:
            raise ProgrammingError(
                "cannot switch autocommit on inside a transaction with work in it: "
                "call commit() or rollback() first")
        self._autocommit = value

    def _check_open(self) -> ClientProtocol:
        if self.closed or self._proto is None:
            raise InterfaceError("the connection is closed")
        return self._proto

    # ------------------------------------------------------------ requests

    def _request(self, make_frame: MakeFrame, row_limit: Optional[int] = None, *,
                 timeout: Optional[float] = None, log_sql: Optional[str] = None,
                 log_params: Any = None) -> Response:
        """Send one request and read its response (up to ``row_limit`` rows when
        streaming: then the Response may come back unfinished, see ``_read_more``).
        ``timeout``: seconds until the request is cancelled (lifecycle/_cancel.py)."""
        with self._lock:
            proto = self._check_open()
            if proto.copy_open:     # refused before anything is sent: the COPY goes on
                raise InterfaceError("a COPY is in progress on this connection; finish it first")
            if self._channels:
                self._refuse_if_listening()     # a listening connection is dedicated
            if self._streaming is not None:
                self._drain_stream()
            debug = log.isEnabledFor(logging.DEBUG)
            transport = self._transport
            assert transport is not None        # set with _proto by the handshake
            with self._control.send_lock:
                try:
                    frame = make_frame(proto)
                    transport.send(frame)
                except BaseException:
                    self._broken = True
                    self._close_transport()
                    raise
                self._control.started(timeout)
            if not debug:
                return self._read(row_limit)
            start, self._bytes_in, frames_before = time.perf_counter(), 0, proto.frames_read
            response = None
            try:
                response = self._read(row_limit)
            finally:
                self._log_request(frame, log_sql, log_params, start, frames_before, response)
            return response

    def _log_request(self, frame: bytes, sql: Optional[str], params: Any, start: float,
                     frames_before: int, response: Optional[Response]) -> None:
        """One DEBUG line per request (_log.py: never a password or parameter value)."""
        name = c.MESSAGE_NAMES.get(frame[6], hex(frame[6])) if len(frame) > 6 else "?"
        text = f" sql={shorten(sql)!r}" if sql is not None else ""
        shown = describe_params(params, self._params.log_parameters)
        if shown is not None:
            text += f" params={shown}"
        proto = self._proto
        frames_in = proto.frames_read - frames_before if proto is not None else 0
        rows = sum(len(r.rows) for r in response.results) if response is not None else 0
        outcome = "failed" if response is None else (
            f"error {response.error.sqlstate}" if response.error is not None else "ok")
        log.debug("%s%s: %s; sent %d frame(s) %d bytes, received %d frame(s) (%d data rows) "
                  "%d bytes, %.3f ms", name, text, outcome, count_frames(frame), len(frame),
                  frames_in + rows, rows, self._bytes_in, (time.perf_counter() - start) * 1000.0)

    def _read(self, row_limit: Optional[int]) -> Response:
        proto, transport = self._proto, self._transport
        assert proto is not None and transport is not None   # the caller checked it is open
        try:
            # The reply to a small request is rarely here yet: receive first. Each chunk
            # goes in with one compiled call (responsecodec.receive: feed + read_response).
            if not proto.reader.buffered:
                data = transport.recv()
                self._bytes_in += len(data)
                response = _receive(proto, data, row_limit)
            else:
                response = proto.read_response(row_limit)
            while response is None:
                data = transport.recv()
                self._bytes_in += len(data)
                response = _receive(proto, data, row_limit)
        except BaseException as exc:
            # Mid-response the byte stream is out of step: the connection cannot be
            # reused. Close it rather than leave it half-broken.
            self._streaming = None
            self._broken = True
            self._close_transport()
            failure = self._control.failed(exc)
            log.debug("request failed, connection closed: %s", type(failure).__name__)
            if failure is not exc:
                raise failure from None
            if isinstance(exc, ProtocolError):
                raise ProtocolError(f"{exc}; the connection is closed") from None
            raise
        self._streaming = None if response.done else response
        if response.done:
            self._control.finished(response)
        return response

    def _read_more(self, response: Response, row_limit: Optional[int]) -> Response:
        """Continue an unfinished (streaming) response."""
        with self._lock:
            self._check_open()
            if self._streaming is not response:
                raise InterfaceError("this result was abandoned: another request ran on the connection")
            return self._read(row_limit)

    def _drain_stream(self) -> None:
        """Read and drop the rest of an unfinished streaming response, so the next
        request starts in step (its cursor sees the rows it had, then the end)."""
        response = self._streaming
        while response is not None and not response.done:
            for result in response.results:
                result.rows = []  # new lists: the cursor keeps the rows it already had
            response = self._read(_DRAIN_ROWS)

    def _execute_sql(self, sql: str, row_limit: Optional[int] = None, *,
                     raw_text: Optional[bool] = None, adapters: Optional[AdaptersMap] = None,
                     timeout: Optional[float] = None, log_sql: Optional[str] = None,
                     log_params: Any = None,
                     row_sink: Optional[Callable[..., Any]] = None) -> Response:
        flags = c.QUERY_FLAG_AUTOCOMMIT if self._autocommit else 0
        if self._proto is not None and self._proto.binary_values:
            flags |= c.QUERY_FLAG_BINARY_RESULT
        response = self._request(lambda proto: proto.query_frame(
            sql, flags, raw_text=raw_text, adapters=adapters or self.adapters, row_sink=row_sink),
            row_limit, timeout=timeout or self._params.statement_timeout,
            log_sql=log_sql, log_params=log_params)   # never the merged SQL: it has values
        if not self._autocommit:
            self._in_transaction = True
        if response.copy_in is not None and not response.done:
            from scratchbird.bulk._copy import refuse_plain_copy
            refuse_plain_copy(self)
        return response

    def _execute_extended(self, sql: str, param_oids: Sequence[int],
                          rows: Sequence[Sequence[Optional[bytes]]],
                          row_limit: Optional[int] = None, *,
                          raw_text: Optional[bool] = None, adapters: Optional[AdaptersMap] = None,
                          timeout: Optional[float] = None, log_params: Any = None,
                          row_sink: Optional[Callable[..., Any]] = None) -> Response:
        """PARSE/BIND/EXECUTE/SYNC with binary parameters (binary sessions only)."""
        response = self._request(lambda proto: proto.extended_frames(
            sql, param_oids, rows, autocommit=self._autocommit, raw_text=raw_text,
            adapters=adapters or self.adapters, row_sink=row_sink), row_limit,
            timeout=timeout or self._params.statement_timeout, log_sql=sql, log_params=log_params)
        if not self._autocommit:
            self._in_transaction = True
        return response

    def _set_row_sink(self, response: Response, make_sink: Callable[..., Any]) -> None:
        """Decode the rest of a streaming response's current result into a columnar
        sink (``ClientProtocol.set_row_sink``; scratchbird.arrow uses it)."""
        with self._lock:
            proto = self._check_open()
            if self._streaming is not response:
                raise InterfaceError("this result was abandoned: another request ran on the connection")
            proto.set_row_sink(make_sink)

    def fetch_arrow(self, sql: str, params: Any = None, **options: Any) -> pyarrow.Table:
        """The result of ``sql`` as a ``pyarrow.Table``, decoded column by column straight
        from the frames (the fast path; see README, "Columnar fetch"). ``options``:
        ``numeric_as``."""
        from scratchbird.arrow import fetch_arrow_sql
        return fetch_arrow_sql(self, sql, params, **options)

    def arrow_stream(self, sql: str, params: Any = None, **options: Any) -> Cursor:
        """Run ``sql`` and return a cursor whose rows are decoded straight into Arrow
        buffers, ``batch_rows`` (65,536) at a time: read it with ``fetch_arrow*`` or pass
        it to ``polars.DataFrame``, ``pyarrow.table`` or DuckDB (the Arrow PyCapsule
        stream; compiled, it needs no pyarrow). ``options``: ``batch_rows``, ``numeric_as``."""
        from scratchbird.arrow import arrow_stream_sql
        return arrow_stream_sql(self, sql, params, **options)

    @property
    def binary_values(self) -> bool:
        """True when results and parameters travel in binary (negotiated at connect)."""
        return self._check_open().binary_values

    # ------------------------------------------------------------ PEP 249

    def cursor(self, *, raw_text: Optional[bool] = None, stream: bool = False,
               report_rows: Optional[bool] = None) -> Cursor:
        """A new cursor. ``raw_text`` overrides the connection's NULL/text setting for
        it; ``stream=True`` returns rows as they arrive, ``itersize`` at a time, instead
        of reading whole results at ``execute()`` (constant memory for huge results);
        ``report_rows=True`` shows the server's report rows (DDL catalog row, INSERT
        status row) as result sets instead of ``server_report`` (default: the connection's)."""
        self._check_open()
        return Cursor(self, raw_text=raw_text, stream=stream, report_rows=report_rows)

    def commit(self) -> None:
        """Commit (TXN_COMMIT with the 4-byte payload, REFERENCE 6.3).

        If the connection fails once COMMIT may have left (no answer from the server),
        nobody knows whether the transaction committed: the OperationalError says so
        rather than claim a rollback (docs/protocol.md, "Commit outcome unknown")."""
        try:
            self._end_transaction(lambda proto: proto.commit_frame())
        except OperationalError as exc:
            if exc.sqlstate is not None or not self.closed:
                raise  # the server answered (or nothing was sent): the outcome is known
            raise ConnectionLost(
                f"the connection failed after COMMIT was sent, so the outcome of the "
                f"transaction is unknown: it may or may not have been committed ({exc})"
            ) from exc

    def rollback(self) -> None:
        """Roll back (TXN_ROLLBACK, REFERENCE 6.4)."""
        self._end_transaction(lambda proto: proto.rollback_frame())

    def _end_transaction(self, make_frame: MakeFrame) -> None:
        self._check_open()
        if self._tx_stack:
            raise ProgrammingError("commit() and rollback() are not allowed inside a "
                                   "transaction() block: leave the block (or raise) instead")
        if self._autocommit:
            return
        response = self._request(make_frame)
        self._in_transaction = False
        if response.error:
            raise response.error

    def close(self) -> None:
        """Close the session. Uncommitted work is rolled back by the server."""
        if self.closed:
            return
        with self._lock:
            transport = self._transport
            if transport is not None and not transport.closed and self._proto is not None:
                try:
                    transport.send(self._proto.terminate_frame())
                except Error:
                    pass
            self._close_transport()

    def _close_transport(self) -> None:
        self.closed = True
        if self._transport is not None:
            self._transport.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException],
                 tb: Optional[TracebackType]) -> None:
        """Commit on success, roll back on an exception, then close (as psycopg 3)."""
        try:
            if not self.closed:
                if exc_type is None:
                    self.commit()
                else:
                    self.rollback()
        except Error:
            if exc_type is None:
                raise
        finally:
            self.close()

    # ------------------------------------------------------------ conveniences

    def ping(self, payload: bytes = b"scratchb") -> float:
        """Round trip a PING; returns the seconds it took."""
        import time
        start = time.perf_counter()
        response = self._request(lambda proto: proto.ping_frame(payload))
        if response.pong != payload:
            raise ProtocolError("PONG did not echo the PING payload")
        return time.perf_counter() - start

    def set_option(self, name: str, value: str) -> Dict[str, str]:
        """SET_OPTION (REFERENCE 7.4): a wire-session option; returns the server's echo."""
        response = self._request(lambda proto: proto.set_option_frame(name, value))
        if response.error:
            raise response.error
        return response.parameters

    @property
    def statement_cache(self) -> StatementCache:
        """The prepared-statement cache (scratchbird.prepared.StatementCache): ``stats()``
        and ``clear()`` (session resets call it)."""
        if self._statement_cache is None:
            from scratchbird.prepared import StatementCache
            self._statement_cache = StatementCache(self._params.statement_cache_size,
                                                   self._params.prepare_threshold)
        return self._statement_cache

    def prepare(self, sql: str, name: Optional[str] = None) -> PreparedStatement:
        """A server-side prepared statement (scratchbird.prepared.PreparedStatement):
        ``execute(params)``, ``executemany(seq)``, ``parameters``, ``close()``."""
        from scratchbird.prepared import PreparedStatement
        self._check_open()
        return PreparedStatement(self, sql, name)

    def execute(self, sql: str, params: Any = None) -> Cursor:
        """Shortcut: a new cursor, executed (as psycopg 3 and sqlite3)."""
        return self.cursor().execute(sql, params)

    def query(self, sql: str, params: Any = None) -> List[Dict[str, Any]]:
        """Run a query and return its rows as dicts keyed by column name."""
        cur = self.cursor()
        cur.execute(sql, params)
        if cur.description is None:
            return []
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]

    def exec(self, sql: str, params: Any = None) -> Tuple[int, Optional[int]]:
        """Run a statement; returns ``(rows_affected, last_insert_id)``."""
        cur = self.cursor()
        cur.execute(sql, params)
        return max(cur.rowcount, 0), cur.lastrowid

    def load(self, table: str, data: Any, *, columns: Optional[Sequence[str]] = None,
             create: bool = False, batch_rows: int = 50_000,
             progress: Optional[Callable[[int], Any]] = None) -> int:
        """Load rows into ``table`` with COPY FROM STDIN; returns the rows inserted.
        ``data``: tuples, dicts, a CSV or Parquet path or file, a pandas or Polars
        DataFrame, Arrow data (see ``scratchbird.bulk._load``). Not committed unless
        autocommit is on."""
        from scratchbird.bulk._load import load
        return load(self, table, data, columns=columns, create=create, batch_rows=batch_rows,
                    progress=progress)

    def quote_literal(self, value: Any) -> str:
        return literals.render_literal(value)
