"""The notification methods of ``Connection``: listen(), unlisten(), notifies().

SUBSCRIBE / UNSUBSCRIBE (REFERENCE 7.9, feature 4) carry the channel as an ``lpstr``;
NOTIFICATION frames (0x54) arrive whenever the server sends them: inside a request's
reply (they are kept, in order) or while the connection is idle (``notifies()`` waits
for them). A listening connection is dedicated to notifications (the driver spec): any
other request raises ProgrammingError until ``unlisten()`` has ended every subscription.

Today's server acknowledges a SUBSCRIBE with ``("session", "subscription_active")``
(capture 18) and never delivers a notification: ``listen()`` succeeds and sets
``subscription_acknowledged``, and ``notifies()`` yields nothing. The dev server's
``full`` profile delivers ``NOTIFY channel, 'payload'`` to every listener.
"""
from __future__ import annotations

import collections
import re
import time
from typing import TYPE_CHECKING, Deque, FrozenSet, Generator, Iterable, List, Optional

from scratchbird import _constants as c
from scratchbird._log import log
from scratchbird.errors import (Error, NotSupportedError, ProgrammingError, ProtocolError)
from scratchbird.notify._messages import (Notification, NotificationItem, notification_parser,
                                          to_notification)

if TYPE_CHECKING:
    from scratchbird._connection_host import ConnectionHost as _Host, MakeFrame
else:
    _Host = object

__all__ = ["NotifyMixin"]

_CHANNEL = re.compile(r"[A-Za-z_][A-Za-z0-9_$.]{0,62}\Z")


def _check_channel(channel: str) -> str:
    if not isinstance(channel, str) or not _CHANNEL.match(channel):
        raise ProgrammingError(f"not a channel name: {channel!r} (an identifier: letters, "
                               "digits, '_', '$', '.'; at most 63 characters)")
    return channel


class NotifyMixin(_Host):
    """Mixed into ``Connection`` (which provides ``_request``, ``_lock``, ``_proto``...)."""

    _channels: FrozenSet[str] = frozenset()
    _notify_request = False
    _pending_notifications: Optional[Deque[Notification]] = None
    #: True once today's server acknowledged a SUBSCRIBE (``subscription_active``)
    subscription_acknowledged = False

    @property
    def channels(self) -> FrozenSet[str]:
        """The channels this connection listens on."""
        return self._channels

    def _refuse_if_listening(self) -> None:
        if self._channels and not self._notify_request:
            raise ProgrammingError(
                f"this connection listens on {', '.join(sorted(self._channels))}: a listening "
                "connection is dedicated to notifications; run statements on another "
                "connection, or call unlisten() first")

    def listen(self, channel: str) -> None:
        """Subscribe to ``channel`` (SUBSCRIBE, REFERENCE 7.9). From now on the connection
        only waits for notifications (``notifies()``) until ``unlisten()``."""
        channel = _check_channel(channel)
        with self._lock:
            proto = self._check_open()
            if not proto.negotiated_features & c.FEATURE_NOTIFICATIONS:
                raise NotSupportedError("the server did not grant notifications (feature 4)")
            if self._in_transaction and not self._autocommit or self._tx_stack:
                raise ProgrammingError("listen() inside a transaction: commit() or rollback() "
                                       "first (a listening connection runs no statements)")
            if channel in self._channels:
                return
            proto.parse_notification = notification_parser(proto.server_info)
            self._subscription_request(lambda p: p.subscribe_frame(channel))
            self._channels = self._channels | {channel}
            log.debug("listening on %r", channel)

    def unlisten(self, channel: Optional[str] = None) -> None:
        """End the subscription to ``channel`` (every one when None). Notifications
        already received stay available to ``notifies()``."""
        with self._lock:
            self._check_open()
            names = sorted(self._channels) if channel is None else [_check_channel(channel)]
            for name in names:
                if name in self._channels:
                    self._subscription_request(lambda p: p.subscribe_frame(name, unsubscribe=True))
                    self._channels = self._channels - {name}

    def _subscription_request(self, make_frame: MakeFrame) -> None:
        self._notify_request = True
        try:
            response = self._request(make_frame)
        finally:
            self._notify_request = False
        self._keep_notifications(response.notifications)
        if response.error is not None:
            raise response.error

    def _keep_notifications(self, items: Iterable[NotificationItem]) -> None:
        if self._pending_notifications is None:
            self._pending_notifications = collections.deque()
        for item in items:
            notification = to_notification(item)
            if notification is None:
                self.subscription_acknowledged = True
            else:
                self._pending_notifications.append(notification)

    def notifies(self, timeout: Optional[float] = None
                 ) -> Generator[Notification, None, None]:
        """Yield notifications as they arrive; stop after ``timeout`` seconds (None:
        wait forever; 0: only what has arrived already)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._lock:
                pending = self._pending_notifications
                if not pending:
                    self._check_open()
                    if not self._channels:
                        raise ProgrammingError("notifies(): the connection is not listening; "
                                               "call listen(channel) first")
                    remaining = None if deadline is None else deadline - time.monotonic()
                    self._wait_notifications(remaining)
                    pending = self._pending_notifications
                item = pending.popleft() if pending else None
            if item is not None:
                yield item
            elif deadline is not None and time.monotonic() >= deadline:
                return

    def _wait_notifications(self, remaining: Optional[float]) -> None:
        """Read what arrives within ``remaining`` seconds while no request runs."""
        proto, transport = self._proto, self._transport
        assert proto is not None and transport is not None   # notifies() checked it is open
        try:
            if not proto.reader.buffered:
                data = transport.recv_within(max(remaining, 0.0)
                                                   if remaining is not None else None)
                if data is None:
                    return
                proto.feed(data)
            items: List[NotificationItem] = []
            while True:
                frame = proto._next_frame()
                if frame is None:
                    break
                if frame.msg_type != c.NOTIFICATION:
                    raise ProtocolError(f"unexpected {c.MESSAGE_NAMES.get(frame.msg_type, hex(frame.msg_type))}"
                                        " frame while no request was running")
                try:
                    items.append(proto.parse_notification(frame.payload))
                except (ValueError, IndexError) as exc:
                    raise ProtocolError(f"malformed NOTIFICATION message from the server: {exc}") from None
        except Error:
            self._broken = True
            self._close_transport()
            raise
        self._keep_notifications(items)
