"""Array-bound executemany (REFERENCE 5.8): the packet twins, and executemany of a
prepared rowset INSERT over the real dev server, both profiles, with its fallbacks."""
from __future__ import annotations

import random
import uuid

import pytest

import scratchbird
from scratchbird import _constants as c
from scratchbird._pure import arraybind as pure_arraybind
from scratchbird.errors import DatabaseError, ProgrammingError
from scratchbird.prepared import _runner
from tests.wire_spy import WireSpy

try:
    from scratchbird._compiled import arraybind as compiled_arraybind
except ImportError:  # pragma: no cover - depends on the build
    compiled_arraybind = None

TWINS = [pytest.param(pure_arraybind, id="pure"),
         pytest.param(compiled_arraybind, id="compiled", marks=pytest.mark.skipif(
             compiled_arraybind is None, reason="compiled extensions not built"))]
ARRAY_MAGIC = b"\x01\x00\x00\x01"       # layout 1, kind 0, shape 1 (5.8)


# ------------------------------------------------------------ the packet twins


def _random_rows(rng, width, count):
    cells = [None, b"", b"0", "é€😀".encode(), b"x" * 300, b"\x00\xff"]
    return [[rng.choice(cells) for _ in range(width)] for _ in range(count)]


@pytest.mark.parametrize("seed", range(6))
def test_twins_build_the_same_packet(seed):
    if compiled_arraybind is None:
        pytest.skip("compiled extensions not built")
    rng = random.Random(seed)
    width = rng.randint(1, 9)
    rows = _random_rows(rng, width, rng.randint(1, 40))
    packet = pure_arraybind.encode_array_bind(rows, width)
    assert compiled_arraybind.encode_array_bind(rows, width) == packet
    assert compiled_arraybind.encode_array_bind([[bytearray(v) if v else v for v in r] for r in rows],
                                                width) == packet


@pytest.mark.parametrize("twin", TWINS)
def test_packet_layout(twin):
    packet = twin.encode_array_bind([[b"7", None]], 2)
    assert packet[:4] == ARRAY_MAGIC and len(packet) == 104 + 2 * 165 + 8 + 16 + 1 + 16
    assert packet[40:52] == (2).to_bytes(4, "little") + (1).to_bytes(4, "little") + \
        (330).to_bytes(4, "little")
    cell_null = packet[-16:]
    assert cell_null[:6] == b"\x02\x00\x00\x00\x01\x01" and cell_null[8:] == bytes(8)


@pytest.mark.parametrize("twin", TWINS)
@pytest.mark.parametrize("rows,width,message", [
    ([], 1, "at least one row"),
    ([[b"1"]], 0, "at least one parameter"),
    ([[b"1"], [b"1", b"2"]], 1, "row 1 has 2 values"),
    ([[b"1", "text"]], 2, "holds a str"),
    ([[3]], 1, "holds a int"),
])
def test_packet_errors_are_the_same(twin, rows, width, message):
    with pytest.raises(ProgrammingError, match=message):
        twin.encode_array_bind(rows, width)


# ------------------------------------------------------------ executemany over the wire


@pytest.fixture
def table(conn):
    name = f"ab_{uuid.uuid4().hex[:10]}"
    conn.cursor().execute(f"CREATE TABLE {name} (id INTEGER, name TEXT, qty INTEGER, price DECIMAL(10,2))")
    return name


ROWS_WITH_NULLS = [
    (1, "one", 10, "1.50"),
    (None, "two", 20, "2.50"),
    (3, None, 30, "3.50"),
    (4, "four", None, "4.50"),
    (5, "five", 50, None),
    (None, None, None, None),
]


def _rows(cur, table):
    cur.execute(f"SELECT id, name, qty, price FROM {table} ORDER BY qty NULLS LAST, name NULLS LAST")
    return cur.fetchall()


def test_executemany_uses_array_bind_with_nulls_everywhere(conn, table):
    from decimal import Decimal
    spy = WireSpy(conn)
    cur = conn.cursor()
    params = [(i, n, q, None if p is None else Decimal(p)) for i, n, q, p in ROWS_WITH_NULLS]
    cur.executemany(f"INSERT INTO {table} (id, name, qty, price) VALUES (?, ?, ?, ?)", params)
    assert cur.rowcount == 6
    binds = [p for t, p in spy.frames if t == c.BIND]
    assert spy.count(c.PARSE) == 1 and len(binds) == 1 and binds[0][:4] == ARRAY_MAGIC
    assert spy.count(c.EXECUTE) == 1 and spy.count(c.QUERY) == 0 and len(spy.writes) == 1
    got = {(r[0], r[1], r[2], r[3]) for r in _rows(cur, table)}
    assert got == {p for p in params}


def test_prepared_statement_executemany_uses_array_bind(conn, table, monkeypatch):
    monkeypatch.setattr(_runner, "PACKET_BYTES", 200)      # several packets in one write
    stmt = conn.prepare(f"INSERT INTO {table} (id, name, qty) VALUES ($1, $2, $3)")
    other = conn.prepare(f"INSERT INTO {table} (qty, id, name) VALUES ($1, $2, $3)")
    spy = WireSpy(conn)
    cur = stmt.executemany([(i, f"n{i}", i * 10) for i in range(40)])
    assert cur.rowcount == 40
    binds = [p for t, p in spy.frames if t == c.BIND]
    assert len(binds) > 3 and all(b[:4] == ARRAY_MAGIC for b in binds)
    # The packet names no statement: the other rowset INSERT of width 3 was closed first,
    # and comes back transparently when it is used again.
    closes = [p for t, p in spy.frames if t == c.CLOSE and p[:1] == b"S"]
    assert any(p.endswith(other.name.encode()) for p in closes)
    assert other.execute((7, 1000, "late")).rowcount == 1
    assert conn.execute(f"SELECT count(*) FROM {table}").fetchall() == [(41,)]


def test_fallback_for_other_statements(conn, table):
    spy = WireSpy(conn)
    cur = conn.cursor()
    cur.executemany(f"INSERT INTO {table} (id, name, qty) VALUES (?, ?, 5)",
                    [(1, "a"), (None, None)])
    assert cur.rowcount == 2
    assert not any(p[:4] == ARRAY_MAGIC for t, p in spy.frames if t == c.BIND)
    cur.executemany(f"UPDATE {table} SET qty = ? WHERE id = ?", [(6, 1), (7, 2)])
    assert not any(p[:4] == ARRAY_MAGIC for t, p in spy.frames if t == c.BIND)
    assert sorted(r[2] for r in _rows(cur, table)) == [5, 6]


def test_fallback_when_a_value_needs_literals(conn, table):
    spy = WireSpy(conn)
    cur = conn.cursor()
    cur.executemany(f"INSERT INTO {table} (id, name, qty) VALUES (?, ?, ?)",
                    [(1, "a", 1), (2, b"bytes", 2)])
    assert cur.rowcount == 2
    assert not any(p[:4] == ARRAY_MAGIC for t, p in spy.frames if t == c.BIND)


def test_fallback_without_the_feature(devserver):
    """A legacy STARTUP negotiates no features (REFERENCE 3.5): no array bind."""
    with scratchbird.connect(devserver.dsn, startup_layout="legacy") as conn:
        assert not conn.info["negotiated_features"] & c.FEATURE_ARRAY_BIND
        table = f"abl_{uuid.uuid4().hex[:10]}"
        cur = conn.cursor()
        cur.execute(f"CREATE TABLE {table} (id INTEGER, name TEXT)")
        spy = WireSpy(conn)
        cur.executemany(f"INSERT INTO {table} (id, name) VALUES (?, ?)", [(1, None), (None, "b")])
        assert cur.rowcount == 2
        assert not any(p[:4] == ARRAY_MAGIC for t, p in spy.frames if t == c.BIND)
        assert sorted(cur.execute(f"SELECT id, name FROM {table}").fetchall(),
                      key=str) == sorted([(1, None), (None, "b")], key=str)


def test_array_bind_error_leaves_the_connection_usable(conn):
    cur = conn.cursor()
    with pytest.raises(DatabaseError):
        cur.executemany("INSERT INTO no_such_table_ab (id, name) VALUES (?, ?)", [(1, "a"), (2, "b")])
    conn.rollback()
    assert conn.execute("SELECT 5").fetchall() == [(5,)]
