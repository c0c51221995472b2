"""pandas, Polars and Dask through the SQLAlchemy dialect, against both dev-server profiles:
read_sql / to_sql, copy_method, polars.read_database, and Dask's partitioned read_sql_table under
the local scheduler and a dask.distributed LocalCluster."""
from __future__ import annotations

import datetime as dt

import pytest

sa = pytest.importorskip("sqlalchemy", reason="the DataFrame tests go through the SQLAlchemy dialect")
pd = pytest.importorskip("pandas", reason="pandas is a test extra")

import scratchbird  # noqa: E402
import scratchbird.sqlalchemy  # noqa: E402  (registers scratchbird:// without an install)


def _table(request, stem: str) -> str:
    return f"{stem}_{request.node.callspec.id.replace('-', '_')}"


def _frame(n: int) -> "pd.DataFrame":
    return pd.DataFrame({
        "id": range(1, n + 1),
        "name": [f"item {i}" for i in range(1, n + 1)],
        "price": [i * 1.25 for i in range(1, n + 1)],
        "ok": [i % 2 == 0 for i in range(1, n + 1)],
        "at": [dt.datetime(2024, 1, 1) + dt.timedelta(hours=i) for i in range(1, n + 1)],
    })


def _drop(sa_engine, name: str) -> None:
    with sa_engine.begin() as c:
        c.exec_driver_sql(f"DROP TABLE {name}")


def test_pandas_to_sql_and_read_sql(sa_engine, request):
    name = _table(request, "pd_items")
    df = _frame(120)
    written = df.to_sql(name, sa_engine, index=False, chunksize=50)
    try:
        assert written in (None, 120)
        back = pd.read_sql(f"SELECT * FROM {name} ORDER BY id", sa_engine)
        assert list(back.columns) == list(df.columns)
        assert back["id"].tolist() == df["id"].tolist()
        assert back["name"].tolist() == df["name"].tolist()
        assert back["price"].tolist() == pytest.approx(df["price"].tolist())
        assert back["ok"].tolist() == df["ok"].tolist()
        assert pd.to_datetime(back["at"]).tolist() == df["at"].tolist()
        # a typed query through SQLAlchemy Core; one matching nothing still has its columns
        t = sa.Table(name, sa.MetaData(), autoload_with=sa_engine)
        empty = pd.read_sql(sa.select(t.c.id, t.c.name).where(t.c.id < 0), sa_engine)
        assert list(empty.columns) == ["id", "name"] and len(empty) == 0
        df.iloc[:5].to_sql(name, sa_engine, index=False, if_exists="append", method="multi")
        assert pd.read_sql(f"SELECT count(*) AS n FROM {name}", sa_engine)["n"][0] == 125
    finally:
        _drop(sa_engine, name)


def test_copy_method(sa_engine, request):
    if not hasattr(scratchbird.Connection, "load"):
        pytest.skip("copy_method loads through Connection.load (COPY FROM STDIN), which this "
                    "driver build does not have yet")
    name = _table(request, "pd_copy")
    df = _frame(500)
    df.iloc[:0].to_sql(name, sa_engine, index=False)
    try:
        df.to_sql(name, sa_engine, index=False, if_exists="append",
                  method=scratchbird.sqlalchemy.copy_method)
        assert pd.read_sql(f"SELECT count(*) AS n FROM {name}", sa_engine)["n"][0] == 500
    finally:
        _drop(sa_engine, name)


def test_copy_method_without_load_says_so():
    """Given a connection without Connection.load (another driver's engine), copy_method
    names what is missing instead of failing somewhere inside pandas."""
    class NoLoad:
        pass

    class Table:
        name, schema = "t", None

    with pytest.raises(scratchbird.NotSupportedError, match="Connection.load"):
        scratchbird.sqlalchemy.copy_method(Table(), NoLoad(), ["a"], iter([(1,)]))


def test_polars_read_database(sa_engine, request):
    pl = pytest.importorskip("polars", reason="polars is a test extra")
    name = _table(request, "pl_items")
    _frame(30).to_sql(name, sa_engine, index=False)
    try:
        df = pl.read_database(f"SELECT id, name, price FROM {name} ORDER BY id", sa_engine)
        assert df.columns == ["id", "name", "price"]
        assert df.height == 30
        assert df["id"].to_list() == list(range(1, 31))
        assert df["name"][29] == "item 30"
        assert df["price"].to_list() == pytest.approx([i * 1.25 for i in range(1, 31)])
    finally:
        _drop(sa_engine, name)


def _dask_read(devserver, name: str):
    dd = pytest.importorskip("dask.dataframe", reason="dask[dataframe] is a test extra")
    return dd.read_sql_table(name, devserver.dsn, index_col="id", npartitions=8)


def test_dask_read_sql_table_local_scheduler(sa_engine, devserver, request):
    name = _table(request, "dk_items")
    _frame(1000).to_sql(name, sa_engine, index=False)
    try:
        ddf = _dask_read(devserver, name)
        assert ddf.npartitions == 8
        out = ddf.compute(scheduler="threads").sort_index()
        assert out.index.tolist() == list(range(1, 1001))
        assert out["name"].iloc[-1] == "item 1000"
        assert float(ddf["price"].sum().compute(scheduler="sync")) == pytest.approx(
            sum(i * 1.25 for i in range(1, 1001)))
    finally:
        _drop(sa_engine, name)


def test_dask_read_sql_table_distributed(sa_engine, devserver, request):
    distributed = pytest.importorskip("dask.distributed", reason="distributed is a test extra")
    name = _table(request, "dk_cluster")
    _frame(800).to_sql(name, sa_engine, index=False)
    try:
        ddf = _dask_read(devserver, name)
        # threads in this process: the workers see the dialect this test registered
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                      dashboard_address=None) as cluster, \
                distributed.Client(cluster) as client:
            out = client.compute(ddf).result().sort_index()
        assert out.index.tolist() == list(range(1, 801))
        assert out["ok"].sum() == 400
    finally:
        _drop(sa_engine, name)
