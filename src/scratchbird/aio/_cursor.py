"""``AsyncCursor``: the PEP 249 cursor, awaited.

It holds a blocking ``Cursor`` and runs its methods through the connection's
``_call`` (``_bridge``). Rows already read are handed out without a round trip through
the event loop: a fetch awaits only when a streaming result must read more.
"""
from __future__ import annotations

from types import TracebackType
from typing import (TYPE_CHECKING, Any, Callable, Dict, Iterable, List, Optional, ParamSpec,
                    Tuple, Type, TypeVar)

from scratchbird._columns import ColumnInfo
from scratchbird._typing import DescriptionItem, Row
from scratchbird.adapters import AdaptersMap
from scratchbird.cursor import Cursor

if TYPE_CHECKING:
    from typing_extensions import Self

    from scratchbird.aio._connection import AsyncConnection

__all__ = ["AsyncCursor"]

_P = ParamSpec("_P")
_T = TypeVar("_T")


class AsyncCursor:
    """PEP 249 cursor for ``AsyncConnection`` (the same rules as ``Cursor``)."""

    # The blocking cursor's state, read through __getattr__ (annotations only: no class
    # attributes are created, so the lookups still reach __getattr__).
    description: Optional[Tuple[DescriptionItem, ...]]
    columns: Optional[Tuple[ColumnInfo, ...]]
    rowcount: int
    lastrowid: Optional[int]
    statusmessage: Optional[str]
    server_report: Optional[Dict[str, Any]]
    rownumber: Optional[int]
    stream: bool
    closed: bool
    adapters: AdaptersMap

    def __init__(self, connection: AsyncConnection, cursor: Cursor) -> None:
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

    async def _call(self, method: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
        return await self.connection._call(method, *args, **kwargs)

    # ------------------------------------------------------------ executing

    async def execute(self, operation: str, parameters: Any = None, *,
                      timeout: Optional[float] = None) -> Self:
        await self._call(self._cursor.execute, operation, parameters, timeout=timeout)
        return self

    async def executemany(self, operation: str, seq_of_parameters: Iterable[Any]) -> Self:
        await self._call(self._cursor.executemany, operation, seq_of_parameters)
        return self

    async def nextset(self) -> Optional[bool]:
        return await self._call(self._cursor.nextset)

    async def fetchone(self) -> Optional[Row]:
        cur = self._cursor
        if cur._pos < len(cur._rows) or self._buffered():
            return cur.fetchone()
        return await self._call(cur.fetchone)

    async def fetchmany(self, size: Optional[int] = None) -> List[Row]:
        if self._buffered():
            return self._cursor.fetchmany(size)
        return await self._call(self._cursor.fetchmany, size)

    async def fetchall(self) -> List[Row]:
        if self._buffered():
            return self._cursor.fetchall()
        return await self._call(self._cursor.fetchall)

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> Row:
        row = await self.fetchone()
        if row is None:
            raise StopAsyncIteration
        return row

    async def close(self) -> None:
        if self._buffered():
            self._cursor.close()
        else:
            await self._call(self._cursor.close)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, exc_type: Optional[Type[BaseException]],
                        exc: Optional[BaseException], tb: Optional[TracebackType]) -> None:
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
