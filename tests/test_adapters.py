"""Type adapters: loaders and dumpers, scoped globally, per connection and per cursor."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

import scratchbird
from scratchbird import SqlLiteral


@pytest.fixture
def conn(devserver):
    """Text loaders apply to text columns: keep the session on text values whatever the
    profile (binary_transfer=False), which is itself part of what is tested."""
    connection = scratchbird.connect(devserver.dsn, binary_transfer=False)
    yield connection
    connection.close()


def _text(devserver, **kw):
    return scratchbird.connect(devserver.dsn, binary_transfer=False, **kw)


class Money:
    def __init__(self, cents: int) -> None:
        self.cents = cents


def test_connection_loader_is_scoped(devserver):
    with _text(devserver) as a, _text(devserver) as b:
        a.adapters.register_loader("numeric", float)
        assert a.execute("SELECT 1.25 AS x").fetchone() == (1.25,)
        assert type(a.execute("SELECT 1.25 AS x").fetchone()[0]) is float
        assert b.execute("SELECT 1.25 AS x").fetchone() == (Decimal("1.25"),)


def test_cursor_loader_is_scoped(conn):
    cur = conn.cursor()
    cur.adapters.register_loader(25, lambda s: dt.date.fromisoformat(s))
    assert cur.execute("SELECT '2024-02-29' AS d").fetchone() == (dt.date(2024, 2, 29),)
    assert conn.cursor().execute("SELECT '2024-02-29' AS d").fetchone() == ("2024-02-29",)


def test_loader_by_family_code_and_unregister(conn):
    cur = conn.cursor()
    cur.adapters.register_loader((2, 4), lambda s: int(s) * 10)   # int64 TypeRef
    assert cur.execute("SELECT 4 AS n").fetchone() == (40,)
    cur.adapters.register_loader((2, 4), None)
    cur.adapters.register_loader(20, None)
    assert cur.execute("SELECT 4 AS n").fetchone() == (4,)


def test_loader_never_sees_null(conn):
    seen = []
    cur = conn.cursor()
    cur.adapters.register_loader("text", lambda s: seen.append(s) or s.upper())
    assert cur.execute("SELECT NULL AS a, 'x' AS b").fetchone() == (None, "X")
    assert seen == ["x"]


def test_failing_loader_is_a_data_error_and_connection_survives(conn):
    cur = conn.cursor()
    cur.adapters.register_loader("int8", lambda s: 1 / 0)
    with pytest.raises(scratchbird.DataError, match="ZeroDivisionError"):
        cur.execute("SELECT 1 AS n")
    assert conn.execute("SELECT 2").fetchone() == (2,)


def test_dumpers(conn):
    cur = conn.cursor()
    cur.adapters.register_dumper(Money, lambda m: Decimal(m.cents) / 100)
    assert cur.execute("SELECT :m AS m", {"m": Money(1234)}).fetchone() == (Decimal("12.34"),)
    cur.adapters.register_dumper(Money, lambda m: SqlLiteral(f"({m.cents} / 100)"))
    assert cur.execute("SELECT ? AS m", [Money(500)]).fetchone() == (5,)
    with pytest.raises(scratchbird.ProgrammingError, match="Money"):
        conn.cursor().execute("SELECT :m", {"m": Money(1)})


def test_dumper_applies_to_subclasses_and_executemany(conn):
    class BigMoney(Money):
        pass
    cur = conn.cursor()
    cur.adapters.register_dumper(Money, lambda m: m.cents)
    cur.execute("CREATE TABLE adapt_money (c BIGINT)")
    cur.executemany("INSERT INTO adapt_money (c) VALUES (?)", [(Money(1),), (BigMoney(2),)])
    assert cur.rowcount == 2
    assert cur.execute("SELECT sum(c) FROM adapt_money").fetchone() == (3,)


def test_global_registry_is_copied_at_connect(devserver):
    scratchbird.adapters.register_loader("bool", lambda s: s == "true" and "yes")
    try:
        with _text(devserver) as conn:
            assert conn.execute("SELECT TRUE AS b").fetchone() == ("yes",)
    finally:
        scratchbird.adapters.register_loader("bool", None)
    with _text(devserver) as conn:
        assert conn.execute("SELECT TRUE AS b").fetchone() == (True,)


def test_sql_literal_refuses_nul_and_bad_registrations(conn):
    with pytest.raises(scratchbird.DataError):
        conn.execute("SELECT :x", {"x": SqlLiteral("1\x00")})
    with pytest.raises(scratchbird.ProgrammingError, match="unknown type name"):
        conn.adapters.register_loader("no-such-type", str)
    with pytest.raises(scratchbird.ProgrammingError):
        conn.adapters.register_dumper("notaclass", str)
    with pytest.raises(scratchbird.ProgrammingError):
        conn.adapters.register_loader(20, "notcallable")


def test_raw_text_bypasses_loaders(devserver):
    with _text(devserver, raw_text=True) as conn:
        conn.adapters.register_loader("int8", lambda s: -1)
        assert conn.execute("SELECT 5 AS n").fetchone() == ("5",)


def test_binary_loaders_get_bytes(devserver, profile):
    with scratchbird.connect(devserver.dsn) as conn:
        cur = conn.cursor()
        cur.adapters.register_loader("numeric", bytes.hex, format="binary")
        cur.adapters.register_loader("numeric", lambda s: "text:" + s)
        value = cur.execute("SELECT 1.25 AS x").fetchone()[0]
        if profile == "full":   # binary values: the binary loader sees the value bytes
            from scratchbird._impl import bincodec
            assert value == bincodec.encode_value((4, 1), Decimal("1.25")).hex()
        else:                   # today's server sends text: the text loader applies
            assert value == "text:1.25"
    with pytest.raises(scratchbird.ProgrammingError, match="format"):
        conn.adapters.register_loader("numeric", str, format="csv")
