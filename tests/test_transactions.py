"""transaction() blocks, savepoints, isolation_level and read_only against both dev-server
profiles, over TLS and plaintext (the ``any_conn`` fixture), under both implementations.

``sbsql`` mirrors today's server: ROLLBACK TO undoes nothing (REFERENCE 12.A.8, so the
driver warns) and read-only is accepted but not enforced (12.D). ``full`` has the spec's
semantics: savepoints undo, read-only refuses writes, SERIALIZABLE keeps its snapshot.
"""
from __future__ import annotations

import itertools
import re
import warnings

import pytest

import scratchbird
from scratchbird import _constants as c
from scratchbird.errors import NotSupportedError, ProgrammingError, TransactionRollbackError
from scratchbird.transactions import SavepointNotUndoneWarning

_ids = itertools.count(1)


@pytest.fixture(params=["tls", "plain"])
def any_conn(request, profile):
    server = request.getfixturevalue("devserver" if request.param == "tls" else "plain_devserver")
    connection = scratchbird.connect(server.dsn)
    connection.profile = profile
    connection.server_dsn = server.dsn
    yield connection
    connection.close()


def new_table(conn) -> str:
    name = f"txn_t{next(_ids)}_{conn.info['session_id'][:8]}"
    conn.execute(f"CREATE TABLE {name} (id INTEGER, note VARCHAR)")
    conn.commit()
    return name


def ids(conn, table):
    found = ids_in_txn(conn, table)
    conn.rollback()
    return found


def test_block_commits_on_success_and_rolls_back_on_error(any_conn):
    t = new_table(any_conn)
    with any_conn.transaction():
        any_conn.execute(f"INSERT INTO {t} (id, note) VALUES (1, 'kept')")
    with pytest.raises(ZeroDivisionError):
        with any_conn.transaction():
            any_conn.execute(f"INSERT INTO {t} (id, note) VALUES (2, 'lost')")
            1 / 0
    assert ids(any_conn, t) == [1]
    # committed means visible to another session
    other = scratchbird.connect(any_conn.server_dsn)
    try:
        assert ids_in_txn(other, t) == [1]
    finally:
        other.close()


def test_nested_block_with_inner_rollback(any_conn):
    t = new_table(any_conn)
    spec = any_conn.profile == "full"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with any_conn.transaction() as outer:
            any_conn.execute(f"INSERT INTO {t} (id, note) VALUES (1, 'outer')")
            with pytest.raises(ValueError):
                with any_conn.transaction() as inner:
                    any_conn.execute(f"INSERT INTO {t} (id, note) VALUES (2, 'inner')")
                    raise ValueError("undo the inner block")
            with any_conn.transaction():
                any_conn.execute(f"INSERT INTO {t} (id, note) VALUES (3, 'inner ok')")
    assert outer.savepoint_name is None
    assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", inner.savepoint_name)
    undo_warnings = [w for w in caught if issubclass(w.category, SavepointNotUndoneWarning)]
    if spec:     # the full profile undoes for real (replay, devserver/_engine.py)
        assert ids(any_conn, t) == [1, 3] and not undo_warnings
    else:        # today's server keeps row 2 (12.A.8): the driver says so, loudly
        assert ids(any_conn, t) == [1, 2, 3] and len(undo_warnings) == 1
        assert "12.A.8" in str(undo_warnings[0].message)


def test_savepoints_by_sql_without_feature_9(profile, plain_devserver):
    """A legacy STARTUP negotiates no features: savepoints go as SQL (6.5)."""
    conn = scratchbird.connect(plain_devserver.dsn, startup_layout="legacy")
    try:
        assert not conn.info["negotiated_features"] & c.FEATURE_SAVEPOINTS
        t = new_table(conn)
        with conn.transaction():
            conn.execute(f"INSERT INTO {t} (id, note) VALUES (1, 'a')")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", SavepointNotUndoneWarning)
                with pytest.raises(KeyError):
                    with conn.transaction():
                        conn.execute(f"INSERT INTO {t} (id, note) VALUES (2, 'b')")
                        raise KeyError
        assert ids(conn, t) == ([1] if profile == "full" else [1, 2])
    finally:
        conn.close()


def test_block_in_autocommit_mode_is_one_transaction(any_conn):
    t = new_table(any_conn)
    any_conn.autocommit = True
    with pytest.raises(RuntimeError):
        with any_conn.transaction():
            any_conn.execute(f"INSERT INTO {t} (id, note) VALUES (1, 'x')")
            raise RuntimeError
    assert any_conn.autocommit is True
    assert ids(any_conn, t) == []


def test_commit_inside_a_block_is_refused(any_conn):
    with pytest.raises(ProgrammingError, match="not allowed inside a transaction"):
        with any_conn.transaction():
            any_conn.execute("SELECT 1")
            any_conn.commit()
    assert any_conn.is_valid()


def test_block_inside_open_work_is_a_savepoint(any_conn):
    t = new_table(any_conn)
    any_conn.execute(f"INSERT INTO {t} (id, note) VALUES (1, 'open work')")
    with any_conn.transaction() as block:
        any_conn.execute(f"INSERT INTO {t} (id, note) VALUES (2, 'in block')")
    assert block.savepoint_name is not None
    any_conn.rollback()        # the block did not commit the open work
    assert ids(any_conn, t) == []


# ---------------------------------------------------------------- isolation and read-only

def test_isolation_level_is_set_by_sql_and_reported(any_conn):
    assert any_conn.isolation_level is None
    any_conn.isolation_level = "serializable"
    assert any_conn.isolation_level == "SERIALIZABLE"
    assert any_conn.server_report["transaction_isolation_level"] == "serializable"
    assert any_conn.server_report["transaction_characteristics"] == "session_defaults"
    any_conn.isolation_level = "READ_COMMITTED"
    assert any_conn.server_report["transaction_isolation_level"] == "read_committed"
    any_conn.isolation_level = None
    assert any_conn.execute("SELECT 7").fetchall() == [(7,)]


@pytest.mark.parametrize("level", ["REPEATABLE READ", "read uncommitted", "snapshot"])
def test_levels_the_server_cannot_honour_are_refused(any_conn, level):
    with pytest.raises(NotSupportedError, match="not supported"):
        any_conn.isolation_level = level
    with pytest.raises(NotSupportedError):
        any_conn.transaction(isolation_level=level)
    assert any_conn.isolation_level is None


def test_unknown_level_and_changes_inside_work(any_conn):
    with pytest.raises(ProgrammingError, match="unknown isolation level"):
        any_conn.isolation_level = "chaotic"
    any_conn.execute("SELECT 1")
    with pytest.raises(ProgrammingError, match="inside a transaction with work"):
        any_conn.isolation_level = "SERIALIZABLE"
    with pytest.raises(ProgrammingError, match="inside a transaction with work"):
        any_conn.read_only = True
    any_conn.rollback()
    any_conn.read_only = True
    assert any_conn.read_only is True


def test_read_only(any_conn):
    t = new_table(any_conn)
    any_conn.read_only = True
    assert any_conn.server_report["transaction_read_only"] == "true"
    assert any_conn.server_report["transaction_read_mode"] == "read_only"
    if any_conn.profile == "full":
        with pytest.raises(TransactionRollbackError) as info:
            any_conn.execute(f"INSERT INTO {t} (id, note) VALUES (1, 'no')")
        assert info.value.sqlstate == "25006"
    else:   # today's server accepts it and does not enforce it (REFERENCE 12.D)
        any_conn.execute(f"INSERT INTO {t} (id, note) VALUES (1, 'yes')")
    any_conn.rollback()
    assert ids(any_conn, t) == []
    any_conn.read_only = False
    any_conn.execute(f"INSERT INTO {t} (id, note) VALUES (2, 'rw')")
    any_conn.commit()
    assert ids(any_conn, t) == [2]


def test_transaction_arguments_apply_to_the_block_only(any_conn):
    t = new_table(any_conn)
    with any_conn.transaction(isolation_level="SERIALIZABLE", read_only=True):
        assert (any_conn.isolation_level, any_conn.read_only) == ("SERIALIZABLE", True)
        any_conn.execute(f"SELECT * FROM {t}")
        with pytest.raises(ProgrammingError, match="outermost"):
            any_conn.transaction(read_only=False).__enter__()
    assert (any_conn.isolation_level, any_conn.read_only) == (None, None)
    assert any_conn.server_report["transaction_read_only"] == "false"


def test_serializable_keeps_its_snapshot_in_full(any_conn):
    """full: SERIALIZABLE = one DuckDB snapshot per transaction; sbsql (and the default
    level) read what others committed meanwhile (read committed, 12.A.9)."""
    t = new_table(any_conn)
    any_conn.isolation_level = "SERIALIZABLE"
    assert ids_in_txn(any_conn, t) == []
    writer = scratchbird.connect(any_conn.server_dsn)
    try:
        writer.execute(f"INSERT INTO {t} (id, note) VALUES (1, 'concurrent')")
        writer.commit()
    finally:
        writer.close()
    seen = ids_in_txn(any_conn, t)
    assert seen == ([] if any_conn.profile == "full" else [1])
    any_conn.rollback()
    assert ids_in_txn(any_conn, t) == [1]


def ids_in_txn(conn, table):
    # conn.query: [] for a 0-row SELECT, which today's server sends without a description
    return [row["id"] for row in conn.query(f"SELECT id FROM {table} ORDER BY id")]


def test_reset_session_inside_a_block(any_conn):
    t = new_table(any_conn)
    with pytest.raises(ProgrammingError, match="reset inside"):
        with any_conn.transaction():
            any_conn.execute(f"INSERT INTO {t} (id, note) VALUES (1, 'reset away')")
            any_conn.reset_session()
    assert any_conn.is_valid() and ids(any_conn, t) == []
