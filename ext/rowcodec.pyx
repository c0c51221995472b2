"""DATA_ROW codec for text-value sessions (compiled twin of ``scratchbird._pure.rowcodec``).

Same names, behaviour and messages as the pure twin, which is the readable reference.
Decoding is chosen once per column from the declared type code (REFERENCE 8.2-8.4):
16 -> bool, 20 -> int, 1700 -> Decimal, anything else -> str; a value that does not
parse under its column's hint comes back as ``str``. NULL policy: REFERENCE 8.5.

``read_data_rows`` is the driver's hot path: it walks the reader's first received chunk
in C, parsing 40-byte headers and DATA_ROW payloads in place (REFERENCE 2, 4.6), and
converts values without a Python-level call per value except ``Decimal``. A frame that
spans chunks or carries flags goes through ``reader.next_frame()`` so that it behaves
exactly as the reader says.
"""
cimport cython
from cpython.buffer cimport PyBUF_SIMPLE, PyBuffer_Release, PyObject_GetBuffer
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_Check, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.long cimport PyLong_FromLongLong, PyLong_FromString, PyLong_FromUnsignedLongLong
from cpython.mem cimport PyMem_Free, PyMem_Realloc
from cpython.pyport cimport PY_SSIZE_T_MAX
from cpython.ref cimport Py_INCREF
from cpython.tuple cimport PyTuple_New, PyTuple_SET_ITEM
from cpython.unicode cimport PyUnicode_CheckExact, PyUnicode_DecodeASCII, PyUnicode_DecodeUTF8
from libc.stdint cimport int32_t, uint8_t, uint32_t, uint64_t
from libc.string cimport memcmp, memcpy, memset

import math
import struct
from decimal import Decimal

from scratchbird._compiled.framing import encode_header
from scratchbird._constants import DATA_ROW, OID_BOOL, OID_INT8, OID_NUMERIC, ZERO_UUID
from scratchbird.errors import DataError, ProtocolError

cdef extern from "Python.h":
    const char* _utf8_of "PyUnicode_AsUTF8AndSize"(object, Py_ssize_t*) except NULL
    void PyObject_GC_UnTrack(object)

__all__ = ["DEFAULT_NULL_MARKERS", "TextRowDecoder", "read_data_rows", "encode_data_row",
           "encode_data_row_frames"]

DEFAULT_NULL_MARKERS = (b"<NULL>", b"NULL", b"")

# converter kinds, chosen once per column (same values as the pure twin)
KIND_TEXT = 0
KIND_BOOL = 1
KIND_INT = 2
KIND_DECIMAL = 3
KIND_LOADER = 4      # a user loader (type adapter): called with the value's text

_KIND_FOR_OID = {OID_BOOL: KIND_BOOL, OID_INT8: KIND_INT, OID_NUMERIC: KIND_DECIMAL}
_U16x2 = struct.Struct("<HH")
_I32 = struct.Struct("<i")

cdef object _Decimal = Decimal

cdef enum:
    HDR = 40                   # REFERENCE 2
    DATA_ROW_TYPE = 0x45       # REFERENCE appendix A
    MAX_PAYLOAD_C = 67108864   # REFERENCE 2
    K_TEXT = 0
    K_BOOL = 1
    K_INT = 2
    K_DECIMAL = 3
    K_LOADER = 4


cdef inline uint32_t _u32(const uint8_t* p) noexcept nogil:
    return p[0] | (<uint32_t>p[1] << 8) | (<uint32_t>p[2] << 16) | (<uint32_t>p[3] << 24)


include "row_payload.pxi"


cdef inline void _put_u32(uint8_t* p, uint32_t v) noexcept nogil:
    p[0] = v & 0xFF
    p[1] = (v >> 8) & 0xFF
    p[2] = (v >> 16) & 0xFF
    p[3] = v >> 24


cdef inline uint8_t _lower(uint8_t c) noexcept nogil:
    # bytes.lower(): ASCII letters only
    return c + 32 if c'A' <= c <= c'Z' else c


# --- value converters: return None when the text does not parse under the hint ---

cdef object _parse_int(const uint8_t* p, Py_ssize_t n):
    """``[+-]?[0-9]+`` -> int; any digit count (INT128/UINT64 exceed 64 bits, REFERENCE 8.3)."""
    cdef Py_ssize_t i = 0
    cdef bint neg = False
    cdef uint64_t acc = 0
    cdef uint8_t d
    if n > 0 and (p[0] == c'+' or p[0] == c'-'):
        neg = p[0] == c'-'
        i = 1
    if i == n:
        return None
    if n - i <= 19:        # 19 decimal digits always fit in a u64
        while i < n:
            d = p[i] - c'0'
            if d > 9:
                return None
            acc = acc * 10 + d
            i += 1
        if not neg:
            return PyLong_FromUnsignedLongLong(acc)
        if acc <= 0x8000000000000000:
            return PyLong_FromLongLong(<long long>(<uint64_t>0 - acc))
        return -PyLong_FromUnsignedLongLong(acc)
    while i < n:
        if <uint8_t>(p[i] - c'0') > 9:
            return None
        i += 1
    digits = PyBytes_FromStringAndSize(<const char*>p, n)   # NUL-terminated for the C API
    try:
        return PyLong_FromString(PyBytes_AS_STRING(digits), NULL, 10)
    except ValueError:      # more digits than sys.get_int_max_str_digits() allows
        return None


cdef object _parse_bool(const uint8_t* p, Py_ssize_t n):
    """t/true/1 and f/false/0 in any case (REFERENCE 8.4)."""
    cdef uint8_t c
    if n == 1:
        c = _lower(p[0])
        if c == c't' or c == c'1':
            return True
        if c == c'f' or c == c'0':
            return False
    elif n == 4:
        if (_lower(p[0]) == c't' and _lower(p[1]) == c'r' and _lower(p[2]) == c'u'
                and _lower(p[3]) == c'e'):
            return True
    elif n == 5:
        if (_lower(p[0]) == c'f' and _lower(p[1]) == c'a' and _lower(p[2]) == c'l'
                and _lower(p[3]) == c's' and _lower(p[4]) == c'e'):
            return False
    return None


cdef inline bint _digit(uint8_t c) noexcept nogil:
    return c'0' <= c <= c'9'


cdef object _parse_decimal(const uint8_t* p, Py_ssize_t n):
    """``[+-]?(digits[.digits]|.digits)([eE][+-]?digits)?`` -> Decimal (the pure twin's _DEC_RE)."""
    cdef Py_ssize_t i = 0, digits = 0, exp_start
    if n > 0 and (p[0] == c'+' or p[0] == c'-'):
        i = 1
    while i < n and _digit(p[i]):
        i += 1
        digits += 1
    if i < n and p[i] == c'.':
        i += 1
        while i < n and _digit(p[i]):
            i += 1
            digits += 1
    if digits == 0:
        return None
    if i < n and (p[i] == c'e' or p[i] == c'E'):
        i += 1
        if i < n and (p[i] == c'+' or p[i] == c'-'):
            i += 1
        exp_start = i
        while i < n and _digit(p[i]):
            i += 1
        if i == exp_start:
            return None
    if i != n:
        return None
    try:
        return _Decimal(PyUnicode_DecodeASCII(<const char*>p, n, NULL))
    except ArithmeticError:  # exponent beyond the decimal module's range
        return None


def _load(loader, text, column):
    try:
        return loader(text)
    except Exception as exc:
        raise DataError(f"column {column}: loader {getattr(loader, '__name__', loader)!s} "
                        f"failed: {type(exc).__name__}: {exc}") from exc


cdef _utf8_error(TextRowDecoder dec, exc):
    cdef Py_ssize_t col = dec._err_col
    dec._err_col = -1
    return DataError(f"column {col}: value is not valid UTF-8 ({exc.reason} at byte {exc.start})")


cdef class TextRowDecoder:
    """Turns DATA_ROW payloads of a text-value result into tuples.

    ``type_oids``, ``null_markers``, ``raw_text`` and ``kinds`` are settable; assign a
    new value rather than mutating one in place, so the C-side copies follow.
    """

    cdef object _type_oids
    cdef object _null_markers
    cdef object _raw_text
    cdef object _kinds
    cdef bytes _kind_codes       # one K_* byte per column
    cdef Py_ssize_t _ncols
    cdef bint _use_markers       # not raw_text
    cdef tuple _markers          # the bytes-like null markers, as bytes
    cdef uint64_t _marker_lens   # bit n set: a marker is n bytes long (n < 64)
    cdef bint _long_markers      # a marker is 64 bytes or longer
    cdef bint _odd_markers       # null_markers is no plain collection: test with `in`
    cdef Py_ssize_t _err_col     # column being UTF-8 decoded, for the DataError message
    cdef bint _has_loaders       # a column has a user loader (its values may be containers)
    cdef dict __dict__           # like the pure class, instances take extra attributes

    def __cinit__(self):
        # safe state even if __init__ is skipped (a subclass, or __new__)
        self._kind_codes = b""
        self._markers = ()
        self._err_col = -1

    def __init__(self, type_oids, null_markers=DEFAULT_NULL_MARKERS, raw_text=False,
                 loaders=None):
        # Built into locals first: a re-initialisation that fails leaves the old state
        # whole, never new loaders beside old kinds (issue 7).
        type_oids = tuple(type_oids)
        null_markers = tuple(bytes(m) for m in null_markers)
        loaders = tuple(loaders) if loaders is not None else (None,) * len(type_oids)
        if len(loaders) != len(type_oids):
            raise ValueError("one loader (or None) per column")
        kinds = tuple(
            KIND_TEXT if raw_text
            else KIND_LOADER if loader is not None
            else _KIND_FOR_OID.get(oid, KIND_TEXT)
            for oid, loader in zip(type_oids, loaders))
        self.type_oids = type_oids
        self.null_markers = null_markers
        self.raw_text = bool(raw_text)
        self.loaders = loaders
        self.kinds = kinds

    @property
    def type_oids(self):
        return self._type_oids

    @type_oids.setter
    def type_oids(self, value):
        self._type_oids = value

    @property
    def null_markers(self):
        return self._null_markers

    @null_markers.setter
    def null_markers(self, value):
        markers = []
        lens = 0
        long_markers = False
        odd = type(value) not in (tuple, list, set, frozenset)
        if not odd:
            for m in value:
                if isinstance(m, (bytes, bytearray)):
                    m = bytes(m)
                    markers.append(m)
                    if len(m) < 64:
                        lens |= 1 << len(m)
                    else:
                        long_markers = True
                elif not isinstance(m, str):    # a str never equals bytes; others might
                    odd = True
        self._markers = tuple(markers)
        self._marker_lens = lens
        self._long_markers = long_markers
        self._odd_markers = odd     # then `raw in null_markers`, per value, as the pure twin
        self._null_markers = value

    @property
    def raw_text(self):
        return self._raw_text

    @raw_text.setter
    def raw_text(self, value):
        self._use_markers = not value
        self._raw_text = value

    @property
    def kinds(self):
        return self._kinds

    @kinds.setter
    def kinds(self, value):
        codes = bytearray(len(value))
        for i, kind in enumerate(value):
            # compared as the pure twin compares, in its order; anything else is text
            codes[i] = (K_INT if kind == KIND_INT else K_BOOL if kind == KIND_BOOL
                        else K_DECIMAL if kind == KIND_DECIMAL
                        else K_LOADER if kind == KIND_LOADER else K_TEXT)
        self._kind_codes = bytes(codes)
        self._has_loaders = K_LOADER in self._kind_codes
        self._ncols = len(codes)
        self._kinds = value

    @property
    def ncolumns(self):
        return self._ncols

    cdef inline bint _is_marker(self, const uint8_t* p, Py_ssize_t n) noexcept:
        cdef bytes m
        if n < 64:
            if not (self._marker_lens >> n) & 1:
                return False
        elif not self._long_markers:
            return False
        for m in self._markers:
            if PyBytes_GET_SIZE(m) == n and memcmp(PyBytes_AS_STRING(m), p, n) == 0:
                return True
        return False

    cdef inline object _convert(self, const uint8_t* p, Py_ssize_t n, uint8_t kind, Py_ssize_t col):
        if self._use_markers:
            if self._odd_markers:
                if PyBytes_FromStringAndSize(<const char*>p, n) in self._null_markers:
                    return None
            elif self._is_marker(p, n):
                return None
        if kind == K_INT:
            value = _parse_int(p, n)
        elif kind == K_BOOL:
            value = _parse_bool(p, n)
        elif kind == K_DECIMAL:
            value = _parse_decimal(p, n)
        elif kind == K_LOADER:
            self._err_col = col
            text = PyUnicode_DecodeUTF8(<const char*>p, n, NULL)
            self._err_col = -1
            return _load(self.loaders[col], text, col)
        else:
            value = None
        if value is None:
            self._err_col = col
            value = PyUnicode_DecodeUTF8(<const char*>p, n, NULL)
            self._err_col = -1
        return value

    cdef tuple _decode(self, const uint8_t* p, Py_ssize_t n):
        """One DATA_ROW payload (REFERENCE 4.6); checks every length against ``n``.

        A UnicodeDecodeError leaves ``_err_col`` set; callers turn it into DataError.
        """
        cdef Py_ssize_t ncols, pos, i
        cdef int32_t length
        cdef bytes codes = self._kind_codes     # held: a finalizer may reassign kinds
        cdef const uint8_t* kinds = <const uint8_t*>PyBytes_AS_STRING(codes)
        cdef tuple row
        pos = _row_columns_start(p, n, self._ncols)
        ncols = self._ncols
        row = PyTuple_New(ncols)
        for i in range(ncols):
            if p[4 + (i >> 3)] & (1 << (i & 7)):
                value = None
            else:
                length = _column_length(p, n, &pos, i)
                if length == -1:
                    value = None
                else:
                    value = self._convert(p + pos, length, kinds[i], i)
                    pos += length
            Py_INCREF(value)                  # PyTuple_SET_ITEM steals a reference
            PyTuple_SET_ITEM(row, i, value)
        if pos != n:
            raise ProtocolError(f"DATA_ROW has {n - pos} bytes after its last column")
        # Values are None, bool, int, str or Decimal, none of them containers, so the row
        # can never be in a reference cycle: the collector would untrack it on its first
        # pass anyway (CPython's tuple untracking); doing it now spares every pass. A
        # loader may return anything, so rows with loader columns stay tracked.
        if not self._has_loaders:
            PyObject_GC_UnTrack(row)
        return row

    def decode_row(self, payload):
        """One DATA_ROW payload (REFERENCE 4.6) to a tuple."""
        cdef Py_buffer view
        PyObject_GetBuffer(payload, &view, PyBUF_SIMPLE)
        try:
            return self._decode(<const uint8_t*>view.buf, view.len)
        except UnicodeDecodeError as exc:
            if self._err_col < 0:
                raise
            raise _utf8_error(self, exc) from None
        finally:
            PyBuffer_Release(&view)


# --- the frame loop (shared with bincodec.pyx) ---

include "row_scan.pxi"


cdef tuple _decode_text_row(object dec, const uint8_t* p, Py_ssize_t n):
    return (<TextRowDecoder>dec)._decode(p, n)


cdef object _text_row_error(object dec, object exc):
    if isinstance(exc, UnicodeDecodeError) and (<TextRowDecoder>dec)._err_col >= 0:
        return _utf8_error(<TextRowDecoder>dec, exc)
    return None


def read_data_rows(reader, decoder, rows, max_rows):
    """Decode consecutive complete DATA_ROW frames from ``reader`` into ``rows``.

    Stops at ``max_rows``, at the first frame of another type, or when the next frame is
    not complete yet; that frame stays in the reader. Returns the number of rows added.
    """
    return _read_rows(reader, decoder, rows, max_rows, TextRowDecoder, _decode_text_row,
                      _text_row_error)


# --- encoding (the dev server's bulk path) ---

cdef struct Out:
    uint8_t* data
    Py_ssize_t len
    Py_ssize_t cap


cdef int _reserve(Out* o, Py_ssize_t extra) except -1:
    cdef Py_ssize_t cap
    cdef uint8_t* data
    if extra <= o.cap - o.len:
        return 0
    cap = o.cap * 2 if o.cap else 4096
    if cap - o.len < extra:
        cap = o.len + extra
    data = <uint8_t*>PyMem_Realloc(o.data, cap)
    if data == NULL:
        raise MemoryError()
    o.data = data
    o.cap = cap
    return 0


cdef int _append(Out* o, bytes data) except -1:
    cdef Py_ssize_t n = PyBytes_GET_SIZE(data)
    _reserve(o, n)
    memcpy(o.data + o.len, PyBytes_AS_STRING(data), n)
    o.len += n
    return 0


cdef int _encode_row_fast(Out* o, object values) except -1:
    """Append the DATA_ROW payload of a list/tuple of bytes, str and None.

    Returns 0, with nothing appended, when a value needs the generic path.
    """
    cdef Py_ssize_t n = len(values), nb, start = o.len, i, m
    cdef bint is_list = type(values) is list
    cdef const char* s
    if n > 0xFFFF:
        return 0
    nb = (n + 7) >> 3
    _reserve(o, 4 + nb)
    o.data[start] = n & 0xFF
    o.data[start + 1] = n >> 8
    o.data[start + 2] = nb & 0xFF
    o.data[start + 3] = nb >> 8
    memset(o.data + start + 4, 0, nb)
    o.len += 4 + nb
    for i in range(n):
        value = (<list>values)[i] if is_list else (<tuple>values)[i]
        if value is None:
            o.data[start + 4 + (i >> 3)] |= 1 << (i & 7)
            continue
        if PyBytes_Check(value):
            s = PyBytes_AS_STRING(value)
            m = PyBytes_GET_SIZE(value)
        elif PyUnicode_CheckExact(value):
            s = _utf8_of(value, &m)     # raises str.encode()'s UnicodeEncodeError
        else:
            o.len = start
            return 0
        if m > 0x7FFFFFFF:
            o.len = start
            return 0
        _reserve(o, 4 + m)
        _put_u32(o.data + o.len, <uint32_t>m)
        memcpy(o.data + o.len + 4, s, m)
        o.len += 4 + m
    return 1


def _encode_data_row_generic(values):
    # any other sequence or value type: the pure twin's steps, for its results and errors
    ncols = len(values)
    bitmap = bytearray((ncols + 7) // 8)
    parts = [b""]
    for i, value in enumerate(values):
        if value is None:
            bitmap[i >> 3] |= 1 << (i & 7)
            continue
        if isinstance(value, str):
            value = value.encode("utf-8")
        parts.append(_I32.pack(len(value)))
        parts.append(value)
    parts[0] = _U16x2.pack(ncols, len(bitmap)) + bytes(bitmap)
    return b"".join(parts)


def encode_data_row(values):
    """DATA_ROW payload from a sequence of ``bytes`` (or ``str``) values; None is a bitmap NULL."""
    cdef Out o
    o.data = NULL
    o.len = o.cap = 0
    if type(values) is tuple or type(values) is list:
        try:
            if _encode_row_fast(&o, values):
                return PyBytes_FromStringAndSize(<const char*>o.data, o.len)
        finally:
            PyMem_Free(o.data)
    return _encode_data_row_generic(values)


def encode_data_row_frames(rows, sequence, attachment_id=ZERO_UUID, txn_id=0):
    """Whole DATA_ROW frames for many rows (the dev server's bulk path).

    Returns ``(frames_bytes, next_sequence)``.
    """
    cdef Out o
    cdef Py_ssize_t count = 0, at, plen
    cdef uint8_t header[HDR]
    cdef uint32_t seq32 = 0
    o.data = NULL
    o.len = o.cap = 0
    try:
        for row in rows:
            at = o.len
            _reserve(&o, HDR)
            o.len += HDR
            if not ((type(row) is tuple or type(row) is list) and _encode_row_fast(&o, row)):
                _append(&o, _encode_data_row_generic(row))
            plen = o.len - at - HDR
            if count == 0:
                # the first header goes through encode_header: the argument checks and
                # errors of the pure twin; later rows patch length and sequence into it
                first = encode_header(DATA_ROW, plen, sequence, attachment_id, txn_id)
                memcpy(header, PyBytes_AS_STRING(first), HDR)
                seq32 = _u32(header + 12)
            elif plen > MAX_PAYLOAD_C:
                raise ProtocolError(f"SBWP payload of {plen} bytes exceeds the 64 MiB frame limit")
            memcpy(o.data + at, header, HDR)
            _put_u32(o.data + at + 8, <uint32_t>plen)
            _put_u32(o.data + at + 12, seq32 + <uint32_t>count)   # wraps like `& 0xFFFFFFFF`
            count += 1
        if count == 0:
            return b"", sequence
        return PyBytes_FromStringAndSize(<const char*>o.data, o.len), sequence + count
    finally:
        PyMem_Free(o.data)
