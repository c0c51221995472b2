"""Type stubs for the compiled twin of ``scratchbird._pure.rowcodec`` (ext/rowcodec.pyx)."""
from typing import Any, Callable, Iterable, Optional, Sequence, Tuple, Union

from scratchbird._typing import Buffer, FrameSource, RowDecoder, RowSink

__all__ = ["DEFAULT_NULL_MARKERS", "TextRowDecoder", "read_data_rows", "encode_data_row",
           "encode_data_row_frames"]

DEFAULT_NULL_MARKERS: Tuple[bytes, ...]
KIND_TEXT: int
KIND_BOOL: int
KIND_INT: int
KIND_DECIMAL: int
KIND_LOADER: int

# a user loader: called with a value's text
Loader = Callable[[str], Any]

class TextRowDecoder:
    type_oids: Tuple[int, ...]
    null_markers: Tuple[bytes, ...]
    raw_text: bool
    kinds: Tuple[int, ...]
    loaders: Tuple[Optional[Loader], ...]
    def __init__(self, type_oids: Iterable[int], null_markers: Iterable[Buffer] = ...,
                 raw_text: bool = ...,
                 loaders: Optional[Iterable[Optional[Loader]]] = ...) -> None: ...
    @property
    def ncolumns(self) -> int: ...
    def decode_row(self, payload: Buffer) -> Tuple[Any, ...]: ...

def read_data_rows(reader: FrameSource, decoder: RowDecoder, rows: RowSink,
                   max_rows: int) -> int: ...
def encode_data_row(values: Sequence[Union[bytes, str, None]]) -> bytes: ...
def encode_data_row_frames(rows: Iterable[Sequence[Union[bytes, str, None]]], sequence: int,
                           attachment_id: Buffer = ..., txn_id: int = ...) -> Tuple[bytes, int]: ...
