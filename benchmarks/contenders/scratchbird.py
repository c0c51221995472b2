"""This driver against the dev server. The implementation (compiled or pure Python) is
chosen by ``SCRATCHBIRD_IMPL`` in the worker's environment, before the import."""
from __future__ import annotations

from typing import Iterable, List, Tuple

import scratchbird

from . import Contender


class ScratchbirdContender(Contender):

    def __init__(self, target: dict, **options) -> None:
        super().__init__(target, **options)
        self.conn = scratchbird.connect(target["dsn"])
        self.cur = self.conn.cursor()
        self.server_pid = target.get("server_pid")

    def info(self) -> dict:
        return {"impl": scratchbird.IMPL, "tls": self.conn.info["tls"],
                "server": self.conn.info["server"], "profile": self.target.get("profile")}

    def fetch(self, sql: str) -> list:
        cur = self.cur
        cur.execute(sql)
        return cur.fetchall()

    def round_trips(self, n: int) -> int:
        cur = self.cur
        for _ in range(n):
            cur.execute("SELECT 1")
            cur.fetchall()
        return n

    def insert_many(self, table: str, columns: List[str], rows: List[tuple]) -> int:
        marks = ", ".join("?" for _ in columns)
        self.cur.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
        self.conn.commit()
        return len(rows)

    def execute(self, sql: str) -> None:
        self.cur.execute(sql)
        self.conn.commit()

    def iterate(self, sql: str, stream: bool = False) -> int:
        """``stream=False``: the default cursor, which reads the whole result at execute();
        ``stream=True``: ``conn.cursor(stream=True)``, ``itersize`` rows at a time."""
        cur = self.conn.cursor(stream=True) if stream else self.conn.cursor()
        cur.execute(sql)
        n = 0
        for _row in cur:
            n += 1
        cur.close()
        return n

    def as_tuples(self, sid: str, rows: Iterable) -> List[tuple]:
        if sid == "2":      # sbsql sends BLOB as hex text
            return [tuple(bytes.fromhex(v) if isinstance(v, str) else v for v in r) for r in rows]
        return [tuple(r) for r in rows]

    def close(self) -> None:
        self.conn.close()
