"""The dev-server engine's transaction semantics per profile (devserver/_engine.py module
doc): SET TRANSACTION characteristics and their report row (REFERENCE 12.D), and, with the
full profile's ``spec_semantics``, savepoints that undo, read-only that refuses writes,
SERIALIZABLE that keeps one snapshot, and ``interrupt()``."""
from __future__ import annotations

import threading

import pytest

from scratchbird.devserver import _txn_sql
from scratchbird.devserver._engine import Engine, EngineError
from tests.test_devserver_engine import error_of, one


@pytest.fixture
def engine():
    eng = Engine()
    yield eng
    eng.close()


@pytest.fixture(params=[False, True], ids=["sbsql", "full"])
def spec(request):
    return request.param


@pytest.fixture
def s(engine, spec):
    session = engine.open_session(user="sbtest")
    session.spec_semantics = spec
    one(session, "CREATE TABLE tx (id INTEGER, note VARCHAR)")
    one(session, "COMMIT")
    return session


def ids(session):
    return [int(r[0]) for r in one(session, "SELECT id FROM tx ORDER BY id").rows]


def test_set_transaction_answers_a_report_row(s):
    done = one(s, "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")
    assert done.columns == _txn_sql.REPORT_COLUMNS and done.tag == "SELECT 1"
    assert done.rows == [(b"session_defaults", b"read_write", b"false", b"serializable")]
    done = one(s, "set transaction read only")
    assert done.rows == [(b"session_defaults", b"read_only", b"true", b"serializable")]
    assert one(s, "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE").columns == \
        ["session_uuid", "scope"]
    assert one(s, "BEGIN ISOLATION LEVEL READ COMMITTED").tag == "BEGIN"
    assert s.isolation == "read_committed" and s.access_read_only is False


@pytest.mark.parametrize("sql", ["START TRANSACTION READ ONLY",
                                 "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ",
                                 "SET TRANSACTION ISOLATION LEVEL READ UNCOMMITTED",
                                 "SET TRANSACTION DANCING"])
def test_characteristics_the_server_refuses(s, sql):
    err = error_of(s, sql)
    assert err.sqlstate == "42000" and "refused" in err.message


def test_rollback_to_savepoint(s, spec):
    one(s, "INSERT INTO tx VALUES (1, 'before')")
    one(s, "SAVEPOINT a")
    one(s, "INSERT INTO tx VALUES (2, 'after a')")
    one(s, "SAVEPOINT b")
    one(s, "INSERT INTO tx VALUES (3, 'after b')")
    assert one(s, "ROLLBACK TO SAVEPOINT b").tag == "ROLLBACK"
    assert ids(s) == ([1, 2] if spec else [1, 2, 3])
    assert one(s, "ROLLBACK TO SAVEPOINT a").tag == "ROLLBACK"
    assert ids(s) == ([1] if spec else [1, 2, 3])
    one(s, "INSERT INTO tx VALUES (4, 'after undo')")
    assert error_of(s, "ROLLBACK TO SAVEPOINT b").code == "SB_ENGINE_API_INVALID_REQUEST"
    one(s, "COMMIT")
    assert ids(s) == ([1, 4] if spec else [1, 2, 3, 4])


def test_read_only_is_enforced_only_with_spec_semantics(s, spec):
    one(s, "SET TRANSACTION READ ONLY")
    if spec:
        err = error_of(s, "INSERT INTO tx VALUES (1, 'refused')")
        assert (err.sqlstate, err.code) == ("25006", "SBSQL.TRANSACTION.READ_ONLY")
    else:
        one(s, "INSERT INTO tx VALUES (1, 'accepted, as on the real server')")
    one(s, "SET TRANSACTION READ WRITE")
    one(s, "INSERT INTO tx VALUES (2, 'rw')")
    one(s, "COMMIT")
    assert ids(s) == ([2] if spec else [1, 2])


def test_interrupt_stops_the_running_statement(s):
    done = threading.Event()

    def interrupter():      # until the statement has returned: no race with its start
        while not done.wait(0.05):
            s.interrupt()
    thread = threading.Thread(target=interrupter, daemon=True)
    thread.start()
    try:
        err = error_of(s, "SELECT count(*) FROM range(1000000000) a, range(1000) b "
                          "WHERE a.range + b.range > 5")
    finally:
        done.set()
        thread.join(30)
    assert not thread.is_alive()
    assert (err.sqlstate, err.code) == ("57014", "EXECUTION.QUERY_CANCELLED")
    # until the request ends (the session clears the flag) its later statements stop too
    assert error_of(s, "SELECT 1").sqlstate == "57014"
    s.clear_interrupt()
    one(s, "INSERT INTO tx VALUES (9, 'still usable')")
    assert ids(s) == [9]
