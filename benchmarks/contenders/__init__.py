"""The contenders: one class per driver (or the floor), each in its own module, all with
the interface of :class:`Contender`. A worker process imports exactly one of them.

Which server a contender talks to is its ``server``: ``devserver`` (the ScratchBird dev
server, SBWP), ``postgres`` (the local PostgreSQL) or ``none`` (the marshal floor).
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Tuple

__all__ = ["Contender", "DBAPIContender", "ContenderSpec", "CONTENDERS", "load"]


@dataclass(frozen=True)
class ContenderSpec:
    name: str
    module: str                   # benchmarks.contenders.<module>
    cls: str
    server: str                   # devserver | postgres | none
    env: Tuple[Tuple[str, str], ...] = ()
    options: Tuple[Tuple[str, object], ...] = ()
    label: str = ""


CONTENDERS: Dict[str, ContenderSpec] = {spec.name: spec for spec in (
    ContenderSpec("scratchbird-c", "scratchbird", "ScratchbirdContender", "devserver",
                  (("SCRATCHBIRD_IMPL", "c"),), label="this driver, compiled (Cython)"),
    ContenderSpec("scratchbird-python", "scratchbird", "ScratchbirdContender", "devserver",
                  (("SCRATCHBIRD_IMPL", "python"),), label="this driver, pure-Python twin"),
    ContenderSpec("psycopg-text", "psycopg_pg", "PsycopgContender", "postgres",
                  options=(("binary", False),), label="psycopg 3 C implementation, text results"),
    ContenderSpec("psycopg-binary", "psycopg_pg", "PsycopgContender", "postgres",
                  options=(("binary", True),), label="psycopg 3 C implementation, binary results"),
    ContenderSpec("asyncpg", "asyncpg_pg", "AsyncpgContender", "postgres",
                  label="asyncpg (binary protocol)"),
    ContenderSpec("floor", "floor", "MarshalFloor", "none",
                  label="marshal.loads of the same rows (CPython's C object builder)"),
)}


class Contender:
    """What a worker asks of a driver. ``fetch``-like methods return what they fetched so
    the caller can drop it after the clocks stop."""

    name = "?"
    server_pid: Optional[int] = None

    def __init__(self, target: dict, **options) -> None:
        self.target = target
        self.options = options

    def info(self) -> dict:
        """Versions and settings worth recording."""
        return {}

    def prepare(self, scenario, data_dir: Optional[str]) -> None:
        """Untimed preparation for one scenario (the floor loads its blob here)."""

    def fetch(self, sql: str) -> list:
        """Execute ``sql`` and fetch every row."""
        raise NotImplementedError

    def fetch_repeated(self, sql: str, times: int) -> Tuple[int, list]:
        """``times`` executions of ``sql``: (rows in total, the last result)."""
        rows: list = []
        total = 0
        for _ in range(times):
            rows = self.fetch(sql)
            total += len(rows)
        return total, rows

    def round_trips(self, n: int) -> int:
        """``n`` times ``SELECT 1`` (each fetched); returns n."""
        raise NotImplementedError

    def insert_many(self, table: str, columns: List[str], rows: List[tuple],
                    listed: bool = False) -> int:
        """executemany of one INSERT per row (``listed``: with its column list), then
        commit; returns the rows inserted."""
        raise NotImplementedError

    def prepared_lookups(self, sql: str, ids: List[int]) -> list:
        """Prepare ``sql`` (one ``$1``) once, run it with each id and fetch; returns the
        last result."""
        raise NotImplementedError

    def execute(self, sql: str) -> None:
        """Run a statement and commit (untimed housekeeping)."""
        raise NotImplementedError

    def iterate(self, sql: str, stream: bool = False) -> int:
        """Iterate a (large) result row by row without keeping the rows; returns the count.
        ``stream``: with the driver's streaming cursor (rows read as they are fetched)."""
        raise NotImplementedError

    def as_tuples(self, sid: str, rows: Iterable) -> List[tuple]:
        """The rows as plain tuples of the expected Python objects (for the check)."""
        return [tuple(r) for r in rows]

    def close(self) -> None:
        pass



class DBAPIContender(Contender):
    """The methods every PEP 249 driver answers the same way: subclasses set ``conn``,
    ``cur`` and their ``placeholder`` (psycopg ``%s``, this driver ``?``)."""

    placeholder = "?"

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

    def insert_many(self, table: str, columns: List[str], rows: List[tuple],
                    listed: bool = False) -> int:
        marks = ", ".join(self.placeholder for _ in columns)
        names = f" ({', '.join(columns)})" if listed else ""
        self.cur.executemany(f"INSERT INTO {table}{names} VALUES ({marks})", rows)
        self.conn.commit()
        return len(rows)

    def execute(self, sql: str) -> None:
        self.cur.execute(sql)
        self.conn.commit()


def load(name: str, target: dict) -> Contender:
    spec = CONTENDERS[name]
    module = importlib.import_module(f"{__name__}.{spec.module}")
    contender = getattr(module, spec.cls)(target, **dict(spec.options))
    contender.name = name
    return contender
