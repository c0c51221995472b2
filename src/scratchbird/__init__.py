"""scratchbird: a fast PEP 249 (DB-API 2.0) driver for ScratchBird's SBWP v1.1 protocol.

    import scratchbird
    conn = scratchbird.connect("scratchbird://sb:secret@127.0.0.1:3092/demo?sslmode=require")
    cur = conn.cursor()
    cur.execute("SELECT id, name FROM items WHERE id > :min", {"min": 10})
    print(cur.fetchall())

``scratchbird.IMPL`` says whether the compiled extensions ("c") or the pure-Python
twins ("python") are in use; set ``SCRATCHBIRD_IMPL`` before import to choose.
"""
from typing import TYPE_CHECKING, Any

from scratchbird._impl import IMPL
from scratchbird._version import __version__
from scratchbird._impl import literals as _literals
from scratchbird.adapters import AdaptersMap, adapters
from scratchbird.binary_types import Geometry, Interval, Jsonb, Range
from scratchbird.connection import Connection, connect
from scratchbird.cursor import Cursor
from scratchbird.errors import (DatabaseError, DataError, Error, IntegrityError, InterfaceError,
                                InternalError, NotSupportedError, OperationalError,
                                ProgrammingError, QueryCanceledError, Warning)
from scratchbird._log import log as _log  # noqa: F401  (the "scratchbird" logger, NullHandler)
from scratchbird.types import (BINARY, DATETIME, NUMBER, ROWID, STRING, Binary, Date,
                               DateFromTicks, Json, SqlLiteral, Time, TimeFromTicks,
                               Timestamp, TimestampFromTicks)


_ASYNC_NAMES = ("AsyncConnection", "AsyncCursor", "connect_async")

if TYPE_CHECKING:   # what the lazy names below are, for type checkers and IDEs
    from scratchbird.aio import AsyncConnection, AsyncCursor, connect_async


def __getattr__(name: str) -> Any:
    # The asyncio API needs greenlet (the ``async`` extra): imported on first use only.
    if name in _ASYNC_NAMES:
        from scratchbird import aio
        return getattr(aio, name)
    raise AttributeError(f"module 'scratchbird' has no attribute {name!r}")

apilevel = "2.0"
threadsafety = 1      # threads may share the module, not connections
paramstyle = "named"  # :name; qmark (?) and numeric ($1) are accepted too

quote_literal = _literals.render_literal
quote_identifier = _literals.quote_identifier

__all__ = [
    "IMPL", "connect", "Connection", "Cursor", "apilevel", "threadsafety", "paramstyle",
    "quote_literal", "quote_identifier", "Warning", "Error", "InterfaceError",
    "DatabaseError", "DataError", "OperationalError", "IntegrityError", "InternalError",
    "ProgrammingError", "NotSupportedError", "Date", "Time", "Timestamp", "DateFromTicks",
    "TimeFromTicks", "TimestampFromTicks", "Binary", "STRING", "BINARY", "NUMBER",
    "DATETIME", "ROWID", "Json", "SqlLiteral", "adapters", "AdaptersMap",
    "Interval", "Range", "Jsonb", "Geometry", "QueryCanceledError", "__version__",
    "AsyncConnection", "AsyncCursor", "connect_async",
]
