"""The recorded conversations with a real ScratchBird server (tests/data/captures).

a. Every server frame parses with the driver's parsers, and every client frame with the
   dev server's parsers where they exist; the results agree with the capture's notes
   (written by the capture tool, independently of this driver).
b. Replay: the server's byte stream, cut into random chunks, drives ClientProtocol
   through the client's recorded steps; each Response must show what the capture shows.
c. The driver's encoders, given the same steps, produce the recorded client frames,
   masking only what captures/README.md says varies (sequence, attachment id).
"""
from __future__ import annotations

import json
import random
import re
import struct
from decimal import Decimal

import pytest

from tests.conftest import CAPTURES
from tests.sbwp_material import (capture_files, load_captures, note_columns, note_command_complete,
                                 note_error, note_header, note_parameters, note_ready, note_values)
from scratchbird import _client_messages as cm
from scratchbird import _constants as c
from scratchbird import _server_messages as sm
from scratchbird._impl import framing, rowcodec
from scratchbird._protocol import ClientProtocol
from scratchbird.errors import (AuthenticationError, IntegrityError, OperationalError,
                                ProgrammingError, TransactionRollbackError, error_from_fields)

ALL_NUMBERS = [f"{n:02d}" for n in range(1, 20)]
# Captures 14-19 (COPY, array bind, savepoints/reset, cancel/subscribe, statement shapes)
# need driver features that arrive one by one; each joins NUMBERS when the driver reads it.
NUMBERS = [f"{n:02d}" for n in range(1, 14)] + ["19"]
# 17 (savepoint frames, RESET_SESSION) and 18 (CANCEL, SUBSCRIBE): replayed through
# ClientProtocol's lifecycle frames (transactions/, lifecycle/).
LIFECYCLE_NUMBERS = ["17", "18"]
OFFERED = 0x01610316                    # the capture client's feature offer
ZERO = bytes(16)
EMPTY_REPLIES = (c.PARSE_COMPLETE, c.BIND_COMPLETE, c.CLOSE_COMPLETE)


@pytest.fixture(scope="module")
def captures():
    return load_captures(CAPTURES)


def test_all_captures_are_present(captures):
    assert [p.name[:2] for p in capture_files(CAPTURES)] == ALL_NUMBERS
    for cap in captures.values():
        for direction in ("c2s", "s2c"):
            # the README's splitting rule gives back exactly the recorded frames
            stream = cap.stream(direction)
            frames, pos = [], 0
            while pos < len(stream):
                end = pos + 40 + int.from_bytes(stream[pos + 8:pos + 12], "little")
                frames.append(stream[pos:end])
                pos = end
            assert frames == [f.data for f in cap.frames if f.dir == direction]


def header(data) -> tuple:
    return tuple(bytes(v) if isinstance(v, (bytes, bytearray, memoryview)) else v
                 for v in framing.decode_header(bytes(data)))


def _sql(payload: bytes) -> str:
    """The SQL text of a recorded QUERY payload (read here, independently of parse_query)."""
    return payload[12:].split(b"\x00", 1)[0].decode("utf-8")


def _lpstrs(payload: bytes, count: int):
    out, pos = [], 0
    for _ in range(count):
        n = int.from_bytes(payload[pos:pos + 4], "little")
        out.append(payload[pos + 4:pos + 4 + n].decode("utf-8"))
        pos += 4 + n
    return out


# ---------------------------------------------------------------- a. server frames

class ServerFrameChecker:
    """Parses one capture's server frames in order, checking each against its note."""

    def __init__(self, cap):
        self.cap = cap
        self.oids = None
        self.session = ZERO
        self.seq = 0
        self.last_ping = None

    def check(self, f, msg_type, seq, attachment, txn_id, payload):
        cap = self.cap
        assert msg_type == f.msg_type and payload == f.payload
        assert seq == self.seq == note_header(f.note)[0], "server sequence is a 0-based counter"
        assert txn_id == note_header(f.note)[1]
        self.seq += 1
        if msg_type == c.AUTH_REQUEST:
            assert (attachment, txn_id) == (ZERO, 0)
            req = sm.parse_auth_request(payload)
            assert (req.method, req.data) == (1, b"")
            return req
        if msg_type == c.AUTH_OK:
            ok = sm.parse_auth_ok(payload)
            assert ok.info == b"" and ok.session_id == attachment != ZERO and txn_id != 0
            self.session = ok.session_id
            return ok
        assert attachment == self.session   # zero only before AUTH_OK (03's ERROR)
        if msg_type == c.SERVER_INFO:
            info = sm.parse_server_info(payload)
            assert info.session_id == self.session and info.supported_features == 0x016FE3D6
            assert (info.product, info.channel, info.dialect) == \
                ("ScratchBird native SBWP P1", "public-alpha", "sbsql")
            return info
        if msg_type == c.PARAMETER_STATUS:
            params = sm.parse_parameter_status(payload)
            assert params == note_parameters(f.note)
            if "current_txn_id" in params:
                assert params["protocol.negotiated_features"] == str(OFFERED)
                assert int(params["current_txn_id"]) == txn_id
                assert int(params["session.snapshot_visible_through_local_transaction_id"]) == txn_id - 1
            return params
        if msg_type == c.READY:
            ready = sm.parse_ready(payload)
            want = note_ready(f.note)
            assert ready.layout == cap.layout
            assert (ready.txn_id, ready.status) == (want["txn"], want["status"]) and ready.txn_id == txn_id
            if cap.layout == "p1":
                assert (ready.reason, ready.features, ready.version) == (want["reason"], OFFERED, 0x0101)
                assert ready.session_id == ready.attachment_id == self.session
            else:
                assert struct.unpack_from("<Q", payload, 12)[0] == want["epoch"] == txn_id
            return ready
        if msg_type == c.ROW_DESCRIPTION:
            rd = sm.parse_row_description(payload, cap.layout)
            cols = note_columns(f.note)
            assert [(col.name, col.type_oid) for col in rd.columns] == [(n, o) for n, o, _ in cols]
            for col, (_, _, ref) in zip(rd.columns, cols):
                assert (col.typeref.family, col.typeref.code) == ref
                assert (col.format, col.nullable, col.metadata_bitmap) == (0, 1, 0x401)
            self.oids = [col.type_oid for col in rd.columns]
            return rd
        if msg_type == c.DATA_ROW:
            row = rowcodec.TextRowDecoder(self.oids, raw_text=True).decode_row(payload)
            assert list(row) == note_values(f.note)
            return row
        if msg_type == c.COMMAND_COMPLETE:
            cc = sm.parse_command_complete(payload)
            assert (cc.tag, cc.rows) == note_command_complete(f.note)
            assert (cc.command_type, cc.last_insert_id) == (1, 0)
            self.oids = None
            return cc
        if msg_type == c.ERROR:
            fields = sm.parse_error(payload)
            assert fields == note_error(f.note) and list(fields) == ["S", "C", "M", "D"]
            return fields
        if msg_type in EMPTY_REPLIES:
            assert payload == b""
            return None
        if msg_type == c.PARAMETER_DESCRIPTION:
            assert sm.parse_parameter_description(payload, cap.layout) == [25]
            return [25]
        if msg_type == c.PONG:
            assert payload == self.last_ping
            return payload
        raise AssertionError(f"capture {cap.number}: no check for {f.name}")


@pytest.mark.parametrize("number", NUMBERS)
def test_server_frames_parse(captures, number):
    cap = captures[number]
    checker = ServerFrameChecker(cap)
    reader = framing.FrameReader()
    reader.feed(cap.stream("s2c"))
    for f in cap.frames:
        if f.dir == "c2s":
            if f.msg_type == c.PING:
                checker.last_ping = f.payload
            continue
        msg_type, flags, length, seq, attachment, txn_id = header(f.data)
        assert (flags, length) == (0, len(f.payload))
        got = reader.next_frame()
        assert (got.msg_type, got.sequence, got.txn_id, bytes(got.payload)) == \
            (msg_type, seq, txn_id, f.payload)
        checker.check(f, msg_type, seq, attachment, txn_id, f.payload)
    assert reader.next_frame() is None and reader.buffered == 0
    assert checker.seq == len(cap.s2c)


@pytest.mark.parametrize("number", NUMBERS)
def test_client_frames_parse(captures, number):
    cap = captures[number]
    for seq, f in enumerate(cap.c2s):
        msg_type, flags, length, sequence, attachment, txn_id = header(f.data)
        # the capture client: its own counter from 0, zero attachment, txn_id 0
        assert (msg_type, flags, length) == (f.msg_type, 0, len(f.payload))
        assert (sequence, attachment, txn_id) == (seq, ZERO, 0)
        p = f.payload
        if msg_type == c.STARTUP:
            s = cm.parse_startup(p)
            assert s.layout == cap.layout and s.params == {"database": "default", "user": cap.user}
            if cap.layout == "p1":
                assert (s.min_version, s.max_version, s.connect_flags) == (0x0101, 0x0101, 0)
                assert (s.features, s.required, s.optional, s.extensions) == (OFFERED, 0, 0, [])
            else:
                assert len(p) == 42 and s.features == 0
        elif msg_type == c.AUTH_RESPONSE:
            password = "not-the-password" if number == "03" else cap.password
            assert p == password.encode() and f.note.endswith(f'"{password}"')
        elif msg_type == c.QUERY:
            q = cm.parse_query(p)
            assert (q.flags, q.max_rows, q.timeout_ms, q.sql) == (0, 0, 0, _sql(p))
            assert q.sql == json.loads(re.search(r'sql=("(?:[^"\\]|\\.)*")$', f.note).group(1))
        elif msg_type == c.SET_OPTION:
            assert cm.parse_set_option(p) == ("copy_window_bytes", "65536")
        elif msg_type in (c.TXN_COMMIT, c.TXN_ROLLBACK):
            assert p == bytes(4)
        elif msg_type in (c.TERMINATE, c.SYNC):
            assert p == b""
        else:
            # PARSE, BIND, DESCRIBE, EXECUTE, CLOSE, RESET_SESSION, PING: the dev server has
            # no parser for them in _client_messages; part c compares them with our encoders.
            assert msg_type in (c.PARSE, c.BIND, c.DESCRIBE, c.EXECUTE, c.CLOSE,
                                c.RESET_SESSION, c.PING)


# ---------------------------------------------------------------- b. replay

class Feeder:
    """Hands the server's byte stream to the protocol one chunk at a time.

    Causal by default: the bytes the server sent after the client's n-th frame are
    held back until the driver has produced n frames, as on a real connection; within
    that, ``seedN`` cuts random chunks, ``bytes`` one byte each and ``whole`` one chunk
    per reply. ``eager`` hands over the whole stream at once (everything buffered
    before the first request), which a connection could never do, to check that the
    protocol leaves the frames of later replies in its reader.
    """

    def __init__(self, cap, chunking: str):
        segments = []   # [c2s frames that precede it, bytes]
        sent = 0
        for f in cap.frames:
            if f.dir == "c2s":
                sent += 1
            elif segments and segments[-1][0] == sent:
                segments[-1][1] += f.data
            else:
                segments.append([sent, f.data])
        if chunking == "eager":
            segments = [[0, b"".join(data for _, data in segments)]]
        rng = random.Random(int(chunking[4:])) if chunking.startswith("seed") else None
        top = rng.choice((7, 64, 1500, 9000)) if rng else 0
        self.chunks = []    # (c2s frames needed, chunk), in stream order
        for needed, data in segments:
            pos = 0
            while pos < len(data):
                size = {"bytes": 1}.get(chunking, rng.randint(1, top) if rng else len(data))
                self.chunks.append((needed, data[pos:pos + size]))
                pos += size
        self.chunks.reverse()
        self.sent = 1   # the STARTUP

    def feed_next(self, proto, release_all=False) -> bool:
        if not self.chunks or (self.chunks[-1][0] > self.sent and not release_all):
            return False
        proto.feed(self.chunks.pop()[1])
        return True


# client step -> the ClientProtocol method that makes its frame
def _step_frame(proto, f):
    p = f.payload
    if f.msg_type == c.QUERY:
        return proto.query_frame(_sql(p))
    if f.msg_type == c.TXN_COMMIT:
        return proto.commit_frame()
    if f.msg_type == c.TXN_ROLLBACK:
        return proto.rollback_frame()
    if f.msg_type == c.PING:
        return proto.ping_frame(p)
    if f.msg_type == c.SET_OPTION:
        return proto.set_option_frame(*_lpstrs(p, 2))
    if not supported_step(f):
        return None   # no ClientProtocol method for this step (yet)
    if f.msg_type in (c.TXN_SAVEPOINT, c.TXN_RELEASE, c.TXN_ROLLBACK_TO):
        return proto.savepoint_frame(f.msg_type, _lpstrs(p, 1)[0])
    if f.msg_type == c.RESET_SESSION:
        return proto.reset_session_frame()
    if f.msg_type == c.CANCEL:     # between requests: a request of its own, ending at READY(6)
        return proto.cancel_request_frame(p[:16], p[16:32])
    return proto.subscribe_frame(_lpstrs(p, 1)[0], unsubscribe=f.msg_type == c.UNSUBSCRIBE)


class Replay:
    """One replay of a capture: the frames the driver made and the Responses it read."""

    def __init__(self, cap, chunking="whole", **policy):
        password = "not-the-password" if cap.number == "03" else cap.password
        self.proto = ClientProtocol(user=cap.user, password=password, database="default",
                                    layout=cap.layout, features=OFFERED, allow_cleartext=True,
                                    **policy)
        self.feeder = Feeder(cap, chunking)
        self.pending = []        # recorded client steps the protocol has no method for
        self.sent = [self.proto.startup_frame()]   # driver frames, one per recorded c2s frame
        self.responses = []      # (recorded request frame, Response)
        self.leftover = []       # server frames read by the parsers only
        self.error = None
        proto = self.proto
        try:
            while not proto.handshake_done:
                out = proto.advance_handshake()
                if out:
                    self.sent.append(out)
                    self.feeder.sent = len(self.sent)
                if not proto.handshake_done:
                    assert self.feeder.feed_next(proto), "server stream ended in the handshake"
        except OperationalError as exc:
            self.error = exc
            return
        steps = cap.c2s[len(self.sent):]
        for n, f in enumerate(steps):
            if f.msg_type == c.TERMINATE:
                self.sent.append(proto.terminate_frame())
                self.feeder.sent = len(self.sent)
                continue
            frame = _step_frame(proto, f)
            if frame is None:
                # Captures 10 (PARSE/BIND/DESCRIBE/EXECUTE/CLOSE/SYNC), 11 (RESET_SESSION)
                # and the end of 13 (PARSE/BIND/EXECUTE/SYNC): ClientProtocol has no method
                # for these steps yet, so from here on the server frames go through the
                # parsers only, and part c encodes the client frames with _client_messages.
                while self.feeder.feed_next(proto, release_all=True):
                    pass
                while (got := proto.reader.next_frame()) is not None:
                    self.leftover.append(got)
                self.pending = steps[n:]
                return
            self.sent.append(frame)
            self.feeder.sent = len(self.sent)
            while (response := proto.read_response()) is None:
                assert self.feeder.feed_next(proto), f"server stream ended during {f.name}"
            self.responses.append((f, response))
        assert not self.feeder.chunks and proto.reader.buffered == 0


PROTOCOL_STEPS = (c.QUERY, c.TXN_COMMIT, c.TXN_ROLLBACK, c.PING, c.SET_OPTION,
                  c.TXN_SAVEPOINT, c.TXN_RELEASE, c.TXN_ROLLBACK_TO, c.CANCEL, c.SUBSCRIBE,
                  c.UNSUBSCRIBE, c.RESET_SESSION)


def supported_step(f) -> bool:
    """A recorded client step ClientProtocol can make. RESET_SESSION only in the form the
    driver sends (18 bytes, byte 17 = 1, REFERENCE 7.5); the refused forms stay pending."""
    if f.msg_type == c.RESET_SESSION:
        return f.payload == cm.encode_reset_session(rollback=True)
    return f.msg_type in PROTOCOL_STEPS


def expected_responses(cap):
    """What each protocol-driven request got, from the capture's notes (not from the
    driver's parsers), up to the first step ClientProtocol has no method for."""
    out, current = [], None
    first_ready = next(f.index for f in cap.frames if f.msg_type == c.READY and f.dir == "s2c")
    for f in cap.frames[first_ready + 1:]:
        if f.dir == "c2s":
            if f.msg_type != c.TERMINATE and not supported_step(f):
                break
            if current is None and f.msg_type != c.TERMINATE:
                current = {"req": f, "results": [], "error": None, "ready": None,
                           "params": {}, "pong": None}
            continue
        if current is None:
            continue
        results = current["results"]
        if f.msg_type == c.ROW_DESCRIPTION:
            results.append({"cols": [(n, o) for n, o, _ in note_columns(f.note)], "rows": [],
                            "tag": None, "rowcount": -1})
        elif f.msg_type == c.DATA_ROW:
            results[-1]["rows"].append(tuple(note_values(f.note)))
        elif f.msg_type == c.COMMAND_COMPLETE:
            if not results or results[-1]["tag"] is not None:
                results.append({"cols": None, "rows": [], "tag": None, "rowcount": -1})
            results[-1]["tag"], results[-1]["rowcount"] = note_command_complete(f.note)
        elif f.msg_type == c.ERROR:
            current["error"] = note_error(f.note)
        elif f.msg_type == c.PARAMETER_STATUS:
            current["params"].update(note_parameters(f.note))
        elif f.msg_type in (c.READY, c.PONG):
            current["ready"] = note_ready(f.note) if f.msg_type == c.READY else None
            current["pong"] = f.payload if f.msg_type == c.PONG else None
            out.append(current)
            current = None
    return out


def assert_response(response, want):
    assert len(response.results) == len(want["results"])
    for got, exp in zip(response.results, want["results"]):
        if exp["cols"] is None:
            assert got.description is None
        else:
            assert [(col.name, col.type_oid) for col in got.description.columns] == exp["cols"]
        assert got.rows == exp["rows"]
        assert (got.tag, got.rowcount, got.complete) == (exp["tag"], exp["rowcount"], True)
    if want["error"] is None:
        assert response.error is None
    else:
        err = response.error
        assert err.fields == want["error"] and err.sqlstate == want["error"]["C"]
        assert err.severity == "ERROR"
    assert response.parameters == want["params"] and response.pong == want["pong"]
    if want["ready"] is None:
        assert response.ready is None
    else:
        assert response.ready.txn_id == want["ready"]["txn"]
        assert response.ready.reason == want["ready"].get("reason")


CHUNKINGS = ["whole", "eager", "seed0", "seed1", "seed2"]
# 03 is not replayed eagerly: its ERROR answers the AUTH_RESPONSE, so no server could
# have sent it together with the AUTH_REQUEST.
REPLAYS = [(n, ch) for n in NUMBERS for ch in CHUNKINGS if (n, ch) != ("03", "eager")] + \
    [(n, "bytes") for n in ("01", "02", "03", "04", "09", "11")] + \
    [(n, ch) for n in LIFECYCLE_NUMBERS for ch in CHUNKINGS + ["bytes"]]


@pytest.mark.parametrize("number,chunking", REPLAYS, ids=[f"{n}-{ch}" for n, ch in REPLAYS])
def test_replay_matches_capture(captures, number, chunking):
    """raw_text=True: every value exactly as the capture shows it, in every step."""
    cap = captures[number]
    replay = Replay(cap, chunking, raw_text=True)
    if number == "03":
        assert isinstance(replay.error, AuthenticationError)
        assert isinstance(replay.error, OperationalError)
        assert (replay.error.sqlstate, replay.error.diag_code) == \
            ("28000", "SECURITY.AUTHENTICATION.FAILED")
        assert replay.error.message == "Authentication failed."
        assert replay.proto.broken and not replay.proto.handshake_done
        assert len(replay.sent) == len(cap.c2s) == 2
        return
    proto = replay.proto
    assert replay.error is None and proto.handshake_done and proto.auth_method == 1
    ready = next(f for f in cap.s2c if f.msg_type == c.READY)
    assert proto.session_id == next(f for f in cap.s2c if f.msg_type == c.AUTH_OK).payload[:16]
    if cap.layout == "p1":
        assert proto.negotiated_features == OFFERED and proto.server_info.dialect == "sbsql"
        startup_params = next(f for f in cap.s2c if f.msg_type == c.PARAMETER_STATUS)
        assert proto.parameters.items() >= note_parameters(startup_params.note).items()
        assert len(note_parameters(startup_params.note)) == 18
    else:
        assert (proto.negotiated_features, proto.server_info, proto.parameters) == (0, None, {})
    wanted = expected_responses(cap)
    assert len(replay.responses) == len(wanted)
    for (req, response), want in zip(replay.responses, wanted):
        assert req is want["req"]
        assert_response(response, want)
    readies = [r.ready for _, r in replay.responses if r.ready is not None]
    assert proto.txn_id == (readies[-1].txn_id if readies else note_ready(ready.note)["txn"])
    # a pending (unsupported) step leaves the rest of the server stream to the parsers
    assert bool(replay.pending) == bool(replay.leftover) == (number in ("10", "11", "13", "17"))


# ---------------------------------------------------------------- b. decoded values

def _rows(replay, step):
    return [r.rows for r in replay.responses[step][1].results]


def test_replay_04_select_literals(captures):
    rows = {}
    for policy, kwargs in (("default", {}), ("raw", {"raw_text": True}),
                           ("no_markers", {"null_markers": ()})):
        replay = Replay(captures["04"], "seed3", **kwargs)
        rows[policy] = [_rows(replay, i) for i in range(3)]
        assert [r.tag for _, resp in replay.responses for r in resp.results] == ["SELECT 1"] * 3
    assert rows["default"] == [[[(1,)]], [[(42, "hello", True, Decimal("3.25"))]], [[(None,)]]]
    assert rows["raw"] == [[[("1",)]], [[("42", "hello", "true", "3.25")]], [[("NULL",)]]]
    assert rows["no_markers"] == [[[(1,)]], [[(42, "hello", True, Decimal("3.25"))]], [[("NULL",)]]]


ROWS_05 = [
    (1, 9007199254740993, "plain ascii", 'it\'s a "quoted" back\\slash word', True,
     Decimal("12345.678"), Decimal("3.25"), "2024-02-29", "2024-02-29 13:14:15",
     "0191e7c2-8d3b-7a10-9c4e-1234567890ab"),
    (2, -42, "ünïcødé € 日本 😀", None, False, Decimal("-0.5"), Decimal("6.02e23"), "1999-12-31",
     "2000-01-01 00:00:00.5", "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"),
    (3,) + (None,) * 9,
]


def test_replay_05_typed_table(captures):
    replay = Replay(captures["05"], "seed4")
    tags = [r.tag for _, resp in replay.responses for r in resp.results]
    assert tags == ["SELECT 1", "INSERT 1", "INSERT 1", "INSERT 1", "SELECT 3", "SELECT 1", "COMMIT"]
    create, drop = replay.responses[0][1].results[0], replay.responses[5][1].results[0]
    for catalog in (create, drop):
        [row] = catalog.rows
        assert len(row) == 25 and catalog.rowcount == 1
        kinds = [col.type_oid for col in catalog.description.columns]
        assert [type(v) for v, k in zip(row, kinds) if k == 16] == [bool] * 6
    assert create.rows[0][1:2] == ("table",) and drop.rows[0][3] == "dropped"
    for step in (1, 2, 3):
        [result] = replay.responses[step][1].results
        assert [col.name for col in result.description.columns] == \
            ["accepted_rows", "inserted_rows", "rejected_rows"]
        assert (result.rows, result.rowcount) == ([(1, 1, 0)], 1)
    [select] = replay.responses[4][1].results
    assert [col.name for col in select.description.columns] == \
        ["i", "b", "v", "t", "f", "n", "d", "dt", "ts", "u"]
    assert [col.type_oid for col in select.description.columns] == \
        [20, 20, 25, 25, 16, 1700, 1700, 25, 25, 25]
    assert select.rows == ROWS_05 and select.rowcount == 3
    assert replay.proto.txn_id == 604

    raw = Replay(captures["05"], "seed5", raw_text=True).responses[4][1].results[0].rows
    assert raw[1][3] == "" and raw[2] == ("3", "<NULL>", "", "<NULL>", "<NULL>", "<NULL>",
                                          "<NULL>", "<NULL>", "<NULL>", "<NULL>")
    assert raw[0][4:7] == ("true", "12345.678", "3.25")
    kept = Replay(captures["05"], "seed6", null_markers=()).responses[4][1].results[0].rows
    assert kept[1][3] == "" and kept[0] == ROWS_05[0] and kept[1][5] == Decimal("-0.5")
    # '<NULL>' is not an int, bool or decimal: without markers it stays text
    assert kept[2] == (3, "<NULL>", "", "<NULL>", "<NULL>", "<NULL>", "<NULL>", "<NULL>",
                       "<NULL>", "<NULL>")


def test_replay_06_zero_rows(captures):
    replay = Replay(captures["06"], "seed7")
    for _, response in replay.responses:
        [result] = response.results
        assert (result.description, result.rows, result.rowcount, result.tag) == \
            (None, [], 0, "SELECT 0")


def test_replay_07_transactions(captures):
    replay = Replay(captures["07"], "seed8")
    steps = [(req.msg_type, [r.tag for r in resp.results], resp.ready.txn_id)
             for req, resp in replay.responses]
    assert steps == [
        (c.QUERY, ["INSERT 1"], 616), (c.TXN_ROLLBACK, ["ROLLBACK"], 617),
        (c.QUERY, ["INSERT 1"], 617), (c.TXN_COMMIT, ["COMMIT"], 618),
        (c.QUERY, ["INSERT 1"], 618), (c.QUERY, ["COMMIT"], 619),
        (c.QUERY, ["INSERT 1"], 619), (c.QUERY, ["ROLLBACK"], 620),
        (c.QUERY, ["SELECT 2"], 620)]
    assert replay.responses[-1][1].results[0].rows == \
        [(2, "kept by TXN_COMMIT"), (3, "kept by SQL COMMIT")]
    assert replay.proto.txn_id == 620


def test_replay_08_errors(captures):
    replay = Replay(captures["08"], "seed9")
    expected = [(ProgrammingError, "SBSQL.PARSER.STATEMENT_FAMILY_UNKNOWN"),
                (ProgrammingError, "SBSQL.NAME_RESOLUTION.NOT_FOUND_OR_NOT_VISIBLE"),
                (IntegrityError, "SB-BULK-CONSTRAINT-UNIQUE-PERSISTED-CONFLICT")]
    for (_, response), (cls, code) in zip(replay.responses, expected):
        err = response.error
        assert type(err) is cls and (err.sqlstate, err.diag_code) == ("42000", code)
        assert err.message == err.fields["M"] and response.results == []
        assert (response.ready.reason, response.ready.txn_id) == (c.READY_COMMAND_COMPLETE, 625)
    last = replay.responses[3][1]
    assert last.error is None and last.results[0].rows == [(1, "one")]


def test_replay_09_multi_statement(captures):
    replay = Replay(captures["09"], "seed10")
    [(_, response)] = replay.responses
    assert [(r.rows, r.rowcount, r.tag) for r in response.results] == \
        [([(1,)], 1, "SELECT 1"), ([(2,)], 1, "SELECT 1")]
    assert [[(col.name, col.type_oid) for col in r.description.columns]
            for r in response.results] == [[("column1", 20)]] * 2


@pytest.mark.parametrize("chunking", ["seed11", "seed12"])
def test_replay_12_many_rows(captures, chunking):
    replay = Replay(captures["12"], chunking)
    [(_, response)] = replay.responses
    [result] = response.results
    assert result.rows == [(i, f"row-{i:04d}") for i in range(1, 2001)]
    assert (result.rowcount, result.tag) == (2000, "SELECT 2000")


def test_replay_13_null_forms(captures):
    out = {}
    for policy, kwargs in (("default", {}), ("raw", {"raw_text": True}),
                           ("no_markers", {"null_markers": ()})):
        replay = Replay(captures["13"], "seed13", **kwargs)
        out[policy] = [resp.results[0].rows for _, resp in replay.responses[5:]]
        assert len(replay.responses) == 10
    assert out["default"] == [[(1, None), (2, None), (3, None), (4, None), (5, None)],
                              [(1, None), (4, None), (5, None)],
                              [(None, None, None, None)], [(None,)], [(None, None, None, None)]]
    assert out["raw"] == [[("1", "<NULL>"), ("2", ""), ("3", "NULL"), ("4", "<NULL>"), ("5", None)],
                          [("1", "<NULL>"), ("4", "<NULL>"), ("5", None)],
                          [("NULL", "", "NULL", "<NULL>")], [("",)], [("", "", "NULL", "<NULL>")]]
    assert out["no_markers"] == [[(1, "<NULL>"), (2, ""), (3, "NULL"), (4, "<NULL>"), (5, None)],
                                 [(1, "<NULL>"), (4, "<NULL>"), (5, None)],
                                 [("NULL", "", "NULL", "<NULL>")], [("",)],
                                 [("", "", "NULL", "<NULL>")]]


# ---------------------------------------------------------------- b. parsers-only tails

def _leftover(replay, cap):
    """Parse the frames the protocol did not read, with the same checks as part a."""
    checker = ServerFrameChecker(cap)
    recorded = cap.s2c[-len(replay.leftover):]
    checker.seq = recorded[0].sequence
    checker.session = replay.proto.session_id
    return [(f.msg_type, checker.check(rec, f.msg_type, f.sequence, bytes(f.attachment_id),
                                       f.txn_id, bytes(f.payload)))
            for f, rec in zip(replay.leftover, recorded)]


def test_replay_10_extended_parsers_only(captures):
    cap = captures["10"]
    replay = Replay(cap, "seed14")
    assert replay.responses == [] and [f.msg_type for f in replay.pending][:5] == \
        [c.PARSE, c.DESCRIBE, c.BIND, c.EXECUTE, c.SYNC]
    parsed = _leftover(replay, cap)
    assert [t for t, _ in parsed] == [
        c.PARSE_COMPLETE, c.PARAMETER_DESCRIPTION, c.BIND_COMPLETE, c.ROW_DESCRIPTION, c.DATA_ROW,
        c.COMMAND_COMPLETE, c.READY, c.BIND_COMPLETE, c.ROW_DESCRIPTION, c.DATA_ROW,
        c.COMMAND_COMPLETE, c.READY, c.CLOSE_COMPLETE, c.READY]
    by_type = {}
    for t, value in parsed:
        by_type.setdefault(t, []).append(value)
    assert by_type[c.PARAMETER_DESCRIPTION] == [[25]]
    assert [[(col.name, col.type_oid) for col in rd.columns] for rd in by_type[c.ROW_DESCRIPTION]] \
        == [[("id", 20), ("name", 25)]] * 2
    decoder = rowcodec.TextRowDecoder([20, 25])
    rows = [decoder.decode_row(f.payload) for f in replay.leftover if f.msg_type == c.DATA_ROW]
    assert rows == [(1, "alpha"), (2, "beta")]
    assert [r.reason for r in by_type[c.READY]] == [c.READY_COMMAND_COMPLETE] * 3


def test_replay_11_ping_options_and_reset(captures):
    cap = captures["11"]
    replay = Replay(cap, "seed15")
    (ping, pong), (opt, status) = replay.responses
    assert ping.msg_type == c.PING and pong.pong == bytes(range(1, 9)) and pong.ready is None
    assert opt.msg_type == c.SET_OPTION and status.ready.reason == c.READY_STATE_CHANGE
    assert status.parameters == {"session.option": "updated", "copy_window_bytes": "65536"}
    # RESET_SESSION has no ClientProtocol method yet: its replies go through the parsers.
    assert [f.msg_type for f in replay.pending] == [c.RESET_SESSION, c.RESET_SESSION, c.TERMINATE]
    parsed = _leftover(replay, cap)
    assert [t for t, _ in parsed] == [c.ERROR, c.READY, c.PARAMETER_STATUS, c.READY]
    err = error_from_fields(parsed[0][1])
    assert isinstance(err, TransactionRollbackError) and err.sqlstate == "25001"
    assert err.diag_code == "NATIVE_WIRE.RESET_REFUSED_OPEN_TRANSACTION"   # M holds the code here
    assert err.message.startswith("reset_session requires rollback_open_transaction")
    assert (parsed[1][1].reason, parsed[1][1].txn_id) == (c.READY_ERROR_RECOVERED, 634)
    assert parsed[2][1] == {"session.reset": "complete", "protocol.selected_version": "1.1"}
    assert (parsed[3][1].reason, parsed[3][1].txn_id) == (c.READY_RESET_COMPLETE, 635)


def test_replay_13_bind_null_parsers_only(captures):
    cap = captures["13"]
    replay = Replay(cap, "seed16")
    assert [f.msg_type for f in replay.pending] == [c.PARSE, c.BIND, c.EXECUTE, c.SYNC, c.TERMINATE]
    parsed = _leftover(replay, cap)
    assert [t for t, _ in parsed] == [c.PARSE_COMPLETE, c.BIND_COMPLETE, c.ROW_DESCRIPTION,
                                      c.DATA_ROW, c.COMMAND_COMPLETE, c.READY]
    assert parsed[3][1] == ("NULL",)   # raw: a NULL bound by the client comes back as 'NULL'
    payload = next(f.payload for f in replay.leftover if f.msg_type == c.DATA_ROW)
    assert rowcodec.TextRowDecoder([25]).decode_row(payload) == (None,)


# ---------------------------------------------------------------- c. client frames

def _parse_args(payload):
    name, sql = _lpstrs(payload, 2)
    return name, sql


# Steps with no ClientProtocol method: the _client_messages encoder calls that make them.
UNSUPPORTED_STEPS = {
    "10": [(c.PARSE, lambda p: cm.encode_parse("s1", _parse_args(p)[1], [25])),
           (c.DESCRIBE, lambda p: cm.encode_describe("S", "s1")),
           (c.BIND, lambda p: cm.encode_bind("", "s1", [b"alpha"], formats=(0,))),
           (c.EXECUTE, lambda p: cm.encode_execute("", 0)),
           (c.SYNC, lambda p: cm.encode_sync()),
           (c.BIND, lambda p: cm.encode_bind("", "s1", [b"beta"], formats=(0,))),
           (c.EXECUTE, lambda p: cm.encode_execute("", 0)),
           (c.SYNC, lambda p: cm.encode_sync()),
           (c.CLOSE, lambda p: cm.encode_close("S", "s1")),
           (c.SYNC, lambda p: cm.encode_sync()),
           (c.TERMINATE, lambda p: cm.encode_terminate())],
    "11": [(c.RESET_SESSION, lambda p: cm.encode_reset_session(rollback=False)),
           (c.RESET_SESSION, lambda p: cm.encode_reset_session(rollback=True)),
           (c.TERMINATE, lambda p: cm.encode_terminate())],
    "13": [(c.PARSE, lambda p: cm.encode_parse("n1", _parse_args(p)[1], [])),
           (c.BIND, lambda p: cm.encode_bind("", "n1", [None], formats=(0,))),
           (c.EXECUTE, lambda p: cm.encode_execute("", 0)),
           (c.SYNC, lambda p: cm.encode_sync()),
           (c.TERMINATE, lambda p: cm.encode_terminate())],
    # the capture tool's refused form (no byte 17): the driver never sends it
    "17": [(c.RESET_SESSION, lambda p: b""),
           (c.TERMINATE, lambda p: cm.encode_terminate())],
}


@pytest.mark.parametrize("number", NUMBERS + LIFECYCLE_NUMBERS)
def test_client_frames_match_capture(captures, number):
    cap = captures[number]
    replay = Replay(cap, "seed17")
    frames = list(replay.sent)
    session = replay.proto.session_id
    for (msg_type, encode), rec in zip(UNSUPPORTED_STEPS.get(number, []), replay.pending):
        assert rec.msg_type == msg_type
        frames.append(framing.encode_frame(msg_type, encode(rec.payload), 0, session, 0))
    assert len(frames) == len(cap.c2s)
    authenticated = False
    for n, (ours, rec) in enumerate(zip(frames, cap.c2s)):
        got, want = header(ours), header(rec.data)
        assert ours[:6] == rec.data[:6] == b"SBWP\x01\x01"
        assert got[0] == want[0] and got[1] == want[1] == 0          # type, flags
        assert got[2] == want[2] == len(ours) - 40                     # length
        assert got[5] == want[5] == 0                                  # txn_id
        assert ours[40:] == rec.payload, rec.name                      # payload, byte for byte
        # masked: the capture tool's counter vs the driver's 0; zero vs the session UUID
        assert got[3] == 0 and want[3] == n
        assert got[4] == (session if authenticated else ZERO) and want[4] == ZERO
        if rec.msg_type == c.AUTH_RESPONSE:
            authenticated = number != "03"
    assert frames[0] == cap.c2s[0].data                                # STARTUP: every byte


# ---------------------------------------------------------------- statement shapes through a Cursor

class RecordedConnection:
    """What a Cursor needs of a Connection, answered from a replayed capture: each
    ``_execute_sql`` must send the recorded SQL, and gets the Response the real server's
    frames gave ClientProtocol (no transport, no dev server)."""

    def __init__(self, replay, report_rows=False):
        from scratchbird._dsn import make_params
        from scratchbird._shapes import DescriptionMemory
        from scratchbird.adapters import AdaptersMap, adapters
        self.params = make_params(report_rows=report_rows)
        self.adapters = AdaptersMap(adapters)
        self._descriptions = DescriptionMemory()
        self.closed = False
        self._answers = list(replay.responses)

    def _execute_sql(self, sql, row_limit=None, *, raw_text=None, adapters=None, **_request):
        request, response = self._answers.pop(0)
        assert sql == _sql(request.payload)
        return response


SHAPES_19 = [   # (description names, rowcount, statusmessage, server_report keys / values)
    (None, -1, "SELECT 1", "catalog"),
    (None, 1, "INSERT 1", {"accepted_rows": 1, "inserted_rows": 1, "rejected_rows": 0}),
    (None, 2, "INSERT 2", {"accepted_rows": 2, "inserted_rows": 2, "rejected_rows": 0}),
    (None, 1, "INSERT", None),
    (None, 1, "UPDATE", None),
    (None, 1, "DELETE", None),
    ("empty", 0, "SELECT 0", None),
    (["id", "name", "qty"], 3, "SELECT 3", None),
    (None, -1, "SELECT 1", "catalog"),
]


def test_replay_19_statement_shapes_through_a_cursor(captures):
    """REFERENCE 12.D: what a PEP 249 user sees for each of the real server's shapes."""
    from scratchbird._reports import CREATE_COLUMNS, DROP_COLUMNS
    from scratchbird.cursor import Cursor
    cap = captures["19"]
    conn = RecordedConnection(Replay(cap, "seed13"))
    cur = Cursor(conn)
    queries = [_sql(f.payload) for f in cap.c2s if f.msg_type == c.QUERY]
    assert len(queries) == len(SHAPES_19)
    for sql, (names, rowcount, tag, report) in zip(queries, SHAPES_19):
        cur.execute(sql)
        assert (cur.rowcount, cur.statusmessage) == (rowcount, tag), sql
        if names is None:           # no result set: description None, fetch raises
            assert cur.description is None
            with pytest.raises(ProgrammingError, match="no results to fetch"):
                cur.fetchall()
        elif names == "empty":      # a SELECT that matched nothing: an empty result set
            assert cur.description is None   # no RD, and no earlier identical statement
            assert cur.fetchone() is None and cur.fetchall() == [] and list(cur) == []
        else:
            assert [d[0] for d in cur.description] == names
            assert cur.fetchall() == [(1, "uno", 10), (3, "three", 30), (4, "four", 40)]
        if report == "catalog":
            columns = CREATE_COLUMNS if sql.startswith("CREATE") else DROP_COLUMNS
            assert list(cur.server_report) == list(columns)
            assert cur.server_report["state"] == ("active" if sql.startswith("CREATE") else "dropped")
        else:
            assert cur.server_report == report
    # report_rows=True: today's pass-through, the report rows are results again
    raw = Cursor(RecordedConnection(Replay(cap, "seed14"), report_rows=True))
    raw.execute(queries[0])
    assert len(raw.description) == 25 and raw.rowcount == 1 and len(raw.fetchall()) == 1
    raw.execute(queries[1])
    assert [d[0] for d in raw.description] == ["accepted_rows", "inserted_rows", "rejected_rows"]
    assert raw.fetchall() == [(1, 1, 0)] and raw.server_report is None


def test_replay_05_reports_and_09_multi_statement_through_a_cursor(captures):
    from scratchbird.cursor import Cursor
    cur = Cursor(RecordedConnection(Replay(captures["05"], "seed15")))
    seen = []
    for f in captures["05"].c2s:
        if f.msg_type == c.QUERY:
            cur.execute(_sql(f.payload))
            seen.append((cur.description is not None, cur.rowcount))
    # CREATE, 3 INSERTs (status rows), SELECT, DROP, COMMIT
    assert seen == [(False, -1), (False, 1), (False, 1), (False, 1), (True, 3), (False, -1),
                    (False, -1)]
    cur = Cursor(RecordedConnection(Replay(captures["09"], "seed16")))
    cur.execute(_sql(next(f for f in captures["09"].c2s if f.msg_type == c.QUERY).payload))
    assert cur.fetchall() == [(1,)] and cur.nextset() and cur.fetchall() == [(2,)]
    assert cur.nextset() is None
# ---------------------------------------------------------------- d. lifecycle (17, 18)

def _steps(replay):
    return [(req.msg_type, [(r.tag, r.rowcount, len(r.rows)) for r in resp.results],
             resp.error.sqlstate if resp.error else None, resp.ready.reason if resp.ready else None)
            for req, resp in replay.responses]


@pytest.mark.parametrize("chunking", ["whole", "seed4", "bytes"])
def test_replay_17_savepoints_and_reset(captures, chunking):
    replay = Replay(captures["17"], chunking)
    ok, failed = c.READY_COMMAND_COMPLETE, c.READY_ERROR_RECOVERED
    assert _steps(replay) == [
        (c.QUERY, [("INSERT 1", 1, 1)], None, ok),
        (c.TXN_SAVEPOINT, [("SAVEPOINT", 0, 0)], None, ok),
        (c.QUERY, [("INSERT 1", 1, 1)], None, ok),
        (c.TXN_ROLLBACK_TO, [("ROLLBACK", 0, 0)], None, ok),
        (c.QUERY, [("SELECT 2", 2, 2)], None, ok),     # ROLLBACK TO undid nothing (12.A.8)
        (c.TXN_SAVEPOINT, [("SAVEPOINT", 0, 0)], None, ok),
        (c.QUERY, [("INSERT 1", 1, 1)], None, ok),
        (c.TXN_RELEASE, [("RELEASE", 0, 0)], None, ok),
        (c.TXN_SAVEPOINT, [], "08P01", failed),        # "bad name": not an identifier
        (c.TXN_ROLLBACK_TO, [], "42000", ok),          # unknown savepoint: READY(2)
        (c.QUERY, [("SELECT 3", 3, 3)], None, ok),
        (c.RESET_SESSION, [], None, c.READY_RESET_COMPLETE),
        (c.QUERY, [("SELECT 0", 0, 0)], None, ok),     # the reset rolled the rows back
    ]
    reset = replay.responses[11][1]
    assert reset.parameters == {"session.reset": "complete", "protocol.selected_version": "1.1"}
    assert reset.ready.txn_id == replay.responses[10][1].ready.txn_id + 1
    assert [f.msg_type for f in replay.pending] == [c.RESET_SESSION, c.TERMINATE]
    assert replay.responses[8][1].error.diag_code == "SBWP.SAVEPOINT.INVALID_PAYLOAD"


@pytest.mark.parametrize("chunking", ["whole", "eager", "seed5", "bytes"])
def test_replay_18_cancel_and_subscribe(captures, chunking):
    replay = Replay(captures["18"], chunking)
    assert [(t, tags, err, ready) for t, tags, err, ready in _steps(replay)] == [
        (c.QUERY, [("SELECT 1", 1, 1)], None, 2),
        (c.CANCEL, [], None, c.READY_CANCEL_OUTCOME),
        (c.QUERY, [("SELECT 1", 1, 1)], None, 2),
        (c.CANCEL, [], None, c.READY_CANCEL_OUTCOME),
        (c.QUERY, [("SELECT 1", 1, 1)], None, 2),
        (c.SUBSCRIBE, [("SUBSCRIBE", 0, 0)], None, 2),
        (c.UNSUBSCRIBE, [("UNSUBSCRIBE", 0, 0)], None, 2),
    ]
    assert [r.rows for _, resp in replay.responses if resp.results for r in resp.results][:3] == \
        [[(1,)], [(2,)], [(3,)]]
    untargeted, targeted = replay.proto.cancel_outcomes
    assert untargeted.cancel_id == targeted.cancel_id == bytes(range(0xC0, 0xD0))
    assert (untargeted.outcome_class, untargeted.sqlstate, untargeted.diagnostic_code) == \
        ("cancel_target_not_found", "57014", "EXECUTION.CANCEL_TARGET_NOT_FOUND")
    # nothing ran, yet a targeted CANCEL reports a cancelled statement (12.D): never trusted
    assert (targeted.outcome_class, targeted.diagnostic_code) == \
        ("user_statement_cancelled", "EXECUTION.QUERY_CANCELLED")
    assert replay.responses[5][1].notifications == [("session", "subscription_active", 0)]


def _server_segments(cap):
    """The server's bytes after each client frame (by the index of that frame)."""
    out, sent = {}, 0
    for f in cap.frames:
        if f.dir == "c2s":
            sent += 1
        else:
            out[sent] = out.get(sent, b"") + f.data
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cancel_reply_after_a_request_is_read_with_the_next_one(captures, seed):
    """A CANCEL sent while a request runs is answered after that request's READY (7.2);
    ClientProtocol skips that reply wherever it lands: the running request ends at its
    own READY, the next request reads past CANCEL_ACK, CANCELLED and READY(6)."""
    cap = captures["18"]
    segments = _server_segments(cap)
    proto = ClientProtocol(user=cap.user, password=cap.password, database="default",
                           features=OFFERED, allow_cleartext=True)
    proto.startup_frame()
    proto.feed(segments[1])
    proto.advance_handshake()
    proto.feed(segments[2])
    proto.advance_handshake()
    assert proto.handshake_done
    # SELECT 1 with a CANCEL sent during it, then SELECT 2: the server's bytes for all of
    # it arrive in random chunks (the CANCEL reply is what followed the capture's CANCEL).
    stream = segments[3] + segments[4] + segments[5]
    rng = random.Random(seed)
    proto.query_frame("SELECT 1")
    proto.cancel_frame(bytes(range(0xC0, 0xD0)))
    pos, got = 0, []
    while len(got) < 2:
        response = proto.read_response()
        if response is None:
            step = rng.randint(1, 90)
            proto.feed(stream[pos:pos + step])
            pos += step
            continue
        got.append(response)
        if len(got) == 1:
            proto.query_frame("SELECT 2")
    assert [r.results[0].rows for r in got] == [[(1,)], [(2,)]]
    assert [r.ready.reason for r in got] == [2, 2]
    assert [o.outcome_class for o in proto.cancel_outcomes] == ["cancel_target_not_found"]
    assert pos >= len(stream) and proto.reader.buffered == 0
