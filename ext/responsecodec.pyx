"""The common frames of a response, read in one call (compiled twin).

Same names, behaviour and results as ``scratchbird._pure.responsecodec``, the readable
reference (its docstring says which frames are read here and which are left to
``ClientProtocol.read_response``). Headers are checked in C on the reader's first chunk
(REFERENCE 2); a repeated ROW_DESCRIPTION, COMMAND_COMPLETE or READY is one dict lookup
of its payload bytes; rows go through the result's compiled ``read_data_rows``. Nothing
here calls Python-level code except a user's loaders and the reader of a pure-Python twin.
"""
from cpython.buffer cimport PyBUF_SIMPLE, PyBuffer_Release, PyObject_GetBuffer
from cpython.bytes cimport PyBytes_FromStringAndSize
from libc.stdint cimport uint8_t, uint32_t, uint64_t
from libc.string cimport memcmp

from scratchbird._constants import (BIND_COMPLETE as _BIND_COMPLETE,
                                    CLOSE_COMPLETE as _CLOSE_COMPLETE,
                                    COMMAND_COMPLETE as _COMMAND_COMPLETE, DATA_ROW as _DATA_ROW,
                                    PARSE_COMPLETE as _PARSE_COMPLETE, READY as _READY,
                                    ROW_DESCRIPTION as _ROW_DESCRIPTION)
from struct import error as StructError

from scratchbird.errors import Error, InterfaceError, ProtocolError

__all__ = ["Result", "Response", "receive", "scan_response", "SCAN_STOP", "SCAN_DONE",
           "SCAN_ROWS"]

SCAN_STOP = 0   # the next frame (or more bytes) is for ClientProtocol.read_response
SCAN_DONE = 1   # READY: the response is finished and detached from the protocol
SCAN_ROWS = 2   # the current result holds row_limit rows: hand the response back unfinished

cdef enum:
    HDR = 40                    # REFERENCE 2

cdef int C_DATA_ROW = _DATA_ROW
cdef int C_ROW_DESCRIPTION = _ROW_DESCRIPTION
cdef int C_COMMAND_COMPLETE = _COMMAND_COMPLETE
cdef int C_READY = _READY
cdef int C_PARSE_COMPLETE = _PARSE_COMPLETE
cdef int C_BIND_COMPLETE = _BIND_COMPLETE
cdef int C_CLOSE_COMPLETE = _CLOSE_COMPLETE
cdef object _MISSING = object()
cdef object _UNLIMITED = 1 << 62


cdef inline uint32_t _u32(const uint8_t* p) noexcept nogil:
    return p[0] | (<uint32_t>p[1] << 8) | (<uint32_t>p[2] << 16) | (<uint32_t>p[3] << 24)


cdef inline uint64_t _u64(const uint8_t* p) noexcept nogil:
    return _u32(p) | (<uint64_t>_u32(p + 4) << 32)


cdef class Result:
    """One statement's result: its description (None when the server sent none),
    its rows, and what its COMMAND_COMPLETE said (rowcount -1 if none arrived)."""

    cdef public object description
    cdef public object rows
    cdef public object rowcount
    cdef public object tag
    cdef public object last_insert_id
    cdef public bint complete

    def __init__(self, description=None):
        self.description = description
        self.rows = []
        self.rowcount = -1
        self.tag = None
        self.last_insert_id = 0
        self.complete = False

    def __repr__(self):
        return (f"Result(rows={len(self.rows)}, rowcount={self.rowcount}, tag={self.tag!r}, "
                f"complete={self.complete})")


cdef class Response:
    """Everything a request produced up to its READY (``done`` is False while a
    streaming read has returned early)."""

    cdef public object results
    cdef public object parameter_types
    cdef public object error
    cdef public object ready
    cdef public object parameters
    cdef public object pong
    cdef public object notifications
    cdef public bint done
    cdef public object copy_in

    def __init__(self, results):
        self.results = results
        self.parameter_types = None     # PARAMETER_DESCRIPTION (5.3)
        self.error = None
        self.ready = None
        self.parameters = {}
        self.pong = None
        self.notifications = []
        self.done = False
        # (format, window_bytes) of a COPY_IN_RESPONSE: the server waits for COPY frames
        self.copy_in = None

    def __repr__(self):
        return f"Response(results={self.results!r}, error={self.error!r}, done={self.done})"


def receive(proto, data, row_limit):
    """``proto.feed(data)`` and ``proto.read_response(row_limit)``: the Response when it
    is finished (or holds ``row_limit`` rows), None when more bytes are needed. The
    common frames are read here; the first other frame goes to ``read_response``. A
    ProtocolError, or a payload that does not parse, marks ``proto`` broken as
    ``read_response`` does."""
    proto.reader.feed(data)
    response = proto._response
    if response is None:
        raise InterfaceError("no request is in progress")
    try:
        status = scan_response(proto, response, row_limit)
    except ProtocolError:
        proto.broken = True
        raise
    except (ValueError, StructError, IndexError) as exc:   # _protocol._MALFORMED
        raise proto._malformed(exc) from None
    if status != SCAN_STOP:
        return response
    return proto.read_response(row_limit)


cdef bint _has_loaders(object adapters) except -1:
    if adapters is None:
        return False
    # AdaptersMap.has_loaders is bool(_loaders): read the slot, not the Python property
    loaders = getattr(adapters, "_loaders", _MISSING)
    if loaders is _MISSING:
        return bool(adapters.has_loaders)
    return bool(loaders)


cdef object _start(object proto, Response response, object description):
    cdef Result result = Result(description)
    response.results.append(result)
    proto._result = result
    return result


def scan_response(proto, Response response, row_limit):
    """Read what ``proto`` (a ClientProtocol with ``response`` in progress) has received,
    as its ``read_response`` would, until a frame this function leaves to it (SCAN_STOP),
    the READY (SCAN_DONE) or ``row_limit`` rows in the current result (SCAN_ROWS)."""
    cdef Py_buffer view
    cdef const uint8_t* h
    cdef Py_ssize_t start, end, total
    cdef uint32_t length, sequence, expected = 0
    cdef uint64_t txn_id
    cdef int msg_type
    cdef bint check_seq, usable
    cdef Result result
    cdef object payload
    reader = proto.reader
    while True:
        current = proto._result
        result = None if current is None else <Result?>current
        decoder = proto._decoder
        if result is not None and decoder is not None and not result.complete:
            rows = result.rows
            budget = _UNLIMITED if row_limit is None else row_limit - len(rows)
            try:
                if budget > 0:
                    proto._frame_type = C_DATA_ROW
                    proto._read_rows(reader, decoder, rows, budget)
            except ProtocolError:
                proto.broken = True
                raise
            except Error as exc:  # an undecodable value: remember it, drop the rest
                if response.error is None:
                    response.error = exc
                proto._decoder = decoder = None
            if row_limit is not None and len(rows) >= row_limit:
                return SCAN_ROWS
        # The next frame, if it is whole, flag-free and in sequence in the first chunk.
        chunk, start, end = reader.contiguous()
        if end - start < HDR:
            return SCAN_STOP
        seq_obj = reader.expected_sequence
        check_seq = seq_obj is not None
        if check_seq:
            expected = seq_obj
        max_payload = reader.max_payload
        payload = None
        PyObject_GetBuffer(chunk, &view, PyBUF_SIMPLE)
        try:
            if start < 0 or end > view.len:     # never trust: leave it to the reader
                return SCAN_STOP
            h = <const uint8_t*>view.buf + start
            length = _u32(h + 8)
            sequence = _u32(h + 12)
            usable = (memcmp(h, b"SBWP", 4) == 0 and h[4] == 1 and h[5] == 1 and h[7] == 0
                      and end - start >= HDR + <Py_ssize_t>length
                      and not (check_seq and sequence != expected))
            if not usable or length > max_payload:
                return SCAN_STOP
            msg_type = h[6]
            txn_id = _u64(h + 32)
            total = HDR + <Py_ssize_t>length
            if msg_type == C_ROW_DESCRIPTION or msg_type == C_COMMAND_COMPLETE \
                    or msg_type == C_READY:
                payload = PyBytes_FromStringAndSize(<const char*>h + HDR, length)
        finally:
            PyBuffer_Release(&view)
        if msg_type == C_DATA_ROW:
            # rows of a result whose decoding failed (or that is complete) are dropped
            if result is None or result.description is None or decoder is not None:
                return SCAN_STOP
        elif msg_type == C_ROW_DESCRIPTION:
            if proto._req_sink is not None or _has_loaders(proto._req_adapters):
                return SCAN_STOP
            cached = proto._rd_cache.get((payload, proto._req_raw_text))
            if cached is None:
                return SCAN_STOP
            _start(proto, response, cached[0])
            proto._decoder = cached[1]
            proto._read_rows = cached[2]
        elif msg_type == C_COMMAND_COMPLETE:
            cc = proto._cc_cache.get(payload)
            if cc is None:
                return SCAN_STOP
            if result is None or result.complete:
                result = _start(proto, response, None)
                proto._decoder = None
            result.rowcount = cc.rows
            result.tag = cc.tag
            result.last_insert_id = cc.last_insert_id
            result.complete = True
            proto.txn_id = txn_id or proto.txn_id
        elif msg_type == C_READY:
            if proto._in_cancel_reply or proto._extra_ready:
                return SCAN_STOP
            ready = proto._ready_cache.get(payload)
            if ready is None:
                return SCAN_STOP
            features = ready.features
            if features is not None and features != proto.negotiated_features:
                return SCAN_STOP
            reader.consume(total, 1)
            proto.frames_read += 1
            # ClientProtocol._apply_ready and _finish, for a READY that changes no feature
            response.ready = ready
            proto.txn_id = ready.txn_id or txn_id
            version = ready.version
            if version is not None:
                proto.protocol_version = version
            response.done = True
            proto._copy_open = False
            proto._response = None
            proto._result = None
            proto._decoder = None
            return SCAN_DONE
        elif msg_type != C_PARSE_COMPLETE and msg_type != C_BIND_COMPLETE \
                and msg_type != C_CLOSE_COMPLETE:
            return SCAN_STOP
        reader.consume(total, 1)
        proto.frames_read += 1
