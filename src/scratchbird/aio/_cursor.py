"""``AsyncCursor``: the PEP 249 cursor, awaited.

It holds a blocking ``Cursor`` and runs its methods through the connection's
``_call`` (``_bridge``). Rows already read are handed out without a round trip through
the event loop: a fetch awaits only when a streaming result must read more.
"""
from __future__ import annotations

from typing import Any, Iterable, List, Optional

from scratchbird.cursor import Cursor

__all__ = ["AsyncCursor"]


class AsyncCursor:
    """PEP 249 cursor for ``AsyncConnection`` (the same rules as ``Cursor``)."""

    def __init__(self, connection, cursor: Cursor) -> None:
        self.connection = connection
        self._cursor = cursor

    def __repr__(self) -> str:
        return repr(self._cursor).replace("scratchbird.Cursor", "scratchbird.AsyncCursor")

    @property
    def sync_cursor(self) -> Cursor:
        """The blocking cursor underneath (for ``AsyncConnection.run_sync`` code)."""
        return self._cursor

    def _buffered(self) -> bool:
        """True when a fetch can be served without reading from the server."""
        return not self._cursor._more_coming()

    async def _call(self, method, *args: Any, **kwargs: Any) -> Any:
        return await self.connection._call(method, *args, **kwargs)

    # ------------------------------------------------------------ executing

    async def execute(self, operation: str, parameters: Any = None, *,
                      timeout: Optional[float] = None) -> "AsyncCursor":
        await self._call(self._cursor.execute, operation, parameters, timeout=timeout)
        return self

    async def executemany(self, operation: str, seq_of_parameters: Iterable[Any]) -> "AsyncCursor":
        await self._call(self._cursor.executemany, operation, seq_of_parameters)
        return self

    async def nextset(self) -> Optional[bool]:
        return await self._call(self._cursor.nextset)

    async def fetchone(self) -> Optional[tuple]:
        cur = self._cursor
        if cur._pos < len(cur._rows) or self._buffered():
            return cur.fetchone()
        return await self._call(cur.fetchone)

    async def fetchmany(self, size: Optional[int] = None) -> List[tuple]:
        if self._buffered():
            return self._cursor.fetchmany(size)
        return await self._call(self._cursor.fetchmany, size)

    async def fetchall(self) -> List[tuple]:
        if self._buffered():
            return self._cursor.fetchall()
        return await self._call(self._cursor.fetchall)

    def __aiter__(self) -> "AsyncCursor":
        return self

    async def __anext__(self) -> tuple:
        row = await self.fetchone()
        if row is None:
            raise StopAsyncIteration
        return row

    async def close(self) -> None:
        if self._buffered():
            self._cursor.close()
        else:
            await self._call(self._cursor.close)

    async def __aenter__(self) -> "AsyncCursor":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    # ------------------------------------------------------------ state (no I/O)

    def __getattr__(self, name: str) -> Any:
        # description, columns, rowcount, lastrowid, statusmessage, server_report,
        # rownumber, stream, closed, adapters: the blocking cursor's, read as they are
        return getattr(self._cursor, name)

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    @property
    def itersize(self) -> int:
        return self._cursor.itersize

    @itersize.setter
    def itersize(self, value: int) -> None:
        self._cursor.itersize = value

    def setinputsizes(self, sizes: Any) -> None:
        """Accepted and ignored (as ``Cursor``)."""

    def setoutputsize(self, size: int, column: Optional[int] = None) -> None:
        """Accepted and ignored (as ``Cursor``)."""
