"""SBWP payloads that carry a SCRAM-SHA-256 exchange (REFERENCE 3.8-3.11, 3.10 [SPEC]).

Today's server never sends these (REFERENCE 3.10 [SRV], 10 rows 13-15): the layouts
follow the design spec and the upstream drivers' reading of AUTH_CONTINUE, and are
written down in docs/protocol.md (sections 2 and 3). Both sides use them: the driver parses
what the dev server's ``full`` profile encodes.

    S: AUTH_REQUEST   u8 3, 3 x 0, u16 count, count x lpstr mechanism
    C: AUTH_RESPONSE  client-first message, raw bytes
    S: AUTH_CONTINUE  u8 3, u8 stage 1, u16 0, u32 length, server-first message
    C: AUTH_RESPONSE  client-final message, raw bytes
    S: AUTH_OK        uuid16 session id, u32 length, server-final message ("v=...")

Parsers raise ProtocolError: a payload that breaks these layouts ends the connection.
Reserved fields are sent as zero and a nonzero value is refused.
"""
from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from typing import Iterable, Tuple

from scratchbird._constants import AUTH_METHOD_SCRAM_SHA_256
from scratchbird._typing import Buffer
from scratchbird.errors import NotSupportedError, ProtocolError

__all__ = ["SCRAM_SHA_256", "STAGE_SERVER_FIRST", "encode_scram_auth_request",
           "parse_scram_auth_request", "choose_mechanism", "encode_scram_auth_response",
           "AuthContinue", "encode_auth_continue", "parse_auth_continue",
           "encode_scram_auth_ok", "parse_scram_auth_ok"]

SCRAM_SHA_256 = "SCRAM-SHA-256"
STAGE_SERVER_FIRST = 1      # AUTH_CONTINUE stage that carries the server-first message

_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_CONTINUE = struct.Struct("<BBHI")     # method, stage, reserved, data_length
# RFC 4422 section 3.1: a SASL mechanism name is 1-20 of A-Z, 0-9, '-', '_'
_MECHANISM_RE = re.compile(r"[A-Z0-9_-]{1,20}\Z")


def _check_mechanism(name: str) -> str:
    if not _MECHANISM_RE.match(name):
        raise ProtocolError(f"invalid SASL mechanism name {name[:40]!r} in AUTH_REQUEST")
    return name


# ---------------------------------------------------------------- AUTH_REQUEST (0x40), method 3

def encode_scram_auth_request(mechanisms: Iterable[str] = (SCRAM_SHA_256,)) -> bytes:
    """AUTH_REQUEST payload: method 3, 3 zero bytes, u16 count, count x lpstr name."""
    names = [_check_mechanism(m).encode("ascii") for m in mechanisms]
    parts = [bytes((AUTH_METHOD_SCRAM_SHA_256, 0, 0, 0)), _U16.pack(len(names))]
    for name in names:
        parts += (_U32.pack(len(name)), name)
    return b"".join(parts)


def parse_scram_auth_request(payload: Buffer) -> Tuple[str, ...]:
    """Mechanism names of a method-3 AUTH_REQUEST payload (the whole payload).

    A bare 4-byte method-3 request (no list, as REFERENCE 11.2 says the drivers accept)
    means SCRAM-SHA-256 alone.
    """
    data = bytes(payload)
    if len(data) < 4 or data[0] != AUTH_METHOD_SCRAM_SHA_256:
        raise ProtocolError("AUTH_REQUEST is not a method-3 (SCRAM) request")
    if data[1:4] != b"\0\0\0":
        raise ProtocolError("AUTH_REQUEST reserved bytes are not zero")
    if len(data) == 4:
        return (SCRAM_SHA_256,)
    if len(data) < 6:
        raise ProtocolError("AUTH_REQUEST mechanism list truncated in its count")
    (count,) = _U16.unpack_from(data, 4)
    pos = 6
    names = []
    for i in range(count):
        if pos + 4 > len(data):
            raise ProtocolError(f"AUTH_REQUEST mechanism list truncated at name {i}")
        (length,) = _U32.unpack_from(data, pos)
        pos += 4
        if length > len(data) - pos:
            raise ProtocolError(f"AUTH_REQUEST mechanism name {i} runs past the payload")
        try:
            name = data[pos:pos + length].decode("ascii")
        except UnicodeDecodeError:
            raise ProtocolError(f"AUTH_REQUEST mechanism name {i} is not ASCII") from None
        names.append(_check_mechanism(name))
        pos += length
    if pos != len(data):
        raise ProtocolError(f"AUTH_REQUEST has {len(data) - pos} bytes after its mechanism list")
    return tuple(names)


def choose_mechanism(offered: Iterable[str]) -> str:
    """The mechanism this driver uses from the server's list; NotSupportedError if none."""
    offered = tuple(offered)
    if SCRAM_SHA_256 in offered:
        return SCRAM_SHA_256
    raise NotSupportedError(
        f"the server offers SASL mechanisms {', '.join(offered) or '(none)'}; this driver "
        f"supports {SCRAM_SHA_256} (without channel binding)")


# ---------------------------------------------------------------- AUTH_RESPONSE (0x02)

def encode_scram_auth_response(message: bytes) -> bytes:
    """AUTH_RESPONSE payload: the client-first or client-final message, byte for byte."""
    return bytes(message)


# ---------------------------------------------------------------- AUTH_CONTINUE (0x42)

@dataclass
class AuthContinue:
    method: int
    stage: int
    data: bytes


def encode_auth_continue(data: bytes, stage: int = STAGE_SERVER_FIRST,
                         method: int = AUTH_METHOD_SCRAM_SHA_256) -> bytes:
    """AUTH_CONTINUE payload: u8 method, u8 stage, u16 reserved 0, u32 length, data."""
    return _CONTINUE.pack(method, stage, 0, len(data)) + bytes(data)


def parse_auth_continue(payload: Buffer) -> AuthContinue:
    """Parse an AUTH_CONTINUE payload; the data length must cover the rest exactly."""
    data = bytes(payload)
    if len(data) < _CONTINUE.size:
        raise ProtocolError(f"AUTH_CONTINUE payload of {len(data)} bytes is shorter than its "
                            f"{_CONTINUE.size}-byte header")
    method, stage, reserved, length = _CONTINUE.unpack_from(data)
    if reserved:
        raise ProtocolError("AUTH_CONTINUE reserved field is not zero")
    if length != len(data) - _CONTINUE.size:
        raise ProtocolError(f"AUTH_CONTINUE declares {length} data bytes but carries "
                            f"{len(data) - _CONTINUE.size}")
    return AuthContinue(method, stage, data[_CONTINUE.size:])


# ---------------------------------------------------------------- AUTH_OK (0x41)

def encode_scram_auth_ok(session_id: bytes, server_final: bytes) -> bytes:
    """AUTH_OK payload: uuid16 session id, u32 info length, the server-final message."""
    if len(session_id) != 16:
        raise ValueError("session_id must be 16 bytes")
    return bytes(session_id) + _U32.pack(len(server_final)) + bytes(server_final)


def parse_scram_auth_ok(payload: Buffer) -> Tuple[bytes, bytes]:
    """``(session_id, info)`` of AUTH_OK; after SCRAM, ``info`` is the server-final message."""
    data = bytes(payload)
    if len(data) < 20:
        raise ProtocolError(f"AUTH_OK payload of {len(data)} bytes is shorter than 20")
    (length,) = _U32.unpack_from(data, 16)
    if length != len(data) - 20:
        raise ProtocolError(f"AUTH_OK declares {length} info bytes but carries {len(data) - 20}")
    return data[:16], data[20:]
