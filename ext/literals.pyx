"""Client-side parameter binding: Python values as SQL literals (compiled twin).

Same names, behaviour, exception classes and messages as ``scratchbird._pure.literals``,
the readable reference; read its docstring for the rules and the REFERENCE sections
behind them. ``merge_params`` runs once per row in executemany, so this module holds
what that loop spends its time on:

- the placeholder scan, a C loop over the query's code points, done once per SQL text:
  the last plan is kept, and executemany passes the same SQL object for every row;
- rendering None, bool, int, float and str without Python-level calls;
- splicing into one preallocated str, with no list of pieces.

Everything else (Decimal, dates and times, bytes, UUID, Json, tuples, subclasses,
refusals) goes to the pure twin's ``render_literal``. Error paths go there too: when the
C code finds that a call must fail, it asks the pure twin to raise, so each message is
written once and the two twins cannot drift apart.
"""
from cpython.float cimport PyFloat_AS_DOUBLE
from cpython.long cimport PyLong_AsLongLongAndOverflow
from cpython.mem cimport PyMem_Free, PyMem_Malloc, PyMem_Realloc
from cpython.unicode cimport (PyUnicode_1BYTE_KIND, PyUnicode_DATA, PyUnicode_GET_LENGTH,
                              PyUnicode_KIND, PyUnicode_New, PyUnicode_READ,
                              PyUnicode_Substring, PyUnicode_WRITE)
from libc.math cimport isinf, isnan
from libc.string cimport memchr, memcpy, memset

from collections.abc import Mapping, Sequence

from scratchbird._pure import literals as _pure
from scratchbird.errors import InternalError

__all__ = ["render_literal", "quote_identifier", "merge_params"]

cdef extern from "Python.h":
    Py_UCS4 PyUnicode_MAX_CHAR_VALUE(object o)
    # Python 3.11 may still hold legacy (wchar_t) strings; KIND/DATA need them ready.
    int PyUnicode_READY(object o) except -1

cdef enum:
    QMARK = 1
    NUMERIC = 2
    NAMED = 3
    LOCAL_MARKS = 32

# $n numbers saturate here: anything this big is out of range for any params sequence.
cdef Py_ssize_t NUMBER_CEIL = (<Py_ssize_t>1) << 59

cdef str _NULL = "NULL"
cdef str _TRUE = "TRUE"
cdef str _FALSE = "FALSE"
cdef str _NAN = "'NaN'"
cdef str _INF = "'Infinity'"
cdef str _NEG_INF = "'-Infinity'"
cdef str _A_STRING = "a string parameter"
cdef str _AN_IDENTIFIER = "an identifier"

_render_other = _pure.render_literal


# ---------------------------------------------------------------------------------
# Character classes (the pure twin's regexes, as C)
# ---------------------------------------------------------------------------------

cdef inline bint _is_digit(Py_UCS4 c) noexcept nogil:
    return 0x30 <= c <= 0x39


cdef inline bint _is_ascii_letter(Py_UCS4 c) noexcept nogil:
    return (0x41 <= c <= 0x5A) or (0x61 <= c <= 0x7A) or c == 0x5F  # A-Z a-z _


cdef inline bint _identifier_start(Py_UCS4 c) noexcept nogil:
    # PostgreSQL's lexer counts every non-ASCII character as a letter
    return _is_ascii_letter(c) or c >= 0x80


cdef inline bint _identifier_char(Py_UCS4 c) noexcept nogil:
    return _identifier_start(c) or _is_digit(c) or c == 0x24  # '$' continues a name


cdef inline bint _tag_char(Py_UCS4 c) noexcept nogil:
    return _identifier_start(c) or _is_digit(c)


# ---------------------------------------------------------------------------------
# Rendering one value
# ---------------------------------------------------------------------------------

cdef inline void _copy_chars(int kind, void* out, Py_ssize_t at, int src_kind,
                             const void* src, Py_ssize_t start, Py_ssize_t count) noexcept:
    """Copy ``count`` code points of ``src`` from ``start`` into ``out`` at ``at``."""
    cdef Py_ssize_t k
    if kind == src_kind:
        memcpy(<char*>out + at * kind, <const char*>src + start * kind, count * kind)
    else:  # only ever widening: the output's kind is the widest of its parts
        for k in range(count):
            PyUnicode_WRITE(kind, out, at + k, PyUnicode_READ(src_kind, <void*>src, start + k))


cdef str _quote(str text, Py_UCS4 quote, str what):
    """``text`` between ``quote`` characters, each inner one doubled; NUL and lone
    surrogates refused (with the pure twin's exception)."""
    PyUnicode_READY(text)
    cdef Py_ssize_t n = PyUnicode_GET_LENGTH(text)
    cdef int kind = PyUnicode_KIND(text)
    cdef void* data = PyUnicode_DATA(text)
    cdef Py_ssize_t quotes = 0, i, start, o
    cdef Py_UCS4 c
    cdef const char* p
    cdef const char* end
    if kind == PyUnicode_1BYTE_KIND:  # no surrogates below U+0100: find NUL and quotes
        p = <const char*>data
        end = p + n
        if memchr(p, 0, n) != NULL:
            _pure._check_sendable(text, what)
        p = <const char*>memchr(p, quote, n)
        while p != NULL:
            quotes += 1
            p = <const char*>memchr(p + 1, quote, end - p - 1)
    else:
        for i in range(n):
            c = PyUnicode_READ(kind, data, i)
            if c == quote:
                quotes += 1
            elif c == 0 or 0xD800 <= c <= 0xDFFF:
                _pure._check_sendable(text, what)
    cdef str out = PyUnicode_New(n + 2 + quotes, PyUnicode_MAX_CHAR_VALUE(text))
    cdef void* odata = PyUnicode_DATA(out)
    PyUnicode_WRITE(kind, odata, 0, quote)
    o = 1
    start = 0
    if quotes:
        for i in range(n):
            if PyUnicode_READ(kind, data, i) == quote:
                _copy_chars(kind, odata, o, kind, data, start, i + 1 - start)
                o += i + 1 - start
                PyUnicode_WRITE(kind, odata, o, quote)
                o += 1
                start = i + 1
    _copy_chars(kind, odata, o, kind, data, start, n - start)
    PyUnicode_WRITE(kind, odata, o + n - start, quote)
    return out


cdef str _render_int(object value):
    cdef int overflow = 0
    cdef long long v = PyLong_AsLongLongAndOverflow(value, &overflow)
    if overflow:
        return _render_other(value)
    cdef char buf[24]
    cdef int pos = 24
    cdef unsigned long long u = (<unsigned long long>0 - <unsigned long long>v) if v < 0 else <unsigned long long>v
    while True:
        pos -= 1
        buf[pos] = <char>(0x30 + u % 10)
        u //= 10
        if u == 0:
            break
    if v < 0:
        pos -= 1
        buf[pos] = 0x2D  # '-'
    cdef str out = PyUnicode_New(24 - pos, 127)
    memcpy(PyUnicode_DATA(out), buf + pos, 24 - pos)
    return out


cpdef str render_literal(object value):
    """``value`` as an SQL literal, or DataError / ProgrammingError saying why not."""
    cdef type t = type(value)
    cdef double d
    if value is None:
        return _NULL
    if t is str:
        return _quote(<str>value, 0x27, _A_STRING)
    if t is int:
        return _render_int(value)
    if t is float:
        d = PyFloat_AS_DOUBLE(value)
        if isnan(d):
            return _NAN
        if isinf(d):
            return _INF if d > 0 else _NEG_INF
        return repr(value)  # float.__repr__: the shortest text that reads back exactly
    if t is bool:
        return _TRUE if value is True else _FALSE
    return _render_other(value)


def quote_identifier(name):
    """``name`` as a delimited identifier: ``"`` doubled; NUL refused."""
    if type(name) is str and PyUnicode_GET_LENGTH(name) != 0:
        return _quote(<str>name, 0x22, _AN_IDENTIFIER)
    return _pure.quote_identifier(name)  # subclasses, and the refusals


# ---------------------------------------------------------------------------------
# Finding placeholders
# ---------------------------------------------------------------------------------

cdef struct Mark:
    Py_ssize_t start
    Py_ssize_t end
    int style
    Py_ssize_t number  # the n of $n, saturated at NUMBER_CEIL
    Py_ssize_t slot    # which rendered value replaces it (set by _Plan)


cdef struct Marks:
    Mark* items
    Py_ssize_t count
    Py_ssize_t capacity
    Mark local[LOCAL_MARKS]  # most queries fit: no allocation


cdef inline void _marks_init(Marks* m) noexcept:
    m.items = m.local
    m.count = 0
    m.capacity = LOCAL_MARKS


cdef inline void _marks_free(Marks* m) noexcept:
    if m.items != m.local:
        PyMem_Free(m.items)
    m.items = m.local


cdef int _marks_push(Marks* m, Py_ssize_t start, Py_ssize_t end, int style,
                     Py_ssize_t number) except -1:
    cdef Mark* grown
    if m.count == m.capacity:
        if m.items == m.local:
            grown = <Mark*>PyMem_Malloc(2 * m.capacity * sizeof(Mark))
            if grown != NULL:
                memcpy(grown, m.local, m.count * sizeof(Mark))
        else:
            grown = <Mark*>PyMem_Realloc(m.items, 2 * m.capacity * sizeof(Mark))
        if grown == NULL:
            raise MemoryError()
        m.items = grown
        m.capacity *= 2
    m.items[m.count].start = start
    m.items[m.count].end = end
    m.items[m.count].style = style
    m.items[m.count].number = number
    m.count += 1
    return 0


cdef Py_ssize_t _end_of_quoted(int kind, void* data, Py_ssize_t n, Py_ssize_t i,
                               Py_UCS4 quote) noexcept:
    """Index just past the quote closing a '...' or "..." ('' / "" stand for one)."""
    while i < n:
        if PyUnicode_READ(kind, data, i) == quote:
            if i + 1 < n and PyUnicode_READ(kind, data, i + 1) == quote:
                i += 2
                continue
            return i + 1
        i += 1
    return n  # unterminated: the rest is quoted, the server will say so


cdef Py_ssize_t _end_of_e_string(int kind, void* data, Py_ssize_t n, Py_ssize_t i) noexcept:
    """Index just past the quote closing an E'...' string (backslash escapes)."""
    cdef Py_UCS4 c
    while i < n:
        c = PyUnicode_READ(kind, data, i)
        if c == 0x5C:  # backslash: the next character is taken as is
            i += 2
        elif c == 0x27:
            if i + 1 < n and PyUnicode_READ(kind, data, i + 1) == 0x27:
                i += 2
            else:
                return i + 1
        else:
            i += 1
    return n


cdef Py_ssize_t _end_of_block_comment(int kind, void* data, Py_ssize_t n,
                                      Py_ssize_t i) noexcept:
    """Index just past the */ closing a /* comment; nests as in PostgreSQL."""
    cdef Py_ssize_t depth = 1
    cdef Py_UCS4 c, nxt
    while i + 1 < n:
        c = PyUnicode_READ(kind, data, i)
        nxt = PyUnicode_READ(kind, data, i + 1)
        if c == 0x2F and nxt == 0x2A:  # /*
            depth += 1
            i += 2
        elif c == 0x2A and nxt == 0x2F:  # */
            depth -= 1
            i += 2
            if depth == 0:
                return i
        else:
            i += 1
    return n


cdef Py_ssize_t _end_of_dollar_quote(int kind, void* data, Py_ssize_t n, Py_ssize_t i,
                                     Py_ssize_t tag_start, Py_ssize_t tag_len) noexcept:
    """Index just past the first repeat of the $tag$ at ``tag_start``, from ``i`` on."""
    cdef Py_ssize_t k
    while i + tag_len <= n:
        if PyUnicode_READ(kind, data, i) == 0x24:
            k = 1
            while (k < tag_len and PyUnicode_READ(kind, data, i + k)
                   == PyUnicode_READ(kind, data, tag_start + k)):
                k += 1
            if k == tag_len:
                return i + tag_len
        i += 1
    return n


cdef int _scan(str sql, Marks* marks) except -1:
    """Push the placeholders of ``sql`` found outside quotes and comments."""
    cdef Py_ssize_t n = PyUnicode_GET_LENGTH(sql)
    cdef int kind = PyUnicode_KIND(sql)
    cdef void* data = PyUnicode_DATA(sql)
    cdef Py_ssize_t i = 0, j, number
    cdef Py_UCS4 c, nxt
    while i < n:
        c = PyUnicode_READ(kind, data, i)
        nxt = PyUnicode_READ(kind, data, i + 1) if i + 1 < n else 0
        if c == 0x27 or c == 0x22:  # ' or "
            i = _end_of_quoted(kind, data, n, i + 1, c)
        elif c == 0x2D and nxt == 0x2D:  # -- to the end of the line
            i += 2
            while i < n:
                c = PyUnicode_READ(kind, data, i)
                i += 1
                if c == 0x0A or c == 0x0D:
                    break
        elif c == 0x2F and nxt == 0x2A:  # /*
            i = _end_of_block_comment(kind, data, n, i + 2)
        elif c == 0x3F:  # ?
            _marks_push(marks, i, i + 1, QMARK, 0)
            i += 1
        elif c == 0x24:  # $
            if _is_digit(nxt):
                j = i + 1
                number = 0
                while j < n and _is_digit(PyUnicode_READ(kind, data, j)):
                    if number < NUMBER_CEIL:
                        number = number * 10 + (<Py_ssize_t>PyUnicode_READ(kind, data, j) - 0x30)
                    j += 1
                _marks_push(marks, i, j, NUMERIC, number)
                i = j
            elif nxt == 0x24 or _identifier_start(nxt):
                j = i + 1
                if nxt != 0x24:
                    j += 1
                    while j < n and _tag_char(PyUnicode_READ(kind, data, j)):
                        j += 1
                if j < n and PyUnicode_READ(kind, data, j) == 0x24:
                    i = _end_of_dollar_quote(kind, data, n, j + 1, i, j + 1 - i)
                else:
                    i += 1  # $name without a closing $: not a dollar quote
            else:
                i += 1
        elif c == 0x3A:  # :
            if nxt == 0x3A:  # a :: cast is never a placeholder
                i += 2
                while i < n and PyUnicode_READ(kind, data, i) == 0x3A:
                    i += 1
            elif _is_ascii_letter(nxt):
                j = i + 2
                while j < n and (_is_ascii_letter(PyUnicode_READ(kind, data, j))
                                 or _is_digit(PyUnicode_READ(kind, data, j))):
                    j += 1
                _marks_push(marks, i, j, NAMED, 0)
                i = j
            else:
                i += 1
        elif _identifier_start(c):
            j = i + 1
            while j < n and _identifier_char(PyUnicode_READ(kind, data, j)):
                j += 1
            if j == i + 1 and (c == 0x45 or c == 0x65) and j < n \
                    and PyUnicode_READ(kind, data, j) == 0x27:  # E'...'
                i = _end_of_e_string(kind, data, n, j + 1)
            else:
                i = j
        else:
            i += 1
    return 0


# ---------------------------------------------------------------------------------
# Plans: what one SQL text needs, found once
# ---------------------------------------------------------------------------------

cdef class _Plan:
    """The placeholders of one SQL text and the checks that depend only on the text.

    executemany sends the same SQL object for every row, so the last plan is kept and
    reused (``_plan_for``); a row then costs the rendering and one copy.
    """
    cdef str sql
    cdef Marks marks
    cdef Py_ssize_t qmarks, numbered, named
    cdef Py_ssize_t highest     # the largest $n
    cdef bint complete          # the $n used are exactly $1..$highest
    cdef tuple names            # the distinct :names, in first-use order

    def __cinit__(self):
        _marks_init(&self.marks)

    def __dealloc__(self):
        _marks_free(&self.marks)


cdef _Plan _last_plan = None


cdef _Plan _build_plan(str sql):
    cdef _Plan plan = _Plan.__new__(_Plan)
    cdef Marks* marks = &plan.marks
    cdef Mark* mark
    cdef Py_ssize_t k, seen = 0
    cdef unsigned char* used
    cdef dict slots = {}
    cdef str name
    plan.sql = sql
    _scan(sql, marks)
    for k in range(marks.count):
        mark = &marks.items[k]
        if mark.style == QMARK:
            mark.slot = plan.qmarks
            plan.qmarks += 1
        elif mark.style == NUMERIC:
            mark.slot = mark.number - 1
            plan.numbered += 1
            if mark.number > plan.highest:
                plan.highest = mark.number
        else:
            name = PyUnicode_Substring(sql, mark.start + 1, mark.end)
            mark.slot = slots.setdefault(name, len(slots))
            plan.named += 1
    plan.names = tuple(slots)
    # $1..$highest all used, and nothing else (no $0): then only n == highest fits
    if plan.numbered and plan.highest <= marks.count:
        used = <unsigned char*>PyMem_Malloc(plan.highest + 1)
        if used == NULL:
            raise MemoryError()
        memset(used, 0, plan.highest + 1)
        for k in range(marks.count):
            if marks.items[k].style == NUMERIC and not used[marks.items[k].number]:
                used[marks.items[k].number] = 1
                seen += 1
        plan.complete = not used[0] and seen == plan.highest
        PyMem_Free(used)
    return plan


cdef inline _Plan _plan_for(str sql):
    global _last_plan
    cdef _Plan plan = _last_plan
    if plan is not None and (plan.sql is sql or plan.sql == sql):
        return plan
    plan = _build_plan(sql)
    _last_plan = plan
    return plan


# ---------------------------------------------------------------------------------
# Substituting them
# ---------------------------------------------------------------------------------

cdef inline int _needs_space(int kind, void* data, Py_ssize_t start, str literal) noexcept:
    """Whether the literal would fuse with the token before it (see the pure twin's
    ``_splice``: ``x-?`` with -1 must not become the comment ``x--1``)."""
    cdef Py_UCS4 before
    if start == 0:
        return 0
    before = PyUnicode_READ(kind, data, start - 1)
    if _identifier_char(before):
        return 1
    if before == 0x2D and PyUnicode_GET_LENGTH(literal) \
            and PyUnicode_READ(PyUnicode_KIND(literal), PyUnicode_DATA(literal), 0) == 0x2D:
        return 1
    return 0


cdef str _splice(_Plan plan, list literals):
    """The plan's SQL with each mark replaced by ``literals[mark.slot]``, built in one
    preallocated str."""
    cdef str sql = plan.sql
    cdef Marks* marks = &plan.marks
    cdef Py_ssize_t n = PyUnicode_GET_LENGTH(sql)
    cdef int kind = PyUnicode_KIND(sql)
    cdef void* data = PyUnicode_DATA(sql)
    cdef Py_ssize_t total = n, k, pos, at, length
    cdef Py_UCS4 maxchar = PyUnicode_MAX_CHAR_VALUE(sql), m
    cdef int out_kind
    cdef str literal
    cdef Mark* mark
    # First pass: the exact length and the widest kind, so the result is allocated once.
    # The widest of the parts' kinds keeps the str canonical: each part's widest
    # character lands in the output (the placeholders removed are ASCII).
    for k in range(marks.count):
        mark = &marks.items[k]
        literal = <str>literals[mark.slot]
        PyUnicode_READY(literal)
        total += PyUnicode_GET_LENGTH(literal) - (mark.end - mark.start)
        total += _needs_space(kind, data, mark.start, literal)
        m = PyUnicode_MAX_CHAR_VALUE(literal)
        if m > maxchar:
            maxchar = m
    cdef str out = PyUnicode_New(total, maxchar)
    cdef void* odata = PyUnicode_DATA(out)
    out_kind = PyUnicode_KIND(out)
    pos = 0
    at = 0
    for k in range(marks.count):
        mark = &marks.items[k]
        literal = <str>literals[mark.slot]
        _copy_chars(out_kind, odata, at, kind, data, pos, mark.start - pos)
        at += mark.start - pos
        if _needs_space(kind, data, mark.start, literal):
            PyUnicode_WRITE(out_kind, odata, at, 0x20)
            at += 1
        length = PyUnicode_GET_LENGTH(literal)
        _copy_chars(out_kind, odata, at, PyUnicode_KIND(literal), PyUnicode_DATA(literal),
                    0, length)
        at += length
        pos = mark.end
    _copy_chars(out_kind, odata, at, kind, data, pos, n - pos)
    return out


cdef list _render_all(object params):
    """Each value of a positional ``params``, rendered, in order."""
    if type(params) is tuple:
        return [render_literal(value) for value in <tuple>params]
    if type(params) is list:
        return [render_literal(value) for value in <list>params]
    return [render_literal(value) for value in params]


cdef str _merge_positional(str sql, object params):
    cdef _Plan plan = _plan_for(sql)
    cdef Py_ssize_t n = len(params)
    if plan.named or (plan.qmarks and plan.numbered):
        return _fail(sql, params)
    if plan.numbered:
        if not plan.complete or plan.highest != n:
            return _fail(sql, params)
    elif plan.qmarks != n:
        return _fail(sql, params)
    elif n == 0:
        return sql
    return _splice(plan, _render_all(params))


cdef str _merge_named(str sql, object params):
    cdef _Plan plan = _plan_for(sql)
    cdef list values
    cdef object name
    if plan.qmarks or plan.numbered:
        return _fail(sql, params)
    if type(params) is dict:
        # every name present and as many keys as names: no key goes unused
        if len(<dict>params) != len(plan.names):
            return _fail(sql, params)
        values = []
        for name in plan.names:
            if name not in <dict>params:
                return _fail(sql, params)
            values.append((<dict>params)[name])
    else:
        for name in plan.names:
            if name not in params:
                return _fail(sql, params)
        if set(params).difference(plan.names):
            return _fail(sql, params)
        values = [params[name] for name in plan.names]
    if not plan.names:
        return sql
    # rendered in first-use order, as the pure twin does (the same error comes first)
    return _splice(plan, [render_literal(value) for value in values])


cdef str _fail(object sql, object params):
    """Raise the pure twin's exception for a call the C checks found invalid."""
    _pure.merge_params(sql, params)
    # A driver defect, not the caller's: a PEP 249 InternalError, never an AssertionError
    raise InternalError(
        "scratchbird._compiled.literals refused parameters that the pure twin accepts")


def merge_params(sql, params):
    """``sql`` with its placeholders replaced by ``params`` rendered as SQL literals.

    ``params`` None returns ``sql`` untouched. A mapping fills ``:name`` placeholders; a
    list or tuple (any sequence but str and bytes) fills ``?`` or ``$1``..``$n``.
    Placeholders inside quotes, comments and dollar quotes are left alone.
    """
    if params is None:
        return sql
    if type(sql) is not str:  # a subclass (rare, and it could redefine ==), or not text
        return _pure.merge_params(sql, params)
    PyUnicode_READY(sql)
    cdef type t = type(params)
    if t is tuple or t is list:
        return _merge_positional(sql, params)
    if t is dict or isinstance(params, Mapping):
        return _merge_named(sql, params)
    if isinstance(params, (str, bytes, bytearray, memoryview)) or not isinstance(params, Sequence):
        return _fail(sql, params)
    return _merge_positional(sql, params)
