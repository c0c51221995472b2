# Scalar decoders of the compiled twin (included by bincodec.pyx). Each mirrors the
# decoder of the same type in scratchbird/_pure/bincodec_scalar.py, messages included;
# layouts: docs/protocol.md 1.4.

cdef object _Decimal = Decimal
cdef object _Interval = Interval
cdef object _Jsonb = Jsonb
cdef object _Geometry = Geometry
cdef object _UUID = uuid.UUID
cdef object _SAFE_UNKNOWN = uuid.SafeUUID.unknown
cdef tuple _NO_ARGS = ()
# the fast path below builds a UUID as object.__new__ and its two slots
cdef bint _UUID_PLAIN = (uuid.UUID.__new__ is object.__new__
                         and uuid.UUID.__slots__ == ('int', 'is_safe', '__weakref__'))
cdef object _UTC = _dt.timezone.utc
cdef object _timezone = _dt.timezone
cdef object _timedelta = _dt.timedelta
cdef dict _OFFSETS = {}       # UTC offset in seconds -> timezone, built on first use
cdef str _INT_ATTR = "int"
cdef str _SAFE_ATTR = "is_safe"
cdef object _IP_FAMILIES = {2: (4, 32, ipaddress.IPv4Interface, ipaddress.IPv4Network),
                            10: (16, 128, ipaddress.IPv6Interface, ipaddress.IPv6Network)}

cdef enum:
    SIGN_NEGATIVE = 0x01
    SIGN_INFINITY = 0x10
    SIGN_NAN = 0x20
    SIGN_SNAN = 0x30

cdef int64_t US_PER_DAY = 86400000000
cdef int32_t MIN_DAYS = -730119       # 0001-01-01 - 2000-01-01
cdef int32_t MAX_DAYS = 2921939       # 9999-12-31 - 2000-01-01
cdef int64_t MIN_US = -730119 * 86400000000
cdef int64_t MAX_US = 2921940 * 86400000000 - 1


cdef object _wrong_size(Py_ssize_t n, Py_ssize_t width):
    return _Malformed(f"value of {n} bytes, expected {width}")


cdef object _too_short(Py_ssize_t n, Py_ssize_t need):
    return _Malformed(f"value of {n} bytes, expected at least {need}")

# ---------------------------------------------------------------- boolean, integers, floats


cdef object _d_bool(const uint8_t* p, Py_ssize_t n, _Options o, int depth):
    if n != 1:
        raise _wrong_size(n, 1)
    if p[0] > 1:
        raise _Malformed(f"boolean byte {p[0]} is not 0 or 1")
    return p[0] == 1


cdef object _d_int8(const uint8_t* p, Py_ssize_t n, _Options o, int depth):
    if n != 1:
        raise _wrong_size(n, 1)
    return PyLong_FromLong(<int8_t>p[0])


cdef object _d_int16(const uint8_t* p, Py_ssize_t n, _Options o, int depth):
    if n != 2:
        raise _wrong_size(n, 2)
    return PyLong_FromLong(<int16_t>_u16(p))


cdef object _d_int32(const uint8_t* p, Py_ssize_t n, _Options o, int depth):
    if n != 4:
        raise _wrong_size(n, 4)
    return PyLong_FromLong(<int32_t>_u32(p))


cdef object _d_int64(const uint8_t* p, Py_ssize_t n, _Options o, int depth):
    if n != 8:
        raise _wrong_size(n, 8)
    return PyLong_FromLongLong(<int64_t>_u64(p))


cdef object _d_int128(const uint8_t* p, Py_ssize_t n, _Options o, int depth):
    if n != 16:
        raise _wrong_size(n, 16)
    return _PyLong_FromByteArray(p, 16, 1, 1)


cdef object _d_uint8(const uint8_t* p, Py_ssize_t n, _Options o, int depth):
    if n != 1:
        raise _wrong_size(n, 1)
    return PyLong_FromLong(p[0])


cdef object _d_uint16(const uint8_t* p, Py_ssize_t n, _Options o, int depth):
    if n != 2:
        raise _wrong_size(n, 2)
    return PyLong_FromLong(_u16(p))


cdef object _d_uint32(const uint8_t* p, Py_ssize_t n, _Options o, int depth):
    if n != 4:
        raise _wrong_size(n, 4)
    return PyLong_FromUnsignedLongLong(_u32(p))


cdef object _d_uint64(const uint8_t* p, Py_ssize_t n, _Options o, int depth):
    if n != 8:
        raise _wrong_size(n, 8)
    return PyLong_FromUnsignedLongLong(_u64(p))


cdef object _d_uint128(const uint8_t* p, Py_ssize_t n, _Options o, int depth):
    if n != 16:
        raise _wrong_size(n, 16)
    return _PyLong_FromByteArray(p, 16, 1, 0)


cdef object _d_float32(const uint8_t* p, Py_ssize_t n, _Options o, int depth):
    cdef uint32_t bits
    cdef float value
    if n != 4:
        raise _wrong_size(n, 4)
    bits = _u32(p)
    memcpy(&value, &bits, 4)
    return PyFloat_FromDouble(value)


cdef object _d_float64(const uint8_t* p, Py_ssize_t n, _Options o, int depth):
    cdef uint64_t bits
    cdef double value
    if n != 8:
        raise _wrong_size(n, 8)
    bits = _u64(p)
    memcpy(&value, &bits, 8)
    return PyFloat_FromDouble(value)

# ---------------------------------------------------------------- DECIMAL, DECFLOAT, MONEY


cdef Py_ssize_t MAX_COEFFICIENT_BYTES_C = MAX_DECIMAL_COEFFICIENT_BYTES


cdef object _digits_of(object coefficient):
    # Decimal(int) is exact and, unlike str(int), has no digit limit: _d_decimal caps
    # the coefficient's length first (the pure twin's _coefficient)
    return _Decimal(coefficient).as_tuple().digits


cdef Py_ssize_t _decimal_text(char* out, int negative, uint64_t coefficient, int exponent) noexcept:
    """Write ``[-]<coefficient>E<exponent>`` (at most 1 + 20 + 1 + 6 bytes); return its length."""
    cdef char digits[24]
    cdef Py_ssize_t k = 0, length = 0
    cdef unsigned int e
    while True:
        digits[k] = c'0' + <char>(coefficient % 10)
        coefficient //= 10
        k += 1
        if coefficient == 0:
            break
    if negative:
        out[length] = c'-'
        length += 1
    while k:
        k -= 1
        out[length] = digits[k]
        length += 1
    if exponent:
        out[length] = c'E'
        length += 1
        if exponent < 0:
            out[length] = c'-'
            length += 1
        e = <unsigned int>(-exponent if exponent < 0 else exponent)
        k = 0
        while True:
            digits[k] = c'0' + <char>(e % 10)
            e //= 10
            k += 1
            if e == 0:
                break
        while k:
            k -= 1
            out[length] = digits[k]
            length += 1
    return length


cdef object _d_decimal(const uint8_t* p, Py_ssize_t n, _Options o, int depth):
    cdef int scale, sign, negative, kind
    cdef Py_ssize_t k
    cdef uint64_t coefficient = 0
    cdef char text[48]
    if n < 8:
        raise _too_short(n, 8)
    scale = <int16_t>_u16(p + 2)      # precision (p[0:2]) is informative only
    sign = p[4]
    negative = sign & SIGN_NEGATIVE
    kind = sign & ~SIGN_NEGATIVE
    k = n - 8
    while k > 0 and p[8 + k - 1] == 0:     # high zero bytes add nothing
        k -= 1
    if k > MAX_COEFFICIENT_BYTES_C:         # turning it into digits is quadratic
        raise _Malformed(f"decimal coefficient of {k} bytes exceeds the "
                         f"{MAX_DECIMAL_COEFFICIENT_BYTES} bytes that {MAX_DECIMAL_DIGITS} "
                         "digits (the largest i16 precision) need")
    if kind == 0:
        if k <= 8:
            while k > 0:
                k -= 1
                coefficient = (coefficient << 8) | p[8 + k]
            return _Decimal(PyUnicode_DecodeASCII(text, _decimal_text(text, negative, coefficient, -scale), NULL))
        return _Decimal((negative, _digits_of(_PyLong_FromByteArray(p + 8, k, 1, 0)), -scale))
    if kind != SIGN_INFINITY and kind != SIGN_NAN and kind != SIGN_SNAN:
        raise _Malformed(f"decimal sign byte 0x{sign:02x} is not 0x00/0x01, 0x10/0x11 "
                         "(infinity), 0x20/0x21 (NaN) or 0x30/0x31 (signaling NaN)")
    if scale:
        raise _Malformed(f"a decimal infinity or NaN has scale {scale}, expected 0")
    if kind == SIGN_INFINITY:
        if k:
            raise _Malformed("a decimal infinity has a coefficient")
        return _Decimal((negative, (), "F"))
    # a NaN's coefficient is its diagnostic payload
    return _Decimal((negative, _digits_of(_PyLong_FromByteArray(p + 8, k, 1, 0)) if k else (),
                     "n" if kind == SIGN_NAN else "N"))

# ---------------------------------------------------------------- text, JSON, bytes, bits


cdef inline Py_ssize_t _inner(const uint8_t* p, Py_ssize_t n) except -1:
    """Length of the bytes after the inner ``i32 length`` (REFERENCE 8.7), which must match."""
    cdef int32_t length
    if n < 4:
        raise _too_short(n, 4)
    length = <int32_t>_u32(p)
    if length != n - 4:
        raise _Malformed(f"inner length {length} does not match the {n - 4} bytes that follow")
    return n - 4


cdef object _d_text(const uint8_t* p, Py_ssize_t n, _Options o, int depth):
    return PyUnicode_DecodeUTF8(<const char*>p + 4, _inner(p, n), NULL)


cdef object _loads(_Options o, text):
    try:
        return o.json_loads(text)
    except Exception as exc:  # any failure of the user's loads is a bad value
        raise _Malformed(f"JSON text does not parse ({type(exc).__name__}: {exc})") from None


cdef object _d_json(const uint8_t* p, Py_ssize_t n, _Options o, int depth):
    text = PyUnicode_DecodeUTF8(<const char*>p + 4, _inner(p, n), NULL)
    return text if o.json_loads is None else _loads(o, text)


cdef object _d_jsonb(const uint8_t* p, Py_ssize_t n, _Options o, int depth):
    text = PyUnicode_DecodeUTF8(<const char*>p + 4, _inner(p, n), NULL)
    return _Jsonb(text) if o.json_loads is None else _loads(o, text)


cdef object _d_bytes(const uint8_t* p, Py_ssize_t n, _Options o, int depth):
    return PyBytes_FromStringAndSize(<const char*>p + 4, _inner(p, n))


cdef object _d_bit(const uint8_t* p, Py_ssize_t n, _Options o, int depth):
    cdef int32_t nbits
    cdef Py_ssize_t need, i
    cdef bytes out
    cdef char* c
    if n < 4:
        raise _too_short(n, 4)
    nbits = <int32_t>_u32(p)
    if nbits < 0:
        raise _Malformed(f"bit count {nbits} is negative")
    need = (<Py_ssize_t>nbits + 7) // 8
    if n - 4 != need:
        raise _Malformed(f"{nbits} bits need {need} bytes, the value has {n - 4}")
    if nbits % 8 and p[n - 1] & (0xFF >> (nbits % 8)):
        raise _Malformed("the padding bits after the last bit are not zero")
    out = PyBytes_FromStringAndSize(NULL, nbits)
    c = PyBytes_AS_STRING(out)
    for i in range(nbits):
        c[i] = c'1' if p[4 + (i >> 3)] & (0x80 >> (i & 7)) else c'0'
    return PyUnicode_DecodeASCII(c, nbits, NULL)

# ---------------------------------------------------------------- temporal


cdef inline void _civil(int64_t days, int* year, int* month, int* day) noexcept nogil:
    """Proleptic Gregorian date of ``days`` since 2000-01-01 (days in MIN_DAYS..MAX_DAYS)."""
    cdef int64_t z = days + 10957 + 719468     # days since 0000-03-01; >= 0 in range
    cdef int64_t era = z // 146097
    cdef int64_t doe = z - era * 146097
    cdef int64_t yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    cdef int64_t doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    cdef int64_t mp = (5 * doy + 2) // 153
    day[0] = <int>(doy - (153 * mp + 2) // 5 + 1)
    month[0] = <int>(mp + 3 if mp < 10 else mp - 9)
    year[0] = <int>(yoe + era * 400 + (1 if month[0] <= 2 else 0))


cdef object _d_date(const uint8_t* p, Py_ssize_t n, _Options o, int depth):
    cdef int32_t days
    cdef int year, month, day
    if n != 4:
        raise _wrong_size(n, 4)
    days = <int32_t>_u32(p)
    if days == INT32_MAX or days == INT32_MIN:
        raise _Malformed(f"date is {'+' if days > 0 else '-'}infinity, which Python's date cannot hold")
    if days < MIN_DAYS or days > MAX_DAYS:
        raise _Malformed(f"date {days} days from 2000-01-01 is outside years 1..9999")
    _civil(days, &year, &month, &day)
    return date_new(year, month, day)


cdef object _time_of(int64_t us, object tzinfo):
    cdef int64_t seconds
    if us < 0 or us >= US_PER_DAY:
        raise _Malformed(f"time of day {us} microseconds is outside 00:00:00..23:59:59.999999")
    seconds = us // 1000000
    return time_new(<int>(seconds // 3600), <int>(seconds // 60 % 60), <int>(seconds % 60),
                    <int>(us % 1000000), tzinfo, 0)


cdef object _d_time(const uint8_t* p, Py_ssize_t n, _Options o, int depth):
    if n != 8:
        raise _wrong_size(n, 8)
    return _time_of(<int64_t>_u64(p), None)


cdef object _offset_zone(int32_t offset):
    zone = _OFFSETS.get(offset)
    if zone is None:
        zone = _timezone(_timedelta(seconds=offset))
        if len(_OFFSETS) < 4096:
            _OFFSETS[offset] = zone
    return zone


cdef object _d_timetz(const uint8_t* p, Py_ssize_t n, _Options o, int depth):
    cdef int32_t offset
    if n != 12:
        raise _wrong_size(n, 12)
    offset = <int32_t>_u32(p + 8)
    if offset < -86399 or offset > 86399:
        raise _Malformed(f"time zone offset {offset} seconds is outside -86399..86399")
    return _time_of(<int64_t>_u64(p), _offset_zone(offset))


cdef object _timestamp(const uint8_t* p, Py_ssize_t n, object tzinfo):
    cdef int64_t us, days, rem
    cdef int year, month, day, micro
    if n != 8:
        raise _wrong_size(n, 8)
    us = <int64_t>_u64(p)
    if us == INT64_MAX or us == INT64_MIN:
        raise _Malformed(f"timestamp is {'+' if us > 0 else '-'}infinity, which Python's datetime cannot hold")
    if us < MIN_US or us > MAX_US:
        raise _Malformed(f"timestamp {us} microseconds from 2000-01-01 is outside years 1..9999")
    days = us // US_PER_DAY
    rem = us - days * US_PER_DAY
    if rem < 0:         # C division truncates: floor it
        rem += US_PER_DAY
        days -= 1
    _civil(days, &year, &month, &day)
    micro = <int>(rem % 1000000)
    rem //= 1000000
    return datetime_new(year, month, day, <int>(rem // 3600), <int>(rem // 60 % 60),
                        <int>(rem % 60), micro, tzinfo, 0)


cdef object _d_timestamp(const uint8_t* p, Py_ssize_t n, _Options o, int depth):
    return _timestamp(p, n, None)


cdef object _d_timestamptz(const uint8_t* p, Py_ssize_t n, _Options o, int depth):
    return _timestamp(p, n, _UTC)


cdef object _d_interval(const uint8_t* p, Py_ssize_t n, _Options o, int depth):
    if n != 16:
        raise _wrong_size(n, 16)
    # microseconds, days, months: REFERENCE 8.7's order
    return _Interval(<int32_t>_u32(p + 12), <int32_t>_u32(p + 8), <int64_t>_u64(p))

# ---------------------------------------------------------------- uuid, network, geometry, vector


cdef object _d_uuid(const uint8_t* p, Py_ssize_t n, _Options o, int depth):
    if n != 16:
        raise _wrong_size(n, 16)
    if not _UUID_PLAIN:
        return _UUID(bytes=PyBytes_FromStringAndSize(<const char*>p, 16))
    # uuid.UUID(bytes=...) without its Python-level __init__: the same two slots it sets
    value = (<PyTypeObject*>_UUID).tp_new(_UUID, <PyObject*>_NO_ARGS, NULL)   # object.__new__
    PyObject_GenericSetAttr(value, _INT_ATTR, _PyLong_FromByteArray(p, 16, 0, 0))
    PyObject_GenericSetAttr(value, _SAFE_ATTR, _SAFE_UNKNOWN)
    # Its slots hold an int and an enum member, so it can never be in a reference cycle;
    # untracked, a million of them cost the collector nothing (asyncpg's UUID is no GC
    # object at all).
    PyObject_GC_UnTrack(value)
    return value


cdef tuple _ip_parts(const uint8_t* p, Py_ssize_t n, int is_cidr):
    cdef int family, bits, cidr_flag, size, max_bits
    if n < 4:
        raise _Malformed(f"value of {n} bytes, expected 8 (IPv4) or 20 (IPv6)")
    family, bits, cidr_flag = p[0], p[1], p[2]   # p[3] is reserved
    parts = _IP_FAMILIES.get(family)
    if parts is None:
        raise _Malformed(f"address family {family} is not 2 (IPv4) or 10 (IPv6)")
    size, max_bits = parts[0], parts[1]
    if n != 4 + size:
        raise _Malformed(f"value of {n} bytes, expected {4 + size} for family {family}")
    if bits > max_bits:
        raise _Malformed(f"prefix length {bits} exceeds {max_bits}")
    if cidr_flag != is_cidr:
        raise _Malformed(f"is_cidr byte {cidr_flag}, expected {is_cidr}")
    return (PyBytes_FromStringAndSize(<const char*>p + 4, size), bits), parts


cdef object _d_inet(const uint8_t* p, Py_ssize_t n, _Options o, int depth):
    address, parts = _ip_parts(p, n, 0)
    return parts[2](address)


cdef object _d_cidr(const uint8_t* p, Py_ssize_t n, _Options o, int depth):
    address, parts = _ip_parts(p, n, 1)
    try:
        return parts[3](address)
    except ValueError:
        raise _Malformed(f"network prefix /{address[1]} has host bits set") from None


cdef object _d_macaddr(const uint8_t* p, Py_ssize_t n, _Options o, int depth):
    if n != 6 and n != 8:
        raise _Malformed(f"value of {n} bytes, expected 6 or 8")
    return PyBytes_FromStringAndSize(<const char*>p, n).hex(":")


cdef object _d_geometry(const uint8_t* p, Py_ssize_t n, _Options o, int depth):
    cdef Py_ssize_t size = _inner(p, n)
    if size < 5:
        raise _Malformed(f"WKB of {size} bytes is shorter than its 5-byte header")
    if p[4] > 1:
        raise _Malformed(f"WKB byte-order byte {p[4]} is not 0 or 1")
    return _Geometry(PyBytes_FromStringAndSize(<const char*>p + 4, size))


cdef object _d_vector(const uint8_t* p, Py_ssize_t n, _Options o, int depth):
    cdef uint32_t dims
    cdef Py_ssize_t i
    cdef uint32_t bits
    cdef float value
    cdef list out
    if n < 4:
        raise _too_short(n, 4)
    dims = _u32(p)
    if n - 4 != 4 * <long long>dims:
        raise _Malformed(f"{dims} dimensions need {4 * <long long>dims} bytes, the value has {n - 4}")
    out = PyList_New(dims)
    for i in range(dims):
        bits = _u32(p + 4 + 4 * i)
        memcpy(&value, &bits, 4)
        item = PyFloat_FromDouble(value)
        Py_INCREF(item)                 # PyList_SET_ITEM steals a reference
        PyList_SET_ITEM(out, i, item)
    return out
