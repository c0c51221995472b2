"""ClientProtocol with SCRAM-SHA-256 and zstd compression, driven I/O-free by a server
side built from the same building blocks the dev server's ``full`` profile uses."""
from __future__ import annotations

import pytest

from scratchbird import _auth_messages as am
from scratchbird import _constants as c
from scratchbird import _server_messages as sm
from scratchbird._compression import Compressor, Decompressor
from scratchbird._impl import framing, rowcodec
from scratchbird._protocol import ClientProtocol
from scratchbird._scram import ScramServer, make_verifier
from scratchbird.errors import AuthenticationError, NotSupportedError, ProtocolError

SID = bytes(range(16))


class _Server:
    """The server half of a handshake, frame by frame (sequence numbers included)."""

    def __init__(self):
        self.seq = 0
        self.reader = framing.FrameReader()

    def frame(self, msg_type, payload, txn=0, flags=0, attachment=bytes(16)):
        out = framing.encode_frame(msg_type, payload, self.seq, attachment, txn, flags)
        self.seq += 1
        return out

    def receive(self, data):
        self.reader.feed(data)
        frame = self.reader.next_frame()
        assert frame is not None
        return frame


def _proto(**kw):
    return ClientProtocol(user="alice", password="pencil-ü", database="default",
                          allow_cleartext=False, **kw)


def _scram_handshake(proto, server, tamper=False, features=c.CLIENT_OFFERED_FEATURES):
    startup = server.receive(proto.startup_frame())
    assert startup.msg_type == c.STARTUP
    verifier = make_verifier("pencil-ü")
    scram = ScramServer(verifier, "alice")
    proto.feed(server.frame(c.AUTH_REQUEST, am.encode_scram_auth_request()))
    first = server.receive(proto.advance_handshake())
    assert first.msg_type == c.AUTH_RESPONSE and bytes(first.payload).startswith(b"n,,n=alice,r=")
    proto.feed(server.frame(c.AUTH_CONTINUE, am.encode_auth_continue(scram.server_first(first.payload))))
    final = server.receive(proto.advance_handshake())
    assert bytes(final.payload).startswith(b"c=biws,r=")
    signature = scram.server_final(final.payload)
    if tamper:
        signature = signature[:-4] + (b"AAA=" if not signature.endswith(b"AAA=") else b"BBB=")
    proto.feed(server.frame(c.AUTH_OK, am.encode_scram_auth_ok(SID, signature), txn=7, attachment=SID))
    proto.feed(server.frame(c.READY, sm.encode_ready_p1(SID, 7, 1, features), txn=7, attachment=SID))
    return proto.advance_handshake()


def test_scram_handshake_succeeds_without_tls():
    proto, server = _proto(), _Server()
    assert _scram_handshake(proto, server) == b""
    assert proto.handshake_done and proto.session_id == SID and proto.txn_id == 7
    assert proto.auth_method == 3
    assert proto._password is None  # not kept once the exchange started


def test_tampered_server_signature_is_refused():
    proto, server = _proto(), _Server()
    with pytest.raises(AuthenticationError):
        _scram_handshake(proto, server, tamper=True)
    assert proto.broken and not proto.handshake_done


def test_auth_ok_without_signature_is_refused():
    proto, server = _proto(), _Server()
    server.receive(proto.startup_frame())
    proto.feed(server.frame(c.AUTH_REQUEST, am.encode_scram_auth_request()))
    server.receive(proto.advance_handshake())
    proto.feed(server.frame(c.AUTH_OK, sm.encode_auth_ok(SID), txn=7, attachment=SID))
    with pytest.raises(AuthenticationError):
        proto.advance_handshake()


def test_unknown_mechanism_is_refused():
    proto, server = _proto(), _Server()
    server.receive(proto.startup_frame())
    proto.feed(server.frame(c.AUTH_REQUEST, am.encode_scram_auth_request(["SCRAM-SHA-512"])))
    with pytest.raises(NotSupportedError, match="SCRAM-SHA-512"):
        proto.advance_handshake()


def test_auth_continue_out_of_turn_is_a_protocol_error():
    proto, server = _proto(), _Server()
    server.receive(proto.startup_frame())
    proto.feed(server.frame(c.AUTH_CONTINUE, am.encode_auth_continue(b"r=x,s=eA==,i=4096")))
    with pytest.raises(ProtocolError, match="AUTH_CONTINUE"):
        proto.advance_handshake()


def test_cleartext_password_still_refused_without_tls():
    proto, server = _proto(), _Server()
    server.receive(proto.startup_frame())
    proto.feed(server.frame(c.AUTH_REQUEST, sm.encode_auth_request(1)))
    with pytest.raises(AuthenticationError, match="unencrypted"):
        proto.advance_handshake()


def test_compression_is_offered_and_used_once_granted():
    proto, server = _proto(compression=True), _Server()
    granted = c.CLIENT_OFFERED_FEATURES | c.FEATURE_COMPRESSION
    _scram_handshake(proto, server, features=granted)
    assert proto.negotiated_features & c.FEATURE_COMPRESSION
    # Client -> server: a large QUERY goes compressed (flag 0x01, REFERENCE 2.4).
    sql = "SELECT " + ", ".join(f"{i} AS c{i}" for i in range(400))
    server.reader.decompress = Decompressor()
    query = server.receive(proto.query_frame(sql))
    assert query.flags == c.FLAG_COMPRESSED  # it went compressed...
    # ...and the reader hands out the decompressed payload.
    assert bytes(query.payload).endswith(sql.encode() + b"\x00")
    # Server -> client: compressed ROW_DESCRIPTION/DATA_ROW/COMMAND_COMPLETE/READY.
    comp = Compressor(threshold=0)
    desc = sm.encode_row_description_p1([sm.Column("t", 25)])
    rows = [rowcodec.encode_data_row([("x" * 2000).encode()]) for _ in range(3)]
    out = b""
    for msg_type, payload in [(c.ROW_DESCRIPTION, desc)] + [(c.DATA_ROW, r) for r in rows] + [
            (c.COMMAND_COMPLETE, sm.encode_command_complete("SELECT 3", 3)),
            (c.READY, sm.encode_ready_p1(SID, 7, 2, granted))]:
        body, flags = comp.compress_payload(payload)
        out += server.frame(msg_type, body, txn=7, flags=flags, attachment=SID)
    for i in range(0, len(out), 7):
        proto.feed(out[i:i + 7])
    response = proto.read_response()
    assert response is not None and response.error is None
    assert response.results[0].rows == [("x" * 2000,)] * 3 and response.results[0].rowcount == 3


def test_compression_not_offered_by_default():
    proto = _proto()
    assert not proto.features_offered & c.FEATURE_COMPRESSION
    frame = framing.FrameReader()
    frame.feed(proto.startup_frame())
    assert frame.next_frame().msg_type == c.STARTUP
