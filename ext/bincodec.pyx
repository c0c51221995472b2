"""DATA_ROW codec for binary-value sessions (compiled twin of ``scratchbird._pure.bincodec``).

Same names, behaviour and messages as the pure twin, the readable reference; the layouts
are in docs/protocol.md, "Binary values". Decoding is all here: one C decode function
per type (``bincodec_scalar.pxi``, ``bincodec_nested.pxi``), chosen once per column as a
function pointer when the decoder is built, then called from the frame loop with no
Python call per value except for the types Python builds in Python (Decimal,
Interval, ipaddress, ...). Values are read in place from the receive buffer; every
length is checked against what is left.

What is not on the hot path is shared with the pure twin rather than written twice:
the type-id table, planning a column from its TypeRef, error contexts, and encoding
(``encode_value``, ``encode_param``, ``typeref_for``), which serve parameters one value
at a time. ``encode_data_row`` and ``encode_data_row_frames``, the dev server's bulk
path, write the common scalar types in C (``bincodec_encode.pxi``) and hand every other
value to the shared encoder.
"""
from cpython.buffer cimport PyBUF_SIMPLE, PyBuffer_Release, PyObject_GetBuffer
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.dict cimport PyDict_Contains, PyDict_SetItem
from cpython.float cimport PyFloat_FromDouble
from cpython.list cimport PyList_New, PyList_SET_ITEM
from cpython.long cimport (PyLong_AsLongLongAndOverflow, PyLong_FromLong, PyLong_FromLongLong,
                           PyLong_FromUnsignedLongLong)
from cpython.mem cimport PyMem_Free, PyMem_Malloc, PyMem_Realloc
from cpython.object cimport PyObject, PyTypeObject
from cpython.pyport cimport PY_SSIZE_T_MAX
from cpython.ref cimport Py_INCREF
from cpython.tuple cimport PyTuple_New, PyTuple_SET_ITEM
from cpython.unicode cimport PyUnicode_DecodeASCII, PyUnicode_DecodeUTF8
from cpython.datetime cimport (date_day, date_month, date_new, date_year, datetime_day, datetime_hour,
                              datetime_microsecond, datetime_minute, datetime_month, datetime_new,
                              datetime_second, datetime_tzinfo, datetime_year, import_datetime,
                              time_new)
from libc.stdint cimport (INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN, int8_t, int16_t, int32_t,
                          int64_t, uint8_t, uint16_t, uint32_t, uint64_t)
from libc.string cimport memcmp, memcpy, memset

import datetime as _dt
import ipaddress
import math
import uuid
from decimal import Decimal

from scratchbird._constants import DATA_ROW, MAX_PAYLOAD, ZERO_UUID
from scratchbird._pure.bincodec import (
    ARRAY, BINARY, BIT, BLOB, BOOLEAN, CIDR, COMPOSITE, DATE, DECFLOAT, DECIMAL, ENUM, FLOAT32,
    FLOAT64, GEOGRAPHY, GEOMETRY, INET, INT8, INT16, INT32, INT64, INT128, INTERVAL, JSON, JSONB,
    LIST, MACADDR, MAP, MAX_DEPTH, MAX_NDIM, MONEY, MULTIRANGE, OID_TYPE_IDS, POINT, RANGE, ROW,
    SHAPE, TEXT, TIME, TIMESTAMP, TIMESTAMPTZ, TIMETZ, TSQUERY, TSVECTOR, TYPE_NAMES, TZ, UINT8,
    UINT16, UINT32, UINT64, UINT128, UNTYPED, UUID, VARIANT, VECTOR, XML, _column_context,
    _plan_column, _spec, column_type_id, encode_param, encode_value, type_label, typeref_for,
)
from scratchbird._pure.bincodec import _encode as _encode_one
from scratchbird._pure.bincodec_scalar import (MAX_DECIMAL_COEFFICIENT_BYTES, MAX_DECIMAL_DIGITS,
                                               _Malformed)
from scratchbird.binary_types import Geometry, Interval, Jsonb, Range
from scratchbird.errors import DataError, ProtocolError

cdef extern from "Python.h":
    object _PyLong_FromByteArray(const unsigned char* data, size_t n, int little_endian, int is_signed)
    int PyObject_GenericSetAttr(object o, object name, object value) except -1
    void PyObject_GC_UnTrack(object)

__all__ = [
    "BinaryRowDecoder", "read_data_rows", "decode_value", "encode_value", "encode_data_row",
    "encode_data_row_frames", "encode_param", "column_type_id", "typeref_for", "type_label",
    "TYPE_NAMES", "OID_TYPE_IDS", "TZ", "MAX_DEPTH", "MAX_NDIM",
    "UNTYPED", "BOOLEAN", "INT8", "INT16", "INT32", "INT64", "INT128", "UINT8", "UINT16",
    "UINT32", "UINT64", "UINT128", "DECIMAL", "DECFLOAT", "FLOAT32", "FLOAT64", "MONEY", "TEXT",
    "BINARY", "BIT", "DATE", "TIME", "TIMETZ", "TIMESTAMP", "TIMESTAMPTZ", "INTERVAL", "UUID",
    "BLOB", "ARRAY", "LIST", "MAP", "ROW", "COMPOSITE", "VARIANT", "RANGE", "MULTIRANGE", "ENUM",
    "INET", "CIDR", "MACADDR", "JSON", "JSONB", "XML", "GEOMETRY", "GEOGRAPHY", "POINT",
    "SHAPE", "VECTOR", "TSVECTOR", "TSQUERY",
]

import_datetime()

cdef enum:
    HDR = 40                   # REFERENCE 2
    DATA_ROW_TYPE = 0x45       # REFERENCE appendix A
    MAX_TYPES = 64             # room in the decoder table

NO_DECODING = "no binary decoding for this type"


cdef class _Options:
    """Decode options shared by every value of a result (and its nested values)."""
    cdef public object json_loads

    def __init__(self, json_loads=None):
        self.json_loads = json_loads


# A decoder: the value's bytes, the options, the nesting depth -> the Python value.
# Failures raise _Malformed (the reason) or UnicodeDecodeError; callers add the context.
ctypedef object (*decode_fn)(const uint8_t* p, Py_ssize_t n, _Options o, int depth)


cdef inline uint16_t _u16(const uint8_t* p) noexcept nogil:
    return p[0] | (<uint16_t>p[1] << 8)


cdef inline uint32_t _u32(const uint8_t* p) noexcept nogil:
    return p[0] | (<uint32_t>p[1] << 8) | (<uint32_t>p[2] << 16) | (<uint32_t>p[3] << 24)


cdef inline uint64_t _u64(const uint8_t* p) noexcept nogil:
    return _u32(p) | (<uint64_t>_u32(p + 4) << 32)


include "row_payload.pxi"


cdef object _utf8_reason(exc):
    return f"value is not valid UTF-8 ({exc.reason} at byte {exc.start})"


cdef str _reason(exc):
    """The bare reason of a decoder failure (_Malformed or UnicodeDecodeError)."""
    if isinstance(exc, UnicodeDecodeError):
        return _utf8_reason(exc)
    return str(exc)


include "bincodec_scalar.pxi"
include "bincodec_nested.pxi"

# ---------------------------------------------------------------- the table of decoders

cdef decode_fn _DECODERS[MAX_TYPES]
cdef dict _SLOT = {}          # type id -> index into _DECODERS (a table keyed by type id)


cdef int _register(object type_ids, decode_fn fn) except -1:
    cdef Py_ssize_t slot = len(_SLOT)
    for type_id in type_ids:
        if slot >= MAX_TYPES:
            raise RuntimeError("bincodec: the decoder table is full")
        _DECODERS[slot] = fn
        _SLOT[type_id] = slot
        slot += 1
    return 0


cdef decode_fn _lookup(object type_id):
    """The decoder for a type id, or NULL when there is none."""
    slot = _SLOT.get(type_id)
    if slot is None:
        return NULL
    return _DECODERS[<Py_ssize_t>slot]


_register([BOOLEAN], _d_bool)
_register([INT8], _d_int8)
_register([INT16], _d_int16)
_register([INT32], _d_int32)
_register([INT64], _d_int64)
_register([INT128], _d_int128)
_register([UINT8], _d_uint8)
_register([UINT16], _d_uint16)
_register([UINT32], _d_uint32)
_register([UINT64], _d_uint64)
_register([UINT128], _d_uint128)
_register([FLOAT32], _d_float32)
_register([FLOAT64], _d_float64)
_register([DECIMAL, DECFLOAT, MONEY], _d_decimal)
_register([TEXT, XML, ENUM, TSVECTOR, TSQUERY], _d_text)
_register([JSON], _d_json)
_register([JSONB], _d_jsonb)
_register([BINARY, BLOB], _d_bytes)
_register([BIT], _d_bit)
_register([DATE], _d_date)
_register([TIME], _d_time)
_register([TIMETZ], _d_timetz)
_register([TIMESTAMP], _d_timestamp)
_register([TIMESTAMPTZ], _d_timestamptz)
_register([INTERVAL], _d_interval)
_register([UUID], _d_uuid)
_register([INET], _d_inet)
_register([CIDR], _d_cidr)
_register([MACADDR], _d_macaddr)
_register([GEOMETRY, GEOGRAPHY, POINT, SHAPE], _d_geometry)
_register([VECTOR], _d_vector)
_register([ARRAY, LIST], _d_array)
_register([RANGE], _d_range)
_register([MULTIRANGE], _d_multirange)
_register([MAP], _d_map)
_register([ROW, COMPOSITE], _d_row)
_register([VARIANT], _d_variant)

# values that hold no container (a RANGE may: its bounds can be lists): a row of only
# these can never be in a reference cycle
_ATOMIC = frozenset(_SLOT) - {ARRAY, LIST, MAP, ROW, COMPOSITE, VARIANT, RANGE, MULTIRANGE,
                              VECTOR, JSON, JSONB}

# ---------------------------------------------------------------- rows


cdef class BinaryRowDecoder:
    """Turns DATA_ROW payloads of a binary-value result into tuples.

    ``columns`` are ``scratchbird._server_messages.Column`` objects (``typeref`` or
    ``type_oid``, and ``name``). ``json_loads`` (for example ``json.loads``) parses JSON
    and JSONB values; without it JSON is ``str`` and JSONB is ``Jsonb``.
    """

    cdef readonly tuple columns
    cdef readonly object json_loads
    cdef readonly tuple type_ids
    cdef tuple _contexts         # "column i ('name', TYPE (f,c))" per column
    cdef tuple _problems         # why a column's values are refused, or None
    cdef decode_fn* _fns         # one decoder per column, NULL for a refused column
    cdef Py_ssize_t _ncols
    cdef _Options _opts
    cdef bint _untrack           # rows hold no containers: untrack them from the GC

    def __cinit__(self):
        self._fns = NULL
        self._ncols = 0
        self.columns = self.type_ids = self._contexts = self._problems = ()
        self._opts = _Options()

    def __dealloc__(self):
        PyMem_Free(self._fns)

    def __init__(self, columns, json_loads=None):
        cdef Py_ssize_t i, n
        columns = tuple(columns)
        plans = [_plan_column(col) for col in columns]
        n = len(plans)
        fns = <decode_fn*>PyMem_Malloc((n if n else 1) * sizeof(decode_fn))
        if fns == NULL:
            raise MemoryError()
        # Everything that can raise runs before any field changes: _decode indexes the
        # tuples below by column without bounds checks, so a re-initialisation that
        # failed halfway must leave the old, consistent state (issue 7).
        try:
            problems = []
            for i in range(n):
                fns[i] = NULL if plans[i][2] else _lookup(plans[i][0])
                problems.append(plans[i][2] or (NO_DECODING if fns[i] == NULL else None))
            opts = _Options(json_loads)
            type_ids = tuple(plan[0] for plan in plans)
            contexts = tuple(_column_context(i, col, plan[1])
                             for i, (col, plan) in enumerate(zip(columns, plans)))
            untrack = all(plan[2] or (plan[0] in _ATOMIC and not (
                json_loads is not None and plan[0] in (JSON, JSONB))) for plan in plans)
        except BaseException:
            PyMem_Free(fns)
            raise
        PyMem_Free(self._fns)
        self._fns = fns
        self._ncols = n
        self.columns = columns
        self.json_loads = json_loads
        self._opts = opts
        self.type_ids = type_ids
        self._contexts = contexts
        self._problems = tuple(problems)
        self._untrack = untrack

    @property
    def ncolumns(self):
        return self._ncols

    cdef tuple _decode(self, const uint8_t* p, Py_ssize_t n):
        """One DATA_ROW payload (REFERENCE 4.6); checks every length against ``n``."""
        cdef Py_ssize_t ncols, pos, i = 0
        cdef int32_t length
        cdef decode_fn fn
        cdef tuple row
        pos = _row_columns_start(p, n, self._ncols)
        ncols = self._ncols
        row = PyTuple_New(ncols)
        try:
            for i in range(ncols):
                if p[4 + (i >> 3)] & (1 << (i & 7)):
                    value = None
                else:
                    length = _column_length(p, n, &pos, i)
                    if length == -1:
                        value = None
                    else:
                        fn = self._fns[i]
                        if fn == NULL:
                            raise _Malformed(self._problems[i])
                        value = fn(p + pos, length, self._opts, 0)
                        pos += length
                Py_INCREF(value)                  # PyTuple_SET_ITEM steals a reference
                PyTuple_SET_ITEM(row, i, value)
        except (_Malformed, UnicodeDecodeError) as exc:
            raise DataError(f"{self._contexts[i]}: {_reason(exc)}") from None
        if pos != n:
            raise ProtocolError(f"DATA_ROW has {n - pos} bytes after its last column")
        if self._untrack:
            # no value is a container, so the row can never be in a reference cycle
            PyObject_GC_UnTrack(row)
        return row

    def decode_row(self, payload):
        """One DATA_ROW payload (REFERENCE 4.6) to a tuple."""
        cdef Py_buffer view
        PyObject_GetBuffer(payload, &view, PyBUF_SIMPLE)
        try:
            return self._decode(<const uint8_t*>view.buf, view.len)
        finally:
            PyBuffer_Release(&view)


# ---------------------------------------------------------------- the frame loop

include "row_scan.pxi"


cdef tuple _decode_binary_row(object dec, const uint8_t* p, Py_ssize_t n):
    return (<BinaryRowDecoder>dec)._decode(p, n)


cdef object _binary_row_error(object dec, object exc):
    return None


def read_data_rows(reader, decoder, rows, max_rows):
    """Decode consecutive complete DATA_ROW frames from ``reader`` into ``rows``.

    Stops at ``max_rows``, at the first frame of another type, or when the next frame is
    not complete yet; that frame stays in the reader. Returns the number of rows added.
    """
    return _read_rows(reader, decoder, rows, max_rows, BinaryRowDecoder, _decode_binary_row,
                      _binary_row_error)


# ---------------------------------------------------------------- single values


def decode_value(type_id, data, json_loads=None):
    """One binary value of ``type_id`` (``(family, code)``) from its bytes."""
    cdef Py_buffer view
    cdef decode_fn fn
    key = _spec(type_id)[:2]
    fn = _lookup(key)
    PyObject_GetBuffer(data, &view, PyBUF_SIMPLE)
    try:
        if fn == NULL:
            raise _Malformed(NO_DECODING)
        return fn(<const uint8_t*>view.buf, view.len, _Options(json_loads), 0)
    except (_Malformed, UnicodeDecodeError) as exc:
        raise DataError(f"{type_label(key)}: {_reason(exc)}") from None
    finally:
        PyBuffer_Release(&view)


include "bincodec_encode.pxi"
