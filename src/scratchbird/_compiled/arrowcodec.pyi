"""Type stubs for the compiled twin of ``scratchbird._pure.arrowcodec`` (ext/arrowcodec.pyx)."""
from typing import Any, Iterable, List, Optional, Sequence, Tuple

from scratchbird._typing import Buffer, FrameSource

__all__ = ["ArrowSink", "read_data_rows", "plan_columns", "parse_numeric_as",
           "NUMERIC_AS_DEFAULT", "export_stream"]

NUMERIC_AS_DEFAULT: str
Plan = Tuple[int, str, int, int, int, bool, Any, str]

class _ExportedColumn:
    """One C-built Arrow array, exported once through the Arrow PyCapsule interface.
    Compiled only (named ExportedColumn at run time): the pure twin hands out pyarrow
    arrays in its place, so ``take()`` and ``export_stream`` say ``Any`` for a column."""
    format: str
    length: int
    null_count: int
    def __len__(self) -> int: ...
    def __arrow_c_array__(self, requested_schema: Optional[object] = ...) -> Tuple[object, object]: ...

class ArrowSink:
    columns: Tuple[Any, ...]
    plans: Tuple[Plan, ...]
    null_markers: Tuple[bytes, ...]
    raw_text: bool
    def __init__(self, columns: Iterable[Any], null_markers: Iterable[Buffer] = ...,
                 raw_text: bool = ..., numeric_as: str = ...) -> None: ...
    def __len__(self) -> int: ...
    @property
    def ncolumns(self) -> int: ...
    def decode_row(self, payload: Buffer) -> None: ...
    def discard(self) -> None: ...
    # One column per result column: an _ExportedColumn (compiled) or a pyarrow array (pure),
    # or a list of Python values for a K_OBJECT column.
    def take(self) -> List[Any]: ...

def plan_columns(columns: Sequence[Any], raw_text: bool = ...,
                 numeric_as: str = ...) -> Tuple[Plan, ...]: ...
def parse_numeric_as(numeric_as: str) -> Tuple[int, str, int, int]: ...
def read_data_rows(reader: FrameSource, sink: ArrowSink, rows: Any, max_rows: int) -> int: ...
def export_stream(names: Sequence[str], formats: Sequence[str],
                  batches: Iterable[List[Any]]) -> object: ...
