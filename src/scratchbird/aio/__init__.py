"""The asyncio API: ``await scratchbird.connect_async(dsn)`` / ``AsyncConnection.connect``.

Needs the ``async`` extra (greenlet): ``pip install 'scratchbird[async]'``.
"""
from scratchbird.aio._connection import AsyncConnection, AsyncTransaction, connect_async
from scratchbird.aio._cursor import AsyncCursor

__all__ = ["AsyncConnection", "AsyncCursor", "AsyncTransaction", "connect_async"]
