"""Records the client frames a live connection writes (observation only: the bytes still
go to the real dev server unchanged)."""
from __future__ import annotations

from scratchbird import _constants as c
from scratchbird._pure import framing


class WireSpy:
    """``WireSpy(conn)`` wraps ``conn``'s transport ``send``; ``frames`` lists the
    ``(msg_type, payload)`` sent since the last ``clear()``."""

    def __init__(self, conn) -> None:
        self.writes: list = []
        transport = conn._transport
        original = transport.send

        def send(data: bytes) -> None:
            self.writes.append(bytes(data))
            original(data)

        transport.send = send

    def clear(self) -> None:
        self.writes.clear()

    @property
    def frames(self):
        reader = framing.FrameReader()
        reader.feed(b"".join(self.writes))
        out = []
        while (frame := reader.next_frame()) is not None:
            out.append((frame.msg_type, bytes(frame.payload)))
        return out

    @property
    def names(self):
        return [c.MESSAGE_NAMES.get(t, hex(t)) for t, _p in self.frames]

    def count(self, msg_type: int) -> int:
        return sum(1 for t, _p in self.frames if t == msg_type)
