"""The asyncio transport: the blocking ``Transport`` interface over an asyncio protocol.

``send``/``recv`` look blocking to the driver code that calls them (it runs in a
greenlet, ``_bridge``) and wait on the event loop. The sslmode rules and the TLS 1.3
context are the blocking transport's (``scratchbird._transport``); only the opening
differs: ``loop.create_connection(ssl=ctx, server_hostname=...)``.

Received bytes are kept by a small ``asyncio.Protocol`` (``_Receiver``): ``recv`` takes
what has arrived without a round trip through the event loop, and waits on one future
only when nothing has.

Task cancellation (and so ``asyncio.timeout()``) while a request runs is the request's
cancel, not a lost connection: ``recv`` sends CANCEL through the connection's
``RequestControl`` (the same path as ``Connection.cancel()``, with its 5-second close
rule, REFERENCE 7.2) and goes on reading until the request ends or the connection is
closed; the awaiting call then raises ``CancelledError`` (``_connection``).
"""
from __future__ import annotations

import asyncio
import ssl
from typing import TYPE_CHECKING, List, Optional, cast

from scratchbird._dsn import ConnectParams
from scratchbird._transport import make_ssl_context
from scratchbird.aio._bridge import await_
from scratchbird.errors import ConnectionLost, OperationalError

if TYPE_CHECKING:
    from scratchbird.lifecycle import RequestControl

__all__ = ["AsyncTransport", "open_async_transport"]

_WRITE_HIGH = 1 << 20     # wait for the socket to drain above this many queued bytes


class _Receiver(asyncio.Protocol):
    """Keeps what arrives; wakes the one waiting ``recv``."""

    def __init__(self) -> None:
        self.transport: Optional[asyncio.Transport] = None
        self.chunks: List[bytes] = []
        self.ended = False                  # EOF or connection lost
        self.error: Optional[BaseException] = None
        self.waiter: Optional[asyncio.Future[None]] = None
        self.drained: Optional[asyncio.Future[None]] = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)   # a stream connection's

    def data_received(self, data: bytes) -> None:
        self.chunks.append(data)
        self._wake()

    def eof_received(self) -> bool:
        self.ended = True
        self._wake()
        return False                        # close the transport

    def connection_lost(self, exc: Optional[BaseException]) -> None:
        self.ended = True
        self.error = exc
        self._wake()
        self.resume_writing()

    def pause_writing(self) -> None:
        if self.drained is None:
            self.drained = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        drained, self.drained = self.drained, None
        if drained is not None and not drained.done():
            drained.set_result(None)

    def _wake(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def take(self) -> bytes:
        chunks = self.chunks
        data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        chunks.clear()
        return data

    async def wait(self) -> None:
        """Until bytes arrive or the connection ends."""
        if self.drained is not None:
            await self.drained
        if self.chunks or self.ended:
            return
        self.waiter = asyncio.get_running_loop().create_future()
        try:
            await self.waiter
        finally:
            self.waiter = None


class AsyncTransport:
    """A connected asyncio connection (plain or TLS) with the blocking Transport's interface."""

    def __init__(self, receiver: _Receiver, tls: bool, where: str) -> None:
        self._receiver = receiver
        transport = receiver.transport
        assert transport is not None        # connected: connection_made() has run
        self._transport = transport
        self.tls = tls
        self.where = where
        self.closed = False
        self.control: Optional[RequestControl] = None   # the connection's, once connected
        self.cancel_pending = False     # the awaiting task was cancelled mid-request
        self._timeout: Optional[float] = None
        self._timed_out = False

    def settimeout(self, seconds: Optional[float]) -> None:
        self._timeout = seconds

    def send(self, data: bytes) -> None:
        # Never waits: the frame goes whole into asyncio's buffer (a send can therefore
        # not be cut in half by a cancellation); ``recv`` waits for a large backlog first.
        if self.closed or self._transport.is_closing():
            self.close()
            raise ConnectionLost(f"connection to {self.where} lost while sending")
        self._transport.write(data)

    def idle_alive(self) -> bool:
        """Between requests nothing may arrive (see ``Transport.idle_alive``)."""
        return not (self.closed or self._transport.is_closing() or self.readable())

    def readable(self) -> bool:
        """True when bytes from the server (or its end) wait to be read (never waits)."""
        receiver = self._receiver
        return bool(receiver.chunks or receiver.ended)

    def recv(self) -> bytes:
        return cast(bytes, self._receive(None))     # None comes only with ``within``

    def recv_within(self, timeout: Optional[float]) -> Optional[bytes]:
        """``recv()`` if bytes arrive within ``timeout`` seconds (None: wait), else None
        (the connection stays open: waiting for notifications is not a timeout)."""
        return self._receive(timeout)

    def _receive(self, within: Optional[float]) -> Optional[bytes]:
        receiver = self._receiver
        while not receiver.chunks and not receiver.ended:
            try:
                if within is not None:
                    await_(asyncio.wait_for(receiver.wait(), within))
                elif self._timeout is not None:
                    self._wait_with_deadline(self._timeout)
                else:
                    await_(receiver.wait())
            except asyncio.TimeoutError:
                return None
            except asyncio.CancelledError:
                if not self._cancel_running_request():
                    raise
        if receiver.chunks:
            return receiver.take()
        self.close()
        if self._timed_out:
            raise ConnectionLost(
                f"no answer from {self.where} within socket_timeout; the connection is "
                "closed (the server cannot cancel a running request, so the driver closes it)")
        if receiver.error is not None:
            raise ConnectionLost(f"connection to {self.where} lost while receiving: "
                                 f"{receiver.error}")
        raise ConnectionLost(f"the server at {self.where} closed the connection")

    def _wait_with_deadline(self, timeout: float) -> None:
        handle = asyncio.get_running_loop().call_later(timeout, self._expire_read)
        try:
            await_(self._receiver.wait())
        finally:
            handle.cancel()

    def _expire_read(self) -> None:
        self._timed_out = True
        self.abort()

    def _cancel_running_request(self) -> bool:
        """The awaiting task was cancelled: cancel the request it waits for. False when
        no request is running (then the cancellation just propagates)."""
        control = self.control
        if control is None or not control.running or self.closed:
            return False
        self.cancel_pending = True
        control.cancel("task cancelled")    # no-op if a CANCEL already went out for it
        return True

    def abort(self) -> None:
        """Drop the connection now: a waiting ``recv`` wakes with end-of-stream."""
        self._transport.abort()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._transport.close()


async def _open(params: ConnectParams, tls: bool) -> AsyncTransport:
    where = f"{params.host}:{params.port}"
    ctx = make_ssl_context(params) if tls else None
    loop = asyncio.get_running_loop()
    try:
        _transport, receiver = await asyncio.wait_for(loop.create_connection(
            _Receiver, params.host, params.port, ssl=ctx,
            server_hostname=params.host if tls else None), params.connect_timeout)
    except asyncio.TimeoutError:
        raise OperationalError(f"connection to {where} timed out (connect_timeout="
                               f"{params.connect_timeout})") from None
    except ssl.SSLCertVerificationError as exc:
        raise OperationalError(f"TLS certificate verification failed for {where}: "
                               f"{exc.verify_message}") from None
    except ssl.SSLError as exc:
        raise OperationalError(f"TLS 1.3 handshake with {where} failed: {exc}") from None
    except OSError as exc:
        raise OperationalError(f"cannot connect to {where}: {exc.strerror or exc}") from None
    _transport.set_write_buffer_limits(high=_WRITE_HIGH)
    return AsyncTransport(receiver, tls, where)


def open_async_transport(params: ConnectParams, tls: bool) -> AsyncTransport:
    """``open_transport`` for driver code running under ``run_sync``."""
    return await_(_open(params, tls))
