"""Type stub for the compiled twin of scratchbird._pure.literals (built from ext/literals.pyx)."""
from typing import Any, Optional

from scratchbird._typing import Params

__all__ = ["render_literal", "quote_identifier", "merge_params"]

def render_literal(value: Any) -> str:
    """``value`` as an SQL literal; DataError or ProgrammingError if it cannot be one."""

def quote_identifier(name: str) -> str:
    """``name`` as a delimited identifier (``"`` doubled); NUL refused with DataError."""

def merge_params(sql: str, params: Optional[Params]) -> str:
    """``sql`` with its ``?``, ``$n`` or ``:name`` placeholders replaced by rendered
    ``params``; ``params`` None returns ``sql`` unchanged."""
