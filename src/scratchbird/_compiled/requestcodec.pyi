"""Type stub for the compiled twin of scratchbird._pure.requestcodec (built from ext/requestcodec.pyx)."""
from typing import Optional, Sequence

__all__ = ["bind_request"]

def bind_request(before: bytes, attachment_id: bytes, bind_head: bytes,
                 values: Sequence[Optional[bytes]], after: bytes) -> bytes:
    """``before`` + one BIND frame of ``bind_head`` and ``values`` + ``after``."""
