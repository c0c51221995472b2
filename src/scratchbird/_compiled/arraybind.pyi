"""Type stub for the compiled twin of scratchbird._pure.arraybind (built from ext/arraybind.pyx)."""
from typing import Optional, Sequence

__all__ = ["encode_array_bind", "HEADER_BYTES", "SLOT_BYTES"]

HEADER_BYTES: int
SLOT_BYTES: int

def encode_array_bind(rows: Sequence[Sequence[Optional[bytes]]], parameter_count: int) -> bytes:
    """The array-bind BIND payload (REFERENCE 5.8) carrying ``rows`` as UTF-8 text cells."""
