"""What both pools decide, without I/O and without waiting: which connection to hand
out, when to open or close one, what a returned connection needs, and the figures.

``ConnectionPool`` (threads) and ``AsyncConnectionPool`` (asyncio) own a ``PoolPolicy``
and call it under their lock; they only add the waiting and the I/O.
"""
from __future__ import annotations

import collections
import random
import time
from types import TracebackType
from typing import (TYPE_CHECKING, Any, Dict, Generic, List, Optional, Tuple, Type,
                    TypeVar)

from scratchbird.errors import Error, OperationalError

if TYPE_CHECKING:
    from scratchbird.connection import Connection

__all__ = ["PoolPolicy", "Slot", "Lease", "PoolError", "PoolTimeout", "PoolClosed", "TooManyRequests",
           "restore_for_reuse", "ready_for_checkout"]

_C = TypeVar("_C")      # the pooled connection: Connection or AsyncConnection


class PoolError(OperationalError):
    """A pool could not provide a connection."""


class PoolTimeout(PoolError):
    """No connection became available within the pool's ``timeout``."""


class PoolClosed(PoolError):
    """The pool is closed."""


class TooManyRequests(PoolError):
    """``max_waiting`` requests are already waiting for a connection."""


class Slot:
    """One pooled connection and its times."""

    __slots__ = ("conn", "created", "expires", "last_used")

    def __init__(self, conn: Any, now: float, lifetime: Optional[float]) -> None:
        self.conn = conn
        self.created = self.last_used = now
        self.expires = None if lifetime is None else now + lifetime


class PoolPolicy:
    """State and decisions of one pool; every method is called under the pool's lock."""

    def __init__(self, min_size: int, max_size: Optional[int], timeout: float,
                 max_idle: Optional[float], max_lifetime: Optional[float],
                 max_waiting: int, lifetime_jitter: float = 0.1) -> None:
        max_size = min_size if max_size is None else max_size
        if min_size < 0 or max_size < 1 or max_size < min_size:
            raise ValueError("need 0 <= min_size <= max_size and max_size >= 1")
        self.min_size, self.max_size = min_size, max_size
        self.timeout = timeout
        self.max_idle, self.max_lifetime = max_idle, max_lifetime
        self.max_waiting = max_waiting
        self.jitter = lifetime_jitter
        self.idle: "collections.deque[Slot]" = collections.deque()
        self.busy: Dict[int, Slot] = {}     # id(conn) -> slot, handed out
        self.size = 0                       # open, plus being opened
        self.waiting = 0
        self.expired: List[Slot] = []       # taken out of idle, not closed yet
        self.closed = False
        self.counts: "collections.Counter[str]" = collections.Counter()

    # ------------------------------------------------------------ checkout

    def checkout(self, now: float, waiting: bool, deadline: float) -> Tuple[Optional[Slot], bool]:
        """``(slot, grow)``: an idle connection to hand out, or True for ``grow`` when
        room was reserved to open one, or neither: then the caller waits (counted
        from its first miss: ``waiting``). Raises PoolClosed, TooManyRequests, or
        PoolTimeout past ``deadline``. Idle connections past their lifetime go to
        ``expired`` (the upkeep worker closes them)."""
        if self.closed:
            raise PoolClosed("the pool is closed")
        while self.idle:
            slot = self.idle.pop()              # the most recently used: warm
            if slot.expires is not None and now >= slot.expires:
                self.size -= 1
                self.expired.append(slot)
                continue
            self.busy[id(slot.conn)] = slot
            self.counts["checkouts"] += 1
            return slot, False
        if self.size < self.max_size:
            self.size += 1
            self.counts["checkouts"] += 1
            return None, True
        if now >= deadline:
            raise self.timed_out()
        if not waiting:
            self.start_waiting()
        return None, False

    def start_waiting(self) -> None:
        if self.max_waiting and self.waiting >= self.max_waiting:
            self.counts["rejected"] += 1
            raise TooManyRequests(f"{self.waiting} requests already wait for a connection "
                                  f"(max_waiting={self.max_waiting})")
        self.waiting += 1
        self.counts["waits"] += 1

    def timed_out(self) -> PoolTimeout:
        self.counts["timeouts"] += 1
        return PoolTimeout(f"no connection available within {self.timeout:g} s "
                           f"(max_size={self.max_size}, all in use)")

    def opened(self, conn: Any, now: float, busy: bool) -> Slot:
        """A connection opened for room reserved by ``checkout`` or ``to_open``."""
        lifetime = None
        if self.max_lifetime is not None:   # jitter: connections do not all expire at once
            lifetime = self.max_lifetime * (1.0 - random.uniform(0.0, self.jitter))
        slot = Slot(conn, now, lifetime)
        self.counts["connections_opened"] += 1
        if self.closed:
            self.expired.append(slot)
        elif busy:
            self.busy[id(conn)] = slot
        else:
            self.idle.appendleft(slot)
        return slot

    def open_failed(self) -> None:
        self.size -= 1
        self.counts["connections_failed"] += 1

    def discard(self, slot: Slot, reason: str) -> None:
        """A handed-out connection that will not come back (closed by the pool)."""
        if self.busy.pop(id(slot.conn), None) is not None:
            self.size -= 1
        self.counts[reason] += 1

    # ------------------------------------------------------------ return

    def checkin(self, conn: Any, now: float, usable: bool) -> Optional[Slot]:
        """Take a connection back. Returns its slot when it must be closed instead
        (unusable, expired, or the pool closed); None when it went back to idle."""
        slot = self.busy.pop(id(conn), None)
        if slot is None:
            raise PoolError("this connection does not belong to the pool, or was returned twice")
        if usable and not self.closed and (slot.expires is None or now < slot.expires):
            slot.last_used = now
            self.idle.append(slot)
            return None
        self.size -= 1
        self.counts["returns_discarded" if not usable else "connections_expired"] += 1
        return slot

    # ------------------------------------------------------------ upkeep

    def upkeep(self, now: float) -> Tuple[List[Slot], bool]:
        """``(to_close, opening)``: idle connections past ``max_idle`` (above
        ``min_size``) or their lifetime, and whether to open one more to keep
        ``min_size`` (its room is reserved now; the worker comes back for the next)."""
        to_close, self.expired = self.expired, []
        keep: "collections.deque[Slot]" = collections.deque()
        for slot in self.idle:      # oldest first
            lifetime_over = slot.expires is not None and now >= slot.expires
            idle_over = (self.max_idle is not None and now - slot.last_used >= self.max_idle
                         and self.size - len(to_close) > self.min_size)
            if lifetime_over or idle_over:
                to_close.append(slot)
                self.size -= 1
                self.counts["connections_expired"] += 1
            else:
                keep.append(slot)
        self.idle = keep
        opening = not self.closed and self.size < self.min_size
        self.size += opening
        return to_close, opening

    def close_all(self) -> List[Slot]:
        """The pool closes: every slot, idle or not, to close."""
        slots = list(self.idle) + list(self.busy.values()) + self.expired
        self.idle, self.expired = collections.deque(), []
        self.busy.clear()
        self.size = 0
        return slots

    def stats(self) -> Dict[str, int]:
        out = {"pool_min": self.min_size, "pool_max": self.max_size, "pool_size": self.size,
               "pool_available": len(self.idle), "pool_in_use": len(self.busy),
               "requests_waiting": self.waiting}
        for name in ("checkouts", "waits", "timeouts", "rejected", "connections_opened",
                     "connections_failed", "connections_expired", "returns_discarded",
                     "discarded_broken", "discarded_unchecked", "retried"):
            out[name] = self.counts[name]
        return out


class Lease(Generic[_C]):
    """``with pool.connection() as conn:`` / ``async with``: one checkout, one return
    (``failed`` when the block raised), for both pools."""

    __slots__ = ("pool", "timeout", "conn")

    def __init__(self, pool: Any, timeout: Optional[float]) -> None:
        # pool: a ConnectionPool (with) or an AsyncConnectionPool (async with)
        self.pool, self.timeout = pool, timeout
        self.conn: Optional[_C] = None

    def __enter__(self) -> _C:
        conn: _C = self.pool.getconn(self.timeout)
        self.conn = conn
        return conn

    def __exit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException],
                 tb: Optional[TracebackType]) -> None:
        self.pool.putconn(self.conn, failed=exc_type is not None)

    async def __aenter__(self) -> _C:
        conn: _C = await self.pool.getconn(self.timeout)
        self.conn = conn
        return conn

    async def __aexit__(self, exc_type: Optional[Type[BaseException]],
                        exc: Optional[BaseException], tb: Optional[TracebackType]) -> None:
        await self.pool.putconn(self.conn, failed=exc_type is not None)


def ready_for_checkout(conn: Connection) -> bool:
    """Local checks of an idle blocking ``Connection`` before it is handed out: open,
    not broken, nothing pending, and the server has not closed it meanwhile."""
    transport = conn._transport
    return (conn.is_valid() and transport is not None and transport.idle_alive()
            and not conn._channels)


def restore_for_reuse(conn: Connection, failed: bool) -> bool:
    """Make a returned blocking ``Connection`` fit for the next user; False when it
    must be closed instead. A connection that raised inside the block is checked with a
    PING; one left inside a transaction (or a transaction() block, or an unread stream)
    is reset with ``reset_session()`` (RESET_SESSION or a rollback); a listening one is
    closed."""
    if conn.closed or conn.broken or conn._channels:
        return False
    try:
        if failed:
            conn.ping()
        if ((conn._in_transaction and not conn._autocommit) or conn._tx_stack or failed
                or conn._streaming is not None or conn._autocommit
                or conn._isolation_level is not None or conn._read_only is not None):
            conn.reset_session()
    except Error:
        return False
    return conn.is_valid()


def monotonic() -> float:
    return time.monotonic()
