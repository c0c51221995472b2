"""Parameter values as text BIND values for today's server (pure-Python twin).

The compiled twin is ``ext/textparams.pyx`` (same names and behaviour; it converts the
common types in C and hands every other value to ``text_value`` here, so the rules have
one definition). Used by ``scratchbird.prepared`` (docs/protocol.md 5.2).

REFERENCE 5.2 and 8.6: a text value whose declared OID is 16, 20, 21, 23, 700, 701 or 1700
is spliced into the SQL **unquoted**; every other OID is quoted. So a value is declared
numeric or boolean only when it is a real ``bool``, ``int``, finite ``float`` or finite
``Decimal`` and its text was rendered here (and checked against a number pattern);
everything else is OID 25, quoted: a ``str`` whatever it holds, NaN and infinities, ISO
dates and times, UUIDs. Floats and temporal values never use the server's binary form
(it prints floats with 6 digits and garbles dates, REFERENCE 5.2).

``None`` from these functions means "text cannot carry this value": the caller renders
literals into a QUERY instead (bytes, IN-list tuples, intervals, a str with NUL, ...).
"""
from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, List, Optional, Sequence, Tuple

from scratchbird._pure import literals as _literals
from scratchbird.errors import DataError

__all__ = ["text_value", "text_row", "OID_BOOL", "OID_INT8", "OID_FLOAT8", "OID_NUMERIC",
           "OID_TEXT"]

OID_BOOL, OID_INT8, OID_FLOAT8, OID_NUMERIC, OID_TEXT = 16, 20, 701, 1700, 25
_INT8_MIN, _INT8_MAX = -(1 << 63), (1 << 63) - 1
# What a quoted string literal from the renderer looks like ('...', quotes doubled).
_QUOTED = re.compile(r"'(?:[^']|'')*'\Z", re.DOTALL)
# The only shapes an unquoted numeric text may take (checked again after rendering).
_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?\Z")
# Renderer prefixes whose quoted text the engine casts back by the column (ISO forms).
_TEMPORAL = frozenset(("DATE", "TIME", "TIMETZ", "TIMESTAMP", "TIMESTAMPTZ"))
# Types whose text form keeps everything a binary value would (array bind in binary sessions).
_EXACT_TEXT_TYPES = (type(None), bool, int, Decimal, str)


def _numeric(oid: int, text: str) -> Tuple[int, bytes]:
    """A number rendered here goes unquoted only if it looks like one."""
    if _NUMBER.match(text):
        return oid, text.encode("ascii")
    if _QUOTED.match(text):                 # 'NaN', 'Infinity': quoted text
        return OID_TEXT, text[1:-1].encode("ascii")
    raise DataError(f"numeric parameter rendered as {text!r}, which is not a number")


def text_value(value: Any) -> Optional[Tuple[int, Optional[bytes]]]:
    """``(oid, utf8_text_or_None)`` for one value, or None for the literal path."""
    if value is None:
        return OID_TEXT, None
    cls = type(value)
    if cls is bool:
        return OID_BOOL, b"TRUE" if value else b"FALSE"
    if isinstance(value, int) and not isinstance(value, bool):
        number = int(value)
        text = _literals.render_literal(number)
        return _numeric(OID_INT8 if _INT8_MIN <= number <= _INT8_MAX else OID_NUMERIC, text)
    if isinstance(value, float):
        return _numeric(OID_FLOAT8, _literals.render_literal(float(value)))
    if isinstance(value, Decimal):
        return _numeric(OID_NUMERIC, _literals.render_literal(value))
    if isinstance(value, str):
        if _literals._UNSENDABLE.search(value) is not None:
            return None     # NUL or a lone surrogate: the literal path raises its error
        return OID_TEXT, str.encode(value, "utf-8")
    if isinstance(value, (bytes, bytearray, memoryview, tuple)):
        return None         # X'..' and IN lists are SQL syntax, not a quoted text
    try:
        literal = _literals.render_literal(value)
    except DataError:
        raise
    except Exception:
        return None
    head, _, quoted = literal.partition(" '")
    if quoted and head in _TEMPORAL:
        literal = "'" + quoted
    if not _QUOTED.match(literal):
        return None         # INTERVAL '...', casts: the literal way
    return OID_TEXT, literal[1:-1].replace("''", "'").encode("utf-8")


def text_row(values: Sequence[Any], exact_only: bool = False
             ) -> Optional[Tuple[Tuple[int, ...], List[Optional[bytes]]]]:
    """``(oids, texts)`` for one parameter set, or None if a value needs the literal path.
    ``exact_only`` also refuses every type beyond None, bool, int, Decimal and str (whose
    text keeps all a binary value would; a float's -0.0 would not survive the engine)."""
    oids, texts = [], []
    for value in values:
        if exact_only and not isinstance(value, _EXACT_TEXT_TYPES):
            return None
        item = text_value(value)
        if item is None:
            return None
        oids.append(item[0])
        texts.append(item[1])
    return tuple(oids), texts
