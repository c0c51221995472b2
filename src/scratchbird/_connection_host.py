"""What the ``Connection`` mixins (lifecycle/, transactions/, notify/) rely on, for mypy.

``Connection`` is put together from mixins that call each other's state: the mixins
subclass ``ConnectionHost`` only while type checking (at run time they subclass
``object``), so mypy checks every ``self._request(...)`` in them against ``Connection``'s
own definitions. Nothing here runs.
"""
from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Protocol

if TYPE_CHECKING:
    from scratchbird._dsn import ConnectParams
    from scratchbird._protocol import ClientProtocol, Response
    from scratchbird._transport import ByteTransport
    from scratchbird.lifecycle._cancel import RequestControl
    from scratchbird.prepared import StatementCache
    from scratchbird.transactions._block import Transaction

__all__ = ["ConnectionHost", "MakeFrame"]

#: builds one request's frame(s) from the session state
MakeFrame = Callable[["ClientProtocol"], bytes]


class ConnectionHost(Protocol):
    """The state and request methods ``Connection`` gives its mixins."""

    closed: bool
    server_report: Optional[Dict[str, Any]]
    _params: ConnectParams
    _lock: threading.RLock
    _proto: Optional[ClientProtocol]
    _transport: Optional[ByteTransport]
    _control: RequestControl
    _broken: bool
    _autocommit: bool
    _in_transaction: bool
    _streaming: Optional[Response]
    _tx_stack: List[Transaction]
    _statement_cache: Optional[StatementCache]

    def _check_open(self) -> ClientProtocol: ...

    def _request(self, make_frame: MakeFrame, row_limit: Optional[int] = None, *,
                 timeout: Optional[float] = None, log_sql: Optional[str] = None,
                 log_params: Any = None) -> Response: ...

    def _drain_stream(self) -> None: ...

    def _close_transport(self) -> None: ...

    def _restore_characteristics(self) -> None: ...
