"""Scenario 4 async and scenario 9 (issue 11): asyncio round trips and pooled checkouts.

    PYTHONPATH=src python -m benchmarks.async_pool [--quick] [--repeats N]

Figures, never tests. One process measures every contender in turn (best of
``--repeats`` samples), against servers in their own processes: the dev server
(``sbsql``, plaintext, result cache on, as ``python -m benchmarks``) and a local
PostgreSQL (``benchmarks/postgres.py``; without it the peers are N/A).

* Scenario 4 async: ``SELECT 1`` round trips on one connection, each result fetched, in one
  coroutine: ``scratchbird-async`` against asyncpg and psycopg's AsyncConnection (and the
  blocking ``scratchbird-c`` for reference).
* Scenario 9: 10,000 checkouts from a pool (min_size = max_size = 4), each running one
  ``SELECT 1``, sequentially: scratchbird's ConnectionPool against psycopg_pool's, and
  AsyncConnectionPool against psycopg_pool's AsyncConnectionPool and asyncpg's pool.

Targets by client CPU (``time.process_time`` of this process), as ratios of one run:
T14: scratchbird-async round trips >= 1.2x asyncpg; T15: pooled checkout + query >= 1.0x the
faster peer pool (sync and async apart).
"""
from __future__ import annotations

import argparse
import asyncio
import gc
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, Optional

import scratchbird
from scratchbird.pool import AsyncConnectionPool, ConnectionPool

from benchmarks.sbserver import DevServerProcess

POOL_SIZE = 4


def _best(fn: Callable[[], object], repeats: int) -> Dict[str, float]:
    """Best client CPU and best wall seconds of ``fn`` over ``repeats`` samples."""
    cpu, wall = [], []
    for _ in range(repeats):
        gc.collect()
        c0, w0 = time.process_time(), time.perf_counter()
        fn()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    return {"cpu": min(cpu), "wall": min(wall)}


# ---------------------------------------------------------------- scenario 4 async

async def _sb_async_rt(dsn: str, n: int) -> None:
    conn = await scratchbird.connect_async(dsn)
    for _ in range(n):
        cur = await conn.execute("SELECT 1")
        assert await cur.fetchall() == [(1,)]
    await conn.close()


def _sb_sync_rt(dsn: str, n: int) -> None:
    conn = scratchbird.connect(dsn)
    cur = conn.cursor()
    for _ in range(n):
        cur.execute("SELECT 1")
        assert cur.fetchall() == [(1,)]
    conn.close()


async def _asyncpg_rt(dsn: str, n: int) -> None:
    import asyncpg
    conn = await asyncpg.connect(dsn)
    for _ in range(n):
        assert (await conn.fetch("SELECT 1"))[0][0] == 1
    await conn.close()


async def _psycopg_async_rt(dsn: str, n: int) -> None:
    import psycopg
    conn = await psycopg.AsyncConnection.connect(dsn)
    cur = conn.cursor()
    for _ in range(n):
        await cur.execute("SELECT 1")
        assert await cur.fetchall() == [(1,)]
    await conn.close()


# ---------------------------------------------------------------- scenario 9

def _sb_pool(dsn: str, n: int) -> None:
    with ConnectionPool(dsn, min_size=POOL_SIZE, max_size=POOL_SIZE) as pool:
        pool.wait()
        for _ in range(n):
            with pool.connection() as conn:
                assert conn.execute("SELECT 1").fetchall() == [(1,)]


def _psycopg_pool(dsn: str, n: int) -> None:
    import psycopg_pool
    with psycopg_pool.ConnectionPool(dsn, min_size=POOL_SIZE, max_size=POOL_SIZE,
                                     open=True) as pool:
        pool.wait()
        for _ in range(n):
            with pool.connection() as conn:
                assert conn.execute("SELECT 1").fetchall() == [(1,)]


async def _sb_async_pool(dsn: str, n: int) -> None:
    async with AsyncConnectionPool(dsn, min_size=POOL_SIZE, max_size=POOL_SIZE) as pool:
        await pool.wait()
        for _ in range(n):
            async with pool.connection() as conn:
                cur = await conn.execute("SELECT 1")
                assert await cur.fetchall() == [(1,)]


async def _psycopg_async_pool(dsn: str, n: int) -> None:
    import psycopg_pool
    async with psycopg_pool.AsyncConnectionPool(dsn, min_size=POOL_SIZE, max_size=POOL_SIZE,
                                                open=False) as pool:
        await pool.wait()
        for _ in range(n):
            async with pool.connection() as conn:
                cur = await conn.execute("SELECT 1")
                assert await cur.fetchall() == [(1,)]


async def _asyncpg_pool(dsn: str, n: int) -> None:
    import asyncpg
    async with asyncpg.create_pool(dsn, min_size=POOL_SIZE, max_size=POOL_SIZE) as pool:
        for _ in range(n):
            async with pool.acquire() as conn:
                assert (await conn.fetch("SELECT 1"))[0][0] == 1


# ---------------------------------------------------------------- the run

def _measure(name: str, fn, repeats: int, figures: dict, units: int) -> None:
    try:
        best = _best(fn, repeats)
    except Exception as exc:        # a missing peer: reported, the run goes on
        print(f"  {name:<24} N/A ({type(exc).__name__}: {exc})")
        return
    figures[name] = {"per_cpu_s": units / best["cpu"], "per_wall_s": units / best["wall"]}
    print(f"  {name:<24} {units / best['cpu']:>10,.0f} /s client CPU   "
          f"{units / best['wall']:>10,.0f} /s wall")


def _ratio(figures: dict, ours: str, peers, need: float, label: str) -> None:
    have = [p for p in peers if p in figures]
    if ours not in figures or not have:
        print(f"{label}: N/A (missing {ours if ours not in figures else ', '.join(peers)})")
        return
    peer = max(have, key=lambda p: figures[p]["per_cpu_s"])
    ratio = figures[ours]["per_cpu_s"] / figures[peer]["per_cpu_s"]
    wall = figures[ours]["per_wall_s"] / figures[peer]["per_wall_s"]
    verdict = "PASS" if ratio >= need else "MISS"
    print(f"{label}: {ours} / {peer} = {ratio:.2f} by client CPU (need >= {need:g}) {verdict}; "
          f"wall {wall:.2f}")


def main(argv: Optional[list] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="2,000 instead of 10,000")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args(argv)
    n = 2_000 if args.quick else 10_000
    import os
    import sys
    from benchmarks.postgres import PostgresServer, PostgresUnavailable
    with tempfile.TemporaryDirectory(prefix="sb-async-bench-") as tmp:
        os.chmod(tmp, 0o755)        # PostgreSQL runs as its own user when we are root
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [
            str(Path(__file__).resolve().parents[1] / "src"), os.environ.get("PYTHONPATH")])))
        server = DevServerProcess(Path(tmp) / "bench.duckdb", env, Path(tmp) / "devserver.log")
        pg = None if args.no_postgres else PostgresServer(Path(tmp) / "pg")
        try:
            dsn = server.start()
            pg_dsn = None
            if pg is not None:
                try:
                    pg_dsn = pg.start()
                except PostgresUnavailable as exc:
                    print(f"PostgreSQL unavailable ({exc}): peers are N/A", file=sys.stderr)
            print(f"scratchbird IMPL={scratchbird.IMPL}; {n:,} per sample, best of {args.repeats}")
            figures: dict = {}
            print("scenario 4 async: SELECT 1 round trips")
            _measure("scratchbird-c (sync)", lambda: _sb_sync_rt(dsn, n), args.repeats, figures, n)
            _measure("scratchbird-async", lambda: asyncio.run(_sb_async_rt(dsn, n)),
                     args.repeats, figures, n)
            if pg_dsn:
                _measure("asyncpg", lambda: asyncio.run(_asyncpg_rt(pg_dsn, n)),
                         args.repeats, figures, n)
                _measure("psycopg-async", lambda: asyncio.run(_psycopg_async_rt(pg_dsn, n)),
                         args.repeats, figures, n)
            print("scenario 9: pooled checkout + SELECT 1")
            _measure("scratchbird pool", lambda: _sb_pool(dsn, n), args.repeats, figures, n)
            _measure("scratchbird async pool", lambda: asyncio.run(_sb_async_pool(dsn, n)),
                     args.repeats, figures, n)
            if pg_dsn:
                _measure("psycopg_pool", lambda: _psycopg_pool(pg_dsn, n), args.repeats,
                         figures, n)
                _measure("psycopg_pool async", lambda: asyncio.run(_psycopg_async_pool(pg_dsn, n)),
                         args.repeats, figures, n)
                _measure("asyncpg pool", lambda: asyncio.run(_asyncpg_pool(pg_dsn, n)),
                         args.repeats, figures, n)
            _ratio(figures, "scratchbird-async", ["asyncpg"], 1.2, "T14")
            _ratio(figures, "scratchbird pool", ["psycopg_pool"], 1.0, "T15 sync")
            _ratio(figures, "scratchbird async pool", ["psycopg_pool async", "asyncpg pool"], 1.0,
                   "T15 async")
        finally:
            server.stop()
            if pg is not None:
                pg.stop()


if __name__ == "__main__":
    main()
