"""SBWP frame header codec and a frame reader over received chunks (compiled twin).

Same names, behaviour and messages as ``scratchbird._pure.framing``, the readable
reference. A frame is a 40-byte header (REFERENCE 2) and a payload of at most 64 MiB.
The reader keeps received chunks as immutable ``bytes`` and hands out payloads as
memoryviews into them; it copies only a frame that spans two chunks. Headers are read
with fixed offsets and every read is bounds-checked against what is buffered.
"""
cimport cython
from cpython.buffer cimport PyBUF_SIMPLE, PyBuffer_Release, PyObject_CheckBuffer, PyObject_GetBuffer
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from libc.stdint cimport uint8_t, uint32_t, uint64_t
from libc.string cimport memcmp, memcpy

from struct import Struct

from scratchbird._constants import HEADER_SIZE, MAGIC, MAX_PAYLOAD, ZERO_UUID
from scratchbird.errors import ProtocolError

__all__ = ["Frame", "FrameReader", "decode_header", "encode_header", "encode_frame",
           "sequence_error"]

# magic, major, minor, type, flags, length, sequence, attachment_id, txn_id (REFERENCE 2).
# Used only to raise exactly the pure twin's struct.error on arguments the C path refuses.
_HEADER = Struct("<4sBBBBII16sQ")

# above any u32 length: a clamped limit this big means "no limit"
cdef long long LIMIT_CEIL = 0x100000000

cdef enum:
    HDR = 40                   # REFERENCE 2
    RESERVED_FLAGS = 0xF0      # REFERENCE 2.1, bits 4-7
    FLAG_COMPRESSED = 0x01


cdef inline uint32_t _u32(const uint8_t* p) noexcept nogil:
    return p[0] | (<uint32_t>p[1] << 8) | (<uint32_t>p[2] << 16) | (<uint32_t>p[3] << 24)


cdef inline uint64_t _u64(const uint8_t* p) noexcept nogil:
    return _u32(p) | (<uint64_t>_u32(p + 4) << 32)


cdef inline void _put_u32(uint8_t* p, uint32_t v) noexcept nogil:
    p[0] = v & 0xFF
    p[1] = (v >> 8) & 0xFF
    p[2] = (v >> 16) & 0xFF
    p[3] = v >> 24


cdef bint _clamp_limit(object value, long long* out) except -1:
    """For an int ``value``, store it clamped to [-1, 2**32] and return True.

    A length is a u32, so clamping keeps every ``length > limit`` answer; a limit that
    is not an int (the pure twin allows anything comparable) is compared in Python.
    """
    if not isinstance(value, int):
        return False
    if value > LIMIT_CEIL:
        out[0] = LIMIT_CEIL
    elif value < -1:
        out[0] = -1
    else:
        out[0] = value
    return True


cdef int _check_header(const uint8_t* h, long long limit, bint limit_is_int,
                       object max_payload) except -1:
    """Raise ProtocolError like the pure ``decode_header`` (REFERENCE 2, 2.2 step 1)."""
    cdef uint32_t length
    cdef bint over
    if memcmp(h, b"SBWP", 4) != 0:
        raise ProtocolError(
            f"bad SBWP magic {PyBytes_FromStringAndSize(<const char*>h, 4)!r} (expected b'SBWP')")
    if h[4] != 1 or h[5] != 1:
        raise ProtocolError(f"unsupported SBWP header version {h[4]}.{h[5]} (expected 1.1)")
    length = _u32(h + 8)
    if limit_is_int:
        over = length > limit
    else:
        over = length > max_payload
    if over:
        raise ProtocolError(f"SBWP frame length {length} exceeds the limit of {max_payload} bytes")
    return 0


cdef tuple _header_tuple(const uint8_t* h):
    return (h[6], h[7], _u32(h + 8), _u32(h + 12),
            PyBytes_FromStringAndSize(<const char*>h + 16, 16), _u64(h + 32))


@cython.freelist(32)
cdef class Frame:
    """One received frame: header fields and the payload (a memoryview)."""

    cdef public object msg_type
    cdef public object flags
    cdef public object sequence
    cdef public object attachment_id
    cdef public object txn_id
    cdef public object payload

    def __init__(self, msg_type, flags, sequence, attachment_id, txn_id, payload):
        self.msg_type = msg_type
        self.flags = flags
        self.sequence = sequence
        self.attachment_id = attachment_id
        self.txn_id = txn_id
        self.payload = payload

    def __repr__(self):
        return (f"Frame(type=0x{self.msg_type:02x}, flags=0x{self.flags:02x}, "
                f"seq={self.sequence}, txn={self.txn_id}, len={len(self.payload)})")


def encode_header(msg_type, length, sequence=0, attachment_id=ZERO_UUID, txn_id=0, flags=0):
    """The 40-byte header for a payload of ``length`` bytes."""
    cdef bytes out
    cdef uint8_t* p
    if len(attachment_id) != 16:
        raise ValueError("attachment_id must be 16 bytes")
    if not 0 <= length <= MAX_PAYLOAD:
        raise ProtocolError(f"SBWP payload of {length} bytes exceeds the 64 MiB frame limit")
    # Evaluated in the same order as the pure twin's pack() arguments, so that the same
    # argument raises first.
    seq = sequence & 0xFFFFFFFF
    att = attachment_id if type(attachment_id) is bytes else bytes(attachment_id)
    if not (type(msg_type) is int and 0 <= msg_type <= 255
            and type(flags) is int and 0 <= flags <= 255
            and type(length) is int and type(seq) is int and len(att) == 16
            and type(txn_id) is int and 0 <= txn_id <= 0xFFFFFFFFFFFFFFFF):
        # bools, int-likes and out-of-range values: struct decides, as in the pure twin
        return _HEADER.pack(MAGIC, 1, 1, msg_type, flags, length, seq, att, txn_id)
    out = PyBytes_FromStringAndSize(NULL, HDR)
    p = <uint8_t*>PyBytes_AS_STRING(out)
    _write_header(p, msg_type, flags, length, seq, <const uint8_t*>PyBytes_AS_STRING(att), txn_id)
    return out


cdef void _write_header(uint8_t* p, uint8_t msg_type, uint8_t flags, uint32_t length,
                        uint32_t seq, const uint8_t* att, uint64_t txn_id) noexcept:
    memcpy(p, b"SBWP", 4)
    p[4] = 1
    p[5] = 1
    p[6] = msg_type
    p[7] = flags
    _put_u32(p + 8, length)
    _put_u32(p + 12, seq)
    memcpy(p + 16, att, 16)
    _put_u32(p + 32, <uint32_t>(txn_id & 0xFFFFFFFF))
    _put_u32(p + 36, <uint32_t>(txn_id >> 32))


def encode_frame(msg_type, payload=b"", sequence=0, attachment_id=ZERO_UUID, txn_id=0, flags=0):
    """A whole frame: header plus payload."""
    cdef bytes header = encode_header(msg_type, len(payload), sequence, attachment_id, txn_id, flags)
    cdef bytes body = payload if type(payload) is bytes else bytes(payload)
    cdef Py_ssize_t n = PyBytes_GET_SIZE(body)
    cdef bytes out = PyBytes_FromStringAndSize(NULL, HDR + n)
    memcpy(PyBytes_AS_STRING(out), PyBytes_AS_STRING(header), HDR)
    memcpy(PyBytes_AS_STRING(out) + HDR, PyBytes_AS_STRING(body), n)
    return out


def decode_header(data, offset=0, max_payload=MAX_PAYLOAD):
    """Check and decode the header at ``data[offset:offset + 40]``.

    Returns ``(msg_type, flags, length, sequence, attachment_id, txn_id)``. Raises
    ProtocolError naming what is wrong: bad magic, a version other than 1.1, or a
    length over the limit (REFERENCE 2, 2.2 step 1).
    """
    cdef Py_buffer view
    cdef long long limit = 0
    cdef bint limit_is_int
    cdef Py_ssize_t off
    if type(offset) is int and offset >= 0 and PyObject_CheckBuffer(data):
        PyObject_GetBuffer(data, &view, PyBUF_SIMPLE)
        try:
            # a non-byte memoryview has len() != its byte size: leave it to struct below
            if view.len == len(data):
                if view.len - offset < HDR:
                    raise ProtocolError(f"truncated SBWP header: {view.len - offset} of 40 bytes")
                off = offset
                limit_is_int = _clamp_limit(max_payload, &limit)
                _check_header(<const uint8_t*>view.buf + off, limit, limit_is_int, max_payload)
                return _header_tuple(<const uint8_t*>view.buf + off)
        finally:
            PyBuffer_Release(&view)
    # anything else (negative offsets, odd buffers): exactly the pure twin's steps
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


def _sequence_value(value):
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 0xFFFFFFFF:
        raise ValueError(f"expected_sequence must be None or a u32, not {value!r}")
    return value


def sequence_error(received, expected):
    """The ProtocolError for a server frame out of sequence (REFERENCE 2)."""
    return ProtocolError(
        f"server frame sequence {received} where {expected} was expected: a frame was "
        f"lost, repeated or corrupted on the way")


cdef class FrameReader:
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

    cdef list _chunks         # received bytes; live ones are _chunks[_head:]
    cdef Py_ssize_t _head
    cdef Py_ssize_t _pos      # read offset into _chunks[_head]
    cdef Py_ssize_t _size     # unread bytes over all chunks
    cdef object _view         # memoryview of _chunks[_head], made on first use
    cdef object _max_payload
    cdef long long _limit     # _max_payload clamped, when it is an int
    cdef bint _limit_is_int
    cdef bytes _attachment    # last attachment_id seen: most frames repeat it
    cdef bint _check_seq      # expected_sequence is not None
    cdef uint32_t _expected
    cdef public object check_flags
    cdef public object decompress
    cdef dict __dict__        # like the pure class, instances take extra attributes

    def __cinit__(self):
        # safe state even if __init__ is skipped (a subclass, or __new__)
        self._chunks = []
        self._limit = MAX_PAYLOAD
        self._limit_is_int = True
        self._max_payload = MAX_PAYLOAD

    def __init__(self, max_payload=MAX_PAYLOAD, check_flags=True):
        self._chunks = []
        self._head = 0
        self._pos = 0
        self._size = 0
        self._view = None
        self.max_payload = max_payload
        self.check_flags = check_flags
        self.decompress = None

    @property
    def max_payload(self):
        return self._max_payload

    @max_payload.setter
    def max_payload(self, value):
        self._limit_is_int = _clamp_limit(value, &self._limit)
        self._max_payload = value

    @property
    def expected_sequence(self):
        """The sequence number the next frame must carry, or None (not checked)."""
        return self._expected if self._check_seq else None

    @expected_sequence.setter
    def expected_sequence(self, value):
        if value is None:
            self._check_seq = False
        else:
            self._expected = _sequence_value(value)
            self._check_seq = True

    @property
    def buffered(self):
        """Bytes received and not yet consumed."""
        return self._size

    def feed(self, data):
        """Append a received chunk (bytes-like; non-bytes are copied once)."""
        if not data:
            return
        if type(data) is not bytes:
            data = bytes(data)
        self._chunks.append(data)
        self._size += len(data)

    cdef int _copy_out(self, char* dst, Py_ssize_t n) except -1:
        """Copy the next ``n`` unread bytes (n <= buffered) without consuming them."""
        cdef Py_ssize_t i = self._head, pos = self._pos, take
        cdef bytes chunk
        while n > 0 and i < len(self._chunks):
            chunk = <bytes>self._chunks[i]
            take = PyBytes_GET_SIZE(chunk) - pos
            if take > n:
                take = n
            memcpy(dst, PyBytes_AS_STRING(chunk) + pos, take)
            dst += take
            n -= take
            pos = 0
            i += 1
        return 0

    cdef int _advance(self, Py_ssize_t n) except -1:
        """Consume ``n`` bytes (n <= buffered), dropping chunks that are used up."""
        cdef Py_ssize_t left
        if n > self._size:        # defensive: never walk past the chunks we hold
            n = self._size
        while n > 0 and self._head < len(self._chunks):
            left = PyBytes_GET_SIZE(<bytes>self._chunks[self._head]) - self._pos
            if n < left:
                self._pos += n
                self._size -= n
                return 0
            n -= left
            self._size -= left
            self._pos = 0
            self._view = None
            self._chunks[self._head] = None
            self._head += 1
            if self._head == len(self._chunks):
                del self._chunks[:]
                self._head = 0
            elif self._head >= 64 and 2 * self._head >= len(self._chunks):
                del self._chunks[:self._head]
                self._head = 0
        return 0

    def peek(self, n):
        """Up to ``n`` unread bytes, without consuming them."""
        cdef Py_ssize_t k = 0 if n < 0 else (self._size if n > self._size else n)
        cdef bytes out = PyBytes_FromStringAndSize(NULL, k)
        self._copy_out(PyBytes_AS_STRING(out), k)
        return out

    cdef bint _header(self, uint8_t* h) except -1:
        """Copy the next frame's header into ``h`` and check it; False when fewer than
        40 bytes are buffered. A copy (40 bytes) stays valid whatever Python code runs
        later, so nothing points into a chunk across an allocation."""
        if self._size < HDR:
            return False
        self._copy_out(<char*>h, HDR)
        _check_header(h, self._limit, self._limit_is_int, self._max_payload)
        return True

    def peek_type(self):
        """Message type of the next frame if it is complete, else None."""
        cdef uint8_t h[HDR]
        if not self._header(h) or self._size - HDR < <Py_ssize_t>_u32(h + 8):
            return None
        return h[6]

    def next_frame(self):
        """The next complete frame (consumed), or None if more bytes are needed."""
        cdef uint8_t h[HDR]
        cdef Py_ssize_t total, pos
        cdef bytes chunk, copy = None
        cdef bint in_chunk
        cdef bytes attachment
        cdef Frame frame
        if not self._header(h):
            return None
        if self._check_seq and _u32(h + 12) != self._expected:
            raise sequence_error(_u32(h + 12), self._expected)
        total = HDR + <Py_ssize_t>_u32(h + 8)
        if self._size < total:
            return None
        if self._check_seq:
            self._expected += 1         # u32: wraps modulo 2**32
        # Take the bytes and move the reader on before making any object: an allocation
        # can run arbitrary finalizers, and only locals are used after this point.
        chunk = <bytes>self._chunks[self._head]
        pos = self._pos
        in_chunk = PyBytes_GET_SIZE(chunk) - pos >= total
        view = self._view               # always a view of the head chunk, or None
        if not in_chunk:
            # spans chunks: the one copy (REFERENCE 2: frames arrive in any TCP split).
            # bytes are not GC-tracked, so no Python code runs before the copy.
            copy = PyBytes_FromStringAndSize(NULL, total)
            self._copy_out(PyBytes_AS_STRING(copy), total)
        self._advance(total)
        if in_chunk:
            if view is None:
                view = memoryview(chunk)
                if self._head < len(self._chunks) and self._chunks[self._head] is chunk:
                    self._view = view   # reused for the next frames of this chunk
            payload = view[pos + HDR:pos + total]
        else:
            payload = memoryview(copy)[HDR:]
        frame = Frame.__new__(Frame)
        frame.msg_type = h[6]
        frame.flags = h[7]
        frame.sequence = _u32(h + 12)
        frame.txn_id = _u64(h + 32)
        attachment = self._attachment
        if attachment is None or memcmp(PyBytes_AS_STRING(attachment), h + 16, 16) != 0:
            attachment = PyBytes_FromStringAndSize(<const char*>h + 16, 16)
            self._attachment = attachment
        frame.attachment_id = attachment
        frame.payload = payload
        # flags are checked after the whole frame is read, as the server does (REFERENCE 2.1)
        if frame.flags and self.check_flags:
            frame.payload = self._apply_flags(frame.msg_type, frame.flags, frame.payload)
        return frame

    def _apply_flags(self, msg_type, flags, payload):
        if flags & RESERVED_FLAGS:
            raise ProtocolError(f"frame 0x{msg_type:02x} has reserved flag bits set (0x{flags:02x})")
        if flags & FLAG_COMPRESSED:
            if self.decompress is None:
                raise ProtocolError(
                    f"frame 0x{msg_type:02x} is compressed but compression was not negotiated")
            payload = memoryview(self.decompress(payload))
        return payload

    def contiguous(self):
        """``(buffer, start, end)``: the unread bytes of the first chunk, for fast scanners."""
        if self._head >= len(self._chunks):
            return b"", 0, 0
        chunk = self._chunks[self._head]
        return chunk, self._pos, PyBytes_GET_SIZE(<bytes>chunk)

    def consume(self, n, frames=0):
        """Drop ``n`` bytes that a scanner has read out of ``contiguous()``: ``frames``
        whole frames, whose sequence numbers the scanner checked (``expected_sequence``
        moves on by ``frames``)."""
        if n < 0 or n > self._size:
            raise ValueError("cannot consume more than is buffered")
        if frames and self._check_seq:
            self._expected = (self._expected + frames) & 0xFFFFFFFF
        self._advance(n)
