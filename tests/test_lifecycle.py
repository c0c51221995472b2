"""The connection lifecycle pools and frameworks use: ping, reset_session, is_valid,
broken, cancel() from another thread, timeout= and statement_timeout, against both
dev-server profiles over TLS and plaintext, under both implementations.

``full`` interrupts DuckDB when CANCEL arrives: the call raises QueryCanceledError at once
and the connection stays usable. ``sbsql`` behaves like today's server (REFERENCE 7.2,
12.A.10): nothing is interrupted, so 5 seconds after the CANCEL the driver closes the
connection and the call raises QueryCanceledError. Hang guards, never timings: a call
runs in a thread joined with a generous limit that fails the test with a message.
"""
from __future__ import annotations

import threading
import uuid

import pytest

import scratchbird
from scratchbird._dsn import make_params
from scratchbird.errors import InterfaceError, OperationalError, QueryCanceledError
from scratchbird.lifecycle import CANCEL_GRACE_SECONDS

# A DuckDB cross join that runs far longer than any test waits (10^12 rows: hours on any
# machine; the dev server interrupts it when cancelled (full) or when the client hangs up).
LONG_QUERY = ("SELECT count(*) FROM range(1000000000) a, range(1000) b "
              "WHERE a.range + b.range > 5")
HANG_GUARD = 120.0


@pytest.fixture(params=["tls", "plain"])
def transport(request):
    return request.param


@pytest.fixture
def server(request, profile, transport):
    return request.getfixturevalue("devserver" if transport == "tls" else "plain_devserver")


@pytest.fixture
def any_conn(server, profile):
    connection = scratchbird.connect(server.dsn)
    yield connection
    connection.close()


def run_in_thread(fn):
    """Run ``fn`` in a thread; returns (thread, outcome dict with 'result' or 'error')."""
    outcome = {}

    def target():
        try:
            outcome["result"] = fn()
        except BaseException as exc:     # handed to the test
            outcome["error"] = exc
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, outcome


def join(thread, what):
    thread.join(HANG_GUARD)
    assert not thread.is_alive(), f"{what} did not return within {HANG_GUARD:g} s (hang guard)"


def wait_running(conn):
    """Block until the connection has a request on the wire (no sleeps on timing)."""
    ready = threading.Event()
    for _ in range(20000):
        if conn._control.running:
            return
        ready.wait(0.005)
    pytest.fail("the long query never started")


# ---------------------------------------------------------------- validity, broken, ping

def test_ping_is_valid_broken(any_conn):
    assert any_conn.ping() >= 0
    assert any_conn.is_valid() and not any_conn.broken
    any_conn.close()
    assert not any_conn.is_valid() and not any_conn.broken


def test_broken_after_a_transport_failure(any_conn):
    # The server side of the socket goes away (a real shutdown of the real socket).
    import socket
    socket.socket.shutdown(any_conn._transport.sock, socket.SHUT_RDWR)
    with pytest.raises(OperationalError):
        any_conn.execute("SELECT 1")
    assert any_conn.broken and any_conn.closed and not any_conn.is_valid()
    with pytest.raises(InterfaceError):
        any_conn.execute("SELECT 1")


def test_is_valid_false_mid_stream(any_conn):
    cur = any_conn.cursor(stream=True)
    cur.itersize = 10
    cur.execute("SELECT * FROM range(5000)")
    assert cur.fetchone() == (0,)
    assert not any_conn.is_valid()       # a result is still streaming in
    cur.fetchall()
    assert any_conn.is_valid()


# ---------------------------------------------------------------- reset_session

def _table(conn, stem):
    name = f"{stem}_{uuid.uuid4().hex[:10]}"
    conn.execute(f"CREATE TABLE {name} (id INTEGER)")
    conn.commit()
    return name


@pytest.mark.parametrize("layout", ["p1", "legacy"])
def test_reset_session_makes_the_connection_as_new(server, profile, layout):
    conn = scratchbird.connect(server.dsn, startup_layout=layout)
    try:
        t = _table(conn, "reset")
        conn.isolation_level = "SERIALIZABLE"
        conn.read_only = False
        conn.execute(f"INSERT INTO {t} (id) VALUES (1)")
        conn.autocommit = False
        txn = conn.txn_id
        conn.reset_session()     # RESET_SESSION with feature 21 (P1), else a rollback
        assert (conn.autocommit, conn.isolation_level, conn.read_only) == (False, None, None)
        assert conn.txn_id != txn and conn.is_valid()
        assert conn.query(f"SELECT id FROM {t}") == []       # the insert was rolled back
        conn.rollback()
        conn.isolation_level = "SERIALIZABLE"                # settable again: no work open
        conn.autocommit = True
        conn.reset_session()
        assert conn.autocommit is False and conn.isolation_level is None
        assert conn.server_report is None or \
            conn.server_report["transaction_isolation_level"] == "read_committed"
    finally:
        conn.close()


# ---------------------------------------------------------------- cancel

def test_cancel_with_nothing_running(any_conn):
    assert any_conn.cancel() is False
    assert any_conn.execute("SELECT 1").fetchall() == [(1,)]


def test_cancel_reply_is_consumed_by_the_next_request(any_conn):
    """A CANCEL that reaches the server just after its request ended: its reply
    (CANCEL_ACK, CANCELLED, READY(6)) arrives before the next request's frames."""
    proto = any_conn._proto
    with any_conn._control.send_lock:
        any_conn._transport.send(proto.cancel_frame(uuid.uuid4().bytes, proto.session_id))
    assert any_conn.execute("SELECT 5").fetchall() == [(5,)]
    assert any_conn.execute("SELECT 6").fetchall() == [(6,)]
    assert proto.cancel_outcomes[-1].sqlstate == "57014"
    assert any_conn.is_valid()


def test_cancel_sent_with_its_query_in_one_write(any_conn, profile):
    """A CANCEL that reaches the server in the same read as its QUERY waits in the
    server's frame buffer, not in the socket: the full dev server must still see it while
    DuckDB runs (under load the client's two writes often arrive together)."""
    if profile == "sbsql":
        pytest.skip("today's server cannot interrupt a statement (REFERENCE 7.2, 12.A.10)")
    proto, transport = any_conn._proto, any_conn._transport
    transport.send(proto.query_frame(LONG_QUERY)
                   + proto.cancel_frame(uuid.uuid4().bytes, proto.session_id))
    transport.settimeout(HANG_GUARD)
    response = None
    while response is None:
        response = proto.receive(transport.recv())
    transport.settimeout(None)
    assert response.done and response.error is not None
    assert response.error.sqlstate == "57014", response.error
    # the CANCEL's own reply is consumed by the next request; the connection is in step
    assert any_conn.execute("SELECT 11").fetchall() == [(11,)]
    assert any_conn._proto.cancel_outcomes[-1].outcome_class == "user_statement_cancelled"


def test_cancel_from_another_thread(any_conn, profile, transport):
    if profile == "sbsql" and transport == "plain":
        pytest.skip("the sbsql close path costs 5 s: run once per profile/transport pair "
                    "elsewhere (test_timeout covers sbsql over plaintext)")
    cur = any_conn.cursor()
    thread, outcome = run_in_thread(lambda: cur.execute(LONG_QUERY).fetchall())
    wait_running(any_conn)
    assert not any_conn.is_valid()       # mid-request, seen from another thread
    assert any_conn.cancel() is True
    assert any_conn.cancel() is False    # one CANCEL per request
    join(thread, "the cancelled query")
    error = outcome.get("error")
    assert isinstance(error, QueryCanceledError), outcome
    assert isinstance(error, OperationalError) and error.sqlstate == "57014"
    if profile == "full":      # DuckDB interrupted: the connection is usable, in step
        assert error.diag_code == "EXECUTION.QUERY_CANCELLED"
        assert not any_conn.closed and any_conn.is_valid()
        assert any_conn.execute("SELECT 11").fetchall() == [(11,)]
        assert any_conn.execute("SELECT 12").fetchall() == [(12,)]
        assert any_conn._proto.cancel_outcomes[-1].outcome_class == "user_statement_cancelled"
    else:                      # nothing interrupts: closed after the grace period
        assert f"within {CANCEL_GRACE_SECONDS:g} s" in str(error)
        assert any_conn.closed and any_conn.broken and not any_conn.is_valid()
    # the server is free again (the full profile interrupted; sbsql saw the peer go)
    with scratchbird.connect(any_conn_dsn(any_conn)) as other:
        assert other.execute("SELECT 1").fetchall() == [(1,)]


def any_conn_dsn(conn):
    return conn._test_dsn


@pytest.fixture(autouse=True)
def _remember_dsn(request):
    if "any_conn" in request.fixturenames:
        conn = request.getfixturevalue("any_conn")
        conn._test_dsn = request.getfixturevalue("server").dsn


def test_timeout(any_conn, profile, transport):
    if profile == "sbsql" and transport == "tls":
        pytest.skip("the sbsql close path costs 5 s: test_cancel_from_another_thread "
                    "covers sbsql over TLS")
    cur = any_conn.cursor()
    thread, outcome = run_in_thread(lambda: cur.execute(LONG_QUERY, timeout=0.3).fetchall())
    join(thread, "the query with timeout=0.3")
    error = outcome.get("error")
    assert isinstance(error, QueryCanceledError), outcome
    assert "statement timeout (0.3 s) expired" in str(error)
    if profile == "full":
        assert any_conn.is_valid()
        assert cur.execute("SELECT 3", timeout=5).fetchall() == [(3,)]   # a deadline not hit
    else:
        assert any_conn.closed and any_conn.broken


def test_statement_timeout_option(server, profile):
    assert make_params("statement_timeout=2.5").statement_timeout == 2.5
    assert make_params("statement_timeout=0").statement_timeout is None
    assert make_params("scratchbird://h/db?statement_timeout=1").statement_timeout == 1.0
    if profile != "full":
        return      # the sbsql close path is covered above; this is the option's plumbing
    conn = scratchbird.connect(server.dsn, statement_timeout=0.3)
    try:
        thread, outcome = run_in_thread(lambda: conn.execute(LONG_QUERY).fetchall())
        join(thread, "the query under statement_timeout")
        assert isinstance(outcome.get("error"), QueryCanceledError), outcome
        assert conn.execute("SELECT 4").fetchall() == [(4,)]
    finally:
        conn.close()
