"""Type stub for the compiled twin of scratchbird._pure.arraybind (built from ext/arraybind.pyx)."""
from typing import Any, Callable, List, Optional, Sequence, Tuple

__all__ = ["encode_array_bind", "encode_param_sets", "HEADER_BYTES", "SLOT_BYTES"]

HEADER_BYTES: int
SLOT_BYTES: int

def encode_array_bind(rows: Sequence[Sequence[Optional[bytes]]], parameter_count: int) -> bytes:
    """The array-bind BIND payload (REFERENCE 5.8) carrying ``rows`` as UTF-8 text cells."""

def encode_param_sets(param_sets: Sequence[Any], width: int, keys: Optional[Sequence[Any]],
                      positional: bool, ordered: Callable[[Any], Sequence[Any]],
                      exact_only: bool, packet_bytes: int
                      ) -> Optional[Tuple[Tuple[int, ...], List[bytes]]]:
    """executemany's parameter sets straight to array-bind packets: ``(oids, packets)``,
    or None when a value needs the literal path."""
