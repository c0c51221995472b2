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

    int64_t ARROW_FLAG_NULLABLE


cdef struct SchemaPriv:
    char* format
    char* metadata


cdef struct ArrayPriv:
    void* buffers[3]


cdef void _release_schema(ArrowSchema* s) noexcept nogil:
    cdef SchemaPriv* priv = <SchemaPriv*>s.private_data
    if priv != NULL:
        free(priv.format)
        free(priv.metadata)
        free(priv)
    s.private_data = NULL
    s.release = NULL


cdef void _release_array(ArrowArray* a) noexcept nogil:
    cdef ArrayPriv* priv = <ArrayPriv*>a.private_data
    cdef int i
    if priv != NULL:
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


cdef ArrowSchema* _new_schema(bytes fmt, bytes metadata) except NULL:
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
    s.name = ""
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
