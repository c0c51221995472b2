"""The dev server on the wire: raw-socket clients built from the message codecs only.

Every test talks real TCP (and real TLS 1.3) to a real DevServer running real SQL in
DuckDB. Nothing here uses the driver API. Section numbers refer to the SBWP REFERENCE.
"""
from __future__ import annotations

import os
import signal
import socket
import ssl
import struct
import subprocess
import sys
from pathlib import Path
from typing import List, Optional
from urllib.parse import parse_qs, unquote, urlparse

import pytest

from scratchbird import _client_messages as cm
from scratchbird import _constants as C
from scratchbird import _server_messages as sm
from scratchbird._impl import framing, rowcodec
from scratchbird.devserver import DevServer
from tests.sbwp_socket import read_frame

USER, PASSWORD = "sb", "dev-pw"
OFFER = 0x01610316          # bits 1, 2, 4, 8, 9, 16, 21, 22, 24 (as the captures offer)
SUPPORTED = 0x016FE3D6
P1_KEYS = """protocol.selected_version protocol.negotiated_features
session.authenticated_user_uuid session.auth_provider_family session.principal_claim
security.generation language.profile_id language.tag language.default_tag
language.input_syntax_profile language.common_resource_hash language.resource_epoch
language.localized_name_epoch language.message_epoch language.resource_compatibility_identity
language.resource_version_identity current_txn_id
session.snapshot_visible_through_local_transaction_id""".split()
SRC = Path(__file__).resolve().parents[1] / "src"


# ---------------------------------------------------------------- raw client


def fr(msg_type: int, payload: bytes = b"", *, flags: int = 0, txn: int = 0) -> bytes:
    """One client frame (zero attachment id, as the captured client sends)."""
    return framing.encode_frame(msg_type, payload, 0, C.ZERO_UUID, txn, flags)


class RawClient:
    """Frames over a socket, from the shared codecs; no driver logic."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.sock.settimeout(20)
        self.reader = framing.FrameReader(check_flags=False)
        self.layout, self.txn = "p1", 0

    @classmethod
    def connect(cls, port: int, context=None, server_hostname: str = "localhost") -> "RawClient":
        sock = socket.create_connection(("127.0.0.1", port), timeout=20)
        return cls(context.wrap_socket(sock, server_hostname=server_hostname) if context else sock)

    def close(self) -> None:
        self.sock.close()

    def send(self, msg_type: int, payload: bytes = b"", **kw) -> None:
        self.sock.sendall(fr(msg_type, payload, **kw))

    def pipeline(self, *frames: bytes) -> list:
        """Write the frames in one burst, read up to READY."""
        self.sock.sendall(b"".join(frames))
        return self.read_until(C.READY)

    def read(self):
        """The next frame, or None at EOF (a reset counts as EOF)."""
        return read_frame(self.sock, self.reader)

    def read_until(self, *stop_types: int, eof_ok: bool = False) -> list:
        frames = []
        while (frame := self.read()) is not None:
            frames.append(frame)
            if frame.msg_type in stop_types:
                self.txn = frame.txn_id
                return frames
        assert eof_ok, f"EOF after {types(frames)}"
        return frames

    def read_n(self, n: int) -> list:
        out = [self.read() for _ in range(n)]
        assert None not in out, f"EOF after {types([f for f in out if f])}"
        return out

    def expect_eof(self) -> None:
        frame = self.read()
        assert frame is None, f"expected the server to close, got {frame!r}"

    def startup(self, *, p1: bool = True, user: str = USER, password: str = PASSWORD,
                features: int = OFFER, keys=(), **startup_kwargs) -> list:
        """STARTUP + AUTH_RESPONSE; returns the frames after AUTH_RESPONSE up to READY/ERROR."""
        params = [("database", "default"), ("user", user)] + list(keys)
        self.layout = "p1" if p1 else "legacy"
        self.send(C.STARTUP, cm.encode_startup_p1(params, features=features, **startup_kwargs)
                  if p1 else cm.encode_startup_legacy(params))
        request = self.read()
        assert request is not None and request.msg_type == C.AUTH_REQUEST, request
        self.send(C.AUTH_RESPONSE, password.encode())
        return self.read_until(C.READY, C.ERROR, eof_ok=True)

    def query(self, sql: str, flags: int = 0, txn: int = 0) -> list:
        return self.pipeline(fr(C.QUERY, cm.encode_query(sql, flags), txn=txn))

    def ok(self, sql: str) -> list:
        frames = self.query(sql)
        assert C.ERROR not in types(frames), error_of(frames)
        return frames

    def rows(self, frames) -> List[tuple]:
        """DATA_ROW values as the server's text (raw_text: no NULL mapping, no conversion)."""
        out, decoder = [], None
        for f in frames:
            if f.msg_type == C.ROW_DESCRIPTION:
                oids = [col.type_oid for col in sm.parse_row_description(f.payload, self.layout).columns]
                decoder = rowcodec.TextRowDecoder(oids, raw_text=True)
            elif f.msg_type == C.DATA_ROW:
                out.append(decoder.decode_row(f.payload))
        return out


def logged_in(server, **startup) -> RawClient:
    client = RawClient.connect(server.port)
    assert types(client.startup(**startup))[-1] == C.READY
    return client


def types(frames) -> list:
    return [f.msg_type for f in frames]


def error_of(frames) -> dict:
    return next((sm.parse_error(f.payload) for f in frames if f.msg_type == C.ERROR), {})


def ready_of(frame, layout: str = "p1") -> sm.Ready:
    assert frame.msg_type == C.READY and sm.parse_ready(frame.payload).layout == layout
    return sm.parse_ready(frame.payload)


def cc_of(frames) -> List[sm.CommandComplete]:
    return [sm.parse_command_complete(f.payload) for f in frames if f.msg_type == C.COMMAND_COMPLETE]


def assert_fatal(client: RawClient, sqlstate: str, message: str, detail: Optional[str] = None):
    frame = client.read()
    assert frame is not None and frame.msg_type == C.ERROR, frame
    fields = sm.parse_error(frame.payload)
    assert fields["S"] == "ERROR" and fields["C"] == sqlstate and fields["M"] == message, fields
    if detail is not None:
        assert fields.get("D") == detail, fields
    client.expect_eof()
    return frame, fields


def assert_alive(server: DevServer, context=None) -> None:
    """The server still serves a fresh connection after a misbehaving one."""
    client = RawClient.connect(server.port, context)
    try:
        assert types(client.startup())[-1] == C.READY
        assert client.rows(client.ok("SELECT 41 + 1 AS answer")) == [("42",)]
    finally:
        client.close()


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def server():
    with DevServer(tls="off", user=USER, password=PASSWORD, dbname="default",
                   users={"alice": "wonder-land"}) as srv:
        yield srv


@pytest.fixture(scope="module")
def tls_server():
    with DevServer(tls="required", user=USER, password=PASSWORD) as srv:
        yield srv


@pytest.fixture
def client(server):
    c = logged_in(server)
    yield c
    c.close()


@pytest.fixture
def verify_context(tls_server):
    ctx = ssl.create_default_context(cafile=tls_server.cafile)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    if hasattr(ssl, "VERIFY_X509_STRICT"):
        ctx.verify_flags |= ssl.VERIFY_X509_STRICT
    return ctx


_table_counter = iter(range(10 ** 6))


def table_name(prefix: str) -> str:
    return f"{prefix}_{os.getpid()}_{next(_table_counter)}"


# ---------------------------------------------------------------- handshakes (3.4-3.14)


def test_p1_handshake_frames_sequence_and_ids(server):
    c = RawClient.connect(server.port)
    c.send(C.STARTUP, cm.encode_startup_p1([("database", "default"), ("user", USER),
                                            ("application_name", "pytest"), ("timezone", "UTC")],
                                           features=OFFER))
    req = c.read()
    assert (req.msg_type, req.sequence, req.attachment_id, req.txn_id) == (C.AUTH_REQUEST, 0, C.ZERO_UUID, 0)
    assert bytes(req.payload) == b"\x01\x00\x00\x00"
    c.send(C.AUTH_RESPONSE, PASSWORD.encode())
    frames = c.read_n(4)
    assert types(frames) == [C.AUTH_OK, C.SERVER_INFO, C.PARAMETER_STATUS, C.READY]
    assert [f.sequence for f in frames] == [1, 2, 3, 4]
    auth_ok = sm.parse_auth_ok(frames[0].payload)
    session, txn = auth_ok.session_id, frames[0].txn_id
    assert len(frames[0].payload) == 20 and auth_ok.info == b"" and txn != 0
    assert session[6] >> 4 == 7 and session[8] >> 6 == 2            # time-ordered, UUIDv7-like
    assert all(f.attachment_id == session and f.txn_id == txn for f in frames)
    info = sm.parse_server_info(frames[1].payload)
    assert len(frames[1].payload) == 127 and (info.session_id, info.product, info.channel, info.dialect,
                                               info.supported_features) == (
        session, "ScratchBird native SBWP P1", "public-alpha", "sbsql", SUPPORTED)
    status = sm.parse_parameter_status(frames[2].payload)
    assert list(status) == P1_KEYS + ["timezone", "application_name"]
    assert [status[k] for k in ("protocol.selected_version", "protocol.negotiated_features",
                                "session.principal_claim", "current_txn_id", P1_KEYS[-1],
                                "application_name", "timezone")] == \
        ["1.1", str(OFFER & SUPPORTED), USER, str(txn), str(txn - 1), "pytest", "UTC"]
    ready = ready_of(frames[3])
    assert (ready.txn_id, ready.status, ready.reason, ready.version, ready.features) == \
        (txn, ord("T"), 1, 0x0101, OFFER & SUPPORTED)
    assert ready.session_id == ready.attachment_id == session
    c.close()


def test_legacy_handshake_uses_legacy_frames(server):
    c = RawClient.connect(server.port)
    frames = c.startup(p1=False)
    assert types(frames) == [C.AUTH_OK, C.READY] and [f.sequence for f in frames] == [1, 2]
    ready = ready_of(frames[1], "legacy")
    assert len(frames[1].payload) == 20 and ready.status == 1 and ready.txn_id == frames[1].txn_id != 0
    assert bytes(frames[1].payload[12:20]) == struct.pack("<Q", ready.txn_id)  # epoch = txn
    rd, dr, cc, rdy = c.ok("SELECT 'abc' AS t")
    assert types([rd, dr, cc, rdy]) == [C.ROW_DESCRIPTION, C.DATA_ROW, C.COMMAND_COMPLETE, C.READY]
    # legacy layout: 4-byte head, lpstr "t", 20 fixed bytes (as in the 11.10 dump; the
    # prose of 4.3 says 18, which leaves out the trailing reserved u16)
    assert len(rd.payload) == 4 + 4 + 1 + 20
    assert [col.name for col in sm.parse_row_description(rd.payload, "legacy").columns] == ["t"]
    assert len(rdy.payload) == 20
    c.close()


def _startup_with_extension(flags: int) -> bytes:
    base = cm.encode_startup_p1([("user", USER)], features=OFFER)
    return base[:-4] + struct.pack("<I", 1) + cm.lpstr("x.ext") + struct.pack("<HHHI", 1, 0, 0, flags)


P1 = cm.encode_startup_p1
REFUSALS = {   # REFERENCE 3.5 and the 12 negotiation steps of 3.6, in order
    "legacy>=84": (cm.encode_startup_legacy([("user", USER), ("application_name", "x" * 60)]),
                   "08P01", "SBWP.VERSION.NO_COMMON_VERSION"),
    "min>max": (P1([], max_version=0x0100), "08P01", "SBWP.VERSION.NO_COMMON_VERSION"),
    "no-common": (P1([], min_version=0x0200, max_version=0x0201), "08P01", "SBWP.VERSION.NO_COMMON_VERSION"),
    "flag-unknown": (P1([], connect_flags=0x20), "08P01", "NATIVE_WIRE.CONNECT_INVALID_PAYLOAD"),
    "flag-conflict": (P1([], connect_flags=0x11), "08P01", "NATIVE_WIRE.CONNECT_INVALID_PAYLOAD"),
    "p1-bit-on-1.0": (P1([], min_version=0x0100, max_version=0x0100, features=1 << 16, required=1 << 16),
                      "0A000", "SBWP.FEATURE.REQUIRED_UNSUPPORTED"),
    "unknown-required": (P1([], features=1 << 30, required=1 << 30), "08P01",
                         "SBWP.FEATURE.UNKNOWN_REQUIRED"),
    "not-offered": (P1([], features=0, required=1 << 9), "08P01", "NATIVE_WIRE.CONNECT_INVALID_PAYLOAD"),
    "unsupported": (P1([], features=1 << 3, required=1 << 3), "0A000", "SBWP.FEATURE.REQUIRED_UNSUPPORTED"),
    "unknown-key": (P1([("user", USER), ("dormant_id", "x")]), "08P01", "NATIVE_WIRE.CONNECT_UNKNOWN_KEY"),
    "trailing": (P1([("user", USER)]) + b"\x00", "08P01", "NATIVE_WIRE.CONNECT_INVALID_PAYLOAD"),
    "no-ext-count": (P1([("user", USER)])[:-4], "08P01", "SBWP.EXTENSION.REQUIRED_UNSUPPORTED"),
    "required-ext": (_startup_with_extension(0x01), "08P01", "SBWP.EXTENSION.UNKNOWN_REQUIRED"),
    "bad-ext-flags": (_startup_with_extension(0x04), "08P01", "SBWP.EXTENSION.REQUIRED_UNSUPPORTED"),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_startup_negotiation_refusals(server, case):
    payload, sqlstate, message = REFUSALS[case]
    c = RawClient.connect(server.port)
    c.send(C.STARTUP, payload)
    frame, fields = assert_fatal(c, sqlstate, message)
    assert (frame.sequence, frame.attachment_id, frame.txn_id) == (0, C.ZERO_UUID, 0) and fields["D"]
    if case == "legacy>=84":
        assert fields["D"] == "startup protocol_min_version is greater than protocol_max_version"
        assert_alive(server)


def test_ignorable_extension_and_version_1_0(server):
    c = RawClient.connect(server.port)
    frames = c.startup(min_version=0x0100, max_version=0x0100)
    status = sm.parse_parameter_status(frames[2].payload)
    granted = OFFER & SUPPORTED & ~sum(1 << b for b in range(13, 25))
    assert (status["protocol.selected_version"], status["protocol.negotiated_features"]) == \
        ("1.0", str(granted))
    ready = ready_of(frames[-1])
    assert ready.version == 0x0100 and ready.features == granted and len(frames[-1].payload) == 76
    c.close()
    c = RawClient.connect(server.port)
    c.send(C.STARTUP, _startup_with_extension(0x02))
    assert c.read().msg_type == C.AUTH_REQUEST
    c.close()


@pytest.mark.parametrize("user, password", [(USER, "not-the-password"), ("nobody", PASSWORD),
                                            (USER, ""), (USER, PASSWORD + ";x")])
def test_wrong_password_or_unknown_user(server, user, password):
    c = RawClient.connect(server.port)
    frames = c.startup(user=user, password=password)
    assert types(frames) == [C.ERROR]
    assert (frames[0].sequence, frames[0].attachment_id, frames[0].txn_id) == (1, C.ZERO_UUID, 0)
    assert sm.parse_error(frames[0].payload) == {
        "S": "ERROR", "C": "28000", "M": "Authentication failed.", "D": "SECURITY.AUTHENTICATION.FAILED"}
    c.expect_eof()
    assert_alive(server)


def test_extra_user_database_check_and_auth_response_order(server):
    c = RawClient.connect(server.port)
    frames = c.startup(user="alice", password="wonder-land")
    assert sm.parse_parameter_status(frames[2].payload)["session.principal_claim"] == "alice"
    c.close()
    c = RawClient.connect(server.port)
    c.send(C.STARTUP, cm.encode_startup_p1([("database", "elsewhere"), ("user", USER)]))
    assert c.read().msg_type == C.AUTH_REQUEST
    c.send(C.AUTH_RESPONSE, PASSWORD.encode())
    _frame, fields = assert_fatal(c, "28000", "Authentication requested a database that is not "
                                  "associated with this server route.")
    assert fields["D"] == "PARSER_SERVER_IPC.AUTH_DATABASE_MISMATCH"
    c = RawClient.connect(server.port)                 # anything but AUTH_RESPONSE is fatal
    c.send(C.STARTUP, cm.encode_startup_p1([("user", USER)]))
    assert c.read().msg_type == C.AUTH_REQUEST
    c.send(C.QUERY, cm.encode_query("SELECT 1"))
    assert_fatal(c, "08P01", "expected AUTH_RESPONSE after AUTH_REQUEST")


def test_requests_before_startup(server):
    c = RawClient.connect(server.port)
    c.sock.sendall(fr(C.QUERY, cm.encode_query("SELECT 1")) + fr(C.PING, b"pp"))
    error, ready, pong = c.read_n(3)
    assert sm.parse_error(error.payload) == {"S": "ERROR", "C": "28000", "M": "authentication required"}
    assert (error.sequence, error.txn_id, error.attachment_id) == (0, 0, C.ZERO_UUID)
    assert bytes(ready.payload) == bytes(20)          # legacy READY, no transaction
    assert pong.msg_type == C.PONG and bytes(pong.payload) == b"pp"
    c.close()


# ---------------------------------------------------------------- transport (3.2, 3.3)


def test_tls13_handshake_verifies_against_generated_cert(tls_server, verify_context):
    assert tls_server.cafile and os.path.exists(tls_server.cafile)
    assert "sslmode=verify-full" in tls_server.dsn
    for hostname in ("localhost", "127.0.0.1"):
        c = RawClient.connect(tls_server.port, verify_context, server_hostname=hostname)
        assert c.sock.version() == "TLSv1.3" and c.sock.getpeercert()["subjectAltName"]
        assert types(c.startup()) == [C.AUTH_OK, C.SERVER_INFO, C.PARAMETER_STATUS, C.READY]
        assert c.rows(c.ok("SELECT 'over tls' AS v")) == [("over tls",)]
        c.close()


def test_tls12_only_client_is_refused(tls_server, verify_context):
    verify_context.minimum_version = verify_context.maximum_version = ssl.TLSVersion.TLSv1_2
    sock = socket.create_connection(("127.0.0.1", tls_server.port), timeout=20)
    with pytest.raises((ssl.SSLError, ConnectionResetError)):
        verify_context.wrap_socket(sock, server_hostname="localhost")
    sock.close()
    assert_alive(tls_server, ssl.create_default_context(cafile=tls_server.cafile))


def test_plaintext_probe_to_tls_port_is_dropped(tls_server):
    c = RawClient.connect(tls_server.port)
    c.send(C.STARTUP, cm.encode_startup_p1([("user", USER)]))
    c.expect_eof()                                     # reset or close, and no data
    assert_alive(tls_server, ssl.create_default_context(cafile=tls_server.cafile))


@pytest.mark.parametrize("first_bytes", [b"HELLO\n", b"", b"SBW"])
def test_plaintext_port_banner_for_non_sbwp_bytes(server, first_bytes):
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=20)
    sock.sendall(first_bytes)                          # nothing at all: the 100 ms pass
    received = b""
    try:
        for data in iter(lambda: sock.recv(4096), b""):
            received += data
    except ConnectionResetError:
        pass
    assert received == b"ScratchBird SBSQL parser ready\n"
    sock.close()
    assert_alive(server)


def _bad_after_handshake(server, raw: bytes) -> RawClient:
    (c := logged_in(server)).sock.sendall(raw)
    return c


@pytest.mark.parametrize("raw", [
    b"XBWP" + bytes(36),                                                      # bad magic
    b"SBWP\x01\x02" + bytes(34),                                              # bad version
    framing.encode_header(C.QUERY, 0)[:8] + struct.pack("<I", C.MAX_PAYLOAD + 1) + bytes(28),
    fr(C.QUERY, cm.encode_query("SELECT 1"))[:50],                            # truncated, EOF
], ids=["magic", "version", "length>64MiB", "truncated"])
def test_header_problems_are_a_silent_close(server, raw):
    c = _bad_after_handshake(server, raw)
    c.sock.shutdown(socket.SHUT_WR)
    c.expect_eof()
    if raw.startswith(b"SBWP\x01\x02"):               # also as the very first bytes
        c = RawClient.connect(server.port)
        c.sock.sendall(raw)
        c.expect_eof()
    assert_alive(server)


# ---------------------------------------------------------------- frame checks (2.2, 9.2)


@pytest.mark.parametrize("flags, message", [(0x10, "SBWP.HEADER.RESERVED_BITS_SET"),
                                            (0x80, "SBWP.HEADER.RESERVED_BITS_SET"),
                                            (0x01, "SBWP.COMPRESSION.UNNEGOTIATED_FRAME")])
def test_bad_flags_are_fatal(server, flags, message):
    c = _bad_after_handshake(server, fr(C.QUERY, cm.encode_query("SELECT 1"), flags=flags))
    frame, _ = assert_fatal(c, "08P01", message)
    assert frame.txn_id == c.txn and frame.sequence == 5
    assert_alive(server)


@pytest.mark.parametrize("msg_type", [C.FLUSH, 0x30, C.ATTACH_CREATE, C.FEDERATED_QUERY])
def test_unknown_frame_types_are_fatal(server, msg_type):
    c = _bad_after_handshake(server, fr(msg_type))
    assert_fatal(c, "08P01", "NATIVE_WIRE.PROTOCOL_FATAL", "unknown SBWP frame type is not recoverable")
    assert_alive(server)


@pytest.mark.parametrize("msg_type, features", [
    (C.TXN_SAVEPOINT, 0), (C.LOB_CLOSE, OFFER), (C.STREAM_CONTROL, OFFER), (C.EXTENSION, OFFER),
    (C.RESET_SESSION, 0)])
def test_feature_gated_frames_without_their_bit_are_fatal(server, msg_type, features):
    c = logged_in(server, features=features)
    c.send(msg_type, cm.encode_savepoint("sp"))
    # the real server prints the type in decimal after "0x" (2.2)
    assert_fatal(c, "08P01", "SBWP.FEATURE.NOT_NEGOTIATED",
                 f"frame 0x{msg_type} requires a feature that was not negotiated for this session")
    assert_alive(server)


def test_fragmented_query_needs_streaming(server):
    c = logged_in(server)
    sql = cm.encode_query("SELECT 'frag' || 'ment' AS v")
    frames = c.pipeline(fr(C.QUERY, sql[:10], flags=0x02), fr(C.QUERY, sql[10:20], flags=0x02),
                        fr(C.QUERY, sql[20:], flags=0x04))
    assert c.rows(frames) == [("fragment",)]
    c.sock.sendall(fr(C.QUERY, sql[:10], flags=0x02) + fr(C.PING, b""))
    assert_fatal(c, "08P01", "SBWP.PARTIAL_QUERY.INVALID_MESSAGE")
    c = logged_in(server, features=0)
    c.send(C.QUERY, sql, flags=0x04)
    assert_fatal(c, "08P01", "SBWP.FEATURE.NOT_NEGOTIATED")


# ---------------------------------------------------------------- SQL round trips (4, 6)


def test_ddl_insert_select_round_trip(client):
    t = table_name("rt")
    frames = client.ok(f"CREATE TABLE {t} (id INTEGER, name VARCHAR, amount DECIMAL(10,2), ok BOOLEAN)")
    assert types(frames)[-2:] == [C.COMMAND_COMPLETE, C.READY]
    frames = client.ok(f"INSERT INTO {t} (id, name, amount, ok) VALUES (1, 'one', 1.50, TRUE), "
                       f"(2, 'two', 2.25, FALSE)")
    assert (cc_of(frames)[-1].tag, cc_of(frames)[-1].rows) == ("INSERT 2", 2)   # 12.B.3
    frames = client.ok(f"SELECT id, name, amount, ok FROM {t} ORDER BY id")
    assert types(frames) == [C.ROW_DESCRIPTION, C.DATA_ROW, C.DATA_ROW, C.COMMAND_COMPLETE, C.READY]
    rd = sm.parse_row_description(frames[0].payload, "p1")
    assert [c.name for c in rd.columns] == ["id", "name", "amount", "ok"]
    assert [c.type_oid for c in rd.columns] == [20, 25, 1700, 16]  # inferred from the first row
    assert client.rows(frames) == [("1", "one", "1.50", "true"), ("2", "two", "2.25", "false")]
    cc = cc_of(frames)[0]
    assert (cc.command_type, cc.rows, cc.last_insert_id, cc.tag) == (1, 2, 0, "SELECT 2")
    assert ready_of(frames[-1]).reason == 2 and ready_of(frames[-1]).txn_id == frames[-1].txn_id
    seqs = [f.sequence for f in frames]
    assert seqs == list(range(seqs[0], seqs[0] + len(frames)))
    assert types(client.ok(f"SELECT * FROM {t} WHERE id = 99")) == [C.COMMAND_COMPLETE, C.READY]


def test_commit_and_rollback_frames_and_sql_move_the_txn(server, client):
    t = table_name("tx")
    client.ok(f"CREATE TABLE {t} (id INTEGER)")
    for payload, tag in ((cm.encode_txn_commit(), "COMMIT"), (cm.encode_txn_rollback(), "ROLLBACK")):
        before = client.txn
        client.ok(f"INSERT INTO {t} (id) VALUES (1)")
        cc, ready = client.pipeline(fr(C.TXN_COMMIT if tag == "COMMIT" else C.TXN_ROLLBACK, payload))
        assert sm.parse_command_complete(cc.payload).tag == tag and ready_of(ready).reason == 2
        assert cc.txn_id == ready.txn_id == ready_of(ready).txn_id != before   # 12.B.4
    client.ok(f"INSERT INTO {t} (id) VALUES (2)")
    for bad in (b"", b"\x00\x01\x00\x00", bytes(5)):   # refused, nothing committed
        error, ready = client.pipeline(fr(C.TXN_COMMIT, bad))
        assert error_of([error])["M"] == "SBWP.COMMIT.IDEMPOTENCY_PAYLOAD_INVALID"
        assert ready_of(ready).reason == 3
    frames = client.pipeline(fr(C.TXN_BEGIN))
    assert cc_of(frames)[0].tag == "BEGIN" and ready_of(frames[1]).reason == 2
    before = client.txn
    cc, ready = client.ok("COMMIT")                    # SQL COMMIT, same rules
    assert cc_of([cc])[0].tag == "COMMIT" and cc.txn_id == ready.txn_id != before
    other = logged_in(server)
    assert other.rows(other.ok(f"SELECT id FROM {t} ORDER BY id")) == [("1",), ("2",)]
    other.close()


def test_multi_statement_and_errors(client):
    frames = client.ok("SELECT 1; SELECT 2")
    assert types(frames) == [C.ROW_DESCRIPTION, C.DATA_ROW, C.COMMAND_COMPLETE] * 2 + [C.READY]
    assert [cc.tag for cc in cc_of(frames)] == ["SELECT 1", "SELECT 1"]
    assert client.rows(frames[3:]) == [("2",)]
    frames = client.query("SELECT 1; SELECT * FROM no_such_table_here; SELECT 3")
    assert types(frames) == [C.ROW_DESCRIPTION, C.DATA_ROW, C.COMMAND_COMPLETE, C.ERROR, C.READY]
    assert error_of(frames)["C"] == "42000" and ready_of(frames[-1]).reason == 3
    frames = client.query("SELECT * FROM no_such_table_here")
    assert types(frames) == [C.ERROR, C.READY] and ready_of(frames[-1]).reason == 2
    assert set(error_of(frames)) == {"S", "C", "M", "D"}
    for empty in ("", "   "):
        frames = client.ok(empty)
        assert types(frames) == [C.COMMAND_COMPLETE, C.READY] and cc_of(frames)[0].tag == "EMPTY"


def test_txn_mismatch_errors_then_still_runs(client):
    wrong = client.txn + 1000
    frames = client.query("SELECT 7 AS seven", txn=wrong) + client.read_until(C.READY)
    assert types(frames) == [C.ERROR, C.READY, C.ROW_DESCRIPTION, C.DATA_ROW, C.COMMAND_COMPLETE, C.READY]
    assert error_of(frames) == {"S": "ERROR", "C": "25000", "M": "SBWP.TRANSACTION_ID_MISMATCH",
                                "D": "QUERY frame transaction does not match the current engine transaction"}
    assert [ready_of(f).reason for f in frames if f.msg_type == C.READY] == [3, 2]
    assert client.rows(frames) == [("7",)]
    before = client.txn
    frames = client.pipeline(fr(C.TXN_COMMIT, cm.encode_txn_commit(), txn=wrong)) + client.read_until(C.READY)
    assert types(frames) == [C.ERROR, C.READY, C.COMMAND_COMPLETE, C.READY]
    assert error_of(frames)["D"].startswith("TXN_COMMIT frame")
    assert frames[-1].txn_id != before                # the commit happened anyway
    assert C.ERROR not in types(client.query("SELECT 1", txn=client.txn))     # the right id passes


def test_autocommit_flag_isolation_and_terminate_rollback(server, client):
    t = table_name("ac")
    client.query(f"CREATE TABLE {t} (id INTEGER)", flags=C.QUERY_FLAG_AUTOCOMMIT)
    before = client.txn
    client.query(f"INSERT INTO {t} (id) VALUES (5)", flags=C.QUERY_FLAG_AUTOCOMMIT)
    assert client.txn != before
    client.ok(f"INSERT INTO {t} (id) VALUES (6)")      # not committed
    other = logged_in(server)
    assert other.rows(other.ok(f"SELECT id FROM {t}")) == [("5",)]
    client.send(C.TERMINATE)
    client.expect_eof()
    assert other.rows(other.ok(f"SELECT id FROM {t}")) == [("5",)]
    other.close()


def test_large_result_streams_every_row(client):
    frames = client.ok("SELECT i, 'row-' || i AS label FROM range(50000) t(i)")
    assert types(frames[:1]) == [C.ROW_DESCRIPTION]
    assert sum(1 for f in frames if f.msg_type == C.DATA_ROW) == 50000
    assert (cc_of(frames)[0].rows, cc_of(frames)[0].tag) == (50000, "SELECT 50000")


# ---------------------------------------------------------------- extended protocol (5)


def test_extended_pipeline(client):
    t = table_name("ext")
    client.ok(f"CREATE TABLE {t} (id INTEGER, name VARCHAR)")
    client.ok(f"INSERT INTO {t} (id, name) VALUES (1, 'alpha'), (2, 'beta')")
    frames = client.pipeline(
        fr(C.PARSE, cm.encode_parse("s1", f"SELECT id, name FROM {t} WHERE name = $1", [25])),
        fr(C.DESCRIBE, cm.encode_describe("S", "s1")), fr(C.BIND, cm.encode_bind("", "s1", [b"alpha"])),
        fr(C.EXECUTE, cm.encode_execute("")), fr(C.SYNC))
    assert types(frames) == [C.PARSE_COMPLETE, C.PARAMETER_DESCRIPTION, C.BIND_COMPLETE,
                             C.ROW_DESCRIPTION, C.DATA_ROW, C.COMMAND_COMPLETE, C.READY]
    assert sm.parse_parameter_description(frames[1].payload, "p1") == [25]
    assert len(frames[1].payload) == 72 + 177 and client.rows(frames) == [("1", "alpha")]
    # binary int8 parameter, then re-EXECUTE of the same portal without a new BIND
    frames = client.pipeline(
        fr(C.PARSE, cm.encode_parse("s2", f"SELECT name FROM {t} WHERE id = ?", [20])),
        fr(C.BIND, cm.encode_bind("p", "s2", [struct.pack("<q", 2)], formats=[1])),
        fr(C.EXECUTE, cm.encode_execute("p")), fr(C.EXECUTE, cm.encode_execute("p")), fr(C.SYNC))
    assert client.rows(frames) == [("beta",), ("beta",)] and types(frames).count(C.READY) == 1
    # errors: no READY until SYNC, later frames still processed
    frames = client.pipeline(
        fr(C.BIND, cm.encode_bind("", "nope", [b"1"])), fr(C.EXECUTE, cm.encode_execute("missing")),
        fr(C.PARSE, cm.encode_parse("bad", "SELECT * FROM no_such_table_here")),
        fr(C.BIND, cm.encode_bind("b", "bad", [])), fr(C.EXECUTE, cm.encode_execute("b")),
        fr(C.CLOSE, cm.encode_close("S", "s1")), fr(C.SYNC))
    assert types(frames) == [C.ERROR, C.ERROR, C.PARSE_COMPLETE, C.BIND_COMPLETE, C.ERROR,
                             C.CLOSE_COMPLETE, C.READY]
    errors = [sm.parse_error(f.payload) for f in frames if f.msg_type == C.ERROR]
    assert errors[:2] == [{"S": "ERROR", "C": "08P01", "M": "invalid BIND payload"},
                          {"S": "ERROR", "C": "34000", "M": "bound portal not found"}]
    assert errors[2]["C"] == "42000"
    client.send(C.BIND, cm.encode_bind("", "s1", [b"alpha"]))   # s1 was closed
    assert error_of([client.read()])["M"] == "invalid BIND payload"
    client.sock.sendall(fr(C.SYNC) + fr(C.SYNC) + fr(C.PING, b"after-sync"))
    assert types(client.read_n(2)) == [C.READY, C.PONG]      # the second SYNC: no reply
    client.ok("SELECT 1")
    client.sock.sendall(fr(C.SYNC) + fr(C.PING, b"x"))      # SYNC after a simple QUERY: nothing
    assert client.read().msg_type == C.PONG


def test_bind_literals_nulls_and_legacy_parameter_description(server):
    c = logged_in(server, p1=False)
    frames = c.pipeline(
        fr(C.PARSE, cm.encode_parse("q", "SELECT ? AS a, ? AS b, $1 AS c -- ? not a marker")),
        fr(C.DESCRIBE, cm.encode_describe("S", "q")), fr(C.DESCRIBE, cm.encode_describe("S", "unknown")),
        fr(C.BIND, cm.encode_bind("", "q", [b"x'y", None])), fr(C.EXECUTE, cm.encode_execute("")),
        fr(C.SYNC))
    assert types(frames) == [C.PARSE_COMPLETE, C.PARAMETER_DESCRIPTION, C.PARAMETER_DESCRIPTION,
                             C.BIND_COMPLETE, C.ROW_DESCRIPTION, C.DATA_ROW, C.COMMAND_COMPLETE, C.READY]
    assert bytes(frames[1].payload) == b"\x02\x00\x00\x00" + bytes(8)   # two inferred params
    assert bytes(frames[2].payload) == bytes(4)
    assert c.rows(frames) == [("x'y", "NULL", "x'y")]              # a bound NULL: text NULL
    c.close()


# ---------------------------------------------------------------- other frames (7)


def test_ping_set_option_and_reset_session(client):
    for payload in (b"", struct.pack("<Q", 123456789), os.urandom(18)):
        client.send(C.PING, payload)
        frame = client.read()
        assert frame.msg_type == C.PONG and bytes(frame.payload) == payload   # no READY
    status, ready = client.pipeline(fr(C.SET_OPTION, cm.encode_set_option("copy_window_bytes", "65536")))
    assert sm.parse_parameter_status(status.payload) == {"session.option": "updated",
                                                        "copy_window_bytes": "65536"}
    assert ready_of(ready).reason == 7
    for bad in (cm.encode_set_option("", "x"), b"\x01", cm.encode_set_option("a", "b") + b"!"):
        error, ready = client.pipeline(fr(C.SET_OPTION, bad))
        assert error_of([error]) == {
            "S": "ERROR", "C": "08P01", "M": "SBWP.SET_OPTION.INVALID_PAYLOAD",
            "D": "SetOption requires one non-empty option name and one bounded value"}
        assert ready_of(ready).reason == 3
    client.send(C.PARSE, cm.encode_parse("keep", "SELECT 1"))
    assert client.read().msg_type == C.PARSE_COMPLETE
    error, ready = client.pipeline(fr(C.RESET_SESSION, bytes(18)))
    assert (error_of([error])["C"], error_of([error])["M"], ready_of(ready).reason) == \
        ("25001", "NATIVE_WIRE.RESET_REFUSED_OPEN_TRANSACTION", 3)
    before = client.txn
    status, ready = client.pipeline(fr(C.RESET_SESSION, cm.encode_reset_session(rollback=True)))
    assert sm.parse_parameter_status(status.payload) == {"session.reset": "complete",
                                                        "protocol.selected_version": "1.1"}
    assert ready_of(ready).reason == 4 and ready.txn_id != before and status.txn_id == ready.txn_id
    client.send(C.BIND, cm.encode_bind("", "keep", []))      # statements were cleared
    assert error_of([client.read()])["M"] == "invalid BIND payload"


def test_savepoint_frames(client):
    for msg_type, tag in ((C.TXN_SAVEPOINT, "SAVEPOINT"), (C.TXN_ROLLBACK_TO, "ROLLBACK"),
                          (C.TXN_RELEASE, "RELEASE")):
        frames = client.pipeline(fr(msg_type, cm.encode_savepoint("sp_1")))
        assert cc_of(frames)[0].tag == tag and ready_of(frames[1]).reason == 2
    for bad in (cm.encode_savepoint("bad name"), b"", cm.encode_savepoint("x") + b"!"):
        frames = client.pipeline(fr(C.TXN_SAVEPOINT, bad))
        assert error_of(frames)["M"] == "SBWP.SAVEPOINT.INVALID_PAYLOAD" and ready_of(frames[1]).reason == 3
    frames = client.pipeline(fr(C.TXN_ROLLBACK_TO, cm.encode_savepoint("never_set")))   # 12.B.4
    assert error_of(frames)["C"] == "42000" and ready_of(frames[1]).reason == 2


def test_cancel_heartbeat_reauth_trace_and_late_auth_response(client):
    ack, cancelled, ready = client.pipeline(fr(C.CANCEL, struct.pack("<II", 1, 2)))
    assert types([ack, cancelled]) == [C.CANCEL_ACK, C.CANCELLED] and ready_of(ready).reason == 6
    assert bytes(ack.payload) == bytes.fromhex("292d6577f82d7968a92d6577f82d8968") + b"\x01"
    assert b"cancel_target_not_found" in bytes(cancelled.payload)
    for msg_type in (C.HEARTBEAT, C.AUTH_RESPONSE):
        frames = client.pipeline(fr(msg_type, b"x"))
        assert error_of(frames) == {"S": "ERROR", "C": "08P01", "M": "unsupported SBWP frame"}
        assert ready_of(frames[1]).reason == 2
    status, ready = client.pipeline(fr(C.REAUTH, b"token"))
    assert sm.parse_parameter_status(status.payload) == {"security.generation": "refreshed"}
    assert ready_of(ready).reason == 5
    traceparent = "00-" + "1" * 32 + "-" + "2" * 16 + "-01"
    status, ready = client.pipeline(fr(C.TRACE_CONTEXT, bytes(16) + cm.lpstr(traceparent)
                                       + cm.lpstr("") + bytes(2)))
    assert sm.parse_parameter_status(status.payload) == {"traceparent": "present"}
    assert ready_of(ready).reason == 7
    assert error_of(client.pipeline(fr(C.TRACE_CONTEXT, b"\x00\x01")))["M"] == \
        "NATIVE_WIRE.TRACE_CONTEXT_INVALID"


# ---------------------------------------------------------------- API and CLI


def test_devserver_api_validation_and_dsn():
    for bad in (dict(profile="native"), dict(tls="maybe"), dict(keyfile="k.pem")):
        with pytest.raises(ValueError):
            DevServer(**bad)
    srv = DevServer(tls="off", user="us er", password="p@ss:/w", dbname="db1")
    assert srv.cafile is None and not srv.running
    with srv:
        assert srv.port > 0 and srv.running
        assert srv.dsn == f"scratchbird://us%20er:p%40ss%3A%2Fw@127.0.0.1:{srv.port}/db1?sslmode=disable"
        c = RawClient.connect(srv.port)
        assert types(c.startup(user="us er", password="p@ss:/w", keys=[("database", "db1")]))[-1] == C.READY
        c.close()
    assert not srv.running


def test_cli_prints_dsn_serves_and_exits_cleanly_on_sigterm():
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(SRC)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    proc = subprocess.Popen([sys.executable, "-m", "scratchbird.devserver", "--port", "0",
                             "--user", "cli", "--password", "cli-pw"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("scratchbird://cli:cli-pw@127.0.0.1:"), line
        url = urlparse(line)
        query = parse_qs(url.query)
        assert query["sslmode"] == ["verify-full"]
        cafile = unquote(query["sslrootcert"][0])
        c = RawClient.connect(url.port, ssl.create_default_context(cafile=cafile), "127.0.0.1")
        assert types(c.startup(user="cli", password="cli-pw")) == \
            [C.AUTH_OK, C.SERVER_INFO, C.PARAMETER_STATUS, C.READY]
        assert c.rows(c.ok("SELECT 'cli' AS v")) == [("cli",)]
        c.close()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        assert not os.path.exists(cafile)              # the generated cert dir is removed
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
