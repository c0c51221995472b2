"""The plan of one SQL text, made once: its placeholders, the ``$n`` text for PARSE, and
how a parameter set becomes BIND values.

Two value forms, chosen by the session (docs/protocol.md, "Prepared statements"):

- **text** (today's server, REFERENCE 5.2 and 8.6): every value is UTF-8 text in format 0,
  by ``textparams`` (twins; the rules are in ``scratchbird._pure.textparams``): numeric
  and boolean OIDs, which the server splices unquoted, only for real numbers and booleans
  the driver rendered itself; quoted text (OID 25) for everything else.
- **binary** (sessions that negotiated binary values): ``bincodec.encode_param`` as the
  unprepared binary path does (``scratchbird._binary_params``).

A value neither form can carry (an ``SqlLiteral``, a tuple for an IN list, bytes in
text) makes ``bind_values`` return None: the caller then renders literals into a QUERY.
"""
from __future__ import annotations

from typing import Any, Callable, List, Optional, Sequence, Tuple

from scratchbird import _binary_params
from scratchbird._binary_params import _placeholders, _rewrite
from scratchbird._constants import param_type_oid
from scratchbird._impl import arraybind, bincodec, literals, textparams
from scratchbird._pure import literals as _pure_literals
from scratchbird.errors import DataError

__all__ = ["StatementPlan", "plan_statement", "text_value", "OID_BOOL", "OID_INT8",
           "OID_FLOAT8", "OID_NUMERIC", "OID_TEXT", "UNQUOTED_OIDS"]

# REFERENCE 8.6: text values of these OIDs are spliced verbatim, without quotes.
UNQUOTED_OIDS = frozenset((16, 20, 21, 23, 700, 701, 1700))
OID_BOOL, OID_INT8, OID_FLOAT8, OID_NUMERIC, OID_TEXT = (
    textparams.OID_BOOL, textparams.OID_INT8, textparams.OID_FLOAT8, textparams.OID_NUMERIC,
    textparams.OID_TEXT)
text_value = textparams.text_value
_QMARK = _pure_literals._QMARK
# typed here: ``_binary_params`` is annotated separately (mypy --strict, issue 12)
_values_in_order: Callable[[str, Any, Optional[int], List[Any]], Optional[List[Any]]] = \
    _binary_params._values_in_order


class StatementPlan:
    """One SQL text, scanned once: the ``$n`` SQL for PARSE and the slot order of its
    placeholders (REFERENCE 5.2: the server replaces the k-th ``?`` and every ``$n``)."""

    __slots__ = ("sql", "parse_sql", "style", "slot_keys", "param_count", "single",
                 "positional", "_named_keys")

    def __init__(self, sql: str) -> None:
        marks, styles = _placeholders(sql)
        self.sql = sql
        style = next(iter(styles), None) if len(styles) == 1 else None
        self.style = style
        if len(styles) > 1:
            self.slot_keys: List[Any] = []
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
        # A tuple or list of param_count values is already in slot order: `?` marks, or
        # `$1..$n` each used (the per-execution fast path of ``ordered``).
        self.positional = style == _QMARK or (
            style == _pure_literals._NUMERIC and self.slot_keys == list(range(1, self.param_count + 1)))
        # A dict is taken by these keys for ``:name`` placeholders (array bind, ``ordered``).
        self._named_keys: Optional[Tuple[Any, ...]] = (
            tuple(self.slot_keys) if style == _pure_literals._NAMED else None)
        # One statement only: EXECUTE runs one (REFERENCE 5.4). A ';' anywhere but at the
        # end, even one inside a string, keeps the statement on the QUERY path.
        self.single = ";" not in sql.rstrip().rstrip(";")

    @property
    def preparable(self) -> bool:
        return self.parse_sql is not None and self.single

    def ordered(self, params: Any) -> Sequence[Any]:
        """The parameter values in slot order; the literal path's ProgrammingError when
        they do not fit the placeholders."""
        cls = type(params)
        if (cls is tuple or cls is list) and self.positional \
                and len(params) == self.param_count:
            as_is: Sequence[Any] = params
            return as_is                                # the common case, as it is
        if self.style is None:
            literals.merge_params(self.sql, params)     # raises if parameters were given
            return []
        values = _values_in_order(self.sql, params, self.style, self.slot_keys)
        if values is None:                              # pragma: no cover - merge raised
            raise AssertionError("placeholder mismatch went unreported")
        return values

    def text_values(self, params: Any, exact_only: bool = False
                    ) -> Optional[Tuple[Tuple[int, ...], List[Optional[bytes]]]]:
        """``(oids, texts)`` for a text BIND, or None if a value needs the literal path
        (``textparams.text_row``; ``exact_only``: only types whose text is exact)."""
        return textparams.text_row(self.ordered(params), exact_only)

    def array_packets(self, param_sets: Sequence[Any], exact_only: bool, packet_bytes: int
                      ) -> Optional[Tuple[Tuple[int, ...], List[bytes]]]:
        """Array bind (REFERENCE 5.8): ``(PARSE oids, BIND packets)`` for all of
        ``param_sets`` in one compiled call (``arraybind.encode_param_sets``: each value by
        ``textparams``' rules, a column's OID unified over its rows), or None if a value
        needs the literal path."""
        return arraybind.encode_param_sets(param_sets, self.param_count, self._named_keys,
                                           self.positional, self.ordered, exact_only,
                                           packet_bytes)

    def binary_values(self, params: Any) -> Optional[Tuple[Tuple[int, ...], List[Optional[bytes]]]]:
        """``(oids, values)`` for a binary BIND, or None if a value needs the literal path."""
        oids: List[int] = []
        data: List[Optional[bytes]] = []
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
