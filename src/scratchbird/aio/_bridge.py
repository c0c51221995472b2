"""Running the blocking driver code inside asyncio, without copying it.

The async front end does not have its own copy of the request logic (results, shapes,
streaming, transactions, reset, cancel): it runs the very same ``Connection`` and
``Cursor`` code in a greenlet, over a transport whose ``send``/``recv`` hand the actual
waiting to the event loop (``await_``). This is the technique SQLAlchemy's asyncio layer
uses; the I/O-free ``ClientProtocol`` stays the one core both front ends drive.

``run_sync(fn, ...)`` (awaited in a task) starts ``fn`` in a worker greenlet. Each time
the worker calls ``await_(awaitable)`` it switches back to the task, which awaits it in
the task's own context (so ``asyncio.timeout()`` and task cancellation reach it) and
switches the outcome back into the worker.
"""
from __future__ import annotations

import sys
from typing import Any, Awaitable, Callable, ParamSpec, TypeVar

try:
    import greenlet
except ImportError as exc:          # pragma: no cover - exercised only without the extra
    raise ImportError("the asyncio API needs greenlet: pip install 'scratchbird[async]'") from exc

from scratchbird.errors import InterfaceError

__all__ = ["run_sync", "await_", "in_worker"]

_P = ParamSpec("_P")
_T = TypeVar("_T")


class _Worker(greenlet.greenlet):  # type: ignore[misc]  # greenlet is untyped here (Any)
    """A greenlet running blocking driver code for one awaiting task."""

    def __init__(self, fn: Callable[..., Any], driver: "greenlet.greenlet") -> None:
        super().__init__(fn, driver)
        self.driver = driver


async def run_sync(fn: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
    """Run blocking driver code ``fn(*args, **kwargs)``; its waits become awaits."""
    worker = _Worker(fn, greenlet.getcurrent())
    awaitable = worker.switch(*args, **kwargs)
    while not worker.dead:
        try:
            value = await awaitable
        except BaseException:       # CancelledError too: the worker decides what it means
            awaitable = worker.throw(*sys.exc_info())
        else:
            awaitable = worker.switch(value)
    result: _T = awaitable          # the worker is dead: this is what fn returned
    return result


def in_worker() -> bool:
    return isinstance(greenlet.getcurrent(), _Worker)


def await_(awaitable: Awaitable[_T]) -> _T:
    """Wait for ``awaitable`` from driver code running under ``run_sync``."""
    current = greenlet.getcurrent()
    if not isinstance(current, _Worker):
        close = getattr(awaitable, "close", None)
        if close is not None:
            close()
        raise InterfaceError("an asyncio connection was used from blocking code: use the "
                             "AsyncConnection's awaitable methods (or run_sync)")
    result: _T = current.driver.switch(awaitable)
    return result
