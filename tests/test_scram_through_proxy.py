"""SCRAM refusals end to end (issue 7 item 7): the real ``full`` dev server over TCP, with
the fault proxy rewriting one of its authentication frames. Each is refused with a PEP 249
error, and the driver closes its connection (the proxy sees it hang up)."""
from __future__ import annotations

import pytest

import scratchbird
from scratchbird import _auth_messages as am
from scratchbird import _constants as c
from scratchbird import _server_messages as sm
from scratchbird._impl import framing
from scratchbird.errors import AuthenticationError, NotSupportedError, ProtocolError
from tests.conftest import PASSWORD, USER, _server
from tests.proxy import FaultyProxy


@pytest.fixture(scope="module")
def full_server():
    """A plaintext dev server of the ``full`` profile (SCRAM is allowed without TLS)."""
    with _server(tls="off", profile="full") as srv:
        yield srv


class FrameRewriter:
    """An ``s2c_filter`` for FaultyProxy that works on whole frames: ``rewrite(frame)``
    returns the ``(msg_type, payload)`` pairs to send instead, or None to pass it on.
    Rewrites the handshake only: after READY the stream passes through untouched."""

    def __init__(self, rewrite):
        self.rewrite = rewrite
        self.reader = framing.FrameReader()
        self.passing = False
        self.rewritten = 0

    def __call__(self, data: bytes, _offset: int) -> bytes:
        if self.passing:
            return data
        self.reader.feed(data)
        out = []
        while not self.passing and (frame := self.reader.next_frame()) is not None:
            replacement = self.rewrite(frame)
            if replacement is None:
                replacement = [(frame.msg_type, bytes(frame.payload))]
            else:
                self.rewritten += 1
            for msg_type, payload in replacement:
                out.append(framing.encode_frame(msg_type, payload, frame.sequence,
                                                frame.attachment_id, frame.txn_id, frame.flags))
            self.passing = frame.msg_type == c.READY
        if self.passing and self.reader.buffered:
            out.append(self.reader.peek(self.reader.buffered))
        return b"".join(out)


def _tamper_signature(frame):
    if frame.msg_type != c.AUTH_OK:
        return None
    session_id, server_final = am.parse_scram_auth_ok(frame.payload)
    assert server_final.startswith(b"v=")
    flipped = server_final[:2] + bytes((server_final[2] ^ 0x01,)) + server_final[3:]
    return [(c.AUTH_OK, am.encode_scram_auth_ok(session_id, flipped))]


def _drop_signature(frame):
    if frame.msg_type != c.AUTH_OK:
        return None
    session_id, _server_final = am.parse_scram_auth_ok(frame.payload)
    return [(c.AUTH_OK, sm.encode_auth_ok(session_id))]


def _unknown_mechanism(frame):
    if frame.msg_type != c.AUTH_REQUEST:
        return None
    return [(c.AUTH_REQUEST, am.encode_scram_auth_request(["SCRAM-SHA-512"]))]


def _continue_out_of_turn(frame):
    if frame.msg_type != c.AUTH_REQUEST:
        return None
    return [(c.AUTH_CONTINUE, am.encode_auth_continue(b"r=abc,s=QSXCR+Q6sek8bf92,i=4096"))]


CASES = [
    ("tampered-signature", _tamper_signature, AuthenticationError, "signature"),
    ("auth-ok-without-signature", _drop_signature, AuthenticationError, "without its signature"),
    ("unknown-mechanism", _unknown_mechanism, NotSupportedError, "SCRAM-SHA-512"),
    ("auth-continue-out-of-turn", _continue_out_of_turn, ProtocolError, "AUTH_CONTINUE"),
]


def _dsn(port):
    return f"scratchbird://{USER}:{PASSWORD}@127.0.0.1:{port}/default"


def test_the_untouched_exchange_succeeds_through_the_proxy(full_server):
    rewriter = FrameRewriter(lambda frame: None)
    with FaultyProxy("127.0.0.1", full_server.port, s2c_filter=rewriter) as proxy:
        with scratchbird.connect(_dsn(proxy.port), sslmode="disable", connect_timeout=10) as conn:
            assert conn.execute("SELECT 41 + 1").fetchone() == (42,)
            assert conn._proto.auth_method == c.AUTH_METHOD_SCRAM_SHA_256


@pytest.mark.parametrize("rewrite,error,match", [case[1:] for case in CASES],
                         ids=[case[0] for case in CASES])
def test_scram_refusal_end_to_end(full_server, rewrite, error, match):
    rewriter = FrameRewriter(rewrite)
    with FaultyProxy("127.0.0.1", full_server.port, s2c_filter=rewriter) as proxy:
        with pytest.raises(error, match=match):
            scratchbird.connect(_dsn(proxy.port), sslmode="disable", connect_timeout=10)
        assert rewriter.rewritten == 1
        assert proxy.client_closed.wait(10), "the driver did not close its connection"
    # the server is unharmed: the next session authenticates
    with scratchbird.connect(_dsn(full_server.port), sslmode="disable", connect_timeout=10) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
