"""COPY FROM STDIN row encoders (pure twin of ``ext/copycodec.pyx``; REFERENCE 7.8, 11.22).

Two encodings of Python rows (tuples or lists), one COPY_DATA payload per call:

- ``encode_sbnr_packet``: one SBNR v2 packet (binary COPY, format 1). The descriptor (type
  tags and column names) is prebuilt once per COPY by ``sbnr_header``; every packet of a
  COPY carries the same one, as the server requires (12.D).
- ``encode_text_rows``: ``name=value;...`` lines (text COPY, format 0). Text COPY has no
  escaping, so a value it cannot carry is refused with a DataError naming the row and
  column, before anything of its payload is returned.

Both take ``rows[start:]`` and stop before the row that would take the payload past
``max_bytes`` (at least one row is always taken); they return ``(payload, next_start)``.
A single row that would exceed the 64 MiB frame limit (REFERENCE 2) is a DataError.
Values other than the built-in scalars are turned into text by ``render(value) -> str``
(the bulk layer's renderer); ``row_base`` numbers rows in messages (rows before this call).
"""
from __future__ import annotations

import struct
from typing import TYPE_CHECKING, Any, Callable, List, Optional, Sequence, Tuple

from scratchbird._constants import MAX_PAYLOAD
from scratchbird.errors import DataError

if TYPE_CHECKING:
    from scratchbird._typing import Buffer

# (validity, offsets, data, offset): one column's Arrow buffers (encode_sbnr_columns)
_Column = Tuple[Any, Any, Any, int]

__all__ = ["TAG_TEXT", "TAG_INT64", "TAG_BOOLEAN", "TAG_INT32", "TAG_UINT64", "TAG_REAL64",
           "TAG_BINARY", "TAG_NAMES", "SBNR_MAGIC", "sbnr_header", "encode_sbnr_packet",
           "encode_text_rows", "text_refusal", "decode_sbnr_packet", "encode_sbnr_columns",
           "decode_sbnr_columns"]

# SBNR v2 type tags (REFERENCE 7.8)
TAG_TEXT = 1
TAG_INT64 = 2
TAG_BOOLEAN = 3
TAG_INT32 = 4
TAG_UINT64 = 5
TAG_REAL64 = 6
TAG_BINARY = 7
TAG_NAMES = {TAG_TEXT: "text", TAG_INT64: "int64", TAG_BOOLEAN: "boolean", TAG_INT32: "int32",
             TAG_UINT64: "uint64", TAG_REAL64: "real64", TAG_BINARY: "binary"}

SBNR_MAGIC = b"SBNR"
_HEAD = struct.Struct("<4sHHQI")     # magic, version 2, flags 0, row_count, column_count
_Q = struct.Struct("<q")
_QU = struct.Struct("<Q")
_I = struct.Struct("<i")
_U32 = struct.Struct("<I")
_D = struct.Struct("<d")
_WHITESPACE = b" \t\n\r\v\f"
_NULL_WORDS = ("null", "<null>")


def sbnr_header(tags: Sequence[int], names: Sequence[str]) -> bytes:
    """The packet head with row_count 0 (patched per packet): magic, version 2, flags 0,
    column count, one tag per column, then the names as lpstr (REFERENCE 7.8)."""
    if not names or len(tags) != len(names):
        raise DataError("an SBNR packet needs one type tag per column and at least one column")
    out = [_HEAD.pack(SBNR_MAGIC, 2, 0, 0, len(names))]
    for tag in tags:
        if tag not in TAG_NAMES:
            raise DataError(f"unknown SBNR type tag {tag!r}")
    out.append(bytes(tags))
    for name in names:
        raw = name.encode("utf-8")
        if not raw:
            raise DataError("SBNR column names cannot be empty")
        out.append(_U32.pack(len(raw)) + raw)
    return b"".join(out)


def _where(row_no: int, name: str) -> str:
    return f"COPY row {row_no}, column {name!r}"


def _type_error(value: object, tag: int, row_no: int, name: str) -> DataError:
    return DataError(f"{_where(row_no, name)}: a {type(value).__name__} cannot be sent in an "
                     f"SBNR {TAG_NAMES[tag]} column (set the column's type with copy.set_types)")


def _row_fits(size: int, max_bytes: int, index: int, start: int, row_no: int) -> bool:
    """Whether the packet may take row ``index`` and grow to ``size`` bytes: not past
    ``max_bytes`` unless it is the packet's first row; a row no frame can carry (REFERENCE
    2: 64 MiB) raises DataError."""
    if size > max_bytes and index > start:
        return False
    if size > MAX_PAYLOAD:
        raise DataError(f"COPY row {row_no} does not fit in one 64 MiB COPY_DATA frame")
    return True


def _row_values(row: Any, ncols: int, row_no: int) -> Sequence[Any]:
    if not isinstance(row, (tuple, list)):
        raise DataError(f"COPY row {row_no}: a row must be a tuple or a list, not "
                        f"{type(row).__name__}")
    if len(row) != ncols:
        raise DataError(f"COPY row {row_no} has {len(row)} values; the COPY has {ncols} columns")
    return row


def _text_bytes(value: Any, render: Callable[[Any], str], row_no: int, name: str) -> bytes:
    if type(value) is not str:
        value = render(value)
        if type(value) is not str:
            raise DataError(f"{_where(row_no, name)}: the renderer returned "
                            f"{type(value).__name__}, not str")
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise DataError(f"{_where(row_no, name)}: the text is not valid UTF-8 "
                        f"({exc.reason})") from None


def _sbnr_value(value: Any, tag: int, render: Callable[[Any], str], row_no: int,
                name: str) -> bytes:
    t = type(value)
    if tag == TAG_TEXT:
        raw = _text_bytes(value, render, row_no, name)
        return _U32.pack(len(raw)) + raw
    if tag == TAG_BINARY:
        if t is bytes or t is bytearray or t is memoryview:
            raw = bytes(value)
            return _U32.pack(len(raw)) + raw
        raise _type_error(value, tag, row_no, name)
    if tag == TAG_BOOLEAN:
        if t is bool:
            return b"\x01" if value else b"\x00"
        raise _type_error(value, tag, row_no, name)
    if tag == TAG_REAL64:
        if t is float:
            return _D.pack(value)
        if t is int:
            as_float = float(value) if -(1 << 1023) < value < (1 << 1023) else None
            if as_float is None or int(as_float) != value:
                raise DataError(f"{_where(row_no, name)}: the int {value} has no exact real64 value")
            return _D.pack(as_float)
        raise _type_error(value, tag, row_no, name)
    if t is not int:
        raise _type_error(value, tag, row_no, name)
    if tag == TAG_INT64:
        if -(1 << 63) <= value < (1 << 63):
            return _Q.pack(value)
    elif tag == TAG_INT32:
        if -(1 << 31) <= value < (1 << 31):
            return _I.pack(value)
    elif value >= 0 and value < (1 << 64):    # TAG_UINT64
        return _QU.pack(value)
    raise DataError(f"{_where(row_no, name)}: {value} is out of range for SBNR {TAG_NAMES[tag]}")


def encode_sbnr_packet(header: bytes, tags: Sequence[int], names: Sequence[str],
                       rows: Sequence[Sequence[Any]], start: int, max_bytes: int,
                       render: Callable[[Any], str], row_base: int = 0) -> Tuple[bytes, int]:
    """One SBNR v2 packet from ``rows[start:]``: ``(packet, next_start)``."""
    ncols = len(tags)
    nbitmap = (ncols + 7) >> 3
    parts = [header]
    size = len(header)
    index = start
    end = len(rows)
    while index < end:
        row_no = row_base + index - start + 1
        row = _row_values(rows[index], ncols, row_no)
        bitmap = bytearray(nbitmap)
        values = []
        for k in range(ncols):
            value = row[k]
            if value is None:
                bitmap[k >> 3] |= 1 << (k & 7)
                continue
            values.append(_sbnr_value(value, tags[k], render, row_no, names[k]))
        encoded = bytes(bitmap) + b"".join(values)
        if not _row_fits(size + len(encoded), max_bytes, index, start, row_no):
            break
        parts.append(encoded)
        size += len(encoded)
        index += 1
    return _packet(parts, index - start), index


def text_refusal(raw: bytes) -> Optional[str]:
    """Why text COPY cannot carry the value ``raw`` (its UTF-8), or None (REFERENCE 7.8:
    no escaping; 12.A.1 and 12.B.7.7: NULL and <NULL> in any case mean NULL)."""
    if b";" in raw:
        return "the value contains ';', which ends a field in text COPY (no escaping)"
    if b"\n" in raw or b"\r" in raw:
        return "the value contains a line break, which ends a row in text COPY"
    if raw and (raw[0] in _WHITESPACE or raw[-1] in _WHITESPACE):
        return "the value has leading or trailing whitespace, which text COPY trims"
    if len(raw) in (4, 6) and raw.decode("ascii", "replace").lower() in _NULL_WORDS:
        return f"the string {raw.decode()!r} would be read as NULL by text COPY"
    return None


def encode_text_rows(names: Sequence[str], rows: Sequence[Sequence[Any]], start: int,
                     max_bytes: int, render: Callable[[Any], str],
                     row_base: int = 0) -> Tuple[bytes, int]:
    """``name=value;...`` lines from ``rows[start:]``: ``(payload, next_start)``.
    None is sent as ``NULL``; a value text COPY cannot carry raises DataError."""
    ncols = len(names)
    prefixes = [((";" if k else "") + name + "=").encode("utf-8") for k, name in enumerate(names)]
    parts = []
    size = 0
    index = start
    end = len(rows)
    while index < end:
        row_no = row_base + index - start + 1
        row = _row_values(rows[index], ncols, row_no)
        line = []
        for k in range(ncols):
            value = row[k]
            line.append(prefixes[k])
            if value is None:
                line.append(b"NULL")
                continue
            if type(value) is bool:
                raw = b"true" if value else b"false"
            elif type(value) is int:
                raw = str(value).encode()
            else:
                raw = _text_bytes(value, render, row_no, names[k])
                why = text_refusal(raw)
                if why is not None:
                    raise DataError(f"{_where(row_no, names[k])}: {why}; use binary COPY")
            line.append(raw)
        line.append(b"\n")
        encoded = b"".join(line)
        if not _row_fits(size + len(encoded), max_bytes, index, start, row_no):
            break
        parts.append(encoded)
        size += len(encoded)
        index += 1
    return b"".join(parts), index


def decode_sbnr_packet(payload: Buffer) -> Tuple[List[int], List[str], int, List[List[Any]]]:
    """An SBNR v2 packet as ``(tags, names, row_count, columns)``: one list of values per
    column (None for NULL; str, int, bool, float or bytes by tag). Raises ValueError on
    any malformed byte: the dev server answers it with DATA_ROW_INVALID (REFERENCE 7.8)."""
    data = bytes(payload)
    if len(data) < 20:
        raise ValueError("SBNR packet shorter than its 20-byte head")
    magic, version, flags, nrows, ncols = _HEAD.unpack_from(data, 0)
    if magic != SBNR_MAGIC or version != 2 or flags != 0 or nrows < 1 or ncols < 1:
        raise ValueError("bad SBNR head (magic, version 2, flags 0, rows >= 1, columns >= 1)")
    pos = 20
    if pos + ncols > len(data):
        raise ValueError("SBNR type tags truncated")
    tags = list(data[pos:pos + ncols])
    if any(t not in TAG_NAMES for t in tags):
        raise ValueError("unknown SBNR type tag")
    pos += ncols
    names = []
    for _ in range(ncols):
        if pos + 4 > len(data):
            raise ValueError("SBNR column name truncated")
        (n,) = _U32.unpack_from(data, pos)
        if n == 0 or pos + 4 + n > len(data):
            raise ValueError("SBNR column name empty or truncated")
        names.append(data[pos + 4:pos + 4 + n].decode("utf-8"))
        pos += 4 + n
    columns: List[List[Any]] = [[] for _ in range(ncols)]
    nbitmap = (ncols + 7) >> 3
    fixed = {TAG_INT64: (_Q, 8), TAG_INT32: (_I, 4), TAG_UINT64: (_QU, 8), TAG_REAL64: (_D, 8)}
    for _ in range(nrows):
        if pos + nbitmap > len(data):
            raise ValueError("SBNR row truncated")
        bitmap = data[pos:pos + nbitmap]
        pos += nbitmap
        for k in range(ncols):
            out = columns[k]
            if bitmap[k >> 3] & (1 << (k & 7)):
                out.append(None)
                continue
            tag = tags[k]
            if tag == TAG_TEXT or tag == TAG_BINARY:
                if pos + 4 > len(data):
                    raise ValueError("SBNR value truncated")
                (n,) = _U32.unpack_from(data, pos)
                if pos + 4 + n > len(data):
                    raise ValueError("SBNR value truncated")
                raw = data[pos + 4:pos + 4 + n]
                out.append(raw.decode("utf-8") if tag == TAG_TEXT else raw)
                pos += 4 + n
            elif tag == TAG_BOOLEAN:
                if pos + 1 > len(data) or data[pos] > 1:
                    raise ValueError("SBNR boolean truncated or not 0/1")
                out.append(data[pos] == 1)
                pos += 1
            else:
                fmt, size = fixed[tag]
                if pos + size > len(data):
                    raise ValueError("SBNR value truncated")
                out.append(fmt.unpack_from(data, pos)[0])
                pos += size
    if pos != len(data):
        raise ValueError("SBNR packet has bytes after its last row")
    return tags, names, nrows, columns


_WIDTH = {TAG_INT64: 8, TAG_INT32: 4, TAG_UINT64: 8, TAG_REAL64: 8}


def _bit(buffer: memoryview, index: int) -> bool:
    return bool(buffer[index >> 3] & (1 << (index & 7)))


def _check_column(k: int, tag: int, column: _Column, stop: int) -> None:
    validity, offsets, data, offset = column
    end = offset + stop
    if validity is not None and len(validity) * 8 < end:
        raise DataError(f"column {k}: the validity bitmap is shorter than the rows")
    if tag in (TAG_TEXT, TAG_BINARY):
        if offsets is None or len(offsets) < (end + 1) * 4:
            raise DataError(f"column {k}: the offsets buffer is shorter than the rows")
    elif tag == TAG_BOOLEAN:
        if len(data) * 8 < end:
            raise DataError(f"column {k}: the boolean bitmap is shorter than the rows")
    elif len(data) < end * _WIDTH[tag]:
        raise DataError(f"column {k}: the data buffer is shorter than the rows")


def encode_sbnr_columns(header: bytes, tags: Sequence[int], names: Sequence[str],
                        columns: Sequence[_Column], start: int, stop: int,
                        max_bytes: int, row_base: int = 0) -> Tuple[bytes, int]:
    """One SBNR v2 packet from rows ``start:stop`` of columnar data: ``columns`` holds one
    ``(validity, offsets, data, offset)`` per column, Arrow's buffers (anything with the
    buffer protocol; validity may be None): little-endian fixed-width values for the
    numeric tags, a bitmap for boolean, int32 offsets + bytes for text and binary.
    Returns ``(packet, next_row)``; the window and frame limits as ``encode_sbnr_packet``."""
    ncols = len(tags)
    if ncols < 1 or len(columns) != ncols or len(names) != ncols:
        raise DataError("an SBNR packet needs one type tag per column and at least one column")
    views: List[_Column] = []
    for k, (tag, source) in enumerate(zip(tags, columns)):
        validity, offsets, data, offset = source
        column = (None if validity is None else memoryview(validity).cast("B"),
                  None if offsets is None else memoryview(offsets).cast("B"),
                  memoryview(data).cast("B"), offset)
        _check_column(k, tag, column, stop)
        views.append(column)
    nbitmap = (ncols + 7) >> 3
    parts = [header]
    size = len(header)
    row = start
    while row < stop:
        bitmap = bytearray(nbitmap)
        values = []
        for k in range(ncols):
            validity, offsets, data, offset = views[k]
            i = offset + row
            if validity is not None and not _bit(validity, i):
                bitmap[k >> 3] |= 1 << (k & 7)
                continue
            tag = tags[k]
            if tag in (TAG_TEXT, TAG_BINARY):
                o0, o1 = struct.unpack_from("<ii", offsets, i * 4)
                if not 0 <= o0 <= o1 <= len(data):
                    raise DataError(f"column {k}: offsets {o0}..{o1} outside the data buffer")
                values.append(_U32.pack(o1 - o0) + bytes(data[o0:o1]))
            elif tag == TAG_BOOLEAN:
                values.append(b"\x01" if _bit(data, i) else b"\x00")
            else:
                width = _WIDTH[tag]
                values.append(bytes(data[i * width:(i + 1) * width]))
        encoded = bytes(bitmap) + b"".join(values)
        if not _row_fits(size + len(encoded), max_bytes, row, start, row_base + row - start + 1):
            break
        parts.append(encoded)
        size += len(encoded)
        row += 1
    return _packet(parts, row - start), row


def _packet(parts: List[bytes], rows: int) -> bytes:
    """The SBNR packet: header, rows, and the header's row_count set to ``rows`` (7.8)."""
    packet = bytearray(b"".join(parts))
    struct.pack_into("<Q", packet, 8, rows)
    return bytes(packet)


def decode_sbnr_columns(payload: Buffer) -> Tuple[List[int], List[str], int,
                                                   List[Tuple[bytes, Optional[bytes], bytes]]]:
    """An SBNR v2 packet as Arrow-layout column buffers, for bulk ingestion (the dev
    server): ``(tags, names, row_count, columns)`` with one ``(validity, offsets, data)``
    per column as bytes: validity bit set = present (Arrow's sense), int32 offsets for text
    and binary (else None), little-endian values (zeros under NULL), a bitmap for boolean.
    Same checks and ValueErrors as ``decode_sbnr_packet``."""
    tags, names, nrows, columns = decode_sbnr_packet(payload)
    out: List[Tuple[bytes, Optional[bytes], bytes]] = []
    nbytes = (nrows + 7) >> 3
    for tag, values in zip(tags, columns):
        validity = bytearray(nbytes)
        for i, value in enumerate(values):
            if value is not None:
                validity[i >> 3] |= 1 << (i & 7)
        if tag in (TAG_TEXT, TAG_BINARY):
            offsets, data, pos = [0], [], 0
            for value in values:
                if value is not None:
                    raw = value.encode("utf-8") if tag == TAG_TEXT else value
                    data.append(raw)
                    pos += len(raw)
                offsets.append(pos)
            out.append((bytes(validity), struct.pack(f"<{nrows + 1}i", *offsets), b"".join(data)))
        elif tag == TAG_BOOLEAN:
            bits = bytearray(nbytes)
            for i, value in enumerate(values):
                if value:
                    bits[i >> 3] |= 1 << (i & 7)
            out.append((bytes(validity), None, bytes(bits)))
        else:
            fmt = {TAG_INT64: "q", TAG_INT32: "i", TAG_UINT64: "Q", TAG_REAL64: "d"}[tag]
            out.append((bytes(validity), None,
                        struct.pack(f"<{nrows}{fmt}", *[0 if v is None else v for v in values])))
    return tags, names, nrows, out
