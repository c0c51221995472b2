"""This driver against the dev server. The implementation (compiled or pure Python) is
chosen by ``SCRATCHBIRD_IMPL`` in the worker's environment, before the import."""
from __future__ import annotations

from typing import Iterable, List

import scratchbird

from . import DBAPIContender


class ScratchbirdContender(DBAPIContender):

    def __init__(self, target: dict, **options) -> None:
        super().__init__(target, **options)
        self.conn = scratchbird.connect(target["dsn"])
        self.cur = self.conn.cursor()
        self.server_pid = target.get("server_pid")

    def info(self) -> dict:
        return {"impl": scratchbird.IMPL, "tls": self.conn.info["tls"],
                "server": self.conn.info["server"], "profile": self.target.get("profile")}

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

    def prepared_lookups(self, sql: str, ids) -> list:
        stmt = self.conn.prepare(sql)
        cur = self.conn.cursor()
        rows: list = []
        for i in ids:
            rows = stmt.execute((i,), cursor=cur).fetchall()
        stmt.close()
        return rows

    def as_tuples(self, sid: str, rows: Iterable) -> List[tuple]:
        if sid == "2":      # sbsql sends BLOB as hex text
            return [tuple(bytes.fromhex(v) if isinstance(v, str) else v for v in r) for r in rows]
        return [tuple(r) for r in rows]

    def close(self) -> None:
        self.conn.close()
