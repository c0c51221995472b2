"""The compiled literals module against its pure-Python twin, on the same inputs.

Both must return the same text, or raise the same exception class with the same
message. Results are also compared by size in memory: a compiled str built by hand
must be canonical (the narrowest kind that holds its characters), or it would behave
subtly differently from the same text built by Python.
"""
from __future__ import annotations

import datetime as dt
import enum
import os
import sys
import types
import uuid
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scratchbird._pure import literals as pure
from scratchbird.types import Json

try:
    from scratchbird._compiled import literals as compiled
except ImportError as exc:  # pragma: no cover - depends on the build
    if os.environ.get("SCRATCHBIRD_IMPL", "c").strip().lower() == "python":
        pytest.skip(f"compiled literals not built ({exc}); SCRATCHBIRD_IMPL=python",
                    allow_module_level=True)
    pytest.fail(f"scratchbird._compiled.literals is not importable: {exc}. Build it with "
                "`python setup.py build_ext --inplace`", pytrace=False)


def outcome(fn, *args):
    """What a call did: ("ok", text, its size in memory) or ("raised", class, message)."""
    try:
        result = fn(*args)
    except Exception as exc:  # noqa: BLE001 - every exception is part of the contract
        return ("raised", type(exc), str(exc))
    return ("ok", result, sys.getsizeof(result), type(result))


def assert_same(name, *args):
    expected = outcome(getattr(pure, name), *args)
    got = outcome(getattr(compiled, name), *args)
    assert got == expected, f"{name}{args!r}"
    return expected


def test_same_public_names():
    assert compiled.__all__ == pure.__all__
    for name in pure.__all__:
        assert callable(getattr(compiled, name))


# ---------------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------------

class Color(enum.IntEnum):
    RED = -7


class Mood(str, enum.Enum):
    SAD = "it's \x00 bad"


class Ratio(float):
    pass


ZONES = st.builds(dt.timezone, st.timedeltas(min_value=dt.timedelta(hours=-23, minutes=-59),
                                             max_value=dt.timedelta(hours=23, minutes=59)))
TEXT = st.text(st.one_of(st.characters(), st.sampled_from("'\"\\\x00\ud800-$?:")))
SCALARS = st.one_of(
    st.none(), st.booleans(),
    st.integers(), st.integers(min_value=-2**64, max_value=2**64),
    st.floats(), st.floats(allow_subnormal=True, width=32),
    TEXT, st.binary(),
    st.decimals(), st.decimals(places=4),
    st.dates(), st.times(), st.times(timezones=ZONES),
    st.datetimes(), st.datetimes(timezones=ZONES), st.timedeltas(),
    st.uuids(), st.builds(Json, st.dictionaries(TEXT, TEXT, max_size=3)),
)
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.tuples(inner), st.tuples(inner, inner),
    st.lists(inner, max_size=2), st.dictionaries(st.text(max_size=2), inner, max_size=2)),
    max_leaves=6)

EDGE_VALUES = [
    0, -1, 2**63 - 1, -2**63, 2**63, -2**63 - 1, 10**40, -10**40, 10**5000, Color.RED, True,
    0.0, -0.0, float("nan"), float("inf"), float("-inf"), 5e-324, 1e300, Ratio(2.5),
    "", "'", "''", "\x00", "a\x00", "\ud800", "é'", "日本'", "😀'", "\U0010ffff", Mood.SAD,
    "x" * 100_000, "é" * 5000 + "'", "😀" * 3000 + "'\x00",
    Decimal("sNaN"), Decimal("-NaN"), Decimal("1E+999999"), Decimal("-0.00"),
    bytearray(b"\x00\xff"), memoryview(b"abc")[::2], (), (1, ()), [1], {"a": 1}, {1}, object,
    dt.datetime(2024, 1, 1, tzinfo=dt.timezone(dt.timedelta(microseconds=1))),
]


@pytest.mark.parametrize("value", EDGE_VALUES, ids=lambda v: type(v).__name__)
def test_render_edge_values(value):
    assert_same("render_literal", value)


@settings(max_examples=500, deadline=None)
@given(VALUES)
def test_render_any_value(value):
    assert_same("render_literal", value)


@settings(max_examples=300, deadline=None)
@given(TEXT)
def test_quote_identifier(name):
    assert_same("quote_identifier", name)


@pytest.mark.parametrize("name", ["", "a", '"', 'a"b', "\x00", "é", "😀", b"x", None, Mood.SAD])
def test_quote_identifier_edges(name):
    assert_same("quote_identifier", name)


# ---------------------------------------------------------------------------------
# Placeholders
# ---------------------------------------------------------------------------------

# Fragments that drive the scanner through every state, glued at random.
FRAGMENTS = st.sampled_from([
    "?", "$1", "$2", "$3", "$10", "$0", "$", ":a", ":b", ":_c9", "::", ":", "'", "''", '"',
    '""', "--", "-", "\n", "\r", "/*", "*/", "/", "*", "$$", "$t$", "$a", "E'", "e'", "E",
    "\\", "x", "x$", "1", " ", ",", "(", "é", "日", "😀", "\x00", ";", "=",
])
# The same, from only the fragments that open or close something: denser in the cases
# where two scanners could disagree about where a quote or comment ends.
DELIMITERS = st.sampled_from(["?", "'", "\\", "e'", "E'", "\r", "\n", "--", "/*", "*/", "$$",
                              "$t$", "$t", "x$", ":a", "::", '"'])
SQL = st.one_of(st.lists(FRAGMENTS, max_size=14).map("".join),
                st.lists(DELIMITERS, max_size=10).map("".join), st.text(max_size=30))
SIMPLE = st.one_of(st.none(), st.integers(), st.floats(), st.text(max_size=5), st.booleans())
POSITIONAL = st.one_of(st.lists(SIMPLE, max_size=4), st.lists(SIMPLE, max_size=4).map(tuple))
NAMED = st.dictionaries(st.sampled_from(["a", "b", "_c9", "z"]), SIMPLE, max_size=3)
PARAMS = st.one_of(st.none(), POSITIONAL, NAMED, st.text(max_size=3), st.integers())


@settings(max_examples=1500, deadline=None)
@given(SQL, PARAMS)
def test_merge_any(sql, params):
    assert_same("merge_params", sql, params)


@settings(max_examples=300, deadline=None)
@given(SQL, st.lists(st.one_of(POSITIONAL, NAMED), min_size=2, max_size=4))
def test_merge_same_sql_many_rows(sql, rows):
    # executemany: one SQL object, many rows; the compiled twin reuses what it learned
    for params in rows:
        assert_same("merge_params", sql, params)


@pytest.mark.parametrize("sql, params", [
    ("SELECT ?, ?", [1, 2, 3]),
    ("SELECT ?, $1", [1]),
    ("SELECT :a, ?", [1, 2]),
    ("SELECT ?", {"a": 1}),
    ("SELECT :a, :b", {"a": 1}),
    ("SELECT :a", {"a": 1, "y": 2, "x": 3}),
    ("SELECT $0", [1]),
    ("SELECT $99999999999999999999999", [1]),
    ("SELECT $2, $2", [1, 2]),
    ("SELECT 1-?, x?, E?, é?, 😀?, $1?", [-1, 2, "\\'", "é", "😀", 3]),
    ("SELECT e'\\'?', ?", [1]), ("SELECT E'\\\\', ?", [1]), ("SELECT 1 -- ?\r?", [1]),
    ("SELECT /* /* ? */ ? */ ?", [1]), ("SELECT $a$ $b$ ? $a$ ?", [1]),
    ("SELECT $t$ $tx ? $t$ ?", [1]), ("SELECT $ab$ $a$ ? $ab$ ?", [1]), ("SELECT x$1, $1", [1]),
    ("SELECT é-$1, $1", [-0.5]),
    ("SELECT 1", {}), ("SELECT 1", []), ("SELECT 1", {"a": 1}), ("", []), ("", None),
    (b"SELECT ?", [1]), (None, [1]), ("SELECT ?", "x"), ("SELECT ?", b"x"), ("SELECT ?", {1}),
    ("SELECT ?", [object()]), ("SELECT ?, ?", ["ok", "bad\x00"]), ("SELECT :a", {"a": [1]}),
    ("SELECT :a, :b", {"a": "\x00", "b": {1}}),
    ("SELECT ?", types.MappingProxyType({})), ("SELECT :a", types.MappingProxyType({"a": 1})),
    ("SELECT ? " + "?" * 100, list(range(101))),
    ("SELECT " + ", ".join(f"${k}" for k in range(70, 0, -1)), list(range(70))),
])
def test_merge_edges(sql, params):
    assert_same("merge_params", sql, params)


def test_merge_str_subclass_sql():
    class Query(str):
        def __eq__(self, other):
            return True

        __hash__ = str.__hash__

    assert_same("merge_params", Query("SELECT ?"), [1])
    assert_same("merge_params", Query("SELECT 1"), [])


def test_merge_with_wide_text_on_both_sides():
    for sql in ["SELECT ?, 'é'", "SELECT ?, '日本'", "SELECT ?, '😀'", "SELECT ?"]:
        for value in ["a", "é", "日", "😀", "'"]:
            assert_same("merge_params", sql, [value])
            assert_same("merge_params", sql, (value,))


def test_none_params_return_the_same_object():
    sql = "SELECT ?"
    assert compiled.merge_params(sql, None) is sql
    assert pure.merge_params(sql, None) is sql


class _FirstAnswerWrong(dict):
    """A mapping whose first ``in`` says a key is missing and later ones that it is
    there: the compiled check refuses, the pure twin (asked second) accepts."""

    def __init__(self, *args):
        super().__init__(*args)
        self.asked = 0

    def __contains__(self, key):
        self.asked += 1
        return self.asked > 1 and super().__contains__(key)


def test_twins_disagreeing_is_an_internal_error_not_an_assertion():
    from scratchbird.errors import InternalError
    with pytest.raises(InternalError, match="pure twin accepts"):
        compiled.merge_params("SELECT :a", _FirstAnswerWrong({"a": 1}))
