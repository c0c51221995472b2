"""Reading SBWP frames from a raw socket, for the tests that play the client by hand."""
from __future__ import annotations


def read_frame(sock, reader):
    """The next frame from ``reader``, fed from ``sock``; None at EOF (a reset counts as EOF)."""
    while (frame := reader.next_frame()) is None:
        try:
            data = sock.recv(1 << 20)
        except ConnectionResetError:
            data = b""
        if not data:
            return None
        reader.feed(data)
    return frame
