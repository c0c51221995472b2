"""Notifications between dev-server sessions (``full`` profile; docs/protocol.md 12).

Today's server only acknowledges SUBSCRIBE (REFERENCE 7.9) and the ``sbsql`` profile
keeps doing exactly that (``Session._on_subscribe``). The ``full`` profile implements
the spec (REFERENCE 10 item 39): SUBSCRIBE's payload is ``lpstr channel``; SQL
``NOTIFY channel[, 'payload']`` from any session of the same server reaches every
session subscribed to the channel, as NOTIFICATION ``u32 pid, lpstr channel, lpstr
payload`` (``pid``: the sending session's number). Delivery is immediate (not at the
sender's commit).

Threads: the notifying session only appends to each listener's inbox. A listener
writes its own frames: while it waits for its client's next frame it polls its socket
(``POLL_SECONDS``) and sends what its inbox holds in between, so one socket (and its
TLS object) is only ever used by its own session thread.
"""
from __future__ import annotations

import collections
import itertools
import re
import select
import threading
import weakref
from typing import Any, Dict, Optional, Set

from scratchbird import _constants as C
from scratchbird._client_messages import _Cursor, MessageFormatError
from scratchbird._server_messages import encode_command_complete
from scratchbird.notify._messages import encode_notification_spec

__all__ = ["NotifyHub", "hub_for", "on_subscribe", "run_notify", "wait_readable", "drop"]

POLL_SECONDS = 0.02
_NOTIFY = re.compile(r"\s*NOTIFY\s+([A-Za-z_][A-Za-z0-9_$.]*)\s*(?:,\s*'((?:[^']|'')*)')?"
                     r"\s*;?\s*\Z", re.IGNORECASE | re.DOTALL)


class NotifyHub:
    """Who listens on which channel, for one server (one engine)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._listeners: Dict[str, Set[Any]] = {}     # channel -> listening sessions
        self._pids = itertools.count(1)

    def pid_of(self, session) -> int:
        pid = getattr(session, "notify_pid", None)
        if pid is None:
            with self._lock:
                pid = session.notify_pid = next(self._pids)
        return pid

    def subscribe(self, session, channel: str) -> None:
        with self._lock:
            if session.notify_inbox is None:
                session.notify_inbox = collections.deque()
            self._listeners.setdefault(channel, set()).add(session)

    def unsubscribe(self, session, channel: Optional[str]) -> None:
        with self._lock:
            for name in ([channel] if channel is not None else list(self._listeners)):
                members = self._listeners.get(name)
                if members is not None:
                    members.discard(session)
                    if not members:
                        del self._listeners[name]

    def publish(self, channel: str, payload: str, sender: int) -> int:
        frame = encode_notification_spec(sender, channel, payload)
        with self._lock:
            members = list(self._listeners.get(channel, ()))
            for session in members:
                session.notify_inbox.append(frame)
        return len(members)


_hubs: "weakref.WeakKeyDictionary[object, NotifyHub]" = weakref.WeakKeyDictionary()
_hubs_lock = threading.Lock()


def hub_for(engine) -> NotifyHub:
    with _hubs_lock:
        hub = _hubs.get(engine)
        if hub is None:
            hub = _hubs[engine] = NotifyHub()
        return hub


def _channel_of(payload) -> str:
    try:
        return _Cursor(payload, "SUBSCRIBE").lpstr().decode("utf-8")
    except (MessageFormatError, ValueError, IndexError):
        return ""


def on_subscribe(session, frame, payload) -> None:
    """SUBSCRIBE / UNSUBSCRIBE in the full profile: CC + READY(2), no synthetic NOTIFICATION."""
    if not session._need_auth():
        return
    hub = hub_for(session.cfg.engine)
    channel = _channel_of(payload)
    if frame.msg_type == C.SUBSCRIBE:
        if not channel:
            session._error("42602", "SBWP.SUBSCRIBE.CHANNEL_INVALID",
                           "SUBSCRIBE requires a channel name (lpstr)")
            session._ready(3)
            return
        hub.subscribe(session, channel)
        session._send(C.COMMAND_COMPLETE, encode_command_complete("SUBSCRIBE", 0))
    else:
        hub.unsubscribe(session, channel or None)
        session._send(C.COMMAND_COMPLETE, encode_command_complete("UNSUBSCRIBE", 0))
    session._ready(2)


def run_notify(session, sql: str) -> bool:
    """Answer ``NOTIFY channel[, 'payload']``; False when ``sql`` is something else."""
    match = _NOTIFY.match(sql)
    if match is None:
        return False
    hub = hub_for(session.cfg.engine)
    payload = (match.group(2) or "").replace("''", "'")
    hub.publish(match.group(1), payload, hub.pid_of(session))
    session._send(C.COMMAND_COMPLETE, encode_command_complete("NOTIFY", 0))
    session._ready(2)
    return True


def _deliver(session) -> None:
    inbox = session.notify_inbox
    while inbox:
        session._send(C.NOTIFICATION, inbox.popleft())
    session._flush()


def wait_readable(session) -> None:
    """Before the session blocks reading: send queued notifications until the client
    has sent something."""
    sock = session.sock
    pending = getattr(sock, "pending", None)
    while True:
        _deliver(session)
        if pending is not None and pending():
            return
        readable, _, _ = select.select([sock], [], [], POLL_SECONDS)
        if readable:
            return


def drop(session) -> None:
    if session.notify_inbox is not None:
        hub_for(session.cfg.engine).unsubscribe(session, None)
