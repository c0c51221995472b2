"""``AsyncConnection``: the PEP 249 connection, awaited.

It holds a blocking ``Connection`` whose transport is an asyncio connection
(``_transport``) and runs its methods in a greenlet (``_bridge.run_sync``), so every
rule of the blocking API (results, shapes, streaming, transactions, savepoints, reset,
cancel and deadlines, logging) is the same code in both front ends. An ``asyncio.Lock``
serialises the tasks that share one connection (the blocking connection's own lock is
per thread, and every task runs on the loop's thread).

New blocking features (COPY, Arrow fetches, prepared statements) are reachable at once
through ``await conn.run_sync(fn, *args)``: ``fn`` gets the blocking ``Connection``.
"""
from __future__ import annotations

import asyncio
from types import TracebackType
from typing import (TYPE_CHECKING, Any, AsyncIterator, Callable, Concatenate, Dict, List,
                    Optional, ParamSpec, Tuple, Type, TypeVar, cast)

from scratchbird._dsn import ConnectParams, make_params
from scratchbird.aio._bridge import run_sync
from scratchbird._transport import ByteTransport
from scratchbird.adapters import AdaptersMap
from scratchbird.aio._transport import AsyncTransport, open_async_transport
from scratchbird.connection import Connection
from scratchbird.lifecycle import RequestControl
from scratchbird.lifecycle._cancel import TimerHandle
from scratchbird.notify import Notification

if TYPE_CHECKING:
    from typing_extensions import Self

    from scratchbird._connection_host import ConnectionHost
    from scratchbird.aio._cursor import AsyncCursor
    from scratchbird.transactions._block import Transaction

__all__ = ["AsyncConnection", "connect_async"]

_P = ParamSpec("_P")
_T = TypeVar("_T")


class _LoopRequestControl(RequestControl):
    """Deadline and cancel-grace timers on the event loop; closing wakes the reader by
    aborting the asyncio transport (lifecycle/_cancel.py has the rules)."""

    def __init__(self, conn: ConnectionHost, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(conn)
        self._loop = loop

    def _start_timer(self, delay: float, action: Callable[[int], None],
                     serial: int) -> TimerHandle:
        return self._loop.call_later(delay, action, serial)

    def _wake_reader(self, transport: ByteTransport) -> None:
        cast(AsyncTransport, transport).abort()


class _StreamConnection(Connection):
    """The blocking Connection over an asyncio connection (used only inside ``run_sync``)."""

    _open_transport: Callable[[ConnectParams, bool], ByteTransport] = \
        staticmethod(open_async_transport)

    def __init__(self, params: ConnectParams, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(params)
        self._control = _LoopRequestControl(self, loop)
        cast(AsyncTransport, self._transport).control = self._control


async def connect_async(dsn: Optional[str] = None, **kwargs: Any) -> "AsyncConnection":
    """``await scratchbird.connect_async(dsn, **kw)``: the same arguments as ``connect``."""
    return await AsyncConnection.connect(dsn, **kwargs)


class AsyncConnection:
    """A session with one ScratchBird server, for asyncio (same rules as ``Connection``)."""

    from scratchbird.errors import (  # PEP 249 optional extension: errors as attributes
        Warning, Error, InterfaceError, DatabaseError, DataError, OperationalError,
        IntegrityError, InternalError, ProgrammingError, NotSupportedError)

    def __init__(self, sync: Connection) -> None:
        self._sync = sync
        self._lock = asyncio.Lock()

    @classmethod
    async def connect(cls, dsn: Optional[str] = None, **kwargs: Any) -> "AsyncConnection":
        params = make_params(dsn, **kwargs)
        sync = await run_sync(_StreamConnection, params, asyncio.get_running_loop())
        return cls(sync)

    async def run_sync(self, fn: Callable[Concatenate[Connection, _P], _T], *args: _P.args,
                       **kwargs: _P.kwargs) -> _T:
        """Run ``fn(connection, *args, **kwargs)`` with the blocking ``Connection`` API
        (the hook for COPY, Arrow fetches and prepared statements)."""
        return await self._call(fn, self._sync, *args, **kwargs)

    async def _call(self, fn: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
        """One blocking-API call, alone on the connection. A task cancelled while its
        request ran gets CancelledError once the request has ended (the connection
        usable) or the connection was closed (``_transport``)."""
        async with self._lock:
            transport = cast(Optional[AsyncTransport], self._sync._transport)
            try:
                return await run_sync(fn, *args, **kwargs)
            finally:
                if transport is not None and transport.cancel_pending:
                    transport.cancel_pending = False
                    raise asyncio.CancelledError()

    # ------------------------------------------------------------ state (no I/O)

    def __repr__(self) -> str:
        return repr(self._sync).replace("scratchbird.Connection", "scratchbird.AsyncConnection")

    @property
    def closed(self) -> bool:
        return self._sync.closed

    @property
    def broken(self) -> bool:
        return self._sync.broken

    def is_valid(self) -> bool:
        return self._sync.is_valid() and not self._lock.locked()

    @property
    def params(self) -> ConnectParams:
        return self._sync.params

    @property
    def info(self) -> Dict[str, Any]:
        return self._sync.info

    @property
    def txn_id(self) -> int:
        return self._sync.txn_id

    @property
    def adapters(self) -> AdaptersMap:
        return self._sync.adapters

    @property
    def server_report(self) -> Optional[Dict[str, Any]]:
        return self._sync.server_report

    @property
    def binary_values(self) -> bool:
        return self._sync.binary_values

    @property
    def autocommit(self) -> bool:
        return self._sync.autocommit

    @autocommit.setter
    def autocommit(self, value: bool) -> None:
        self._sync.autocommit = value

    @property
    def isolation_level(self) -> Optional[str]:
        return self._sync.isolation_level

    @property
    def read_only(self) -> Optional[bool]:
        return self._sync.read_only

    async def set_isolation_level(self, value: Optional[str]) -> None:
        await self._call(setattr, self._sync, "isolation_level", value)

    async def set_read_only(self, value: Optional[bool]) -> None:
        await self._call(setattr, self._sync, "read_only", value)

    # ------------------------------------------------------------ requests

    def cursor(self, *, raw_text: Optional[bool] = None, stream: bool = False,
               report_rows: Optional[bool] = None) -> AsyncCursor:
        from scratchbird.aio._cursor import AsyncCursor
        return AsyncCursor(self, self._sync.cursor(raw_text=raw_text, stream=stream,
                                                   report_rows=report_rows))

    async def execute(self, sql: str, params: Any = None, *,
                      timeout: Optional[float] = None) -> AsyncCursor:
        return await self.cursor().execute(sql, params, timeout=timeout)

    async def query(self, sql: str, params: Any = None) -> List[Dict[str, Any]]:
        return await self._call(self._sync.query, sql, params)

    async def exec(self, sql: str, params: Any = None) -> Tuple[int, Optional[int]]:
        return await self._call(self._sync.exec, sql, params)

    async def commit(self) -> None:
        await self._call(self._sync.commit)

    async def rollback(self) -> None:
        await self._call(self._sync.rollback)

    async def ping(self, payload: bytes = b"scratchb") -> float:
        return await self._call(self._sync.ping, payload)

    async def set_option(self, name: str, value: str) -> Dict[str, str]:
        return await self._call(self._sync.set_option, name, value)

    async def reset_session(self) -> None:
        await self._call(self._sync.reset_session)

    async def cancel(self) -> bool:
        """Cancel the request another task is running on this connection (REFERENCE
        7.2; the 5-second close rule of ``Connection.cancel``). Cancelling the task that
        awaits the request does the same."""
        return self._sync.cancel()

    def transaction(self, isolation_level: Optional[str] = None,
                    read_only: Optional[bool] = None) -> "AsyncTransaction":
        """``async with conn.transaction():`` (savepoints when nested)."""
        return AsyncTransaction(self, self._sync.transaction(isolation_level, read_only))

    async def close(self) -> None:
        if self._sync.closed:
            return
        if self._lock.locked():       # another task's request: drop the connection now
            self._sync._close_transport()
            return
        await self._call(self._sync.close)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, exc_type: Optional[Type[BaseException]],
                        exc: Optional[BaseException], tb: Optional[TracebackType]) -> None:
        """Commit on success, roll back on an exception, then close (as the blocking one)."""
        await self._call(self._sync.__exit__, exc_type, exc, tb)

    # ------------------------------------------------------------ notifications

    async def listen(self, channel: str) -> None:
        await self._call(self._sync.listen, channel)

    async def unlisten(self, channel: Optional[str] = None) -> None:
        await self._call(self._sync.unlisten, channel)

    async def notifies(self, timeout: Optional[float] = None) -> AsyncIterator[Notification]:
        """Yield ``Notification``s as they arrive (``Connection.notifies``)."""
        source = self._sync.notifies(timeout)
        try:
            while True:
                item = await self._call(next, source, None)
                if item is None:
                    return
                yield item
        finally:
            source.close()


class AsyncTransaction:
    """``async with conn.transaction():`` runs the blocking ``Transaction`` block."""

    def __init__(self, conn: AsyncConnection, block: Transaction) -> None:
        self.connection = conn
        self._block = block

    @property
    def savepoint_name(self) -> Optional[str]:
        return self._block.savepoint_name

    async def __aenter__(self) -> Self:
        await self.connection._call(self._block.__enter__)
        return self

    async def __aexit__(self, exc_type: Optional[Type[BaseException]],
                        exc: Optional[BaseException], tb: Optional[TracebackType]) -> bool:
        return await self.connection._call(self._block.__exit__, exc_type, exc, tb)
