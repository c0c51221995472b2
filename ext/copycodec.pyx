"""COPY FROM STDIN row encoders (compiled twin of ``scratchbird._pure.copycodec``).

Same names, behaviour and messages as the pure twin, which is the readable reference
(REFERENCE 7.8, 11.22). Rows are encoded into one growing C buffer; str, int, float, bool
and bytes values are written with no Python-level call per value. Other values go through
the ``render`` callable, as in the pure twin.
"""
cimport cython
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.buffer cimport PyBUF_SIMPLE, PyBuffer_Release, PyObject_GetBuffer
from cpython.float cimport PyFloat_AS_DOUBLE
from cpython.long cimport PyLong_AsLongLongAndOverflow, PyLong_AsUnsignedLongLong, PyLong_CheckExact
from cpython.float cimport PyFloat_CheckExact
from cpython.unicode cimport PyUnicode_CheckExact
from cpython.mem cimport PyMem_Free, PyMem_Malloc, PyMem_Realloc
from libc.stdint cimport int32_t, int64_t, uint8_t, uint32_t, uint64_t
from libc.string cimport memcpy, memset

from scratchbird._pure.copycodec import (SBNR_MAGIC, TAG_BINARY, TAG_BOOLEAN, TAG_INT32,
                                         TAG_INT64, TAG_NAMES, TAG_REAL64, TAG_TEXT, TAG_UINT64,
                                         decode_sbnr_packet, sbnr_header, text_refusal)
from scratchbird.errors import DataError

cdef extern from "Python.h":
    const char* _utf8_of "PyUnicode_AsUTF8AndSize"(object, Py_ssize_t*) except NULL

__all__ = ["TAG_TEXT", "TAG_INT64", "TAG_BOOLEAN", "TAG_INT32", "TAG_UINT64", "TAG_REAL64",
           "TAG_BINARY", "TAG_NAMES", "SBNR_MAGIC", "sbnr_header", "encode_sbnr_packet",
           "encode_text_rows", "text_refusal", "decode_sbnr_packet", "encode_sbnr_columns",
           "decode_sbnr_columns"]

cdef enum:
    MAX_PAYLOAD_C = 67108864   # REFERENCE 2
    MAX_COLS = 65535


cdef class _Buf:
    """A growable byte buffer (little-endian writes)."""
    cdef char* data
    cdef Py_ssize_t size
    cdef Py_ssize_t cap

    def __cinit__(self, Py_ssize_t cap):
        self.cap = cap if cap > 64 else 64
        self.data = <char*>PyMem_Malloc(self.cap)
        if self.data == NULL:
            raise MemoryError()
        self.size = 0

    def __dealloc__(self):
        PyMem_Free(self.data)

    cdef int reserve(self, Py_ssize_t extra) except -1:
        cdef Py_ssize_t need = self.size + extra
        cdef Py_ssize_t cap = self.cap
        cdef char* grown
        if need <= cap:
            return 0
        while cap < need:
            cap *= 2
        grown = <char*>PyMem_Realloc(self.data, cap)
        if grown == NULL:
            raise MemoryError()
        self.data, self.cap = grown, cap
        return 0

    cdef inline int put(self, const char* src, Py_ssize_t n) except -1:
        self.reserve(n)
        memcpy(self.data + self.size, src, n)
        self.size += n
        return 0

    # SBNR is little-endian, as are the hosts this is built for (x86-64, arm64)
    cdef inline int put_u32(self, uint64_t v) except -1:
        cdef uint32_t w = <uint32_t>v
        return self.put(<char*>&w, 4)

    cdef inline int put_u64(self, uint64_t v) except -1:
        return self.put(<char*>&v, 8)


cdef str _where(Py_ssize_t row_no, str name):
    return f"COPY row {row_no}, column {name!r}"


cdef object _type_error(object value, int tag, Py_ssize_t row_no, str name):
    return DataError(f"{_where(row_no, name)}: a {type(value).__name__} cannot be sent in an "
                     f"SBNR {TAG_NAMES[tag]} column (set the column's type with copy.set_types)")


cdef bint _row_fits(Py_ssize_t size, Py_ssize_t max_bytes, Py_ssize_t index, Py_ssize_t start,
                    Py_ssize_t row_no) except -1:
    """Whether the packet may take row ``index`` and grow to ``size`` bytes: not past
    ``max_bytes`` unless it is the packet's first row; a row no frame can carry (REFERENCE
    2: 64 MiB) raises DataError."""
    if size > max_bytes and index > start:
        return False
    if size > MAX_PAYLOAD_C:
        raise DataError(f"COPY row {row_no} does not fit in one 64 MiB COPY_DATA frame")
    return True


cdef object _row_values(object row, Py_ssize_t ncols, Py_ssize_t row_no):
    if type(row) is not tuple and type(row) is not list and not isinstance(row, (tuple, list)):
        raise DataError(f"COPY row {row_no}: a row must be a tuple or a list, not "
                        f"{type(row).__name__}")
    if len(row) != ncols:
        raise DataError(f"COPY row {row_no} has {len(row)} values; the COPY has {ncols} columns")
    return row


cdef object _text_of(object value, object render, Py_ssize_t row_no, str name):
    """``value`` as a str (a str as it is, else ``render(value)``)."""
    if type(value) is str:
        return value
    value = render(value)
    if type(value) is not str:
        raise DataError(f"{_where(row_no, name)}: the renderer returned "
                        f"{type(value).__name__}, not str")
    return value


cdef const char* _utf8(object text, Py_ssize_t* n, Py_ssize_t row_no, str name) except NULL:
    try:
        return _utf8_of(text, n)
    except UnicodeEncodeError as exc:
        raise DataError(f"{_where(row_no, name)}: the text is not valid UTF-8 "
                        f"({exc.reason})") from None


cdef int _put_sbnr_value(_Buf buf, object value, int tag, object render, Py_ssize_t row_no,
                         list names, Py_ssize_t k) except -1:
    # names[k] is read only for messages: nothing per value
    cdef Py_ssize_t n
    cdef const char* p
    cdef int overflow = 0
    cdef long long v
    cdef double d
    cdef uint64_t bits
    cdef Py_buffer view
    cdef object t
    cdef object text
    # fast paths: the exact built-in type of the tag, no Python-level call
    if tag == TAG_INT64:
        if PyLong_CheckExact(value):
            v = PyLong_AsLongLongAndOverflow(value, &overflow)
            if not overflow:
                return buf.put_u64(<uint64_t>v)
    elif tag == TAG_REAL64:
        if PyFloat_CheckExact(value):
            d = PyFloat_AS_DOUBLE(value)
            memcpy(&bits, &d, 8)
            return buf.put_u64(bits)
    elif tag == TAG_TEXT:
        if PyUnicode_CheckExact(value):
            p = _utf8(value, &n, row_no, names[k])
            buf.put_u32(<uint64_t>n)
            return buf.put(p, n)
    t = type(value)
    if tag == TAG_TEXT:
        text = _text_of(value, render, row_no, names[k])
        p = _utf8(text, &n, row_no, names[k])
        buf.put_u32(<uint64_t>n)
        return buf.put(p, n)
    if tag == TAG_BINARY:
        if t is bytes:
            buf.put_u32(<uint64_t>PyBytes_GET_SIZE(value))
            return buf.put(PyBytes_AS_STRING(value), PyBytes_GET_SIZE(value))
        if t is bytearray or t is memoryview:
            PyObject_GetBuffer(value, &view, PyBUF_SIMPLE)
            try:
                buf.put_u32(<uint64_t>view.len)
                buf.put(<char*>view.buf, view.len)
            finally:
                PyBuffer_Release(&view)
            return 0
        raise _type_error(value, tag, row_no, names[k])
    if tag == TAG_BOOLEAN:
        if value is True:
            return buf.put("\x01", 1)
        if value is False:
            return buf.put("\x00", 1)
        raise _type_error(value, tag, row_no, names[k])
    if tag == TAG_REAL64:
        if t is float:
            d = PyFloat_AS_DOUBLE(value)
        elif t is int:
            if not (-(1 << 1023) < value < (1 << 1023)) or int(float(value)) != value:
                raise DataError(f"{_where(row_no, names[k])}: the int {value} has no exact real64 value")
            d = float(value)
        else:
            raise _type_error(value, tag, row_no, names[k])
        memcpy(&bits, &d, 8)
        return buf.put_u64(bits)
    if t is not int:
        raise _type_error(value, tag, row_no, names[k])
    if tag == TAG_UINT64:
        if value >= 0 and value < (1 << 64):
            return buf.put_u64(PyLong_AsUnsignedLongLong(value))
    else:
        v = PyLong_AsLongLongAndOverflow(value, &overflow)
        if not overflow:
            if tag == TAG_INT64:
                return buf.put_u64(<uint64_t>v)
            if -2147483648 <= v <= 2147483647:      # TAG_INT32
                return buf.put_u32(<uint64_t><uint32_t>v)
    raise DataError(f"{_where(row_no, names[k])}: {value} is out of range for SBNR {TAG_NAMES[tag]}")


def encode_sbnr_packet(bytes header, tags, names, rows, Py_ssize_t start, Py_ssize_t max_bytes,
                       render, Py_ssize_t row_base=0):
    """One SBNR v2 packet from ``rows[start:]``: ``(packet, next_start)``."""
    cdef Py_ssize_t ncols = len(tags)
    cdef Py_ssize_t nbitmap = (ncols + 7) >> 3
    cdef Py_ssize_t index = start
    cdef Py_ssize_t end = len(rows)
    cdef Py_ssize_t k, row_start, row_no
    cdef Py_ssize_t hsize = PyBytes_GET_SIZE(header)
    cdef int tag
    cdef unsigned char* bitmap
    cdef uint64_t count
    cdef list names_l = list(names)
    cdef list rows_l = rows if type(rows) is list else None
    cdef int* ctags
    cdef object row, value
    cdef tuple trow
    cdef _Buf buf
    if ncols < 1 or ncols > MAX_COLS or len(names_l) != ncols or hsize < 20:
        raise DataError("an SBNR packet needs one type tag per column and at least one column")
    buf = _Buf(min(max_bytes, 1 << 20) + hsize)
    ctags = <int*>PyMem_Malloc(ncols * sizeof(int))
    if ctags == NULL:
        raise MemoryError()
    try:
        for k in range(ncols):
            ctags[k] = tags[k]
        buf.put(PyBytes_AS_STRING(header), hsize)
        while index < end:
            row_no = row_base + index - start + 1
            row = _row_values(rows_l[index] if rows_l is not None else rows[index], ncols, row_no)
            trow = row if type(row) is tuple else None
            row_start = buf.size
            buf.reserve(nbitmap)
            memset(buf.data + buf.size, 0, nbitmap)
            buf.size += nbitmap
            for k in range(ncols):
                value = trow[k] if trow is not None else row[k]
                if value is None:
                    bitmap = <unsigned char*>(buf.data + row_start)
                    bitmap[k >> 3] |= <unsigned char>(1 << (k & 7))
                    continue
                _put_sbnr_value(buf, value, ctags[k], render, row_no, names_l, k)
            if not _row_fits(buf.size, max_bytes, index, start, row_no):
                buf.size = row_start
                break
            index += 1
        count = <uint64_t>(index - start)
        for k in range(8):
            buf.data[8 + k] = <char>((count >> (8 * k)) & 0xFF)
        return PyBytes_FromStringAndSize(buf.data, buf.size), index
    finally:
        PyMem_Free(ctags)


cdef inline bint _space(unsigned char c):
    return c == 32 or (9 <= c <= 13)


cdef object _refusal(const unsigned char* p, Py_ssize_t n):
    cdef Py_ssize_t i
    cdef unsigned char c
    for i in range(n):
        c = p[i]
        if c == 59 or c == 10 or c == 13:     # ';', LF, CR
            return text_refusal(PyBytes_FromStringAndSize(<char*>p, n))
    if n and (_space(p[0]) or _space(p[n - 1])):
        return text_refusal(PyBytes_FromStringAndSize(<char*>p, n))
    if n == 4 or n == 6:
        return text_refusal(PyBytes_FromStringAndSize(<char*>p, n))
    return None


def encode_text_rows(names, rows, Py_ssize_t start, Py_ssize_t max_bytes, render,
                     Py_ssize_t row_base=0):
    """``name=value;...`` lines from ``rows[start:]``: ``(payload, next_start)``.
    None is sent as ``NULL``; a value text COPY cannot carry raises DataError."""
    cdef list names_l = list(names)
    cdef Py_ssize_t ncols = len(names_l)
    cdef Py_ssize_t index = start
    cdef Py_ssize_t end = len(rows)
    cdef Py_ssize_t k, row_start, row_no, n
    cdef const char* p
    cdef object row, value, text, why
    cdef bytes digits
    cdef list prefixes = [(("" if k == 0 else ";") + names_l[k] + "=").encode("utf-8")
                          for k in range(ncols)]
    cdef bytes prefix
    cdef _Buf buf = _Buf(min(max_bytes, 1 << 20))
    while index < end:
        row_no = row_base + index - start + 1
        row = _row_values(rows[index], ncols, row_no)
        row_start = buf.size
        for k in range(ncols):
            value = row[k]
            prefix = prefixes[k]
            buf.put(PyBytes_AS_STRING(prefix), PyBytes_GET_SIZE(prefix))
            if value is None:
                buf.put("NULL", 4)
                continue
            if value is True:
                buf.put("true", 4)
                continue
            if value is False:
                buf.put("false", 5)
                continue
            if type(value) is int:
                digits = str(value).encode()
                buf.put(PyBytes_AS_STRING(digits), PyBytes_GET_SIZE(digits))
                continue
            text = _text_of(value, render, row_no, names_l[k])
            p = _utf8(text, &n, row_no, names_l[k])
            why = _refusal(<const unsigned char*>p, n)
            if why is not None:
                raise DataError(f"{_where(row_no, names_l[k])}: {why}; use binary COPY")
            buf.put(p, n)
        buf.put("\n", 1)
        if not _row_fits(buf.size, max_bytes, index, start, row_no):
            buf.size = row_start
            break
        index += 1
    return PyBytes_FromStringAndSize(buf.data, buf.size), index


cdef inline bint _bit(const unsigned char* p, Py_ssize_t i) nogil:
    return (p[i >> 3] >> (i & 7)) & 1


def encode_sbnr_columns(bytes header, tags, names, columns, Py_ssize_t start, Py_ssize_t stop,
                        Py_ssize_t max_bytes, Py_ssize_t row_base=0):
    """One SBNR v2 packet from rows ``start:stop`` of columnar (Arrow) buffers:
    ``(packet, next_row)``. See the pure twin for the buffer layouts."""
    cdef Py_ssize_t ncols = len(tags)
    cdef Py_ssize_t nbitmap = (ncols + 7) >> 3
    cdef Py_ssize_t k, i, row, row_start, width, fixed_row
    cdef Py_ssize_t hsize = PyBytes_GET_SIZE(header)
    cdef int32_t o0, o1
    cdef uint32_t ln32
    cdef int tag
    cdef uint64_t count
    cdef Py_buffer* views
    cdef char* acquired
    cdef int* ctags
    cdef Py_ssize_t* offs
    cdef unsigned char* bitmap
    cdef _Buf buf
    cdef object validity, offsets, data
    if ncols < 1 or ncols > MAX_COLS or len(columns) != ncols or len(names) != ncols or hsize < 20:
        raise DataError("an SBNR packet needs one type tag per column and at least one column")
    # per column: [validity, offsets, data] Py_buffers and whether each was acquired
    views = <Py_buffer*>PyMem_Malloc(3 * ncols * sizeof(Py_buffer))
    acquired = <char*>PyMem_Malloc(3 * ncols)
    ctags = <int*>PyMem_Malloc(ncols * sizeof(int))
    offs = <Py_ssize_t*>PyMem_Malloc(ncols * sizeof(Py_ssize_t))
    if views == NULL or acquired == NULL or ctags == NULL or offs == NULL:
        PyMem_Free(views); PyMem_Free(acquired); PyMem_Free(ctags); PyMem_Free(offs)
        raise MemoryError()
    memset(acquired, 0, 3 * ncols)
    try:
        for k in range(ncols):
            ctags[k] = tags[k]
            if ctags[k] < TAG_TEXT or ctags[k] > TAG_BINARY:
                raise DataError(f"unknown SBNR type tag {ctags[k]!r}")
            validity, offsets, data, offs[k] = columns[k]
            if validity is not None:
                PyObject_GetBuffer(validity, &views[3 * k], PyBUF_SIMPLE)
                acquired[3 * k] = 1
            if offsets is not None:
                PyObject_GetBuffer(offsets, &views[3 * k + 1], PyBUF_SIMPLE)
                acquired[3 * k + 1] = 1
            PyObject_GetBuffer(data, &views[3 * k + 2], PyBUF_SIMPLE)
            acquired[3 * k + 2] = 1
            _check_columns(k, ctags[k], views, acquired, offs[k] + stop)
        buf = _Buf(min(max_bytes, 1 << 20) + hsize)
        buf.put(PyBytes_AS_STRING(header), hsize)
        # the most a row takes besides its text and binary bytes: reserved once per row
        fixed_row = nbitmap
        for k in range(ncols):
            fixed_row += 1 if ctags[k] == TAG_BOOLEAN else (8 if ctags[k] != TAG_INT32 else 4)
        row = start
        while row < stop:
            buf.reserve(fixed_row)
            row_start = buf.size
            memset(buf.data + buf.size, 0, nbitmap)
            buf.size += nbitmap
            for k in range(ncols):
                i = offs[k] + row
                if acquired[3 * k] and not _bit(<const unsigned char*>views[3 * k].buf, i):
                    bitmap = <unsigned char*>(buf.data + row_start)
                    bitmap[k >> 3] |= <unsigned char>(1 << (k & 7))
                    continue
                tag = ctags[k]
                if tag == TAG_TEXT or tag == TAG_BINARY:
                    memcpy(&o0, <char*>views[3 * k + 1].buf + i * 4, 4)
                    memcpy(&o1, <char*>views[3 * k + 1].buf + i * 4 + 4, 4)
                    if o0 < 0 or o1 < o0 or o1 > views[3 * k + 2].len:
                        raise DataError(f"column {k}: offsets {o0}..{o1} outside the data buffer")
                    buf.reserve(o1 - o0 + fixed_row)
                    ln32 = <uint32_t>(o1 - o0)
                    memcpy(buf.data + buf.size, &ln32, 4)
                    memcpy(buf.data + buf.size + 4, <char*>views[3 * k + 2].buf + o0, o1 - o0)
                    buf.size += 4 + (o1 - o0)
                elif tag == TAG_BOOLEAN:
                    buf.data[buf.size] = 1 if _bit(<const unsigned char*>views[3 * k + 2].buf, i) else 0
                    buf.size += 1
                else:
                    width = 4 if tag == TAG_INT32 else 8
                    memcpy(buf.data + buf.size, <char*>views[3 * k + 2].buf + i * width, width)
                    buf.size += width
            if not _row_fits(buf.size, max_bytes, row, start, row_base + row - start + 1):
                buf.size = row_start
                break
            row += 1
        count = <uint64_t>(row - start)
        for k in range(8):
            buf.data[8 + k] = <char>((count >> (8 * k)) & 0xFF)
        return PyBytes_FromStringAndSize(buf.data, buf.size), row
    finally:
        for k in range(3 * ncols):
            if acquired[k]:
                PyBuffer_Release(&views[k])
        PyMem_Free(views); PyMem_Free(acquired); PyMem_Free(ctags); PyMem_Free(offs)


cdef int _check_columns(Py_ssize_t k, int tag, Py_buffer* views, char* acquired,
                        Py_ssize_t end) except -1:
    if acquired[3 * k] and views[3 * k].len * 8 < end:
        raise DataError(f"column {k}: the validity bitmap is shorter than the rows")
    if tag == TAG_TEXT or tag == TAG_BINARY:
        if not acquired[3 * k + 1] or views[3 * k + 1].len < (end + 1) * 4:
            raise DataError(f"column {k}: the offsets buffer is shorter than the rows")
    elif tag == TAG_BOOLEAN:
        if views[3 * k + 2].len * 8 < end:
            raise DataError(f"column {k}: the boolean bitmap is shorter than the rows")
    elif views[3 * k + 2].len < end * (4 if tag == TAG_INT32 else 8):
        raise DataError(f"column {k}: the data buffer is shorter than the rows")
    return 0


cdef inline uint64_t _u64_at(const unsigned char* p) nogil:
    cdef uint64_t v
    memcpy(&v, p, 8)
    return v


def decode_sbnr_columns(payload):
    """An SBNR v2 packet as Arrow-layout column buffers: ``(tags, names, row_count,
    columns)``. See the pure twin; no Python object is made per value."""
    cdef bytes data = bytes(payload)
    cdef const unsigned char* p = <const unsigned char*>PyBytes_AS_STRING(data)
    cdef Py_ssize_t n = PyBytes_GET_SIZE(data)
    cdef Py_ssize_t pos, k, row, nbytes, nbitmap, width, bitmap_at
    cdef uint64_t nrows64, ln
    cdef Py_ssize_t nrows, ncols
    cdef int tag
    cdef int32_t off
    cdef int* ctags
    cdef void** vbufs
    cdef void** dbufs
    cdef void** obufs
    cdef int64_t* offsets
    cdef _Buf vb, db, ob
    cdef list tags_l, names, vlist, dlist, olist
    if n < 20 or data[:4] != SBNR_MAGIC:
        raise ValueError("SBNR packet shorter than its 20-byte head")
    nrows64 = _u64_at(p + 8)
    ncols = p[16] | (p[17] << 8) | (p[18] << 16) | (<Py_ssize_t>p[19] << 24)
    if (p[4] | (p[5] << 8)) != 2 or (p[6] | p[7]) != 0 or nrows64 < 1 or ncols < 1 \
            or nrows64 > <uint64_t>n:
        raise ValueError("bad SBNR head (magic, version 2, flags 0, rows >= 1, columns >= 1)")
    nrows = <Py_ssize_t>nrows64
    pos = 20
    if ncols > n - pos:
        raise ValueError("SBNR type tags truncated")
    tags_l = list(data[pos:pos + ncols])
    if any(t < 1 or t > 7 for t in tags_l):
        raise ValueError("unknown SBNR type tag")
    pos += ncols
    names = []
    for k in range(ncols):
        if pos + 4 > n:
            raise ValueError("SBNR column name truncated")
        ln = p[pos] | (p[pos + 1] << 8) | (p[pos + 2] << 16) | (<uint64_t>p[pos + 3] << 24)
        if ln == 0 or <uint64_t>(pos + 4) + ln > <uint64_t>n:
            raise ValueError("SBNR column name empty or truncated")
        names.append(data[pos + 4:pos + 4 + <Py_ssize_t>ln].decode("utf-8"))
        pos += 4 + <Py_ssize_t>ln
    nbytes = (nrows + 7) >> 3
    nbitmap = (ncols + 7) >> 3
    vlist, dlist, olist = [], [], []
    ctags = <int*>PyMem_Malloc(ncols * sizeof(int))
    vbufs = <void**>PyMem_Malloc(ncols * sizeof(void*))
    dbufs = <void**>PyMem_Malloc(ncols * sizeof(void*))
    obufs = <void**>PyMem_Malloc(ncols * sizeof(void*))
    offsets = <int64_t*>PyMem_Malloc(ncols * sizeof(int64_t))
    if ctags == NULL or vbufs == NULL or dbufs == NULL or obufs == NULL or offsets == NULL:
        PyMem_Free(ctags); PyMem_Free(vbufs); PyMem_Free(dbufs); PyMem_Free(obufs)
        PyMem_Free(offsets)
        raise MemoryError()
    try:
        for k in range(ncols):
            ctags[k] = tags_l[k]
            offsets[k] = 0
            vb = _Buf(nbytes)
            vb.reserve(nbytes)
            memset(vb.data, 0, nbytes)
            vb.size = nbytes
            vlist.append(vb)
            vbufs[k] = <void*>vb
            if ctags[k] == TAG_BOOLEAN:
                db = _Buf(nbytes)
                db.reserve(nbytes)
                memset(db.data, 0, nbytes)
                db.size = nbytes
            elif ctags[k] == TAG_TEXT or ctags[k] == TAG_BINARY:
                db = _Buf(min(n, 1 << 20))
            else:
                db = _Buf(nrows * (4 if ctags[k] == TAG_INT32 else 8))
            dlist.append(db)
            dbufs[k] = <void*>db
            if ctags[k] == TAG_TEXT or ctags[k] == TAG_BINARY:
                ob = _Buf((nrows + 1) * 4)
                ob.put_u32(0)
                olist.append(ob)
                obufs[k] = <void*>ob
            else:
                olist.append(None)
                obufs[k] = NULL
        for row in range(nrows):
            if pos + nbitmap > n:
                raise ValueError("SBNR row truncated")
            bitmap_at = pos
            pos += nbitmap
            for k in range(ncols):
                tag = ctags[k]
                if (p[bitmap_at + (k >> 3)] >> (k & 7)) & 1:
                    if tag == TAG_TEXT or tag == TAG_BINARY:
                        (<_Buf>obufs[k]).put_u32(<uint64_t>offsets[k])
                    elif tag != TAG_BOOLEAN:
                        width = 4 if tag == TAG_INT32 else 8
                        db = <_Buf>dbufs[k]
                        db.reserve(width)
                        memset(db.data + db.size, 0, width)
                        db.size += width
                    continue
                (<_Buf>vbufs[k]).data[row >> 3] |= <char>(1 << (row & 7))
                if tag == TAG_TEXT or tag == TAG_BINARY:
                    if pos + 4 > n:
                        raise ValueError("SBNR value truncated")
                    ln = p[pos] | (p[pos + 1] << 8) | (p[pos + 2] << 16) | (<uint64_t>p[pos + 3] << 24)
                    if <uint64_t>(pos + 4) + ln > <uint64_t>n:
                        raise ValueError("SBNR value truncated")
                    (<_Buf>dbufs[k]).put(<const char*>(p + pos + 4), <Py_ssize_t>ln)
                    offsets[k] += <int64_t>ln
                    if offsets[k] > 2147483647:
                        raise ValueError("SBNR text column over 2 GiB")
                    (<_Buf>obufs[k]).put_u32(<uint64_t>offsets[k])
                    pos += 4 + <Py_ssize_t>ln
                elif tag == TAG_BOOLEAN:
                    if pos + 1 > n or p[pos] > 1:
                        raise ValueError("SBNR boolean truncated or not 0/1")
                    if p[pos]:
                        (<_Buf>dbufs[k]).data[row >> 3] |= <char>(1 << (row & 7))
                    pos += 1
                else:
                    width = 4 if tag == TAG_INT32 else 8
                    if pos + width > n:
                        raise ValueError("SBNR value truncated")
                    (<_Buf>dbufs[k]).put(<const char*>(p + pos), width)
                    pos += width
        if pos != n:
            raise ValueError("SBNR packet has bytes after its last row")
        out = []
        for k in range(ncols):
            vb = vlist[k]
            db = dlist[k]
            out.append((PyBytes_FromStringAndSize(vb.data, vb.size),
                        None if olist[k] is None else
                        PyBytes_FromStringAndSize((<_Buf>olist[k]).data, (<_Buf>olist[k]).size),
                        PyBytes_FromStringAndSize(db.data, db.size)))
        return tags_l, names, nrows, out
    finally:
        PyMem_Free(ctags); PyMem_Free(vbufs); PyMem_Free(dbufs); PyMem_Free(obufs)
        PyMem_Free(offsets)
