"""SBWP frame header codec and a frame reader over received chunks (pure-Python twin).

The compiled twin is ``ext/framing.pyx``; both expose the same names and behaviour.
A frame is a 40-byte header (REFERENCE 2) and a payload of at most 64 MiB. The reader
keeps the received chunks as they came (immutable ``bytes``) and hands out payloads
as memoryviews into them; it copies only a frame that spans two chunks.
"""
from __future__ import annotations

from collections import deque
from struct import Struct
from typing import Callable, Deque, Optional, Tuple

from scratchbird._constants import HEADER_SIZE, MAGIC, MAX_PAYLOAD, ZERO_UUID, FLAG_RESERVED_MASK
from scratchbird._typing import Buffer
from scratchbird.errors import ProtocolError

__all__ = ["Frame", "FrameReader", "decode_header", "encode_header", "encode_frame",
           "sequence_error"]

# magic, major, minor, type, flags, length, sequence, attachment_id, txn_id
_HEADER = Struct("<4sBBBBII16sQ")

# msg_type, flags, length, sequence, attachment_id, txn_id
_Header = Tuple[int, int, int, int, bytes, int]


class Frame:
    """One received frame: header fields and the payload (a memoryview)."""

    __slots__ = ("msg_type", "flags", "sequence", "attachment_id", "txn_id", "payload")

    def __init__(self, msg_type: int, flags: int, sequence: int, attachment_id: bytes,
                 txn_id: int, payload: memoryview) -> None:
        self.msg_type = msg_type
        self.flags = flags
        self.sequence = sequence
        self.attachment_id = attachment_id
        self.txn_id = txn_id
        self.payload = payload

    def __repr__(self) -> str:
        return (f"Frame(type=0x{self.msg_type:02x}, flags=0x{self.flags:02x}, "
                f"seq={self.sequence}, txn={self.txn_id}, len={len(self.payload)})")


def encode_header(msg_type: int, length: int, sequence: int = 0, attachment_id: Buffer = ZERO_UUID,
                  txn_id: int = 0, flags: int = 0) -> bytes:
    """The 40-byte header for a payload of ``length`` bytes."""
    if len(attachment_id) != 16:
        raise ValueError("attachment_id must be 16 bytes")
    if not 0 <= length <= MAX_PAYLOAD:
        raise ProtocolError(f"SBWP payload of {length} bytes exceeds the 64 MiB frame limit")
    return _HEADER.pack(MAGIC, 1, 1, msg_type, flags, length, sequence & 0xFFFFFFFF,
                        bytes(attachment_id), txn_id)


def encode_frame(msg_type: int, payload: Buffer = b"", sequence: int = 0,
                 attachment_id: Buffer = ZERO_UUID, txn_id: int = 0, flags: int = 0) -> bytes:
    """A whole frame: header plus payload."""
    return encode_header(msg_type, len(payload), sequence, attachment_id, txn_id, flags) + bytes(payload)


def decode_header(data: Buffer, offset: int = 0, max_payload: int = MAX_PAYLOAD) -> _Header:
    """Check and decode the header at ``data[offset:offset + 40]``.

    Returns ``(msg_type, flags, length, sequence, attachment_id, txn_id)``. Raises
    ProtocolError naming what is wrong: bad magic, a version other than 1.1, or a
    length over the limit (REFERENCE 2, 2.2 step 1).
    """
    if len(data) - offset < HEADER_SIZE:
        raise ProtocolError(f"truncated SBWP header: {len(data) - offset} of 40 bytes")
    magic, major, minor, msg_type, flags, length, sequence, attachment, txn_id = \
        _HEADER.unpack_from(data, offset)
    if magic != MAGIC:
        raise ProtocolError(f"bad SBWP magic {bytes(magic)!r} (expected b'SBWP')")
    if major != 1 or minor != 1:
        raise ProtocolError(f"unsupported SBWP header version {major}.{minor} (expected 1.1)")
    if length > max_payload:
        raise ProtocolError(f"SBWP frame length {length} exceeds the limit of {max_payload} bytes")
    return msg_type, flags, length, sequence, attachment, txn_id


def _sequence_value(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 0xFFFFFFFF:
        raise ValueError(f"expected_sequence must be None or a u32, not {value!r}")
    return value


def sequence_error(received: int, expected: int) -> ProtocolError:
    """The ProtocolError for a server frame out of sequence (REFERENCE 2)."""
    return ProtocolError(
        f"server frame sequence {received} where {expected} was expected: a frame was "
        f"lost, repeated or corrupted on the way")


class FrameReader:
    """Splits a byte stream, fed in arbitrary chunks, into frames.

    ``feed()`` takes each received chunk; ``next_frame()`` returns the next complete
    frame or None. With ``check_flags`` (the default) a frame with reserved flag bits
    (0x10-0x80) raises ProtocolError; the compressed bit raises unless a
    ``decompress`` callable is set.

    ``expected_sequence`` (None: no check) is the header sequence the next frame must
    carry; each frame read moves it on by one (modulo 2**32). The server numbers every
    frame it sends 0, 1, 2, ... per connection (REFERENCE 2, 0 item 12), so a gap or a
    repeat means a frame was lost, duplicated or corrupted: ``next_frame()`` raises
    ProtocolError naming both numbers as soon as the header is buffered.
    """

    def __init__(self, max_payload: int = MAX_PAYLOAD, check_flags: bool = True) -> None:
        self._chunks: Deque[bytes] = deque()
        self._pos = 0        # read offset into self._chunks[0]
        self._size = 0       # unread bytes over all chunks
        self._expected: Optional[int] = None
        self.max_payload = max_payload
        self.check_flags = check_flags
        self.decompress: Optional[Callable[[memoryview], Buffer]] = None

    @property
    def expected_sequence(self) -> Optional[int]:
        """The sequence number the next frame must carry, or None (not checked)."""
        return self._expected

    @expected_sequence.setter
    def expected_sequence(self, value: Optional[int]) -> None:
        self._expected = None if value is None else _sequence_value(value)

    @property
    def buffered(self) -> int:
        """Bytes received and not yet consumed."""
        return self._size

    def feed(self, data: Buffer) -> None:
        """Append a received chunk (bytes-like; non-bytes are copied once)."""
        if not data:
            return
        if type(data) is not bytes:
            data = bytes(data)
        self._chunks.append(data)
        self._size += len(data)

    def peek(self, n: int) -> bytes:
        """Up to ``n`` unread bytes, without consuming them."""
        n = max(0, min(n, self._size))  # a negative n would slice from the chunk's end
        out = bytearray()
        pos = self._pos
        for chunk in self._chunks:
            take = min(n - len(out), len(chunk) - pos)
            out += chunk[pos:pos + take]
            pos = 0
            if len(out) >= n:
                break
        return bytes(out)

    def _take(self, n: int) -> bytes:
        """Remove and return the next ``n`` bytes (a copy; n <= buffered)."""
        out = bytearray()
        while len(out) < n:
            chunk = self._chunks[0]
            take = min(n - len(out), len(chunk) - self._pos)
            out += chunk[self._pos:self._pos + take]
            self._advance(take)
        return bytes(out)

    def _advance(self, n: int) -> None:
        self._pos += n
        self._size -= n
        if self._pos >= len(self._chunks[0]):
            self._chunks.popleft()
            self._pos = 0

    def _header(self) -> Optional[_Header]:
        """Decoded header of the next frame, or None if fewer than 40 bytes are buffered."""
        if self._size < HEADER_SIZE:
            return None
        chunk = self._chunks[0]
        if len(chunk) - self._pos >= HEADER_SIZE:
            return decode_header(chunk, self._pos, self.max_payload)
        return decode_header(self.peek(HEADER_SIZE), 0, self.max_payload)

    def peek_type(self) -> Optional[int]:
        """Message type of the next frame if it is complete, else None."""
        header = self._header()
        if header is None or self._size < HEADER_SIZE + header[2]:
            return None
        return header[0]

    def next_frame(self) -> Optional[Frame]:
        """The next complete frame (consumed), or None if more bytes are needed."""
        header = self._header()
        if header is None:
            return None
        msg_type, flags, length, sequence, attachment, txn_id = header
        if self._expected is not None and sequence != self._expected:
            raise sequence_error(sequence, self._expected)
        total = HEADER_SIZE + length
        if self._size < total:
            return None
        if self._expected is not None:
            self._expected = (self._expected + 1) & 0xFFFFFFFF
        chunk = self._chunks[0]
        if len(chunk) - self._pos >= total:
            payload = memoryview(chunk)[self._pos + HEADER_SIZE:self._pos + total]
            self._advance(total)
        else:
            payload = memoryview(self._take(total))[HEADER_SIZE:]
        if self.check_flags and flags:
            payload = self._apply_flags(msg_type, flags, payload)
        return Frame(msg_type, flags, sequence, bytes(attachment), txn_id, payload)

    def _apply_flags(self, msg_type: int, flags: int, payload: memoryview) -> memoryview:
        if flags & FLAG_RESERVED_MASK:
            raise ProtocolError(f"frame 0x{msg_type:02x} has reserved flag bits set (0x{flags:02x})")
        if flags & 0x01:
            if self.decompress is None:
                raise ProtocolError(
                    f"frame 0x{msg_type:02x} is compressed but compression was not negotiated")
            payload = memoryview(self.decompress(payload))
        return payload

    def contiguous(self) -> Tuple[bytes, int, int]:
        """``(buffer, start, end)``: the unread bytes of the first chunk, for fast scanners."""
        if not self._chunks:
            return b"", 0, 0
        chunk = self._chunks[0]
        return chunk, self._pos, len(chunk)

    def consume(self, n: int, frames: int = 0) -> None:
        """Drop ``n`` bytes that a scanner has read out of ``contiguous()``: ``frames``
        whole frames, whose sequence numbers the scanner checked (``expected_sequence``
        moves on by ``frames``)."""
        if n < 0 or n > self._size:
            raise ValueError("cannot consume more than is buffered")
        if frames and self._expected is not None:
            self._expected = (self._expected + frames) & 0xFFFFFFFF
        while n:
            take = min(n, len(self._chunks[0]) - self._pos)
            self._advance(take)
            n -= take
