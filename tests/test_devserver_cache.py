"""The dev server's opt-in result cache (``DevServer(cache_results=True)``).

A repeated read-only SELECT is answered from the kept rows, re-framed with the asking
session's sequence numbers, attachment and txn id; any COMMIT invalidates; a session with
uncommitted writes neither reads nor fills the cache. Off by default. Binary results (the
``full`` profile) are kept as encoded frames, apart from text ones, and re-stamped.
"""
from __future__ import annotations

import datetime
import uuid
from decimal import Decimal

import pytest

import scratchbird
from scratchbird import _constants as C
from scratchbird._impl import framing
from scratchbird.devserver import DevServer
from scratchbird.devserver._cache import ResultCache, frame_stamps, restamp

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


# ---------------------------------------------------------------- binary results (full profile)

BINARY_SQL = ("SELECT id, name, ts, u, amount, flag, nothing FROM tb ORDER BY id")


@pytest.fixture(scope="module")
def full_server():
    with DevServer(profile="full", user=USER, password=PASSWORD, tls="off",
                   cache_results=True) as srv:
        conn = scratchbird.connect(srv.dsn)
        conn.execute("CREATE TABLE tb (id BIGINT, name VARCHAR, ts TIMESTAMP, u UUID, "
                     "amount DECIMAL(12,2), flag BOOLEAN, nothing VARCHAR)")
        conn.execute("INSERT INTO tb SELECT i, 'n' || i, TIMESTAMP '2024-01-01 00:00:00' + "
                     "to_microseconds(i * 1000003), uuid(), i / 4 * 1.25, i % 3 = 0, NULL "
                     "FROM range(10000) t(i)")
        conn.commit()
        conn.close()
        yield srv


@pytest.fixture
def bconn(full_server):
    full_server.result_cache.clear()
    connection = scratchbird.connect(full_server.dsn)
    assert connection.binary_values
    yield connection
    connection.close()


def test_binary_replay_returns_what_a_fresh_query_returns(full_server, bconn):
    cache = full_server.result_cache
    first = _rows(bconn, BINARY_SQL)                  # DuckDB; fills the cache
    assert len(cache) == 1
    hits = cache.hits
    second = _rows(bconn, BINARY_SQL)                 # replayed: several batches of frames
    assert cache.hits == hits + 1
    assert second == first and first[2] == "SELECT 10000"
    rows = first[0]
    assert len(rows) == 10000 and rows[0][0] == 0 and rows[-1][0] == 9999
    row = rows[5]
    assert isinstance(row[2], datetime.datetime) and isinstance(row[3], uuid.UUID)
    assert row[4] == Decimal("1.25") and row[5] is False and row[6] is None
    expected_ts = datetime.datetime(2024, 1, 1) + datetime.timedelta(microseconds=5_000_015)
    assert row[2] == expected_ts
    other = scratchbird.connect(full_server.dsn)      # another session, its own ids
    try:
        assert _rows(other, BINARY_SQL) == first
        assert cache.hits == hits + 2
    finally:
        other.close()
    cache.clear()
    assert _rows(bconn, BINARY_SQL) == first          # fresh from DuckDB again


def test_binary_replay_is_stamped_for_the_session(full_server, bconn):
    sql = "SELECT id, ts FROM tb WHERE id < 5000 ORDER BY id"      # two batches
    _rows(bconn, sql)
    hits = full_server.result_cache.hits
    proto, transport = bconn._proto, bconn._transport
    transport.send(proto.query_frame(sql, C.QUERY_FLAG_BINARY_RESULT))
    reader = framing.FrameReader()
    frames = []
    while not frames or frames[-1].msg_type != C.READY:
        reader.feed(transport.recv())
        while (frame := reader.next_frame()) is not None:
            frames.append(frame)
    proto._finish()
    assert full_server.result_cache.hits == hits + 1
    types = [f.msg_type for f in frames]
    assert types == [C.ROW_DESCRIPTION] + [C.DATA_ROW] * 5000 + [C.COMMAND_COMPLETE, C.READY]
    seqs = [f.sequence for f in frames]
    assert seqs == list(range(seqs[0], seqs[0] + len(frames)))
    assert all(bytes(f.attachment_id) == proto.session_id for f in frames)
    assert all(f.txn_id == proto.txn_id for f in frames)


def test_restamp_wraps_the_32_bit_sequence():
    frames = b"".join(framing.encode_frame(C.DATA_ROW, bytes([k]) * k, 7, bytes(16), 1)
                      for k in range(1, 4))
    stamps = frame_stamps(frames)
    out, nxt = restamp(frames, stamps, 0xFFFFFFFF, b"a" * 16, 9)
    assert nxt == 0xFFFFFFFF + 3
    reader = framing.FrameReader()
    reader.feed(bytes(out))
    got = [reader.next_frame() for _ in range(3)]
    assert [f.sequence for f in got] == [0xFFFFFFFF, 0, 1]
    assert all(bytes(f.attachment_id) == b"a" * 16 and f.txn_id == 9 for f in got)
    assert [bytes(f.payload) for f in got] == [bytes([k]) * k for k in range(1, 4)]


def test_binary_entries_are_invalidated_by_a_commit(full_server, bconn):
    sql = "SELECT count(*) AS n, max(ts) AS last FROM tb"
    before = _rows(bconn, sql)[0]
    assert before[0][0] == 10000
    writer = scratchbird.connect(full_server.dsn)
    try:
        writer.execute("INSERT INTO tb (id, ts) VALUES (-1, TIMESTAMP '2030-01-01 00:00:00')")
        assert _rows(bconn, sql)[0] == before          # not committed: still the entry
        writer.commit()
        after = _rows(bconn, sql)[0]
        assert after == [(10001, datetime.datetime(2030, 1, 1))]
        writer.execute("DELETE FROM tb WHERE id = -1")
        writer.commit()
        assert _rows(bconn, sql)[0] == before
    finally:
        writer.close()


def test_text_and_binary_sessions_keep_separate_entries(full_server, bconn):
    sql = "SELECT id, ts, u FROM tb WHERE id < 3 ORDER BY id"
    cache = full_server.result_cache
    text = scratchbird.connect(full_server.dsn, binary_transfer=False)
    try:
        assert not text.binary_values
        binary_rows = _rows(bconn, sql)[0]
        hits = cache.hits
        text_rows = _rows(text, sql)[0]                # a miss, not the binary frames
        assert len(cache) == 2 and cache.hits == hits
        for _ in range(2):                             # each replays its own entry
            assert _rows(bconn, sql)[0] == binary_rows
            assert _rows(text, sql)[0] == text_rows
        assert cache.hits == hits + 4
    finally:
        text.close()
    assert isinstance(binary_rows[1][1], datetime.datetime)
    assert isinstance(binary_rows[1][2], uuid.UUID)
    assert text_rows[1][1] == str(binary_rows[1][1]) and text_rows[1][2] == str(binary_rows[1][2])


def test_compressed_binary_sessions_skip_the_cache(full_server, bconn):
    cache = full_server.result_cache
    expected = _rows(bconn, BINARY_SQL)
    hits, size = cache.hits, len(cache)
    with scratchbird.connect(full_server.dsn, compression="zstd") as zconn:
        assert zconn.binary_values
        for _ in range(2):
            assert _rows(zconn, BINARY_SQL) == expected
    assert cache.hits == hits and len(cache) == size


def test_binary_results_above_the_size_limit_are_not_kept(full_server, bconn, monkeypatch):
    cache = full_server.result_cache
    monkeypatch.setattr(cache, "max_values", 4096 * 2)
    _rows(bconn, "SELECT id, ts FROM tb WHERE id < 4097")        # 8194 values: not kept
    assert len(cache) == 0
    _rows(bconn, "SELECT id, ts FROM tb WHERE id < 4096")
    assert len(cache) == 1
