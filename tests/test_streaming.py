"""Streaming cursors: rows arrive itersize at a time; memory stays bounded."""
from __future__ import annotations

import pytest

import scratchbird

BIG = "SELECT i, 'row ' || i AS s FROM range({n}) t(i) ORDER BY i"


def test_stream_iterates_everything_in_bounded_batches(conn):
    cur = conn.cursor(stream=True)
    cur.itersize = 500
    cur.execute(BIG.format(n=50_000))
    assert cur.rowcount == -1  # not known until the end arrives
    assert [d[0] for d in cur.description] == ["i", "s"]
    count = 0
    biggest_buffer = 0
    for row in cur:
        assert row == (count, f"row {count}")
        count += 1
        biggest_buffer = max(biggest_buffer, len(cur._rows))
    assert count == 50_000
    assert biggest_buffer <= 500 + 1
    assert cur.rowcount == 50_000


def test_stream_fetchmany_across_batches_and_fetchall(conn):
    cur = conn.cursor(stream=True)
    cur.itersize = 100
    cur.execute(BIG.format(n=1_000))
    first = cur.fetchmany(250)
    assert [r[0] for r in first] == list(range(250))
    assert cur.fetchone() == (250, "row 250")
    rest = cur.fetchall()
    assert [r[0] for r in rest] == list(range(251, 1_000))
    assert cur.fetchone() is None and cur.fetchmany(3) == []


def test_stream_multi_statement_nextset(conn):
    cur = conn.cursor(stream=True)
    cur.itersize = 10
    cur.execute("SELECT 1 AS a; " + BIG.format(n=100) + "; SELECT 'last' AS z")
    assert cur.fetchall() == [(1,)]
    assert cur.nextset() is True
    assert cur.fetchmany(3) == [(0, "row 0"), (1, "row 1"), (2, "row 2")]
    assert cur.nextset() is True  # the rest of the second result is dropped
    assert cur.fetchall() == [("last",)]
    assert cur.nextset() is None


def test_abandoned_stream_keeps_connection_in_step(conn):
    a = conn.cursor(stream=True)
    a.itersize = 100
    a.execute(BIG.format(n=10_000))
    assert a.fetchone() == (0, "row 0")
    b = conn.cursor()
    assert b.execute("SELECT 'other' AS o").fetchall() == [("other",)]
    seen = a.fetchall()  # the rows it had buffered, then the end
    assert len(seen) < 10_000 and all(r[1] == f"row {r[0]}" for r in seen)
    assert conn.execute("SELECT 2").fetchone() == (2,)


def test_stream_error_is_raised(conn):
    cur = conn.cursor(stream=True)
    with pytest.raises(scratchbird.ProgrammingError):
        cur.execute("SELECT * FROM no_such_table_for_stream")
    assert conn.execute("SELECT 3").fetchone() == (3,)


def test_closing_a_streaming_cursor_drains_it(conn):
    cur = conn.cursor(stream=True)
    cur.itersize = 50
    cur.execute(BIG.format(n=5_000))
    cur.fetchone()
    cur.close()
    assert conn.execute("SELECT 4").fetchone() == (4,)
