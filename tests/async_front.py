"""One test body for both front ends: the blocking API seen through awaitables.

``open_front(kind, dsn)`` returns an object with the ``AsyncConnection`` interface:
the real ``AsyncConnection`` for ``"async"``, or the blocking ``Connection`` behind
thin ``async def`` wrappers for ``"sync"`` (every call still runs the blocking code,
with no event loop involved in its I/O). Shared tests in test_async.py run the same
coroutine against both.
"""
from __future__ import annotations

import asyncio

import scratchbird

HANG_GUARD = 60.0


def run(coro, guard: float = HANG_GUARD):
    """``asyncio.run`` with a hang guard (a failure, not a timing assertion)."""
    async def guarded():
        try:
            return await asyncio.wait_for(coro, guard)
        except asyncio.TimeoutError:
            raise AssertionError(f"the test body did not finish within {guard:g} s "
                                 "(hang guard)") from None
    return asyncio.run(guarded())


class _Awaitable:
    """A blocking object whose methods become coroutine functions."""

    _plain = ()

    def __init__(self, target) -> None:
        object.__setattr__(self, "_target", target)

    def __getattr__(self, name):
        value = getattr(self._target, name)
        if not callable(value) or name in self._plain:
            return value

        async def call(*args, **kwargs):
            return value(*args, **kwargs)
        return call

    def __setattr__(self, name, value) -> None:
        setattr(self._target, name, value)


class SyncCursor(_Awaitable):
    _plain = ("setinputsizes", "setoutputsize")

    @property
    def sync_cursor(self):
        return self._target

    async def execute(self, *args, **kwargs):
        self._target.execute(*args, **kwargs)
        return self

    def __aiter__(self):
        return self

    async def __anext__(self):
        row = self._target.fetchone()
        if row is None:
            raise StopAsyncIteration
        return row


class _AsyncBlock:
    def __init__(self, block) -> None:
        self._block = block

    async def __aenter__(self):
        return self._block.__enter__()

    async def __aexit__(self, *exc):
        return self._block.__exit__(*exc)


class SyncConnection(_Awaitable):
    _plain = ("is_valid",)

    @property
    def sync(self):
        return self._target

    def cursor(self, **kwargs):
        return SyncCursor(self._target.cursor(**kwargs))

    async def execute(self, sql, params=None, **kwargs):
        return await self.cursor().execute(sql, params, **kwargs)

    def transaction(self, *args, **kwargs):
        return _AsyncBlock(self._target.transaction(*args, **kwargs))

    async def notifies(self, timeout=None):
        for item in self._target.notifies(timeout):
            yield item

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        self._target.__exit__(*exc)


async def open_front(kind: str, dsn: str, **kwargs):
    if kind == "async":
        conn = await scratchbird.connect_async(dsn, **kwargs)
        conn.sync = conn._sync
        return conn
    return SyncConnection(scratchbird.connect(dsn, **kwargs))
