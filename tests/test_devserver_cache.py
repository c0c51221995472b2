"""The dev server's opt-in result cache (``DevServer(cache_results=True)``).

A repeated read-only SELECT is answered from the kept rows, re-framed with the asking
session's sequence numbers, attachment and txn id; any COMMIT invalidates; a session with
uncommitted writes neither reads nor fills the cache. Off by default.
"""
from __future__ import annotations

import pytest

import scratchbird
from scratchbird import _constants as C
from scratchbird._impl import framing
from scratchbird.devserver import DevServer
from scratchbird.devserver._cache import ResultCache

USER, PASSWORD = "sb", "cache-pw"


@pytest.fixture(scope="module")
def server():
    with DevServer(user=USER, password=PASSWORD, tls="off", cache_results=True) as srv:
        conn = scratchbird.connect(srv.dsn)
        conn.execute("CREATE TABLE t (id INTEGER, name VARCHAR)")
        conn.cursor().executemany("INSERT INTO t VALUES (:id, :name)",
                                  [{"id": i, "name": f"n{i}"} for i in range(10)])
        conn.commit()
        conn.close()
        yield srv


@pytest.fixture
def conn(server):
    server.result_cache.clear()
    connection = scratchbird.connect(server.dsn)
    yield connection
    connection.close()


def _rows(conn, sql):
    cur = conn.cursor()
    cur.execute(sql)
    rows = cur.fetchall() if cur.description is not None else []
    return rows, cur.description, cur.statusmessage


def test_off_by_default():
    srv = DevServer(tls="off")
    assert srv.cache_results is False and srv.result_cache is None


def test_repeated_select_is_replayed_identically(server, conn):
    cache = server.result_cache
    sql = "SELECT id, name, id * 2 AS twice FROM t ORDER BY id"
    first = _rows(conn, sql)
    hits = cache.hits
    second = _rows(conn, sql)
    assert cache.hits == hits + 1
    assert first == second
    assert first[0][3] == (3, "n3", 6) and first[2] == "SELECT 10"
    other = scratchbird.connect(server.dsn)         # another session: its own ids
    try:
        assert _rows(other, sql) == first
        assert cache.hits == hits + 2
    finally:
        other.close()


def test_replayed_frames_carry_the_sessions_sequence_attachment_and_txn(server, conn):
    sql = "SELECT id FROM t ORDER BY id"
    _rows(conn, sql)                                  # fills the cache
    proto, transport = conn._proto, conn._transport
    transport.send(proto.query_frame(sql))
    reader = framing.FrameReader()
    frames = []
    while not frames or frames[-1].msg_type != C.READY:
        reader.feed(transport.recv())
        while (frame := reader.next_frame()) is not None:
            frames.append(frame)
    proto._finish()
    types = [f.msg_type for f in frames]
    assert types == [C.ROW_DESCRIPTION] + [C.DATA_ROW] * 10 + [C.COMMAND_COMPLETE, C.READY]
    seqs = [f.sequence for f in frames]
    assert seqs == list(range(seqs[0], seqs[0] + len(frames)))
    assert all(bytes(f.attachment_id) == proto.session_id for f in frames)
    assert all(f.txn_id == proto.txn_id for f in frames)
    assert server.result_cache.hits >= 1


def test_commit_invalidates(server, conn):
    sql = "SELECT count(*) AS n FROM t"
    assert _rows(conn, sql)[0] == [(10,)]
    writer = scratchbird.connect(server.dsn)
    try:
        writer.execute("INSERT INTO t VALUES (100, 'x')")
        assert _rows(conn, sql)[0] == [(10,)]        # not committed yet: still valid
        writer.commit()
        assert _rows(conn, sql)[0] == [(11,)]
        writer.execute("DELETE FROM t WHERE id = 100")
        writer.commit()
        assert _rows(conn, sql)[0] == [(10,)]
    finally:
        writer.close()


def test_session_with_uncommitted_writes_bypasses_the_cache(server, conn):
    sql = "SELECT count(*) AS n FROM t"
    cache = server.result_cache
    assert _rows(conn, sql)[0] == [(10,)]
    conn.execute("INSERT INTO t VALUES (200, 'y')")
    hits, size = cache.hits, len(cache)
    assert _rows(conn, sql)[0] == [(11,)]            # sees its own write
    assert cache.hits == hits
    other = scratchbird.connect(server.dsn)
    try:
        assert _rows(other, sql)[0] == [(10,)]       # never sees the uncommitted row
    finally:
        other.close()
    conn.rollback()
    assert _rows(conn, sql)[0] == [(10,)]
    assert len(cache) == size


def test_only_single_selects_are_kept(server, conn):
    cache = server.result_cache
    _rows(conn, "SELECT 1 AS a; SELECT 2 AS b")
    _rows(conn, "VALUES (1)")
    conn.execute("UPDATE t SET name = name WHERE id < 0")
    conn.rollback()
    assert len(cache) == 0
    assert not ResultCache.cacheable("SELECT 1; SELECT 2")
    assert not ResultCache.cacheable("INSERT INTO t VALUES (1, 'a')")
    assert ResultCache.cacheable("  select * from t -- comment")


def test_empty_result_is_replayed_without_a_row_description(server, conn):
    sql = "SELECT id FROM t WHERE id < 0"
    hits = server.result_cache.hits
    for _ in range(2):
        rows, description, status = _rows(conn, sql)
        assert rows == [] and description is None and status == "SELECT 0"
    assert server.result_cache.hits == hits + 1


def test_results_above_the_size_limit_are_not_kept(server, conn, monkeypatch):
    cache = server.result_cache
    monkeypatch.setattr(cache, "max_values", 5)
    _rows(conn, "SELECT id FROM t")
    assert len(cache) == 0
    _rows(conn, "SELECT id FROM t WHERE id < 3")
    assert len(cache) == 1


def test_least_recently_used_entries_go_first(server, conn, monkeypatch):
    cache = server.result_cache
    monkeypatch.setattr(cache, "max_entries", 2)
    for k in range(3):
        _rows(conn, f"SELECT {k} AS k")
    assert len(cache) == 2
    hits = cache.hits
    _rows(conn, "SELECT 0 AS k")                     # evicted: a miss
    assert cache.hits == hits
