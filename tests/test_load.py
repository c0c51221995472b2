"""Connection.load from each input kind, against both dev-server profiles, and the Arrow
column encoder (compiled against pure) on the buffers pyarrow hands it."""
from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import os
from decimal import Decimal

import pytest

import scratchbird
from scratchbird._pure import copycodec as pure
from scratchbird.errors import DataError, ProgrammingError

pa = pytest.importorskip("pyarrow", reason="load() of Arrow data needs pyarrow (the test extra)")

_names = itertools.count(1)
ROWS = [(1, "alpha", 1.5), (2, None, None), (3, "gamma", -0.25)]


def fresh() -> str:
    return f"load_t{next(_names)}"


def contents(conn, name, order="id"):
    cur = conn.cursor()
    cur.execute(f"SELECT id, name, score FROM {name} ORDER BY {order}")
    return [(i, n, None if s is None else float(s)) for i, n, s in cur.fetchall()]


def count(conn, name) -> int:
    cur = conn.cursor()
    cur.execute(f"SELECT count(*) FROM {name}")
    return cur.fetchall()[0][0]


def make_table(conn) -> str:
    name = fresh()
    conn.cursor().execute(f"CREATE TABLE {name} (id bigint, name text, score double precision)")
    return name


def test_tuples_with_progress(conn):
    name = make_table(conn)
    seen = []
    rows = ((i, f"n{i}", i / 4) for i in range(1, 1001))
    assert conn.load(name, rows, columns=["id", "name", "score"], batch_rows=300,
                     progress=seen.append) == 1000
    assert seen == [300, 600, 900, 1000]
    assert contents(conn, name)[-1] == (1000, "n1000", 250.0)


def test_dicts_and_create(conn):
    name = fresh()
    data = [{"id": 1, "name": "alpha", "score": 1.5}, {"id": 2, "name": None, "score": None},
            {"id": 3, "name": "gamma", "score": -0.25}]
    assert conn.load(name, data, create=True) == 3
    assert contents(conn, name) == ROWS


def test_tuples_create_infers_types(conn):
    name = fresh()
    rows = [(1, Decimal("1.50"), dt.date(2024, 2, 29), True, b"\x01")]
    assert conn.load(name, rows, columns=["id", "amount", "day", "ok", "raw"], create=True) == 1
    cur = conn.cursor()
    cur.execute(f"SELECT id, amount, day, ok FROM {name}")
    [(i, amount, day, ok)] = cur.fetchall()
    assert (i, Decimal(str(amount)), str(day), ok) == (1, Decimal("1.5"), "2024-02-29", True)


@pytest.mark.parametrize("kind", ["path", "text file", "binary file"])
def test_csv(conn, tmp_path, kind):
    name = make_table(conn)
    path = tmp_path / "in.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "name", "score"])
        for row in ROWS:
            writer.writerow(["" if v is None else v for v in row])
    if kind == "path":
        source = str(path)
    elif kind == "text file":
        source = io.StringIO(path.read_text())
    else:
        source = io.BytesIO(path.read_bytes())
    assert conn.load(name, source) == 3
    assert contents(conn, name) == ROWS


def test_csv_create_infers_types(conn, tmp_path):
    path = tmp_path / "typed.csv"
    path.write_text("id,name,score\n1,alpha,1.5\n2,,\n3,gamma,-0.25\n")
    name = fresh()
    assert conn.load(name, path, create=True) == 3
    assert contents(conn, name) == ROWS


def test_csv_errors(conn, tmp_path):
    name = make_table(conn)
    with pytest.raises(ProgrammingError, match="CSV line 3 has 2 fields"):
        conn.load(name, io.StringIO("id,name,score\n1,a,2\n2,b\n"))
    assert count(conn, name) == 0
    with pytest.raises(ProgrammingError, match="no header row"):
        conn.load(name, io.StringIO(""))


def arrow_table():
    return pa.table({
        "id": pa.array([1, 2, 3], pa.int64()),
        "name": pa.array(["alpha", None, "gamma"]),
        "score": pa.array([1.5, None, -0.25], pa.float64()),
    })


def test_parquet(conn, tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "in.parquet"
    pq.write_table(arrow_table(), path, row_group_size=2)
    name = fresh()
    assert conn.load(name, str(path), create=True) == 3
    assert contents(conn, name) == ROWS


@pytest.mark.parametrize("kind", ["table", "batch", "reader", "capsule"])
def test_arrow(conn, kind):
    table = arrow_table()
    data = {"table": table, "batch": table.to_batches()[0],
            "reader": pa.RecordBatchReader.from_batches(table.schema, table.to_batches()),
            "capsule": _Capsule(table)}[kind]
    name = make_table(conn)
    assert conn.load(name, data) == 3
    assert contents(conn, name) == ROWS


class _Capsule:
    """Only the Arrow PyCapsule stream interface, as another library would offer it."""

    def __init__(self, table) -> None:
        self._table = table

    def __arrow_c_stream__(self, requested_schema=None):
        return self._table.__arrow_c_stream__(requested_schema)


def test_pandas(conn):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"id": [1, 2, 3], "name": ["alpha", None, "gamma"],
                          "score": [1.5, None, -0.25]})
    name = fresh()
    assert conn.load(name, frame, create=True) == 3
    assert contents(conn, name) == ROWS


def test_polars(conn):
    pl = pytest.importorskip("polars")
    frame = pl.DataFrame({"id": [1, 2, 3], "name": ["alpha", None, "gamma"],
                          "score": [1.5, None, -0.25]})
    name = make_table(conn)
    assert conn.load(name, frame) == 3
    assert contents(conn, name) == ROWS


def test_arrow_types_and_nulls_everywhere(conn, profile):
    n = 9
    def nulls(values, k):         # column k has its NULL in row k
        return [None if i == k else v for i, v in enumerate(values)]
    table = pa.table({
        "id": pa.array(range(n), pa.int64()),
        "i8": pa.array(nulls([1] * n, 0), pa.int8()),
        "u32": pa.array(nulls([4_000_000_000] * n, 1), pa.uint32()),
        "u64": pa.array(nulls([(1 << 64) - 1] * n, 2), pa.uint64()),
        "f32": pa.array(nulls([0.5] * n, 3), pa.float32()),
        "flag": pa.array(nulls([True, False] * 4 + [True], 4), pa.bool_()),
        "big": pa.array(nulls(["ü" * 3] * n, 5), pa.large_string()),
        "dec": pa.array(nulls([Decimal("-1.25")] * n, 6), pa.decimal128(10, 2)),
        "day": pa.array(nulls([dt.date(2024, 2, 29)] * n, 7), pa.date32()),
        "cat": pa.array(nulls(["x"] * n, 8)).dictionary_encode(),
    }).slice(0)
    name = fresh()
    assert conn.load(name, table, create=True, batch_rows=4) == n
    cur = conn.cursor()
    cur.execute(f"SELECT * FROM {name} ORDER BY id")
    got = cur.fetchall()
    assert [r[0] for r in got] == list(range(n))
    for k in range(1, 10):
        assert got[k - 1][k] is None
        other = got[k % n][k]
        assert other is not None
    assert str(got[0][3]) == str((1 << 64) - 1) and str(got[0][8]) == "2024-02-29"
    assert got[0][6] == "üüü" and str(got[0][7]) == "-1.25"


def test_empty_inputs_load_nothing(conn):
    name = make_table(conn)
    assert conn.load(name, []) == 0
    assert conn.load(name, arrow_table().slice(0, 0)) == 0
    assert count(conn, name) == 0


def test_sliced_arrow_buffers_match_the_pure_twin():
    """The compiled column encoder against the pure one on offset (sliced) Arrow arrays."""
    from scratchbird._impl import copycodec
    from scratchbird.bulk._arrow import prepare_batch, tags_for_schema
    table = pa.table({
        "i": pa.array([None, 1, -2, 3, None, 5], pa.int64()),
        "j": pa.array([1, None, 3, 4, 5, 6], pa.int32()),
        "u": pa.array([1, 2, None, 4, 5, 6], pa.uint64()),
        "f": pa.array([0.5, 1.5, None, 2.5, 3.5, None]),
        "b": pa.array([True, None, False, True, False, True]),
        "s": pa.array(["a", "bb", None, "", "ccc", "d"]),
        "x": pa.array([b"\x00", None, b"", b"\xff\xfe", b"q", b"r"]),
    }).slice(1, 5)
    batch = table.combine_chunks().to_batches()[0]
    tags = tags_for_schema(batch.schema)
    names = batch.schema.names
    header = pure.sbnr_header(tags, names)
    columns = prepare_batch(batch, tags)
    for max_bytes in (60, 1 << 20):
        start, packets = 0, []
        while start < batch.num_rows:
            a = pure.encode_sbnr_columns(header, tags, names, columns, start, batch.num_rows,
                                         max_bytes)
            b = copycodec.encode_sbnr_columns(header, tags, names, columns, start,
                                              batch.num_rows, max_bytes)
            assert a == b
            packets.append(a[0])
            start = a[1]
        rows = []
        for packet in packets:
            _, _, count, cols = pure.decode_sbnr_packet(packet)
            rows += [tuple(col[r] for col in cols) for r in range(count)]
        assert rows == [tuple(row.values()) for row in batch.to_pylist()]


def test_short_arrow_buffers_are_refused():
    from scratchbird._impl import copycodec
    header = pure.sbnr_header([2], ["i"])
    for module in (pure, copycodec):
        with pytest.raises(DataError, match="data buffer is shorter"):
            module.encode_sbnr_columns(header, [2], ["i"], [(None, None, bytes(8), 0)], 0, 2, 1 << 20)
        with pytest.raises(DataError, match="outside the data buffer"):
            module.encode_sbnr_columns(pure.sbnr_header([1], ["s"]), [1], ["s"],
                                       [(None, (b"\x00" * 4) + (b"\x09" + b"\x00" * 3),
                                         b"abc", 0)], 0, 1, 1 << 20)


def test_missing_pyarrow_message_names_the_extra(monkeypatch):
    import builtins
    from scratchbird.bulk import _arrow
    real_import = builtins.__import__

    def no_pyarrow(name, *args, **kwargs):
        if name == "pyarrow" or name.startswith("pyarrow."):
            raise ImportError("no pyarrow here")
        return real_import(name, *args, **kwargs)
    monkeypatch.setattr(builtins, "__import__", no_pyarrow)
    with pytest.raises(ImportError, match=r"scratchbird\[arrow\]"):
        _arrow.require_pyarrow()
