"""The lifecycle methods of ``Connection``: reset, validity, broken, cancel."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Optional

from scratchbird import _constants as c
from scratchbird._log import log

if TYPE_CHECKING:
    from scratchbird._connection_host import ConnectionHost as _Host
else:
    _Host = object

__all__ = ["LifecycleMixin"]


class LifecycleMixin(_Host):
    """Mixed into ``Connection`` (which provides ``_request``, ``_lock``, ``_control``...)."""

    server_report: Optional[Dict[str, Any]]     # set by Connection.__init__

    @property
    def broken(self) -> bool:
        """True after a transport or protocol failure (the connection is then closed)."""
        proto = self._proto
        return self._broken or (proto is not None and proto.broken)

    def is_valid(self) -> bool:
        """A cheap local check, no round trip (database/sql's ``Validator``): not closed,
        not broken, and not in the middle of a request (a running statement, or a
        streaming result not yet read to its end). Use ``ping()`` to ask the server."""
        proto = self._proto
        return not (self.closed or self.broken or proto is None or proto.busy
                    or self._control.running)

    def cancel(self) -> bool:
        """Cancel the running request; callable from any thread (REFERENCE 7.2).

        Sends CANCEL without waiting for the request's lock. The running call raises
        ``QueryCanceledError`` if the server stops the statement; if it is still running
        5 seconds later (today's server cannot interrupt anything, 12.A.10) the
        connection is closed and the call raises ``QueryCanceledError``. A statement that
        finishes first keeps its results. Returns False when nothing was running."""
        return self._control.cancel()

    def reset_session(self) -> None:
        """Make the connection as if new (database/sql's ``SessionResetter``).

        RESET_SESSION (7.5: rolls back; drops prepared statements, portals and the trace
        context) when feature 21 was granted, else a rollback. Then the driver's session
        state goes back to its defaults: autocommit off, ``isolation_level`` and
        ``read_only`` None (re-applied on the server if they had been changed), no open
        ``transaction()`` block, cached statement state cleared."""
        with self._lock:
            proto = self._check_open()
            if self._streaming is not None:
                self._drain_stream()
            if proto.negotiated_features & c.FEATURE_SESSION_RESET:
                response = self._request(lambda p: p.reset_session_frame())
            else:
                response = self._request(lambda p: p.rollback_frame())
            if response.error is not None:
                raise response.error
            self._in_transaction = False
            self._autocommit = False
            self._tx_stack = []
            self.server_report = None
            proto._frame_cache.clear()
            cache = getattr(self, "_statement_cache", None)   # prepared statements (issue 10)
            if cache is not None and hasattr(cache, "clear"):
                cache.clear()
            self._restore_characteristics()
            log.debug("session reset (%s)", "RESET_SESSION" if proto.negotiated_features
                      & c.FEATURE_SESSION_RESET else "rollback")
