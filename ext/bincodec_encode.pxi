# encode_data_row of the compiled twin (included by bincodec.pyx): the dev server's bulk
# path. Values of the common scalar types, of exactly the Python type the codec expects
# and in range, are written in C; every other value goes through the pure twin's encoder,
# so results and refusals are the pure twin's by construction.

from libc.math cimport isinf

cdef enum:
    E_NONE = 0
    E_BOOL
    E_I8
    E_I16
    E_I32
    E_I64
    E_U8
    E_U16
    E_U32
    E_F32
    E_F64
    E_TEXT
    E_BYTES
    E_DATE
    E_TIMESTAMP
    E_TIMESTAMPTZ
    E_UUID
    E_DECIMAL

cdef dict _ENCODE_KIND = {
    BOOLEAN: E_BOOL, INT8: E_I8, INT16: E_I16, INT32: E_I32, INT64: E_I64, UINT8: E_U8,
    UINT16: E_U16, UINT32: E_U32, FLOAT32: E_F32, FLOAT64: E_F64, TEXT: E_TEXT, XML: E_TEXT,
    ENUM: E_TEXT, TSVECTOR: E_TEXT, TSQUERY: E_TEXT, BINARY: E_BYTES, BLOB: E_BYTES,
    DATE: E_DATE, TIMESTAMP: E_TIMESTAMP, TIMESTAMPTZ: E_TIMESTAMPTZ, UUID: E_UUID,
    DECIMAL: E_DECIMAL, DECFLOAT: E_DECIMAL, MONEY: E_DECIMAL,
}
cdef object _Decimal_type = Decimal
cdef object _date_type = _dt.date
cdef object _datetime_type = _dt.datetime

cdef extern from "Python.h":
    const char* _utf8_of "PyUnicode_AsUTF8AndSize"(object, Py_ssize_t*) except NULL


cdef struct Out:
    uint8_t* data
    Py_ssize_t len
    Py_ssize_t cap


cdef int _reserve(Out* o, Py_ssize_t extra) except -1:
    cdef Py_ssize_t cap
    cdef uint8_t* data
    if extra <= o.cap - o.len:
        return 0
    cap = o.cap * 2 if o.cap else 256
    if cap - o.len < extra:
        cap = o.len + extra
    data = <uint8_t*>PyMem_Realloc(o.data, cap)
    if data == NULL:
        raise MemoryError()
    o.data = data
    o.cap = cap
    return 0


cdef inline void _put(Out* o, uint64_t v, int width) noexcept:
    cdef int i
    for i in range(width):
        o.data[o.len + i] = (v >> (8 * i)) & 0xFF
    o.len += width


cdef int _put_bytes(Out* o, const char* s, Py_ssize_t n, bint inner) except -1:
    """``i32 value_length`` (and the inner length when ``inner``), then the bytes."""
    _reserve(o, 8 + n)
    if inner:
        _put(o, <uint32_t>(n + 4), 4)
    _put(o, <uint32_t>n, 4)
    memcpy(o.data + o.len, s, n)
    o.len += n
    return 0


cdef inline int64_t _days_from_civil(int year, int month, int day) noexcept:
    """Days since 2000-01-01 of a proleptic Gregorian date (year >= 1)."""
    cdef int64_t y = year - (1 if month <= 2 else 0)
    cdef int64_t era = y // 400
    cdef int64_t yoe = y - era * 400
    cdef int64_t doy = (153 * (month - 3 if month > 2 else month + 9) + 2) // 5 + day - 1
    cdef int64_t doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468 - 10957


cdef int _encode_decimal(Out* o, object value) except -1:
    """A finite Decimal of up to 19 digits, read from its text (``[-]d[.d][E[+-]d]``).

    Its text has exactly the coefficient's digits (plus leading zeros in ``0.00d``
    forms), so this gives the pure twin's precision, scale and coefficient; anything
    else (NaN, infinity, more digits, an exponent beyond i16) returns 0.
    """
    cdef Py_ssize_t n, i = 0, digits = 0, fraction = 0
    cdef const char* s
    cdef uint64_t coefficient = 0
    cdef bint negative = False, point = False, exp_negative = False, significant = False
    cdef int64_t exponent = 0, scale
    text = str(value)
    s = _utf8_of(text, &n)
    if n and s[0] == c'-':
        negative = True
        i = 1
    while i < n and (c'0' <= s[i] <= c'9' or (s[i] == c'.' and not point)):
        if s[i] == c'.':
            point = True
        else:
            if point:
                fraction += 1
            if s[i] != c'0' or significant:
                significant = True
                digits += 1
                if digits > 19:
                    return 0
                coefficient = coefficient * 10 + <uint64_t>(s[i] - c'0')
        i += 1
    if i < n and (s[i] == c'E' or s[i] == c'e'):
        i += 1
        if i < n and (s[i] == c'+' or s[i] == c'-'):
            exp_negative = s[i] == c'-'
            i += 1
        if i == n:
            return 0
        while i < n and c'0' <= s[i] <= c'9':
            exponent = exponent * 10 + (s[i] - c'0')
            if exponent > 100000:
                return 0
            i += 1
    if i != n or (i == 1 and negative) or n == 0:
        return 0                        # NaN, Infinity, or text this parser does not know
    scale = fraction - (-exponent if exp_negative else exponent)
    if scale < -32768 or scale > 32767:
        return 0
    _reserve(o, 4 + 8 + 8)
    n = 0
    while (coefficient >> (8 * n)) and n < 8:
        n += 1
    _put(o, <uint64_t>(8 + n), 4)
    _put(o, <uint64_t>(digits if digits else 1), 2)
    _put(o, <uint64_t><uint16_t>scale, 2)
    _put(o, <uint64_t>(1 if negative else 0), 1)
    _put(o, 0, 3)
    _put(o, coefficient, <int>n)
    return 1


cdef int _encode_fast(Out* o, int kind, object value) except -1:
    """Write the framed value and return 1, or return 0 for the pure encoder to handle."""
    cdef long long number
    cdef int overflow = 0
    cdef double d
    cdef float f
    cdef uint32_t bits32
    cdef uint64_t bits64
    cdef const char* s
    cdef Py_ssize_t n
    cdef int64_t us
    if kind == E_BOOL:
        if value is not True and value is not False:
            return 0
        _reserve(o, 5)
        _put(o, 1, 4)
        _put(o, 1 if value is True else 0, 1)
        return 1
    if E_I8 <= kind <= E_U32 or kind == E_I64:
        if type(value) is not int:
            return 0
        number = PyLong_AsLongLongAndOverflow(value, &overflow)
        if overflow:
            return 0
        if kind == E_I8 and -128 <= number <= 127:
            n = 1
        elif kind == E_I16 and -32768 <= number <= 32767:
            n = 2
        elif kind == E_I32 and -2147483648 <= number <= 2147483647:
            n = 4
        elif kind == E_I64:
            n = 8
        elif kind == E_U8 and 0 <= number <= 0xFF:
            n = 1
        elif kind == E_U16 and 0 <= number <= 0xFFFF:
            n = 2
        elif kind == E_U32 and 0 <= number <= 0xFFFFFFFF:
            n = 4
        else:
            return 0
        _reserve(o, 4 + n)
        _put(o, <uint32_t>n, 4)
        _put(o, <uint64_t>number, <int>n)
        return 1
    if kind == E_F64 or kind == E_F32:
        if type(value) is not float:
            return 0
        d = value
        _reserve(o, 12)
        if kind == E_F64:
            memcpy(&bits64, &d, 8)
            _put(o, 8, 4)
            _put(o, bits64, 8)
            return 1
        f = <float>d
        if isinf(f) and not isinf(d):
            return 0                    # beyond FLOAT32: the pure twin refuses it
        memcpy(&bits32, &f, 4)
        _put(o, 4, 4)
        _put(o, bits32, 4)
        return 1
    if kind == E_TEXT:
        if type(value) is not str:
            return 0
        try:
            s = _utf8_of(value, &n)
        except UnicodeEncodeError:
            return 0                    # lone surrogates: the pure twin refuses them
        if n > 0x7FFFFFFB:
            return 0
        _put_bytes(o, s, n, True)
        return 1
    if kind == E_BYTES:
        if type(value) is not bytes or PyBytes_GET_SIZE(value) > 0x7FFFFFFB:
            return 0
        _put_bytes(o, PyBytes_AS_STRING(value), PyBytes_GET_SIZE(value), True)
        return 1
    if kind == E_DATE:
        if type(value) is not _date_type:
            return 0
        _reserve(o, 8)
        _put(o, 4, 4)
        _put(o, <uint64_t>_days_from_civil(date_year(value), date_month(value), date_day(value)), 4)
        return 1
    if kind == E_TIMESTAMP or kind == E_TIMESTAMPTZ:
        if type(value) is not _datetime_type:
            return 0
        if datetime_tzinfo(value) is not (None if kind == E_TIMESTAMP else _UTC):
            return 0
        us = (_days_from_civil(datetime_year(value), datetime_month(value), datetime_day(value))
              * US_PER_DAY + ((datetime_hour(value) * 60 + datetime_minute(value)) * 60
                              + datetime_second(value)) * <int64_t>1000000
              + datetime_microsecond(value))
        _reserve(o, 12)
        _put(o, 8, 4)
        _put(o, <uint64_t>us, 8)
        return 1
    if kind == E_DECIMAL:
        if type(value) is not _Decimal_type:
            return 0
        return _encode_decimal(o, value)
    if kind == E_UUID:
        if type(value) is not _UUID:
            return 0
        raw = value.bytes
        _reserve(o, 20)
        _put(o, 16, 4)
        memcpy(o.data + o.len, PyBytes_AS_STRING(raw), 16)
        o.len += 16
        return 1
    return 0


def encode_data_row(type_ids, values):
    """DATA_ROW payload of binary values; None is a null-bitmap NULL (the dev server's path)."""
    cdef Out o
    cdef Py_ssize_t ncols = len(values), nbitmap, i
    if len(type_ids) != ncols:
        raise DataError(f"{ncols} values for {len(type_ids)} column types")
    if ncols > 0xFFFF:
        raise DataError(f"a DATA_ROW holds at most 65535 columns, not {ncols}")
    nbitmap = (ncols + 7) // 8
    o.data = NULL
    o.len = o.cap = 0
    try:
        _reserve(&o, 4 + nbitmap)
        _put(&o, <uint64_t>ncols, 2)
        _put(&o, <uint64_t>nbitmap, 2)
        memset(o.data + 4, 0, nbitmap)
        o.len += nbitmap
        for i, (type_id, value) in enumerate(zip(type_ids, values)):
            if value is None:
                o.data[4 + (i >> 3)] |= 1 << (i & 7)
                continue
            spec = _spec(type_id)
            if _encode_fast(&o, _ENCODE_KIND.get(spec[:2], E_NONE), value):
                continue
            try:
                raw = _encode_one(spec, value)
            except _Malformed as exc:
                raise DataError(f"column {i} ({type_label(spec)}): {exc}") from None
            _put_bytes(&o, PyBytes_AS_STRING(raw), PyBytes_GET_SIZE(raw), False)
        return PyBytes_FromStringAndSize(<const char*>o.data, o.len)
    finally:
        PyMem_Free(o.data)


def encode_data_row_frames(type_ids, rows, sequence, attachment_id=ZERO_UUID, txn_id=0):
    """Whole DATA_ROW frames (flags 0) for many rows of binary values: the dev server's
    bulk path, the binary sibling of ``rowcodec.encode_data_row_frames``.

    Each column's spec and C encoder are resolved once per call, not once per value, and
    the 40-byte headers are written here, so a row of common scalars makes no Python
    call. Returns ``(frames_bytes, next_sequence)``, byte for byte the pure twin's.
    """
    cdef Out o
    cdef Py_ssize_t ncols = len(type_ids), nbitmap, i, start, bitmap_at, length
    cdef uint64_t seq = <uint64_t>sequence, txn = <uint64_t>txn_id
    cdef int* kinds = NULL
    attachment = bytes(attachment_id)
    if len(attachment) != 16:
        raise ValueError("attachment_id must be 16 bytes")
    if ncols > 0xFFFF:
        raise DataError(f"a DATA_ROW holds at most 65535 columns, not {ncols}")
    specs = [_spec(type_id) for type_id in type_ids]
    nbitmap = (ncols + 7) // 8
    o.data = NULL
    o.len = o.cap = 0
    count = 0
    try:
        kinds = <int*>PyMem_Malloc(sizeof(int) * (ncols if ncols else 1))
        if kinds == NULL:
            raise MemoryError()
        for i in range(ncols):
            kinds[i] = _ENCODE_KIND.get(specs[i][:2], E_NONE)
        for values in rows:
            if len(values) != ncols:
                raise DataError(f"{len(values)} values for {ncols} column types")
            start = o.len
            _reserve(&o, HDR + 4 + nbitmap)
            memcpy(o.data + o.len, b"SBWP\x01\x01", 6)
            o.len += 6
            _put(&o, DATA_ROW_TYPE, 1)
            _put(&o, 0, 1)                          # flags
            _put(&o, 0, 4)                          # length, written below
            _put(&o, seq & 0xFFFFFFFF, 4)
            memcpy(o.data + o.len, PyBytes_AS_STRING(attachment), 16)
            o.len += 16
            _put(&o, txn, 8)
            _put(&o, <uint64_t>ncols, 2)
            _put(&o, <uint64_t>nbitmap, 2)
            bitmap_at = o.len
            memset(o.data + o.len, 0, nbitmap)
            o.len += nbitmap
            for i in range(ncols):
                value = values[i]
                if value is None:
                    o.data[bitmap_at + (i >> 3)] |= 1 << (i & 7)
                    continue
                if _encode_fast(&o, kinds[i], value):
                    continue
                try:
                    raw = _encode_one(specs[i], value)
                except _Malformed as exc:
                    raise DataError(f"column {i} ({type_label(specs[i])}): {exc}") from None
                _put_bytes(&o, PyBytes_AS_STRING(raw), PyBytes_GET_SIZE(raw), False)
            length = o.len - start - HDR
            if length > MAX_PAYLOAD:
                raise ProtocolError(
                    f"SBWP payload of {length} bytes exceeds the 64 MiB frame limit")
            for i in range(4):
                o.data[start + 8 + i] = (<uint64_t>length >> (8 * i)) & 0xFF
            seq += 1
            count += 1
        return PyBytes_FromStringAndSize(<const char*>o.data, o.len), sequence + count
    finally:
        PyMem_Free(o.data)
        PyMem_Free(kinds)
