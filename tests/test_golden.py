"""Golden vectors from REFERENCE.md: coverage, the extraction itself, and a conversation.

The per-dump byte and field checks live in ``test_golden_client.py`` (frames the driver
sends) and ``test_golden_server.py`` (frames it receives). This file makes sure that
*every* hex dump of REFERENCE section 11 is one of their vectors, that the dumps were
read correctly, and it plays the section 11 examples as one conversation through the
I/O-free ``ClientProtocol``.
"""
from __future__ import annotations

import struct
from decimal import Decimal

import pytest

from tests import test_golden_client as client_vectors
from tests import test_golden_server as server_vectors
from tests.conftest import REFERENCE
from tests.sbwp_material import SECTION11_SESSION as SESSION, load_reference_dumps, section11_keys
from scratchbird import _client_messages as cm
from scratchbird import _constants as c
from scratchbird import _server_messages as sm
from scratchbird._impl import framing, rowcodec
from scratchbird._protocol import ClientProtocol
from scratchbird.errors import AuthenticationError, ProgrammingError, ProtocolError

UUID_TEXT = "018f0a2b-0000-7000-9000-000000000301"


@pytest.fixture(scope="module")
def dumps():
    return load_reference_dumps(REFERENCE)


# ---------------------------------------------------------------- coverage and extraction

def test_every_section11_dump_is_a_vector(dumps):
    keys = section11_keys(dumps)
    client, server = set(client_vectors.CLIENT_KEYS), set(server_vectors.SERVER_KEYS)
    assert not client & server
    assert sorted(keys) == sorted(client | server)
    # 24 subsections; 11.15 and 11.22 hold two dumps, 11.20 three, 11.21 four
    assert {dumps[k].section for k in keys} == {f"11.{n}" for n in range(1, 25)}
    assert len(keys) == 31
    assert [k for k in keys if dumps[k].section == "11.21"] == ["11.21", "11.21b", "11.21c", "11.21d"]


def test_every_section12_dump_is_a_vector(dumps):
    keys = {k for k in dumps if k.startswith("12.")}
    assert keys == {"12.B.1", "12.B.1b", "12.B.5", "12.B.7.11"}
    covered = set(server_vectors.SECTION12_FRAME_KEYS) | {
        k for k in server_vectors.ROWS if k.startswith("12.")}
    assert keys == covered


@pytest.mark.parametrize("key", ["11.%d" % n for n in range(1, 25)])
def test_dump_matches_stated_frame_length(dumps, key):
    """The first dump of each subsection has the length its text states."""
    dump = dumps[key]
    assert dump.is_frame and not dump.masked and not dump.ascii_mismatches
    assert len(dump.data) == dump.stated_frame_length
    assert len(dump.payload) == dump.stated_payload_length
    assert dump.header_field("length") == dump.stated_payload_length


def test_every_frame_dump_is_self_consistent(dumps):
    for key, dump in dumps.items():
        assert not dump.ascii_mismatches, key
        if not dump.is_frame:
            assert key.startswith("12.B.1") and dump.start_offset == 0x20
            continue
        assert (dump.header_field("major"), dump.header_field("minor")) == (1, 1), key
        assert dump.header_field("flags") == 0, key
        assert dump.header_field("length") == len(dump.payload), key
        if key.startswith("11."):
            assert dump.header_field("attachment") in (bytes(16), SESSION), key


# ---------------------------------------------------------------- a conversation from 11.x

def _handshake(dumps, proto, *keys):
    for key in keys:
        proto.feed(dumps[key].data)
    return proto.advance_handshake()


def _masked(frame: bytes, *ranges) -> bytes:
    out = bytearray(frame)
    for a, b in ranges:
        out[a:b] = bytes(b - a)
    return bytes(out)


SEQ, TXN = (12, 16), (32, 40)


def test_section11_conversation_p1(dumps):
    """STARTUP .. READY, SELECT 1, an engine error, PING, COMMIT, SET_OPTION.

    The driver's frames equal the dumped client frames except where the dump shows a
    sequence number or a txn id: the driver always sends 0 for both (REFERENCE 2,
    12.A.2), and that is asserted too.
    """
    proto = ClientProtocol(user="alice", password="secret", database="default",
                           features=0x202, allow_cleartext=True)
    proto.reader.expected_sequence = None   # the dumps are excerpts, some fed twice: see below
    assert proto.startup_frame() == dumps["11.1"].data
    auth = _handshake(dumps, proto, "11.2")
    assert _masked(auth, SEQ) == _masked(dumps["11.3"].data, SEQ)
    assert _handshake(dumps, proto, "11.4", "11.5") == b"" and not proto.handshake_done
    assert _handshake(dumps, proto, "11.6", "11.7") == b"" and proto.handshake_done
    assert (proto.session_id, proto.txn_id, proto.negotiated_features) == (SESSION, 42, 0x202)
    assert proto.protocol_version == 0x0101
    assert proto.server_info.supported_features == 0x016FE3D6
    assert proto.parameters == dict(server_vectors.PARAMS_11_6)

    def sent(frame: bytes, key: str) -> None:
        assert frame[12:16] == bytes(4) and frame[32:40] == bytes(8)
        assert frame[16:32] == SESSION
        assert _masked(frame, SEQ, TXN) == _masked(dumps[key].data, SEQ, TXN)

    sent(proto.query_frame("SELECT 1"), "11.8")
    for key in ("11.9", "11.11", "11.12"):
        proto.feed(dumps[key].data)
        assert proto.read_response() is None
    proto.feed(dumps["11.13"].data)
    response = proto.read_response()
    assert response.error is None and response.ready.reason == c.READY_COMMAND_COMPLETE
    [result] = response.results
    assert [(col.name, col.type_oid) for col in result.description.columns] == [("column1", 20)]
    assert (result.rows, result.rowcount, result.tag, result.complete) == ([(1,)], 1, "SELECT 1", True)

    proto.query_frame("SELECT * FROM nowhere")
    proto.feed(dumps["11.16"].data + dumps["11.13"].data)
    response = proto.read_response()
    assert isinstance(response.error, ProgrammingError) and response.results == []
    assert response.error.diag_code == "SBSQL.NAME_RESOLUTION.NOT_FOUND_OR_NOT_VISIBLE"

    ping = struct.pack("<Q", 123456789)
    sent(proto.ping_frame(ping), "11.24")
    proto.feed(framing.encode_frame(c.PONG, ping, 9, SESSION, 42))
    assert proto.read_response().pong == ping

    sent(proto.commit_frame(), "11.20")
    proto.feed(dumps["11.20b"].data + dumps["11.20c"].data)
    response = proto.read_response()
    [result] = response.results
    assert (result.description, result.rows, result.rowcount, result.tag) == (None, [], 0, "COMMIT")
    assert proto.txn_id == 43 and response.ready.txn_id == 43

    sent(proto.set_option_frame("copy_window_bytes", "65536"), "11.23")
    status = [("session.option", "updated"), ("copy_window_bytes", "65536")]
    proto.feed(framing.encode_frame(c.PARAMETER_STATUS, sm.encode_parameter_status(status), 11,
                                    SESSION, 43)
               + framing.encode_frame(c.READY, sm.encode_ready_p1(SESSION, 43, 7, 0x202), 12,
                                      SESSION, 43))
    response = proto.read_response()
    assert response.parameters == dict(status) and response.ready.reason == c.READY_STATE_CHANGE
    assert response.results == [] and proto.parameters["copy_window_bytes"] == "65536"


def test_section11_conversation_legacy(dumps):
    """A legacy session: the 20-byte READY of 11.14 and the legacy ROW_DESCRIPTIONs."""
    proto = ClientProtocol(user="alice", password="secret", database="default",
                           layout="legacy", allow_cleartext=True)
    proto.reader.expected_sequence = None   # excerpts of other conversations: see below
    assert cm.parse_startup(proto.startup_frame()[40:]).layout == "legacy"
    auth = _handshake(dumps, proto, "11.2", "11.4", "11.14")
    assert (auth[6], auth[40:]) == (c.AUTH_RESPONSE, b"secret")
    assert (proto.handshake_done, proto.txn_id, proto.negotiated_features) == (True, 42, 0)

    proto.query_frame("SELECT 1")
    proto.feed(b"".join(dumps[k].data for k in ("11.10", "11.11", "11.12", "11.14")))
    [result] = proto.read_response().results
    assert [(col.name, col.type_oid) for col in result.description.columns] == [("column1", 20)]
    assert result.rows == [(1,)] and result.tag == "SELECT 1"

    proto.query_frame("SELECT n, amount, ts, id FROM t")
    proto.feed(b"".join(dumps[k].data for k in ("11.17", "11.18", "11.19", "11.12", "11.14")))
    [result] = proto.read_response().results
    assert [(col.name, col.type_oid) for col in result.description.columns] == \
        server_vectors.COLUMNS_11_17
    row = (None, Decimal("123.45"), "2026-01-02T03:04:05", UUID_TEXT)
    assert result.rows == [row, row]


def test_section11_dumps_are_excerpts_whose_sequence_numbers_do_not_continue(dumps):
    """Why the two tests above switch the sequence check off: REFERENCE 11's server frames
    are one numbered conversation up to 11.13 (sequence 0..8), but the tests reuse the
    READY of 11.13 (sequence 8) after the ERROR of 11.16 (sequence 9), and the legacy
    test splices 11.10/11.17 (sequence 5) after a READY. A checking client refuses such
    a splice, naming both numbers (REFERENCE 2; docs/protocol.md 11.2)."""
    proto = ClientProtocol(user="alice", password="secret", database="default",
                           features=0x202, allow_cleartext=True)
    proto.startup_frame()
    _handshake(dumps, proto, "11.2")
    _handshake(dumps, proto, "11.4", "11.5")
    _handshake(dumps, proto, "11.6", "11.7")
    proto.query_frame("SELECT 1")
    proto.feed(b"".join(dumps[k].data for k in ("11.9", "11.11", "11.12", "11.13")))
    assert proto.read_response().results[0].rows == [(1,)]      # 5..8: in sequence
    proto.query_frame("SELECT * FROM nowhere")
    proto.feed(dumps["11.16"].data + dumps["11.13"].data)
    with pytest.raises(ProtocolError, match="sequence 8 where 10 was expected"):
        proto.read_response()
    assert proto.broken


def test_section11_preauth_error_is_raised_by_handshake(dumps):
    """The ERROR of 11.15 arriving during the handshake raises the mapped class."""
    proto = ClientProtocol(user="alice", password="secret", database="default",
                           allow_cleartext=True)
    proto.feed(dumps["11.15"].data + dumps["11.15b"].data)
    with pytest.raises(AuthenticationError) as info:
        proto.advance_handshake()
    assert info.value.sqlstate == "28000" and info.value.message == "authentication required"
    assert proto.broken and not proto.handshake_done


def test_data_row_dumps_stream_through_reader(dumps):
    """11.18 then 11.19 fed byte by byte, decoded by read_data_rows until the CC."""
    reader = framing.FrameReader()
    decoder = rowcodec.TextRowDecoder([25, 1700, 25, 25])
    rows: list = []
    stream = dumps["11.18"].data + dumps["11.19"].data + dumps["11.12"].data
    for i in range(len(stream)):
        reader.feed(stream[i:i + 1])
        rowcodec.read_data_rows(reader, decoder, rows, 10)
    row = (None, Decimal("123.45"), "2026-01-02T03:04:05", UUID_TEXT)
    assert rows == [row, row]
    assert reader.peek_type() == c.COMMAND_COMPLETE
