"""psycopg 3 (its C implementation, ``psycopg[binary]``) against the local PostgreSQL,
with text or binary result formats."""
from __future__ import annotations

import psycopg

from . import DBAPIContender


class PsycopgContender(DBAPIContender):

    placeholder = "%s"

    def __init__(self, target: dict, binary: bool = False, **options) -> None:
        super().__init__(target, binary=binary, **options)
        self.binary = binary
        self.conn = psycopg.connect(target["pg_dsn"])
        self.cur = self.conn.cursor(binary=binary)
        self.cur.execute("SELECT pg_backend_pid()")
        self.server_pid = self.cur.fetchone()[0]
        self.conn.commit()

    def info(self) -> dict:
        return {"psycopg": psycopg.__version__, "impl": psycopg.pq.__impl__,
                "libpq": psycopg.pq.version(), "binary": self.binary}

    def iterate(self, sql: str, stream: bool = True) -> int:
        """``Cursor.stream()``: rows as they arrive (libpq single-row mode), always."""
        n = 0
        for _row in self.conn.cursor(binary=self.binary).stream(sql):
            n += 1
        self.conn.commit()
        return n

    def prepared_lookups(self, sql: str, ids) -> list:
        """``prepare=True``: server-side prepared at once (as prepare_threshold=0)."""
        cur = self.cur
        sql = sql.replace("$1", "%s")
        rows: list = []
        for i in ids:
            cur.execute(sql, (i,), prepare=True)
            rows = cur.fetchall()
        self.conn.commit()
        return rows

    def close(self) -> None:
        self.conn.close()
