"""Columnar fetch end to end: the dev server (both profiles, real TCP/TLS, real DuckDB) into
Arrow, NumPy, pandas and Polars, and the Arrow PyCapsule stream read by pyarrow, Polars and
DuckDB. Values must equal what ``fetchall()`` gives for the same query, NULLs included."""
import os
import subprocess
import sys
import uuid
from pathlib import Path
from decimal import Decimal

import pytest

pa = pytest.importorskip("pyarrow", reason="pyarrow is in the test extra; columnar fetch needs it")
np = pytest.importorskip("numpy", reason="numpy is in the test extra")

import scratchbird                                           # noqa: E402
from scratchbird.binary_types import Interval                # noqa: E402
from scratchbird.errors import DataError, InterfaceError, ProgrammingError  # noqa: E402

# every type of the map (README, "Columnar fetch"); sbsql sends them as text (codes 16, 20,
# 1700 or 25 from the first row, REFERENCE 8.2), full in binary with their TypeRefs
COLUMNS = [
    ("b", "BOOLEAN", "true", "false"), ("i8", "TINYINT", "-5", "127"),
    ("i16", "SMALLINT", "300", "-32768"), ("i32", "INTEGER", "70000", "-1"),
    ("i64", "BIGINT", "9223372036854775807", "-42"), ("u64", "UBIGINT", "18446744073709551615", "0"),
    ("h", "HUGEINT", "-99999999999999999999999999999999999999", "3"),
    ("d", "DECIMAL(12,3)", "123456789.125", "-0.5"), ("r", "REAL", "1.5", "-0.25"),
    ("f", "DOUBLE", "2.5", "-1e300"), ("s", "VARCHAR", "'h\u00e9llo'", "''"),
    ("bl", "BLOB", "'\\x00\\xFFab'::BLOB", "''::BLOB"), ("dt", "DATE", "'2024-02-29'", "'0001-01-01'"),
    ("tm", "TIME", "'23:59:59.999999'", "'00:00:00'"),
    ("ts", "TIMESTAMP", "'1999-12-31 23:59:59.5'", "'2038-01-19 03:14:08'"),
    ("tz", "TIMESTAMPTZ", "'2024-01-02 03:04:05+00'", "'1970-01-01 00:00:00+00'"),
    ("u", "UUID", "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'", "'00000000-0000-0000-0000-000000000001'"),
    ("iv", "INTERVAL", "INTERVAL '1 month 2 days 3 seconds'", "INTERVAL '-1 day'"),
    ("l", "INTEGER[]", "[1, NULL, 3]", "[]"),
    ("st", "STRUCT(a INTEGER, b VARCHAR)", "{'a': 1, 'b': 'x'}", "{'a': NULL, 'b': NULL}"),
]


@pytest.fixture
def typed_table(conn):
    name = f"arrow_types_{uuid.uuid4().hex[:8]}"
    cur = conn.cursor()
    cur.execute(f"CREATE TABLE {name} (k INTEGER, " + ", ".join(f"{c} {t}" for c, t, _, _ in COLUMNS) + ")")
    for k, pick in ((1, 2), (2, None), (3, 3)):
        values = ", ".join("NULL" if pick is None else col[pick] for col in COLUMNS)
        cur.execute(f"INSERT INTO {name} VALUES ({k}, {values})")
    conn.commit()
    yield name
    cur.execute(f"DROP TABLE {name}")
    conn.commit()


def same_value(arrow, fetched):
    """An Arrow value (``to_pylist``) and the fetchall value of the same cell agree."""
    if fetched is None or arrow is None:
        return arrow is None and fetched is None
    if isinstance(fetched, Decimal):
        return Decimal(str(arrow)) == fetched
    if isinstance(fetched, tuple):                          # ROW -> struct f0, f1, ...
        return tuple(arrow.values()) == fetched
    if isinstance(fetched, Interval):
        return (arrow.months, arrow.days, arrow.nanoseconds) == (
            fetched.months, fetched.days, fetched.microseconds * 1000)
    if isinstance(fetched, bool) or not isinstance(arrow, str):
        return arrow == fetched
    return arrow == (str(fetched) if not isinstance(fetched, str) else fetched)


def assert_matches_fetchall(table, rows):
    assert table.num_rows == len(rows)
    for got, want in zip(table.to_pylist(), rows):
        for (name, a), f in zip(got.items(), want):
            assert same_value(a, f), (name, a, f)


def fetchall(conn, sql):
    cur = conn.cursor()
    cur.execute(sql)
    return cur.fetchall()


@pytest.mark.parametrize("how", ["conn", "stream", "default"])
def test_fetch_arrow_equals_fetchall_for_every_type(conn, typed_table, how):
    sql = f"SELECT * FROM {typed_table} ORDER BY k"
    rows = fetchall(conn, sql)
    if how == "conn":
        table = conn.fetch_arrow(sql)
    else:
        cur = conn.cursor(stream=how == "stream")
        cur.itersize = 1                          # first row as a tuple, the rest columnar
        cur.execute(sql)
        table = cur.fetch_arrow()
        assert cur.fetchall() == [] and cur.rowcount == 3
    assert_matches_fetchall(table, rows)
    assert table.column("k").type == (pa.int64() if conn.binary_values is False else pa.int32())


def test_binary_profile_types_follow_the_map(conn, typed_table):
    if not conn.binary_values:
        pytest.skip("the type map by declared type applies to binary values (profile full)")
    schema = conn.fetch_arrow(f"SELECT * FROM {typed_table}").schema
    want = {"b": pa.bool_(), "i8": pa.int8(), "i16": pa.int16(), "i32": pa.int32(),
            "i64": pa.int64(), "u64": pa.uint64(), "h": pa.decimal128(38, 0),
            "d": pa.decimal128(12, 3), "r": pa.float32(), "f": pa.float64(), "s": pa.string(),
            "bl": pa.binary(), "dt": pa.date32(), "tm": pa.time64("us"), "ts": pa.timestamp("us"),
            "tz": pa.timestamp("us", tz="UTC"), "u": pa.uuid(), "iv": pa.month_day_nano_interval(),
            "l": pa.list_(pa.int64())}
    for name, t in want.items():
        assert schema.field(name).type == t, name
    assert pa.types.is_struct(schema.field("st").type)


def test_text_profile_numeric_as(conn):
    if conn.binary_values:
        pytest.skip("numeric_as applies to text values (profile sbsql), which declare no scale")
    sql = "SELECT 1.50 AS n UNION ALL SELECT -2.25 UNION ALL SELECT NULL ORDER BY 1 NULLS LAST"
    assert conn.fetch_arrow(sql).column("n").to_pylist() == ["-2.25", "1.50", None]
    assert conn.fetch_arrow(sql, numeric_as="float64").column("n").to_pylist() == [-2.25, 1.5, None]
    t = conn.fetch_arrow(sql, numeric_as="decimal128(9,2)")
    assert t.column("n").type == pa.decimal128(9, 2)
    assert t.column("n").to_pylist() == [Decimal("-2.25"), Decimal("1.50"), None]
    with pytest.raises(ProgrammingError, match="numeric_as"):
        conn.fetch_arrow(sql, numeric_as="money")
    assert conn.fetch_arrow("SELECT 1 AS x").column("x").to_pylist() == [1]


def test_a_column_typed_by_its_first_row_falls_back_to_text(conn):
    # sbsql declares code 20 from the first row '1'; later rows do not parse as int64
    sql = ("SELECT CASE WHEN range = 0 THEN '1' ELSE 'x' || range::VARCHAR END AS v "
           "FROM range(5) ORDER BY range")
    rows = fetchall(conn, sql)
    table = conn.fetch_arrow(sql)
    assert table.column("v").type == pa.string()
    assert table.column("v").to_pylist() == [str(r[0]) for r in rows] == ["1", "x1", "x2", "x3", "x4"]


def test_a_batch_that_changes_type_mid_stream_is_an_error_and_the_connection_lives(conn):
    if conn.binary_values:
        pytest.skip("binary columns have one declared type: they cannot change mid-stream")
    cur = conn.cursor(stream=True)
    cur.itersize = 2
    cur.execute("SELECT CASE WHEN range < 3 THEN range::VARCHAR ELSE 'x' END AS v "
                "FROM range(10) ORDER BY range")
    with pytest.raises(DataError, match="'v'.*first batch"):
        cur.fetch_arrow_batches(batch_rows=2).read_all()
    assert fetchall(conn, "SELECT 41 + 1") == [(42,)]


def test_batches_stream_with_bounded_size(conn):
    n, batch_rows = 20000, 3000
    cur = conn.cursor(stream=True)
    cur.itersize = 100
    cur.execute(f"SELECT range AS i, 'v' || range::VARCHAR AS s FROM range({n}) ORDER BY range")
    reader = cur.fetch_arrow_batches(batch_rows=batch_rows)
    sizes, seen = [], []
    for batch in reader:
        sizes.append(batch.num_rows)
        seen.extend(batch.column(0).to_pylist())
    assert sizes[0] == 100 and max(sizes) <= batch_rows and len(sizes) >= n // batch_rows
    assert seen == list(range(n))
    assert cur.rowcount == n and cur.fetchone() is None
    cur = conn.cursor()                 # a default cursor: every row already a tuple
    cur.execute(f"SELECT range AS i FROM range({n}) ORDER BY range")
    sizes = [b.num_rows for b in cur.fetch_arrow_batches(batch_rows=batch_rows)]
    assert sum(sizes) == n and max(sizes) == batch_rows


def test_fetch_numpy_masks_nulls(conn):
    cur = conn.cursor(stream=True)
    cur.execute("SELECT i, CASE WHEN i % 2 = 1 THEN NULL ELSE i END AS half, 'v' || i::VARCHAR AS s "
                "FROM (SELECT range::BIGINT AS i FROM range(6)) ORDER BY i")
    arrays = cur.fetch_numpy()
    assert arrays["i"].tolist() == list(range(6)) and arrays["i"].dtype == np.int64
    half = arrays["half"]
    assert isinstance(half, np.ma.MaskedArray) and half.dtype == np.int64
    assert half.mask.tolist() == [False, True, False, True, False, True]
    assert half.compressed().tolist() == [0, 2, 4]
    assert arrays["s"].tolist() == [f"v{i}" for i in range(6)]


def test_fetch_numpy_takes_every_type_of_the_map(conn, typed_table):
    rows = fetchall(conn, f"SELECT * FROM {typed_table} ORDER BY k")
    cur = conn.cursor()
    cur.execute(f"SELECT * FROM {typed_table} ORDER BY k")
    arrays = cur.fetch_numpy()
    assert list(arrays) == ["k"] + [c[0] for c in COLUMNS]
    for i, (name, array) in enumerate(arrays.items()):
        nulls = [row[i] is None for row in rows]    # row 2 is all NULL ('' too, in sbsql)
        assert len(array) == 3, name
        if name != "k":
            assert isinstance(array, np.ma.MaskedArray) and array.mask.tolist() == nulls, name
    assert arrays["i64"][0] == rows[0][5]


def test_fetch_pandas_and_polars(conn, typed_table):
    pd = pytest.importorskip("pandas", reason="pandas is in the test extra")
    pl = pytest.importorskip("polars", reason="polars is in the test extra")
    sql = f"SELECT k, i64, s, f FROM {typed_table} ORDER BY k"
    rows = fetchall(conn, sql)
    cur = conn.cursor(stream=True)
    cur.execute(sql)
    frame = cur.fetch_pandas()
    assert isinstance(frame, pd.DataFrame) and list(frame.columns) == ["k", "i64", "s", "f"]
    assert frame["s"].tolist()[0] == rows[0][2] and pd.isna(frame["s"].tolist()[1])
    cur.execute(sql)
    df = cur.fetch_polars()
    assert isinstance(df, pl.DataFrame) and df.height == 3
    assert df["i64"].to_list() == [r[1] for r in rows]
    # every column of the map, UUID and INTERVAL included, reaches both frame libraries
    everything = f"SELECT * FROM {typed_table} ORDER BY k"
    cur.execute(everything)
    assert cur.fetch_pandas().shape == (3, len(COLUMNS) + 1)
    cur.execute(everything)
    full = cur.fetch_polars()
    assert full.shape == (3, len(COLUMNS) + 1) and full["k"].to_list() == [1, 2, 3]


def test_the_pycapsule_stream_is_read_by_pyarrow_polars_and_duckdb(conn):
    pl = pytest.importorskip("polars", reason="polars is in the test extra")
    duckdb = pytest.importorskip("duckdb", reason="duckdb is in the test extra")
    sql = "SELECT range AS i, range * 2 AS j FROM range(5000) ORDER BY range"
    cur = conn.cursor(stream=True)
    cur.execute(sql)
    assert pa.table(cur).column("j").to_pylist() == [2 * i for i in range(5000)]
    cur.execute(sql)
    assert pl.DataFrame(cur)["i"].sum() == sum(range(5000))
    cur.execute(sql)
    arrow_result = cur    # DuckDB finds the object by its name (a replacement scan)
    assert duckdb.sql("SELECT sum(j) FROM arrow_result").fetchall() == [(2 * sum(range(5000)),)]


def test_without_the_library_the_error_names_the_extra(conn, monkeypatch):
    cur = conn.cursor()
    cur.execute("SELECT 1 AS a")
    monkeypatch.setitem(sys.modules, "polars", None)
    with pytest.raises(ImportError, match=r"scratchbird\[polars\]"):
        cur.fetch_polars()
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(ImportError, match=r"scratchbird\[arrow\]"):
        cur.fetch_arrow()


def test_errors_and_statements_without_rows(conn):
    with pytest.raises(scratchbird.ProgrammingError):
        conn.fetch_arrow("SELECT * FROM no_such_table_arrow")
    with pytest.raises(InterfaceError, match="batch_rows"):
        cur = conn.cursor(stream=True)
        cur.execute("SELECT 1 AS a")
        cur.fetch_arrow_batches(batch_rows=0)
    assert conn.fetch_arrow("SELECT 7 AS x").column("x").to_pylist() == [7]


def test_arrow_stream_cursor_is_columnar_from_the_first_row(conn):
    pl = pytest.importorskip("polars", reason="polars is in the test extra")
    duckdb = pytest.importorskip("duckdb", reason="duckdb is in the test extra")
    sql = "SELECT range AS i, 'v' || range::VARCHAR AS s FROM range(30000) ORDER BY range"
    cur = conn.arrow_stream(sql, batch_rows=7000)
    with pytest.raises(InterfaceError, match="column by column"):
        cur.fetchone()
    sizes = [b.num_rows for b in cur.fetch_arrow_batches(batch_rows=7000)]
    assert sum(sizes) == 30000 and max(sizes) <= 7000
    assert pl.DataFrame(conn.arrow_stream(sql))["s"][29999] == "v29999"
    stream_result = conn.arrow_stream(sql)
    assert duckdb.sql("SELECT count(*), max(i) FROM stream_result").fetchall() == [(30000, 29999)]
    assert pa.table(conn.arrow_stream(sql)).num_rows == 30000


NO_PYARROW = """
import sys
sys.modules["pyarrow"] = None          # the compiled stream must not need it
import duckdb, polars, scratchbird
conn = scratchbird.connect(sys.argv[1])
sql = "SELECT range AS i, 'v' || range::VARCHAR AS s FROM range(50000)"
frame = polars.DataFrame(conn.arrow_stream(sql, batch_rows=20000))
assert frame.shape == (50000, 2) and frame["i"].sum() == sum(range(50000)), frame
res = conn.arrow_stream(sql)
assert duckdb.sql("SELECT count(*) FROM res").fetchall() == [(50000,)]
print("ok")
"""


def test_the_compiled_c_stream_needs_no_pyarrow(devserver):
    if scratchbird.IMPL != "c":
        pytest.skip("the pure twin's stream is built with pyarrow (SCRATCHBIRD_IMPL=python)")
    pytest.importorskip("polars", reason="polars is in the test extra")
    env = dict(os.environ, PYTHONPATH=str(Path(scratchbird.__file__).parents[1]))
    out = subprocess.run([sys.executable, "-c", NO_PYARROW, devserver.dsn], capture_output=True,
                         text=True, timeout=120, env=env)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]
