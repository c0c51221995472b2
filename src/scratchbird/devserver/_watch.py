"""Watching the client's socket while the engine works: CANCEL and a vanished peer.

The session thread runs engine work inline (``RequestWatch.iterate`` wraps the engine's
iterators, one *step* per ``next()``). A watchdog thread per session looks at the socket
only while a step has been running for a while (``POLL_SECONDS``) and the session thread
is therefore inside the engine, never writing: it holds ``sock_lock`` around each
``select``/``recv``, and the session thread takes that lock when a step ends, before it
touches the socket again. So one TLS object is never used by two threads at once.

Frames read this way are queued (``Session._held``) and dispatched in order after the
request, exactly as if they had been read later: a CANCEL is answered (CANCEL_ACK,
CANCELLED, READY(6)) after the request's READY, as on the real server (REFERENCE 7.2).
What differs by profile is the side effect of seeing it:

* ``full``: a CANCEL interrupts DuckDB at once (``EngineSession.interrupt``); the request
  ends with ERROR 57014 and the connection stays usable.
* ``sbsql``: nothing is interrupted (today's server cannot, 12.A.10); the request runs on.

In both profiles a peer that closed its socket interrupts the work: nobody can read its
answer. That is invisible on the wire and frees the shared engine at once (the real
server keeps working, 12.A.10, which only makes the next connect slow).
"""
from __future__ import annotations

import logging
import select
import ssl
import threading
import time
from typing import Optional

from scratchbird import _constants as C
from scratchbird.errors import ProtocolError

__all__ = ["RequestWatch", "POLL_SECONDS", "BAD_INPUT"]

log = logging.getLogger("scratchbird.devserver")

#: a step is watched once it has run this long (seen running at two polls in a row)
POLL_SECONDS = 0.05
_SELECT_SECONDS = 0.02
_RECV = 256 * 1024
_END = object()
#: queued in place of frames when the bytes read during a step broke framing
BAD_INPUT = object()


class RequestWatch:
    """One per session; its watchdog thread starts with the first request."""

    def __init__(self, session, interrupt_on_cancel: bool) -> None:
        self.session = session
        self.interrupt_on_cancel = interrupt_on_cancel
        self.sock_lock = threading.Lock()
        self.peer_gone = False
        self._active = 0            # id of the running step, 0 between steps
        self._steps = 0
        self._busy = threading.Event()   # a request is being served
        self._stopped = False
        self._thread: Optional[threading.Thread] = None

    # ------------------------------------------------------------ the session thread

    def begin_request(self) -> None:
        self.session.es.clear_interrupt()
        if self._thread is None:
            thread = threading.Thread(target=self._loop, daemon=True,
                                      name=f"sbwp-watch {self.session.peer}")
            self._thread = thread
            thread.start()
        self._busy.set()

    def end_request(self) -> None:
        self._busy.clear()
        es = self.session.es
        if es is not None:
            es.clear_interrupt()

    def iterate(self, iterator):
        """``iterator``'s items, each ``next()`` a watched step."""
        try:
            while True:
                item = self.step(next, iterator, _END)
                if item is _END:
                    return
                yield item
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()

    def step(self, fn, *args):
        self._steps += 1
        self._active = self._steps
        try:
            return fn(*args)
        finally:
            self._active = 0
            with self.sock_lock:    # wait until the watchdog is off the socket
                pass

    def stop(self) -> None:
        self._stopped = True
        self._busy.set()

    # ------------------------------------------------------------ the watchdog thread

    def _loop(self) -> None:
        seen = 0
        while True:
            self._busy.wait()
            if self._stopped:
                return
            time.sleep(POLL_SECONDS)
            step = self._active
            if step and step == seen and not self.peer_gone:
                try:
                    self._watch(step)
                except Exception:       # never take the session down from here
                    log.exception("%s: request watch failed", self.session.peer)
            seen = step

    def _watch(self, step: int) -> None:
        session = self.session
        sock = session.sock
        with self.sock_lock:
            if self._active != step:
                return
            # Frames the session read with the request's own bytes (a CANCEL sent right
            # after its QUERY can arrive in the same recv) wait in its reader, not in the
            # socket: take them first, or such a CANCEL is seen only after the request.
            self._take(b"")
        while self._active == step and not self._stopped:
            with self.sock_lock:
                if self._active != step:
                    return
                pending = getattr(sock, "pending", None)
                if not (pending is not None and pending()):
                    readable, _, _ = select.select([sock], [], [], _SELECT_SECONDS)
                    if not readable:
                        continue
                try:
                    data = sock.recv(_RECV)
                except ssl.SSLWantReadError:
                    continue
                except OSError:
                    data = b""
                if not data:
                    self.peer_gone = True
                    log.debug("%s: peer closed during a request; interrupting it", session.peer)
                    self._interrupt()
                    return
                self._take(data)

    def _take(self, data: bytes) -> None:
        """Move the complete frames out of the session's reader into its queue."""
        session = self.session
        if data:
            session.reader.feed(data)
        while True:
            try:
                frame = session.reader.next_frame()
            except ProtocolError:
                session._held.append(BAD_INPUT)     # the session closes when it gets there
                return
            if frame is None:
                return
            session._held.append(frame)
            if frame.msg_type == C.CANCEL and self.interrupt_on_cancel:
                log.debug("%s: CANCEL during a request; interrupting the engine", session.peer)
                self._interrupt()

    def _interrupt(self) -> None:
        es = self.session.es
        if es is not None:
            es.interrupt()
