"""Connection pools: ``ConnectionPool`` (threads) and ``AsyncConnectionPool`` (asyncio).

    pool = ConnectionPool(dsn, min_size=2, max_size=8)
    with pool.connection() as conn:
        with conn.transaction():
            conn.execute("INSERT ...")

See ``ConnectionPool`` for the settings, what happens on return, and the retry rule.
"""
from typing import TYPE_CHECKING, Any

from scratchbird.pool._policy import PoolClosed, PoolError, PoolTimeout, TooManyRequests
from scratchbird.pool._sync import ConnectionPool

__all__ = ["ConnectionPool", "AsyncConnectionPool", "PoolError", "PoolTimeout", "PoolClosed",
           "TooManyRequests"]


if TYPE_CHECKING:   # what the lazy name below is, for type checkers and IDEs
    from scratchbird.pool._async import AsyncConnectionPool


def __getattr__(name: str) -> Any:
    # the asyncio pool needs the ``async`` extra (greenlet): imported on first use
    if name == "AsyncConnectionPool":
        from scratchbird.pool._async import AsyncConnectionPool
        return AsyncConnectionPool
    raise AttributeError(f"module 'scratchbird.pool' has no attribute {name!r}")
