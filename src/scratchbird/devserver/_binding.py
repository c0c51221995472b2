"""Extended-protocol payloads and parameter substitution (REFERENCE 5, 8.6).

The real server does not bind parameters: it turns every BIND value into an SQL literal
and splices it into the statement text, replacing the k-th ``?`` outside quotes and
comments and every ``$n`` (5.2). This module does the same: payload parsers for PARSE,
BIND, DESCRIBE, EXECUTE and CLOSE, the literal rules of 8.6, the marker scanner, the
prepared-statement / portal stores with their LRU limits (5, "Limits"), and the P1 array
bind packet (5.8).
"""
from __future__ import annotations

import re
import struct
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Iterator, List, Optional, Sequence, Tuple
from uuid import UUID

__all__ = [
    "BindingError", "PreparedStatement", "BoundStore", "parse_parse", "parse_bind",
    "parse_describe", "parse_execute", "parse_close", "is_array_bind", "parse_array_bind",
    "scan_markers", "statement_separators", "count_parameters", "substitute", "to_literal",
    "formats_for",
    "rowset_insert_parts", "build_rowset_insert", "array_bind_sql",
]

# text format: these OIDs are inserted verbatim, without quotes (8.6)
TEXT_UNQUOTED_OIDS = frozenset((16, 20, 21, 23, 700, 701, 1700))
_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+|[0-9]+\.[0-9]*|\.[0-9]+)\Z")
_IDENT_START = re.compile(r"[A-Za-z_]")
_DOLLAR_TAG = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")
_DIGITS = re.compile(r"[0-9]+")

MAX_ENTRIES = 256
MAX_BYTES = 4 * 1024 * 1024


class BindingError(Exception):
    """An extended-protocol refusal: ERROR fields, never fatal, no READY (9.2)."""

    def __init__(self, sqlstate: str, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.sqlstate = sqlstate
        self.message = message
        self.detail = detail


# ---------------------------------------------------------------- payload parsers


class _Cur:
    __slots__ = ("data", "pos")

    def __init__(self, data) -> None:
        self.data = bytes(data)
        self.pos = 0

    def has(self, n: int) -> bool:
        return self.pos + n <= len(self.data)

    def take(self, n: int) -> Optional[bytes]:
        if n < 0 or not self.has(n):
            return None
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def u16(self) -> Optional[int]:
        raw = self.take(2)
        return None if raw is None else struct.unpack("<H", raw)[0]

    def u32(self) -> Optional[int]:
        raw = self.take(4)
        return None if raw is None else struct.unpack("<I", raw)[0]

    def lpstr(self) -> Optional[bytes]:
        n = self.u32()
        return None if n is None else self.take(n)


def _text(raw: Optional[bytes]) -> str:
    return (raw or b"").decode("utf-8", "replace")


@dataclass
class PreparedStatement:
    sql: str
    param_oids: List[int]
    size: int = 0


def parse_parse(payload) -> Tuple[str, str, List[int]]:
    """PARSE (5.1): name, SQL and declared OIDs; with none declared the count is inferred."""
    cur = _Cur(payload)
    name, sql, count = cur.lpstr(), cur.lpstr(), cur.u16()
    if name is None or sql is None or count is None:
        raise BindingError("08P01", "invalid PARSE payload")
    cur.u16()
    oids = []
    for _ in range(count):
        oid = cur.u32()
        oids.append(oid or 0)          # reads past the end give 0 (9.4)
    text = _text(sql)
    if not oids:
        oids = [0] * count_parameters(text)
    return _text(name), text, oids


def parse_bind(payload) -> Tuple[str, str, List[int], List[Optional[bytes]]]:
    """BIND (5.2): portal, statement, format codes and values (None = NULL)."""
    cur = _Cur(payload)
    portal, statement, nformats = cur.lpstr(), cur.lpstr(), cur.u16()
    if portal is None or statement is None or nformats is None:
        raise BindingError("08P01", "invalid BIND payload")
    formats = []
    for _ in range(nformats):
        code = cur.u16()
        if code is None:
            raise BindingError("08P01", "invalid BIND payload")
        formats.append(code)
    nvalues = cur.u16()
    if nvalues is None or cur.u16() is None:
        raise BindingError("08P01", "invalid BIND payload")
    values: List[Optional[bytes]] = []
    for _ in range(nvalues):
        raw = cur.take(4)
        if raw is None:
            raise BindingError("08P01", "invalid BIND payload")
        length = struct.unpack("<i", raw)[0]
        if length < 0:
            values.append(None)
            continue
        value = cur.take(length)
        if value is None:
            raise BindingError("08P01", "invalid BIND payload")
        values.append(value)
    return _text(portal), _text(statement), formats, values   # result formats are not read


def parse_describe(payload) -> Tuple[str, str]:
    """DESCRIBE (5.3): kind and name; a short payload reads as an empty name (9.4)."""
    data = bytes(payload)
    kind = chr(data[0]) if data else "S"
    cur = _Cur(data)
    cur.pos = 4
    return kind, _text(cur.lpstr())


parse_close = parse_describe        # CLOSE (5.5) has the same layout


def parse_execute(payload) -> Tuple[str, int, int]:
    """EXECUTE (5.4): portal, max_rows (ignored), optional flags (0x01 = autocommit)."""
    cur = _Cur(payload)
    portal = _text(cur.lpstr())
    max_rows = cur.u32() or 0
    flags = cur.u32() or 0
    return portal, max_rows, flags


# ---------------------------------------------------------------- markers


def _scan(sql: str) -> Iterator[Tuple[int, int, int]]:
    """Yield ``(start, end, number)`` for each marker or ``;`` outside quotes and comments.

    ``number`` is 0 for ``?``, n for ``$n`` and -1 for ``;``. Skips '...' and "..."
    (doubled quotes inside), ``--`` and ``/* */`` comments and ``$tag$`` dollar quotes.
    """
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch == "'" or ch == '"':
            j = i + 1
            while j < n:
                if sql[j] == ch:
                    if j + 1 < n and sql[j + 1] == ch:
                        j += 2
                        continue
                    break
                j += 1
            i = j + 1
        elif ch == "-" and sql.startswith("--", i):
            j = sql.find("\n", i)
            i = n if j < 0 else j + 1
        elif ch == "/" and sql.startswith("/*", i):
            j = sql.find("*/", i + 2)
            i = n if j < 0 else j + 2
        elif ch == "?" or ch == ";":
            yield i, i + 1, 0 if ch == "?" else -1
            i += 1
        elif ch == "$":
            m = _DIGITS.match(sql, i + 1)
            if m and (i == 0 or not (sql[i - 1].isalnum() or sql[i - 1] == "_")):
                yield i, m.end(), int(m.group())
                i = m.end()
                continue
            tag = _DOLLAR_TAG.match(sql, i)
            if tag and (i == 0 or not (sql[i - 1].isalnum() or sql[i - 1] == "_")):
                close = sql.find(tag.group(), tag.end())
                i = n if close < 0 else close + len(tag.group())
            else:
                i += 1
        else:
            i += 1


def scan_markers(sql: str) -> Iterator[Tuple[int, int, int]]:
    """``(start, end, number)`` of each parameter marker: 0 for ``?``, n for ``$n``."""
    return (item for item in _scan(sql) if item[2] >= 0)


def statement_separators(sql: str) -> int:
    """How many ``;`` stand outside quotes and comments (the server splits on them, 4.1)."""
    return sum(1 for item in _scan(sql) if item[2] < 0)


def count_parameters(sql: str) -> int:
    """The count PARSE infers: number of ``?`` or highest ``$n``, whichever is larger."""
    questions = highest = 0
    for _s, _e, number in scan_markers(sql):
        if number:
            highest = max(highest, number)
        else:
            questions += 1
    return max(questions, highest)


def substitute(sql: str, literals: Sequence[str]) -> str:
    """Replace the k-th ``?`` with ``literals[k]`` and every ``$n`` with ``literals[n-1]``.

    Markers without a value are left in place, so they fail at EXECUTE (12.A.17).
    """
    out: List[str] = []
    last = k = 0
    for start, end, number in scan_markers(sql):
        index = k if number == 0 else number - 1
        if number == 0:
            k += 1
        if 0 <= index < len(literals):
            out.append(sql[last:start])
            out.append(literals[index])
            last = end
    out.append(sql[last:])
    return "".join(out)


# ---------------------------------------------------------------- literals (8.6)


def formats_for(formats: Sequence[int], count: int) -> List[int]:
    """0 codes: binary for all; 1 code: for all; else per value, the last one repeating."""
    if not formats:
        return [1] * count
    if len(formats) == 1:
        return [formats[0]] * count
    return [formats[i] if i < len(formats) else formats[-1] for i in range(count)]


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _strip_length_prefix(raw: bytes) -> bytes:
    if len(raw) >= 4:
        declared = struct.unpack_from("<I", raw)[0]
        if declared <= len(raw) - 4:
            return raw[4:4 + declared]
    return raw


def to_literal(value: Optional[bytes], fmt: int, oid: int) -> str:
    """One BIND value as the SQL literal the server splices in (REFERENCE 8.6)."""
    if value is None:
        return "NULL"
    value = bytes(value)
    if fmt == 0:
        text = value.decode("utf-8", "replace")
        return text if oid in TEXT_UNQUOTED_OIDS else _quote(text)
    if oid == 16:
        return "TRUE" if value[:1] not in (b"", b"\x00") else "FALSE"
    if oid == 21 and len(value) >= 2:
        return str(struct.unpack_from("<h", value)[0])
    if oid == 23 and len(value) >= 4:
        return str(struct.unpack_from("<i", value)[0])
    if oid == 20 and len(value) >= 8:
        return str(struct.unpack_from("<q", value)[0])
    if oid == 700 and len(value) >= 4:
        return "%g" % struct.unpack_from("<f", value)[0]
    if oid == 701 and len(value) >= 8:
        return "%g" % struct.unpack_from("<d", value)[0]
    if oid == 2950 and len(value) == 16:
        return _quote(str(UUID(bytes=value)))
    text = _strip_length_prefix(value).decode("utf-8", "replace")
    if oid == 1700:
        return text
    if oid == 0 and _PLAIN_NUMBER.match(text):
        return text
    return _quote(text)


# ---------------------------------------------------------------- stores (5, "Limits")


class BoundStore:
    """Named entries with the server's limits: 256 entries and 4 MiB in total.

    Over either limit the least recently *stored* entry is evicted silently; use does
    not refresh it. One entry over 4 MiB is refused (ERROR 54000).
    """

    def __init__(self, what: str, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES):
        self.what = what
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._items: "OrderedDict[str, Tuple[object, int]]" = OrderedDict()
        self._bytes = 0

    def put(self, name: str, value: object, size: int) -> None:
        if size > self.max_bytes:
            raise BindingError("54000", f"{self.what} cache limit exceeded",
                               f"one {self.what} entry needs {size} bytes (limit {self.max_bytes})")
        self.pop(name)
        self._items[name] = (value, size)
        self._bytes += size
        while len(self._items) > self.max_entries or self._bytes > self.max_bytes:
            _old, (_v, old_size) = self._items.popitem(last=False)
            self._bytes -= old_size

    def get(self, name: str):
        item = self._items.get(name)
        return None if item is None else item[0]

    def pop(self, name: str) -> None:
        item = self._items.pop(name, None)
        if item is not None:
            self._bytes -= item[1]

    def values(self):
        return [v for v, _s in self._items.values()]

    def clear(self) -> None:
        self._items.clear()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._items)


# ---------------------------------------------------------------- array bind (5.8)

_ROWSET_INSERT = re.compile(
    r"\s*(INSERT\s+INTO\s+[^()]+?\s*\([^()]*\)\s*VALUES\s*)\(([^()]*)\)\s*;?\s*\Z",
    re.IGNORECASE | re.DOTALL)
_MARKER_ITEM = re.compile(r"\s*(?:\?|\$[0-9]+)\s*\Z")


def rowset_insert_parts(sql: str) -> Optional[Tuple[str, str]]:
    """``(prefix, values_group)`` if ``sql`` is a prepared rowset INSERT (5.1), else None."""
    m = _ROWSET_INSERT.match(sql)
    if not m or not all(_MARKER_ITEM.match(item) for item in m.group(2).split(",")):
        return None
    return m.group(1), m.group(2)


def build_rowset_insert(sql: str, rows: Sequence[Sequence[str]]) -> str:
    """One multi-row INSERT for an array-bound rowset INSERT statement."""
    parts = rowset_insert_parts(sql)
    assert parts is not None
    prefix, group = parts
    return prefix + ", ".join("(" + substitute(group, row) + ")" for row in rows)


def array_bind_sql(packet: "ArrayBind", statements: Sequence[PreparedStatement]) -> str:
    """The multi-row INSERT for an array bind: the target is the only prepared rowset
    INSERT with the packet's parameter count (5.8)."""
    targets = [s for s in statements
               if len(s.param_oids) == packet.parameter_count and rowset_insert_parts(s.sql)]
    if not targets:
        raise BindingError("08P01", "SBWP.ARRAY_BIND.STATEMENT_NOT_FOUND",
                           "no prepared rowset INSERT matches the array bind packet")
    if len(targets) > 1:
        raise BindingError("08P01", "SBWP.ARRAY_BIND.STATEMENT_AMBIGUOUS",
                           "several prepared rowset INSERTs match the array bind packet")
    stmt = targets[0]
    rows = [[to_literal(value, fmt, stmt.param_oids[i]) for i, (value, fmt) in enumerate(row)]
            for row in packet.rows]
    return build_rowset_insert(stmt.sql, rows)


def is_array_bind(payload) -> bool:
    """A P1 ParameterDataPacket starts ``u16 1, u8 0 (bind request), u8 1 (array rows)``."""
    data = bytes(payload[:4])
    return data == b"\x01\x00\x00\x01"


@dataclass
class ArrayBind:
    parameter_count: int
    rows: List[List[Tuple[Optional[bytes], int]]] = field(default_factory=list)  # (value, fmt)


def _array_error(code: str, detail: str) -> BindingError:
    return BindingError("08P01", code, detail)


def parse_array_bind(payload) -> ArrayBind:
    """Decode a ParameterDataPacket (5.8). Raises BindingError with SBWP.ARRAY_BIND.* codes."""
    data = bytes(payload)
    if len(data) < 104:
        raise _array_error("SBWP.ARRAY_BIND.PACKET_TRUNCATED", "array bind header is truncated")
    flags, = struct.unpack_from("<I", data, 4)
    nparams, nrows, slot_bytes, reserved = struct.unpack_from("<IIII", data, 40)
    if flags or reserved:
        raise _array_error("SBWP.ARRAY_BIND.FLAGS_INVALID", "array bind flags must be zero")
    if nrows < 1 or nparams < 1:
        raise _array_error("SBWP.ARRAY_BIND.SHAPE_INVALID", "array bind needs rows and parameters")
    cur = _Cur(data)
    cur.pos = 104
    for _ in range(nparams):
        head = cur.take(4 + 4 + 144 + 8)
        if head is None:
            raise _array_error("SBWP.ARRAY_BIND.PACKET_TRUNCATED", "slot descriptor truncated")
        ordinal, bind_flags = struct.unpack_from("<I", head)[0], head[5]
        if ordinal < 1 or bind_flags > 0x0F:
            raise _array_error("SBWP.ARRAY_BIND.SLOT_INVALID", "slot descriptor is invalid")
        if cur.take(1) is None or cur.lpstr() is None:
            raise _array_error("SBWP.ARRAY_BIND.PACKET_TRUNCATED", "slot name truncated")
    if cur.pos - 104 != slot_bytes:
        # the live server's code and text (captures/16_array_bind.json, REFERENCE 12.D)
        raise _array_error("NATIVE_WIRE.PARAMETER.SLOT_BYTES_MISMATCH",
                           "invalid array-bind parameter data packet")
    out = ArrayBind(nparams)
    for _ in range(nrows):
        if cur.u32() is None:
            raise _array_error("SBWP.ARRAY_BIND.PACKET_TRUNCATED", "row header truncated")
        if cur.u32() != nparams:
            raise _array_error("SBWP.ARRAY_BIND.VALUE_COUNT_MISMATCH",
                               "row value_count differs from parameter_count")
        row: List[Tuple[Optional[bytes], int]] = [(None, 0)] * nparams
        for _c in range(nparams):
            head = cur.take(16)
            if head is None:
                raise _array_error("SBWP.ARRAY_BIND.PACKET_TRUNCATED", "cell truncated")
            slot, state, encoding, pflags, length = struct.unpack("<IBBHQ", head)
            value = cur.take(length)
            if value is None or not 1 <= slot <= nparams or pflags or state > 1 \
                    or (state == 1 and length):
                raise _array_error("SBWP.ARRAY_BIND.CELL_INVALID", "array bind cell is invalid")
            row[slot - 1] = (None if state == 1 else value, 0 if encoding == 1 else 1)
        out.rows.append(row)
    if cur.pos != len(data):
        raise _array_error("SBWP.ARRAY_BIND.TRAILING_BYTES", "array bind packet has trailing bytes")
    return out
