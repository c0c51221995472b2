# The Arrow C data interface (https://arrow.apache.org/docs/format/CDataInterface.html):
# the structs, their release callbacks and the PyCapsules ("arrow_schema", "arrow_array")
# of the Arrow PyCapsule interface. Included by arrowcodec.pyx; pyarrow is not needed to
# build or to export: any consumer (pyarrow, Polars, DuckDB) imports the capsules.
# Buffers are malloc'd, so a consumer may release them from any thread without the GIL.

cdef extern from *:
    """
    #ifndef ARROW_C_DATA_INTERFACE
    #define ARROW_C_DATA_INTERFACE
    #define ARROW_FLAG_NULLABLE 2
    struct ArrowSchema {
      const char* format; const char* name; const char* metadata; int64_t flags;
      int64_t n_children; struct ArrowSchema** children; struct ArrowSchema* dictionary;
      void (*release)(struct ArrowSchema*); void* private_data;
    };
    struct ArrowArray {
      int64_t length; int64_t null_count; int64_t offset; int64_t n_buffers;
      int64_t n_children; const void** buffers; struct ArrowArray** children;
      struct ArrowArray* dictionary; void (*release)(struct ArrowArray*); void* private_data;
    };
    #endif
    #ifndef ARROW_C_STREAM_INTERFACE
    #define ARROW_C_STREAM_INTERFACE
    struct ArrowArrayStream {
      int (*get_schema)(struct ArrowArrayStream*, struct ArrowSchema* out);
      int (*get_next)(struct ArrowArrayStream*, struct ArrowArray* out);
      const char* (*get_last_error)(struct ArrowArrayStream*);
      void (*release)(struct ArrowArrayStream*);
      void* private_data;
    };
    #endif
    """
    struct ArrowSchema:
        const char* format
        const char* name
        const char* metadata
        int64_t flags
        int64_t n_children
        ArrowSchema** children
        ArrowSchema* dictionary
        void (*release)(ArrowSchema*) noexcept nogil
        void* private_data

    struct ArrowArray:
        int64_t length
        int64_t null_count
        int64_t offset
        int64_t n_buffers
        int64_t n_children
        const void** buffers
        ArrowArray** children
        ArrowArray* dictionary
        void (*release)(ArrowArray*) noexcept nogil
        void* private_data

    struct ArrowArrayStream:
        int (*get_schema)(ArrowArrayStream*, ArrowSchema*) noexcept nogil
        int (*get_next)(ArrowArrayStream*, ArrowArray*) noexcept nogil
        const char* (*get_last_error)(ArrowArrayStream*) noexcept nogil
        void (*release)(ArrowArrayStream*) noexcept nogil
        void* private_data

    int64_t ARROW_FLAG_NULLABLE


cdef struct SchemaPriv:
    char* format
    char* name
    char* metadata
    ArrowSchema** children     # a struct schema's, each malloc'd


cdef struct ArrayPriv:
    void* buffers[3]
    ArrowArray** children      # a struct array's, each malloc'd


cdef void _release_schema(ArrowSchema* s) noexcept nogil:
    cdef SchemaPriv* priv = <SchemaPriv*>s.private_data
    cdef int64_t i
    if priv != NULL:
        if priv.children != NULL:
            for i in range(s.n_children):
                if priv.children[i] != NULL:
                    if priv.children[i].release != NULL:    # a consumer may have moved it
                        priv.children[i].release(priv.children[i])
                    free(priv.children[i])
            free(priv.children)
        free(priv.format)
        free(priv.name)
        free(priv.metadata)
        free(priv)
    s.private_data = NULL
    s.release = NULL


cdef void _release_array(ArrowArray* a) noexcept nogil:
    cdef ArrayPriv* priv = <ArrayPriv*>a.private_data
    cdef int64_t i
    if priv != NULL:
        if priv.children != NULL:
            for i in range(a.n_children):
                if priv.children[i] != NULL:
                    if priv.children[i].release != NULL:
                        priv.children[i].release(priv.children[i])
                    free(priv.children[i])
            free(priv.children)
        for i in range(3):
            free(priv.buffers[i])
        free(priv)
    a.private_data = NULL
    a.release = NULL


cdef bytes _uuid_metadata():
    # the extension type's name (ARROW:extension:name = arrow.uuid, no serialised params),
    # in the C interface's metadata encoding: i32 count, then i32 length + bytes per item
    cdef bytes key = b"ARROW:extension:name", value = b"arrow.uuid"
    cdef bytes key2 = b"ARROW:extension:metadata"
    return (_I32.pack(2) + _I32.pack(len(key)) + key + _I32.pack(len(value)) + value
            + _I32.pack(len(key2)) + key2 + _I32.pack(0))


cdef char* _c_copy(bytes data) except NULL:
    cdef Py_ssize_t n = PyBytes_GET_SIZE(data)
    cdef char* out = <char*>malloc(n + 1)
    if out == NULL:
        raise MemoryError()
    memcpy(out, PyBytes_AS_STRING(data), n)
    out[n] = 0
    return out


cdef ArrowSchema* _new_schema(bytes fmt, bytes metadata, bytes name=b"") except NULL:
    cdef ArrowSchema* s = <ArrowSchema*>calloc(1, sizeof(ArrowSchema))
    cdef SchemaPriv* priv
    if s == NULL:
        raise MemoryError()
    priv = <SchemaPriv*>calloc(1, sizeof(SchemaPriv))
    if priv == NULL:
        free(s)
        raise MemoryError()
    s.private_data = priv
    s.release = _release_schema
    priv.format = _c_copy(fmt)
    s.format = priv.format
    priv.name = _c_copy(name)
    s.name = priv.name
    s.flags = ARROW_FLAG_NULLABLE
    if metadata is not None:
        priv.metadata = _c_copy(metadata)   # copies all bytes, NULs included
        s.metadata = priv.metadata
    return s


cdef void _schema_capsule_free(object capsule) noexcept:
    cdef ArrowSchema* s = <ArrowSchema*>PyCapsule_GetPointer(capsule, "arrow_schema")
    if s != NULL:
        if s.release != NULL:
            s.release(s)
        free(s)


cdef void _array_capsule_free(object capsule) noexcept:
    cdef ArrowArray* a = <ArrowArray*>PyCapsule_GetPointer(capsule, "arrow_array")
    if a != NULL:
        if a.release != NULL:
            a.release(a)
        free(a)


cdef class ExportedColumn:
    """One Arrow array built in C, handed out once through the Arrow PyCapsule interface
    (``pyarrow.array(column)`` imports it without a copy)."""

    cdef ArrowSchema* _schema
    cdef ArrowArray* _array
    cdef readonly str format
    cdef readonly int64_t length
    cdef readonly int64_t null_count

    def __dealloc__(self):
        if self._schema != NULL:
            if self._schema.release != NULL:
                self._schema.release(self._schema)
            free(self._schema)
        if self._array != NULL:
            if self._array.release != NULL:
                self._array.release(self._array)
            free(self._array)

    def __len__(self):
        return self.length

    def __arrow_c_array__(self, requested_schema=None):
        """``(schema capsule, array capsule)``; the array moves out, so this works once."""
        if self._array == NULL:
            raise ValueError("this column was already exported")
        schema = PyCapsule_New(self._schema, "arrow_schema", _schema_capsule_free)
        self._schema = NULL
        array = PyCapsule_New(self._array, "arrow_array", _array_capsule_free)
        self._array = NULL
        return schema, array


cdef ExportedColumn _exported(ArrowSchema* schema, ArrowArray* array, str fmt):
    cdef ExportedColumn col = ExportedColumn.__new__(ExportedColumn)
    col._schema = schema
    col._array = array
    col.format = fmt
    col.length = array.length
    col.null_count = array.null_count
    return col


# --- the stream (ArrowArrayStream): a struct array per batch, pulled from a Python iterator ---

cdef class _StreamState:
    """What a C stream needs: the column names and formats of its schema, and an iterator
    of batches (lists of ExportedColumn). Kept alive by the stream's private_data."""
    cdef list names         # bytes
    cdef list formats       # str
    cdef list metadata      # bytes or None
    cdef object batches
    cdef bytes error


cdef int _fill_schema(_StreamState st, ArrowSchema* out) except -1:
    cdef Py_ssize_t n = len(st.formats), i
    cdef ArrowSchema* s = _new_schema(b"+s", None)
    cdef SchemaPriv* priv = <SchemaPriv*>s.private_data
    s.flags = 0
    priv.children = <ArrowSchema**>calloc(max(n, 1), sizeof(ArrowSchema*))
    if priv.children == NULL:
        _release_schema(s)
        free(s)
        raise MemoryError()
    s.n_children = n
    s.children = priv.children
    try:
        for i in range(n):
            priv.children[i] = _new_schema(st.formats[i].encode("ascii"), st.metadata[i], st.names[i])
    except BaseException:
        _release_schema(s)
        free(s)
        raise
    memcpy(out, s, sizeof(ArrowSchema))    # the struct moves; its private data goes with it
    free(s)
    return 0


cdef int _fill_batch(_StreamState st, list columns, ArrowArray* out) except -1:
    cdef Py_ssize_t n = len(st.formats), i
    cdef ArrowArray* parent = <ArrowArray*>calloc(1, sizeof(ArrowArray))
    cdef ArrayPriv* priv = <ArrayPriv*>calloc(1, sizeof(ArrayPriv))
    cdef ExportedColumn col
    if parent == NULL or priv == NULL:
        free(parent)
        free(priv)
        raise MemoryError()
    parent.private_data = priv
    parent.release = _release_array
    parent.buffers = <const void**>priv.buffers
    parent.n_buffers = 1                    # validity only, and none: no struct-level NULL
    priv.children = <ArrowArray**>calloc(max(n, 1), sizeof(ArrowArray*))
    if priv.children == NULL:
        _release_array(parent)
        free(parent)
        raise MemoryError()
    parent.children = priv.children
    parent.n_children = n
    try:
        if len(columns) != n:
            raise DataError(f"a batch of {len(columns)} columns in a stream of {n}")
        for i in range(n):
            col = columns[i]
            if col._array == NULL:
                raise ValueError("this column was already exported")
            if col.format != st.formats[i]:
                raise DataError(
                    f"column {i} ({st.names[i].decode()!r}) was {st.formats[i]!r} in the first "
                    f"batch but is {col.format!r} here: a value did not parse under the column's "
                    "declared type code (REFERENCE 8.2); fetch_arrow() reads it whole as utf8")
            priv.children[i] = col._array
            col._array = NULL
            if i == 0:
                parent.length = priv.children[i].length
    except BaseException:
        _release_array(parent)
        free(parent)
        raise
    memcpy(out, parent, sizeof(ArrowArray))
    free(parent)
    return 0


cdef int _stream_get_schema(ArrowArrayStream* stream, ArrowSchema* out) noexcept with gil:
    cdef _StreamState st = <_StreamState>stream.private_data
    try:
        _fill_schema(st, out)
        return 0
    except BaseException as exc:
        st.error = f"{type(exc).__name__}: {exc}".encode("utf-8", "replace")
        return 5        # EIO


cdef int _stream_get_next(ArrowArrayStream* stream, ArrowArray* out) noexcept with gil:
    cdef _StreamState st = <_StreamState>stream.private_data
    try:
        columns = next(st.batches, None)
        if columns is None:
            memset(out, 0, sizeof(ArrowArray))     # release NULL: the end of the stream
            return 0
        _fill_batch(st, columns, out)
        return 0
    except BaseException as exc:
        st.error = f"{type(exc).__name__}: {exc}".encode("utf-8", "replace")
        return 5


cdef const char* _stream_last_error(ArrowArrayStream* stream) noexcept with gil:
    cdef _StreamState st = <_StreamState>stream.private_data
    return NULL if st.error is None else PyBytes_AS_STRING(st.error)


cdef void _stream_release(ArrowArrayStream* stream) noexcept with gil:
    if stream.private_data != NULL:
        Py_DECREF(<object>stream.private_data)
        stream.private_data = NULL
    stream.release = NULL


cdef void _stream_capsule_free(object capsule) noexcept:
    cdef ArrowArrayStream* s = <ArrowArrayStream*>PyCapsule_GetPointer(capsule, "arrow_array_stream")
    if s != NULL:
        if s.release != NULL:
            s.release(s)
        free(s)


def export_stream(names, formats, batches):
    """An ``arrow_array_stream`` PyCapsule of struct batches, built without pyarrow.

    ``names`` and ``formats`` (C data interface format strings) make the schema;
    ``batches`` yields lists of ``ExportedColumn`` (``ArrowSink.take()``), pulled when the
    consumer asks, on whatever thread it asks from (the callbacks take the GIL).
    """
    cdef _StreamState st = _StreamState.__new__(_StreamState)
    cdef ArrowArrayStream* stream
    st.names = [str(n).encode("utf-8") for n in names]
    st.formats = [str(f) for f in formats]
    st.metadata = [_uuid_metadata() if f == "w:16" else None for f in st.formats]
    st.batches = iter(batches)
    stream = <ArrowArrayStream*>calloc(1, sizeof(ArrowArrayStream))
    if stream == NULL:
        raise MemoryError()
    Py_INCREF(st)
    stream.private_data = <void*>st
    stream.get_schema = _stream_get_schema
    stream.get_next = _stream_get_next
    stream.get_last_error = _stream_last_error
    stream.release = _stream_release
    return PyCapsule_New(stream, "arrow_array_stream", _stream_capsule_free)
