"""asyncpg (binary protocol) against the local PostgreSQL. Each scenario runs as one
coroutine on one event loop, so the loop is entered once per sample, not per query."""
from __future__ import annotations

import asyncio
from typing import List

import asyncpg

from . import Contender


class AsyncpgContender(Contender):

    def __init__(self, target: dict, **options) -> None:
        super().__init__(target, **options)
        self.loop = asyncio.new_event_loop()
        self.conn = self._run(asyncpg.connect(target["pg_dsn"]))
        self.server_pid = self.conn.get_server_pid()

    def _run(self, coro):
        return self.loop.run_until_complete(coro)

    def info(self) -> dict:
        return {"asyncpg": asyncpg.__version__}

    def fetch(self, sql: str) -> list:
        return self._run(self.conn.fetch(sql))

    def fetch_repeated(self, sql: str, times: int):
        async def body():
            rows, total = [], 0
            for _ in range(times):
                rows = await self.conn.fetch(sql)
                total += len(rows)
            return total, rows
        return self._run(body())

    def round_trips(self, n: int) -> int:
        async def body():
            fetch = self.conn.fetch
            for _ in range(n):
                await fetch("SELECT 1")
            return n
        return self._run(body())

    def insert_many(self, table: str, columns: List[str], rows: List[tuple],
                    listed: bool = False) -> int:
        marks = ", ".join(f"${k + 1}" for k in range(len(columns)))
        names = f" ({', '.join(columns)})" if listed else ""

        async def body():
            async with self.conn.transaction():
                await self.conn.executemany(f"INSERT INTO {table}{names} VALUES ({marks})", rows)
        self._run(body())
        return len(rows)

    def prepared_lookups(self, sql: str, ids) -> list:
        async def body():
            stmt = await self.conn.prepare(sql)
            rows: list = []
            for i in ids:
                rows = await stmt.fetch(i)
            return rows
        return self._run(body())

    def execute(self, sql: str) -> None:
        self._run(self.conn.execute(sql))

    def iterate(self, sql: str, stream: bool = True) -> int:
        """A server-side cursor in a transaction, 1,000 rows per fetch, always."""
        async def body():
            n = 0
            async with self.conn.transaction():
                async for _row in self.conn.cursor(sql, prefetch=1000):
                    n += 1
            return n
        return self._run(body())

    def close(self) -> None:
        self._run(self.conn.close())
        self.loop.close()
