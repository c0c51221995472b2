"""A TCP proxy for the unhappy paths: it sits between the driver and a real dev server
and can drop, truncate, corrupt or stall the server's byte stream."""
from __future__ import annotations

import socket
import threading
from typing import Callable, Optional


def accept_clients(listener: socket.socket, stop: threading.Event,
                   serve: Callable[[socket.socket], None]) -> None:
    """Hand every connection accepted on ``listener`` to ``serve`` until ``stop`` is set
    (the proxies' accept thread; the short timeout lets it see ``stop``)."""
    listener.settimeout(0.2)
    while not stop.is_set():
        try:
            client, _ = listener.accept()
        except OSError:
            continue
        serve(client)


class FaultyProxy:
    """Forwards 127.0.0.1:<port> to ``target``. ``s2c_filter(data, offset)`` may return
    replacement bytes, or None to cut the connection at that point. ``stall_after``
    stops forwarding server bytes after that many (the socket stays open)."""

    def __init__(self, target_host: str, target_port: int,
                 s2c_filter: Optional[Callable[[bytes, int], Optional[bytes]]] = None,
                 stall_after: Optional[int] = None) -> None:
        self.target = (target_host, target_port)
        self.s2c_filter = s2c_filter
        self.stall_after = stall_after
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self._stop = threading.Event()
        self.client_closed = threading.Event()  # the driver closed its side (EOF seen)
        self._socks = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        accept_clients(self.listener, self._stop, self._serve)

    def _serve(self, client) -> None:
        upstream = socket.create_connection(self.target)
        self._socks += [client, upstream]
        threading.Thread(target=self._pump, args=(client, upstream, False), daemon=True).start()
        threading.Thread(target=self._pump, args=(upstream, client, True), daemon=True).start()

    def _pump(self, src, dst, s2c: bool) -> None:
        offset = 0
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    if not s2c:
                        self.client_closed.set()
                    break
                filt = self.s2c_filter if s2c else None  # read each time: tests swap it
                if filt is not None:
                    data = filt(data, offset)
                    if data is None:
                        break
                if s2c and self.stall_after is not None:
                    allowed = max(0, self.stall_after - offset)
                    offset += len(data)
                    if allowed < len(data):
                        dst.sendall(data[:allowed])
                        self._stop.wait()  # hold the connection open, send nothing more
                        return
                    dst.sendall(data)
                    continue
                offset += len(data)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def kill_connections(self) -> int:
        """Cut every connection open now, both sides at once (as a crashed server or
        a dropped network would); new connections still pass. Returns how many."""
        socks, self._socks = self._socks, []
        for sock in socks:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        return len(socks) // 2

    def close(self) -> None:
        self._stop.set()
        self.listener.close()
        for s in self._socks:
            try:
                s.close()
            except OSError:
                pass

    def __enter__(self) -> "FaultyProxy":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
