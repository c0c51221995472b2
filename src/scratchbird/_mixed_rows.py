"""The slow, general row decoder: results that mix text and binary columns, or whose
binary columns have user loaders. Plain results never come here: all-text results use
``rowcodec.TextRowDecoder`` and all-binary ones ``bincodec.BinaryRowDecoder``, both
compiled. This one reads the DATA_ROW layout (REFERENCE 4.6) and hands each value to
the converter chosen for its column when the row description arrived."""
from __future__ import annotations

import struct

from scratchbird._impl import bincodec, rowcodec
from scratchbird._pure import rowcodec as _pure_rowcodec
from scratchbird.errors import DataError, ProtocolError

__all__ = ["MixedRowDecoder", "read_data_rows"]

_U16x2 = struct.Struct("<HH")
_I32 = struct.Struct("<i")


def _text_converter(oid, null_markers, raw_text, loader):
    # A one-column TextRowDecoder holds the text rules (NULL markers, hints, loaders).
    decoder = rowcodec.TextRowDecoder([oid], null_markers, raw_text,
                                      None if loader is None else [loader])

    def convert(raw):
        return decoder.decode_row(b"\x01\x00\x01\x00\x00" + _I32.pack(len(raw)) + raw)[0]
    return convert


def _binary_converter(index, column, loader, json_loads):
    if loader is not None:
        def load(raw):
            try:
                return loader(raw)
            except Exception as exc:
                raise DataError(f"column {index} ({column.name!r}): loader failed: "
                                f"{type(exc).__name__}: {exc}") from exc
        return load
    decoder = bincodec.BinaryRowDecoder([column], json_loads)

    def convert(raw):
        return decoder.decode_row(b"\x01\x00\x01\x00\x00" + _I32.pack(len(raw)) + raw)[0]
    return convert


class MixedRowDecoder:
    """Per-column converters: text columns by the text rules, binary ones by bincodec;
    a loader gets the text (text columns) or the raw bytes (binary columns)."""

    def __init__(self, columns, null_markers, raw_text=False, loaders=None, json_loads=None):
        loaders = loaders or (None,) * len(columns)
        self._convert = tuple(
            _binary_converter(i, col, loader, json_loads) if col.format == 1
            else _text_converter(col.type_oid, null_markers, raw_text, loader)
            for i, (col, loader) in enumerate(zip(columns, loaders)))

    @property
    def ncolumns(self):
        return len(self._convert)

    def decode_row(self, payload):
        n = len(payload)
        if n < 4:
            raise ProtocolError(f"DATA_ROW payload truncated: {n} bytes")
        ncols, nbitmap = _U16x2.unpack_from(payload, 0)
        if ncols != len(self._convert):
            raise ProtocolError(
                f"DATA_ROW has {ncols} columns but the ROW_DESCRIPTION declared {len(self._convert)}")
        pos = 4 + nbitmap
        if nbitmap != (ncols + 7) // 8 or pos > n:
            raise ProtocolError(f"DATA_ROW null bitmap of {nbitmap} bytes for {ncols} columns")
        bitmap = payload[4:pos]
        out = []
        for i, convert in enumerate(self._convert):
            if bitmap[i >> 3] & (1 << (i & 7)):
                out.append(None)
                continue
            if pos + 4 > n:
                raise ProtocolError(f"DATA_ROW payload truncated at column {i}")
            length = _I32.unpack_from(payload, pos)[0]
            pos += 4
            if length == -1:
                out.append(None)
                continue
            if length < 0 or pos + length > n:
                raise ProtocolError(f"DATA_ROW column {i} length {length} runs past the payload")
            out.append(convert(bytes(payload[pos:pos + length])))
            pos += length
        if pos != n:
            raise ProtocolError(f"DATA_ROW has {n - pos} bytes after its last column")
        return tuple(out)


# The pure frame loop: it only asks the decoder for decode_row().
read_data_rows = _pure_rowcodec.read_data_rows
