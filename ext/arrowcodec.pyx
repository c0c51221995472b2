"""Columnar DATA_ROW decoding into Arrow buffers (compiled twin of ``scratchbird._pure.arrowcodec``).

Same names and behaviour as the pure twin, which is the readable reference. Each column
plan (shared with the pure twin) chooses a C append function's branch once; the frame
loop (``row_scan.pxi``, shared with the tuple decoders) hands each DATA_ROW payload to
``ArrowSink._decode``, which writes validity bits, offsets and value bytes straight into
growable malloc'd buffers with no Python object per value. ``take()`` moves the buffers
into Arrow C data interface structs (``arrow_cdata.pxi``) and returns one
``ExportedColumn`` per column; consumers import them through the Arrow PyCapsule interface.

Only ``K_OBJECT`` columns (binary types without an Arrow buffer layout here: nested values,
INTERVAL, INT128, ...) decode each value to a Python object, as the pure twin does.
"""
cimport cython
from cpython.buffer cimport PyBUF_SIMPLE, PyBuffer_Release, PyObject_GetBuffer
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.pycapsule cimport PyCapsule_GetPointer, PyCapsule_New
from cpython.pyport cimport PY_SSIZE_T_MAX
from cpython.ref cimport Py_DECREF, Py_INCREF
from cpython.unicode cimport PyUnicode_DecodeUTF8
from libc.stdint cimport int16_t, int32_t, int64_t, uint8_t, uint32_t, uint64_t, INT32_MAX
from libc.stdlib cimport calloc, free, malloc, realloc, strtod
from libc.string cimport memcmp, memcpy, memset

import math
import struct

from scratchbird._compiled.bincodec import decode_value as _decode_value
from scratchbird._constants import DATA_ROW
from scratchbird._pure.arrowcodec import (
    K_BOOL, K_BYTES, K_DATE, K_DEC128, K_FIXED, K_FLOAT64, K_INT64, K_OBJECT, K_TIME, K_TS,
    K_UTF8, K_UUID, NUMERIC_AS_DEFAULT, binary_value_error, parse_numeric_as, plan_columns,
)

# the column kinds as C constants (the pure twin's K_* values; checked below), so the hot
# path compares C ints rather than Python objects
cdef enum:
    C_UTF8 = 0
    C_BOOL = 1
    C_INT64 = 2
    C_DEC128 = 3
    C_FLOAT64 = 4
    C_BYTES = 5
    C_FIXED = 6
    C_DATE = 7
    C_TIME = 8
    C_TS = 9
    C_UUID = 10
    C_OBJECT = 11

if (K_UTF8, K_BOOL, K_INT64, K_DEC128, K_FLOAT64, K_BYTES, K_FIXED, K_DATE, K_TIME, K_TS,
        K_UUID, K_OBJECT) != tuple(range(12)):
    raise ImportError("arrowcodec: the column kinds differ from scratchbird._pure.arrowcodec")

from scratchbird._pure.rowcodec import DEFAULT_NULL_MARKERS
from scratchbird.errors import DataError, ProtocolError

__all__ = ["ArrowSink", "read_data_rows", "plan_columns", "parse_numeric_as",
           "NUMERIC_AS_DEFAULT", "export_stream"]

_I32 = struct.Struct("<i")

cdef extern from *:
    """
    typedef __int128 sb_i128;

    /* UTF-8 as Python's decoder accepts it: no overlongs, no surrogates, <= U+10FFFF */
    static int sb_utf8_valid(const uint8_t* s, Py_ssize_t n) {
        Py_ssize_t i = 0;
        while (i < n) {
            if (i + 8 <= n) {
                uint64_t w; memcpy(&w, s + i, 8);
                if (!(w & 0x8080808080808080ULL)) { i += 8; continue; }
            }
            uint8_t c = s[i];
            if (c < 0x80) { i++; continue; }
            if (c >= 0xC2 && c <= 0xDF) {
                if (i + 1 >= n || (s[i+1] & 0xC0) != 0x80) return 0;
                i += 2;
            } else if (c >= 0xE0 && c <= 0xEF) {
                if (i + 2 >= n || (s[i+1] & 0xC0) != 0x80 || (s[i+2] & 0xC0) != 0x80) return 0;
                if (c == 0xE0 && s[i+1] < 0xA0) return 0;
                if (c == 0xED && s[i+1] > 0x9F) return 0;
                i += 3;
            } else if (c >= 0xF0 && c <= 0xF4) {
                if (i + 3 >= n || (s[i+1] & 0xC0) != 0x80 || (s[i+2] & 0xC0) != 0x80
                    || (s[i+3] & 0xC0) != 0x80) return 0;
                if (c == 0xF0 && s[i+1] < 0x90) return 0;
                if (c == 0xF4 && s[i+1] > 0x8F) return 0;
                i += 4;
            } else return 0;
        }
        return 1;
    }

    static sb_i128 sb_pow10(int k) { sb_i128 v = 1; while (k-- > 0) v *= 10; return v; }

    /* coef * 10**k (k may be negative: then exact division or failure), |result| < 10**p */
    static int sb_rescale(sb_i128 coef, int k, int p, sb_i128* out) {
        if (coef == 0) { *out = 0; return 1; }
        if (k > 38 || k < -80) return 0;
        if (k >= 0) {
            sb_i128 m = sb_pow10(k);
            if (__builtin_mul_overflow(coef, m, &coef)) return 0;
        } else {
            while (k < 0) {
                if (coef % 10) return 0;
                coef /= 10; k++;
            }
        }
        sb_i128 lim = sb_pow10(p);
        if (coef >= lim || coef <= -lim) return 0;
        *out = coef;
        return 1;
    }

    /* [+-]?(digits[.digits]|.digits)([eE][+-]?digits)? as decimal128(p, s); 0: no fit */
    static int sb_parse_decimal(const uint8_t* t, Py_ssize_t n, int p, int s, sb_i128* out) {
        Py_ssize_t i = 0; int neg = 0, digits = 0, frac = 0, big = 0; sb_i128 coef = 0;
        long exp = 0; int eneg = 0, edigits = 0;
        if (i < n && (t[i] == '+' || t[i] == '-')) { neg = t[i] == '-'; i++; }
        while (i < n && t[i] >= '0' && t[i] <= '9') {
            if (coef || t[i] != '0') { if (++big > 38) return 0; }
            coef = coef * 10 + (t[i] - '0'); i++; digits++;
        }
        if (i < n && t[i] == '.') {
            i++;
            while (i < n && t[i] >= '0' && t[i] <= '9') {
                if (coef || t[i] != '0') { if (++big > 38) return 0; }
                coef = coef * 10 + (t[i] - '0'); i++; digits++; frac++;
            }
        }
        if (!digits) return 0;
        if (i < n && (t[i] == 'e' || t[i] == 'E')) {
            i++;
            if (i < n && (t[i] == '+' || t[i] == '-')) { eneg = t[i] == '-'; i++; }
            while (i < n && t[i] >= '0' && t[i] <= '9') {
                if (exp < 100000) exp = exp * 10 + (t[i] - '0');
                i++; edigits++;
            }
            if (!edigits) return 0;
        }
        if (i != n) return 0;
        if (neg) coef = -coef;
        long k = (eneg ? -exp : exp) - frac + s;
        if (k > 1000 || k < -1000) return coef == 0 ? (*out = 0, 1) : 0;
        return sb_rescale(coef, (int)k, p, out);
    }

    /* [+-]?digits within int64 */
    static int sb_parse_int64(const uint8_t* t, Py_ssize_t n, int64_t* out) {
        Py_ssize_t i = 0; int neg = 0; uint64_t acc = 0;
        if (n > 0 && (t[0] == '+' || t[0] == '-')) { neg = t[0] == '-'; i = 1; }
        if (i == n) return 0;
        for (; i < n; i++) {
            unsigned d = (unsigned)(t[i] - '0');
            if (d > 9) return 0;
            if (acc > (UINT64_MAX - d) / 10) return 0;
            acc = acc * 10 + d;
        }
        if (neg) { if (acc > 0x8000000000000000ULL) return 0; *out = (int64_t)(0 - acc); }
        else { if (acc > 0x7FFFFFFFFFFFFFFFULL) return 0; *out = (int64_t)acc; }
        return 1;
    }

    /* the decimal syntax above (no inf/nan/hex, unlike strtod) */
    static int sb_decimal_syntax(const uint8_t* t, Py_ssize_t n) {
        Py_ssize_t i = 0; int digits = 0;
        if (i < n && (t[i] == '+' || t[i] == '-')) i++;
        while (i < n && t[i] >= '0' && t[i] <= '9') { i++; digits++; }
        if (i < n && t[i] == '.') { i++; while (i < n && t[i] >= '0' && t[i] <= '9') { i++; digits++; } }
        if (!digits) return 0;
        if (i < n && (t[i] == 'e' || t[i] == 'E')) {
            Py_ssize_t e;
            i++;
            if (i < n && (t[i] == '+' || t[i] == '-')) i++;
            e = i;
            while (i < n && t[i] >= '0' && t[i] <= '9') i++;
            if (i == e) return 0;
        }
        return i == n;
    }
    """
    ctypedef long long sb_i128     # a 16-byte __int128 in C; Cython only moves it around
    int sb_utf8_valid(const uint8_t* s, Py_ssize_t n) noexcept nogil
    int sb_rescale(sb_i128 coef, int k, int p, sb_i128* out) noexcept nogil
    int sb_parse_decimal(const uint8_t* t, Py_ssize_t n, int p, int s, sb_i128* out) noexcept nogil
    int sb_parse_int64(const uint8_t* t, Py_ssize_t n, int64_t* out) noexcept nogil
    int sb_decimal_syntax(const uint8_t* t, Py_ssize_t n) noexcept nogil

cdef enum:
    HDR = 40                   # REFERENCE 2
    DATA_ROW_TYPE = 0x45       # REFERENCE appendix A

# 2000-01-01 as days and microseconds since the Unix epoch (docs/protocol.md 1.4)
DEF EPOCH_DAYS = 10957
DEF EPOCH_US = 946684800000000
DEF US_PER_DAY = 86400000000


cdef inline uint32_t _u32(const uint8_t* p) noexcept nogil:
    return p[0] | (<uint32_t>p[1] << 8) | (<uint32_t>p[2] << 16) | (<uint32_t>p[3] << 24)


include "row_payload.pxi"


cdef inline int64_t _i64(const uint8_t* p) noexcept nogil:
    cdef int64_t v
    memcpy(&v, p, 8)        # little-endian wire, little-endian host (x86-64, arm64)
    return v


include "arrow_cdata.pxi"

# --- growable buffers (malloc'd: the Arrow release callback frees them without the GIL) ---

cdef struct Buf:
    uint8_t* data
    int64_t len
    int64_t cap


cdef int _reserve(Buf* b, int64_t extra) except -1:
    cdef int64_t cap
    cdef uint8_t* data
    if b.len + extra <= b.cap:
        return 0
    cap = b.cap * 2 if b.cap else 64
    while cap < b.len + extra:
        cap *= 2
    data = <uint8_t*>realloc(b.data, cap)
    if data == NULL:
        raise MemoryError()
    b.data = data
    b.cap = cap
    return 0


cdef inline int _put(Buf* b, const void* src, int64_t n) except -1:
    if b.len + n > b.cap:
        _reserve(b, n)
    memcpy(b.data + b.len, src, n)
    b.len += n
    return 0


cdef inline int _put_zero(Buf* b, int64_t n) except -1:
    if b.len + n > b.cap:
        _reserve(b, n)
    memset(b.data + b.len, 0, n)
    b.len += n
    return 0


cdef inline int _put_bit(Buf* b, int64_t row, bint bit) except -1:
    if (row & 7) == 0:
        _put_zero(b, 1)
    if bit:
        b.data[row >> 3] |= <uint8_t>(1 << (row & 7))
    return 0


cdef inline int _put_offset(Buf* offs, int64_t end) except -1:
    return _put(offs, &end, 8)


cdef void _free_buf(Buf* b) noexcept:
    free(b.data)
    b.data = NULL
    b.len = b.cap = 0


cdef struct Col:
    int kind
    int width
    bint text           # the value arrives as text (else in the binary layout)
    bint keep_raw       # a typed text column: keep the server's text too
    bint fell_back      # a value did not parse: this batch exports the text
    int precision
    int scale
    int64_t nulls
    Buf valid
    Buf data
    Buf offs            # int64 offsets of var-width kinds (utf8, bytes)
    Buf raw
    Buf raw_offs


cdef int _col_reset(Col* c) except -1:
    cdef int64_t zero = 0
    c.nulls = 0
    c.fell_back = False
    _free_buf(&c.valid)
    _free_buf(&c.data)
    _free_buf(&c.offs)
    _free_buf(&c.raw)
    _free_buf(&c.raw_offs)
    _reserve(&c.valid, 8)
    _reserve(&c.data, 8)
    if c.kind == C_UTF8 or c.kind == C_BYTES:
        _put(&c.offs, &zero, 8)
    if c.keep_raw:
        _reserve(&c.raw, 8)
        _put(&c.raw_offs, &zero, 8)
    return 0


cdef void _col_free(Col* c) noexcept:
    _free_buf(&c.valid)
    _free_buf(&c.data)
    _free_buf(&c.offs)
    _free_buf(&c.raw)
    _free_buf(&c.raw_offs)


cdef object _utf8_error(Py_ssize_t col, const uint8_t* p, Py_ssize_t n):
    # the tuple decoder's message (rowcodec): let Python's decoder say what is wrong
    try:
        PyUnicode_DecodeUTF8(<const char*>p, n, NULL)
    except UnicodeDecodeError as exc:
        return DataError(f"column {col}: value is not valid UTF-8 ({exc.reason} at byte {exc.start})")
    return DataError(f"column {col}: value is not valid UTF-8")


cdef class ArrowSink:
    """Collects a result's rows as Arrow columns (see the pure twin for the contract)."""

    cdef Col* _cols
    cdef Py_ssize_t _ncols
    cdef int64_t _rows
    cdef readonly tuple columns
    cdef readonly tuple plans
    cdef readonly tuple null_markers
    cdef readonly bint raw_text
    cdef tuple _markers
    cdef uint64_t _marker_lens
    cdef list _objects          # a list per C_OBJECT column, else None

    def __cinit__(self):
        self._cols = NULL
        self._ncols = 0

    def __dealloc__(self):
        cdef Py_ssize_t i
        if self._cols != NULL:
            for i in range(self._ncols):
                _col_free(&self._cols[i])
            free(self._cols)

    def __init__(self, columns, null_markers=DEFAULT_NULL_MARKERS, raw_text=False,
                 numeric_as=NUMERIC_AS_DEFAULT):
        cdef Py_ssize_t i
        cdef Col* c
        self.columns = tuple(columns)
        self.plans = plan_columns(self.columns, raw_text, numeric_as)
        self.null_markers = tuple(bytes(m) for m in null_markers)
        self.raw_text = bool(raw_text)
        self._markers = () if raw_text else self.null_markers
        self._marker_lens = 0
        for m in self._markers:
            if len(m) < 64:
                self._marker_lens |= (<uint64_t>1) << len(m)
        if self._cols != NULL:
            raise RuntimeError("ArrowSink.__init__ called twice")
        self._ncols = len(self.plans)
        self._cols = <Col*>calloc(max(self._ncols, 1), sizeof(Col))
        if self._cols == NULL:
            raise MemoryError()
        self._objects = []
        for i, plan in enumerate(self.plans):
            c = &self._cols[i]
            c.kind, c.width, c.precision, c.scale, c.text = plan[0], plan[2], plan[3], plan[4], plan[5]
            c.keep_raw = c.text and c.kind != C_UTF8
            _col_reset(c)
            self._objects.append([] if c.kind == C_OBJECT else None)
        self._rows = 0

    def __len__(self):
        return self._rows

    @property
    def ncolumns(self):
        return self._ncols

    cdef inline bint _is_marker(self, const uint8_t* p, Py_ssize_t n) noexcept:
        cdef bytes m
        if n >= 64 or not (self._marker_lens >> n) & 1:
            return False
        for m in self._markers:
            if PyBytes_GET_SIZE(m) == n and memcmp(PyBytes_AS_STRING(m), p, n) == 0:
                return True
        return False

    cdef int _null(self, Col* c, Py_ssize_t i) except -1:
        cdef int64_t row = self._rows
        _put_bit(&c.valid, row, False)
        c.nulls += 1
        if c.keep_raw:
            _put_offset(&c.raw_offs, c.raw.len)
            if c.fell_back:         # the typed buffers stopped at the first unparsed value
                return 0
        if c.kind == C_OBJECT:
            self._objects[i].append(None)
        elif c.kind == C_UTF8 or c.kind == C_BYTES:
            _put_offset(&c.offs, c.data.len)
        elif c.kind == C_BOOL:
            _put_bit(&c.data, row, False)
        else:
            _put_zero(&c.data, c.width)
        return 0

    cdef int _text_value(self, Col* c, Py_ssize_t i, const uint8_t* p, Py_ssize_t n) except -1:
        cdef int64_t row = self._rows, iv
        cdef double dv
        cdef sb_i128 dec
        cdef char small[64]
        cdef char* tmp
        cdef bint ok = False
        if c.kind == C_UTF8:
            if not sb_utf8_valid(p, n):
                raise _utf8_error(i, p, n)
            _put(&c.data, p, n)
            _put_offset(&c.offs, c.data.len)
            _put_bit(&c.valid, row, True)
            return 0
        if not c.fell_back:
            if c.kind == C_INT64:
                ok = sb_parse_int64(p, n, &iv)
                if ok:
                    _put(&c.data, &iv, 8)
            elif c.kind == C_BOOL:
                ok = _parse_bool(p, n, &iv)
                if ok:
                    _put_bit(&c.data, row, iv != 0)
            elif c.kind == C_FLOAT64:
                if sb_decimal_syntax(p, n):
                    if n < 64:
                        tmp = small
                    else:
                        tmp = <char*>malloc(n + 1)
                    if tmp == NULL:
                        raise MemoryError()
                    memcpy(tmp, p, n)
                    tmp[n] = 0
                    dv = strtod(tmp, NULL)
                    if n >= 64:
                        free(tmp)
                    _put(&c.data, &dv, 8)
                    ok = True
            elif c.kind == C_DEC128:
                ok = sb_parse_decimal(p, n, c.precision, c.scale, &dec)
                if ok:
                    _put(&c.data, &dec, 16)
            if not ok:
                c.fell_back = True      # the rest of this batch exports the server's text
        if not ok and not sb_utf8_valid(p, n):
            raise _utf8_error(i, p, n)
        _put(&c.raw, p, n)
        _put_offset(&c.raw_offs, c.raw.len)
        _put_bit(&c.valid, row, True)
        return 0

    cdef int _binary_value(self, Col* c, Py_ssize_t i, const uint8_t* p, Py_ssize_t n) except -1:
        cdef int64_t row = self._rows, v64
        cdef int32_t v32
        cdef int scale
        cdef sb_i128 dec
        cdef uint64_t lo, hi
        cdef Py_ssize_t k
        cdef int kind = c.kind
        if kind == C_FIXED:
            if n != c.width:
                self._fail(i, p, n)
            _put(&c.data, p, n)
        elif kind == C_UTF8 or kind == C_BYTES:
            if n < 4 or <int64_t><int32_t>_u32(p) != n - 4:
                self._fail(i, p, n)
            if kind == C_UTF8 and not sb_utf8_valid(p + 4, n - 4):
                self._fail(i, p, n)
            _put(&c.data, p + 4, n - 4)
            _put_offset(&c.offs, c.data.len)
        elif kind == C_BOOL:
            if n != 1 or p[0] > 1:
                self._fail(i, p, n)
            _put_bit(&c.data, row, p[0] == 1)
        elif kind == C_DATE:
            if n != 4:
                self._fail(i, p, n)
            v32 = <int32_t>_u32(p)
            if v32 > INT32_MAX - EPOCH_DAYS:
                self._fail(i, p, n)
            v32 += EPOCH_DAYS
            _put(&c.data, &v32, 4)
        elif kind == C_TIME:
            if n != 8:
                self._fail(i, p, n)
            v64 = _i64(p)
            if v64 < 0 or v64 >= US_PER_DAY:
                self._fail(i, p, n)
            _put(&c.data, &v64, 8)
        elif kind == C_TS:
            if n != 8:
                self._fail(i, p, n)
            v64 = _i64(p)
            if v64 > 0x7FFFFFFFFFFFFFFF - EPOCH_US:
                self._fail(i, p, n)
            v64 += EPOCH_US
            _put(&c.data, &v64, 8)
        elif kind == C_UUID:
            if n != 16:
                self._fail(i, p, n)
            _put(&c.data, p, 16)
        elif kind == C_DEC128:
            # i16 precision, i16 scale, u8 sign, u8[3], little-endian magnitude (docs 1.4)
            if n < 8 or p[4] & 0xFE:        # a special (inf/NaN) or a bad sign byte
                self._fail(i, p, n)
            scale = <int16_t>(p[2] | (p[3] << 8))
            lo = hi = 0
            for k in range(n - 1, 7, -1):
                if k - 8 >= 16:
                    if p[k]:
                        self._fail(i, p, n)
                elif k - 8 >= 8:
                    hi |= (<uint64_t>p[k]) << (8 * (k - 16))
                else:
                    lo |= (<uint64_t>p[k]) << (8 * (k - 8))
            if hi >> 63:
                self._fail(i, p, n)
            dec = ((<sb_i128>hi) << 64) | <sb_i128>lo
            if p[4] & 1:
                dec = -dec
            if not sb_rescale(dec, c.scale - scale, c.precision, &dec):
                self._fail(i, p, n)
            _put(&c.data, &dec, 16)
        else:                               # C_OBJECT
            raw = PyBytes_FromStringAndSize(<const char*>p, n)
            try:
                value = _decode_value(self.plans[i][6], raw)
            except DataError:
                raise binary_value_error(self.plans[i], raw) from None
            self._objects[i].append(value)
            return 0
        _put_bit(&c.valid, row, True)
        return 0

    cdef int _fail(self, Py_ssize_t i, const uint8_t* p, Py_ssize_t n) except -1:
        raise binary_value_error(self.plans[i], PyBytes_FromStringAndSize(<const char*>p, n))

    cdef int _decode(self, const uint8_t* p, Py_ssize_t n) except -1:
        """One DATA_ROW payload (REFERENCE 4.6), checked as the tuple decoders check it."""
        cdef Py_ssize_t ncols, pos, i
        cdef int32_t length
        cdef Col* c
        pos = _row_columns_start(p, n, self._ncols)
        ncols = self._ncols
        for i in range(ncols):
            c = &self._cols[i]
            if p[4 + (i >> 3)] & (1 << (i & 7)):
                self._null(c, i)
                continue
            length = _column_length(p, n, &pos, i)
            if length == -1:
                self._null(c, i)
                continue
            if not c.text:
                self._binary_value(c, i, p + pos, length)
            elif self._is_marker(p + pos, length):
                self._null(c, i)
            else:
                self._text_value(c, i, p + pos, length)
            pos += length
        if pos != n:
            raise ProtocolError(f"DATA_ROW has {n - pos} bytes after its last column")
        self._rows += 1
        return 0

    def decode_row(self, payload):
        """Append one DATA_ROW payload (REFERENCE 4.6); returns None (the sink keeps it)."""
        cdef Py_buffer view
        PyObject_GetBuffer(payload, &view, PyBUF_SIMPLE)
        try:
            self._decode(<const uint8_t*>view.buf, view.len)
        finally:
            PyBuffer_Release(&view)

    def discard(self):
        """Drop the rows held (a stream being drained)."""
        cdef Py_ssize_t i
        for i in range(self._ncols):
            _col_reset(&self._cols[i])
            if self._objects[i] is not None:
                self._objects[i] = []
        self._rows = 0

    def take(self):
        """The rows held, one column per result column; the sink starts empty again."""
        cdef Py_ssize_t i
        out = []
        for i in range(self._ncols):
            if self._objects[i] is not None:
                out.append(self._objects[i])
                self._objects[i] = []
                _col_reset(&self._cols[i])
            else:
                out.append(self._export(i))
        self._rows = 0
        return out

    cdef ExportedColumn _export(self, Py_ssize_t i):
        cdef Col* c = &self._cols[i]
        cdef ArrowSchema* schema
        cdef ArrowArray* array
        cdef ArrayPriv* priv
        cdef Buf* data = &c.data
        cdef Buf* offs = &c.offs
        cdef int64_t k, n = self._rows
        cdef int32_t* o32
        cdef int64_t* o64
        fmt = self.plans[i][1]
        var = c.kind == C_UTF8 or c.kind == C_BYTES
        if c.fell_back:
            fmt, var, data, offs = "u", True, &c.raw, &c.raw_offs
        if var and data.len > INT32_MAX:
            fmt = "U" if fmt == "u" else "Z"        # past 2 GiB: 64-bit offsets
        elif var:
            o32 = <int32_t*>offs.data               # narrow in place, front to back
            o64 = <int64_t*>offs.data
            for k in range(n + 1):
                o32[k] = <int32_t>o64[k]
        schema = _new_schema(fmt.encode("ascii"), _uuid_metadata() if c.kind == C_UUID else None)
        array = <ArrowArray*>calloc(1, sizeof(ArrowArray))
        priv = <ArrayPriv*>calloc(1, sizeof(ArrayPriv))
        if array == NULL or priv == NULL:
            free(array)
            free(priv)
            _release_schema(schema)
            free(schema)
            raise MemoryError()
        array.length = n
        array.null_count = c.nulls
        array.private_data = priv
        array.release = _release_array
        array.buffers = <const void**>priv.buffers
        if c.nulls:
            priv.buffers[0] = c.valid.data
        else:
            free(c.valid.data)
        c.valid.data = NULL
        if var:
            array.n_buffers = 3
            priv.buffers[1] = offs.data
            priv.buffers[2] = data.data
            offs.data = data.data = NULL
        else:
            array.n_buffers = 2
            priv.buffers[1] = data.data
            data.data = NULL
        _col_reset(c)       # frees what was not moved (the typed data of a fallen-back column)
        return _exported(schema, array, fmt)


cdef int _parse_bool(const uint8_t* p, Py_ssize_t n, int64_t* out) noexcept:
    """t/true/1 and f/false/0 in any case (REFERENCE 8.4)."""
    cdef uint8_t c0
    if n == 1:
        c0 = p[0] | 0x20
        if c0 == c't' or p[0] == c'1':
            out[0] = 1
            return 1
        if c0 == c'f' or p[0] == c'0':
            out[0] = 0
            return 1
        return 0
    if n == 4 and (p[0] | 0x20) == c't' and (p[1] | 0x20) == c'r' and (p[2] | 0x20) == c'u' \
            and (p[3] | 0x20) == c'e':
        out[0] = 1
        return 1
    if n == 5 and (p[0] | 0x20) == c'f' and (p[1] | 0x20) == c'a' and (p[2] | 0x20) == c'l' \
            and (p[3] | 0x20) == c's' and (p[4] | 0x20) == c'e':
        out[0] = 0
        return 1
    return 0


# --- the frame loop (shared with rowcodec.pyx and bincodec.pyx) ---

include "row_scan.pxi"


cdef tuple _decode_arrow_row(object dec, const uint8_t* p, Py_ssize_t n):
    (<ArrowSink>dec)._decode(p, n)
    return None             # the sink keeps the row: nothing for the loop to append


cdef object _arrow_row_error(object dec, object exc):
    return None


def read_data_rows(reader, sink, rows, max_rows):
    """Decode consecutive complete DATA_ROW frames from ``reader`` into ``sink``.

    ``rows`` is where the protocol keeps the result's rows: the sink itself, or (while a
    stream is drained) a throwaway list, and then the rows are dropped. Stops as
    ``rowcodec.read_data_rows`` does; returns the number of rows read.
    """
    count = _read_rows(reader, sink, None, max_rows, ArrowSink, _decode_arrow_row,
                       _arrow_row_error)
    if rows is not sink:
        sink.discard()
    return count
