"""The asyncio API against both dev-server profiles, over TLS and plaintext, under both
implementations. Most cases are shared with the blocking API: the same coroutine runs
against ``AsyncConnection`` and against ``Connection`` (tests/async_front.py). Cancel
and deadlines are asyncio's own (task cancellation, ``asyncio.timeout``) and checked
here; the blocking API's thread-based cancel is in test_lifecycle.py.
"""
from __future__ import annotations

import asyncio
import sys
import uuid

import pytest

import scratchbird
from scratchbird.errors import (AuthenticationError, InterfaceError, OperationalError, ProgrammingError,
                                QueryCanceledError)
from scratchbird.lifecycle import CANCEL_GRACE_SECONDS

from tests.async_front import open_front, run

LONG_QUERY = ("SELECT count(*) FROM range(10000000) a, range(1000) b "
              "WHERE a.range + b.range > 5")


@pytest.fixture(params=["tls", "plain"])
def server(request, profile):
    return request.getfixturevalue("devserver" if request.param == "tls" else "plain_devserver")


@pytest.fixture(params=["sync", "async"])
def front(request):
    return request.param


def _table(name: str) -> str:
    return f"{name}_{scratchbird.IMPL}_{uuid.uuid4().hex[:10]}"


# ---------------------------------------------------------------- shared cases

def test_select_description_and_fetches(server, front):
    async def body():
        conn = await open_front(front, server.dsn)
        async with conn:
            cur = await conn.execute("SELECT 1 AS a, 'x' AS b UNION ALL SELECT 2, 'y' "
                                     "UNION ALL SELECT 3, 'z' ORDER BY a")
            assert [d[0] for d in cur.description] == ["a", "b"]
            assert await cur.fetchone() == (1, "x")
            assert await cur.fetchmany(1) == [(2, "y")]
            assert await cur.fetchall() == [(3, "z")]
            assert await cur.fetchone() is None
            cur = await conn.execute("SELECT :v + 1", {"v": 41})
            assert [row async for row in cur] == [(42,)]
            assert conn.is_valid() and not conn.broken
            assert await conn.query("SELECT 7 AS n") == [{"n": 7}]
    run(body())


def test_errors_leave_the_connection_usable(server, front):
    async def body():
        conn = await open_front(front, server.dsn)
        async with conn:
            with pytest.raises(ProgrammingError):
                await conn.execute("SELECT no_such_column")
            await conn.rollback()
            assert await (await conn.execute("SELECT 5")).fetchall() == [(5,)]
            cur = await conn.execute("SELECT 1")
            await cur.fetchall()
            with pytest.raises(ProgrammingError, match="no results"):
                await (await conn.execute("CREATE TABLE " + _table("err") + " (x INTEGER)")).fetchone()
    run(body())


def test_transactions_and_savepoints(server, front):
    table = _table("atx")

    async def body():
        conn = await open_front(front, server.dsn)
        async with conn:
            await conn.execute(f"CREATE TABLE {table} (x INTEGER)")
            await conn.commit()
            async with conn.transaction():
                await conn.execute(f"INSERT INTO {table} VALUES (1)")
                async with conn.transaction() as inner:
                    assert inner.savepoint_name
                    await conn.execute(f"INSERT INTO {table} VALUES (2)")
            with pytest.raises(ZeroDivisionError):
                async with conn.transaction():
                    await conn.execute(f"INSERT INTO {table} VALUES (3)")
                    raise ZeroDivisionError
            await conn.execute(f"INSERT INTO {table} VALUES (4)")
            await conn.rollback()
            cur = await conn.execute(f"SELECT x FROM {table} ORDER BY x")
            assert await cur.fetchall() == [(1,), (2,)]
            await conn.execute(f"DROP TABLE {table}")
        # ``async with conn`` committed the DROP and closed the connection
        assert conn.closed
    run(body())


def test_streaming_reads_with_bounded_memory(server, front):
    async def body():
        conn = await open_front(front, server.dsn)
        async with conn:
            cur = conn.cursor(stream=True)
            cur.itersize = 500
            await cur.execute("SELECT range FROM range(20000)")
            seen, largest = 0, 0
            async for row in cur:
                assert row == (seen,)
                seen += 1
                largest = max(largest, len(cur.sync_cursor._rows))
            assert seen == 20000
            assert largest <= 500            # never more than itersize rows held
            # a stream abandoned half-read is drained by the next request
            await cur.execute("SELECT range FROM range(5000)")
            assert len(await cur.fetchmany(10)) == 10
            assert await (await conn.execute("SELECT 9")).fetchall() == [(9,)]
    run(body())


def test_executemany_nextset_and_reset(server, front):
    table = _table("amany")

    async def body():
        conn = await open_front(front, server.dsn)
        async with conn:
            await conn.execute(f"CREATE TABLE {table} (x INTEGER)")
            cur = conn.cursor()
            await cur.executemany(f"INSERT INTO {table} VALUES (:x)", [{"x": i} for i in range(50)])
            assert cur.rowcount == 50
            await conn.commit()
            cur = await conn.execute("SELECT 1; SELECT 2")
            assert await cur.fetchall() == [(1,)]
            assert await cur.nextset() is True
            assert await cur.fetchall() == [(2,)]
            await conn.execute(f"INSERT INTO {table} VALUES (99)")
            await conn.reset_session()          # rolls the insert back
            cur = await conn.execute(f"SELECT count(*) FROM {table}")
            assert await cur.fetchall() == [(50,)]
            await conn.execute(f"DROP TABLE {table}")
    run(body())


def test_timeout_option(server, front, profile):
    if profile == "sbsql":
        pytest.skip("the sbsql close path costs 5 s: test_task_cancel_sbsql_closes covers it")

    async def body():
        conn = await open_front(front, server.dsn)
        async with conn:
            with pytest.raises(QueryCanceledError, match="statement timeout"):
                await conn.execute(LONG_QUERY, timeout=0.3)
            assert conn.is_valid()
            assert await (await conn.execute("SELECT 3", timeout=5)).fetchall() == [(3,)]
    run(body())


# ---------------------------------------------------------------- asyncio only

def test_task_cancel_interrupts_the_request(devserver, profile):
    if profile == "sbsql":
        pytest.skip("see test_task_cancel_sbsql_closes")

    async def body():
        conn = await scratchbird.connect_async(devserver.dsn)
        try:
            task = asyncio.ensure_future(conn.execute(LONG_QUERY))
            while not conn._sync._control.running:
                await asyncio.sleep(0.005)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            # the server stopped the statement: the connection is in step and usable
            assert conn.is_valid() and not conn.closed
            assert await (await conn.execute("SELECT 11")).fetchall() == [(11,)]
            assert conn._sync._proto.cancel_outcomes[-1].outcome_class == "user_statement_cancelled"
            if sys.version_info >= (3, 11):
                with pytest.raises(TimeoutError):
                    async with asyncio.timeout(0.3):
                        await conn.execute(LONG_QUERY)
                assert await (await conn.execute("SELECT 12")).fetchall() == [(12,)]
        finally:
            await conn.close()
    run(body())


def test_task_cancel_sbsql_closes(plain_devserver, profile):
    """Today's server cannot interrupt: 5 s after the CANCEL the connection is closed
    (REFERENCE 7.2), the task ends cancelled, nothing is left half-read."""
    if profile != "sbsql":
        pytest.skip("the full profile interrupts: test_task_cancel_interrupts_the_request")

    async def body():
        conn = await scratchbird.connect_async(plain_devserver.dsn)
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(conn.execute(LONG_QUERY), 0.2)
        assert conn.closed and conn.broken and not conn.is_valid()
        with pytest.raises(InterfaceError):
            await conn.execute("SELECT 1")
    run(body(), guard=CANCEL_GRACE_SECONDS + 60)


def test_cancel_from_another_task(devserver, profile):
    if profile == "sbsql":
        pytest.skip("the sbsql close path is covered by test_task_cancel_sbsql_closes")

    async def body():
        conn = await scratchbird.connect_async(devserver.dsn)
        try:
            assert await conn.cancel() is False          # nothing running
            task = asyncio.ensure_future(conn.execute(LONG_QUERY))
            while not conn._sync._control.running:
                await asyncio.sleep(0.005)
            assert not conn.is_valid()
            assert await conn.cancel() is True
            with pytest.raises(QueryCanceledError):
                await task
            assert await (await conn.execute("SELECT 2")).fetchall() == [(2,)]
        finally:
            await conn.close()
    run(body())


def test_tasks_sharing_a_connection_take_turns(devserver):
    async def body():
        conn = await scratchbird.connect_async(devserver.dsn)
        async with conn:
            async def one(i):
                cur = await conn.execute("SELECT :i", {"i": i})
                return await cur.fetchall()
            results = await asyncio.gather(*(one(i) for i in range(40)))
            assert results == [[(i,)] for i in range(40)]
    run(body())


def test_connect_errors_and_tls_rules(devserver, plain_devserver):
    async def body():
        with pytest.raises(AuthenticationError):
            await scratchbird.connect_async(devserver.dsn, password="wrong-password")
        # sslmode=require against a plaintext server: refused, as the blocking API
        with pytest.raises(OperationalError):
            await scratchbird.connect_async(plain_devserver.dsn, sslmode="require",
                                            connect_timeout=5)
        conn = await scratchbird.AsyncConnection.connect(devserver.dsn)
        assert conn.info["tls"] is True
        await conn.close()
        conn = await scratchbird.connect_async(plain_devserver.dsn)
        assert conn.info["tls"] is False
        await conn.close()
        with pytest.raises(OperationalError, match="cannot connect"):
            await scratchbird.connect_async(plain_devserver.dsn, port=1, connect_timeout=2)
    run(body())


def test_broken_when_the_server_goes(plain_devserver):
    from tests.proxy import FaultyProxy
    host, port = plain_devserver.host, plain_devserver.port

    async def body():
        with FaultyProxy(host, port) as proxy:
            conn = await scratchbird.connect_async(plain_devserver.dsn, host="127.0.0.1",
                                                   port=proxy.port)
            assert await (await conn.execute("SELECT 1")).fetchall() == [(1,)]
            proxy.kill_connections()
            with pytest.raises(OperationalError):
                await conn.execute("SELECT 2")
            assert conn.broken and conn.closed and not conn.is_valid()
    run(body())


def test_run_sync_hook_and_blocking_misuse(devserver):
    async def body():
        conn = await scratchbird.connect_async(devserver.dsn)
        async with conn:
            rows = await conn.run_sync(lambda c: c.execute("SELECT 8").fetchall())
            assert rows == [(8,)]
            with pytest.raises(InterfaceError, match="blocking code"):
                conn._sync.execute("SELECT 1")      # outside run_sync: a clear error
    run(body())


def test_copy_load_through_run_sync(server, profile):
    """COPY (``conn.load``) reaches the asyncio front end through ``run_sync``: its early
    error check asks the transport whether the server spoke, which the asyncio transport
    answers from what it has received (no socket of its own to select on)."""
    table = _table("aio_load")
    rows = [(i, f"name {i}" if i % 3 else None) for i in range(5000)]

    async def body():
        conn = await scratchbird.connect_async(server.dsn)
        async with conn:
            await conn.execute(f"CREATE TABLE {table} (id INTEGER, name VARCHAR)")
            loaded = await conn.run_sync(
                lambda c: c.load(table, rows, columns=["id", "name"], batch_rows=500))
            assert loaded == len(rows)
            cur = await conn.execute(f"SELECT id, name FROM {table} ORDER BY id")
            assert await cur.fetchall() == rows
            await conn.execute(f"DROP TABLE {table}")
    run(body())


def test_socket_timeout_closes(devserver, profile):
    if profile == "sbsql":
        pytest.skip("one profile is enough for the transport's read deadline")

    async def body():
        conn = await scratchbird.connect_async(devserver.dsn, socket_timeout=0.3)
        with pytest.raises(OperationalError, match="socket_timeout"):
            await conn.execute(LONG_QUERY)
        assert conn.closed and conn.broken
    run(body())
