# Nested-type decoders of the compiled twin (included by bincodec.pyx). Each mirrors the
# decoder of the same type in scratchbird/_pure/bincodec_nested.py, messages included;
# layouts: docs/protocol.md 1.5. Nested values are self-describing: the 4-byte type id
# inside the value picks the decoder of what it holds, through the same table as columns.

cdef object _Range = Range
cdef int MAX_DEPTH_C = MAX_DEPTH
cdef int MAX_NDIM_C = MAX_NDIM


cdef int _enter(int depth) except -1:
    if depth >= MAX_DEPTH_C:
        raise _Malformed(f"nesting deeper than {MAX_DEPTH} levels")
    return 0


cdef inline str _where(str what, Py_ssize_t k):
    return f"{what} {k}" if k >= 0 else what


cdef inline tuple _type_at(const uint8_t* p):
    return (_u16(p), _u16(p + 2))


cdef object _inside(str what, Py_ssize_t k, object type_id, decode_fn fn,
                    const uint8_t* p, Py_ssize_t n, _Options o, int depth):
    """Decode a nested value, with ``what k`` and its type added to a failure."""
    try:
        if fn == NULL:
            raise _Malformed(NO_DECODING)
        return fn(p, n, o, depth)
    except (_Malformed, UnicodeDecodeError) as exc:
        raise _Malformed(f"{_where(what, k)} ({type_label(type_id)}): {_reason(exc)}") from None


cdef int32_t _frame(const uint8_t* p, Py_ssize_t n, Py_ssize_t* pos, str what, Py_ssize_t k,
                    bint null_ok) except -2:
    """Read the ``i32 length`` at ``pos[0]`` and move past it: -1 for NULL (if allowed)."""
    cdef int32_t length
    if n - pos[0] < 4:
        raise _Malformed(f"{_where(what, k)}: truncated length")
    length = <int32_t>_u32(p + pos[0])
    pos[0] += 4
    if length == -1 and null_ok:
        return -1
    if length < 0 or length > n - pos[0]:
        raise _Malformed(f"{_where(what, k)}: length {length} does not fit the {n - pos[0]} bytes left")
    return length


cdef int _check_count(uint32_t count, Py_ssize_t each, Py_ssize_t rem, str what) except -1:
    if count > rem // each:
        raise _Malformed(f"{count} {what} cannot fit in the {rem} bytes left")
    return 0

# ---------------------------------------------------------------- ARRAY / LIST


cdef int _check_sub_arrays(list dims, Py_ssize_t n) except -1:
    # An empty array may declare dimensions like 2**31 x 0: every nested list must be paid
    # for by the value's bytes (at most 2 per byte), as in the pure twin.
    cdef Py_ssize_t lists = 0, built = 1, length
    if len(dims) < 2:
        return 0
    lists = 1
    for d in range(len(dims) - 1):
        length = <Py_ssize_t>dims[d]
        if length and built > (2 * n) // length:
            lists = 2 * n + 1
        else:
            built *= length
            lists += built
        if lists > 2 * n:
            raise _Malformed(f"array dimensions {'x'.join(map(str, dims))} describe more "
                             f"sub-arrays than the value's {n} bytes can hold")
    return 0


cdef object _reshape(list flat, list dims):
    cdef Py_ssize_t step = 1
    if len(dims) == 1:
        return flat
    for length in dims[1:]:
        step *= <Py_ssize_t>length
    return [_reshape(flat[i * step:(i + 1) * step], dims[1:]) for i in range(<Py_ssize_t>dims[0])]


cdef object _d_array(const uint8_t* p, Py_ssize_t n, _Options o, int depth):
    cdef int32_t ndim, flags, length
    cdef Py_ssize_t pos = 12, total, k, d, cap
    cdef bint zero = False, too_big = False
    cdef list dims, flat
    cdef decode_fn fn
    _enter(depth)
    if n < 12:
        raise _too_short(n, 12)
    ndim = <int32_t>_u32(p)
    flags = <int32_t>_u32(p + 4)
    if ndim < 0 or ndim > MAX_NDIM_C:
        raise _Malformed(f"array of {ndim} dimensions (0..{MAX_NDIM} supported)")
    if flags & ~1:
        raise _Malformed(f"array flags 0x{<unsigned long long><uint32_t>flags:x} have unknown bits")
    if n - pos < 8 * <Py_ssize_t>ndim:
        raise _Malformed(f"value of {n} bytes is too short for {ndim} dimensions")
    dims = []
    for d in range(ndim):
        length = <int32_t>_u32(p + pos)     # the lower bound (p + pos + 4) is not kept
        pos += 8
        if length < 0:
            raise _Malformed(f"dimension {d + 1} has length {length}")
        dims.append(length)
        zero = zero or length == 0
    cap = (n - pos) // 4                     # every element takes at least 4 bytes
    total = 0 if ndim == 0 or zero else 1
    if total:
        for length in dims:
            if total > cap // length:
                too_big = True
                break
            total *= length
        too_big = too_big or total > cap
    if too_big:
        raise _Malformed(f"array dimensions {'x'.join(map(str, dims))} need more than "
                         f"the {n - pos} bytes left")
    _check_sub_arrays(dims, n)          # every nested list paid for by bytes, as the pure twin
    element_type = _type_at(p + 8)
    fn = _lookup(element_type)
    flat = PyList_New(total)
    for k in range(total):
        length = _frame(p, n, &pos, "element", k, True)
        if length == -1:
            value = None
        else:
            value = _inside("element", k, element_type, fn, p + pos, length, o, depth + 1)
            pos += length
        Py_INCREF(value)                 # PyList_SET_ITEM steals a reference
        PyList_SET_ITEM(flat, k, value)
    if pos != n:
        raise _Malformed(f"{n - pos} bytes after the last element")
    return _reshape(flat, dims) if ndim > 1 else flat

# ---------------------------------------------------------------- RANGE / MULTIRANGE


cdef object _d_range(const uint8_t* p, Py_ssize_t n, _Options o, int depth):
    cdef int flags
    cdef Py_ssize_t pos = 8
    cdef int32_t length
    cdef decode_fn fn
    _enter(depth)
    if n < 8:
        raise _too_short(n, 8)
    flags = p[0]
    if flags & ~0x1F:
        raise _Malformed(f"range flags 0x{flags:02x} have unknown bits")
    if flags & 0x01:
        if flags != 0x01:
            raise _Malformed(f"range flags 0x{flags:02x} mark it empty and set bounds too")
        if n != 8:
            raise _Malformed(f"{n - 8} bytes after an empty range")
        return _Range(empty=True)
    subtype = _type_at(p + 4)
    fn = _lookup(subtype)
    lower = upper = None
    if flags & 0x08:
        if flags & 0x02:
            raise _Malformed("the lower bound is both infinite and inclusive")
    else:
        length = _frame(p, n, &pos, "lower bound", -1, False)
        lower = _inside("lower bound", -1, subtype, fn, p + pos, length, o, depth + 1)
        pos += length
    if flags & 0x10:
        if flags & 0x04:
            raise _Malformed("the upper bound is both infinite and inclusive")
    else:
        length = _frame(p, n, &pos, "upper bound", -1, False)
        upper = _inside("upper bound", -1, subtype, fn, p + pos, length, o, depth + 1)
        pos += length
    if pos != n:
        raise _Malformed(f"{n - pos} bytes after the last bound")
    return _Range(lower, upper, ("[" if flags & 0x02 else "(") + ("]" if flags & 0x04 else ")"))


cdef object _d_multirange(const uint8_t* p, Py_ssize_t n, _Options o, int depth):
    cdef uint32_t count
    cdef Py_ssize_t pos = 8, k
    cdef int32_t length
    cdef list out = []
    _enter(depth)
    if n < 8:
        raise _too_short(n, 8)
    count = _u32(p + 4)
    _check_count(count, 4, n - pos, "ranges")
    for k in range(count):
        length = _frame(p, n, &pos, "range", k, False)
        member = _inside("range", k, RANGE, _d_range, p + pos, length, o, depth + 1)
        if memcmp(p + pos + 4, p, 4) != 0:     # a decoded range has its 8-byte header
            raise _Malformed(f"range {k} has subtype {type_label(_type_at(p + pos + 4))} but the "
                             f"multirange declares {type_label(_type_at(p))}")
        out.append(member)
        pos += length
    if pos != n:
        raise _Malformed(f"{n - pos} bytes after the last range")
    return out

# ---------------------------------------------------------------- MAP, ROW/COMPOSITE, VARIANT


cdef object _d_map(const uint8_t* p, Py_ssize_t n, _Options o, int depth):
    cdef uint32_t count
    cdef Py_ssize_t pos = 12, k
    cdef int32_t length
    cdef decode_fn key_fn, value_fn
    cdef dict out = {}
    cdef int seen
    _enter(depth)
    if n < 12:
        raise _too_short(n, 12)
    key_type = _type_at(p)
    value_type = _type_at(p + 4)
    key_fn = _lookup(key_type)
    value_fn = _lookup(value_type)
    count = _u32(p + 8)
    _check_count(count, 8, n - pos, "entries")
    for k in range(count):
        length = _frame(p, n, &pos, "key", k, False)
        key = _inside("key", k, key_type, key_fn, p + pos, length, o, depth + 1)
        pos += length
        length = _frame(p, n, &pos, "value", k, True)
        if length == -1:
            item = None
        else:
            item = _inside("value", k, value_type, value_fn, p + pos, length, o, depth + 1)
            pos += length
        try:
            seen = PyDict_Contains(out, key)
        except TypeError:
            raise _Malformed(f"key {k} ({type_label(key_type)}) is not hashable") from None
        if seen:
            raise _Malformed(f"key {k} repeats an earlier key")
        PyDict_SetItem(out, key, item)
    if pos != n:
        raise _Malformed(f"{n - pos} bytes after the last entry")
    return out


cdef object _d_row(const uint8_t* p, Py_ssize_t n, _Options o, int depth):
    cdef uint32_t count
    cdef Py_ssize_t pos = 4, k
    cdef int32_t length
    cdef list out = []
    _enter(depth)
    if n < 4:
        raise _too_short(n, 4)
    count = _u32(p)
    _check_count(count, 8, n - pos, "fields")
    for k in range(count):
        if n - pos < 4:
            raise _Malformed(f"field {k}: truncated type id")
        field_type = _type_at(p + pos)
        pos += 4
        length = _frame(p, n, &pos, "field", k, True)
        if length == -1:
            out.append(None)
        else:
            out.append(_inside("field", k, field_type, _lookup(field_type), p + pos, length, o,
                               depth + 1))
            pos += length
    if pos != n:
        raise _Malformed(f"{n - pos} bytes after the last field")
    return tuple(out)


cdef object _d_variant(const uint8_t* p, Py_ssize_t n, _Options o, int depth):
    _enter(depth)
    if n < 4:
        raise _too_short(n, 4)
    tag = _type_at(p)
    if _u32(p) == 0:        # tag (0,0): a NULL variant
        if n != 4:
            raise _Malformed(f"a NULL variant carries {n - 4} bytes")
        return None
    return _inside("variant", -1, tag, _lookup(tag), p + 4, n - 4, o, depth + 1)
