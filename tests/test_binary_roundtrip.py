"""Every DuckDB-backed type through the driver and the ``full`` profile (binary values
and binary parameters), with NULLs in every position, under either implementation."""
from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest

import scratchbird
from scratchbird.binary_types import Interval

COLUMNS = [
    ("b", "BOOLEAN", True),
    ("i8", "TINYINT", -128),
    ("i16", "SMALLINT", 32767),
    ("i32", "INTEGER", -2147483648),
    ("i64", "BIGINT", 9223372036854775807),
    ("i128", "HUGEINT", -(2**127)),
    ("u8", "UTINYINT", 255),
    ("u16", "USMALLINT", 65535),
    ("u32", "UINTEGER", 4294967295),
    ("u64", "UBIGINT", 18446744073709551615),
    ("u128", "UHUGEINT", 2**128 - 1),
    ("d1", "DECIMAL(18,4)", Decimal("-12345678901234.5678")),
    ("d2", "DECIMAL(38,10)", Decimal("1234567890123456789012345678.0123456789")),
    ("f4", "FLOAT", 1.5),
    ("f8", "DOUBLE", -0.1),
    ("s", "VARCHAR", "ünïcødé ' \" ; -- 😀 \x00 end"),
    ("blob", "BLOB", bytes(range(256))),
    ("day", "DATE", dt.date(1, 1, 1)),
    ("tod", "TIME", dt.time(23, 59, 59, 999999)),
    ("ts", "TIMESTAMP", dt.datetime(9999, 12, 31, 23, 59, 59, 999999)),
    ("tstz", "TIMESTAMPTZ", dt.datetime(2024, 2, 29, 12, 0, tzinfo=dt.timezone.utc)),
    ("iv", "INTERVAL", Interval(14, 3, 4_000_005)),
    ("u", "UUID", uuid.UUID("018f0a2b-3c4d-7e5f-8a6b-7c8d9e0fa1b2")),
    ("ints", "INTEGER[]", [1, None, 3]),
    ("nested", "VARCHAR[][]", [["a", None], [], None]),
    ("m", "MAP(VARCHAR, INTEGER)", {"k": 1, "z": None}),
]


@pytest.fixture
def full(devserver, profile):
    if profile != "full":
        pytest.skip("binary values exist only in the full profile (sbsql sends text: "
                    "its own round trips are in test_dbapi)")
    with scratchbird.connect(devserver.dsn) as conn:
        assert conn.binary_values
        yield conn


def test_every_type_round_trips_with_nulls_everywhere(full):
    cur = full.cursor()
    table = f"rt_{uuid.uuid4().hex[:8]}"
    cur.execute(f"CREATE TABLE {table} (id INTEGER, "
                + ", ".join(f"{name} {sqltype}" for name, sqltype, _ in COLUMNS) + ")")
    names = [name for name, _, _ in COLUMNS]
    insert = (f"INSERT INTO {table} (id, {', '.join(names)}) VALUES "
              f"(:id, {', '.join(':' + n for n in names)})")
    values = {name: value for name, _, value in COLUMNS}
    rows = [dict(values, id=0), dict({n: None for n in names}, id=1)]
    for k, name in enumerate(names):           # a NULL in every single position
        rows.append(dict(values, id=2 + k, **{name: None}))
    cur.executemany(insert, rows)
    assert cur.rowcount == len(rows)
    cur.execute(f"SELECT id, {', '.join(names)} FROM {table} ORDER BY id")
    got = cur.fetchall()
    assert len(got) == len(rows)
    for want, row in zip(rows, got):
        expected = tuple([want["id"]] + [want[n] for n in names])
        assert row[0] == want["id"]
        for name, w, g in zip(["id"] + names, expected, row):
            if name == "f4" and w is not None:
                assert g == pytest.approx(w)
            else:
                assert g == w, f"column {name}: {g!r} != {w!r}"
    types = {c.name: c for c in cur.columns}
    assert types["u128"].python_type is int and types["day"].python_type is dt.date
    assert all(c.binary for c in cur.columns)


def test_null_and_empty_string_are_distinct(full):
    assert full.execute("SELECT NULL AS a, '' AS b, 'NULL' AS c").fetchone() == (None, "", "NULL")


def test_struct_and_enum(full):
    full.execute("CREATE TYPE mood AS ENUM ('sad', 'happy')")
    row = full.execute("SELECT {'a': 1, 'b': 'x'} AS s, 'happy'::mood AS e").fetchone()
    assert row == ((1, "x"), "happy")
