"""The COPY (14, 15) and array-bind (16) captures (tests/data/captures; helpers in
tests/capture_replay.py): replayed through ClientProtocol's COPY and pipeline frames, and
the client frames rebuilt byte for byte by the copycodec and arraybind encoders.
"""
from __future__ import annotations

import pytest

from tests.capture_replay import (  # noqa: F401  (captures: the fixture)
    captures, OFFERED, ZERO, header, _sql, Feeder,
)
from scratchbird import _client_messages as cm
from scratchbird import _constants as c
from scratchbird import _server_messages as sm
from scratchbird._impl import framing
from scratchbird._protocol import ClientProtocol
from scratchbird.errors import DataError, ProgrammingError, QueryCanceledError


# and the copycodec encoders), so these captures are replayed by the tests below.
COPY_NUMBERS = ["14", "15"]
COPY_OFFERS = {"14": 0x01610216, "15": OFFERED}     # 14 leaves out bit 8 (text COPY)
_TEXT_NAMES = ["id", "name", "qty"]
_SBNR_NAMES = ["id", "name", "flag", "qty", "score"]
_SBNR_TAGS = [2, 1, 3, 4, 6]


def _copy_payloads(number):
    """The recorded COPY_DATA payloads, made by the driver's encoders from the rows the
    capture's notes describe."""
    from scratchbird._impl import copycodec
    from scratchbird.bulk._values import render_copy_text
    if number == "14":
        batches = [[(1, "alpha", 10), (2, None, 20)], [(3, "gamma", 30)], [(4, "delta", 40)]]
        return [copycodec.encode_text_rows(_TEXT_NAMES, rows, 0, 1 << 20, render_copy_text)[0]
                for rows in batches]
    header = copycodec.sbnr_header(_SBNR_TAGS, _SBNR_NAMES)
    changed = [2, 1, 3, 2, 6]       # qty declared int64: the descriptor the server refuses
    packets = [(_SBNR_TAGS, header, [(1, "alpha", True, 10, 0.1), (2, None, False, -20, 1e20)]),
               (_SBNR_TAGS, header, [(3, "gamma", True, 2147483647, None)]),
               (_SBNR_TAGS, header, [(4, "delta", True, 40, 4.5)]),
               (changed, copycodec.sbnr_header(changed, _SBNR_NAMES),
                [(5, "epsilon", False, 50, 5.5)])]
    return [copycodec.encode_sbnr_packet(h, tags, _SBNR_NAMES, rows, 0, 1 << 25,
                                         render_copy_text)[0] for tags, h, rows in packets]


def _copy_replay(cap, chunking):
    """Drive ClientProtocol through the capture's steps; returns (frames, [(step, Response)])."""
    proto = ClientProtocol(user=cap.user, password=cap.password, database="default",
                           layout="p1", features=COPY_OFFERS[cap.number], allow_cleartext=True)
    feeder = Feeder(cap, chunking)
    sent = [proto.startup_frame()]
    while not proto.handshake_done:
        out = proto.advance_handshake()
        if out:
            sent.append(out)
            feeder.sent = len(sent)
        if not proto.handshake_done:
            assert feeder.feed_next(proto)
    payloads = iter(_copy_payloads(cap.number))
    events = []
    for f in cap.c2s[len(sent):]:
        t = f.msg_type
        ended_early = t == c.COPY_DONE and not proto.copy_open
        if t == c.QUERY:
            frame = proto.query_frame(_sql(f.payload))
        elif t == c.COPY_DATA:
            frame = proto.copy_data_frame(next(payloads))
        elif ended_early:
            # the capture client sent COPY_DONE after the early error; the driver would
            # send its PING fence instead (bulk/_copy.py): same frame bytes either way
            frame = framing.encode_frame(c.COPY_DONE, b"", 0, proto.session_id, 0)
        elif t == c.COPY_DONE:
            frame = proto.copy_done_frame()
        elif t == c.COPY_FAIL:
            frame = proto.copy_fail_frame("client aborted on purpose")
        else:
            assert t == c.TERMINATE
            frame = proto.terminate_frame()
        sent.append(frame)
        feeder.sent = len(sent)
        if t == c.TERMINATE:
            continue
        if t == c.COPY_DATA or ended_early:
            while feeder.feed_next(proto):      # whatever the server sent at once
                pass
            if ended_early:
                assert proto.read_fence(b"never") is None and proto.reader.buffered == 0
                events.append(("ASYNC-011 drained", None))
            elif proto.reader.buffered:
                response = proto.read_response()
                assert response is not None and response.done
                events.append(("early", response))
            continue
        while (response := proto.read_response()) is None:
            assert feeder.feed_next(proto), f"server stream ended during {f.name}"
        events.append((f.name, response))
    assert not feeder.chunks and proto.reader.buffered == 0
    return sent, events


@pytest.mark.parametrize("number", COPY_NUMBERS)
@pytest.mark.parametrize("chunking", ["whole", "seed0", "seed1", "bytes"])
def test_copy_replay_matches_capture(captures, number, chunking):
    cap = captures[number]
    frames, events = _copy_replay(cap, chunking)
    copies = [r for name, r in events if name == "QUERY" and r.copy_in is not None]
    window = 1 << 20 if number == "14" else 32 << 20
    assert [r.copy_in for r in copies] == [(0 if number == "14" else 1, window)] * len(copies)
    assert all(r.done for r in copies)           # each COPY's Response ran to its READY
    first = copies[0].results
    assert [col.name for col in first[0].description.columns] == list(
        ("accepted_rows", "inserted_rows", "rejected_rows"))
    # one report row for a text COPY, one per SBNR packet (12.D)
    assert first[0].rows == ([(3, 3, 0)] if number == "14" else [(2, 2, 0), (1, 1, 0)])
    assert (first[0].tag, first[0].rowcount, copies[0].error) == ("COPY 3", 3, None)
    assert copies[0].ready.reason == 2
    selects = [r for name, r in events if name == "QUERY" and r.copy_in is None]
    assert len(selects) == 2 and all(len(r.results[0].rows) == 3 for r in selects)
    errors = [r.error for r in copies[1:]]
    if number == "14":
        assert [(e.sqlstate, e.diag_code, type(e)) for e in errors] == [
            ("57014", "SBSQL.COPY.CLIENT_ABORTED", QueryCanceledError),   # 57014 (errors.py)
            ("22000", "SBSQL.COPY.NO_ROWS", DataError)]
    else:
        [e] = errors
        assert (e.sqlstate, e.diag_code, type(e)) == \
            ("42000", "SBSQL.COPY.DESCRIPTOR_MISMATCH", ProgrammingError)
        assert ("early", copies[1]) in events and ("ASYNC-011 drained", None) in events
    assert all(r.ready.reason == 3 for r in copies[1:])


@pytest.mark.parametrize("number", COPY_NUMBERS)
def test_copy_client_frames_match_capture(captures, number):
    """COPY_DATA (text lines, SBNR packets), COPY_DONE and COPY_FAIL byte for byte."""
    cap = captures[number]
    frames, _ = _copy_replay(cap, "whole")
    assert len(frames) == len(cap.c2s)
    session = next(f for f in cap.s2c if f.msg_type == c.AUTH_OK).payload[:16]
    for n, (ours, rec) in enumerate(zip(frames, cap.c2s)):
        got, want = header(ours), header(rec.data)
        assert (got[0], got[1], got[2], got[5]) == (want[0], want[1], want[2], want[5])
        assert ours[40:] == rec.payload, rec.name
        assert got[3] == 0 and want[3] == n                 # masked: sequence counters
        if n >= 2:
            assert got[4] == session and want[4] == ZERO    # masked: attachment id
    assert {f.msg_type for f in cap.c2s} >= {c.COPY_DATA, c.COPY_DONE}


def test_copy_frames_match_reference_11_22():
    """REFERENCE 11.22: COPY_IN_RESPONSE parses; the SBNR COPY_DATA frame is rebuilt byte
    for byte (masking the header's sequence and txn id, which are the server example's)."""
    from scratchbird._impl import copycodec
    from scratchbird.bulk._values import render_copy_text
    from tests.conftest import REFERENCE
    from tests.sbwp_material import SECTION11_SESSION, load_reference_dumps
    dumps = load_reference_dumps(REFERENCE)
    response, data = dumps["11.22"], dumps["11.22b"]
    assert sm.parse_copy_in_response(response.payload) == (0, 1 << 20)
    header_bytes = copycodec.sbnr_header([2, 1], ["id", "payload"])
    packet, end = copycodec.encode_sbnr_packet(header_bytes, [2, 1], ["id", "payload"],
                                               [(11, "a"), (12, None)], 0, 1 << 25,
                                               render_copy_text)
    assert end == 2 and packet == data.payload
    frame = framing.encode_frame(c.COPY_DATA, packet, 5, SECTION11_SESSION, 0x2b)
    assert frame == data.data
# ---------------------------------------------------------------- d. array bind (capture 16)
# A list of its own (issue 10), beside NUMBERS: the driver builds the array BIND of 5.8.

ARRAY_BIND_CAPTURES = ["16"]
CAPTURE_16_ROWS = [(1, "one", 10), (2, None, 20), (3, "three", 30)]


def _array_bind_payload(rows, twin):
    from scratchbird.prepared._plan import StatementPlan, unify_text_rows
    plan = StatementPlan("INSERT INTO cap_abind_r6 (id, name, qty) VALUES (?, ?, ?)")
    _oids, texts = unify_text_rows([plan.text_values(row) for row in rows])
    return twin.encode_array_bind(texts, plan.param_count)


@pytest.mark.parametrize("number", ARRAY_BIND_CAPTURES)
def test_array_bind_packet_matches_capture(captures, number):
    from scratchbird._pure import arraybind as pure
    from scratchbird._impl import arraybind
    cap = captures[number]
    recorded = [f for f in cap.c2s if f.msg_type == c.BIND][0]
    for twin in (pure, arraybind):
        assert _array_bind_payload(CAPTURE_16_ROWS, twin) == recorded.payload   # byte for byte


@pytest.mark.parametrize("number", ARRAY_BIND_CAPTURES)
def test_replay_16_array_bind_through_the_driver(captures, number):
    """The driver's pipeline frames (ClientProtocol.pipeline_frames) and the recorded
    replies read by read_response: the report row and ``INSERT 3`` at READY, then the
    refused packet's error, whose READY comes only with SYNC (REFERENCE 5.8, 12.D)."""
    cap = captures[number]
    proto = ClientProtocol(user=cap.user, password=cap.password, database="default",
                           layout="p1", features=OFFERED, allow_cleartext=True, raw_text=True)
    frames = list(cap.frames)
    startup_reply = next(i for i, f in enumerate(frames) if f.msg_type == c.READY)
    proto.startup_frame()
    for f in frames[:startup_reply + 1]:
        if f.dir == "s2c":
            proto.feed(f.data)
            proto.advance_handshake()
    assert proto.handshake_done and proto.negotiated_features & c.FEATURE_ARRAY_BIND
    requests = [f for f in cap.c2s if f.msg_type in (c.PARSE, c.BIND, c.EXECUTE, c.SYNC)]
    parse, bind, execute, sync = requests[:4]
    from scratchbird._impl import arraybind
    out = proto.pipeline_frames([(c.PARSE, parse.payload),
                                 (c.BIND, _array_bind_payload(CAPTURE_16_ROWS, arraybind)),
                                 (c.EXECUTE, cm.encode_execute("", 0)), (c.SYNC, b"")])
    sent = [f.data[40:] for f in (parse, bind, execute, sync)]
    reader = framing.FrameReader()
    reader.feed(out)
    assert [bytes(fr.payload) for fr in iter(reader.next_frame, None)] == sent
    replies = iter(f for f in frames[startup_reply + 1:] if f.dir == "s2c")

    def read():
        while (response := proto.read_response()) is None:
            proto.feed(next(replies).data)
        return response

    first = read()
    assert first.error is None and first.ready.reason == c.READY_COMMAND_COMPLETE
    (report,) = first.results
    assert [col.name for col in report.description.columns] == \
        ["accepted_rows", "inserted_rows", "rejected_rows"]
    assert report.rows == [("3", "3", "0")] and (report.tag, report.rowcount) == ("INSERT 3", 3)
    proto.query_frame("SELECT * FROM cap_abind_r6 ORDER BY id")
    select = read()
    assert select.results[0].rows[1] == ("2", "<NULL>", "20")
    bad_bind, bad_sync = [f for f in cap.c2s if f.msg_type in (c.BIND, c.SYNC)][2:4]
    proto.pipeline_frames([(c.BIND, bad_bind.payload), (c.SYNC, b"")])
    refused = read()
    assert refused.results == [] and refused.ready.reason == c.READY_COMMAND_COMPLETE
    assert (refused.error.sqlstate, refused.error.diag_code) == \
        ("08P01", "NATIVE_WIRE.PARAMETER.SLOT_BYTES_MISMATCH")
