"""Values for COPY: text renderings, SBNR type tags and the COPY statement's parts.

Text renderings follow what the server stores and DuckDB and ScratchBird both read back
(REFERENCE 8.3, 12.B.2): ISO dates and times, a space between date and time, ``+HH:MM``
offsets, plain decimal digits for Decimal, the shortest round-trip text for floats.
"""
from __future__ import annotations

import datetime as _dt
import json
import math
import re
import uuid as _uuid
from decimal import Decimal
from typing import Any, Iterable, List, Optional, Sequence, Tuple

from scratchbird._impl import copycodec
from scratchbird.errors import DataError, ProgrammingError

__all__ = ["render_copy_text", "tag_for_value", "infer_tags", "parse_types", "parse_copy_sql"]

_TAG_BY_NAME = {name: tag for tag, name in copycodec.TAG_NAMES.items()}
_TAG_BY_NAME.update({"str": 1, "string": 1, "int": 2, "bigint": 2, "bool": 3, "integer": 4,
                     "float": 6, "double": 6, "bytes": 7, "blob": 7})
_INT64 = 1 << 63


def _offset_text(offset: _dt.timedelta) -> str:
    seconds = int(offset.total_seconds())
    sign = "-" if seconds < 0 else "+"
    hours, rest = divmod(abs(seconds), 3600)
    minutes, seconds = divmod(rest, 60)
    text = f"{sign}{hours:02d}:{minutes:02d}"
    return text + f":{seconds:02d}" if seconds else text


def render_copy_text(value: Any) -> str:
    """``value`` as the text a text-tagged COPY field carries (never called for str)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return repr(float(value))
    if isinstance(value, str):
        return str(value)
    if isinstance(value, Decimal):
        if value.is_nan():
            return "NaN"
        if value.is_infinite():
            return "-Infinity" if value.is_signed() else "Infinity"
        return format(value, "f")
    if isinstance(value, _dt.datetime):
        offset = value.utcoffset()
        text = value.replace(tzinfo=None).isoformat(" ")
        return text if offset is None else text + _offset_text(offset)
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, _dt.time):
        offset = value.utcoffset()
        text = value.replace(tzinfo=None).isoformat()
        return text if offset is None else text + _offset_text(offset)
    if isinstance(value, _dt.timedelta):
        return f"{value.days} days {value.seconds} seconds {value.microseconds} microseconds"
    if isinstance(value, _uuid.UUID):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        # text COPY has no binary form: \xHH escapes, which a BLOB column decodes
        return "".join(f"\\x{b:02x}" for b in bytes(value))
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    raise DataError(f"a {type(value).__name__} value cannot be sent in COPY")


def tag_for_value(value: Any) -> int:
    """The SBNR type tag a column gets from its first non-NULL value (REFERENCE 7.8)."""
    t = type(value)
    if t is bool:
        return copycodec.TAG_BOOLEAN
    if t is int:
        if -_INT64 <= value < _INT64:
            return copycodec.TAG_INT64
        return copycodec.TAG_UINT64 if 0 <= value < (1 << 64) else copycodec.TAG_TEXT
    if t is float:
        return copycodec.TAG_REAL64
    if t is bytes or t is bytearray or t is memoryview:
        return copycodec.TAG_BINARY
    return copycodec.TAG_TEXT        # str, and everything SBNR cannot carry, as text


def infer_tags(rows: Sequence[Sequence[Any]], ncols: int,
               known: Optional[List[Optional[int]]] = None) -> List[int]:
    """One tag per column from the first non-NULL value of each column in ``rows``; a
    column NULL throughout is text. ``known`` tags (from set_types) are kept."""
    tags: List[Optional[int]] = list(known) if known else [None] * ncols
    missing = [k for k in range(ncols) if tags[k] is None]
    for row in rows:
        if not missing:
            break
        if len(row) != ncols:
            break                       # the encoder reports the bad row
        still = []
        for k in missing:
            value = row[k]
            if value is None:
                still.append(k)
            else:
                tags[k] = tag_for_value(value)
        missing = still
    return [copycodec.TAG_TEXT if t is None else t for t in tags]


def parse_types(types: Iterable[Any], ncols: Optional[int]) -> List[Optional[int]]:
    """``copy.set_types`` input: tags (1-7) or names (``"int64"``, ``"text"``, ...), or
    None for "infer"; one per column."""
    out: List[Optional[int]] = []
    for item in types:
        if item is None or item in copycodec.TAG_NAMES:
            out.append(item)
            continue
        tag = _TAG_BY_NAME.get(str(item).lower()) if isinstance(item, str) else None
        if tag is None:
            raise ProgrammingError(f"unknown COPY column type {item!r}; use one of "
                                   f"{', '.join(copycodec.TAG_NAMES.values())}")
        out.append(tag)
    if ncols is not None and len(out) != ncols:
        raise ProgrammingError(f"set_types got {len(out)} types for {ncols} columns")
    return out


_IDENT = r'(?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)'
_COPY_SQL = re.compile(
    r"\s*COPY\s+(?P<table>" + _IDENT + r"(?:\s*\.\s*" + _IDENT + r")*)\s*"
    r"(?:\((?P<columns>[^)]*)\))?\s*FROM\s+STDIN\b", re.IGNORECASE | re.DOTALL)


def _unquote(name: str) -> str:
    name = name.strip()
    if len(name) >= 2 and name[0] == name[-1] == '"':
        return name[1:-1].replace('""', '"')
    return name


def parse_copy_sql(sql: str) -> Tuple[str, Optional[List[str]]]:
    """(table as written, [column names] or None) of ``COPY t [(a, b)] FROM STDIN``."""
    match = _COPY_SQL.match(sql)
    if match is None:
        raise ProgrammingError("cursor.copy() needs a 'COPY <table> [(columns)] FROM STDIN' "
                               "statement (REFERENCE 7.8)")
    columns = match.group("columns")
    names = None
    if columns is not None:
        names = [_unquote(part) for part in columns.split(",")]
        if not all(names):
            raise ProgrammingError(f"empty column name in the COPY column list ({columns!r})")
    return match.group("table"), names
