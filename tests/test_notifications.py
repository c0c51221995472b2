"""Notifications on a dedicated connection: the acknowledgement today's server sends
(``sbsql``: capture 18's ``subscription_active``, nothing delivered) and real delivery
between sessions (``full``: SQL NOTIFY to every listener, REFERENCE 10 item 39 layout),
through the blocking and the asyncio API."""
from __future__ import annotations

import asyncio
import threading

import pytest

import scratchbird
from scratchbird import _constants as c
from scratchbird.errors import ProgrammingError
from scratchbird.notify import Notification
from scratchbird.notify._messages import (encode_notification_spec, notification_parser,
                                          parse_notification_p1, parse_notification_spec)

from tests.async_front import run


def test_layouts():
    assert parse_notification_spec(encode_notification_spec(7, "ch", "it's")) == ("ch", "it's", 7)
    ack = bytes.fromhex("07000000") + b"session" + bytes.fromhex("13000000") \
        + b"subscription_active" + bytes(4)
    assert parse_notification_p1(ack) == ("session", "subscription_active", 0)

    class Info:
        product = "ScratchBird native SBWP P1"
    assert notification_parser(Info) is parse_notification_p1
    Info.product = "ScratchBird dev server (full profile)"
    assert notification_parser(Info) is parse_notification_spec


def test_listen_acknowledged_and_dedicated(conn, devserver, profile):
    conn.listen("jobs")
    assert conn.channels == frozenset({"jobs"})
    # today's server answers SUBSCRIBE with ("session", "subscription_active"): read as
    # the acknowledgement, never handed out as a notification
    assert conn.subscription_acknowledged is (profile == "sbsql")
    with pytest.raises(ProgrammingError, match="dedicated to notifications"):
        conn.execute("SELECT 1")
    with pytest.raises(ProgrammingError, match="dedicated"):
        conn.commit()
    assert list(conn.notifies(timeout=0.2)) == []
    conn.unlisten()
    assert conn.channels == frozenset()
    assert conn.execute("SELECT 1").fetchall() == [(1,)]
    with pytest.raises(ProgrammingError, match="not listening"):
        next(conn.notifies(timeout=0))
    with pytest.raises(ProgrammingError, match="channel name"):
        conn.listen("bad name; DROP")


def test_listen_refused_inside_a_transaction(conn):
    conn.execute("SELECT 1")        # opens a transaction (autocommit off)
    with pytest.raises(ProgrammingError, match="inside a transaction"):
        conn.listen("jobs")
    conn.rollback()
    conn.listen("jobs")
    conn.unlisten("jobs")


def test_delivery_between_sessions(devserver, plain_devserver, profile):
    if profile != "full":
        pytest.skip("today's server (sbsql) never delivers a notification (REFERENCE 7.9)")
    first = scratchbird.connect(devserver.dsn)
    second = scratchbird.connect(plain_devserver.dsn)      # another server: never reached
    sender = scratchbird.connect(devserver.dsn)
    other = scratchbird.connect(devserver.dsn)
    try:
        first.listen("orders")
        other.listen("orders")
        other.listen("audit")
        second.listen("orders")
        sender.execute("NOTIFY orders, 'order 1 it''s paid'")
        sender.execute("NOTIFY audit")
        sender.execute("NOTIFY nobody, 'x'")
        sender.commit()
        got = next(first.notifies(timeout=10))
        assert got.channel == "orders" and got.payload == "order 1 it's paid"
        assert isinstance(got, Notification) and got.sender > 0
        seen = []
        for item in other.notifies(timeout=10):
            seen.append((item.channel, item.payload))
            if len(seen) == 2:
                break
        assert seen == [("orders", "order 1 it's paid"), ("audit", "")]
        assert list(second.notifies(timeout=0.2)) == []
        # delivered while the listener is blocked reading, in another thread
        first.unlisten()
        first.listen("wake")
        results = []

        def wait_one():
            for item in first.notifies(timeout=20):
                results.append(item)
                return
        thread = threading.Thread(target=wait_one, daemon=True)
        thread.start()
        sender.execute("NOTIFY wake, 'now'")
        thread.join(30)
        assert not thread.is_alive(), "notifies() did not return (hang guard)"
        assert [(n.channel, n.payload) for n in results] == [("wake", "now")]
        first.unlisten()
        assert first.execute("SELECT 3").fetchall() == [(3,)]
    finally:
        for conn in (first, second, sender, other):
            conn.close()


def test_async_notifies(devserver, profile):
    async def body():
        listener = await scratchbird.connect_async(devserver.dsn)
        sender = await scratchbird.connect_async(devserver.dsn)
        try:
            await listener.listen("events")
            with pytest.raises(ProgrammingError, match="dedicated"):
                await listener.execute("SELECT 1")
            if profile == "sbsql":
                assert listener._sync.subscription_acknowledged
                assert [n async for n in listener.notifies(timeout=0.2)] == []
                return

            async def send_later():
                await asyncio.sleep(0)
                await sender.execute("NOTIFY events, 'one'")
                await sender.execute("NOTIFY events, 'two'")
            task = asyncio.ensure_future(send_later())
            got = []
            async for item in listener.notifies(timeout=10):
                got.append(item.payload)
                if len(got) == 2:
                    break
            await task
            assert got == ["one", "two"]
            await listener.unlisten("events")
            assert await (await listener.execute("SELECT 4")).fetchall() == [(4,)]
        finally:
            await listener.close()
            await sender.close()
    run(body())


def test_feature_4_is_offered():
    assert c.CLIENT_OFFERED_FEATURES & c.FEATURE_NOTIFICATIONS
