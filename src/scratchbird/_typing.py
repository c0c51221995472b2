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
