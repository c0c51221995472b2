"""The dev server's result cache on the extended path (EXECUTE), and its extended replies
in one write (docs/protocol.md 8.5).

An EXECUTE whose bound SQL text (``sbsql``: the statement with its literals substituted,
REFERENCE 5.2) was answered before, with no commit since, is replayed like a QUERY; a
commit (by a QUERY or by a prepared write) or a session's uncommitted writes invalidate
it as on the QUERY path. PARSE/CLOSE/BIND_COMPLETE wait for the result and go out with it
and the SYNC's READY, in one write.
"""
from __future__ import annotations

import pytest

import scratchbird
from scratchbird import _constants as C
from scratchbird._pure import framing as py_framing
from scratchbird.devserver import DevServer
from scratchbird.devserver._session import Session

USER, PASSWORD = "sb", "exec-cache-pw"
LOOKUP = "SELECT id, name FROM t WHERE id = $1"


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


def _lookup(stmt, key):
    cur = stmt.execute((key,))
    return cur.fetchall(), cur.description, cur.rowcount


def test_a_repeated_execute_is_replayed(server, conn):
    cache = server.result_cache
    stmt = conn.prepare(LOOKUP)
    first = _lookup(stmt, 3)
    hits = cache.hits
    assert _lookup(stmt, 3) == first == ([(3, "n3")], first[1], 1)
    assert cache.hits == hits + 1
    assert _lookup(stmt, 4)[0] == [(4, "n4")]        # other values: another entry
    assert cache.hits == hits + 1
    assert _lookup(stmt, 4)[0] == [(4, "n4")]
    assert cache.hits == hits + 2


def test_execute_and_query_of_the_same_text_share_an_entry(server, conn):
    cache = server.result_cache
    stmt = conn.prepare(LOOKUP)
    assert _lookup(stmt, 5)[0] == [(5, "n5")]
    hits = cache.hits
    cur = conn.cursor()
    cur.execute("SELECT id, name FROM t WHERE id = 5", prepare=False)
    assert cur.fetchall() == [(5, "n5")]
    assert cache.hits == hits + 1


def test_a_prepared_write_and_commit_invalidate(server, conn):
    stmt = conn.prepare(LOOKUP)
    assert _lookup(stmt, 7)[0] == [(7, "n7")]
    writer = scratchbird.connect(server.dsn)
    try:
        update = writer.prepare("UPDATE t SET name = $1 WHERE id = $2")
        update.execute(("seven", 7))
        assert _lookup(stmt, 7)[0] == [(7, "n7")]    # not committed yet: still valid
        writer.commit()
        assert _lookup(stmt, 7)[0] == [(7, "seven")]
        update.execute(("n7", 7))
        writer.commit()
        assert _lookup(stmt, 7)[0] == [(7, "n7")]
    finally:
        writer.close()


def test_own_uncommitted_writes_bypass_the_cache(server, conn):
    cache = server.result_cache
    stmt = conn.prepare(LOOKUP)
    assert _lookup(stmt, 8)[0] == [(8, "n8")]
    conn.prepare("UPDATE t SET name = $1 WHERE id = $2").execute(("mine", 8))
    hits = cache.hits
    assert _lookup(stmt, 8)[0] == [(8, "mine")]      # sees its own write
    assert cache.hits == hits
    conn.rollback()
    assert _lookup(stmt, 8)[0] == [(8, "n8")]


def test_ddl_invalidates(server, conn):
    sql = "SELECT * FROM t WHERE id = $1"
    stmt = conn.prepare(sql)
    assert _lookup(stmt, 2)[1][-1][0] == "name"
    conn.execute("ALTER TABLE t ADD COLUMN extra INTEGER DEFAULT 0")
    conn.commit()
    try:
        rows, description, _ = _lookup(conn.prepare(sql), 2)
        assert rows == [(2, "n2", 0)] and description[-1][0] == "extra"
    finally:
        conn.execute("ALTER TABLE t DROP COLUMN extra")
        conn.commit()


@pytest.fixture
def writes(monkeypatch):
    """The frame types of every write the dev server's sessions make, write by write."""
    out = []
    flush = Session._flush

    def recording_flush(self):
        if self._out:
            reader = py_framing.FrameReader(check_flags=False)
            reader.feed(b"".join(self._out))
            out.append([frame.msg_type for frame in iter(reader.next_frame, None)])
        flush(self)

    monkeypatch.setattr(Session, "_flush", recording_flush)
    return out


@pytest.mark.parametrize("cached", [False, True], ids=["engine", "replay"])
def test_extended_replies_go_in_one_write(server, conn, writes, cached):
    stmt = conn.prepare(LOOKUP)
    _lookup(stmt, 1)
    if not cached:
        server.result_cache.clear()
    del writes[:]
    assert _lookup(stmt, 1)[0] == [(1, "n1")]
    assert writes == [[C.CLOSE_COMPLETE, C.BIND_COMPLETE, C.ROW_DESCRIPTION, C.DATA_ROW,
                       C.COMMAND_COMPLETE, C.READY]]
