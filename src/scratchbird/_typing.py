"""Type aliases shared across the package, for annotations only (mypy --strict).

Values crossing the DB-API are dynamic by nature (a row holds whatever the columns'
types decode to), so they are ``Any``; the aliases name what a thing is.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence, Tuple, Union

#: one decoded row, as the DB-API hands it out
Row = Tuple[Any, ...]

#: the parameters of one execution: positional (qmark/numeric) or named
Params = Union[Sequence[Any], Mapping[str, Any]]

#: bytes the codecs accept as input
Buffer = Union[bytes, bytearray, memoryview]

#: one PEP 249 ``description`` entry: name, type_code, display_size, internal_size,
#: precision, scale, null_ok
DescriptionItem = Tuple[str, Any, Any, Any, Any, Any, Any]

__all__ = ["Row", "Params", "Buffer", "DescriptionItem"]

# Appended for the codec twins and their stubs (issue 12): what the row readers
# (``read_data_rows`` of rowcodec, bincodec and arrowcodec, either twin) use of a
# FrameReader (either twin's), and of the list they append rows to.
from typing import Optional, Protocol  # noqa: E402


class FrameSource(Protocol):
    max_payload: int

    def contiguous(self) -> Tuple[Buffer, int, int]: ...

    def consume(self, n: int) -> None: ...

    def peek_type(self) -> Optional[int]: ...

    def next_frame(self) -> Any: ...


class RowSink(Protocol):
    def append(self, row: Row, /) -> None: ...


class RowDecoder(Protocol):
    """What ``read_data_rows`` (rowcodec, bincodec) asks of a row decoder: the compiled loops
    take their own decoder class's fast path and call ``decode_row`` on any other."""

    def decode_row(self, payload: Buffer) -> Any: ...
