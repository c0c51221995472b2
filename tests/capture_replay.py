"""Shared by the tests of the recorded real-server conversations (tests/data/captures):
the capture lists, the ``captures`` fixture, readers of recorded payloads, the server-frame
checker of part a and the replay machinery of part b (``Feeder``, ``Replay``).

The tests, by concern: ``test_captures_frames`` (a. every frame parses and agrees with the
notes), ``test_captures_replay`` (b. the server's bytes drive ClientProtocol),
``test_captures_client_frames`` (c. the driver's encoders make the recorded client frames),
``test_captures_cursor`` (statement shapes through a Cursor) and ``test_captures_copy``
(COPY and array-bind captures).
"""
from __future__ import annotations

import random
import struct

import pytest

from tests.conftest import CAPTURES
from tests.sbwp_material import (load_captures, note_columns, note_command_complete,
                                 note_error, note_header, note_parameters, note_ready, note_values)
from scratchbird import _client_messages as cm
from scratchbird import _constants as c
from scratchbird import _server_messages as sm
from scratchbird._impl import framing, rowcodec
from scratchbird._protocol import ClientProtocol
from scratchbird.errors import OperationalError

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
