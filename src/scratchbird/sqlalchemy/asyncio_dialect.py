"""The asyncio dialect: ``create_async_engine("scratchbird+async://user:pw@host:port/db?...")``.

It subclasses the synchronous dialect (compiler, types, reflection, result-shape handling and
isolation levels are that dialect's) and swaps only the DB-API underneath: SQLAlchemy's asyncio
layer runs the dialect in a greenlet (``greenlet_spawn``) and expects a blocking-looking
DB-API there. The adapter classes below give it one over the driver's asyncio API
(``scratchbird.aio``): every call that talks to the server is ``await_`` of the matching
``AsyncConnection``/``AsyncCursor`` coroutine, the pattern of SQLAlchemy's own asyncpg and
psycopg adapters (``sqlalchemy/connectors/asyncio.py``), written here rather than subclassed
because those classes differ between SQLAlchemy 2.0 and 2.1.

Rows: a plain cursor has the whole result in memory once ``execute`` returns (only
``cursor(stream=True)`` reads as it goes: ``Connection.cursor``), so its fetches are served
without a trip through the event loop; a ``stream_results`` cursor is the driver's streaming
cursor and each fetch that must read more awaits it.
"""
from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING, Any, Awaitable, Callable, List, Optional, Tuple

from sqlalchemy import pool
from sqlalchemy.engine import AdaptedConnection
from sqlalchemy.engine.url import URL

from scratchbird.sqlalchemy.dialect import ScratchbirdDialect

try:   # SQLAlchemy 2.1 names it await_; 2.0 await_only (2.1 keeps await_only as an alias)
    from sqlalchemy.util.concurrency import await_
except ImportError:  # pragma: no cover - SQLAlchemy 2.0
    from sqlalchemy.util.concurrency import await_only as await_
from sqlalchemy.util.concurrency import in_greenlet

if TYPE_CHECKING:
    from sqlalchemy.engine.interfaces import DBAPIConnection

    from scratchbird.aio import AsyncConnection, AsyncCursor

__all__ = ["ScratchbirdAsyncDialect", "AsyncAdaptedConnection", "AsyncAdaptedCursor"]


class AsyncAdaptedCursor:
    """A DB-API cursor over ``AsyncCursor`` for code running under ``greenlet_spawn``."""

    __slots__ = ("_adapt_connection", "_cursor", "_stream")

    def __init__(self, adapt_connection: "AsyncAdaptedConnection", stream: bool) -> None:
        self._adapt_connection = adapt_connection
        self._cursor: AsyncCursor = adapt_connection._connection.cursor(stream=stream)
        self._stream = stream

    @property
    def server_side(self) -> bool:
        return self._stream

    # -- executing
    def execute(self, operation: str, parameters: Any = None) -> "AsyncAdaptedCursor":
        await_(self._cursor.execute(operation, parameters))
        return self

    def executemany(self, operation: str, seq_of_parameters: Any) -> "AsyncAdaptedCursor":
        await_(self._cursor.executemany(operation, seq_of_parameters))
        return self

    def nextset(self) -> Optional[bool]:
        return await_(self._cursor.nextset())

    # -- rows: a plain cursor holds its whole result, a streaming one awaits more
    def fetchone(self) -> Optional[Tuple[Any, ...]]:
        if self._stream:
            return await_(self._cursor.fetchone())
        return self._cursor.sync_cursor.fetchone()

    def fetchmany(self, size: Optional[int] = None) -> List[Tuple[Any, ...]]:
        if self._stream:
            return await_(self._cursor.fetchmany(size))
        return self._cursor.sync_cursor.fetchmany(size)

    def fetchall(self) -> List[Tuple[Any, ...]]:
        if self._stream:
            return await_(self._cursor.fetchall())
        return self._cursor.sync_cursor.fetchall()

    def __iter__(self) -> Any:
        return iter(self.fetchone, None)

    async def _async_soft_close(self) -> None:
        """Called by SQLAlchemy's AsyncResult before a buffered result is read outside the
        greenlet: a plain cursor holds no server resource, so there is nothing to release."""

    def close(self) -> None:
        if self._cursor.closed:
            return
        if self._stream:
            await_(self._cursor.close())
        else:
            self._cursor.sync_cursor.close()   # no I/O: the result is all in memory

    # -- state (no I/O)
    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return int(self._cursor.rowcount)

    @property
    def lastrowid(self) -> Any:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    @property
    def itersize(self) -> int:
        return self._cursor.itersize

    @itersize.setter
    def itersize(self, value: int) -> None:
        self._cursor.itersize = value

    def setinputsizes(self, *args: Any) -> None:
        pass

    def setoutputsize(self, *args: Any) -> None:
        pass

    def __getattr__(self, name: str) -> Any:   # statusmessage, columns, stream, server_report
        return getattr(self._cursor, name)


class AsyncAdaptedConnection(AdaptedConnection):
    """A DB-API connection over ``AsyncConnection``, with the attributes the synchronous
    dialect reads (``autocommit``, ``isolation_level``, ``read_only``, ``info``, ``ping``)."""

    __slots__ = ("dbapi",)

    # SQLAlchemy 2.1 types the slot as its AsyncIODBAPIConnection protocol, which demands a
    # __getattr__ that AsyncConnection (explicit attributes only) does not have
    _connection: "AsyncConnection"   # type: ignore[assignment]

    def __init__(self, dbapi: "AsyncAdaptedDBAPI", connection: "AsyncConnection") -> None:
        self.dbapi = dbapi
        self._connection = connection

    def cursor(self, *, stream: bool = False) -> AsyncAdaptedCursor:
        return AsyncAdaptedCursor(self, stream)

    def commit(self) -> None:
        await_(self._connection.commit())

    def rollback(self) -> None:
        await_(self._connection.rollback())

    def ping(self) -> float:
        return await_(self._connection.ping())

    def close(self) -> None:
        await_(self._connection.close())

    def terminate(self) -> None:
        """Invalidation: close politely inside the greenlet; from garbage collection (no
        event loop to await on) drop the socket at once."""
        if in_greenlet():
            try:
                await_(self._connection.close())
                return
            except Exception:   # already broken: nothing left to say to the server
                pass
        # no event loop to await on: drop the socket (what AsyncConnection.close does when
        # another task holds the connection)
        self._connection._sync._close_transport()

    @property
    def closed(self) -> bool:
        return self._connection.closed

    @property
    def info(self) -> Any:
        return self._connection.info

    @property
    def autocommit(self) -> bool:
        return self._connection.autocommit

    @autocommit.setter
    def autocommit(self, value: bool) -> None:
        self._connection.autocommit = value

    @property
    def isolation_level(self) -> Optional[str]:
        return self._connection.isolation_level

    @isolation_level.setter
    def isolation_level(self, value: Optional[str]) -> None:
        await_(self._connection.set_isolation_level(value))

    @property
    def read_only(self) -> Optional[bool]:
        return self._connection.read_only

    @read_only.setter
    def read_only(self, value: Optional[bool]) -> None:
        await_(self._connection.set_read_only(value))


class AsyncAdaptedDBAPI:
    """The ``scratchbird`` module as SQLAlchemy's DB-API: ``connect`` awaits
    ``AsyncConnection.connect``; the exceptions, ``paramstyle`` and type objects are the
    driver's own (so errors map to SQLAlchemy's exceptions exactly as in the sync dialect)."""

    def __init__(self, driver: ModuleType) -> None:
        self.driver = driver
        self.paramstyle: str = driver.paramstyle

    def connect(self, *args: Any,
                async_creator_fn: Optional[Callable[..., Awaitable["AsyncConnection"]]] = None,
                **kwargs: Any) -> AsyncAdaptedConnection:
        from scratchbird.aio import AsyncConnection
        creator = async_creator_fn if async_creator_fn is not None else AsyncConnection.connect
        return AsyncAdaptedConnection(self, await_(creator(*args, **kwargs)))

    def __getattr__(self, name: str) -> Any:   # Error, OperationalError, Binary, ...
        return getattr(self.driver, name)


class ScratchbirdAsyncDialect(ScratchbirdDialect):
    """``scratchbird+async://``: the synchronous dialect over the driver's asyncio API."""

    driver = "async"
    is_async = True
    supports_statement_cache = True
    supports_server_side_cursors = True

    @classmethod
    def import_dbapi(cls) -> AsyncAdaptedDBAPI:
        import scratchbird
        return AsyncAdaptedDBAPI(scratchbird)

    @classmethod
    def get_pool_class(cls, url: URL) -> type[pool.Pool]:
        return pool.AsyncAdaptedQueuePool

    def do_terminate(self, dbapi_connection: "DBAPIConnection") -> None:
        dbapi_connection.terminate()   # AsyncAdaptedConnection.terminate

    def get_driver_connection(self, connection: "DBAPIConnection") -> Any:
        """The ``AsyncConnection`` (``conn.get_raw_connection().driver_connection``)."""
        return connection._connection   # AsyncAdaptedConnection's slot


dialect = ScratchbirdAsyncDialect
