"""The asyncio transport: the blocking ``Transport`` interface over asyncio streams.

``send``/``recv`` look blocking to the driver code that calls them (it runs in a
greenlet, ``_bridge``) and wait on the event loop. The sslmode rules and the TLS 1.3
context are the blocking transport's (``scratchbird._transport``); only the opening
differs: ``asyncio.open_connection(ssl=ctx, server_hostname=...)``.

Task cancellation (and so ``asyncio.timeout()``) while a request runs is the request's
cancel, not a lost connection: ``recv`` sends CANCEL through the connection's
``RequestControl`` (the same path as ``Connection.cancel()``, with its 5-second close
rule, REFERENCE 7.2) and goes on reading until the request ends or the connection is
closed; the awaiting call then raises ``CancelledError`` (``_connection``).
"""
from __future__ import annotations

import asyncio
import ssl
from typing import Optional

from scratchbird._dsn import ConnectParams
from scratchbird._transport import RECV_MAX, RECV_MIN, make_ssl_context
from scratchbird.aio._bridge import await_
from scratchbird.errors import ConnectionLost, OperationalError

__all__ = ["AsyncTransport", "open_async_transport"]

_WRITE_HIGH = 1 << 20     # wait for the socket to drain above this many queued bytes


class AsyncTransport:
    """A connected asyncio stream (plain or TLS) with the blocking Transport's interface."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 tls: bool, where: str) -> None:
        self.reader = reader
        self.writer = writer
        self.tls = tls
        self.where = where
        self.closed = False
        self.recv_size = RECV_MIN
        self.control = None             # the connection's RequestControl, once connected
        self.cancel_pending = False     # the awaiting task was cancelled mid-request
        self._timeout: Optional[float] = None
        self._timed_out = False

    def settimeout(self, seconds: Optional[float]) -> None:
        self._timeout = seconds

    def send(self, data: bytes) -> None:
        # Never waits: the frame goes whole into asyncio's buffer (a send can therefore
        # not be cut in half by a cancellation); ``recv`` drains a large backlog first.
        if self.closed or self.writer.is_closing():
            self.close()
            raise ConnectionLost(f"connection to {self.where} lost while sending")
        self.writer.write(data)

    def idle_alive(self) -> bool:
        """Between requests nothing may arrive (see ``Transport.idle_alive``)."""
        return not (self.closed or self.writer.is_closing() or self.reader.at_eof()
                    or self.reader._buffer)

    def recv(self) -> bytes:
        return self._receive(None)

    def recv_within(self, timeout: Optional[float]) -> Optional[bytes]:
        """``recv()`` if bytes arrive within ``timeout`` seconds (None: wait), else None
        (the connection stays open: waiting for notifications is not a timeout)."""
        return self._receive(timeout) if timeout is not None else self._receive(None)

    def _receive(self, within: Optional[float]) -> Optional[bytes]:
        while True:
            try:
                if within is None:
                    data = await_(self._read())
                else:   # a cancelled StreamReader.read consumes nothing
                    data = await_(asyncio.wait_for(self._read(), within))
                break
            except asyncio.TimeoutError:
                return None
            except asyncio.CancelledError:
                if not self._cancel_running_request():
                    raise
            except (OSError, ssl.SSLError, RuntimeError) as exc:
                self.close()
                raise ConnectionLost(f"connection to {self.where} lost while receiving: "
                                     f"{exc}") from None
        if not data:
            self.close()
            if self._timed_out:
                raise ConnectionLost(
                    f"no answer from {self.where} within socket_timeout; the connection is "
                    "closed (the server cannot cancel a running request, so the driver closes it)")
            raise ConnectionLost(f"the server at {self.where} closed the connection")
        size = len(data)
        if size == self.recv_size and size < RECV_MAX:
            self.recv_size = size * 2
        return data

    async def _read(self) -> bytes:
        writer = self.writer
        if writer.transport.get_write_buffer_size() > _WRITE_HIGH:
            await writer.drain()
        if self._timeout is None:
            return await self.reader.read(self.recv_size)
        handle = asyncio.get_running_loop().call_later(self._timeout, self._expire_read)
        try:
            return await self.reader.read(self.recv_size)
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
        if not self.writer.is_closing():
            self.writer.transport.abort()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            self.writer.close()
        except (OSError, RuntimeError):
            pass


async def _open(params: ConnectParams, tls: bool) -> AsyncTransport:
    where = f"{params.host}:{params.port}"
    ctx = make_ssl_context(params) if tls else None
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(
            params.host, params.port, ssl=ctx, server_hostname=params.host if tls else None,
            limit=RECV_MAX), params.connect_timeout)
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
    return AsyncTransport(reader, writer, tls, where)


def open_async_transport(params: ConnectParams, tls: bool) -> AsyncTransport:
    """``open_transport`` for driver code running under ``run_sync``."""
    return await_(_open(params, tls))
