"""``AsyncConnectionPool``: ``ConnectionPool``'s own code, run for asyncio.

The pool logic is written once (``_sync.ConnectionPool``). Here it runs in a greenlet
(``aio._bridge.run_sync``) with asyncio's condition, event and task behind the same
small interface as the blocking pool's threads (``_Loop``), and ``AsyncConnection``\\ s
as its connections: their blocking side (``conn._sync``) is checked and reset with the
very same functions.
"""
from __future__ import annotations

import asyncio
from types import TracebackType
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Dict, Optional, Type, TypeVar

from scratchbird.aio import AsyncConnection
from scratchbird.aio._bridge import await_, run_sync
from scratchbird.errors import Error
from scratchbird.pool._policy import Lease
from scratchbird.connection import Connection
from scratchbird.pool._sync import _Pool

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["AsyncConnectionPool"]

_T = TypeVar("_T")


def _wait(awaitable: Awaitable[_T], timeout: Optional[float]) -> None:
    """Wait up to ``timeout`` seconds (None: for ever), from a greenlet."""
    try:
        await_(asyncio.wait_for(awaitable, timeout))
    except asyncio.TimeoutError:
        pass


class _LoopCondition:
    """``threading.Condition``'s interface over ``asyncio.Condition`` (from a greenlet)."""

    def __init__(self) -> None:
        self._cond = asyncio.Condition()

    def __enter__(self) -> Self:
        await_(self._cond.acquire())
        return self

    def __exit__(self, *exc: object) -> None:
        self._cond.release()

    def wait(self, timeout: Optional[float]) -> None:
        _wait(self._cond.wait(), timeout)

    def notify(self) -> None:
        self._cond.notify()

    def notify_all(self) -> None:
        self._cond.notify_all()


class _LoopEvent:
    """``threading.Event``'s interface over ``asyncio.Event`` (from a greenlet)."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def wait(self, timeout: Optional[float]) -> None:
        _wait(self._event.wait(), timeout)

    def set(self) -> None:
        self._event.set()

    def clear(self) -> None:
        self._event.clear()


class _Loop:
    """What the pool needs from its concurrency model: the running event loop."""

    condition = _LoopCondition
    event = _LoopEvent

    @staticmethod
    def start(fn: Callable[[], None], name: str) -> asyncio.Task[None]:
        return asyncio.get_running_loop().create_task(run_sync(fn), name=name)

    @staticmethod
    def join(worker: asyncio.Task[None], timeout: float) -> None:
        try:
            await_(asyncio.wait_for(asyncio.shield(worker), timeout))
        except (asyncio.TimeoutError, Error):
            worker.cancel()


class _LoopPool(_Pool[AsyncConnection]):
    """``ConnectionPool`` over the event loop, with ``AsyncConnection``\\ s."""

    _runtime = _Loop

    @staticmethod
    def _blocking(conn: AsyncConnection) -> Connection:
        return conn._sync

    def _connect(self) -> AsyncConnection:
        return await_(AsyncConnection.connect(self.conninfo, **self.kwargs))

    @staticmethod
    def _call_user(fn: Callable[[Any], Awaitable[Any]], conn: AsyncConnection) -> Any:
        return await_(fn(conn))

    @staticmethod
    def _close(conn: AsyncConnection) -> None:
        try:
            await_(conn.close())
        except Error:
            pass


class AsyncConnectionPool:
    """A pool of ``scratchbird.AsyncConnection``: ``async with pool.connection() as conn:``.

    The settings, the return rules and the retry rule are ``ConnectionPool``'s (see its
    docstring); ``check`` and ``reset`` are coroutine functions here. The upkeep worker
    is a task, started by ``open()``, ``async with pool``, or the first checkout.
    """

    def __init__(self, conninfo: Optional[str] = None, **settings: Any) -> None:
        self._pool = _LoopPool(conninfo, open=False, **settings)

    def __repr__(self) -> str:
        return repr(self._pool).replace("_LoopPool", "AsyncConnectionPool")

    @property
    def closed(self) -> bool:
        return self._pool.closed

    def stats(self) -> Dict[str, int]:
        return self._pool.stats()

    async def open(self) -> None:
        self._pool._open_pool()

    async def wait(self, timeout: float = 30.0) -> None:
        """Wait until ``min_size`` connections are open (raises PoolTimeout)."""
        await self.open()
        await run_sync(self._pool.wait, timeout)

    def connection(self, timeout: Optional[float] = None) -> Lease[AsyncConnection]:
        """``async with pool.connection() as conn:``."""
        return Lease(self, timeout)

    async def getconn(self, timeout: Optional[float] = None) -> AsyncConnection:
        await self.open()
        return await run_sync(self._pool.getconn, timeout)

    async def putconn(self, conn: AsyncConnection, failed: bool = False) -> None:
        # shielded: a cancelled caller must not leave the connection half-returned
        await asyncio.shield(run_sync(self._pool.putconn, conn, failed))

    async def close(self, timeout: float = 5.0) -> None:
        await run_sync(self._pool.close, timeout)

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(self, exc_type: Optional[Type[BaseException]],
                        exc: Optional[BaseException], tb: Optional[TracebackType]) -> None:
        await self.close()
