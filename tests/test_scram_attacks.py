"""A hostile or impostor SCRAM server, refused by the I/O-free core (ClientProtocol).

Each case plays the server side with the real ScramServer and then changes one thing: a
signature forged without the verifier, a server-first replayed from another session, a
nonce the server did not extend, an iteration count below RFC 7677's 4096. The client must
raise AuthenticationError, mark the session broken, send no proof (or nothing more) and
forget the password. End-to-end refusals through a proxy are issue 7's tests.
"""
import base64
import re

import pytest

from scratchbird import _auth_messages as am
from scratchbird import _constants as c
from scratchbird._impl import framing
from scratchbird._protocol import ClientProtocol
from scratchbird._scram import ScramServer, make_verifier
from scratchbird.errors import AuthenticationError

PASSWORD = "correct horse battery"
SID = bytes(range(16))


# Server frames are numbered per connection (REFERENCE 2): in a SCRAM exchange
# AUTH_REQUEST is the server's frame 0, AUTH_CONTINUE 1 and AUTH_OK 2.
_SEQUENCE = {c.AUTH_REQUEST: 0, c.AUTH_CONTINUE: 1, c.AUTH_OK: 2}


def frame(msg_type, payload=b"", **kw):
    kw.setdefault("sequence", _SEQUENCE[msg_type])
    return framing.encode_frame(msg_type, payload, **kw)


def start(password=PASSWORD):
    """A protocol that has sent its client-first; returns (proto, client_first, reader)."""
    proto = ClientProtocol(user="alice", password=password, database="db")
    reader = framing.FrameReader()
    proto.startup_frame()
    proto.feed(frame(c.AUTH_REQUEST, am.encode_scram_auth_request()))
    reader.feed(proto.advance_handshake())
    return proto, bytes(reader.next_frame().payload), reader


def refused(proto, data, pattern):
    proto.feed(data)
    with pytest.raises(AuthenticationError, match=pattern) as info:
        proto.advance_handshake()
    assert proto.broken and not proto.handshake_done
    assert proto._password is None
    assert PASSWORD not in str(info.value)
    return info.value


def test_signature_forged_without_the_verifier_is_refused():
    proto, client_first, reader = start()
    impostor = ScramServer(make_verifier("a guess"), "alice")   # does not know the verifier
    proto.feed(frame(c.AUTH_CONTINUE, am.encode_auth_continue(impostor.server_first(client_first))))
    reader.feed(proto.advance_handshake())
    client_final = bytes(reader.next_frame().payload)
    # The impostor cannot check the proof; it signs with what it has.
    forged = b"v=" + base64.b64encode(bytes(32))
    with pytest.raises(AuthenticationError):
        impostor.server_final(client_final)
    refused(proto, frame(c.AUTH_OK, am.encode_scram_auth_ok(SID, forged)),
            "server signature does not match")


def test_signature_from_another_session_is_refused():
    # A genuine server-final, recorded from one session, replayed into another.
    verifier = make_verifier(PASSWORD)
    proto1, first1, reader1 = start()
    server1 = ScramServer(verifier, "alice")
    proto1.feed(frame(c.AUTH_CONTINUE, am.encode_auth_continue(server1.server_first(first1))))
    reader1.feed(proto1.advance_handshake())
    recorded_final = server1.server_final(reader1.next_frame().payload)

    proto2, first2, reader2 = start()
    server2 = ScramServer(verifier, "alice")
    proto2.feed(frame(c.AUTH_CONTINUE, am.encode_auth_continue(server2.server_first(first2))))
    reader2.feed(proto2.advance_handshake())
    refused(proto2, frame(c.AUTH_OK, am.encode_scram_auth_ok(SID, recorded_final)),
            "server signature does not match")


def test_replayed_server_first_is_refused():
    proto1, first1, _ = start()
    recorded_first = ScramServer(make_verifier(PASSWORD), "alice").server_first(first1)
    proto2, _, _ = start()            # a new session: a fresh client nonce
    refused(proto2, frame(c.AUTH_CONTINUE, am.encode_auth_continue(recorded_first)),
            "does not extend the client nonce")


@pytest.mark.parametrize("edit", ["same nonce", "other nonce", "shorter nonce"])
def test_nonce_the_server_did_not_extend_is_refused(edit):
    proto, client_first, _ = start()
    client_nonce = re.search(rb",r=([^,]+)", client_first).group(1)
    nonce = {"same nonce": client_nonce, "other nonce": b"X" + client_nonce[1:] + b"srv",
             "shorter nonce": client_nonce[:-1]}[edit]
    server_first = b"r=" + nonce + b",s=QSXCR+Q6sek8bf92,i=4096"
    refused(proto, frame(c.AUTH_CONTINUE, am.encode_auth_continue(server_first)),
            "does not extend the client nonce")


@pytest.mark.parametrize("iterations", [1, 1000, 4095])
def test_iteration_count_too_low_is_refused(iterations):
    proto, client_first, _ = start()
    client_nonce = re.search(rb",r=([^,]+)", client_first).group(1)
    server_first = b"r=" + client_nonce + b"srv,s=QSXCR+Q6sek8bf92,i=" + str(iterations).encode()
    error = refused(proto, frame(c.AUTH_CONTINUE, am.encode_auth_continue(server_first)),
                    f"refusing SCRAM iteration count {iterations}: at least 4096")
    assert "RFC 7677" in str(error)
