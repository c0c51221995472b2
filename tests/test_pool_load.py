"""Load with faults: many threads (and asyncio tasks) run short transactions through a
pool of 8 while the TCP connections are cut part-way (tests/proxy.py).

Every transaction either commits exactly once or raises an OperationalError the test
counts. One case cannot be decided by any client: the connection dies after COMMIT was
sent and before its answer arrived; the row may or may not be there ("in doubt"). The
test counts those apart, and checks the table holds exactly the committed rows plus
some of the in-doubt ones, each once. Nothing is ever retried after bytes went out, so
nothing commits twice.

Scaled for CI (2 cores shared): 64 threads x 12 transactions and 500 tasks x 2,
instead of 64 x 500; the fault points are the same (three cuts, at 25/50/75 %).
"""
from __future__ import annotations

import asyncio
import threading
import uuid

import pytest

import scratchbird
from scratchbird.errors import OperationalError
from scratchbird.pool import AsyncConnectionPool, ConnectionPool

from tests.async_front import run
from tests.proxy import FaultyProxy

THREADS, PER_THREAD = 64, 12
TASKS, PER_TASK = 500, 2
HANG_GUARD = 120.0


class Ledger:
    """What the clients saw, and the cuts made at fixed fractions of the work."""

    def __init__(self, total: int, proxy: FaultyProxy) -> None:
        self.lock = threading.Lock()
        self.committed, self.in_doubt, self.failed = set(), set(), 0
        self.total, self.proxy = total, proxy
        self.cuts = [total // 4, total // 2, 3 * total // 4]
        self.done = 0

    def record(self, key: int, outcome: str) -> None:
        with self.lock:
            if outcome == "committed":
                self.committed.add(key)
            elif outcome == "in_doubt":
                self.in_doubt.add(key)
                self.failed += 1
            else:
                self.failed += 1
            self.done += 1
            if self.cuts and self.done >= self.cuts[0]:
                self.cuts.pop(0)
                self.proxy.kill_connections()

    def check(self, rows) -> None:
        keys = [r[0] for r in rows]
        assert len(keys) == len(set(keys)), "a transaction committed twice"
        found = set(keys)
        assert self.committed <= found, "a committed transaction is missing"
        assert found - self.committed <= self.in_doubt, "a failed transaction's row is there"
        assert len(found) == len(self.committed) + len(found & self.in_doubt)
        assert self.done == self.total and not self.cuts
        assert self.failed >= 1, "the cuts should have failed some transactions"
        print(f"committed {len(self.committed)}, failed {self.failed}, in doubt "
              f"{len(self.in_doubt)} ({len(found & self.in_doubt)} of them committed)")


def _setup(server, profile):
    table = f"load_{scratchbird.IMPL}_{uuid.uuid4().hex[:10]}"
    with scratchbird.connect(server.dsn) as conn:
        conn.execute(f"CREATE TABLE {table} (k INTEGER)")
    return table


def _rows(server, table):
    with scratchbird.connect(server.dsn) as conn:
        rows = conn.execute(f"SELECT k FROM {table}").fetchall()
        conn.execute(f"DROP TABLE {table}")
    return rows


def test_threads_through_a_pool_with_cuts(plain_devserver, profile):
    table = _setup(plain_devserver, profile)
    with FaultyProxy(plain_devserver.host, plain_devserver.port) as proxy:
        ledger = Ledger(THREADS * PER_THREAD, proxy)
        pool = ConnectionPool(plain_devserver.dsn, min_size=4, max_size=8, timeout=60,
                              kwargs={"host": "127.0.0.1", "port": proxy.port})

        def worker(n: int) -> None:
            for i in range(PER_THREAD):
                key, stage = n * PER_THREAD + i, "work"
                try:
                    with pool.connection() as conn:
                        conn.execute(f"INSERT INTO {table} VALUES (:k)", {"k": key})
                        stage = "commit"
                        conn.commit()
                    ledger.record(key, "committed")
                except OperationalError:
                    ledger.record(key, "in_doubt" if stage == "commit" else "failed")

        threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(HANG_GUARD)
            assert not thread.is_alive(), f"a worker did not finish within {HANG_GUARD:g} s"
        stats = pool.stats()
        pool.close()
    ledger.check(_rows(plain_devserver, table))
    assert stats["pool_size"] <= 8 and stats["returns_discarded"] >= 1


def test_tasks_through_an_async_pool_with_cuts(plain_devserver, profile):
    table = _setup(plain_devserver, profile)
    with FaultyProxy(plain_devserver.host, plain_devserver.port) as proxy:
        ledger = Ledger(TASKS * PER_TASK, proxy)

        async def body():
            async with AsyncConnectionPool(plain_devserver.dsn, min_size=4, max_size=8,
                                           timeout=60, kwargs={"host": "127.0.0.1",
                                                               "port": proxy.port}) as pool:
                async def task(n: int) -> None:
                    for i in range(PER_TASK):
                        key, stage = n * PER_TASK + i, "work"
                        try:
                            async with pool.connection() as conn:
                                async with conn.transaction():
                                    await conn.execute(f"INSERT INTO {table} VALUES (:k)",
                                                       {"k": key})
                                    stage = "commit"
                            ledger.record(key, "committed")
                        except OperationalError:
                            ledger.record(key, "in_doubt" if stage == "commit" else "failed")
                await asyncio.gather(*(task(n) for n in range(TASKS)))
                return pool.stats()

        stats = run(body(), guard=HANG_GUARD)
    ledger.check(_rows(plain_devserver, table))
    assert stats["pool_size"] <= 8
