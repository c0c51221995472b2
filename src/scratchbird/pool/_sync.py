"""``ConnectionPool``: the pool, written once.

The blocking pool is this class with threads (``_Threads``). The asyncio pool
(``_async``) runs this same code in a greenlet (``aio._bridge``) with asyncio's
condition, event and task behind the same small interface (``_async._Loop``), the way
``AsyncConnection`` runs ``Connection``. The decisions themselves (which connection,
when to open or close one) are ``_policy.PoolPolicy``.
"""
from __future__ import annotations

import threading
from types import TracebackType
from typing import TYPE_CHECKING, Any, Callable, Dict, Generic, Optional, Tuple, Type, TypeVar

from scratchbird.connection import Connection, connect
from scratchbird.errors import Error
from scratchbird._log import log
from scratchbird.pool._policy import (Lease, PoolClosed, PoolPolicy, Slot, monotonic,
                                      ready_for_checkout, restore_for_reuse)

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["ConnectionPool"]

UPKEEP_SECONDS = 1.0     # the upkeep worker looks at the idle connections this often

_C = TypeVar("_C")      # the pooled connection: Connection, or AsyncConnection (_async)


class _Threads:
    """What the pool needs from its concurrency model: threads."""

    @staticmethod
    def condition() -> threading.Condition:
        return threading.Condition()

    @staticmethod
    def event() -> threading.Event:
        return threading.Event()

    @staticmethod
    def start(fn: Callable[[], None], name: str) -> threading.Thread:
        worker = threading.Thread(target=fn, daemon=True, name=name)
        worker.start()
        return worker

    @staticmethod
    def join(worker: threading.Thread, timeout: float) -> None:
        if worker is not threading.current_thread():
            worker.join(timeout)


class _Pool(Generic[_C]):
    """A thread-safe pool of ``scratchbird.Connection`` (Go database/sql semantics).

    ``with pool.connection() as conn:`` hands out a connection and takes it back.
    Settings: ``min_size`` connections are kept open (a background worker opens them
    and closes idle ones past ``max_idle`` seconds, above ``min_size``); at most
    ``max_size`` are open; a connection lives at most ``max_lifetime`` seconds (minus up
    to 10 % jitter, so they do not all reconnect at once); waiting longer than
    ``timeout`` seconds raises ``PoolTimeout``, and more than ``max_waiting`` waiters
    (0: no limit) raise ``TooManyRequests`` (both ``OperationalError``\\ s).
    ``check(conn)`` runs on every checkout of a connection that was idle (e.g.
    ``Connection.ping``; raise an ``Error`` to refuse it), not on a new one;
    ``reset(conn)`` on every return of a usable one.

    On return, whatever the block did: a connection that is broken or closed is
    discarded and replaced in the background; one left inside a transaction is rolled
    back with ``reset_session()``; one whose block raised is checked (PING) and reset
    before reuse. Uncommitted work is never committed by the pool: commit inside the
    block (``with conn.transaction():``).

    Retry rule (database/sql's ``ErrBadConn``): a request is retried on another
    connection only when the driver knows nothing was written for it. The pool does
    that at checkout: a connection found dead there (closed by the server while idle,
    broken, or refused by ``check``) is discarded and another one is taken, because
    no byte of the caller's request has gone out yet. Once the block has started, the
    pool never retries anything: a request whose bytes may have reached the server
    could run twice, so its error goes to the caller.
    """

    _runtime: Any = _Threads

    def __init__(self, conninfo: Optional[str] = None, *, min_size: int = 1,
                 max_size: Optional[int] = None, timeout: float = 30.0,
                 max_idle: Optional[float] = 600.0, max_lifetime: Optional[float] = 3600.0,
                 max_waiting: int = 0, check: Optional[Callable[[_C], Any]] = None,
                 reset: Optional[Callable[[_C], Any]] = None,
                 kwargs: Optional[Dict[str, Any]] = None, name: Optional[str] = None,
                 connect_fn: Callable[..., Any] = connect, open: bool = True) -> None:
        self.conninfo = conninfo
        self.kwargs = dict(kwargs or {})
        self.name = name or "pool"
        self.check, self.reset = check, reset
        self._connect_fn = connect_fn
        self._policy = PoolPolicy(min_size, max_size, timeout, max_idle, max_lifetime,
                                  max_waiting)
        self._worker: Any = None     # the upkeep thread or task (_runtime.start)
        if open:
            self._open_pool()

    def _open_pool(self) -> None:
        if self._worker is None:
            if self._policy.closed:
                raise PoolClosed("the pool is closed")
            self._cond, self._wake = self._runtime.condition(), self._runtime.event()
            self._worker = self._runtime.start(self._upkeep_loop,
                                               f"scratchbird-{self.name}-upkeep")

    def __repr__(self) -> str:
        return f"<scratchbird.pool.{type(self).__name__} {self.name!r} {self.stats()}>"

    @property
    def closed(self) -> bool:
        return self._policy.closed

    def stats(self) -> Dict[str, int]:
        """Sizes and counters (``PoolPolicy.stats``)."""
        return self._policy.stats()

    def wait(self, timeout: float = 30.0) -> None:
        """Block until ``min_size`` connections are open (raises PoolTimeout)."""
        policy = self._policy
        deadline = monotonic() + timeout
        with self._cond:
            while len(policy.idle) + len(policy.busy) < policy.min_size:
                if monotonic() >= deadline:
                    raise policy.timed_out()
                self._cond.wait(min(0.1, deadline - monotonic()))

    # ------------------------------------------------------------ checkout / return

    def connection(self, timeout: Optional[float] = None) -> Lease[_C]:
        """``with pool.connection() as conn:``: a connection for the block."""
        return Lease(self, timeout)

    def getconn(self, timeout: Optional[float] = None) -> _C:
        """Take a connection (give it back with ``putconn``)."""
        policy = self._policy
        deadline = monotonic() + (policy.timeout if timeout is None else timeout)
        while True:
            slot, grow = self._reserve(deadline)
            if grow:
                return self._open(busy=True)
            assert slot is not None         # checkout gives a slot, or room to grow
            conn: _C = slot.conn
            if self._fit(conn):
                return conn
            with self._cond:            # nothing sent yet: take another (ErrBadConn)
                policy.discard(slot, "discarded_unchecked")
                policy.counts["retried"] += 1
            self._close(slot.conn)
            self._wake.set()

    def _reserve(self, deadline: float) -> Tuple[Optional[Slot], bool]:
        policy = self._policy
        with self._cond:
            waiting = False
            try:
                while True:
                    slot, grow = policy.checkout(monotonic(), waiting, deadline)
                    if slot is not None or grow:
                        return slot, grow
                    waiting = True
                    self._cond.wait(deadline - monotonic())
            finally:
                if waiting:
                    policy.waiting -= 1
                if policy.expired:
                    self._wake.set()     # the upkeep worker closes them

    def _fit(self, conn: _C) -> bool:
        if not ready_for_checkout(self._blocking(conn)):
            return False
        if self.check is not None:
            try:
                self._call_user(self.check, conn)
            except Error as exc:
                log.debug("pool %s: check refused a connection: %s", self.name, exc)
                return False
        return True

    def putconn(self, conn: _C, failed: bool = False) -> None:
        """Give a connection back (see the class docstring for what happens to it)."""
        usable = restore_for_reuse(self._blocking(conn), failed)
        if usable and self.reset is not None:
            try:
                self._call_user(self.reset, conn)
            except Error:
                usable = False
        with self._cond:
            dropped = self._policy.checkin(conn, monotonic(),
                                           usable and self._blocking(conn).is_valid())
            self._cond.notify()
        if dropped is not None:
            self._close(conn)
            self._wake.set()        # replace it in the background (min_size)

    # ------------------------------------------------------------ what differs by front end

    @staticmethod
    def _blocking(conn: Any) -> Connection:
        blocking: Connection = conn
        return blocking

    def _connect(self) -> _C:
        conn: _C = self._connect_fn(self.conninfo, **self.kwargs)
        return conn

    @staticmethod
    def _call_user(fn: Callable[[Any], Any], conn: Any) -> Any:
        return fn(conn)

    @staticmethod
    def _close(conn: Any) -> None:
        try:
            conn.close()
        except Error:
            pass

    # ------------------------------------------------------------ opening, upkeep

    def _open(self, busy: bool) -> _C:
        try:
            conn = self._connect()
        except BaseException:
            with self._cond:
                self._policy.open_failed()
                self._cond.notify()
            raise
        with self._cond:
            self._policy.opened(conn, monotonic(), busy)
            self._cond.notify()
        return conn

    def _upkeep_loop(self) -> None:
        policy = self._policy
        while not policy.closed:
            with self._cond:
                to_close, opening = policy.upkeep(monotonic())
            for slot in to_close:
                self._close(slot.conn)
            if opening:
                try:
                    self._open(busy=False)
                except Error as exc:
                    log.debug("pool %s: opening a connection failed: %s", self.name, exc)
                    opening = False
            self._wake.wait(0 if opening else UPKEEP_SECONDS)
            self._wake.clear()

    # ------------------------------------------------------------ closing

    def close(self, timeout: float = 5.0) -> None:
        """Stop handing out connections, wait up to ``timeout`` seconds for those in
        use to come back, then close every connection."""
        policy = self._policy
        if self._worker is None:
            policy.closed = True
            return
        deadline = monotonic() + timeout
        with self._cond:
            policy.closed = True
            self._cond.notify_all()
            while policy.busy and monotonic() < deadline:
                self._cond.wait(deadline - monotonic())
            slots = policy.close_all()
        self._wake.set()
        for slot in slots:
            self._close(slot.conn)
        self._runtime.join(self._worker, timeout)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException],
                 tb: Optional[TracebackType]) -> None:
        self.close()


class ConnectionPool(_Pool[Connection]):
    __doc__ = _Pool.__doc__     # the pool's code is _Pool's, shared with AsyncConnectionPool
