"""The benchmark data: generated once per run, loaded identically into DuckDB (behind the
dev server) and PostgreSQL, and kept as the Python rows every contender must return.

Scenarios 1, 1a and 1b come from CSV files written here (Python is the source of truth
for their decimals, texts, timestamps and uuids); the other tables are made by the same SQL in both engines.
``expected_rows()`` rebuilds in Python exactly what a fetch must give, for the correctness
check each worker does outside the timed region and for the marshal floor.
"""
from __future__ import annotations

import datetime
import hashlib
import marshal
import pickle
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Dict, List

from .scenarios import INSERT_COLUMNS, Sizes

__all__ = ["DataSet", "expected_rows", "mixed_row", "mixed_tu_row", "plain_row", "wide_row",
           "insert_rows", "load_duckdb", "postgres_script"]

_WORDS = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel")

MIXED_COLUMNS = ("id BIGINT, a BIGINT, b INTEGER, c BIGINT, d DECIMAL(12,2), e DECIMAL(14,4), "
                 "f TEXT, g TEXT, h BOOLEAN, n TEXT")
MIXED_TU_COLUMNS = MIXED_COLUMNS + ", t TIMESTAMP, u UUID"
PLAIN_COLUMNS = ("id BIGINT, a BIGINT, b INTEGER, c BIGINT, d BIGINT, e BIGINT, "
                 "f TEXT, g TEXT, h BOOLEAN, n TEXT")
WIDE_COLUMNS = 100


def _text_g(i: int) -> str:
    return f"{_WORDS[i % 8]} {_WORDS[(i // 8) % 8]} {i % 9973}"


def mixed_row(i: int) -> tuple:
    """Scenario 1: 4 integers, 2 decimals, 2 texts, a boolean and a NULL."""
    return (i, (i * 7919) % 1_000_003, i % 1000, -3 * i,
            Decimal(f"{(i % 100_000) // 100}.{i % 100:02d}"),
            Decimal(f"{i % 1000}.{(i * 37) % 10_000:04d}"),
            f"name {i}", _text_g(i), i % 3 != 0, None)


_EPOCH = datetime.datetime(2024, 1, 1)
_MICROS = datetime.timedelta(microseconds=1)


def mixed_tu_row(i: int) -> tuple:
    """Scenario 1b: scenario 1's row plus a timestamp (naive, microseconds) and a uuid."""
    return mixed_row(i) + (_EPOCH + _MICROS * (i * 37_000_013),
                           uuid.UUID(int=(i * 0x9E3779B97F4A7C15F39CC0605CEDC835) % (1 << 128)))


def plain_row(i: int) -> tuple:
    """Scenario 1a: only objects marshal can hold (int, str, bool, None)."""
    return (i, (i * 7919) % 1_000_003, i % 1000, -3 * i, (i * i) % 99_991, i // 7,
            f"name {i}", _text_g(i), i % 3 != 0, None)


def wide_row(i: int) -> tuple:
    """Scenario 6: 100 columns, integers at even positions, texts at odd ones."""
    return tuple(i * 100 + k if k % 2 == 0 else f"v{i + k}" for k in range(WIDE_COLUMNS))


def bytes_value(i: int) -> bytes:
    """Scenario 2: 1 KiB per row, the same bytes both engines build with md5()."""
    return bytes.fromhex(hashlib.md5(str(i).encode()).hexdigest() * 64)


def insert_rows(n: int) -> List[tuple]:
    """Scenario 5's parameters: int, bigint, text, decimal, bool, float, date."""
    import datetime
    base = datetime.date(2024, 1, 1)
    return [(i, i * 10, f"name {i}", Decimal(f"{i}.25"), i % 2 == 0, i * 0.5,
             base + datetime.timedelta(days=i % 365)) for i in range(n)]


def expected_rows(sid: str, n: int) -> list:
    """What one execution of scenario ``sid`` returns, as Python objects."""
    if sid == "1":
        return [mixed_row(i) for i in range(n)]
    if sid == "1a":
        return [plain_row(i) for i in range(n)]
    if sid == "1b":
        return [mixed_tu_row(i) for i in range(n)]
    if sid == "2":
        return [(bytes_value(i),) for i in range(n)]
    if sid == "3":
        return [(i,) for i in range(n)]
    if sid == "6":
        return [wide_row(i) for i in range(n)]
    raise ValueError(f"scenario {sid} has no fixed result")


def _csv_value(v) -> str:
    if v is None:
        return ""                  # an unquoted empty field is NULL in both engines
    if v is True or v is False:
        return "true" if v else "false"
    return str(v)


def _write_csv(path: Path, make_row, n: int) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        chunk = []
        for i in range(n):
            chunk.append(",".join(map(_csv_value, make_row(i))))
            if len(chunk) >= 50_000:
                f.write("\n".join(chunk) + "\n")
                chunk = []
        if chunk:
            f.write("\n".join(chunk) + "\n")


def _wide_select(n: int) -> str:
    exprs = [f"i::BIGINT * 100 + {k} AS c{k}" if k % 2 == 0 else f"concat('v', i + {k}) AS c{k}"
             for k in range(WIDE_COLUMNS)]
    return f"SELECT {', '.join(exprs)} FROM generate_series(0, {n - 1}) AS g(i)"


class DataSet:
    """The files of one run in ``directory``: CSVs, expected rows (pickle) and the marshal
    blobs of the floor."""

    def __init__(self, directory: Path, sizes: Sizes) -> None:
        self.dir = Path(directory)
        self.sizes = sizes
        self.rows: Dict[str, int] = {"1": sizes.rows_1, "1a": sizes.rows_1a,
                                     "1b": sizes.rows_1b, "2": 1_000, "3": 1_000,
                                     "6": sizes.rows_6}

    def csv(self, table: str) -> Path:
        return self.dir / f"{table}.csv"

    def csv_tables(self) -> List[str]:
        """The tables whose CSV file was written (to be loaded into both engines)."""
        return [t for t in ("bench_mixed", "bench_plain", "bench_mixed_tu") if self.csv(t).exists()]

    def expected_path(self, sid: str) -> Path:
        return self.dir / f"expected_{sid}.pickle"

    def marshal_path(self, sid: str) -> Path:
        return self.dir / f"floor_{sid}.marshal"

    def write(self, sids) -> None:
        """CSV files for the tables, the expected rows and the marshal blobs."""
        self.dir.mkdir(parents=True, exist_ok=True)
        _write_csv(self.csv("bench_mixed"), mixed_row, self.sizes.rows_1)
        _write_csv(self.csv("bench_plain"), plain_row, self.sizes.rows_1a)
        if "1b" in sids:                # else its table stays empty
            _write_csv(self.csv("bench_mixed_tu"), mixed_tu_row, self.sizes.rows_1b)
        for sid in sids:
            if sid not in self.rows:
                continue
            rows = expected_rows(sid, self.rows[sid])
            with open(self.expected_path(sid), "wb") as f:
                pickle.dump(rows, f, protocol=pickle.HIGHEST_PROTOCOL)
            if sid in ("1a", "3", "6"):
                self.marshal_path(sid).write_bytes(marshal.dumps(rows))

    def table_sql(self, engine: str) -> List[str]:
        """Statements that create and fill every table (engine: duckdb or postgres); the
        CSV loads are left to the caller (the COPY syntax differs)."""
        n6 = self.sizes.rows_6
        if engine == "duckdb":
            blob = "unhex(repeat(md5(CAST(i AS VARCHAR)), 64))"
        else:
            blob = "decode(repeat(md5(i::text), 64), 'hex')"
        insert_cols = ", ".join(f"{name} {typ}" for name, typ in INSERT_COLUMNS)
        return [
            f"CREATE TABLE bench_mixed ({MIXED_COLUMNS})",
            f"CREATE TABLE bench_plain ({PLAIN_COLUMNS})",
            f"CREATE TABLE bench_mixed_tu ({MIXED_TU_COLUMNS})",
            f"CREATE TABLE bench_bytes AS SELECT {blob} AS b FROM generate_series(0, 999) AS g(i)",
            "CREATE TABLE bench_int1k AS SELECT i::BIGINT AS i FROM generate_series(0, 999) AS g(i)",
            f"CREATE TABLE bench_wide AS {_wide_select(n6)}",
            f"CREATE TABLE bench_insert ({insert_cols})",
            "CREATE TABLE bench_items AS SELECT i::INTEGER AS id, concat('item ', i) AS name, "
            "(i * 1.25)::DECIMAL(10,2) AS price FROM generate_series(0, 999) AS g(i)",
        ]


def load_duckdb(data: DataSet, path: Path) -> None:
    """Create the DuckDB database file the dev server will serve."""
    import duckdb
    con = duckdb.connect(str(path))
    try:
        for sql in data.table_sql("duckdb"):
            con.execute(sql)
        for table in data.csv_tables():
            con.execute(f"COPY {table} FROM '{data.csv(table)}' (FORMAT csv, HEADER false)")
        con.execute("CHECKPOINT")
    finally:
        con.close()


def postgres_script(data: DataSet) -> str:
    """A psql script creating and filling the same tables in PostgreSQL."""
    lines = [sql + ";" for sql in data.table_sql("postgres")]
    for table in data.csv_tables():
        lines.append(f"\\copy {table} FROM '{data.csv(table)}' WITH (FORMAT csv)")
    lines.append("VACUUM (FREEZE, ANALYZE);")
    return "\n".join(lines) + "\n"
