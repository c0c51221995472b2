"""The asyncio dialect (``scratchbird+async://``) end to end, against both dev-server profiles:
connect/execute/fetch, Core with parameters, an ``AsyncSession`` unit of work with a
relationship, ``stream()`` of a large result on the streaming cursor, ``run_sync`` DDL and
reflection, isolation levels, error mapping, invalidation of a broken connection, and the pool."""
from __future__ import annotations

import asyncio
import decimal
from typing import List, Optional

import pytest

sa = pytest.importorskip("sqlalchemy", reason="the SQLAlchemy dialect tests need SQLAlchemy 2")
pytest.importorskip("greenlet", reason="the asyncio dialect needs greenlet (the async extra)")
from sqlalchemy import orm  # noqa: E402
from sqlalchemy.ext.asyncio import (AsyncSession, async_sessionmaker,  # noqa: E402
                                    create_async_engine)

import scratchbird.sqlalchemy  # noqa: E402,F401  (registers scratchbird+async:// without an install)
from scratchbird.aio import AsyncConnection  # noqa: E402


def _async_url(dsn: str) -> str:
    return dsn.replace("scratchbird://", "scratchbird+async://", 1)


def _run(make_engine_url: str, body, **engine_kw) -> None:
    """Run ``body(engine)`` on a fresh event loop, disposing of the engine after."""
    async def main():
        engine = create_async_engine(make_engine_url, **engine_kw)
        try:
            await body(engine)
        finally:
            await engine.dispose()
    asyncio.run(main())


def test_connect_execute_fetch_and_pool(devserver):
    async def body(engine):
        assert engine.dialect.name == "scratchbird" and engine.dialect.driver == "async"
        assert engine.dialect.is_async and isinstance(engine.pool, sa.pool.AsyncAdaptedQueuePool)
        async with engine.connect() as c:
            assert await c.scalar(sa.text("SELECT 41 + 1")) == 42
            result = await c.execute(sa.text("SELECT i, i * 2 AS d FROM range(3) t(i) ORDER BY i"))
            assert result.all() == [(0, 0), (1, 2), (2, 4)]
            raw = await c.get_raw_connection()
            assert isinstance(raw.driver_connection, AsyncConnection)
            assert raw.driver_connection.info["tls"]
            assert engine.pool.checkedout() == 1
            first = raw.driver_connection
        assert engine.pool.checkedout() == 0 and engine.pool.checkedin() == 1
        async with engine.connect() as c:   # the pooled connection comes back
            assert (await c.get_raw_connection()).driver_connection is first
            assert await c.scalar(sa.text("SELECT 7")) == 7
    _run(_async_url(devserver.dsn), body)


def test_core_insert_select_with_parameters(devserver, profile):
    md = sa.MetaData()
    t = sa.Table(f"sa_async_core_{profile}", md,
                 sa.Column("id", sa.Integer, primary_key=True),
                 sa.Column("name", sa.String(40)),
                 sa.Column("amount", sa.Numeric(10, 2)))

    async def body(engine):
        async with engine.begin() as c:
            await c.run_sync(md.create_all)
        try:
            async with engine.begin() as c:
                await c.execute(t.insert(), {"id": 1, "name": "one",
                                             "amount": decimal.Decimal("1.50")})
                await c.execute(t.insert(), [{"id": i, "name": f"n{i}", "amount": None}
                                             for i in range(2, 60)])
                inserted = await c.execute(t.insert().returning(t.c.id),
                                           {"id": 100, "name": "r", "amount": None})
                assert inserted.scalar_one() == 100
            async with engine.connect() as c:
                row = (await c.execute(sa.select(t).where(t.c.id == sa.bindparam("k")),
                                       {"k": 1})).one()
                assert row == (1, "one", decimal.Decimal("1.50"))
                count = await c.scalar(sa.select(sa.func.count()).select_from(t)
                                       .where(t.c.id.between(2, 59)))
                assert count == 58
                empty = await c.execute(sa.select(t.c.name).where(t.c.id < 0))
                assert empty.all() == [] and list(empty.keys()) == ["name"]
        finally:
            async with engine.begin() as c:
                await c.run_sync(md.drop_all)
    _run(_async_url(devserver.dsn), body)


class Base(orm.DeclarativeBase):
    pass


class Shelf(Base):
    __tablename__ = "sa_async_shelf"
    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    label: orm.Mapped[str] = orm.mapped_column(sa.String(50))
    items: orm.Mapped[List["Item"]] = orm.relationship(back_populates="shelf",
                                                       cascade="all, delete-orphan")


class Item(Base):
    __tablename__ = "sa_async_item"
    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    title: orm.Mapped[str] = orm.mapped_column(sa.String(100))
    price: orm.Mapped[Optional[decimal.Decimal]] = orm.mapped_column(sa.Numeric(8, 2))
    shelf_id: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("sa_async_shelf.id"))
    shelf: orm.Mapped[Shelf] = orm.relationship(back_populates="items")


def test_async_session_unit_of_work_with_relationship(devserver):
    async def body(engine):
        async with engine.begin() as c:
            await c.run_sync(Base.metadata.create_all)
        try:
            make_session = async_sessionmaker(engine, expire_on_commit=False)
            async with make_session() as session:
                top = Shelf(label="top", items=[Item(title="a", price=decimal.Decimal("2.25")),
                                                Item(title="b")])
                session.add_all([top, Shelf(label="bottom")])
                await session.commit()             # unit of work: parents, then children
                assert top.id is not None and all(i.shelf_id == top.id for i in top.items)

            async with make_session() as session:
                shelf = (await session.scalars(
                    sa.select(Shelf).where(Shelf.label == "top")
                    .options(orm.selectinload(Shelf.items)))).one()
                assert sorted(i.title for i in shelf.items) == ["a", "b"]
                shelf.items.remove(next(i for i in shelf.items if i.title == "b"))  # orphan
                shelf.label = "upper"
                await session.commit()

            async with AsyncSession(engine) as session:
                rows = (await session.execute(
                    sa.select(Shelf.label, Item.title, Item.price).join(Item.shelf))).all()
                assert rows == [("upper", "a", decimal.Decimal("2.25"))]
        finally:
            async with engine.begin() as c:
                await c.run_sync(Base.metadata.drop_all)
    _run(_async_url(devserver.dsn), body)


def test_stream_of_a_large_result_uses_the_streaming_cursor(devserver):
    async def body(engine):
        async with engine.connect() as c:
            result = await c.stream(sa.text("SELECT i FROM range(50000) t(i) ORDER BY i"),
                                    execution_options={"max_row_buffer": 500})
            cursor = result._real_result.cursor   # the dialect's cursor over AsyncCursor
            assert cursor.stream is True and cursor.server_side
            total = count = 0
            async for partition in result.partitions(1000):
                count += len(partition)
                total += sum(row[0] for row in partition)
            assert count == 50000 and total == sum(range(50000))
            # the connection is usable (and not half-read) after the stream
            assert await c.scalar(sa.text("SELECT 5")) == 5
    _run(_async_url(devserver.dsn), body)


def test_run_sync_create_all_and_reflection(devserver, profile):
    md = sa.MetaData()
    parent = sa.Table(f"sa_async_p_{profile}", md, sa.Column("id", sa.Integer, primary_key=True),
                      sa.Column("code", sa.String(10)))
    child = sa.Table(f"sa_async_c_{profile}", md, sa.Column("id", sa.Integer, primary_key=True),
                     sa.Column("parent_id", sa.ForeignKey(parent.c.id), nullable=False),
                     sa.Column("price", sa.Numeric(10, 2)), sa.Index(None, "price"))

    def look(sync_conn):
        insp = sa.inspect(sync_conn)
        return (set(insp.get_table_names()),
                {col["name"]: col for col in insp.get_columns(child.name)},
                insp.get_pk_constraint(child.name)["constrained_columns"],
                [fk["referred_table"] for fk in insp.get_foreign_keys(child.name)],
                [ix["column_names"] for ix in insp.get_indexes(child.name)])

    async def body(engine):
        async with engine.begin() as c:
            await c.run_sync(md.create_all)
        try:
            async with engine.connect() as c:
                tables, cols, pk, fks, indexes = await c.run_sync(look)
            assert {parent.name, child.name} <= tables
            assert list(cols) == ["id", "parent_id", "price"]
            assert cols["parent_id"]["nullable"] is False
            assert isinstance(cols["price"]["type"], sa.Numeric)
            assert pk == ["id"] and fks == [parent.name] and ["price"] in indexes
            reflected = sa.MetaData()
            async with engine.connect() as c:
                await c.run_sync(lambda s: reflected.reflect(s, only=[child.name, parent.name]))
            assert set(reflected.tables[child.name].c.keys()) == {"id", "parent_id", "price"}
        finally:
            async with engine.begin() as c:
                await c.run_sync(md.drop_all)
    _run(_async_url(devserver.dsn), body)


def test_isolation_levels(devserver):
    async def body(engine):
        async with engine.connect() as c:
            assert await c.get_isolation_level() == "READ COMMITTED"
            assert engine.dialect.get_isolation_level_values(None) == (
                "AUTOCOMMIT", "READ COMMITTED", "REPEATABLE READ", "SERIALIZABLE")
        async with engine.connect() as c:
            await c.execution_options(isolation_level="AUTOCOMMIT")
            raw = await c.get_raw_connection()
            assert raw.driver_connection.autocommit is True
            assert await c.get_isolation_level() == "AUTOCOMMIT"
            assert await c.scalar(sa.text("SELECT 1")) == 1
        async with engine.connect() as c:   # the pool handed the connection back reset
            raw = await c.get_raw_connection()
            assert raw.driver_connection.autocommit is False
        async with engine.connect() as c:   # a level set through AsyncConnection
            await c.execution_options(isolation_level="SERIALIZABLE")
            assert await c.get_isolation_level() == "SERIALIZABLE"
            assert (await c.get_raw_connection()).driver_connection.isolation_level == "SERIALIZABLE"
            assert await c.scalar(sa.text("SELECT 2")) == 2
        async with engine.connect() as c:
            assert await c.get_isolation_level() == "READ COMMITTED"
        autocommit_engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        async with autocommit_engine.connect() as c:
            assert (await c.get_raw_connection()).driver_connection.autocommit is True
    _run(_async_url(devserver.dsn), body)


def test_error_maps_to_sqlalchemy_and_the_connection_stays_usable(devserver, profile):
    table = f"sa_async_err_{profile}"

    async def body(engine):
        async with engine.connect() as c:
            with pytest.raises(sa.exc.ProgrammingError) as info:
                await c.execute(sa.text("SELECT * FROM no_such_table_async"))
            assert isinstance(info.value.orig, scratchbird.ProgrammingError)
            assert not info.value.connection_invalidated
            await c.rollback()
            assert await c.scalar(sa.text("SELECT 3")) == 3
            await c.execute(sa.text(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY)"))
            await c.commit()
            try:
                await c.execute(sa.text(f"INSERT INTO {table} VALUES (1)"))
                with pytest.raises(sa.exc.IntegrityError):
                    await c.execute(sa.text(f"INSERT INTO {table} VALUES (1)"))
                await c.rollback()
                assert await c.scalar(sa.text(f"SELECT count(*) FROM {table}")) == 0
            finally:
                await c.execute(sa.text(f"DROP TABLE {table}"))
                await c.commit()
    _run(_async_url(devserver.dsn), body)


def test_broken_connection_is_invalidated(plain_devserver):
    from tests.proxy import FaultyProxy
    with FaultyProxy(plain_devserver.host, plain_devserver.port) as proxy:
        url = _async_url(plain_devserver.dsn).replace(
            f":{plain_devserver.port}/", f":{proxy.port}/", 1)

        async def body(engine):
            async with engine.connect() as c:
                assert await c.scalar(sa.text("SELECT 1")) == 1
                proxy.kill_connections()
                with pytest.raises(sa.exc.OperationalError) as info:
                    await c.execute(sa.text("SELECT 2"))
                assert info.value.connection_invalidated
                assert c.invalidated
            async with engine.connect() as c:   # the pool opened a new connection
                assert await c.scalar(sa.text("SELECT 4")) == 4
        _run(url, body)


def test_pool_pre_ping_replaces_a_dropped_connection(plain_devserver):
    from tests.proxy import FaultyProxy
    with FaultyProxy(plain_devserver.host, plain_devserver.port) as proxy:
        url = _async_url(plain_devserver.dsn).replace(
            f":{plain_devserver.port}/", f":{proxy.port}/", 1)

        async def body(engine):
            async with engine.connect() as c:
                assert await c.scalar(sa.text("SELECT 1")) == 1
                first = (await c.get_raw_connection()).driver_connection
            assert proxy.kill_connections() == 1   # the pooled, idle connection
            async with engine.connect() as c:      # the PING fails: a new connection
                assert await c.scalar(sa.text("SELECT 2")) == 2
                assert (await c.get_raw_connection()).driver_connection is not first
        _run(url, body, pool_pre_ping=True)


def test_async_creator(devserver):
    made = []

    async def creator():
        conn = await scratchbird.connect_async(devserver.dsn)
        made.append(conn)
        return conn

    async def body(engine):
        async with engine.connect() as c:
            assert await c.scalar(sa.text("SELECT 6")) == 6
            assert (await c.get_raw_connection()).driver_connection is made[0]
    _run(_async_url(devserver.dsn), body, async_creator=creator)
