"""NOTIFICATION (0x54) payloads, in the two layouts servers send.

* Today's server (REFERENCE 7.9, 12): ``lpstr channel, lpstr payload, u32 0``; it sends
  one, ``("session", "subscription_active", 0)``, as the acknowledgement of a SUBSCRIBE
  and never delivers anything else.
* The spec (REFERENCE 10 item 39), sent by the dev server's ``full`` profile:
  ``u32 pid, lpstr channel, lpstr payload`` and optionally ``u8 change, u64 row_id``
  (a typed row-change subscription; never sent by the dev server, read if present).

Which layout a session uses is decided by the server's declared product
(SERVER_INFO), never by looking at the bytes (docs/protocol.md 12).
"""
from __future__ import annotations

import struct
from typing import Any, NamedTuple, Optional, Protocol, Tuple

from scratchbird._client_messages import _Cursor, lpstr
from scratchbird._server_messages import parse_notification as parse_notification_p1
from scratchbird._typing import Buffer

__all__ = ["Notification", "encode_notification_spec", "parse_notification_spec",
           "parse_notification_p1", "notification_parser", "is_subscription_ack",
           "TODAYS_SERVER_PRODUCTS"]

#: SERVER_INFO products that send the real server's layout (REFERENCE 7.9)
TODAYS_SERVER_PRODUCTS = ("ScratchBird native SBWP P1",)
_U32 = struct.Struct("<I")

#: a parsed NOTIFICATION payload: ``(channel, payload, sender)``
NotificationItem = Tuple[str, str, int]


class NotificationParser(Protocol):
    """A NOTIFICATION payload parser (``ClientProtocol.parse_notification``)."""

    def __call__(self, payload: Buffer) -> NotificationItem: ...


class Notification(NamedTuple):
    """One notification: its channel, payload text and the sending session's id
    (``sender``; 0 when the server does not say)."""
    channel: str
    payload: str
    sender: int


def encode_notification_spec(pid: int, channel: str, payload: str) -> bytes:
    return _U32.pack(pid & 0xFFFFFFFF) + lpstr(channel) + lpstr(payload)


def parse_notification_spec(payload: Buffer) -> NotificationItem:
    """-> ``(channel, payload, pid)``, the order the protocol's parser returns."""
    cur = _Cursor(payload, "NOTIFICATION")
    pid = cur.u32()
    channel = cur.lpstr().decode("utf-8", "replace")
    body = cur.lpstr().decode("utf-8", "replace")
    return channel, body, pid


def notification_parser(server_info: Any) -> NotificationParser:
    """The payload parser for a session with this SERVER_INFO."""
    product = getattr(server_info, "product", None)
    if product is None or product in TODAYS_SERVER_PRODUCTS:
        return parse_notification_p1
    return parse_notification_spec


def is_subscription_ack(item: Tuple[Any, ...]) -> bool:
    """Today's server's answer to SUBSCRIBE (capture 18): not a notification."""
    return tuple(item[:2]) == ("session", "subscription_active")


def to_notification(item: NotificationItem) -> Optional[Notification]:
    if is_subscription_ack(item):
        return None
    channel, body, sender = item
    return Notification(channel, body, sender)
