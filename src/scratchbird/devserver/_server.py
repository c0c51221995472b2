"""The dev server's TCP listener: accept loop, one thread per connection, TLS, shutdown.

Transport rules (REFERENCE 3.2, 3.3, 12.A.14):

- ``tls="required"``: the first bytes must look like a TLS handshake record
  (``16 03 01..04``); anything else is reset. The handshake is TLS 1.3 only.
- ``tls="off"``: the first 4 bytes must be ``SBWP`` within 100 ms of the accept;
  otherwise the server writes ``ScratchBird SBSQL parser ready\\n`` (the banner of the
  real worker's text test protocol, which is not implemented here) and closes.

Each connection runs a ``Session`` in its own thread; a failure in one never affects
another. Closing is graceful (write side shut, input drained briefly) so a final ERROR
frame is not lost to a TCP reset when the client had sent more bytes.
"""
from __future__ import annotations

import logging
import select
import socket
import ssl
import struct
import threading
import time
from typing import Dict, Optional, cast

from ._session import Session, SessionConfig
from ._tls import looks_like_tls_hello

__all__ = ["Listener", "BANNER", "SNIFF_SECONDS"]

log = logging.getLogger("scratchbird.devserver")

BANNER = b"ScratchBird SBSQL parser ready\n"
SNIFF_SECONDS = 0.100           # plaintext: wait this long for the SBWP magic (3.3)
PREAUTH_SECONDS = 30.0          # TLS: wait this long for a ClientHello (3.2)
HANDSHAKE_SECONDS = 30.0
DRAIN_SECONDS = 0.5             # graceful close: read (and drop) input this long at most
ACCEPT_POLL_SECONDS = 0.2


def _peek(conn: socket.socket, want: int, deadline: float) -> bytes:
    """Up to ``want`` bytes without consuming them, waiting until ``deadline`` at most."""
    head = b""
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return head
        readable, _w, _x = select.select([conn], [], [], remaining)
        if not readable:
            return head
        head = conn.recv(want, socket.MSG_PEEK)
        if not head or len(head) >= want:
            return head
        time.sleep(0.002)       # a partial prefix: give the rest a moment to arrive


def _shutdown_fd(sock, how: int = socket.SHUT_RDWR) -> None:
    """Shut the TCP socket down without touching a TLS layer (safe from another thread)."""
    try:
        socket.socket.shutdown(sock, how)
    except OSError:
        pass


def graceful_close(sock, drain: float = DRAIN_SECONDS) -> None:
    """FIN our side, drop whatever the peer still sends for a moment, then close."""
    try:
        _shutdown_fd(sock, socket.SHUT_WR)
        deadline = time.monotonic() + drain
        raw = socket.socket(fileno=sock.fileno()) if isinstance(sock, ssl.SSLSocket) else sock
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                raw.settimeout(remaining)
                if not raw.recv(65536):
                    break
        except OSError:
            pass
        finally:
            if raw is not sock:
                raw.detach()
    except OSError:
        pass
    finally:
        try:
            sock.close()
        except OSError:
            pass


def reset_close(sock: socket.socket) -> None:
    """Close with a TCP reset, as the real TLS listener does with plaintext (12.A.14)."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


class Listener:
    """Owns the listening socket, the accept thread and one thread per connection."""

    def __init__(self, host: str, port: int, config: SessionConfig,
                 tls_context: Optional[ssl.SSLContext] = None) -> None:
        self.host = host
        self.requested_port = port
        self.port = port
        self.config = config
        self.tls_context = tls_context
        self._sock: Optional[socket.socket] = None
        self._accept_thread: Optional[threading.Thread] = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._conns: Dict[int, tuple] = {}      # id -> (socket, thread)
        self._next_id = 0

    # ------------------------------------------------------------ lifecycle

    def start(self) -> None:
        infos = socket.getaddrinfo(self.host, self.requested_port, type=socket.SOCK_STREAM,
                                   flags=socket.AI_PASSIVE)
        family, socktype, proto, _canon, addr = infos[0]
        sock = socket.socket(family, socktype, proto)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(addr)
            sock.listen(128)
            sock.settimeout(ACCEPT_POLL_SECONDS)
        except OSError:
            sock.close()
            raise
        self._sock = sock
        self.port = sock.getsockname()[1]
        self._accept_thread = threading.Thread(target=self._accept_loop, daemon=True,
                                               name=f"sbdev-accept-{self.port}")
        self._accept_thread.start()
        log.info("listening on %s:%d (%s)", self.host, self.port,
                 "TLS 1.3" if self.tls_context else "plaintext")

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        if self._accept_thread is not None:
            self._accept_thread.join(timeout)
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        with self._lock:
            conns = list(self._conns.values())
        for sock, _thread in conns:
            _shutdown_fd(sock)                  # unblocks the session's recv()
        deadline = time.monotonic() + timeout
        for _sock, thread in conns:
            thread.join(max(0.0, deadline - time.monotonic()))
        with self._lock:
            left = len(self._conns)
        if left:
            log.warning("%d connection thread(s) still busy at shutdown", left)

    @property
    def active_connections(self) -> int:
        with self._lock:
            return len(self._conns)

    # ------------------------------------------------------------ accept / serve

    def _accept_loop(self) -> None:
        listening = self._sock
        if listening is None:                   # stop() ran before this thread did
            return
        while not self._stopping.is_set():
            try:
                conn, addr = listening.accept()
            except socket.timeout:
                continue
            except OSError:
                if self._stopping.is_set():
                    break
                log.exception("accept failed")
                time.sleep(0.05)
                continue
            if self._stopping.is_set():
                reset_close(conn)
                break
            with self._lock:
                cid = self._next_id
                self._next_id += 1
                thread = threading.Thread(target=self._serve, args=(cid, conn, addr), daemon=True,
                                          name=f"sbdev-conn-{cid}")
                self._conns[cid] = (conn, thread)
            thread.start()

    def _serve(self, cid: int, conn: socket.socket, addr) -> None:
        peer = f"{addr[0]}:{addr[1]}#{cid}"
        sock = conn
        graceful = True
        try:
            conn.settimeout(None)
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.tls_context is not None:
                sock = self._tls_accept(cid, conn, peer)
                if sock is None:
                    graceful = False
                    return
            elif not self._sniff_plaintext(conn, peer):
                return
            Session(sock, self.config, peer).run()
        except OSError as exc:                  # reset during the sniff or the TLS peek
            log.debug("%s: connection dropped early: %s", peer, exc)
        except Exception:
            log.exception("%s: connection handler failed", peer)
        finally:
            if graceful:
                graceful_close(sock)
            with self._lock:
                self._conns.pop(cid, None)

    def _sniff_plaintext(self, conn: socket.socket, peer: str) -> bool:
        head = _peek(conn, 4, time.monotonic() + SNIFF_SECONDS)
        if head == b"SBWP":
            return True
        if head or not self._peer_closed(conn):
            log.debug("%s: no SBWP magic within 100 ms (%r): text banner", peer, head)
            try:
                conn.sendall(BANNER)
            except OSError:
                pass
        return False

    @staticmethod
    def _peer_closed(conn: socket.socket) -> bool:
        readable, _w, _x = select.select([conn], [], [], 0)
        if not readable:
            return False
        try:
            return conn.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def _tls_accept(self, cid: int, conn: socket.socket, peer: str):
        head = _peek(conn, 3, time.monotonic() + PREAUTH_SECONDS)
        if not looks_like_tls_hello(head):
            log.debug("%s: not a TLS handshake (%r): reset", peer, head)
            reset_close(conn)
            return None
        conn.settimeout(HANDSHAKE_SECONDS)
        try:
            context = cast(ssl.SSLContext, self.tls_context)     # only called with TLS on
            tls = context.wrap_socket(conn, server_side=True, do_handshake_on_connect=False)
        except (OSError, ValueError):
            reset_close(conn)
            return None
        with self._lock:                        # the wrapped socket now owns the fd
            self._conns[cid] = (tls, self._conns[cid][1])
        try:
            tls.do_handshake()
        except (OSError, ValueError) as exc:
            log.debug("%s: TLS handshake failed: %s", peer, exc)
            try:
                tls.close()
            except OSError:
                pass
            return None
        tls.settimeout(None)
        return tls
