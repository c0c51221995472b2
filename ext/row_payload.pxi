# The DATA_ROW payload checks shared by the compiled row decoders (included by rowcodec.pyx,
# bincodec.pyx and arrowcodec.pyx after their _u32; the pure twins make the same checks, with
# the same messages, in Python): the column count and null bitmap, then each column's length
# (REFERENCE 4.6). Never trust a length: every one is checked against the payload's ``n``.


cdef inline Py_ssize_t _row_columns_start(const uint8_t* p, Py_ssize_t n,
                                          Py_ssize_t expected) except -1:
    """Check the column count (``expected``: the ROW_DESCRIPTION's) and the null bitmap;
    returns the offset of the first column's length."""
    cdef Py_ssize_t ncols, nbitmap
    if n < 4:
        raise ProtocolError(f"DATA_ROW payload truncated: {n} bytes")
    ncols = p[0] | (p[1] << 8)
    nbitmap = p[2] | (p[3] << 8)
    if ncols != expected:
        raise ProtocolError(
            f"DATA_ROW has {ncols} columns but the ROW_DESCRIPTION declared {expected}")
    if nbitmap != (ncols + 7) >> 3:
        raise ProtocolError(f"DATA_ROW null bitmap of {nbitmap} bytes for {ncols} columns")
    if 4 + nbitmap > n:
        raise ProtocolError("DATA_ROW payload truncated inside the null bitmap")
    return 4 + nbitmap


cdef inline int32_t _column_length(const uint8_t* p, Py_ssize_t n, Py_ssize_t* pos,
                                   Py_ssize_t i) except -2:
    """The length of column ``i``, read at ``pos[0]`` (moved past it); -1 is NULL."""
    cdef int32_t length
    if n - pos[0] < 4:
        raise ProtocolError(f"DATA_ROW payload truncated at column {i}")
    length = <int32_t>_u32(p + pos[0])
    pos[0] += 4
    if length == -1:            # never sent by the server; accepted (REFERENCE 4.6)
        return -1
    if length < 0 or length > n - pos[0]:
        raise ProtocolError(f"DATA_ROW column {i} length {length} runs past the payload")
    return length
