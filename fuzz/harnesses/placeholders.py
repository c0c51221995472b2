"""The placeholder scanner and literal splicer (literals.merge_params).

Input: byte 0 picks the parameter style (positional list or ``:name`` mapping) and how
many parameters; the rest, decoded as UTF-8 (invalid bytes replaced), is the SQL. Both
twins must produce the same statement or the same error class; a statement they produce
must hold every parameter's literal.
"""
from __future__ import annotations

from decimal import Decimal

from fuzz.contract import check_twins, outcome
from fuzz.twins import twins

_VALUES = (1, "it's", None, 2.5, Decimal("-1.5"), b"\x00'", True, "$1 ? :a -- /*")


def _params(config: int):
    count = config % 5
    values = [_VALUES[(config + i) % len(_VALUES)] for i in range(count)]
    if config & 0x80:
        return {name: value for name, value in zip(("a", "b", "c", "d"), values)}
    return values


def one_input(data: bytes) -> None:
    if not data:
        return
    pure, compiled = twins("literals")
    sql = data[1:].decode("utf-8", "replace")
    params = _params(data[0])
    check_twins("merge_params", outcome(pure.merge_params, sql, params),
                outcome(compiled.merge_params, sql, params))


def seeds():
    return [b"\x02SELECT ?, ? FROM t WHERE a = '?' -- ?",
            b"\x03SELECT $1, $2, $3 /* $4 */ $$ $1 $$",
            b"\x82SELECT :a, :b, ':c' FROM t WHERE x::int = :a",
            b"\x01SELECT E'\\'?', \"?\", ?"]
