"""Type stubs for the compiled twin of ``scratchbird._pure.rowcodec`` (ext/rowcodec.pyx)."""
from decimal import Decimal
from typing import Any, Callable, Iterable, Optional, Protocol, Sequence, Tuple, Union

from typing_extensions import Buffer

__all__ = ["DEFAULT_NULL_MARKERS", "TextRowDecoder", "read_data_rows", "encode_data_row",
           "encode_data_row_frames"]

DEFAULT_NULL_MARKERS: Tuple[bytes, ...]
KIND_TEXT: int
KIND_BOOL: int
KIND_INT: int
KIND_DECIMAL: int
KIND_LOADER: int

Value = Union[None, bool, int, Decimal, str]

class _Reader(Protocol):
    """What read_data_rows uses of a FrameReader (either twin's)."""
    max_payload: int
    def contiguous(self) -> Tuple[Buffer, int, int]: ...
    def consume(self, n: int) -> None: ...
    def peek_type(self) -> Optional[int]: ...
    def next_frame(self) -> Any: ...

class _Rows(Protocol):
    def append(self, row: Tuple[Value, ...], /) -> None: ...

class TextRowDecoder:
    type_oids: Tuple[int, ...]
    null_markers: Tuple[bytes, ...]
    raw_text: bool
    kinds: Tuple[int, ...]
    loaders: Tuple[Optional[Callable[[str], Any]], ...]
    def __init__(self, type_oids: Iterable[int], null_markers: Iterable[Buffer] = ...,
                 raw_text: bool = ...,
                 loaders: Optional[Iterable[Optional[Callable[[str], Any]]]] = ...) -> None: ...
    @property
    def ncolumns(self) -> int: ...
    def decode_row(self, payload: Buffer) -> Tuple[Value, ...]: ...

def read_data_rows(reader: _Reader, decoder: TextRowDecoder, rows: _Rows, max_rows: int) -> int: ...
def encode_data_row(values: Sequence[Union[bytes, str, None]]) -> bytes: ...
def encode_data_row_frames(rows: Iterable[Sequence[Union[bytes, str, None]]], sequence: int,
                           attachment_id: Buffer = ..., txn_id: int = ...) -> Tuple[bytes, int]: ...
