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


# ------------------------------------------------------------------------------------
# executemany's parameter sets straight to packets (the pure twin's encode_param_sets)
# ------------------------------------------------------------------------------------

from cpython.object cimport PyObject, PyObject_Str
from cpython.float cimport PyFloat_AS_DOUBLE
from cpython.long cimport PyLong_AsLongLongAndOverflow
from cpython.mem cimport PyMem_Malloc, PyMem_Realloc
from libc.math cimport fabs, isfinite, llround, signbit
from libc.string cimport memchr, strlen

cdef extern from "Python.h":
    const char* PyUnicode_AsUTF8AndSize(object unicode, Py_ssize_t* size) except NULL
    char* PyOS_double_to_string(double val, char format_code, int precision, int flags,
                                int* ptype) except NULL
    int Py_DTSF_ADD_DOT_0
    void PyMem_Free(void* p)

cdef extern from *:
    """
    #include <stdio.h>
    #include "datetime.h"
    static int sb_datetime_ready(void) {
        if (PyDateTimeAPI == NULL) { PyDateTime_IMPORT; }
        return PyDateTimeAPI == NULL ? -1 : 0;
    }
    #define sb_year(o) PyDateTime_GET_YEAR(o)
    #define sb_month(o) PyDateTime_GET_MONTH(o)
    #define sb_day(o) PyDateTime_GET_DAY(o)
    #define sb_hour(o) PyDateTime_DATE_GET_HOUR(o)
    #define sb_minute(o) PyDateTime_DATE_GET_MINUTE(o)
    #define sb_second(o) PyDateTime_DATE_GET_SECOND(o)
    #define sb_usecond(o) PyDateTime_DATE_GET_MICROSECOND(o)
    #define sb_dt_tz(o) PyDateTime_DATE_GET_TZINFO(o)
    #define sb_t_hour(o) PyDateTime_TIME_GET_HOUR(o)
    #define sb_t_minute(o) PyDateTime_TIME_GET_MINUTE(o)
    #define sb_t_second(o) PyDateTime_TIME_GET_SECOND(o)
    #define sb_t_usecond(o) PyDateTime_TIME_GET_MICROSECOND(o)
    #define sb_t_tz(o) PyDateTime_TIME_GET_TZINFO(o)
    """
    int sb_datetime_ready() except -1
    int sb_year(object o)
    int sb_month(object o)
    int sb_day(object o)
    int sb_hour(object o)
    int sb_minute(object o)
    int sb_second(object o)
    int sb_usecond(object o)
    PyObject* sb_dt_tz(object o)
    int sb_t_hour(object o)
    int sb_t_minute(object o)
    int sb_t_second(object o)
    int sb_t_usecond(object o)
    PyObject* sb_t_tz(object o)


import datetime as _datetime
import uuid as _uuid
from decimal import Decimal as _Decimal

from scratchbird._pure import textparams as _textparams

sb_datetime_ready()

cdef object _DATE = _datetime.date, _DATETIME = _datetime.datetime, _TIME = _datetime.time
cdef object _UUID = _uuid.UUID, _DECIMAL = _Decimal
cdef object _text_value = _textparams.text_value
cdef tuple _EXACT = _textparams._EXACT_TEXT_TYPES
cdef int O_BOOL = 16, O_INT8 = 20, O_FLOAT8 = 701, O_NUMERIC = 1700, O_TEXT = 25
# A Decimal whose str() is plain notation (no exponent, not NaN/Infinity) and at most
# this long is sent as that text: it equals format(value, "f") (the literal renderer's
# form, REFERENCE 8.6), and is far inside its digit limits. Any other goes to the pure twin.
DEF DECIMAL_PLAIN_MAX = 1000


cdef struct Buffer:
    char* data
    Py_ssize_t size
    Py_ssize_t capacity


cdef int _reserve(Buffer* buf, Py_ssize_t more) except -1:
    cdef Py_ssize_t want = buf.size + more
    cdef Py_ssize_t capacity
    cdef char* data
    if want <= buf.capacity:
        return 0
    capacity = buf.capacity * 2 if buf.capacity else 1 << 16
    while capacity < want:
        capacity *= 2
    data = <char*>PyMem_Realloc(buf.data, capacity)
    if data == NULL:
        raise MemoryError()
    buf.data = data
    buf.capacity = capacity
    return 0


cdef inline int _cell(Buffer* buf, Py_ssize_t slot, const char* text, Py_ssize_t n) except -1:
    """One cell: its 16-byte head and ``n`` bytes of UTF-8 text (NULL when text is NULL)."""
    _reserve(buf, C_CELL + n)
    cdef char* p = buf.data + buf.size
    _u32(p, <uint32_t>slot)
    p[4] = 1 if text == NULL else 0
    p[5] = 1
    p[6] = 0
    p[7] = 0
    _u64(p + 8, <uint64_t>n)
    if n:
        memcpy(p + C_CELL, text, n)
    buf.size += C_CELL + n
    return 0


cdef inline Py_ssize_t _digits(char* out, unsigned long long v) noexcept:
    """``v`` in decimal at ``out``; returns the length (at most 20)."""
    cdef char tmp[20]
    cdef Py_ssize_t n = 0, i
    while True:
        tmp[n] = <char>(48 + v % 10)
        n += 1
        v //= 10
        if v == 0:
            break
    for i in range(n):
        out[i] = tmp[n - 1 - i]
    return n


cdef inline Py_ssize_t _int_text(char* out, long long v) noexcept:
    """int.__repr__ of an int64."""
    if v < 0:
        out[0] = b'-'
        return 1 + _digits(out + 1, <unsigned long long>0 - <unsigned long long>v)
    return _digits(out, <unsigned long long>v)


cdef inline void _zero_padded(char* out, int v, int width) noexcept:
    cdef int i
    for i in range(width - 1, -1, -1):
        out[i] = <char>(48 + v % 10)
        v //= 10


cdef inline Py_ssize_t _date_text(char* out, int year, int month, int day) noexcept:
    """date.isoformat(): YYYY-MM-DD (years 1-9999)."""
    _zero_padded(out, year, 4)
    out[4] = b'-'
    _zero_padded(out + 5, month, 2)
    out[7] = b'-'
    _zero_padded(out + 8, day, 2)
    return 10


cdef inline Py_ssize_t _clock_text(char* out, int hour, int minute, int second,
                                   int microsecond) noexcept:
    """time.isoformat(): HH:MM:SS, then .ffffff when there are microseconds."""
    _zero_padded(out, hour, 2)
    out[2] = b':'
    _zero_padded(out + 3, minute, 2)
    out[5] = b':'
    _zero_padded(out + 6, second, 2)
    if not microsecond:
        return 8
    out[8] = b'.'
    _zero_padded(out + 9, microsecond, 6)
    return 15


cdef double[7] _POW10 = [1.0, 10.0, 100.0, 1000.0, 10000.0, 100000.0, 1000000.0]


cdef inline Py_ssize_t _short_float_text(char* out, double x) noexcept:
    """float.__repr__ of ``x`` when it is m / 10**k exactly for k <= 6 and small m
    (i * 0.5, 19.99, 3.0), else 0: the caller asks CPython. Why this is repr: m / 10**k
    is one correctly rounded division of exact operands, so when it gives back ``x`` the
    string reads back as ``x``; with the smallest such k and |m| < 2**50 (doubles there
    are closer than a quarter of 10**-k) no shorter string does, and for 1e-4 <= |x| <
    1e16 repr writes plain digits with at least one decimal."""
    cdef int k
    cdef double scaled, magnitude = fabs(x)
    cdef long long m
    cdef Py_ssize_t n = 0, digits
    cdef char tmp[24]
    if magnitude == 0.0:
        if signbit(x):
            memcpy(out, b"-0.0", 4)
            return 4
        memcpy(out, b"0.0", 3)
        return 3
    if not (magnitude >= 1e-4 and magnitude < 1e15):
        return 0
    for k in range(7):
        scaled = magnitude * _POW10[k]
        if scaled >= 1125899906842624.0:      # 2**50
            return 0
        m = llround(scaled)
        if <double>m / _POW10[k] == magnitude:
            break
    else:
        return 0
    if x < 0:
        out[0] = b'-'
        n = 1
    digits = _digits(tmp, <unsigned long long>m)
    if digits <= k:                           # 0.05 -> m 5, k 2: leading zeros
        out[n] = b'0'
        out[n + 1] = b'.'
        n += 2
        memset(out + n, 48, k - digits)
        n += k - digits
        memcpy(out + n, tmp, digits)
        return n + digits
    memcpy(out + n, tmp, digits - k)
    n += digits - k
    out[n] = b'.'
    n += 1
    if k == 0:
        out[n] = b'0'
        return n + 1
    memcpy(out + n, tmp + digits - k, k)
    return n + k


cdef inline bint _plain_number(const char* s, Py_ssize_t n) noexcept:
    """-?[0-9]+(\\.[0-9]+)?: what a finite Decimal's str() looks like without an exponent."""
    cdef Py_ssize_t i = 0, digits
    if n and s[0] == b'-':
        i = 1
    digits = i
    while i < n and b'0' <= s[i] <= b'9':
        i += 1
    if i == digits:
        return False
    if i == n:
        return True
    if s[i] != b'.':
        return False
    i += 1
    digits = i
    while i < n and b'0' <= s[i] <= b'9':
        i += 1
    return i == n and i > digits


cdef object _packet(bytes head, Buffer* buf, Py_ssize_t nrows):
    cdef Py_ssize_t nhead = PyBytes_GET_SIZE(head)
    out = PyBytes_FromStringAndSize(NULL, nhead + buf.size)
    cdef char* p = PyBytes_AS_STRING(out)
    memcpy(p, PyBytes_AS_STRING(head), nhead)
    _u32(p + 44, <uint32_t>nrows)
    if buf.size:
        memcpy(p + nhead, buf.data, buf.size)
    buf.size = 0
    return out


cdef object _in_order(object params, Py_ssize_t width, object keys, bint positional,
                      object ordered):
    cdef type cls = type(params)
    if positional and (cls is tuple or cls is list) and len(params) == width:
        return params
    if keys is not None and cls is dict and len(<dict>params) == width:
        try:
            return [(<dict>params)[key] for key in keys]
        except KeyError:
            pass
    return ordered(params)


def encode_param_sets(param_sets, Py_ssize_t width, keys, bint positional, ordered,
                      bint exact_only, Py_ssize_t packet_bytes):
    """executemany's parameter sets straight to array-bind packets: ``(oids, packets)``,
    or None when a value needs the literal path (see the pure twin)."""
    _pure._check_shape(param_sets, width)
    cdef bytes head = _pure.encode_array_bind([[None] * width], width)[:C_HEADER + C_SLOT * width]
    cdef Buffer buf
    buf.data = NULL
    buf.size = 0
    buf.capacity = 0
    cdef int* column_oids = <int*>PyMem_Malloc(width * sizeof(int))
    if column_oids == NULL:
        raise MemoryError()
    cdef list packets = []
    cdef Py_ssize_t nrows = 0, column, row_start, n, count
    cdef bint literal = False
    cdef object params, values, value, item, text, decimal_text
    cdef type cls
    cdef int oid, overflow
    cdef long long number
    cdef double real
    cdef char small[64]
    cdef char* owned
    cdef const char* data
    cdef PyObject* tz
    try:
        for column in range(width):
            column_oids[column] = 0
        for params in param_sets:
            values = _in_order(params, width, keys, positional, ordered)
            count = len(values)
            if count != width:           # ordered() keeps to the width; a guard all the same
                raise _pure._row_error(nrows, count, width)
            nrows += 1
            row_start = buf.size
            _reserve(&buf, C_ROW)
            _u32(buf.data + buf.size, <uint32_t>nrows)
            _u32(buf.data + buf.size + 4, <uint32_t>width)
            buf.size += C_ROW
            for column in range(width):
                value = values[column]
                if value is None:
                    _cell(&buf, column + 1, NULL, 0)
                    continue
                cls = type(value)
                oid = 0
                if cls is bool:
                    oid = O_BOOL
                    if value is True:
                        _cell(&buf, column + 1, "TRUE", 4)
                    else:
                        _cell(&buf, column + 1, "FALSE", 5)
                elif cls is int:
                    number = PyLong_AsLongLongAndOverflow(value, &overflow)
                    if overflow == 0:
                        oid = O_INT8
                        n = _int_text(small, number)
                        _cell(&buf, column + 1, small, n)
                elif cls is str:
                    try:
                        data = PyUnicode_AsUTF8AndSize(value, &n)
                    except UnicodeEncodeError:
                        data = NULL             # a lone surrogate
                    if data == NULL or memchr(data, 0, n) != NULL:
                        literal = True          # or NUL: the literal path says why not
                        _cell(&buf, column + 1, NULL, 0)
                        continue
                    oid = O_TEXT
                    _cell(&buf, column + 1, data, n)
                elif cls is _DECIMAL:
                    decimal_text = PyObject_Str(value)
                    data = PyUnicode_AsUTF8AndSize(decimal_text, &n)
                    if n <= DECIMAL_PLAIN_MAX and _plain_number(data, n):
                        oid = O_NUMERIC
                        _cell(&buf, column + 1, data, n)
                elif exact_only:
                    pass
                elif cls is float:
                    real = PyFloat_AS_DOUBLE(value)
                    n = _short_float_text(small, real)
                    if n:
                        oid = O_FLOAT8
                        _cell(&buf, column + 1, small, n)
                    elif isfinite(real):
                        oid = O_FLOAT8
                        owned = PyOS_double_to_string(real, b'r', 0, Py_DTSF_ADD_DOT_0, NULL)
                        try:
                            _cell(&buf, column + 1, owned, <Py_ssize_t>strlen(owned))
                        finally:
                            PyMem_Free(owned)
                elif cls is _DATE:
                    oid = O_TEXT
                    n = _date_text(small, sb_year(value), sb_month(value), sb_day(value))
                    _cell(&buf, column + 1, small, n)
                elif cls is _DATETIME:
                    tz = sb_dt_tz(value)
                    if tz == <PyObject*>None:
                        oid = O_TEXT
                        n = _date_text(small, sb_year(value), sb_month(value), sb_day(value))
                        small[n] = b' '             # isoformat(" ")
                        n += 1 + _clock_text(small + n + 1, sb_hour(value), sb_minute(value),
                                             sb_second(value), sb_usecond(value))
                        _cell(&buf, column + 1, small, n)
                elif cls is _TIME:
                    tz = sb_t_tz(value)
                    if tz == <PyObject*>None:
                        oid = O_TEXT
                        n = _clock_text(small, sb_t_hour(value), sb_t_minute(value),
                                        sb_t_second(value), sb_t_usecond(value))
                        _cell(&buf, column + 1, small, n)
                elif cls is _UUID:
                    oid = O_TEXT
                    _uuid_cell(&buf, column + 1, value.hex)
                if oid == 0:
                    # everything else by the one definition of the rules (the pure twin)
                    if exact_only and not isinstance(value, _EXACT):
                        item = None
                    else:
                        item = _text_value(value)
                    if item is None:
                        literal = True
                        _cell(&buf, column + 1, NULL, 0)
                        continue
                    oid = item[0]
                    text = item[1]
                    if text is None:
                        _cell(&buf, column + 1, NULL, 0)
                        continue
                    _cell(&buf, column + 1, PyBytes_AS_STRING(text), PyBytes_GET_SIZE(text))
                if column_oids[column] == 0:
                    column_oids[column] = oid
                elif column_oids[column] != oid:
                    column_oids[column] = O_TEXT
            if buf.size >= packet_bytes:
                packets.append(_packet(head, &buf, nrows))
                nrows = 0
        if nrows:
            packets.append(_packet(head, &buf, nrows))
        if literal:
            return None
        return tuple([column_oids[column] or O_TEXT for column in range(width)]), packets
    finally:
        PyMem_Free(column_oids)
        PyMem_Free(buf.data)


cdef int _uuid_cell(Buffer* buf, Py_ssize_t slot, str hex32) except -1:
    """A UUID's canonical 8-4-4-4-12 text from its 32 hex digits."""
    cdef Py_ssize_t n, i, j = 0
    cdef const char* digits = PyUnicode_AsUTF8AndSize(hex32, &n)
    cdef char text[36]
    if n != 32:
        raise ValueError("UUID.hex is not 32 digits")
    for i in range(32):
        if i == 8 or i == 12 or i == 16 or i == 20:
            text[j] = b'-'
            j += 1
        text[j] = digits[i]
        j += 1
    return _cell(buf, slot, text, 36)
