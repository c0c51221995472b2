"""ConnectionPool and AsyncConnectionPool against the dev server (both profiles):
settings, what happens on return, the checkout-only retry rule, upkeep and close."""
from __future__ import annotations

import asyncio
import threading
import time
import uuid

import pytest

import scratchbird
from scratchbird.errors import OperationalError, ProgrammingError
from scratchbird.pool import (AsyncConnectionPool, ConnectionPool, PoolClosed, PoolTimeout,
                              TooManyRequests)

from tests.async_front import run
from tests.proxy import FaultyProxy


def _table() -> str:
    return f"pool_{scratchbird.IMPL}_{uuid.uuid4().hex[:10]}"


def _eventually(predicate, what: str, limit: float = 20.0) -> None:
    """Wait for background work (hang guard, not a timing assertion)."""
    deadline = time.monotonic() + limit
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {limit:g} s")
        time.sleep(0.01)


@pytest.fixture
def pool(devserver):
    with ConnectionPool(devserver.dsn, min_size=2, max_size=3, timeout=5) as p:
        p.wait()
        yield p


def test_checkout_return_and_stats(pool):
    assert pool.stats()["pool_size"] == 2
    with pool.connection() as conn:
        assert conn.execute("SELECT 1").fetchall() == [(1,)]
        assert pool.stats()["pool_in_use"] == 1
    stats = pool.stats()
    assert stats["pool_in_use"] == 0 and stats["pool_available"] == 2
    assert stats["checkouts"] == 1
    conn = pool.getconn()
    pool.putconn(conn)
    with pytest.raises(OperationalError, match="does not belong"):
        pool.putconn(conn)


def test_timeout_and_max_waiting(devserver):
    with ConnectionPool(devserver.dsn, min_size=0, max_size=1, timeout=0.2,
                        max_waiting=1) as pool:
        held = pool.getconn()
        with pytest.raises(PoolTimeout) as info:
            pool.getconn()
        assert isinstance(info.value, OperationalError)
        outcome = {}

        def waiter():
            try:
                outcome["conn"] = pool.getconn(timeout=10)
            except Exception as exc:     # handed to the test
                outcome["error"] = exc
        thread = threading.Thread(target=waiter, daemon=True)
        thread.start()
        _eventually(lambda: pool.stats()["requests_waiting"] == 1, "the first waiter")
        with pytest.raises(TooManyRequests):
            pool.getconn(timeout=10)
        pool.putconn(held)
        thread.join(20)
        assert outcome.get("conn") is held       # the waiter got the returned connection
        pool.putconn(held)
        assert pool.stats()["timeouts"] == 1 and pool.stats()["rejected"] == 1


def test_return_rolls_back_and_checks(pool):
    table = _table()
    with pool.connection() as conn:
        conn.execute(f"CREATE TABLE {table} (x INTEGER)")
        conn.commit()
        first = conn
    with pool.connection() as conn:
        assert conn is first                     # the warm one, most recently used
        conn.execute(f"INSERT INTO {table} VALUES (1)")   # left uncommitted
    with pool.connection() as conn:
        assert conn.execute(f"SELECT count(*) FROM {table}").fetchall() == [(0,)]
        conn.rollback()
        conn.autocommit = True
    with pool.connection() as conn:
        assert conn.autocommit is False          # reset to the defaults
        with pytest.raises(ProgrammingError):
            with pool.connection() as inner:
                inner.execute("SELECT no_such_column")
    with pool.connection() as conn:
        with conn.transaction():
            conn.execute(f"INSERT INTO {table} VALUES (2)")
        conn.execute(f"DROP TABLE {table}")
        conn.commit()


def test_check_and_reset_callables(devserver):
    calls = []
    with ConnectionPool(devserver.dsn, min_size=1, max_size=2,
                        check=lambda c: calls.append(("check", c.ping())),
                        reset=lambda c: calls.append(("reset", c.is_valid()))) as pool:
        pool.wait()             # check runs on connections that were idle, not on new ones
        with pool.connection() as conn:
            conn.execute("SELECT 1")
        assert [name for name, _ in calls] == ["check", "reset"]
        assert calls[1][1] is True


def test_broken_is_replaced_and_dead_idle_is_skipped(plain_devserver):
    with FaultyProxy(plain_devserver.host, plain_devserver.port) as proxy:
        with ConnectionPool(plain_devserver.dsn, min_size=2, max_size=2, timeout=10,
                            kwargs={"host": "127.0.0.1", "port": proxy.port}) as pool:
            pool.wait()
            # a connection that breaks inside the block: the error goes to the caller
            # (its request may have reached the server: never retried), the connection
            # is discarded and replaced in the background
            with pytest.raises(OperationalError):
                with pool.connection() as conn:
                    proxy.kill_connections()
                    conn.execute("SELECT 1")
            assert pool.stats()["returns_discarded"] == 1
            # the other one died while idle: found at checkout (nothing written yet),
            # discarded, and another is taken (database/sql's ErrBadConn rule)
            with pool.connection() as conn:
                assert conn.execute("SELECT 2").fetchall() == [(2,)]
            assert pool.stats()["retried"] >= 1
            _eventually(lambda: pool.stats()["pool_size"] == 2, "the replacement")


def test_lifetime_idle_and_close(devserver):
    with ConnectionPool(devserver.dsn, min_size=1, max_size=3, max_lifetime=0.3,
                        max_idle=0.2) as pool:
        conns = [pool.getconn() for _ in range(3)]
        first = conns[0]
        for conn in conns:
            pool.putconn(conn)
        # idle connections above min_size close; every one past its lifetime is replaced
        _eventually(lambda: all(c.closed for c in conns), "the expiry of old connections")
        _eventually(lambda: pool.stats()["pool_size"] == 1, "shrinking to min_size")
        with pool.connection() as conn:
            assert conn is not first and conn.execute("SELECT 1").fetchall() == [(1,)]
    assert pool.closed
    with pytest.raises(PoolClosed):
        pool.getconn()


def test_close_waits_for_connections_in_use(devserver):
    pool = ConnectionPool(devserver.dsn, min_size=1, max_size=2)
    conn = pool.getconn()
    done = threading.Event()

    def give_back():
        done.wait(10)
        pool.putconn(conn)
    thread = threading.Thread(target=give_back, daemon=True)
    thread.start()
    closer = threading.Thread(target=pool.close, kwargs={"timeout": 20}, daemon=True)
    closer.start()
    _eventually(lambda: pool.closed, "close() starting")
    assert closer.is_alive() and not conn.closed     # waiting for the connection
    done.set()
    closer.join(30)
    thread.join(30)                 # putconn() closes the connection it gave back
    assert not closer.is_alive() and not thread.is_alive() and conn.closed


def test_listening_connection_is_not_reused(pool):
    with pool.connection() as conn:
        conn.listen("jobs")
    assert conn.closed
    with pool.connection() as other:
        assert other.execute("SELECT 1").fetchall() == [(1,)]


# ---------------------------------------------------------------- asyncio

def test_async_pool(devserver):
    table = _table()

    async def body():
        async with AsyncConnectionPool(devserver.dsn, min_size=2, max_size=3, timeout=5,
                                       check=lambda c: c.ping()) as pool:
            await pool.wait()
            assert pool.stats()["pool_size"] == 2
            async with pool.connection() as conn:
                await conn.execute(f"CREATE TABLE {table} (x INTEGER)")
                await conn.commit()
            async with pool.connection() as conn:
                await conn.execute(f"INSERT INTO {table} VALUES (1)")    # rolled back
            with pytest.raises(ProgrammingError):
                async with pool.connection() as conn:
                    await conn.execute("SELECT no_such_column")

            async def one(i):
                async with pool.connection() as conn:
                    async with conn.transaction():
                        await conn.execute(f"INSERT INTO {table} VALUES (:i)", {"i": i})
            await asyncio.gather(*(one(i) for i in range(30)))
            async with pool.connection() as conn:
                cur = await conn.execute(f"SELECT count(*), min(x) FROM {table}")
                assert await cur.fetchall() == [(30, 0)]
                await conn.execute(f"DROP TABLE {table}")
                await conn.commit()
            stats = pool.stats()
            assert stats["pool_size"] <= 3 and stats["checkouts"] == 34
            held = [await pool.getconn() for _ in range(3)]
            with pytest.raises(PoolTimeout):
                await pool.getconn(timeout=0.1)
            for conn in held:
                await pool.putconn(conn)
        assert pool.closed and all(c.closed for c in held)
        with pytest.raises(PoolClosed):
            await pool.getconn()
    run(body())
