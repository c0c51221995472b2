"""The response reader's twins (``scratchbird._pure.responsecodec`` and the compiled
``ext/responsecodec.pyx``) read the same conversations to the same events.

Each twin drives a ClientProtocol of its own (its ``Result``/``Response``, its
``scan_response`` in ``read_response``, its ``receive`` for each received chunk, as
connection.py does) through: the recorded conversations in tests/data/captures, and
synthetic frame sequences whose statements repeat (so the twins' cache-hit paths run),
including extended-protocol replies, errors, streaming with a row limit, and truncated
or malformed streams. What each request returned or raised, and the protocol's state
after it, must be identical; so must what the plain Python path (no fast path) gives.
"""
from __future__ import annotations

import random

import pytest

from tests.capture_replay import NUMBERS, LIFECYCLE_NUMBERS, Replay, captures  # noqa: F401
from scratchbird import _constants as c
from scratchbird import _protocol
from scratchbird import _server_messages as sm
from scratchbird._protocol import ClientProtocol
from scratchbird._pure import framing as py_framing
from scratchbird._pure import responsecodec as pure
from scratchbird._pure.rowcodec import encode_data_row
from scratchbird.errors import Error, ProtocolError

try:
    from scratchbird._compiled import responsecodec as compiled
except ImportError:  # pragma: no cover - depends on the build
    compiled = None

needs_compiled = pytest.mark.skipif(compiled is None, reason="compiled extensions not built")


class _PythonPathOnly:
    """A twin whose scanner reads nothing: every frame takes read_response's own path
    (the behaviour before responsecodec, the oracle for both twins)."""

    Result = pure.Result
    Response = pure.Response
    SCAN_STOP = pure.SCAN_STOP

    @staticmethod
    def scan_response(proto, response, row_limit):
        """Only the rows part of the loop (read_response has no other copy of it), as
        read_response read rows before responsecodec existed."""
        result, decoder = proto._result, proto._decoder
        if result is not None and decoder is not None and not result.complete:
            budget = (1 << 62) if row_limit is None else row_limit - len(result.rows)
            try:
                if budget > 0:
                    proto._frame_type = c.DATA_ROW
                    proto._read_rows(proto.reader, decoder, result.rows, budget)
            except ProtocolError:
                proto.broken = True
                raise
            except Error as exc:
                if response.error is None:
                    response.error = exc
                proto._decoder = None
            if row_limit is not None and len(result.rows) >= row_limit:
                return pure.SCAN_ROWS
        return pure.SCAN_STOP

    @staticmethod
    def receive(proto, data, row_limit):
        proto.feed(data)
        return proto.read_response(row_limit)


def _use(monkeypatch, twin) -> None:
    monkeypatch.setattr(_protocol, "Result", twin.Result)
    monkeypatch.setattr(_protocol, "Response", twin.Response)
    monkeypatch.setattr(_protocol, "_scan_response", twin.scan_response)
    monkeypatch.setattr(_protocol.responsecodec, "receive", twin.receive)


# ---------------------------------------------------------------- what a request gave

def _value(obj):
    if isinstance(obj, Error):
        return (type(obj).__name__, str(obj))
    return obj


def _summary(response):
    if response is None:
        return None
    results = []
    for r in response.results:
        desc = None if r.description is None else [
            (col.name, col.type_oid, col.format) for col in r.description.columns]
        results.append((desc, list(r.rows), r.rowcount, r.tag, r.last_insert_id, r.complete))
    return (results, _value(response.error), response.ready, response.parameters,
            response.pong, response.notifications, response.done, response.copy_in,
            response.parameter_types)


def _state(proto):
    return (proto.txn_id, proto.frames_read, proto.broken, proto.busy,
            proto.reader.expected_sequence, proto.reader.buffered, proto.protocol_version,
            proto.negotiated_features, len(proto.cancel_outcomes))


# ---------------------------------------------------------------- the recorded conversations

REPLAYS = [(n, ch) for n in NUMBERS + LIFECYCLE_NUMBERS for ch in ("whole", "seed3", "bytes")
           if n != "03"]


def _replay(monkeypatch, twin, cap, chunking):
    _use(monkeypatch, twin)
    replay = Replay(cap, chunking, raw_text=True)
    out = [(req.index, _summary(resp)) for req, resp in replay.responses]
    return out, _state(replay.proto), [(f.msg_type, bytes(f.payload)) for f in replay.leftover]


@needs_compiled
@pytest.mark.parametrize("number,chunking", REPLAYS, ids=[f"{n}-{ch}" for n, ch in REPLAYS])
def test_twins_replay_the_captures_alike(monkeypatch, captures, number, chunking):
    cap = captures[number]
    got = [_replay(monkeypatch, twin, cap, chunking) for twin in (pure, compiled)]
    assert got[0] == got[1]
    # the capture drove requests, unless it is a handshake only
    assert got[0][0] or not any(f.msg_type == c.QUERY for f in cap.c2s)


# ---------------------------------------------------------------- synthetic conversations

SESSION = bytes(range(16))
COLUMNS = [sm.Column("id", c.OID_INT8), sm.Column("name", 25)]


class Stream:
    """Server frames with consecutive sequence numbers (REFERENCE 2)."""

    def __init__(self) -> None:
        self.seq = 0
        self.parts = []

    def add(self, msg_type, payload=b"", txn=7, flags=0, seq=None, magic=None):
        frame = bytearray(py_framing.encode_frame(
            msg_type, payload, self.seq if seq is None else seq, SESSION, txn, flags))
        if magic is not None:
            frame[:4] = magic
        self.parts.append(bytes(frame))
        self.seq += 1
        return self

    def result(self, rows, tag=None, txn=7):
        self.add(c.ROW_DESCRIPTION, sm.encode_row_description_p1(COLUMNS), txn)
        for row in rows:
            self.add(c.DATA_ROW, encode_data_row(row), txn)
        return self.add(c.COMMAND_COMPLETE,
                        sm.encode_command_complete(tag or f"SELECT {len(rows)}", len(rows)), txn)

    def ready(self, txn=7, reason=2, features=0):
        return self.add(c.READY, sm.encode_ready_p1(SESSION, txn, reason, features), txn)

    def data(self) -> bytes:
        return b"".join(self.parts)


ROWS = [(b"1", b"one"), (b"2", None), (b"3", b"three")]


def _plain(s):
    """Three repeats of a SELECT with rows (the cache-hit path from the second on)."""
    for _ in range(3):
        s.result(ROWS).ready()
    return 3


def _extended(s):
    for _ in range(3):
        s.add(c.PARSE_COMPLETE).add(c.CLOSE_COMPLETE).add(c.BIND_COMPLETE)
        s.result(ROWS[:1]).ready()
    return 3


def _mixed(s):
    s.result(ROWS).add(c.COMMAND_COMPLETE, sm.encode_command_complete("INSERT 0 1", 1)) \
        .result(ROWS[1:]).ready()                                   # three results
    s.add(c.COMMAND_COMPLETE, sm.encode_command_complete("INSERT 0 1", 1)).ready()
    s.add(c.COMMAND_COMPLETE, sm.encode_command_complete("INSERT 0 1", 1)).ready()
    s.result(ROWS[:2]).add(c.ERROR, sm.encode_error((("S", "ERROR"), ("C", "22012"),
                                                     ("M", "division by zero")))).ready(reason=3)
    s.add(c.PARAMETER_STATUS, sm.encode_parameter_status([("TimeZone", "UTC")]))
    s.result(ROWS).ready()
    s.result(ROWS).ready(txn=0)                                     # the txn ended
    s.add(c.ERROR, sm.encode_error((("S", "ERROR"), ("C", "25000"),
                                    ("M", "SBWP.TRANSACTION_ID_MISMATCH"),
                                    ("D", "SBWP.TRANSACTION_ID_MISMATCH")))).ready(reason=3)
    s.result(ROWS).ready()
    return 7


def _bad_sequence(s):
    _plain(s)
    s.result(ROWS)
    return s.add(c.READY, sm.encode_ready_p1(SESSION, 7, 2, 0), seq=s.seq + 5) and 4


def _flags_on_a_cached_frame(s):
    _plain(s)
    s.result(ROWS[:1])
    s.parts[-1] = bytearray(s.parts[-1])
    s.parts[-1][7] = 0x01                       # "compressed", never negotiated
    s.parts[-1] = bytes(s.parts[-1])
    s.ready()
    return 4


def _bad_magic(s):
    _plain(s)
    s.add(c.ROW_DESCRIPTION, sm.encode_row_description_p1(COLUMNS), magic=b"SBWQ")
    return 4


def _short_command_complete(s):
    _plain(s)
    s.add(c.ROW_DESCRIPTION, sm.encode_row_description_p1(COLUMNS))
    s.add(c.COMMAND_COMPLETE, b"\x01\x00")
    return 4


def _bad_data_row(s):
    _plain(s)
    s.add(c.ROW_DESCRIPTION, sm.encode_row_description_p1(COLUMNS))
    s.add(c.DATA_ROW, b"\x02\x00\x01\x00\x00\xff\xff")   # a length past the payload
    s.add(c.COMMAND_COMPLETE, sm.encode_command_complete("SELECT 1", 1)).ready()
    return 4


def _row_without_description(s):
    _plain(s)
    s.add(c.DATA_ROW, encode_data_row(ROWS[0]))
    return 4


def _feature_change(s):
    _plain(s)
    s.result(ROWS).ready(features=c.FEATURE_BINARY_VALUES)
    s.result(ROWS).ready(features=c.FEATURE_BINARY_VALUES)
    return 5


def _truncated(s):
    _plain(s)
    s.result(ROWS).ready()
    s.parts[-1] = s.parts[-1][:50]
    return 4


CONVERSATIONS = {f.__name__.strip("_"): f for f in (
    _plain, _extended, _mixed, _bad_sequence, _flags_on_a_cached_frame, _bad_magic,
    _short_command_complete, _bad_data_row, _row_without_description, _feature_change,
    _truncated)}


def _chunks(data: bytes, chunking: str):
    if chunking == "whole":
        return [data]
    if chunking == "bytes":
        return [data[i:i + 1] for i in range(len(data))]
    rng = random.Random(chunking)
    out, pos = [], 0
    while pos < len(data):
        size = rng.randint(1, rng.choice((9, 60, 700)))
        out.append(data[pos:pos + size])
        pos += size
    return out


def _run(monkeypatch, twin, name, chunking, row_limit):
    _use(monkeypatch, twin)
    stream = Stream()
    requests = CONVERSATIONS[name](stream)
    chunks = _chunks(stream.data(), chunking)
    chunks.reverse()
    proto = ClientProtocol(user="u", password=None, database="d", raw_text=False)
    proto.handshake_done = True
    proto.session_id = SESSION
    events = []
    for _ in range(requests):
        try:
            proto.query_frame("SELECT 1")
            response = proto.read_response(row_limit) if proto.reader.buffered else None
            while response is None or not response.done:
                if response is not None:            # streaming: the caller takes the rows
                    events.append(("part", _summary(response)))
                    for result in response.results:
                        result.rows = []
                    response = proto.read_response(row_limit)
                    continue
                if not chunks:
                    events.append(("needs more bytes", _state(proto)))
                    return events
                response = twin.receive(proto, chunks.pop(), row_limit)
        except Error as exc:
            events.append(("raised", _value(exc), _state(proto)))
            return events
        events.append(("response", _summary(response), _state(proto)))
    return events


SYNTHETIC = [(name, chunking, limit) for name in CONVERSATIONS
             for chunking in ("whole", "bytes", "seed1", "seed2")
             for limit in (None, 2)]


@needs_compiled
@pytest.mark.parametrize("name,chunking,row_limit", SYNTHETIC,
                         ids=[f"{n}-{ch}-{lim}" for n, ch, lim in SYNTHETIC])
def test_twins_read_synthetic_streams_alike(monkeypatch, name, chunking, row_limit):
    got = [_run(monkeypatch, twin, name, chunking, row_limit)
           for twin in (pure, compiled, _PythonPathOnly)]
    assert got[0] == got[1]
    assert got[0] == got[2]         # the fast path changes nothing the Python path does
    assert got[0]


def test_the_fast_path_reads_repeated_responses_in_one_call(monkeypatch):
    """From the second repeat on, a response goes in with one ``receive`` and no frame
    reaches read_response's own loop (the whole point of the module)."""
    seen = []
    original = ClientProtocol._next_frame

    def spy(self):
        frame = original(self)
        if frame is not None:
            seen.append(frame.msg_type)
        return frame

    monkeypatch.setattr(ClientProtocol, "_next_frame", spy)
    stream = Stream()
    _extended(stream)
    proto = ClientProtocol(user="u", password=None, database="d")
    proto.handshake_done = True
    per_request = []
    for part in _split_at_ready(stream.data()):
        del seen[:]
        proto.query_frame("SELECT 1")
        response = _protocol.responsecodec.receive(proto, part, None)
        assert response is not None and response.done
        assert response.results[0].rows == [(1, "one")]
        per_request.append(list(seen))
    # the first time, the payloads are parsed by the protocol's own path
    assert per_request[0] == [c.ROW_DESCRIPTION, c.COMMAND_COMPLETE, c.READY]
    assert per_request[1:] == [[], []]


def _split_at_ready(data: bytes):
    reader = py_framing.FrameReader()
    reader.feed(data)
    parts, current = [], []
    while (frame := reader.next_frame()) is not None:
        current.append(py_framing.encode_frame(frame.msg_type, frame.payload, frame.sequence,
                                               frame.attachment_id, frame.txn_id, frame.flags))
        if frame.msg_type == c.READY:
            parts.append(b"".join(current))
            current = []
    return parts
