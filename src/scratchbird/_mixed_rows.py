"""The slow, general row decoder: results that mix text and binary columns, or whose
binary columns have user loaders. Plain results never come here: all-text results use
``rowcodec.TextRowDecoder`` and all-binary ones ``bincodec.BinaryRowDecoder``, both
compiled. This one reads the DATA_ROW layout (REFERENCE 4.6) and hands each value to
the converter chosen for its column when the row description arrived."""
from __future__ import annotations

import struct
from typing import TYPE_CHECKING, Any, Callable, Optional, Sequence, Tuple

from scratchbird._impl import bincodec, rowcodec
from scratchbird._pure import rowcodec as _pure_rowcodec
from scratchbird.errors import DataError

if TYPE_CHECKING:
    from scratchbird._server_messages import Column
    from scratchbird._typing import Buffer

__all__ = ["MixedRowDecoder", "read_data_rows"]

_I32 = struct.Struct("<i")


#: turns one column's raw bytes into its value
_Converter = Callable[[bytes], Any]


def _text_converter(oid: int, null_markers: Sequence[bytes], raw_text: bool,
                    loader: Optional[Callable[[Any], Any]]) -> _Converter:
    # A one-column TextRowDecoder holds the text rules (NULL markers, hints, loaders).
    decoder = rowcodec.TextRowDecoder([oid], null_markers, raw_text,
                                      None if loader is None else [loader])

    def convert(raw: bytes) -> Any:
        return decoder.decode_row(b"\x01\x00\x01\x00\x00" + _I32.pack(len(raw)) + raw)[0]
    return convert


def _binary_converter(index: int, column: Column, loader: Optional[Callable[[Any], Any]],
                      json_loads: Optional[Callable[[Any], Any]]) -> _Converter:
    if loader is not None:
        def load(raw: bytes) -> Any:
            try:
                return loader(raw)
            except Exception as exc:
                raise DataError(f"column {index} ({column.name!r}): loader failed: "
                                f"{type(exc).__name__}: {exc}") from exc
        return load
    decoder = bincodec.BinaryRowDecoder([column], json_loads)

    def convert(raw: bytes) -> Any:
        return decoder.decode_row(b"\x01\x00\x01\x00\x00" + _I32.pack(len(raw)) + raw)[0]
    return convert


class MixedRowDecoder:
    """Per-column converters: text columns by the text rules, binary ones by bincodec;
    a loader gets the text (text columns) or the raw bytes (binary columns)."""

    def __init__(self, columns: Sequence[Column], null_markers: Sequence[bytes],
                 raw_text: bool = False,
                 loaders: Optional[Sequence[Optional[Callable[[Any], Any]]]] = None,
                 json_loads: Optional[Callable[[Any], Any]] = None) -> None:
        loaders = loaders or (None,) * len(columns)
        self._convert = tuple(
            _binary_converter(i, col, loader, json_loads) if col.format == 1
            else _text_converter(col.type_oid, null_markers, raw_text, loader)
            for i, (col, loader) in enumerate(zip(columns, loaders)))

    @property
    def ncolumns(self) -> int:
        return len(self._convert)

    def decode_row(self, payload: Buffer) -> Tuple[Any, ...]:
        values = _pure_rowcodec.data_row_values(payload, len(self._convert))
        return tuple(None if raw is None else convert(raw)
                     for convert, raw in zip(self._convert, values))


# The pure frame loop: it only asks the decoder for decode_row().
read_data_rows = _pure_rowcodec.read_data_rows
