# The DATA_ROW frame loop shared by the compiled row decoders (included by rowcodec.pyx,
# bincodec.pyx and arrowcodec.pyx; the pure twins have the same loop in Python). It walks
# the unread bytes of the reader's first chunk (REFERENCE 2 headers, 4.6 payloads), decodes each
# complete, flag-free DATA_ROW with the module's decoder, and consumes once per pass.
# When the reader checks sequence numbers (``expected_sequence``, REFERENCE 2) the loop
# checks each header's too and hands a mismatch to ``next_frame()``, which raises for it.
# A module provides HDR, DATA_ROW_TYPE, _u32 and DATA_ROW.

cdef enum:                     # why _scan stopped
    STOP_SHORT = 0             # next frame not complete inside this chunk
    STOP_OTHER = 1             # next frame is not a DATA_ROW
    STOP_FLAGS = 2             # next DATA_ROW has header flags (or a wrong sequence): the reader handles it
    STOP_LIMIT = 3             # max_rows reached

ctypedef tuple (*row_decode_fn)(object dec, const uint8_t* p, Py_ssize_t n)
# maps an exception raised while decoding to the one to raise instead (None: re-raise)
ctypedef object (*row_error_fn)(object dec, object exc)


cdef struct Scan:
    Py_ssize_t pos      # where scanning stopped; on an error, how far the reader is consumed
    Py_ssize_t count    # rows appended
    Py_ssize_t frames   # frames consumed (a row that failed to decode included)
    bint check_seq      # compare each header's sequence with ``expected``
    uint32_t expected   # the sequence the next frame must carry
    int stop            # STOP_*


cdef int _raise_header(const uint8_t* h, object max_payload) except -1:
    # the messages of decode_header (REFERENCE 2, 2.2 step 1)
    if memcmp(h, b"SBWP", 4) != 0:
        raise ProtocolError(
            f"bad SBWP magic {PyBytes_FromStringAndSize(<const char*>h, 4)!r} (expected b'SBWP')")
    if h[4] != 1 or h[5] != 1:
        raise ProtocolError(f"unsupported SBWP header version {h[4]}.{h[5]} (expected 1.1)")
    raise ProtocolError(f"SBWP frame length {_u32(h + 8)} exceeds the limit of {max_payload} bytes")


cdef int _scan(object dec, row_decode_fn decode, const uint8_t* buf, Py_ssize_t end,
               object rows, Py_ssize_t limit, long long max_len, object max_payload,
               Scan* st) except -1:
    """Decode complete, flag-free DATA_ROW frames of ``buf[st.pos:end]`` into ``rows``."""
    cdef Py_ssize_t pos = st.pos, total
    cdef const uint8_t* h
    cdef tuple row
    st.stop = STOP_LIMIT
    while st.count < limit:
        if end - pos < HDR:
            st.stop = STOP_SHORT
            break
        h = buf + pos
        st.pos = pos        # a bad header stays in the reader, as peek_type() leaves it
        if memcmp(h, b"SBWP", 4) != 0 or h[4] != 1 or h[5] != 1 or _u32(h + 8) > max_len:
            _raise_header(h, max_payload)
        if h[6] != DATA_ROW_TYPE:
            st.stop = STOP_OTHER
            break
        total = HDR + <Py_ssize_t>_u32(h + 8)
        if end - pos < total:
            st.stop = STOP_SHORT
            break
        if h[7] != 0 or (st.check_seq and _u32(h + 12) != st.expected):
            st.stop = STOP_FLAGS    # the reader applies the flags, or raises for the sequence
            break
        st.pos = pos + total    # a row that fails to decode is consumed, as next_frame() does
        st.frames += 1
        st.expected += 1        # u32: wraps modulo 2**32
        row = decode(dec, h + HDR, total - HDR)
        if row is not None:     # None: a columnar decoder kept the row (arrowcodec.pyx)
            rows.append(row)
        st.count += 1
        pos += total
    st.pos = pos
    return 0


cdef Py_ssize_t _row_limit(object max_rows) except -1:
    """``max_rows`` as a C count, with the pure twin's ``count < max_rows`` meaning."""
    if not isinstance(max_rows, int):
        if not 0 < max_rows:    # raises the pure twin's TypeError for non-numbers
            return 0
        if max_rows >= PY_SSIZE_T_MAX:
            return PY_SSIZE_T_MAX
        return math.ceil(max_rows)
    if max_rows <= 0:
        return 0
    if max_rows >= PY_SSIZE_T_MAX:
        return PY_SSIZE_T_MAX
    return max_rows


cdef bint _int_limit(object value, long long* out) except -1:
    # an int max_payload clamped to [-1, 2**32]: every u32 length compares the same
    if not isinstance(value, int):
        return False
    out[0] = 0x100000000 if value > 0x100000000 else (-1 if value < -1 else value)
    return True


cdef Py_ssize_t _read_rows(reader, decoder, rows, max_rows, type decoder_type,
                           row_decode_fn decode, row_error_fn map_error) except -1:
    """``read_data_rows`` of a module whose decoder class is ``decoder_type``."""
    cdef Py_ssize_t limit = _row_limit(max_rows), count = 0, start, end
    cdef long long max_len = 0
    cdef Scan st
    cdef Py_buffer view
    cdef tuple row
    max_payload = getattr(reader, "max_payload", None)
    expected = getattr(reader, "expected_sequence", None)
    st.check_seq = expected is not None
    st.expected = expected if st.check_seq else 0
    if type(decoder) is not decoder_type or not _int_limit(max_payload, &max_len):
        # another decoder (or an odd reader): the pure twin's loop, one frame at a time
        while count < limit and reader.peek_type() == DATA_ROW:
            row = decoder.decode_row(reader.next_frame().payload)
            if row is not None:
                rows.append(row)
            count += 1
        return count
    while count < limit:
        chunk, start, end = reader.contiguous()
        PyObject_GetBuffer(chunk, &view, PyBUF_SIMPLE)
        if start < 0 or start > end or end > view.len:   # never trust: leave it to the reader
            start = end = 0
        st.pos = start
        st.count = 0
        st.frames = 0
        try:
            _scan(decoder, decode, <const uint8_t*>view.buf, end, rows, limit - count, max_len,
                  max_payload, &st)
        except Exception as exc:
            mapped = map_error(decoder, exc)
            if mapped is None:
                raise
            raise mapped from None
        finally:
            PyBuffer_Release(&view)
            if st.pos > start:
                if st.check_seq:
                    reader.consume(st.pos - start, st.frames)
                else:
                    reader.consume(st.pos - start)
        count += st.count
        if st.stop == STOP_OTHER or count >= limit:
            break
        if st.stop == STOP_SHORT and st.count:
            continue            # the chunk is used up: look at the next one
        # spans chunks, carries flags, or is not complete yet: one frame the reader's way
        if reader.peek_type() != DATA_ROW:
            break
        row = decoder.decode_row(reader.next_frame().payload)
        if st.check_seq:
            st.expected = reader.expected_sequence
        if row is not None:
            rows.append(row)
        count += 1
    return count
