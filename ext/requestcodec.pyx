"""Extended-protocol requests of a cached prepared statement, in one call (compiled twin).

Same names, behaviour and messages as ``scratchbird._pure.requestcodec``, the readable
reference. The request is sized first, then written into one preallocated bytes object:
no Python-level call per value. Errors are raised by the pure twin's helpers.
"""
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from libc.stdint cimport uint32_t
from libc.string cimport memcpy, memset

from scratchbird._constants import BIND as _BIND, MAX_PAYLOAD as _MAX_PAYLOAD
from scratchbird._pure import requestcodec as _pure

__all__ = ["bind_request"]

cdef int C_BIND = _BIND
cdef Py_ssize_t C_MAX_PAYLOAD = _MAX_PAYLOAD


cdef inline void _u32(char* p, uint32_t v) noexcept:
    p[0] = <char>(v & 0xFF)
    p[1] = <char>((v >> 8) & 0xFF)
    p[2] = <char>((v >> 16) & 0xFF)
    p[3] = <char>((v >> 24) & 0xFF)


def bind_request(bytes before, attachment_id, bytes bind_head, values, bytes after):
    """``before`` + the BIND frame (``bind_head``, u16 value count, u16 0, each value as
    i32 length and bytes, -1 for NULL) + ``after``."""
    cdef Py_ssize_t count = len(values)
    if count > 0xFFFF:
        raise _pure._too_many(count)
    cdef bytes attachment = bytes(attachment_id)
    if PyBytes_GET_SIZE(attachment) != 16:
        raise ValueError("attachment_id must be 16 bytes")
    cdef Py_ssize_t payload = PyBytes_GET_SIZE(bind_head) + 4 + 4 * count
    cdef object value
    for value in values:
        if value is None:
            continue
        if type(value) is bytes:
            payload += PyBytes_GET_SIZE(value)
        elif isinstance(value, bytearray):
            payload += len(value)
        else:
            raise _pure._not_bytes(value)
    if payload > C_MAX_PAYLOAD:
        raise _pure._too_long(payload)
    cdef Py_ssize_t nb = PyBytes_GET_SIZE(before), na = PyBytes_GET_SIZE(after)
    out = PyBytes_FromStringAndSize(NULL, nb + 40 + payload + na)
    cdef char* p = PyBytes_AS_STRING(out)
    cdef Py_ssize_t n
    cdef bytes chunk
    memcpy(p, PyBytes_AS_STRING(before), nb)
    p += nb
    memcpy(p, b"SBWP", 4)
    p[4] = 1
    p[5] = 1
    p[6] = <char>C_BIND
    p[7] = 0
    _u32(p + 8, <uint32_t>payload)
    _u32(p + 12, 0)
    memcpy(p + 16, PyBytes_AS_STRING(attachment), 16)
    memset(p + 32, 0, 8)
    p += 40
    n = PyBytes_GET_SIZE(bind_head)
    memcpy(p, PyBytes_AS_STRING(bind_head), n)
    p += n
    p[0] = <char>(count & 0xFF)
    p[1] = <char>((count >> 8) & 0xFF)
    p[2] = 0
    p[3] = 0
    p += 4
    for value in values:
        if value is None:
            _u32(p, 0xFFFFFFFF)
            p += 4
            continue
        chunk = value if type(value) is bytes else bytes(value)
        n = PyBytes_GET_SIZE(chunk)
        _u32(p, <uint32_t>n)
        memcpy(p + 4, PyBytes_AS_STRING(chunk), n)
        p += 4 + n
    memcpy(p, PyBytes_AS_STRING(after), na)
    return out
