"""``AsyncConnectionPool``: the pool for asyncio (``AsyncConnection``).

The same policy (``_policy.PoolPolicy``) and the same return rules
(``restore_for_reuse``, run on the connection through ``AsyncConnection.run_sync``)
as ``ConnectionPool``; see its docstring for the settings and the retry rule.
"""
from __future__ import annotations

import asyncio
import contextlib
from typing import Any, AsyncIterator, Awaitable, Callable, Optional

from scratchbird.errors import Error
from scratchbird._log import log
from scratchbird.pool._policy import (PoolClosed, PoolPolicy, monotonic, ready_for_checkout,
                                      restore_for_reuse)

__all__ = ["AsyncConnectionPool"]


class AsyncConnectionPool:
    """A pool of ``scratchbird.AsyncConnection``: ``async with pool.connection() as conn:``.

    Settings and rules as ``ConnectionPool`` (``check`` and ``reset`` are coroutine
    functions here). Retry rule (database/sql's ``ErrBadConn``): a connection found
    dead at checkout, before any byte of the caller's request went out, is replaced by
    another; nothing is retried once the block has started.
    """

    def __init__(self, conninfo: Optional[str] = None, *, min_size: int = 1,
                 max_size: Optional[int] = None, timeout: float = 30.0,
                 max_idle: Optional[float] = 600.0, max_lifetime: Optional[float] = 3600.0,
                 max_waiting: int = 0, check: Optional[Callable[[Any], Awaitable[Any]]] = None,
                 reset: Optional[Callable[[Any], Awaitable[Any]]] = None,
                 kwargs: Optional[dict] = None, name: Optional[str] = None) -> None:
        self.conninfo = conninfo
        self.kwargs = dict(kwargs or {})
        self.name = name or "pool"
        self.check, self.reset = check, reset
        self._policy = PoolPolicy(min_size, max_size, timeout, max_idle, max_lifetime,
                                  max_waiting)
        self._cond: Optional[asyncio.Condition] = None
        self._wake: Optional[asyncio.Event] = None
        self._worker: Optional[asyncio.Task] = None

    def __repr__(self) -> str:
        return f"<scratchbird.pool.AsyncConnectionPool {self.name!r} {self.stats()}>"

    @property
    def closed(self) -> bool:
        return self._policy.closed

    def stats(self) -> dict:
        return self._policy.stats()

    async def open(self) -> None:
        """Start the upkeep task (done by the first checkout or ``async with``)."""
        if self._worker is None:
            if self._policy.closed:
                raise PoolClosed("the pool is closed")
            self._cond, self._wake = asyncio.Condition(), asyncio.Event()
            self._worker = asyncio.get_running_loop().create_task(self._upkeep_loop())

    async def wait(self, timeout: float = 30.0) -> None:
        """Wait until ``min_size`` connections are open (raises PoolTimeout)."""
        await self.open()
        policy = self._policy
        deadline = monotonic() + timeout
        while len(policy.idle) + len(policy.busy) < policy.min_size:
            if monotonic() >= deadline:
                raise policy.timed_out()
            await asyncio.sleep(0.02)

    # ------------------------------------------------------------ checkout / return

    @contextlib.asynccontextmanager
    async def connection(self, timeout: Optional[float] = None) -> AsyncIterator[Any]:
        conn = await self.getconn(timeout)
        failed = False
        try:
            yield conn
        except BaseException:
            failed = True
            raise
        finally:
            await self.putconn(conn, failed=failed)

    async def getconn(self, timeout: Optional[float] = None):
        await self.open()
        policy = self._policy
        deadline = monotonic() + (policy.timeout if timeout is None else timeout)
        while True:
            slot, grow = await self._reserve(deadline)
            if grow:
                return await self._open(busy=True)
            if await self._fit(slot.conn):
                return slot.conn
            policy.discard(slot, "discarded_unchecked")   # nothing sent yet (ErrBadConn)
            policy.counts["retried"] += 1
            await self._close(slot.conn)
            self._wake.set()

    async def _reserve(self, deadline: float):
        policy = self._policy
        async with self._cond:
            waiting = False
            try:
                while True:
                    if policy.closed:
                        raise PoolClosed("the pool is closed")
                    slot, grow, expired = policy.checkout(monotonic())
                    for old in expired:
                        await self._close(old.conn)
                    if slot is not None or grow:
                        return slot, grow
                    if not waiting:
                        policy.start_waiting()
                        waiting = True
                    remaining = deadline - monotonic()
                    if remaining <= 0:
                        raise policy.timed_out()
                    try:
                        await asyncio.wait_for(self._cond.wait(), remaining)
                    except asyncio.TimeoutError:
                        pass
            finally:
                if waiting:
                    policy.waiting -= 1

    async def _fit(self, conn) -> bool:
        if conn._lock.locked() or not ready_for_checkout(conn._sync):
            return False
        if self.check is not None:
            try:
                await self.check(conn)
            except Error as exc:
                log.debug("pool %s: check refused a connection: %s", self.name, exc)
                return False
        return True

    async def putconn(self, conn, failed: bool = False) -> None:
        """Give a connection back (see ``ConnectionPool`` for what happens to it)."""
        try:
            usable = await asyncio.shield(self._restore(conn, failed))
        except asyncio.CancelledError:
            usable = False
        async with self._cond:
            dropped = self._policy.checkin(conn, monotonic(), usable and conn.is_valid())
            self._cond.notify()
        if dropped is not None:
            await self._close(conn)
            self._wake.set()

    async def _restore(self, conn, failed: bool) -> bool:
        if conn.closed:
            return False
        usable = await conn.run_sync(restore_for_reuse, failed)
        if usable and self.reset is not None:
            try:
                await self.reset(conn)
            except Error:
                return False
        return usable

    # ------------------------------------------------------------ opening, upkeep

    async def _open(self, busy: bool):
        from scratchbird.aio import AsyncConnection
        try:
            conn = await AsyncConnection.connect(self.conninfo, **self.kwargs)
        except BaseException:
            async with self._cond:
                self._policy.open_failed()
                self._cond.notify()
            raise
        async with self._cond:
            self._policy.opened(conn, monotonic(), busy)
            if not busy:
                self._cond.notify()
        return conn

    @staticmethod
    async def _close(conn) -> None:
        try:
            await conn.close()
        except Error:
            pass

    async def _upkeep_loop(self) -> None:
        policy = self._policy
        while not policy.closed:
            to_close, to_open = policy.upkeep(monotonic())
            for slot in to_close:
                await self._close(slot.conn)
            for i in range(to_open):
                try:
                    await self._open(busy=False)
                except Error as exc:
                    log.debug("pool %s: opening a connection failed: %s", self.name, exc)
                    policy.size -= to_open - i - 1          # give back the rest of the room
                    break
            try:
                await asyncio.wait_for(self._wake.wait(), 1.0 if not to_open else 0.1)
            except asyncio.TimeoutError:
                pass
            self._wake.clear()

    # ------------------------------------------------------------ closing

    async def close(self, timeout: float = 5.0) -> None:
        """Stop handing out connections, wait up to ``timeout`` seconds for those in
        use to come back, then close every connection."""
        policy = self._policy
        policy.closed = True
        deadline = monotonic() + timeout
        if self._cond is not None:
            async with self._cond:
                self._cond.notify_all()
        while policy.busy and monotonic() < deadline:
            await asyncio.sleep(0.02)
        idle, policy.idle = list(policy.idle), type(policy.idle)()
        policy.size -= len(idle)
        for slot in idle + list(policy.busy.values()):
            await self._close(slot.conn)
        if self._worker is not None:
            self._wake.set()
            try:
                await asyncio.wait_for(self._worker, timeout)
            except (asyncio.TimeoutError, Error):
                self._worker.cancel()

    async def __aenter__(self) -> "AsyncConnectionPool":
        await self.open()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()
