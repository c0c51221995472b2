"""Array-bound executemany from parameter sets (``arraybind.encode_param_sets``, REFERENCE
5.8 with the text rules of 5.2 and 8.6): the compiled twin and the pure reference give the
same PARSE types, the same packets byte for byte and the same errors; both agree with the
value-by-value rules of ``textparams``; and over the wire a string never becomes SQL."""
from __future__ import annotations

import datetime as dt
import random
import uuid
from decimal import Decimal
from enum import IntEnum

import pytest

from scratchbird import _constants as c
from scratchbird._pure import arraybind as pure
from scratchbird._pure import textparams
from scratchbird.errors import DataError, DatabaseError, ProgrammingError
from scratchbird.prepared._plan import StatementPlan, unify_text_rows
from scratchbird.types import Json, SqlLiteral
from tests.wire_spy import WireSpy

try:
    from scratchbird._compiled import arraybind as compiled
except ImportError:  # pragma: no cover - depends on the build
    compiled = None

needs_compiled = pytest.mark.skipif(compiled is None, reason="compiled extensions not built")
ARRAY_MAGIC = b"\x01\x00\x00\x01"


class Small(IntEnum):
    ONE = 1


class Text(str):
    pass


class Dec(Decimal):
    pass


TZ = dt.timezone(dt.timedelta(hours=-3, minutes=-30))
# Every kind of value the text path knows, the C fast paths and the pure fallbacks alike.
SENDABLE = [
    True, False, 0, -1, 7, 2 ** 63 - 1, -(2 ** 63), 2 ** 63, -(2 ** 70), 10 ** 40, Small.ONE,
    0.0, -0.0, 1.5, -2.25, 1e16, 1e20, 1e-7, 5e-324, 1.7976931348623157e308,
    float("nan"), float("inf"), float("-inf"),
    Decimal("1.25"), Decimal("-0"), Decimal("0.00"), Decimal("-0.001"), Decimal("1E+3"),
    Decimal("1E-7"), Decimal("0E-7"), Decimal("-1.5E+2"), Decimal("NaN"), Decimal("-NaN"),
    Decimal("Infinity"), Decimal("-Infinity"), Decimal("9" * 999 + ".5"),
    Decimal("1" * 1500), Dec("2.5"),
    "", "plain", "x'y", "1); DROP TABLE t; --", "é€😀", "\\", Text("sub"),
    dt.date(2026, 1, 2), dt.date(1, 1, 1), dt.date(9999, 12, 31),
    dt.datetime(2026, 1, 2, 3, 4, 5), dt.datetime(2026, 1, 2, 3, 4, 5, 6),
    dt.datetime(999, 1, 2, 23, 59, 59, 999999), dt.datetime(2026, 1, 2, tzinfo=TZ),
    dt.time(3, 4, 5), dt.time(0, 0, 0, 10), dt.time(3, 4, tzinfo=dt.timezone.utc),
    uuid.UUID(int=5), uuid.UUID("12345678-9abc-def0-1234-56789abcdef0"),
    Json({"a": [1, "é"]}),
]
# Values text cannot carry: the whole executemany goes the literal way (None).
LITERAL_ONLY = ["nul\x00", "lone\ud800", b"\x00", bytearray(b"a"), memoryview(b"m"), (1, 2),
                dt.timedelta(days=1), SqlLiteral("now()")]


def _encode(twin, param_sets, width=None, exact_only=False, packet_bytes=1 << 20, sql=None):
    width = width or len(param_sets[0])
    plan = StatementPlan(sql or "INSERT INTO t (" + ", ".join(f"c{i}" for i in range(width))
                         + ") VALUES (" + ", ".join("?" * width) + ")")
    return twin.encode_param_sets(param_sets, plan.param_count, plan._named_keys,
                                  plan.positional, plan.ordered, exact_only, packet_bytes)


def _reference(param_sets, width, exact_only=False):
    """What the per-row path built before encode_param_sets: text_row per set, the
    column OIDs unified, one packet."""
    rows = [textparams.text_row(list(p), exact_only) for p in param_sets]
    if any(row is None for row in rows):
        return None
    oids, texts = unify_text_rows(rows)
    return oids, [pure.encode_array_bind(texts, width)]


def _both(param_sets, **kwargs):
    """The pure result; the compiled twin must give the same result or the same error."""
    try:
        want = _encode(pure, param_sets, **kwargs)
    except Exception as exc:  # compared with the compiled twin's error below
        if compiled is not None:
            with pytest.raises(type(exc)) as info:
                _encode(compiled, param_sets, **kwargs)
            assert str(info.value) == str(exc)
        raise
    if compiled is not None:
        assert _encode(compiled, param_sets, **kwargs) == want
    return want


@pytest.mark.parametrize("value", SENDABLE, ids=repr)
@pytest.mark.parametrize("exact_only", [False, True])
def test_each_value_as_the_rules_say(value, exact_only):
    rows = [(value, None, 1), (None, value, 2)]
    got = _both(rows, exact_only=exact_only)
    assert got == _reference(rows, 3, exact_only)
    if not exact_only or isinstance(value, (bool, int, Decimal, str)):
        oid, text = textparams.text_value(value)
        assert got[0][:2] == (oid, oid) and got[0][2] == textparams.OID_INT8
        assert text in got[1][0]


@pytest.mark.parametrize("value", LITERAL_ONLY, ids=repr)
def test_values_that_need_literals(value):
    assert _both([(1, "a"), (2, value)]) is None
    assert _both([(value, "a")], exact_only=True) is None


@pytest.mark.parametrize("bad", [Decimal("sNaN"), Decimal("-sNaN"), Decimal("1E+200000"),
                                 Decimal("1E-20000")], ids=repr)
def test_unsendable_values_raise_the_same_error(bad):
    with pytest.raises(DataError):
        _both([(1, "a"), (2, bad)])
    # ... even after an earlier set needed the literal path: nothing can have been sent
    with pytest.raises(DataError):
        _both([(1, b"bytes"), (2, bad)])


def test_nulls_in_every_position_and_column_types():
    width = 5
    rows = [tuple(None if j == i else [1, "t", 1.5, Decimal("2.5"), True][j]
                  for j in range(width)) for i in range(width)] + [(None,) * width]
    oids, packets = _both(rows)
    assert oids == (20, 25, 701, 1700, 16)
    assert (oids, packets) == _reference(rows, width)
    assert _both([(None, None)]) == _reference([(None, None)], 2)
    assert _both([(None, None)])[0] == (25, 25)       # an all-NULL column is text


@pytest.mark.parametrize("column,oid", [
    ([1, 2 ** 64], 25),                 # int8 then numeric: quoted text for the column
    ([1, "1); DROP TABLE t; --"], 25),  # a string in a numeric column: all quoted
    ([1.5, float("nan")], 25),          # NaN travels as quoted 'NaN'
    ([Decimal("1"), Decimal("Infinity")], 25),
    ([1, True], 25),
    ([1, None, 3], 20),
    ([2 ** 64, 10 ** 30], 1700),
])
def test_a_later_row_of_another_kind_makes_the_column_text(column, oid):
    rows = [(v, i) for i, v in enumerate(column)]
    got = _both(rows)
    assert got == _reference(rows, 2) and got[0] == (oid, 20)


def _reference_split(param_sets, width, packet_bytes):
    """The per-row path's packets: a packet closes after the row that brings it to
    ``packet_bytes`` (8 bytes a row, 16 a cell, plus the texts)."""
    oids, (whole,) = _reference(param_sets, width)
    texts = [textparams.text_row(list(p))[1] for p in param_sets]
    packets, start, size = [], 0, 0
    for index, row in enumerate(texts):
        size += 8 + sum(16 + (0 if t is None else len(t)) for t in row)
        if size >= packet_bytes:
            packets.append(pure.encode_array_bind(texts[start:index + 1], width))
            start, size = index + 1, 0
    if start < len(texts):
        packets.append(pure.encode_array_bind(texts[start:], width))
    return oids, packets


@pytest.mark.parametrize("seed", range(8))
def test_random_sets_match_the_per_row_path_and_split_the_same(seed):
    rng = random.Random(seed)
    width = rng.randint(1, 8)
    pool = [v for v in SENDABLE if not isinstance(v, Decimal) or v.is_finite()] + [None] * 8
    rows = [tuple(rng.choice(pool) for _ in range(width)) for _ in range(rng.randint(1, 60))]
    packet_bytes = rng.choice([1, 150, 600, 1 << 20])
    got = _both(rows, packet_bytes=packet_bytes)
    assert got == _reference_split(rows, width, packet_bytes)
    assert sum(int.from_bytes(p[44:48], "little") for p in got[1]) == len(rows)


def test_packets_split_after_the_row_that_fills_them():
    rows = [(i, "x" * 10) for i in range(10)]
    # per row: 8 + 16 + len(str(i)) + 16 + 10 = 51 bytes
    oids, packets = _both(rows, packet_bytes=102)
    assert [int.from_bytes(p[44:48], "little") for p in packets] == [2, 2, 2, 2, 2]
    oids, packets = _both(rows, packet_bytes=103)
    assert [int.from_bytes(p[44:48], "little") for p in packets] == [3, 3, 3, 1]


@pytest.mark.parametrize("sql,params", [
    ("INSERT INTO t (a, b) VALUES (:a, :b)", [{"a": 1, "b": "x"}, {"b": None, "a": 2}]),
    ("INSERT INTO t (a, b) VALUES ($1, $2)", [(1, "x"), [2, None]]),
    ("INSERT INTO t (a, b) VALUES ($2, $1)", [("x", 1), (None, 2)]),
    ("INSERT INTO t (a, b) VALUES (?, ?)", [[1, "x"], (2, None)]),
])
def test_placeholder_styles(sql, params):
    got = _both(params, width=2, sql=sql)
    plan = StatementPlan(sql)
    assert got == _reference([plan.ordered(p) for p in params], 2)


@pytest.mark.parametrize("sql,params,message", [
    ("INSERT INTO t (a, b) VALUES (?, ?)", [(1, 2), (1, 2, 3)], "3"),
    ("INSERT INTO t (a, b) VALUES (?, ?)", [(1, 2), {"a": 1, "b": 2}], ""),
    ("INSERT INTO t (a, b) VALUES (:a, :b)", [{"a": 1, "b": 2}, {"a": 1, "c": 2}], ""),
    ("INSERT INTO t (a, b) VALUES (:a, :b)", [{"a": 1, "b": 2}, {"a": 1, "b": 2, "c": 3}], ""),
    ("INSERT INTO t (a, b) VALUES (:a, :b)", [(1, 2)], ""),
    ("INSERT INTO t (a, b) VALUES ($1, $2)", [(1,)], ""),
    ("INSERT INTO t (a, b) VALUES (?, ?)", ["ab"], ""),
])
def test_parameter_sets_that_do_not_fit_raise_the_same_error(sql, params, message):
    with pytest.raises(ProgrammingError, match=message or None):
        _both(params, width=2, sql=sql)


def test_shape_errors():
    with pytest.raises(ProgrammingError, match="at least one row"):
        _both([], width=2)


# ------------------------------------------------------------ over the wire


@pytest.fixture
def table(conn):
    name = f"abp_{uuid.uuid4().hex[:10]}"
    conn.cursor().execute(f"CREATE TABLE {name} (id BIGINT, n NUMERIC(12, 3), f DOUBLE, "
                          f"s TEXT, d DATE, ts TIMESTAMP, b BOOLEAN)")
    conn.commit()
    return name


def test_injection_never_becomes_sql(conn, table):
    """A string bound where the column is numeric travels as quoted text (OID 25): it
    fails the conversion or is stored as text, and never runs."""
    cur = conn.cursor()
    attack = "1); DROP TABLE " + table + "; --"
    spy = WireSpy(conn)
    with pytest.raises(DatabaseError):
        cur.executemany(f"INSERT INTO {table} (id, s) VALUES (?, ?)", [(1, "a"), (attack, "b")])
    assert any(p[:4] == ARRAY_MAGIC for t, p in spy.frames if t == c.BIND)
    conn.rollback()
    cur.executemany(f"INSERT INTO {table} (s, id) VALUES (?, ?)", [(attack, 1), ("x", 2)])
    assert cur.execute(f"SELECT s FROM {table} ORDER BY id").fetchall() == [(attack,), ("x",)]


def test_values_round_trip_through_array_bind(conn, table):
    rows = [(1, Decimal("1.250"), 0.5, "é€😀", dt.date(2024, 2, 29),
             dt.datetime(2024, 1, 2, 3, 4, 5, 600000), True),
            (2 ** 40, Decimal("-0.001"), -2.25, "x'y", dt.date(1, 1, 1),
             dt.datetime(2024, 1, 2), False),
            (None, None, None, None, None, None, None)]
    spy = WireSpy(conn)
    cur = conn.cursor()
    cur.executemany(f"INSERT INTO {table} (id, n, f, s, d, ts, b) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    rows)
    assert cur.rowcount == 3
    assert spy.count(c.PARSE) == 1 and spy.count(c.QUERY) == 0
    got = cur.execute(f"SELECT id, n, f, s, d, ts, b FROM {table} ORDER BY id NULLS LAST").fetchall()
    # the same rows sent as rendered literals (one QUERY each) read back the same
    cur.execute(f"DELETE FROM {table}")
    for row in rows:
        cur.execute(f"INSERT INTO {table} (id, n, f, s, d, ts, b) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    row, prepare=False)
    want = cur.execute(f"SELECT id, n, f, s, d, ts, b FROM {table} ORDER BY id NULLS LAST").fetchall()
    assert [tuple(r) for r in got] == [tuple(r) for r in want]
    assert got[0][:2] == (1, Decimal("1.250")) and got[1][3] == "x'y" and got[0][3] == "é€😀"


def test_adapters_are_honoured(conn, table):
    class Money:
        def __init__(self, cents):
            self.cents = cents
    cur = conn.cursor()
    cur.adapters.register_dumper(Money, lambda m: Decimal(m.cents).scaleb(-2))
    spy = WireSpy(conn)
    cur.executemany(f"INSERT INTO {table} (id, n) VALUES (?, ?)", [(1, Money(150)), (2, None)])
    assert any(p[:4] == ARRAY_MAGIC for t, p in spy.frames if t == c.BIND)
    got = cur.execute(f"SELECT id, n FROM {table} ORDER BY id").fetchall()
    assert [tuple(r) for r in got] == [(1, Decimal("1.500")), (2, None)]
