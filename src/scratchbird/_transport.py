"""Sockets and TLS: opening a connection as ``sslmode`` asks, and moving bytes.

TLS is 1.3 only (minimum = maximum, REFERENCE 3.2). The server sends nothing before
the client's STARTUP, so there is no TLS negotiation request: TLS starts at once, or
the connection is plaintext from the first byte.
"""
from __future__ import annotations

import select
import socket
import ssl
from typing import Optional, Protocol, Tuple, cast

from scratchbird._dsn import ConnectParams
from scratchbird.errors import ConnectionLost, InterfaceError, OperationalError

__all__ = ["ByteTransport", "Transport", "open_transport", "make_ssl_context"]

# recv() sizes adapt: small for request/response traffic (a 1 MiB read costs an mmap and
# munmap per call), growing to 1 MiB while large results keep filling the reads.
RECV_MIN = 64 << 10
RECV_MAX = 1 << 20


class ByteTransport(Protocol):
    """What ``Connection`` needs of its byte stream: ``Transport`` (blocking sockets) and
    the asyncio front end's ``AsyncTransport`` (aio/_transport.py) both provide it."""

    tls: bool
    where: str
    closed: bool

    def settimeout(self, seconds: Optional[float]) -> None: ...

    def send(self, data: bytes) -> None: ...

    def recv(self) -> bytes: ...

    def recv_within(self, timeout: Optional[float]) -> Optional[bytes]: ...

    def idle_alive(self) -> bool: ...

    def readable(self) -> bool: ...

    def close(self) -> None: ...


class Transport:
    """A connected socket (plain or TLS) with timeouts mapped to driver errors."""

    def __init__(self, sock: socket.socket, tls: bool, where: str) -> None:
        self.sock = sock
        self.tls = tls
        self.where = where
        self.closed = False
        self.recv_size = RECV_MIN

    def settimeout(self, seconds: Optional[float]) -> None:
        self.sock.settimeout(seconds)

    def send(self, data: bytes) -> None:
        try:
            self.sock.sendall(data)
        except socket.timeout:
            self.close()
            raise ConnectionLost(f"timed out sending to {self.where}; the connection is closed") from None
        except (OSError, ssl.SSLError) as exc:
            self.close()
            raise ConnectionLost(f"connection to {self.where} lost while sending: {exc}") from None

    def recv(self) -> bytes:
        try:
            data = self.sock.recv(self.recv_size)
        except socket.timeout:
            self.close()
            raise ConnectionLost(
                f"no answer from {self.where} within socket_timeout; the connection is closed "
                "(the server cannot cancel a running request, so the driver closes it)") from None
        except (OSError, ssl.SSLError) as exc:
            self.close()
            raise ConnectionLost(f"connection to {self.where} lost while receiving: {exc}") from None
        if not data:
            self.close()
            raise ConnectionLost(f"the server at {self.where} closed the connection")
        size = len(data)
        if size == self.recv_size and size < RECV_MAX:
            self.recv_size = size * 2
        elif size < self.recv_size >> 3 and self.recv_size > RECV_MIN:
            self.recv_size >>= 1
        return data

    def idle_alive(self) -> bool:
        """Between requests nothing may arrive: a readable socket means the server closed
        it (or is out of step). A pool asks this before handing the connection out, when
        nothing has been written for the next request yet (database/sql's ErrBadConn)."""
        return not self.closed and not self.readable()

    def readable(self) -> bool:
        """True when bytes from the server wait to be read (never blocks); a socket that
        cannot be polled says True, so that the read reports what is wrong."""
        sock = self.sock
        if self.tls and cast(ssl.SSLSocket, sock).pending():
            return True
        try:
            ready, _, _ = select.select([sock], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(ready)

    def recv_within(self, timeout: Optional[float]) -> Optional[bytes]:
        """``recv()`` if bytes arrive within ``timeout`` seconds (None: wait), else None
        (the connection stays open: waiting for notifications is not a timeout)."""
        sock = self.sock
        if not (self.tls and cast(ssl.SSLSocket, sock).pending()):
            try:
                ready, _, _ = select.select([sock], [], [], timeout)
            except (OSError, ValueError) as exc:
                self.close()
                raise ConnectionLost(f"connection to {self.where} lost while waiting: {exc}") from None
            if not ready:
                return None
        return self.recv()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            self.sock.close()
        except OSError:
            pass


def make_ssl_context(params: ConnectParams) -> ssl.SSLContext:
    """A TLS 1.3-only client context for ``params.sslmode``.

    require: encrypt, do not verify (unless sslrootcert is given, then verify the chain,
    as libpq does); verify-ca: verify the chain; verify-full: chain and host name.
    """
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.maximum_version = ssl.TLSVersion.TLSv1_3
    mode = params.sslmode
    verify = mode in ("verify-ca", "verify-full") or (mode == "require" and params.sslrootcert)
    if verify:
        try:
            if params.sslrootcert:
                ctx.load_verify_locations(cafile=params.sslrootcert)
            else:
                ctx.load_default_certs()
        except (OSError, ssl.SSLError) as exc:
            raise InterfaceError(f"cannot load sslrootcert {params.sslrootcert!r}: {exc}") from None
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.check_hostname = mode == "verify-full"
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if params.sslcert:
        try:
            ctx.load_cert_chain(params.sslcert, params.sslkey)
        except (OSError, ssl.SSLError) as exc:
            raise InterfaceError(f"cannot load sslcert/sslkey: {exc}") from None
    return ctx


def _connect_tcp(params: ConnectParams) -> socket.socket:
    where = f"{params.host}:{params.port}"
    try:
        sock = socket.create_connection((params.host, params.port), timeout=params.connect_timeout)
    except socket.timeout:
        raise OperationalError(f"connection to {where} timed out (connect_timeout={params.connect_timeout})") from None
    except OSError as exc:
        raise OperationalError(f"cannot connect to {where}: {exc.strerror or exc}") from None
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _wrap_tls(sock: socket.socket, params: ConnectParams) -> socket.socket:
    ctx = make_ssl_context(params)
    where = f"{params.host}:{params.port}"
    try:
        return ctx.wrap_socket(sock, server_hostname=params.host)
    except ssl.SSLCertVerificationError as exc:
        sock.close()
        raise OperationalError(f"TLS certificate verification failed for {where}: {exc.verify_message}") from None
    except socket.timeout:
        sock.close()
        raise OperationalError(f"TLS handshake with {where} timed out") from None
    except (OSError, ssl.SSLError) as exc:
        sock.close()
        raise OperationalError(f"TLS 1.3 handshake with {where} failed: {exc}") from None


def open_transport(params: ConnectParams, tls: bool) -> Transport:
    """Connect and, when ``tls``, complete the TLS 1.3 handshake. Timeout: connect_timeout."""
    sock = _connect_tcp(params)
    if tls:
        sock = _wrap_tls(sock, params)
    return Transport(sock, tls, f"{params.host}:{params.port}")


def attempts(params: ConnectParams) -> Tuple[bool, ...]:
    """Which transports to try, in order, for the sslmode: True = TLS."""
    return {
        "disable": (False,),
        "allow": (False, True),
        "prefer": (True, False),
    }.get(params.sslmode, (True,))
