"""Extended-protocol requests of a cached prepared statement, in one call (pure twin).

The compiled twin is ``ext/requestcodec.pyx`` (same names, behaviour and messages). A
prepared statement's request differs from the last only in its BIND values (REFERENCE 5.2),
so the constant frames (``CLOSE 'P' ""`` before it; EXECUTE and SYNC after it, see
``scratchbird.prepared._runner``) and the constant head of the BIND payload (portal,
statement name, format codes) are built once; this joins them with the BIND frame's
header and values.
"""
from __future__ import annotations

from struct import Struct
from typing import Optional, Sequence

from scratchbird._constants import BIND, MAGIC, MAX_PAYLOAD
from scratchbird.errors import ProgrammingError, ProtocolError

__all__ = ["bind_request"]

_HEADER = Struct("<4sBBBBII16sQ")
_COUNT = Struct("<HH")
_LENGTH = Struct("<i")
_NULL = _LENGTH.pack(-1)


def _too_many(count: int) -> ProgrammingError:
    return ProgrammingError(f"{count} parameters: a BIND carries at most 65535")


def _not_bytes(value: object) -> ProgrammingError:
    return ProgrammingError(f"a BIND value must be bytes or None, not {type(value).__name__}")


def _too_long(length: int) -> ProtocolError:
    return ProtocolError(f"SBWP payload of {length} bytes exceeds the 64 MiB frame limit")


def bind_request(before: bytes, attachment_id: bytes, bind_head: bytes,
                 values: Sequence[Optional[bytes]], after: bytes) -> bytes:
    """``before`` + the BIND frame (``bind_head``, u16 value count, u16 0, each value as
    i32 length and bytes, -1 for NULL) + ``after``. Header: version 1.1, flags 0,
    sequence 0, txn_id 0 (as ``ClientProtocol._frame`` writes them)."""
    if len(values) > 0xFFFF:
        raise _too_many(len(values))
    parts = [bind_head, _COUNT.pack(len(values), 0)]
    for value in values:
        if value is None:
            parts.append(_NULL)
        elif isinstance(value, (bytes, bytearray)):
            parts.append(_LENGTH.pack(len(value)))
            parts.append(bytes(value))
        else:
            raise _not_bytes(value)
    payload = b"".join(parts)
    if len(payload) > MAX_PAYLOAD:
        raise _too_long(len(payload))
    header = _HEADER.pack(MAGIC, 1, 1, BIND, 0, len(payload), 0, bytes(attachment_id), 0)
    return b"".join((before, header, payload, after))
