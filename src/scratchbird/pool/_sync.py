"""``ConnectionPool``: a thread-safe pool of blocking connections."""
from __future__ import annotations

import contextlib
import threading
from typing import Any, Callable, Iterator, Optional

from scratchbird.connection import Connection, connect
from scratchbird.errors import Error
from scratchbird._log import log
from scratchbird.pool._policy import (PoolClosed, PoolPolicy, monotonic, ready_for_checkout,
                                      restore_for_reuse)

__all__ = ["ConnectionPool"]


class ConnectionPool:
    """A pool of ``scratchbird.Connection`` (Go database/sql semantics).

    ``with pool.connection() as conn:`` hands out a connection and takes it back.
    Settings: ``min_size`` connections are kept open (a background thread opens them
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

    def __init__(self, conninfo: Optional[str] = None, *, min_size: int = 1,
                 max_size: Optional[int] = None, timeout: float = 30.0,
                 max_idle: Optional[float] = 600.0, max_lifetime: Optional[float] = 3600.0,
                 max_waiting: int = 0, check: Optional[Callable[[Connection], Any]] = None,
                 reset: Optional[Callable[[Connection], Any]] = None,
                 kwargs: Optional[dict] = None, name: Optional[str] = None,
                 connect_fn: Callable[..., Connection] = connect) -> None:
        self.conninfo = conninfo
        self.kwargs = dict(kwargs or {})
        self.name = name or "pool"
        self.check, self.reset = check, reset
        self._connect_fn = connect_fn
        self._policy = PoolPolicy(min_size, max_size, timeout, max_idle, max_lifetime,
                                  max_waiting)
        self._cond = threading.Condition()
        self._wake = threading.Event()
        self._worker = threading.Thread(target=self._upkeep_loop, daemon=True,
                                        name=f"scratchbird-{self.name}-upkeep")
        self._worker.start()

    def __repr__(self) -> str:
        return f"<scratchbird.pool.ConnectionPool {self.name!r} {self.stats()}>"

    @property
    def closed(self) -> bool:
        return self._policy.closed

    def stats(self) -> dict:
        with self._cond:
            return self._policy.stats()

    def wait(self, timeout: float = 30.0) -> None:
        """Block until ``min_size`` connections are open (raises PoolTimeout)."""
        deadline = monotonic() + timeout
        with self._cond:
            while len(self._policy.idle) + len(self._policy.busy) < self._policy.min_size:
                if monotonic() >= deadline:
                    raise self._policy.timed_out()
                self._cond.wait(min(0.1, deadline - monotonic()))

    # ------------------------------------------------------------ checkout / return

    @contextlib.contextmanager
    def connection(self, timeout: Optional[float] = None) -> Iterator[Connection]:
        conn = self.getconn(timeout)
        failed = False
        try:
            yield conn
        except BaseException:
            failed = True
            raise
        finally:
            self.putconn(conn, failed=failed)

    def getconn(self, timeout: Optional[float] = None) -> Connection:
        """Take a connection (give it back with ``putconn``)."""
        policy = self._policy
        deadline = monotonic() + (policy.timeout if timeout is None else timeout)
        while True:
            slot, grow = self._reserve(deadline)
            if grow:
                conn = self._open(busy=True)
            else:
                conn = slot.conn
                if not self._fit(conn):     # nothing sent yet: take another (ErrBadConn)
                    with self._cond:
                        policy.discard(slot, "discarded_unchecked")
                        policy.counts["retried"] += 1
                    self._close(conn)
                    self._wake.set()
                    continue
            return conn

    def _reserve(self, deadline: float):
        policy = self._policy
        with self._cond:
            waiting = False
            try:
                while True:
                    if policy.closed:
                        raise PoolClosed("the pool is closed")
                    slot, grow, expired = policy.checkout(monotonic())
                    for old in expired:
                        self._close(old.conn)
                    if slot is not None or grow:
                        return slot, grow
                    if not waiting:
                        policy.start_waiting()
                        waiting = True
                    remaining = deadline - monotonic()
                    if remaining <= 0:
                        raise policy.timed_out()
                    self._cond.wait(remaining)
            finally:
                if waiting:
                    policy.waiting -= 1

    def _fit(self, conn: Connection) -> bool:
        if not ready_for_checkout(conn):
            return False
        if self.check is not None:
            try:
                self.check(conn)
            except Error as exc:
                log.debug("pool %s: check refused a connection: %s", self.name, exc)
                return False
        return True

    def putconn(self, conn: Connection, failed: bool = False) -> None:
        """Give a connection back (see the class docstring for what happens to it)."""
        usable = restore_for_reuse(conn, failed)
        if usable and self.reset is not None:
            try:
                self.reset(conn)
            except Error:
                usable = False
        with self._cond:
            dropped = self._policy.checkin(conn, monotonic(), usable and conn.is_valid())
            self._cond.notify()
        if dropped is not None:
            self._close(conn)
            self._wake.set()        # replace it in the background (min_size)

    # ------------------------------------------------------------ opening, upkeep

    def _open(self, busy: bool) -> Connection:
        try:
            conn = self._connect_fn(self.conninfo, **self.kwargs)
        except BaseException:
            with self._cond:
                self._policy.open_failed()
                self._cond.notify()
            raise
        with self._cond:
            self._policy.opened(conn, monotonic(), busy)
            if not busy:
                self._cond.notify()
        return conn

    @staticmethod
    def _close(conn: Connection) -> None:
        try:
            conn.close()
        except Error:
            pass

    def _upkeep_loop(self) -> None:
        policy = self._policy
        while True:
            with self._cond:
                if policy.closed:
                    return
                to_close, to_open = policy.upkeep(monotonic())
            for slot in to_close:
                self._close(slot.conn)
            for i in range(to_open):
                try:
                    self._open(busy=False)
                except Error as exc:
                    log.debug("pool %s: opening a connection failed: %s", self.name, exc)
                    with self._cond:
                        policy.size -= to_open - i - 1      # give back the rest of the room
                    break
            self._wake.wait(1.0 if not to_open else 0.1)
            self._wake.clear()

    # ------------------------------------------------------------ closing

    def close(self, timeout: float = 5.0) -> None:
        """Stop handing out connections, wait up to ``timeout`` seconds for those in
        use to come back, then close every connection."""
        policy = self._policy
        deadline = monotonic() + timeout
        with self._cond:
            policy.closed = True
            self._cond.notify_all()
            while policy.busy and monotonic() < deadline:
                self._cond.wait(deadline - monotonic())
            idle, policy.idle = list(policy.idle), type(policy.idle)()
            busy = list(policy.busy.values())
            policy.size -= len(idle)
        self._wake.set()
        for slot in idle + busy:
            self._close(slot.conn)
        if self._worker is not threading.current_thread():
            self._worker.join(timeout)

    def __enter__(self) -> "ConnectionPool":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
