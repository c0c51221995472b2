"""A fault-injecting TCP proxy (threads) between the driver and a real dev server.

One proxy serves many connections; ``arm(fault)`` sets the fault for the next accepted
connection (``None``: forward faithfully). A ``Fault`` strikes in one direction, either at
a frame index (the stream is cut into SBWP frames: 40-byte header, length at offset 8,
REFERENCE 2; meaningful in plaintext) or at a byte offset (any stream, TLS included),
and does one thing:

    drop       close both sides (FIN) before the frame / at the offset
    truncate   forward half of the frame (or the bytes up to the offset), then close
    delay      hold the bytes for ``seconds``, then go on
    stall      forward nothing more, keep the sockets open (a silent server)
    duplicate  send the frame twice
    flip       XOR ``mask`` into the byte ``at`` bytes into the frame (or at the offset)
    reset      close with SO_LINGER 0 (the peer gets RST) before the frame / at the offset

tests/proxy.py is the simpler proxy of the older unhappy-path tests.
"""
from __future__ import annotations

import socket
import struct
import threading
import time
from dataclasses import dataclass
from typing import Optional

from tests.proxy import accept_clients

ACTIONS = ("drop", "truncate", "delay", "stall", "duplicate", "flip", "reset")
HEADER = 40


@dataclass(frozen=True)
class Fault:
    action: str
    direction: str = "s2c"          # "s2c" (server to client) or "c2s"
    frame: Optional[int] = None     # strike at this frame index ...
    offset: Optional[int] = None    # ... or at this byte offset
    at: int = 0                     # flip: byte position inside the frame
    mask: int = 0xFF                # flip: XOR mask
    seconds: float = 0.0            # delay

    def __post_init__(self):
        assert self.action in ACTIONS and self.direction in ("s2c", "c2s")
        assert (self.frame is None) != (self.offset is None)

    def __str__(self):
        where = f"frame {self.frame}" if self.frame is not None else f"byte {self.offset}"
        extra = (f" at+{self.at} ^{self.mask:#x}" if self.action == "flip"
                 else f" {self.seconds}s" if self.action == "delay" else "")
        return f"{self.action} {self.direction} {where}{extra}"


def _reset(sock: socket.socket) -> None:
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


class _Link:
    """One proxied connection: two pumps and the fault they share."""

    def __init__(self, proxy, client, upstream, fault):
        self.proxy, self.client, self.upstream, self.fault = proxy, client, upstream, fault
        self.done = threading.Event()
        self.types = {"s2c": [], "c2s": []}     # message type of every frame seen

    def close(self, reset=False):
        self.done.set()
        for sock in (self.client, self.upstream):
            if reset:
                _reset(sock)
            else:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                try:
                    sock.close()
                except OSError:
                    pass

    def pump(self, src, dst, direction):
        fault = self.fault if self.fault and self.fault.direction == direction else None
        # Cut the stream into frames when a fault counts frames, or to record the frame
        # types of a clean plaintext run (``FaultProxy.record``).
        framed = self.proxy.record or (fault is not None and fault.frame is not None)
        buffer, offset, index = b"", 0, 0
        try:
            while not self.done.is_set():
                data = src.recv(65536)
                if not data:
                    break
                if not framed:
                    if fault is None:
                        dst.sendall(data)
                    elif not self._bytes(dst, data, offset, fault):
                        return
                    offset += len(data)
                    continue
                buffer += data
                while len(buffer) >= HEADER:
                    total = HEADER + struct.unpack_from("<I", buffer, 8)[0]
                    if len(buffer) < total:
                        break
                    frame, buffer = buffer[:total], buffer[total:]
                    self.types[direction].append(frame[6])
                    if fault is not None and index == fault.frame:
                        if not self._frame(dst, frame, fault):
                            return
                    else:
                        dst.sendall(frame)
                    index += 1
        except OSError:
            pass
        finally:
            if not self.done.is_set():
                self.close()

    def _strike(self, dst, action, before: bytes, rest: bytes, whole: bytes, fault) -> bool:
        """Apply ``action``; False when the link is finished."""
        if action in ("drop", "reset"):
            if before:
                dst.sendall(before)
            self.close(reset=action == "reset")
            return False
        if action == "truncate":
            dst.sendall(before)
            self.close()
            return False
        if action == "stall":
            dst.sendall(before)
            self.done.wait()
            return False
        if action == "delay":
            time.sleep(fault.seconds)
        dst.sendall(whole)
        return True

    def _frame(self, dst, frame, fault) -> bool:
        if fault.action == "duplicate":
            dst.sendall(frame + frame)
            return True
        if fault.action == "flip":
            at = fault.at % len(frame)
            dst.sendall(frame[:at] + bytes([frame[at] ^ fault.mask]) + frame[at + 1:])
            return True
        half = frame[:max(1, len(frame) // 2)] if fault.action == "truncate" else b""
        return self._strike(dst, fault.action, half, b"", frame, fault)

    def _bytes(self, dst, data, offset, fault) -> bool:
        cut = fault.offset - offset
        if cut < 0 or cut >= len(data):
            dst.sendall(data)
            return True
        if fault.action == "flip":
            dst.sendall(data[:cut] + bytes([data[cut] ^ fault.mask]) + data[cut + 1:])
            return True
        if fault.action == "duplicate":
            dst.sendall(data[:cut + 1] + data[cut:])
            return True
        return self._strike(dst, fault.action, data[:cut], data[cut:], data, fault)


class FaultProxy:
    """Forwards 127.0.0.1:``port`` to ``target``, applying the armed fault to the next
    connection. Use as a context manager; ``close()`` ends every link."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self._next: Optional[Fault] = None
        self.record = False     # parse every plaintext stream into frames (see _Link.pump)
        self.last_link: Optional[_Link] = None
        self._links = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def arm(self, fault: Optional[Fault]) -> None:
        with self._lock:
            self._next = fault

    def _accept(self) -> None:
        accept_clients(self.listener, self._stop, self._serve)

    def _serve(self, client) -> None:
        try:
            upstream = socket.create_connection(self.target, timeout=5)
            upstream.settimeout(None)
        except OSError:
            _reset(client)
            return
        for sock in (client, upstream):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._lock:
            fault, self._next = self._next, None
            link = self.last_link = _Link(self, client, upstream, fault)
            self._links = [l for l in self._links if not l.done.is_set()] + [link]
        threading.Thread(target=link.pump, args=(client, upstream, "c2s"), daemon=True).start()
        threading.Thread(target=link.pump, args=(upstream, client, "s2c"), daemon=True).start()

    def close_links(self) -> None:
        with self._lock:
            links, self._links = self._links, []
        for link in links:
            link.close()

    def close(self) -> None:
        self._stop.set()
        self.close_links()
        try:
            self.listener.close()
        except OSError:
            pass
        self._thread.join(2)

    def __enter__(self) -> "FaultProxy":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
