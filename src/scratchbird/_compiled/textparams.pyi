"""Type stub for the compiled twin of scratchbird._pure.textparams (built from ext/textparams.pyx)."""
from typing import Any, List, Optional, Sequence, Tuple

__all__ = ["text_value", "text_row", "OID_BOOL", "OID_INT8", "OID_FLOAT8", "OID_NUMERIC",
           "OID_TEXT"]

OID_BOOL: int
OID_INT8: int
OID_FLOAT8: int
OID_NUMERIC: int
OID_TEXT: int

def text_value(value: Any) -> Optional[Tuple[int, Optional[bytes]]]:
    """``(oid, utf8_text_or_None)`` for one value, or None for the literal path."""

def text_row(values: Sequence[Any], exact_only: bool = False
             ) -> Optional[Tuple[Tuple[int, ...], List[Optional[bytes]]]]:
    """``(oids, texts)`` for one parameter set, or None if a value needs the literal path."""
