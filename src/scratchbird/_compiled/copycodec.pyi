"""Type stub for the compiled twin of scratchbird._pure.copycodec (built from ext/copycodec.pyx)."""
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from scratchbird._typing import Buffer

__all__ = ["TAG_TEXT", "TAG_INT64", "TAG_BOOLEAN", "TAG_INT32", "TAG_UINT64", "TAG_REAL64",
           "TAG_BINARY", "TAG_NAMES", "SBNR_MAGIC", "sbnr_header", "encode_sbnr_packet",
           "encode_text_rows", "text_refusal", "decode_sbnr_packet", "encode_sbnr_columns",
           "decode_sbnr_columns"]

TAG_TEXT: int
TAG_INT64: int
TAG_BOOLEAN: int
TAG_INT32: int
TAG_UINT64: int
TAG_REAL64: int
TAG_BINARY: int
TAG_NAMES: Dict[int, str]
SBNR_MAGIC: bytes

# (validity, offsets, data, offset): one column's Arrow buffers (encode_sbnr_columns)
_Column = Tuple[Any, Any, Any, int]

def sbnr_header(tags: Sequence[int], names: Sequence[str]) -> bytes: ...
def text_refusal(raw: bytes) -> Optional[str]: ...
def encode_sbnr_packet(header: bytes, tags: Sequence[int], names: Sequence[str],
                       rows: Sequence[Sequence[Any]], start: int, max_bytes: int,
                       render: Callable[[Any], str], row_base: int = 0) -> Tuple[bytes, int]:
    """One SBNR v2 packet from ``rows[start:]``: ``(packet, next_start)``."""
def encode_text_rows(names: Sequence[str], rows: Sequence[Sequence[Any]], start: int,
                     max_bytes: int, render: Callable[[Any], str],
                     row_base: int = 0) -> Tuple[bytes, int]:
    """``name=value;...`` lines from ``rows[start:]``: ``(payload, next_start)``."""
def decode_sbnr_packet(payload: Buffer) -> Tuple[List[int], List[str], int, List[List[Any]]]: ...
def encode_sbnr_columns(header: bytes, tags: Sequence[int], names: Sequence[str],
                        columns: Sequence[_Column], start: int, stop: int,
                        max_bytes: int, row_base: int = 0) -> Tuple[bytes, int]:
    """One SBNR v2 packet from rows ``start:stop`` of Arrow buffers: ``(packet, next_row)``."""
def decode_sbnr_columns(payload: Buffer) -> Tuple[List[int], List[str], int,
                                                  List[Tuple[bytes, Optional[bytes], bytes]]]:
    """An SBNR v2 packet as Arrow-layout column buffers (validity, offsets, data)."""
