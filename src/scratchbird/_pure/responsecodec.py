"""The common frames of a response, read in one call (pure-Python twin, the reference).

The compiled twin is ``ext/responsecodec.pyx``; both expose the same names and behaviour.
``scan_response`` does for a ``ClientProtocol`` what its ``read_response`` loop does per
message, for the messages nearly every request gets: DATA_ROW batches (through the
result's row decoder), ROW_DESCRIPTION, COMMAND_COMPLETE and READY whose payload the
protocol has parsed before (a repeated statement brings the same bytes again), and
PARSE/BIND/CLOSE_COMPLETE. It stops, leaving the frame in the reader, at anything else:
ERROR, NOTICE, COPY, notifications, cancel replies, a payload seen for the first time, a
frame with header flags, with a wrong sequence number (REFERENCE 2), or one that is not
complete in the reader's first chunk. ``read_response`` then reads that one frame its own
way, so rare messages, and every error message, keep one implementation.

``Result`` and ``Response`` live here so that the compiled twin builds them without a
Python-level call; ``scratchbird._protocol`` exports them.
"""
from __future__ import annotations

from struct import Struct, error as StructError
from typing import Any, Dict, List, Optional, cast

from scratchbird._constants import (BIND_COMPLETE, CLOSE_COMPLETE, COMMAND_COMPLETE, DATA_ROW,
                                    HEADER_SIZE, MAGIC, PARSE_COMPLETE, READY, ROW_DESCRIPTION)
from scratchbird.errors import Error, InterfaceError, ProtocolError

__all__ = ["Result", "Response", "receive", "scan_response", "SCAN_STOP", "SCAN_DONE",
           "SCAN_ROWS"]

SCAN_STOP = 0   # the next frame (or more bytes) is for ClientProtocol.read_response
SCAN_DONE = 1   # READY: the response is finished and detached from the protocol
SCAN_ROWS = 2   # the current result holds row_limit rows: hand the response back unfinished

# magic, major, minor, type, flags, length, sequence, (attachment skipped), txn_id
_HEADER = Struct("<4sBBBBII16xQ")
_SKIPPED = (PARSE_COMPLETE, BIND_COMPLETE, CLOSE_COMPLETE)


class Result:
    """One statement's result: its description (None when the server sent none),
    its rows, and what its COMMAND_COMPLETE said (rowcount -1 if none arrived)."""

    __slots__ = ("description", "rows", "rowcount", "tag", "last_insert_id", "complete")

    def __init__(self, description: Any = None) -> None:
        self.description = description
        self.rows: Any = []
        self.rowcount = -1
        self.tag: Optional[str] = None
        self.last_insert_id = 0
        self.complete = False

    def __repr__(self) -> str:
        return (f"Result(rows={len(self.rows)}, rowcount={self.rowcount}, tag={self.tag!r}, "
                f"complete={self.complete})")


class Response:
    """Everything a request produced up to its READY (``done`` is False while a
    streaming read has returned early)."""

    __slots__ = ("results", "error", "ready", "parameters", "pong", "notifications", "done",
                 "copy_in", "parameter_types")

    def __init__(self, results: List[Result]) -> None:
        self.results = results
        self.parameter_types: Optional[List[int]] = None   # PARAMETER_DESCRIPTION (5.3)
        self.error: Optional[Error] = None
        self.ready: Any = None
        self.parameters: Dict[str, str] = {}
        self.pong: Optional[bytes] = None
        self.notifications: List[Any] = []
        self.done = False
        # (format, window_bytes) of a COPY_IN_RESPONSE: the server waits for COPY frames
        self.copy_in: Optional[Any] = None

    def __repr__(self) -> str:
        return f"Response(results={self.results!r}, error={self.error!r}, done={self.done})"


def receive(proto: Any, data: bytes, row_limit: Optional[int]) -> Optional[Response]:
    """``proto.feed(data)`` and ``proto.read_response(row_limit)``: the Response when it
    is finished (or holds ``row_limit`` rows), None when more bytes are needed. The
    common frames are read here; the first other frame goes to ``read_response``. A
    ProtocolError, or a payload that does not parse, marks ``proto`` broken as
    ``read_response`` does."""
    proto.reader.feed(data)
    response: Optional[Response] = proto._response
    if response is None:
        raise InterfaceError("no request is in progress")
    try:
        status = scan_response(proto, response, row_limit)
    except ProtocolError:
        proto.broken = True
        raise
    except (ValueError, StructError, IndexError) as exc:   # _protocol._MALFORMED
        raise proto._malformed(exc) from None
    if status != SCAN_STOP:
        return response
    return cast(Optional[Response], proto.read_response(row_limit))


def _has_loaders(adapters: Any) -> bool:
    return adapters is not None and bool(adapters.has_loaders)


def scan_response(proto: Any, response: Response, row_limit: Optional[int]) -> int:
    """Read what ``proto`` (a ClientProtocol with ``response`` in progress) has received,
    as its ``read_response`` would, until a frame this function leaves to it (SCAN_STOP),
    the READY (SCAN_DONE) or ``row_limit`` rows in the current result (SCAN_ROWS)."""
    reader = proto.reader
    while True:
        result = proto._result
        decoder = proto._decoder
        if result is not None and decoder is not None and not result.complete:
            rows = result.rows
            budget = (1 << 62) if row_limit is None else row_limit - len(rows)
            try:
                if budget > 0:
                    proto._frame_type = DATA_ROW
                    proto._read_rows(reader, decoder, rows, budget)
            except ProtocolError:
                proto.broken = True
                raise
            except Error as exc:  # an undecodable value: remember it, drop the rest
                if response.error is None:
                    response.error = exc
                proto._decoder = decoder = None
            if row_limit is not None and len(rows) >= row_limit:
                return SCAN_ROWS
        # The next frame, if it is whole, flag-free and in sequence in the first chunk.
        buf, pos, end = reader.contiguous()
        if end - pos < HEADER_SIZE:
            return SCAN_STOP
        magic, major, minor, msg_type, flags, length, sequence, txn_id = \
            _HEADER.unpack_from(buf, pos)
        expected = reader.expected_sequence
        if (magic != MAGIC or major != 1 or minor != 1 or flags
                or length > reader.max_payload or end - pos < HEADER_SIZE + length
                or (expected is not None and sequence != expected)):
            return SCAN_STOP
        total = HEADER_SIZE + length
        if msg_type == DATA_ROW:
            # rows of a result whose decoding failed (or that is complete) are dropped
            if result is None or result.description is None or decoder is not None:
                return SCAN_STOP
        elif msg_type == ROW_DESCRIPTION:
            if proto._req_sink is not None or _has_loaders(proto._req_adapters):
                return SCAN_STOP
            cached = proto._rd_cache.get((bytes(buf[pos + HEADER_SIZE:pos + total]),
                                          proto._req_raw_text))
            if cached is None:
                return SCAN_STOP
            result = Result(cached[0])
            response.results.append(result)
            proto._result = result
            proto._decoder, proto._read_rows = cached[1], cached[2]
        elif msg_type == COMMAND_COMPLETE:
            cc = proto._cc_cache.get(bytes(buf[pos + HEADER_SIZE:pos + total]))
            if cc is None:
                return SCAN_STOP
            if result is None or result.complete:
                result = Result(None)
                response.results.append(result)
                proto._result = result
                proto._decoder = None
            result.rowcount, result.tag = cc.rows, cc.tag
            result.last_insert_id, result.complete = cc.last_insert_id, True
            proto.txn_id = txn_id or proto.txn_id
        elif msg_type == READY:
            if proto._in_cancel_reply or proto._extra_ready:
                return SCAN_STOP
            ready = proto._ready_cache.get(bytes(buf[pos + HEADER_SIZE:pos + total]))
            if ready is None or (ready.features is not None
                                 and ready.features != proto.negotiated_features):
                return SCAN_STOP
            reader.consume(total, 1)
            proto.frames_read += 1
            # ClientProtocol._apply_ready and _finish, for a READY that changes no feature
            response.ready = ready
            proto.txn_id = ready.txn_id or txn_id
            if ready.version is not None:
                proto.protocol_version = ready.version
            response.done = True
            proto._copy_open = False
            proto._response = None
            proto._result = None
            proto._decoder = None
            return SCAN_DONE
        elif msg_type not in _SKIPPED:
            return SCAN_STOP
        reader.consume(total, 1)
        proto.frames_read += 1
