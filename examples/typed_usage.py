"""A small inventory program written against scratchbird's typed API.

It is what a user's code looks like with ``mypy --strict``: every function annotated, rows
turned into typed objects at the edge, nothing cast. tests/test_typing.py checks it with
``mypy --strict`` and runs it against the dev server, comparing what it prints.

    python -m scratchbird.devserver --demo &          # prints the DSN to use
    python examples/typed_usage.py "scratchbird://sb:sb@127.0.0.1:3092/default?sslmode=require"

The DSN comes from the first argument, else from ``SCRATCHBIRD_DSN``.
"""
from __future__ import annotations

import asyncio
import os
import sys
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Iterable, List, Optional, Sequence, Tuple

import scratchbird
from scratchbird import Connection, Cursor
from scratchbird.aio import AsyncConnection
from scratchbird.pool import ConnectionPool


@dataclass(frozen=True)
class Item:
    """One row of the ``items`` table, typed."""

    id: int
    name: str
    price: Decimal

    @classmethod
    def from_row(cls, row: Sequence[object]) -> Item:
        """Check the driver's row (a tuple of whatever the columns decode to) once, here."""
        item_id, name, price = row
        if not isinstance(item_id, int) or not isinstance(name, str):
            raise TypeError(f"unexpected row {row!r}")
        return cls(item_id, name, Decimal(str(price)))

    def as_params(self) -> Tuple[int, str, Decimal]:
        return (self.id, self.name, self.price)


def create_items(conn: Connection, table: str) -> None:
    conn.execute(f"CREATE TABLE {table} (id INTEGER, name VARCHAR, price DECIMAL(10,2))")
    conn.commit()


def add_items(cur: Cursor, table: str, items: Iterable[Item]) -> None:
    cur.executemany(f"INSERT INTO {table} (id, name, price) VALUES (?, ?, ?)",
                    [item.as_params() for item in items])


def count_items(cur: Cursor, table: str) -> int:
    cur.execute(f"SELECT count(*) FROM {table}")
    row = cur.fetchone()
    if row is None:
        raise RuntimeError("count(*) returned no row")
    return int(row[0])


def items_under(cur: Cursor, table: str, limit: Decimal) -> List[Item]:
    cur.execute(f"SELECT id, name, price FROM {table} WHERE price < :limit ORDER BY id",
                {"limit": limit})
    return [Item.from_row(row) for row in cur.fetchall()]


def raise_prices(conn: Connection, table: str, percent: int) -> None:
    """Both updates or neither: a transaction block commits on success."""
    with conn.transaction():
        conn.execute(f"UPDATE {table} SET price = price * (100 + :p) / 100 WHERE id <= 2",
                     {"p": percent})
        conn.execute(f"UPDATE {table} SET name = upper(name) WHERE id <= 2")


def name_of(conn: Connection, table: str, item_id: int) -> Optional[str]:
    """A server-side prepared statement, executed with positional parameters."""
    statement = conn.prepare(f"SELECT name FROM {table} WHERE id = ?")
    try:
        row = statement.execute((item_id,)).fetchone()
    finally:
        statement.close()
    return None if row is None else str(row[0])


def load_more(conn: Connection, table: str, items: Sequence[Item]) -> int:
    """Bulk load through COPY; returns the rows loaded."""
    loaded: int = conn.load(table, [item.as_params() for item in items],
                            columns=["id", "name", "price"])
    conn.commit()
    return loaded


def price_column_total(conn: Connection, table: str) -> Decimal:
    """Columnar fetch: the result as one Arrow table."""
    arrow_table = conn.fetch_arrow(f"SELECT price::VARCHAR AS price FROM {table}")
    return sum((Decimal(text) for text in arrow_table.column("price").to_pylist()), Decimal(0))


def busiest_reader(dsn: str, table: str) -> int:
    """A connection pool shared by the blocks that need a connection."""
    with ConnectionPool(dsn, min_size=1, max_size=2, timeout=30) as pool:
        with pool.connection() as conn:
            return count_items(conn.cursor(), table)


async def count_async(dsn: str, table: str) -> int:
    """The asyncio API: the same calls, awaited."""
    async with await AsyncConnection.connect(dsn) as conn:
        cur = await conn.execute(f"SELECT count(*) FROM {table}")
        row = await cur.fetchone()
        return 0 if row is None else int(row[0])


def main(dsn: str) -> None:
    table = f"typed_items_{uuid.uuid4().hex[:8]}"
    with scratchbird.connect(dsn) as conn:
        create_items(conn, table)
        cur = conn.cursor()
        add_items(cur, table, [Item(1, "pen", Decimal("1.50")), Item(2, "ink", Decimal("4.00")),
                               Item(3, "pad", Decimal("12.25"))])
        conn.commit()
        print("count:", count_items(cur, table))
        print("under 5:", [item.name for item in items_under(cur, table, Decimal(5))])
        raise_prices(conn, table, 10)
        print("item 2:", name_of(conn, table, 2))
        print("loaded:", load_more(conn, table, [Item(4, "clip", Decimal("0.10")),
                                                 Item(5, "tape", Decimal("2.00"))]))
        print("total:", price_column_total(conn, table))
        print("pool count:", busiest_reader(dsn, table))
        print("async count:", asyncio.run(count_async(dsn, table)))
        conn.execute(f"DROP TABLE {table}")
        conn.commit()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.environ["SCRATCHBIRD_DSN"])
