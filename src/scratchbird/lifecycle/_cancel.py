"""Cancelling a running request from another thread, and statement deadlines.

SBWP cancels in-band (REFERENCE 7.2): CANCEL goes on the same socket, and the server
reads it only when it reads its next frame. Today's server does that after the running
request has finished, so it interrupts nothing (12.A.10); the dev server's ``full``
profile reads it during the request and interrupts the engine. Therefore:

1. ``cancel()`` sends CANCEL under the connection's *send* lock, never the request lock
   (the request's thread holds that while it waits for the answer).
2. If the request is still running ``CANCEL_GRACE_SECONDS`` later (the spec's rule), the
   socket is shut down: the waiting thread wakes, the connection ends closed, and the
   call raises ``QueryCanceledError``. Never half-read: either the request's frames and
   the CANCEL reply are all read, or the connection is gone.
3. The CANCEL reply (CANCEL_ACK, CANCELLED, READY(6)) is read by ``ClientProtocol``
   wherever it arrives: after the request's READY, or before the next request's frames.
4. The running call raises ``QueryCanceledError`` only when the server stopped the
   statement (its ERROR 57014), or when the connection had to be closed. A statement that
   completed before the cancel took effect keeps its results, as in PostgreSQL and
   psycopg: CANCELLED alone proves nothing, the real server reports
   ``user_statement_cancelled`` for a targeted CANCEL even when nothing was cancelled.

A deadline (``timeout=``, ``statement_timeout``) is a timer that calls the same cancel.
"""
from __future__ import annotations

import socket
import threading
import uuid
from typing import TYPE_CHECKING, Callable, List, Optional, Protocol, cast

from scratchbird._log import log
from scratchbird.errors import Error, QueryCanceledError

if TYPE_CHECKING:
    from scratchbird._connection_host import ConnectionHost
    from scratchbird._protocol import Response
    from scratchbird._transport import ByteTransport, Transport

__all__ = ["RequestControl", "CANCEL_GRACE_SECONDS"]

#: seconds a request may go on after its CANCEL before the connection is closed (7.2)
CANCEL_GRACE_SECONDS = 5.0


class TimerHandle(Protocol):
    """A started timer: ``threading.Timer`` or an event loop's ``TimerHandle``."""

    def cancel(self) -> None: ...


class RequestControl:
    """Per-connection state of the running request: its serial number, its deadline
    timer, and whether a cancel was sent for it or closed the connection for it."""

    def __init__(self, conn: ConnectionHost) -> None:
        self._conn = conn
        self.send_lock = threading.Lock()   # every frame written on the socket
        self.serial = 0                     # bumped by every request
        self.running = False                # a request's frames are out, its READY not in
        self._cancelled: Optional[int] = None   # serial a CANCEL was sent for
        self._reason = "cancel"
        self._timeout: Optional[float] = None
        self._closed_by_cancel: Optional[int] = None
        self._timers: List[TimerHandle] = []

    # ------------------------------------------------------------ the request's thread

    def started(self, timeout: Optional[float]) -> None:
        """Called with the send lock held, right after the request's frames were sent."""
        self.serial += 1
        self.running = True
        self._timeout = timeout
        if timeout:
            self._timers.append(self._start_timer(timeout, self._deadline, self.serial))

    def finished(self, response: Optional[Response]) -> None:
        """The request's READY was read: stop its timers; name a timeout in its error."""
        self.running = False
        if self._timers:
            self._stop_timers()
        error = response.error if response is not None else None
        if (error is not None and response is not None and isinstance(error, QueryCanceledError) and self._cancelled == self.serial
                and self._reason == "timeout"):
            response.error = QueryCanceledError(
                f"statement timeout ({self._timeout:g} s) expired; the server cancelled the "
                f"statement: {error.message}", sqlstate=error.sqlstate, detail=error.detail,
                severity=error.severity, diag_code=error.diag_code, fields=error.fields)

    def failed(self, exc: BaseException) -> BaseException:
        """The request's read failed and the connection is closed: if a cancel closed
        it, say so with QueryCanceledError."""
        self.running = False
        self._stop_timers()
        if self._closed_by_cancel is not None and self._closed_by_cancel == self.serial:
            why = (f"statement timeout ({self._timeout:g} s) expired"
                   if self._reason == "timeout" else "the statement was cancelled")
            return QueryCanceledError(
                f"{why}, and the server did not stop it within {CANCEL_GRACE_SECONDS:g} s "
                "of the CANCEL (today's server cannot interrupt a statement, REFERENCE "
                "7.2); the connection was closed")
        return exc

    def _stop_timers(self) -> None:
        timers, self._timers = self._timers, []
        for timer in timers:
            timer.cancel()

    # ------------------------------------------------------------ any thread

    def cancel(self, reason: str = "cancel", serial: Optional[int] = None) -> bool:
        """Send CANCEL for the running request (``serial``: only if it is that one).
        True when a CANCEL went out; False when no request was running."""
        conn = self._conn
        with self.send_lock:
            proto, transport = conn._proto, conn._transport
            if (conn.closed or proto is None or transport is None or not self.running
                    or (serial is not None and serial != self.serial)
                    or self._cancelled == self.serial):
                return False
            serial = self.serial
            # 32 bytes: a fresh cancel UUID and the session id as the target ("targeted").
            frame = proto.cancel_frame(uuid.uuid4().bytes, proto.session_id)
            try:
                transport.send(frame)
            except Error:
                return False                # the request's own read reports the loss
            self._cancelled, self._reason = serial, reason
        log.debug("CANCEL sent for request %d (%s)", serial, reason)
        self._timers.append(self._start_timer(CANCEL_GRACE_SECONDS, self._expire, serial))
        return True

    def _start_timer(self, delay: float, action: Callable[[int], None],
                     serial: int) -> TimerHandle:
        """Call ``action(serial)`` in ``delay`` seconds; returns a handle with ``cancel()``
        (the asyncio front end schedules on its event loop instead, aio/_connection.py)."""
        timer = threading.Timer(delay, action, (serial,))
        timer.daemon = True
        timer.start()
        return timer

    def _wake_reader(self, transport: ByteTransport) -> None:
        """Shut the socket down so the thread blocked reading it wakes up (closing the
        descriptor would not wake it)."""
        socket.socket.shutdown(cast("Transport", transport).sock, socket.SHUT_RDWR)

    def _deadline(self, serial: int) -> None:
        self.cancel("timeout", serial)

    def _expire(self, serial: int) -> None:
        """The grace period is over: if that request still runs, shut the socket down so
        the waiting thread wakes up (closing the descriptor would not wake it)."""
        conn = self._conn
        if not (self.running and self.serial == serial) or conn._transport is None:
            return
        self._closed_by_cancel = serial
        log.debug("request %d still running %g s after CANCEL: closing the connection",
                  serial, CANCEL_GRACE_SECONDS)
        try:
            self._wake_reader(conn._transport)
        except OSError:
            pass
