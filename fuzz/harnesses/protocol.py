"""ClientProtocol fed a whole server conversation (handshake, then request after request).

Input: byte 0 configures the session (bit 0: legacy STARTUP layout; bit 1: streaming
reads with a row limit of ``1 + (byte >> 4)``; bits 2-3 with bits 4-7: chunk sizes), the
rest is everything the server sends. Seeds are the server side of the recorded real-server
conversations (fuzz/corpus/protocol/, from /work/shared/sbwp/captures). The same bytes go
through a protocol built on the pure twins and one built on the compiled twins, each read
two ways: ``feed`` + ``read_response``, and ``receive`` per chunk as connection.py reads
(the compiled response reader, ``responsecodec``, with its fall-back to read_response).
All four must produce the same events and the same errors, and only
scratchbird.errors.Error escapes.
"""
from __future__ import annotations

import random

from fuzz.contract import check_twins, comparable, outcome
from fuzz.twins import use_impl

_MAX_REQUESTS = 64


def _event(response):
    error = response.error
    return (tuple((r.rowcount, r.tag, r.complete, comparable(list(r.rows)),
                   None if r.description is None else len(r.description.columns))
                  for r in response.results),
            None if error is None else type(error).__name__, response.pong, response.done)


def _converse(data: bytes, impl: str, via_receive: bool = False):
    from scratchbird._protocol import ClientProtocol

    config, stream = data[0], data[1:]
    rng = random.Random(config)
    sizes = (len(stream) or 1,) if not config & 0x0C else (1, 5, 40, 41, 333, 4096)
    chunks, pos = [], 0
    while pos < len(stream):
        size = rng.choice(sizes)
        chunks.append(stream[pos:pos + size])
        pos += size
    row_limit = 1 + (config >> 4) if config & 0x02 else None
    with use_impl(impl):
        proto = ClientProtocol(user="sbtest", password="sbtest-pw", database="default",
                               layout="legacy" if config & 0x01 else "p1", allow_cleartext=True)
    events = []
    proto.startup_frame()
    chunks.reverse()   # pop() from the end gives them in order
    while not proto.handshake_done:
        proto.advance_handshake()
        if proto.handshake_done:
            break
        if not chunks:
            return events, "handshake unfinished"
        proto.feed(chunks.pop())
    events.append(("ready", proto.txn_id, proto.negotiated_features))
    for _ in range(_MAX_REQUESTS):
        if not chunks and proto.reader.buffered == 0:
            return events, "end"
        proto.query_frame("SELECT 1")
        while True:
            if via_receive and proto.reader.buffered == 0:
                response = None         # connection._read: receive what arrives next
            else:
                response = proto.read_response(row_limit)
            while response is None:
                if not chunks:
                    return events, "request unfinished"
                if via_receive:
                    response = proto.receive(chunks.pop(), row_limit)
                else:
                    proto.feed(chunks.pop())
                    response = proto.read_response(row_limit)
            events.append(_event(response))
            if response.done:
                break
            for result in response.results:   # a streaming caller takes the rows
                result.rows.clear()
    return events, "request limit"


def one_input(data: bytes) -> None:
    if not data:
        return
    reference = check_twins("ClientProtocol", outcome(_converse, data, "python"),
                            outcome(_converse, data, "c"))
    for impl in ("python", "c"):
        check_twins(f"ClientProtocol.receive ({impl} twin) against read_response", reference,
                    outcome(_converse, data, impl, True))


def seeds():
    from fuzz.corpus_files import read_corpus

    return read_corpus("protocol")
