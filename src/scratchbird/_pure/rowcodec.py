"""DATA_ROW codec for text-value sessions (pure-Python twin of ``ext/rowcodec.pyx``).

Decoding is chosen once per column from the declared type code (REFERENCE 8.2-8.4),
never by looking at the bytes: 16 -> bool, 20 -> int, 1700 -> Decimal, anything
else -> str. On today's server those codes are hints from the first row only, so a
value that does not parse under its column's hint comes back as ``str`` for that value.

NULL policy (REFERENCE 12, topic 1): the null-bitmap bit and a length of -1 are always
None; values equal to one of ``null_markers`` (by default ``<NULL>``, ``NULL`` and the
empty string) are None too. ``raw_text=True`` returns every value as the server sent it.
"""
from __future__ import annotations

import re
import struct
from decimal import Decimal
from typing import (TYPE_CHECKING, Any, Callable, Iterable, Iterator, Optional, Sequence, Tuple,
                    Union)

from scratchbird._constants import DATA_ROW, OID_BOOL, OID_INT8, OID_NUMERIC, ZERO_UUID
from scratchbird.errors import DataError, ProtocolError
from scratchbird._pure.framing import encode_header

if TYPE_CHECKING:
    from scratchbird._typing import Buffer, FrameSource, RowDecoder, RowSink

# a user loader: called with a value's text
Loader = Callable[[str], Any]

__all__ = ["DEFAULT_NULL_MARKERS", "TextRowDecoder", "read_data_rows", "encode_data_row",
           "encode_data_row_frames"]

DEFAULT_NULL_MARKERS = (b"<NULL>", b"NULL", b"")

# converter kinds, chosen once per column
KIND_TEXT = 0
KIND_BOOL = 1
KIND_INT = 2
KIND_DECIMAL = 3
KIND_LOADER = 4      # a user loader (type adapter): called with the value's text

_KIND_FOR_OID = {OID_BOOL: KIND_BOOL, OID_INT8: KIND_INT, OID_NUMERIC: KIND_DECIMAL}
_TRUE = frozenset((b"t", b"true", b"1"))
_FALSE = frozenset((b"f", b"false", b"0"))
_INT_RE = re.compile(rb"[+-]?[0-9]+\Z")
# Unambiguous on purpose: ``[0-9]+\.?[0-9]*`` let a long digit run split two ways, and a
# hostile value of 10 000 digits and a letter took seconds to refuse (issue 7).
_DEC_RE = re.compile(rb"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z")
_U16x2 = struct.Struct("<HH")
_I32 = struct.Struct("<i")


def _text(raw: bytes, column: int) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"column {column}: value is not valid UTF-8 ({exc.reason} at byte {exc.start})") from None


def _load(loader: Loader, text: str, column: int) -> Any:
    try:
        return loader(text)
    except Exception as exc:
        raise DataError(f"column {column}: loader {getattr(loader, '__name__', loader)!s} "
                        f"failed: {type(exc).__name__}: {exc}") from exc


class TextRowDecoder:
    """Turns DATA_ROW payloads of a text-value result into tuples."""

    def __init__(self, type_oids: Iterable[int],
                 null_markers: Iterable[Buffer] = DEFAULT_NULL_MARKERS, raw_text: bool = False,
                 loaders: Optional[Iterable[Optional[Loader]]] = None) -> None:
        # Built into locals first, as the compiled twin: a failed re-initialisation
        # leaves the old state whole.
        oids = tuple(type_oids)
        markers = tuple(bytes(m) for m in null_markers)
        column_loaders: Tuple[Optional[Loader], ...] = (
            tuple(loaders) if loaders is not None else (None,) * len(oids))
        if len(column_loaders) != len(oids):
            raise ValueError("one loader (or None) per column")
        kinds = tuple(
            KIND_TEXT if raw_text
            else KIND_LOADER if loader is not None
            else _KIND_FOR_OID.get(oid, KIND_TEXT)
            for oid, loader in zip(oids, column_loaders))
        self.type_oids = oids
        self.null_markers = markers
        self.raw_text = bool(raw_text)
        self.loaders = column_loaders
        self.kinds = kinds

    @property
    def ncolumns(self) -> int:
        return len(self.kinds)

    def _convert(self, raw: bytes, kind: int, column: int) -> Any:
        if not self.raw_text and raw in self.null_markers:
            return None
        if kind == KIND_INT:
            if _INT_RE.match(raw):
                try:
                    return int(raw)
                except ValueError:  # more digits than sys.get_int_max_str_digits() allows
                    pass
        elif kind == KIND_BOOL:
            low = raw.lower()
            if low in _TRUE:
                return True
            if low in _FALSE:
                return False
        elif kind == KIND_LOADER:
            # KIND_LOADER: the column's loader is set
            return _load(self.loaders[column], _text(raw, column), column)  # type: ignore[arg-type]
        elif kind == KIND_DECIMAL:
            if _DEC_RE.match(raw):
                try:
                    return Decimal(raw.decode("ascii"))
                except ArithmeticError:  # exponent beyond the decimal module's range
                    pass
        return _text(raw, column)

    def decode_row(self, payload: Buffer) -> Tuple[Any, ...]:
        """One DATA_ROW payload (REFERENCE 4.6) to a tuple."""
        kinds, convert = self.kinds, self._convert
        return tuple(None if raw is None else convert(raw, kinds[i], i)
                     for i, raw in enumerate(data_row_values(payload, len(kinds))))


def data_row_values(payload: Buffer, ncolumns: int) -> Iterator[Optional[bytes]]:
    """The raw values of one DATA_ROW payload (REFERENCE 4.6), column by column: ``bytes``,
    or None for the null-bitmap bit and a length of -1. Every length is checked; a payload
    that breaks the layout raises ProtocolError when the walk reaches the fault, so a
    caller converting as it goes reports the first problem in column order, as the
    compiled decoders do. The pure decoders all read rows here."""
    n = len(payload)
    if n < 4:
        raise ProtocolError(f"DATA_ROW payload truncated: {n} bytes")
    ncols, nbitmap = _U16x2.unpack_from(payload, 0)
    if ncols != ncolumns:
        raise ProtocolError(
            f"DATA_ROW has {ncols} columns but the ROW_DESCRIPTION declared {ncolumns}")
    if nbitmap != (ncols + 7) // 8:
        raise ProtocolError(f"DATA_ROW null bitmap of {nbitmap} bytes for {ncols} columns")
    pos = 4 + nbitmap
    if pos > n:
        raise ProtocolError("DATA_ROW payload truncated inside the null bitmap")
    bitmap = payload[4:pos]
    for i in range(ncols):
        if bitmap[i >> 3] & (1 << (i & 7)):
            yield None
            continue
        if pos + 4 > n:
            raise ProtocolError(f"DATA_ROW payload truncated at column {i}")
        length = _I32.unpack_from(payload, pos)[0]
        pos += 4
        if length == -1:
            yield None
            continue
        if length < 0 or pos + length > n:
            raise ProtocolError(f"DATA_ROW column {i} length {length} runs past the payload")
        yield bytes(payload[pos:pos + length])
        pos += length
    if pos != n:
        raise ProtocolError(f"DATA_ROW has {n - pos} bytes after its last column")


def read_data_rows(reader: FrameSource, decoder: RowDecoder, rows: RowSink,
                   max_rows: int) -> int:
    """Decode consecutive complete DATA_ROW frames from ``reader`` into ``rows``.

    Stops at ``max_rows``, at the first frame of another type, or when the next frame is
    not complete yet; that frame stays in the reader. Returns the number of rows added.
    """
    count = 0
    while count < max_rows and reader.peek_type() == DATA_ROW:
        rows.append(decoder.decode_row(reader.next_frame().payload))
        count += 1
    return count


def encode_data_row(values: Sequence[Union[bytes, str, None]]) -> bytes:
    """DATA_ROW payload from a sequence of ``bytes`` (or ``str``) values; None is a bitmap NULL."""
    ncols = len(values)
    bitmap = bytearray((ncols + 7) // 8)
    parts = [b""]
    for i, value in enumerate(values):
        if value is None:
            bitmap[i >> 3] |= 1 << (i & 7)
            continue
        data = value.encode("utf-8") if isinstance(value, str) else value
        parts.append(_I32.pack(len(data)))
        parts.append(data)
    parts[0] = _U16x2.pack(ncols, len(bitmap)) + bytes(bitmap)
    return b"".join(parts)


def encode_data_row_frames(rows: Iterable[Sequence[Union[bytes, str, None]]], sequence: int,
                           attachment_id: Buffer = ZERO_UUID, txn_id: int = 0
                           ) -> Tuple[bytes, int]:
    """Whole DATA_ROW frames for many rows (the dev server's bulk path).

    Returns ``(frames_bytes, next_sequence)``.
    """
    out = []
    for row in rows:
        payload = encode_data_row(row)
        out.append(encode_header(DATA_ROW, len(payload), sequence, attachment_id, txn_id))
        out.append(payload)
        sequence += 1
    return b"".join(out), sequence
