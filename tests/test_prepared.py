"""Prepared statements (scratchbird.prepared): explicit, named and auto-prepared
statements over the real dev server, both profiles (REFERENCE 5)."""
from __future__ import annotations

import datetime as dt
import struct
import uuid
from decimal import Decimal

import pytest

import scratchbird
from scratchbird import _constants as c
from scratchbird._dsn import make_params
from scratchbird.errors import DatabaseError, DataError, InterfaceError, ProgrammingError
from tests.wire_spy import WireSpy


def _table(prefix: str = "p") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


@pytest.fixture
def table(conn):
    name = _table()
    cur = conn.cursor()
    cur.execute(f"CREATE TABLE {name} (id INTEGER, name TEXT, amount DECIMAL(10,2))")
    cur.execute(f"INSERT INTO {name} (id, name, amount) VALUES (1, 'one', 1.50), (2, 'two', 2.25)",
                prepare=False)
    return name


def _connect(devserver, **options):
    return scratchbird.connect(devserver.dsn, **options)


def _parse_names(spy):
    """Statement names of the PARSE frames the spy saw."""
    out = []
    for msg_type, payload in spy.frames:
        if msg_type == c.PARSE:
            length, = struct.unpack_from("<I", payload)
            out.append(payload[4:4 + length].decode())
    return out


def _named_parses(spy) -> int:
    """PARSEs of named statements (the full profile's unprepared binary path sends an
    unnamed PARSE with every parameterised execute)."""
    return sum(1 for name in _parse_names(spy) if name)


# ------------------------------------------------------------ explicit statements


def test_prepare_describes_and_executes_many_times(conn, table):
    stmt = conn.prepare(f"SELECT * FROM {table} WHERE id = ?")
    assert len(stmt.parameters) == 1
    assert stmt.name.startswith("_sb")
    spy = WireSpy(conn)
    assert stmt.execute((1,)).fetchall() == [(1, "one", Decimal("1.50"))]
    assert stmt.execute([2]).fetchall() == [(2, "two", Decimal("2.25"))]
    assert stmt.execute((3,)).rowcount == 0
    # One write per execute; PARSE only the first time (types fixed then), never again.
    assert len(spy.writes) == 3
    assert spy.count(c.PARSE) == 1 and spy.count(c.BIND) == 3 and spy.count(c.SYNC) == 3
    assert spy.names[-4:] == ["CLOSE", "BIND", "EXECUTE", "SYNC"]
    stmt.close()


def test_named_statement_lives_under_its_name(conn, table):
    by_id = conn.prepare(f"SELECT name FROM {table} WHERE id = $1", name="by_id")
    by_name = conn.prepare(f"SELECT * FROM {table} WHERE name = :n", name="by_name")
    assert by_id.name == "by_id" and by_name.name == "by_name"
    spy = WireSpy(conn)
    assert by_name.execute({"n": "two"}).fetchall()[0][0] == 2
    assert "one" in by_id.execute((1,)).fetchall()[0]
    assert set(_parse_names(spy)) <= {"by_id", "by_name"}
    bind_names = [p for t, p in spy.frames if t == c.BIND]
    assert b"by_name" in bind_names[0] and b"by_id" in bind_names[1]
    spy.clear()
    by_id.close()
    by_id.close()                                               # twice is a no-op
    assert spy.frames[0] == (c.CLOSE, b"S\x00\x00\x00" + struct.pack("<I", 5) + b"by_id")
    with pytest.raises(InterfaceError, match="closed"):
        by_id.execute((1,))
    assert by_name.execute({"n": "one"}).fetchall()[0][0] == 1
    by_name.close()


def test_prepared_executemany_and_context_manager(conn, table):
    with conn.prepare(f"UPDATE {table} SET name = ? WHERE id = ?") as stmt:
        cur = stmt.executemany([("uno", 1), ("dos", 2)])
        assert cur.rowcount == 2
    assert stmt.closed
    assert sorted(conn.execute(f"SELECT id, name FROM {table}").fetchall())[0][1] == "uno"


def test_prepare_refuses_several_statements(conn):
    with pytest.raises(ProgrammingError, match="one statement"):
        conn.prepare("SELECT 1; SELECT 2")


def test_values_that_need_literals_fall_back(conn, table):
    stmt = conn.prepare(f"SELECT id FROM {table} WHERE id IN ? ORDER BY id")
    assert [r[0] for r in stmt.execute(((1, 2),)).fetchall()] == [1, 2]
    cur = conn.cursor()
    cur.execute(f"SELECT id FROM {table} WHERE id IN ?", ((2,),), prepare=True)
    assert cur.fetchall()[0][0] == 2


def test_types_round_trip_as_the_query_path_does(conn):
    values = (True, -7, 2 ** 70, 1.25, Decimal("-12.340"), "x'y \\ z", None,
              dt.date(2026, 1, 2), uuid.UUID("12345678-1234-5678-1234-567812345678"))
    sql = "SELECT " + ", ".join(f"? AS c{i}" for i in range(len(values)))
    plain = conn.cursor().execute(sql, values, prepare=False).fetchall()
    prepared = conn.cursor().execute(sql, values, prepare=True).fetchall()
    assert prepared == plain
    assert prepared[0][1] == -7 and prepared[0][5] == "x'y \\ z"


def test_nul_in_a_string_is_refused_as_on_the_query_path(conn):
    with pytest.raises(DataError, match="NUL") if conn.binary_values is False else _nothing():
        conn.cursor().execute("SELECT ? AS v", ("a\x00b",), prepare=True)
    assert conn.execute("SELECT 1").fetchall() == [(1,)]


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_streaming_cursor_reads_a_prepared_result(conn):
    cur = conn.cursor(stream=True)
    cur.itersize = 10
    cur.execute("SELECT * FROM range(?)", (35,), prepare=True)
    assert len(cur.fetchall()) == 35
    assert conn.execute("SELECT 2").fetchall() == [(2,)]


# ------------------------------------------------------------ the statement cache


def test_auto_prepared_at_the_fifth_use(devserver):
    with _connect(devserver) as conn:
        table = _table()
        conn.cursor().execute(f"CREATE TABLE {table} (id INTEGER, v TEXT)")
        spy = WireSpy(conn)
        sql = f"INSERT INTO {table} (id, v) VALUES (?, ?)"
        cur = conn.cursor()
        for i in range(4):
            cur.execute(sql, (i, f"v{i}"))
        assert _named_parses(spy) == 0 and spy.count(c.BIND) == (4 if conn.binary_values else 0)
        assert conn.statement_cache.stats()["prepares"] == 0
        cur.execute(sql, (4, "v4"))                     # the 5th use prepares
        assert _named_parses(spy) == 1 and cur.rowcount == 1
        cur.execute(sql, (5, "v5"))                     # the 6th reuses it
        cur.execute(sql, (6, None))
        assert _named_parses(spy) == 1 and spy.count(c.BIND) == (7 if conn.binary_values else 3)
        stats = conn.statement_cache.stats()
        assert (stats["hits"], stats["misses"], stats["prepares"]) == (2, 1, 1)
        assert conn.execute(f"SELECT count(*) FROM {table}").fetchall() == [(7,)]


def test_prepare_threshold_none_never_prepares(devserver):
    with _connect(devserver, prepare_threshold=None) as conn:
        spy = WireSpy(conn)
        for i in range(12):
            assert conn.execute("SELECT ? AS v", (i,)).fetchall() == [(i,)]
        assert _named_parses(spy) == 0
        assert conn.statement_cache.stats()["prepares"] == 0
        # an explicit request still prepares
        assert conn.cursor().execute("SELECT ? AS v", (5,), prepare=True).fetchall() == [(5,)]
        assert _named_parses(spy) == 1


def test_prepare_threshold_zero_prepares_at_first_use(devserver):
    with _connect(devserver, prepare_threshold=0) as conn:
        spy = WireSpy(conn)
        assert conn.execute("SELECT ? AS v", ("a",)).fetchall() == [("a",)]
        assert _named_parses(spy) == 1
        conn.cursor().execute("SELECT ? AS v", ("b",), prepare=False)
        assert _named_parses(spy) == 1


def test_statements_without_parameters_are_not_auto_prepared(devserver):
    with _connect(devserver, prepare_threshold=0) as conn:
        spy = WireSpy(conn)
        for _ in range(6):
            conn.execute("SELECT 1")
        assert _named_parses(spy) == 0
        assert conn.cursor().execute("SELECT 1", prepare=True).fetchall() == [(1,)]
        assert _named_parses(spy) == 1


def test_lru_eviction_sends_close_with_the_next_request(devserver):
    with _connect(devserver, prepare_threshold=0, statement_cache_size=2) as conn:
        cur = conn.cursor()
        for i in range(2):
            cur.execute(f"SELECT ? AS v{i}", (i,))
        spy = WireSpy(conn)
        cur.execute("SELECT ? AS v2", (9,))               # evicts v0: its CLOSE rides along
        assert cur.fetchall() == [(9,)]
        stats = conn.statement_cache.stats()
        assert stats["evictions"] == 1 and stats["size"] == 2 and stats["prepares"] == 3
        assert len(spy.writes) == 1
        closes = [p for t, p in spy.frames if t == c.CLOSE and p[:1] == b"S"]
        assert len(closes) == 1 and closes[0].endswith(b"_sb1")
        # the evicted statement comes back as a miss and is prepared again
        cur.execute("SELECT ? AS v0", (7,))
        assert cur.fetchall() == [(7,)]
        assert conn.statement_cache.stats()["misses"] == 4


def test_reprepared_after_the_server_evicted_it(devserver):
    """The server keeps 256 statements and evicts silently (REFERENCE 5 "Limits")."""
    with _connect(devserver, prepare_threshold=0, statement_cache_size=400) as conn:
        cur = conn.cursor()
        for i in range(257):
            cur.execute(f"SELECT ? AS v{i}", (i,))
        spy = WireSpy(conn)
        cur.execute("SELECT ? AS v0", (42,))              # _sb1 is gone on the server
        assert cur.fetchall() == [(42,)]
        stats = conn.statement_cache.stats()
        assert stats["reprepares"] == 1 and stats["prepares"] == 258
        assert len(spy.writes) == 2                       # refused BIND, then PARSE + BIND
        assert _named_parses(spy) == 1 and spy.count(c.BIND) == 2
        cur.execute("SELECT ? AS v0", (43,))
        assert cur.fetchall() == [(43,)] and conn.statement_cache.stats()["reprepares"] == 1


def test_explicit_statement_reprepared_after_eviction(devserver):
    with _connect(devserver, prepare_threshold=0, statement_cache_size=400) as conn:
        table = _table()
        conn.cursor().execute(f"CREATE TABLE {table} (id INTEGER)")
        stmt = conn.prepare(f"INSERT INTO {table} (id) VALUES ($1)", name="keep")
        stmt.execute((1,))
        cur = conn.cursor()
        for i in range(257):
            cur.execute(f"SELECT ? AS w{i}", (i,))
        assert stmt.execute((2,)).rowcount == 1
        assert conn.statement_cache.stats()["reprepares"] == 1
        # the refused first BIND ran nothing: exactly two rows
        assert sorted(conn.execute(f"SELECT id FROM {table}").fetchall()) == [(1,), (2,)]


def test_schema_change_between_uses(devserver):
    with _connect(devserver, prepare_threshold=0) as conn:
        table = _table()
        cur = conn.cursor()
        cur.execute(f"CREATE TABLE {table} (id INTEGER, a TEXT)")
        cur.execute(f"INSERT INTO {table} (id, a) VALUES (1, 'x')", prepare=False)
        sql = f"SELECT * FROM {table} WHERE id = ?"
        cur.execute(sql, (1,))
        assert [d[0] for d in cur.description] == ["id", "a"]
        cur.execute(f"ALTER TABLE {table} ADD COLUMN b INTEGER")
        cur.execute(f"UPDATE {table} SET b = 5", prepare=False)
        cur.execute(sql, (1,))
        assert [d[0] for d in cur.description] == ["id", "a", "b"]
        assert cur.fetchall() == [(1, "x", 5)]
        conn.commit()
        cur.execute(f"DROP TABLE {table}")
        conn.commit()
        with pytest.raises(DatabaseError):
            cur.execute(sql, (1,))
        conn.rollback()
        spy = WireSpy(conn)
        cur.execute(f"CREATE TABLE {table} (id INTEGER, c TEXT)")
        cur.execute(f"INSERT INTO {table} (id, c) VALUES (1, 'new')", prepare=False)
        cur.execute(sql, (1,))                            # parsed again after the error
        assert cur.fetchall() == [(1, "new")]
        assert _named_parses(spy) == 1


def test_clear_forgets_everything(devserver):
    with _connect(devserver, prepare_threshold=0) as conn:
        for i in range(3):
            conn.execute(f"SELECT ? AS v{i}", (i,))
        conn.statement_cache.clear()
        assert conn.statement_cache.stats()["size"] == 0
        spy = WireSpy(conn)
        assert conn.execute("SELECT ? AS v0", (1,)).fetchall() == [(1,)]
        names = spy.names
        assert names.count("CLOSE") == 4 and names.count("PARSE") == 1   # 3 'S' + 1 'P'


def test_connect_options(devserver):
    assert make_params("prepare_threshold=none statement_cache_size=3").prepare_threshold is None
    assert make_params("scratchbird://h/db?prepare_threshold=0").prepare_threshold == 0
    assert make_params(prepare_threshold=None).prepare_threshold is None
    assert make_params().prepare_threshold == 5 and make_params().statement_cache_size == 64
    with pytest.raises(ProgrammingError, match="prepare_threshold"):
        make_params(prepare_threshold="soon")
    with pytest.raises(ProgrammingError, match="statement_cache_size"):
        make_params(statement_cache_size=-1)
    with _connect(devserver, statement_cache_size=0) as conn:
        for i in range(6):
            conn.execute("SELECT ? AS v", (i,))
        assert conn.statement_cache.stats()["size"] == 0
        assert conn.cursor().execute("SELECT ? AS v", (1,), prepare=True).fetchall() == [(1,)]


def test_parameters_that_do_not_fit_raise_the_literal_paths_error(conn):
    cur = conn.cursor()
    for params in [(1, 2), [], {"a": 1}, "ab"]:
        with pytest.raises(ProgrammingError):
            cur.execute("SELECT ? AS a", params, prepare=True)
    with pytest.raises(ProgrammingError):
        cur.execute("SELECT :a AS a", {"b": 1}, prepare=True)
    assert cur.execute("SELECT :a AS a", {"a": 3}, prepare=True).fetchall() == [(3,)]
