"""The plan of one SQL text, made once: its placeholders, the ``$n`` text for PARSE, and
how a parameter set becomes BIND values.

Two value forms, chosen by the session (docs/protocol.md, "Prepared statements"):

- **text** (today's server, REFERENCE 5.2 and 8.6): every value is UTF-8 text in format 0.
  The server splices OIDs 16/20/21/23/700/701/1700 *unquoted*, so the driver declares such
  an OID only for a value it has checked is a real ``bool``, ``int``, finite ``float`` or
  finite ``Decimal`` and rendered itself; everything else goes as quoted text (OID 25).
  Floats and temporal values are never sent in the server's binary form (it prints
  floats with 6 digits and garbles dates, REFERENCE 5.2).
- **binary** (sessions that negotiated binary values): ``bincodec.encode_param`` as the
  unprepared binary path does (``scratchbird._binary_params``).

A value neither form can carry (an ``SqlLiteral``, a tuple for an IN list, bytes in
text) makes ``bind_values`` return None: the caller then renders literals into a QUERY.
"""
from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, List, Optional, Sequence, Tuple

from scratchbird._binary_params import _placeholders, _rewrite, _values_in_order
from scratchbird._constants import param_type_oid
from scratchbird._impl import bincodec, literals
from scratchbird._pure import literals as _pure_literals
from scratchbird.errors import DataError

__all__ = ["StatementPlan", "plan_statement", "text_value", "OID_BOOL", "OID_INT8",
           "OID_FLOAT8", "OID_NUMERIC", "OID_TEXT", "UNQUOTED_OIDS"]

OID_BOOL, OID_INT8, OID_FLOAT8, OID_NUMERIC, OID_TEXT = 16, 20, 701, 1700, 25
# REFERENCE 8.6: text values of these OIDs are spliced verbatim, without quotes.
UNQUOTED_OIDS = frozenset((16, 20, 21, 23, 700, 701, 1700))
_INT8_MIN, _INT8_MAX = -(1 << 63), (1 << 63) - 1
# What a quoted string literal from the renderer looks like ('...', quotes doubled).
_QUOTED = re.compile(r"'(?:[^']|'')*'\Z", re.DOTALL)
# The only shapes an unquoted numeric text may take (checked again after rendering).
_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?\Z")
_QMARK = _pure_literals._QMARK
_EXACT_TEXT_TYPES = (type(None), bool, int, Decimal, str)


def text_value(value: Any) -> Optional[Tuple[int, Optional[bytes]]]:
    """``(oid, utf8_text_or_None)`` for one value in text format, or None when the value
    cannot travel as plain text (the caller renders literals instead)."""
    if value is None:
        return OID_TEXT, None
    cls = type(value)
    if cls is bool:
        return OID_BOOL, b"TRUE" if value else b"FALSE"
    if cls is int and _INT8_MIN <= value <= _INT8_MAX:
        return OID_INT8, int.__repr__(value).encode("ascii")    # digits and a sign only
    if cls is int or (isinstance(value, int) and not isinstance(value, bool)):
        number = int(value)
        text = literals.render_literal(number)
        oid = OID_INT8 if _INT8_MIN <= number <= _INT8_MAX else OID_NUMERIC
        return _numeric(oid, text)
    if isinstance(value, float):
        text = literals.render_literal(float(value))
        return _numeric(OID_FLOAT8, text)
    if isinstance(value, Decimal):
        return _numeric(OID_NUMERIC, literals.render_literal(value))
    if isinstance(value, str):
        if _pure_literals._UNSENDABLE.search(value) is not None:
            return None     # NUL or a lone surrogate: the literal path raises its error
        return OID_TEXT, value.encode("utf-8")
    if isinstance(value, (bytes, bytearray, memoryview, tuple)):
        return None     # X'..' and IN lists are SQL syntax, not a quoted text
    try:
        literal = literals.render_literal(value)
    except DataError:
        raise
    except Exception:
        return None
    # Dates, times, UUIDs, Json...: the renderer's text without its type keyword (the
    # engine casts quoted text by the column, REFERENCE 8.6). Only a plain quoted
    # literal qualifies; anything else (INTERVAL '...', casts) goes the literal way.
    head, _, quoted = literal.partition(" '")
    if quoted and head.isalpha() and head.isupper():
        literal = "'" + quoted
    if not _QUOTED.match(literal):
        return None
    return OID_TEXT, literal[1:-1].replace("''", "'").encode("utf-8")


def _numeric(oid: int, text: str) -> Tuple[int, bytes]:
    """A number the driver rendered itself goes unquoted only if it looks like one."""
    if _NUMBER.match(text):
        return oid, text.encode("ascii")
    if _QUOTED.match(text):                 # 'NaN', 'Infinity': quoted text
        return OID_TEXT, text[1:-1].encode("ascii")
    raise DataError(f"numeric parameter rendered as {text!r}, which is not a number")


class StatementPlan:
    """One SQL text, scanned once: the ``$n`` SQL for PARSE and the slot order of its
    placeholders (REFERENCE 5.2: the server replaces the k-th ``?`` and every ``$n``)."""

    __slots__ = ("sql", "parse_sql", "style", "slot_keys", "param_count", "single")

    def __init__(self, sql: str) -> None:
        marks, styles = _placeholders(sql)
        self.sql = sql
        style = next(iter(styles), None) if len(styles) == 1 else None
        self.style = style
        if len(styles) > 1:
            self.slot_keys: list = []
            self.parse_sql = None        # mixed styles: the literal path raises the error
        elif style is None:
            self.slot_keys = []
            self.parse_sql = sql
        elif style == _QMARK:
            marks = [(start, end, st, i) for i, (start, end, st, _k) in enumerate(marks)]
            self.slot_keys = list(range(len(marks)))
            self.parse_sql = _rewrite(sql, marks, {i: i + 1 for i in self.slot_keys})
        else:
            keys = list(dict.fromkeys(mark[3] for mark in marks))
            if style == _pure_literals._NUMERIC:
                keys = sorted(keys)
            self.slot_keys = keys
            self.parse_sql = _rewrite(sql, marks, {key: i + 1 for i, key in enumerate(keys)})
        self.param_count = len(self.slot_keys)
        # One statement only: EXECUTE runs one (REFERENCE 5.4). A ';' anywhere but at the
        # end, even one inside a string, keeps the statement on the QUERY path.
        self.single = ";" not in sql.rstrip().rstrip(";")

    @property
    def preparable(self) -> bool:
        return self.parse_sql is not None and self.single

    def ordered(self, params: Any) -> List[Any]:
        """The parameter values in slot order; the literal path's ProgrammingError when
        they do not fit the placeholders."""
        if self.style is None:
            literals.merge_params(self.sql, params)     # raises if parameters were given
            return []
        values = _values_in_order(self.sql, params, self.style, self.slot_keys)
        if values is None:                              # pragma: no cover - merge raised
            raise AssertionError("placeholder mismatch went unreported")
        return values

    def text_values(self, params: Any, exact_only: bool = False
                    ) -> Optional[Tuple[Tuple[int, ...], List[Optional[bytes]]]]:
        """``(oids, texts)`` for a text BIND, or None if a value needs the literal path.
        ``exact_only`` also refuses types whose text form loses anything a binary value
        keeps (floats' -0.0 and every type beyond None, bool, int, Decimal and str)."""
        oids, texts = [], []
        for value in self.ordered(params):
            if exact_only and not isinstance(value, _EXACT_TEXT_TYPES):
                return None
            item = text_value(value)
            if item is None:
                return None
            oids.append(item[0])
            texts.append(item[1])
        return tuple(oids), texts

    def binary_values(self, params: Any) -> Optional[Tuple[Tuple[int, ...], List[Optional[bytes]]]]:
        """``(oids, values)`` for a binary BIND, or None if a value needs the literal path."""
        oids, data = [], []
        for value in self.ordered(params):
            if value is None:
                oids.append(param_type_oid(0, 0))
                data.append(None)
                continue
            if isinstance(value, tuple):
                return None
            try:
                type_id, encoded = bincodec.encode_param(value)
            except DataError:
                return None
            oids.append(param_type_oid(*tuple(type_id[:2])))
            data.append(encoded)
        return tuple(oids), data


def plan_statement(sql: str) -> StatementPlan:
    return StatementPlan(sql)


def unify_text_rows(rows: Sequence[Tuple[Tuple[int, ...], List[Optional[bytes]]]]
                    ) -> Tuple[Tuple[int, ...], List[List[Optional[bytes]]]]:
    """One OID per column for many text rows (array bind declares the types once, in
    PARSE): a column keeps its unquoted OID only if every non-NULL value in it has that
    OID; otherwise the whole column goes as quoted text, numbers included."""
    width = len(rows[0][0])
    column_oids: List[Optional[int]] = [None] * width
    for oids, texts in rows:
        for i, oid in enumerate(oids):
            if texts[i] is None:
                continue
            if column_oids[i] is None:
                column_oids[i] = oid
            elif column_oids[i] != oid:
                column_oids[i] = OID_TEXT
    final = tuple(OID_TEXT if oid is None else oid for oid in column_oids)
    return final, [texts for _oids, texts in rows]
