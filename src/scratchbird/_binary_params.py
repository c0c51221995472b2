"""Parameters in binary (docs/protocol.md 1.7), for sessions that negotiated binary values.

The query text keeps its placeholders (``:name``, ``?`` or ``$n``); they become ``$1..$n``
for PARSE, each parameter set becomes one BIND of binary values, and PARSE declares each
parameter's type as its (family, code) in a tagged u32 (``_constants.param_type_oid``).
Anything this path cannot carry (an ``SqlLiteral`` from a dumper, a tuple for an IN list,
parameter sets whose types disagree) goes the text way instead: rendered as literals.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Set, Tuple

from scratchbird._constants import param_type_oid
from scratchbird._impl import bincodec, literals
from scratchbird._pure import literals as _pure_literals
from scratchbird.errors import DataError

__all__ = ["plan_binary", "BinaryPlan"]

#: ``(sql_with_dollar_markers, param_type_oids, [binary values per parameter set])``
BinaryPlan = Tuple[str, List[int], List[List[Optional[bytes]]]]
#: one placeholder of the SQL text: ``(start, end, style, key)`` (``literals._scan_placeholders``)
_Mark = Tuple[int, int, Any, Any]

_QMARK, _NUMERIC, _NAMED = _pure_literals._QMARK, _pure_literals._NUMERIC, _pure_literals._NAMED


def _placeholders(sql: str) -> Tuple[List[_Mark], Set[Any]]:
    marks: List[_Mark] = _pure_literals._scan_placeholders(sql)
    styles = {mark[2] for mark in marks}
    return marks, styles


def _rewrite(sql: str, marks: Sequence[_Mark], order: Dict[Any, int]) -> str:
    out, last = [], 0
    for start, end, _style, key in marks:
        out.append(sql[last:start])
        out.append(f"${order[key]}")
        last = end
    out.append(sql[last:])
    return "".join(out)


def plan_binary(sql: str, param_sets: Sequence[Any]) -> Optional[BinaryPlan]:
    """``(sql_with_dollar_markers, param_type_oids, [values per set])``, or None when
    these parameters should go the text way. Raises the text path's ProgrammingError
    for parameters that do not fit the placeholders."""
    marks, styles = _placeholders(sql)
    if len(styles) > 1:
        literals.merge_params(sql, param_sets[0])   # raises the mixed-style error
        return None
    style = next(iter(styles), None)
    if style is None:
        for params in param_sets:
            literals.merge_params(sql, params)         # raises if parameters were given
        return sql, [], [[] for _ in param_sets]
    keys = [mark[3] for mark in marks]
    if style == _QMARK:
        # each ? is its own slot: key the marks by position
        marks = [(start, end, st, i) for i, (start, end, st, _k) in enumerate(marks)]
        slot_keys = list(range(len(marks)))
        order = {i: i + 1 for i in slot_keys}
    else:
        slot_keys = list(dict.fromkeys(keys))       # first-use order ($n keeps its n below)
        if style == _NUMERIC:
            slot_keys = sorted(slot_keys)
        order = {key: i + 1 for i, key in enumerate(slot_keys)}
    types: List[Optional[Tuple[int, ...]]] = [None] * len(slot_keys)
    rows: List[List[Optional[bytes]]] = []
    for params in param_sets:
        values = _values_in_order(sql, params, style, slot_keys)
        if values is None:
            return None
        row: List[Optional[bytes]] = []
        for slot, value in enumerate(values):
            if value is None:
                row.append(None)
                continue
            if isinstance(value, tuple):
                return None            # a tuple is an IN list in this driver: the text way
            try:
                type_id, data = bincodec.encode_param(value)
            except DataError:
                return None            # not a binary-capable value: the text way
            family_code = tuple(type_id[:2])
            if types[slot] is None:
                types[slot] = family_code
            elif types[slot] != family_code:
                return None            # sets disagree on the type: the text way
            row.append(data)
        rows.append(row)
    oids = [param_type_oid(*(t or (0, 0))) for t in types]
    return _rewrite(sql, marks, order), oids, rows


def _values_in_order(sql: str, params: Any, style: Any,
                     slot_keys: List[Any]) -> Optional[List[Any]]:
    """The values for each slot, or the text path's error when they do not fit."""
    try:
        if style == _NAMED:
            if not hasattr(params, "keys") or set(params.keys()) != set(slot_keys):
                raise KeyError
            return [params[key] for key in slot_keys]
        if isinstance(params, (str, bytes)) or not isinstance(params, (list, tuple)):
            raise KeyError
        if style == _QMARK:
            if len(params) != len(slot_keys):
                raise KeyError
            return list(params)
        if slot_keys != list(range(1, len(params) + 1)):
            raise KeyError
        return list(params)
    except (KeyError, TypeError):
        literals.merge_params(sql, params)   # raises the precise ProgrammingError
        return None
