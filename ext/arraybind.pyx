"""The array-bind ParameterDataPacket (REFERENCE 5.8), compiled twin.

Same names, behaviour and messages as ``scratchbird._pure.arraybind``, the readable
reference (read it for the layout). executemany hands this every cell of every row, so
the packet is sized first and then written into one preallocated bytes object, with no
Python-level call per cell. Errors are raised by the pure twin's helpers, so each
message is written once.
"""
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t
from libc.string cimport memcpy, memset

from scratchbird._pure import arraybind as _pure

__all__ = ["encode_array_bind", "HEADER_BYTES", "SLOT_BYTES"]

HEADER_BYTES = 104
SLOT_BYTES = 165
DEF C_HEADER = 104
DEF C_SLOT = 165
DEF C_ROW = 8
DEF C_CELL = 16


cdef inline void _u16(char* p, uint16_t v) noexcept:
    p[0] = <char>(v & 0xFF)
    p[1] = <char>((v >> 8) & 0xFF)


cdef inline void _u32(char* p, uint32_t v) noexcept:
    cdef int i
    for i in range(4):
        p[i] = <char>((v >> (8 * i)) & 0xFF)


cdef inline void _u64(char* p, uint64_t v) noexcept:
    cdef int i
    for i in range(8):
        p[i] = <char>((v >> (8 * i)) & 0xFF)


def encode_array_bind(rows, Py_ssize_t parameter_count):
    """The BIND payload carrying ``rows`` (each ``parameter_count`` UTF-8 texts or None)."""
    _pure._check_shape(rows, parameter_count)
    cdef Py_ssize_t nrows = len(rows)
    cdef Py_ssize_t size = C_HEADER + C_SLOT * parameter_count
    cdef Py_ssize_t index = 0, slot
    cdef object row, value
    # pass 1: validate and size
    for row in rows:
        if len(row) != parameter_count:
            raise _pure._row_error(index, len(row), parameter_count)
        size += C_ROW + C_CELL * parameter_count
        for value in row:
            if value is None:
                continue
            if type(value) is bytes:
                size += PyBytes_GET_SIZE(value)
            elif isinstance(value, (bytes, bytearray)):
                size += len(value)
            else:
                raise _pure._value_error(index, value)
        index += 1
    out = PyBytes_FromStringAndSize(NULL, size)
    cdef char* base = PyBytes_AS_STRING(out)
    cdef char* p = base
    cdef Py_ssize_t n
    cdef const unsigned char[:] view
    memset(base, 0, C_HEADER + C_SLOT * parameter_count)
    _u16(p, 1)
    p[3] = 1
    _u32(p + 40, <uint32_t>parameter_count)
    _u32(p + 44, <uint32_t>nrows)
    _u32(p + 48, <uint32_t>(C_SLOT * parameter_count))
    p += C_HEADER
    for slot in range(parameter_count):
        _u32(p, <uint32_t>(slot + 1))
        p[7] = 1            # value_format 1 (text)
        p += C_SLOT         # typeref, requested size and the absent ntext stay zero
    index = 0
    for row in rows:
        index += 1
        _u32(p, <uint32_t>index)
        _u32(p + 4, <uint32_t>parameter_count)
        p += C_ROW
        slot = 0
        for value in row:
            slot += 1
            _u32(p, <uint32_t>slot)
            p[5] = 1        # payload_encoding 1: UTF-8 text
            p[6] = 0
            p[7] = 0
            if value is None:
                p[4] = 1    # value_state 1: SQL NULL, empty payload
                _u64(p + 8, 0)
                p += C_CELL
                continue
            p[4] = 0
            if type(value) is bytes:
                n = PyBytes_GET_SIZE(value)
                _u64(p + 8, <uint64_t>n)
                p += C_CELL
                memcpy(p, PyBytes_AS_STRING(value), n)
            else:
                view = value
                n = view.shape[0]
                _u64(p + 8, <uint64_t>n)
                p += C_CELL
                if n:
                    memcpy(p, &view[0], n)
            p += n
    return out
