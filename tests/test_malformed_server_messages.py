"""Malformed server messages: every parse failure is a ProtocolError naming the message,
the protocol is marked broken, and the connection ends closed (issue 7 item 1).

A scripted server on a real TCP socket speaks a valid conversation and replaces one
frame's payload; the frame header stays consistent, so only the payload is malformed.
"""
from __future__ import annotations

import random
import struct

import pytest

import scratchbird
from scratchbird import _auth_messages as am
from scratchbird import _constants as c
from scratchbird import _server_messages as sm
from scratchbird._impl import framing
from scratchbird._protocol import ClientProtocol
from scratchbird.errors import ProtocolError
from tests.scripted_server import SID, TXN, ScriptedServer, after_auth, query_response

USER, PASSWORD = "alice", "pencil-pw"


@pytest.fixture(scope="module")
def server():
    with ScriptedServer(USER, PASSWORD) as srv:
        yield srv


def _connect(server, mutate, scram=False):
    thread = server.expect(mutate, scram=scram)
    dsn = f"scratchbird://{USER}:{PASSWORD}@127.0.0.1:{server.port}/default"
    return thread, dsn


def _replace(phase, msg_type, payload, frame_type=None):
    """A mutate hook: the first ``msg_type`` frame of ``phase`` gets ``payload``
    (and the type ``frame_type`` when given)."""
    state = {"done": False}

    def mutate(ph, _index, t, _payload):
        if ph == phase and t == msg_type and not state["done"]:
            state["done"] = True
            return payload if frame_type is None else (frame_type, payload)
        return None
    return mutate


_P1_ONE_COLUMN_HEAD = struct.pack("<HBBI", 1, 0, 1, 1) + bytes(64)  # promises a column, has none

HANDSHAKE_CASES = [
    # (message named in the error, msg_type replaced, malformed payload, new type, scram)
    ("AUTH_REQUEST", c.AUTH_REQUEST, b"", None, False),
    ("AUTH_OK", c.AUTH_OK, SID + struct.pack("<I", 256), None, False),
    ("SERVER_INFO", c.SERVER_INFO, SID + bytes(4), None, False),
    ("PARAMETER_STATUS", c.PARAMETER_STATUS, b"\x05\x00\x00\x00ab", None, False),
    ("READY", c.READY, bytes(30), None, False),
    ("ERROR", c.AUTH_OK, b"Mno terminator", c.ERROR, False),
    ("AUTH_REQUEST", c.AUTH_REQUEST, bytes((3, 0, 0, 0, 1)), None, True),
    ("AUTH_CONTINUE", c.AUTH_CONTINUE, b"\x03\x01", None, True),
    ("AUTH_OK", c.AUTH_OK, SID[:10], None, True),
]

RESPONSE_CASES = [
    ("ROW_DESCRIPTION", c.ROW_DESCRIPTION, _P1_ONE_COLUMN_HEAD, None),
    ("PARAMETER_STATUS", c.PARAMETER_STATUS, b"\x09\x00\x00\x00", None),
    ("NOTIFICATION", c.NOTIFICATION, b"\x09\x00\x00\x00ab", None),
    ("COMMAND_COMPLETE", c.COMMAND_COMPLETE, b"\x01\x00\x00", None),
    ("READY", c.READY, bytes(21), None),
    ("ERROR", c.ROW_DESCRIPTION, b"C42000\x00Mhalf a field", c.ERROR),
]


@pytest.mark.parametrize("name,msg_type,payload,new_type,scram", HANDSHAKE_CASES,
                         ids=[f"{case[0]}{'-scram' if case[4] else ''}" for case in HANDSHAKE_CASES])
def test_malformed_message_during_the_handshake(server, name, msg_type, payload, new_type, scram):
    thread, dsn = _connect(server, _replace("handshake", msg_type, payload, new_type), scram)
    with pytest.raises(ProtocolError, match=name):
        scratchbird.connect(dsn, sslmode="disable", connect_timeout=5)
    thread.join(10)
    assert not thread.is_alive(), "the scripted server still waits: the client did not close"
    assert not server.errors


@pytest.mark.parametrize("name,msg_type,payload,new_type", RESPONSE_CASES,
                         ids=[case[0] for case in RESPONSE_CASES])
def test_malformed_message_during_a_response(server, name, msg_type, payload, new_type):
    thread, dsn = _connect(server, _replace("response", msg_type, payload, new_type))
    conn = scratchbird.connect(dsn, sslmode="disable", connect_timeout=5, socket_timeout=5)
    with pytest.raises(ProtocolError, match=name):
        conn.execute("SELECT x FROM t")
    assert conn.closed
    with pytest.raises(scratchbird.InterfaceError, match="closed"):
        conn.execute("SELECT 1")
    thread.join(10)
    assert not thread.is_alive(), "the scripted server still waits: the client did not close"
    assert not server.errors


def test_the_scripted_conversation_is_valid_as_sent(server):
    # The cases above fail because of their one malformed payload, not the script.
    for scram in (False, True):
        thread, dsn = _connect(server, None, scram)
        conn = scratchbird.connect(dsn, sslmode="disable", connect_timeout=5)
        cur = conn.execute("SELECT x FROM t")
        assert cur.fetchall() == []
        assert [d[0] for d in cur.description] == ["x"]
        conn.close()  # not ``with``: its commit would be a request the script does not answer
        thread.join(10)
        assert not server.errors


# ---------------------------------------------------------------- the I/O-free core


def _handshaken_protocol():
    proto = ClientProtocol(user=USER, password=PASSWORD, database="default", allow_cleartext=True)
    proto.startup_frame()
    proto.feed(framing.encode_frame(c.AUTH_REQUEST, sm.encode_auth_request(1)))
    proto.advance_handshake()
    frames = [(c.AUTH_OK, sm.encode_auth_ok(SID))] + after_auth()
    proto.feed(numbered(frames, 1))
    proto.advance_handshake()
    assert proto.handshake_done
    return proto


def numbered(frames, first):
    """Server frames with consecutive header sequence numbers from ``first`` (REFERENCE 2)."""
    return b"".join(framing.encode_frame(t, p, first + k, SID, TXN)
                    for k, (t, p) in enumerate(frames))


@pytest.mark.parametrize("name,msg_type,payload,new_type", RESPONSE_CASES,
                         ids=[case[0] for case in RESPONSE_CASES])
def test_io_free_core_marks_itself_broken(name, msg_type, payload, new_type):
    proto = _handshaken_protocol()
    proto.query_frame("SELECT x FROM t")
    frames = [(new_type or t, payload) if t == msg_type else (t, p) for t, p in query_response()]
    frames = frames[:[t for t, _ in query_response()].index(msg_type) + 1]
    proto.feed(numbered(frames, proto.reader.expected_sequence))
    with pytest.raises(ProtocolError, match=name):
        proto.read_response()
    assert proto.broken
    with pytest.raises(scratchbird.OperationalError, match="broken"):
        proto.query_frame("SELECT 1")


def test_io_free_handshake_marks_itself_broken_on_a_bad_scram_request():
    proto = ClientProtocol(user=USER, password=PASSWORD, database="default")
    proto.startup_frame()
    proto.feed(framing.encode_frame(c.AUTH_REQUEST, am.encode_scram_auth_request()[:5]))
    with pytest.raises(ProtocolError, match="AUTH_REQUEST"):
        proto.advance_handshake()
    assert proto.broken


# ---------------------------------------------------------------- the sweep


def _mutations(rng: random.Random):
    """Truncations at the edges and the middle, and single bit flips: functions of the
    payload actually sent (the SCRAM payloads depend on the client's nonce)."""
    for label, cut in (("cut@0", lambda n: 0), ("cut@1", lambda n: 1), ("cut@4", lambda n: 4),
                       ("cut@half", lambda n: n // 2), ("cut@end-1", lambda n: n - 1)):
        yield label, (lambda p, cut=cut: p[:max(0, min(cut(len(p)), len(p) - 1))])
    for _ in range(3):
        seed = rng.randrange(1 << 30)

        def flip(p, seed=seed):
            if not p:
                return p
            pos = seed % len(p)
            return p[:pos] + bytes((p[pos] ^ (1 << (seed >> 20) % 8),)) + p[pos + 1:]
        yield f"flip#{seed}", flip


def _at(phase, index, change):
    def mutate(ph, i, _t, payload):
        return change(bytes(payload)) if (ph, i) == (phase, index) else None
    return mutate


def _script(scram):
    """(phase, index, msg_type) of every frame the scripted server sends."""
    hs = [c.AUTH_REQUEST, c.AUTH_CONTINUE, c.AUTH_OK] if scram else [c.AUTH_REQUEST, c.AUTH_OK]
    hs += [t for t, _ in after_auth()]
    return ([("handshake", i, t) for i, t in enumerate(hs)]
            + [("response", i, t) for i, (t, _) in enumerate(query_response())])


@pytest.mark.parametrize("scram", [False, True], ids=["password", "scram"])
def test_sweep_only_pep249_errors_leave_connect_and_execute(server, scram):
    rng = random.Random(7)
    leaks = []
    cases = 0
    for phase, index, msg_type in _script(scram):
        for label, change in _mutations(rng):
            cases += 1
            what = f"{c.MESSAGE_NAMES[msg_type]} {label} ({phase})"
            thread, dsn = _connect(server, _at(phase, index, change), scram)
            try:
                conn = scratchbird.connect(dsn, sslmode="disable", connect_timeout=5,
                                           socket_timeout=5)
            except scratchbird.Error:
                pass
            except Exception as exc:  # noqa: BLE001 - what the sweep looks for
                leaks.append(f"connect: {what}: {type(exc).__name__}: {exc}")
            else:
                try:
                    conn.execute("SELECT x FROM t").fetchall()
                except scratchbird.Error:
                    if not conn.closed and conn._proto.busy:
                        leaks.append(f"execute: {what}: connection left half-read")
                except Exception as exc:  # noqa: BLE001
                    leaks.append(f"execute: {what}: {type(exc).__name__}: {exc}")
                conn.close()
            thread.join(10)
            if thread.is_alive():
                leaks.append(f"{what}: the conversation did not end")
    assert cases > 40
    assert not leaks, "\n".join(leaks)
    assert not server.errors
