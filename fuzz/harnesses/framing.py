"""FrameReader fed arbitrary bytes in arbitrary chunks (REFERENCE 2).

Input: byte 0 seeds the chunk sizes, the rest is the stream. Both twins read the same
chunks; the frames they return (header fields and payload) and the first error must be
the same.
"""
from __future__ import annotations

import random

from fuzz.contract import check_twins, outcome
from fuzz.twins import twins


def _chunks(data: bytes):
    if not data:
        return []
    rng = random.Random(data[0])
    stream, out, pos = data[1:], [], 0
    while pos < len(stream):
        size = rng.choice((1, 2, 3, 7, 39, 40, 41, 64, 4096))
        out.append(stream[pos:pos + size])
        pos += size
    return out


def _read_all(framing, chunks, max_payload):
    reader = framing.FrameReader(max_payload=max_payload)
    frames = []
    for chunk in chunks:
        reader.feed(chunk)
        while (frame := reader.next_frame()) is not None:
            frames.append((frame.msg_type, frame.flags, frame.sequence, bytes(frame.attachment_id),
                           frame.txn_id, bytes(frame.payload)))
            if len(frames) > 10_000:
                raise AssertionError("FrameReader returned more frames than the input holds")
    return frames, reader.buffered


def one_input(data: bytes) -> None:
    pure, compiled = twins("framing")
    chunks = _chunks(data)
    max_payload = 1 << (data[0] % 24) if data else 1 << 20
    result = check_twins("FrameReader", outcome(_read_all, pure, chunks, max_payload),
                         outcome(_read_all, compiled, chunks, max_payload))
    if result.error is None:
        frames, left = result.value
        consumed = sum(40 + len(f[5]) for f in frames if not f[1] & 0x01)
        if consumed + left > len(data):
            raise AssertionError("FrameReader consumed more bytes than it was fed")
    if len(data) >= 40:  # the header decoder alone, at a chosen offset
        offset = data[0] % 8
        check_twins("decode_header", outcome(pure.decode_header, data[1:], offset),
                    outcome(compiled.decode_header, data[1:], offset))


def seeds():
    from scratchbird._pure.framing import encode_frame

    frames = (encode_frame(0x44, b"\x01\x00\x00\x00abc", 3, b"\x11" * 16, 7)
              + encode_frame(0x5A, b"\x02" * 12, 4) + encode_frame(0x49))
    return [b"\x00" + frames, b"\x05" + frames, b"\x09" + frames[:57],
            b"\x01" + encode_frame(0x44, b"x" * 100, flags=0x01)]
