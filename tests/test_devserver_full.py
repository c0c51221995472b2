"""The dev server's ``full`` profile on the wire: SCRAM-SHA-256, zstd, binary values.

Raw clients over real TCP to a real DevServer running real DuckDB: the handshake goes
through the driver's I/O-free ``ClientProtocol`` (fed bytes by hand), everything after it
is frames built and parsed with the message codecs, values decoded with ``bincodec``.
Expected values come from DuckDB itself, run locally on the same data.
"""
from __future__ import annotations

import base64
import datetime as dt
import socket
import struct
import uuid
from decimal import Decimal

import duckdb
import pytest

from scratchbird import _auth_messages as am
from scratchbird import _client_messages as cm
from scratchbird import _constants as C
from scratchbird import _server_messages as sm
from scratchbird._impl import bincodec, framing, rowcodec
from scratchbird._protocol import ClientProtocol
from scratchbird._scram import ScramClient
from scratchbird.binary_types import Interval, Range
from scratchbird.devserver import DevServer
from scratchbird.errors import AuthenticationError
from tests.sbwp_socket import read_frame

USER, PASSWORD = "sb", "full-pw"
BIN = C.QUERY_FLAG_BINARY_RESULT
UTC = dt.timezone.utc
FULL_MASK = C.SBSQL_SUPPORTED_FEATURES | C.FEATURE_COMPRESSION | C.FEATURE_BINARY_VALUES


# ---------------------------------------------------------------- raw clients


class FrameIO:
    """Frames over a socket through a FrameReader."""

    def __init__(self, sock, reader) -> None:
        self.sock, self.reader = sock, reader

    def read(self):
        """The next frame (decompressed by the reader once bit 0 is granted), None at EOF."""
        return read_frame(self.sock, self.reader)

    def until_ready(self) -> list:
        frames = []
        while (frame := self.read()) is not None:
            frames.append(frame)
            if frame.msg_type == C.READY:
                return frames
        raise AssertionError(f"EOF after {[f.msg_type for f in frames]}")

    def send(self, *frames: bytes) -> None:
        self.sock.sendall(b"".join(frames))


class Client(FrameIO):
    """``ClientProtocol`` for the handshake (SCRAM, compression), then raw frames."""

    def __init__(self, port: int, *, user: str = USER, password: str = PASSWORD,
                 binary: bool = True, compression: bool = False, layout: str = "p1",
                 allow_cleartext: bool = False) -> None:
        self.proto = ClientProtocol(user=user, password=password, database="default",
                                    layout=layout, binary=binary, compression=compression,
                                    allow_cleartext=allow_cleartext)
        super().__init__(socket.create_connection(("127.0.0.1", port), timeout=60),
                         self.proto.reader)

    def handshake(self) -> "Client":
        self.sock.sendall(self.proto.startup_frame())
        while not self.proto.handshake_done:
            out = self.proto.advance_handshake()
            if out:
                self.sock.sendall(out)
            if not self.proto.handshake_done:
                data = self.sock.recv(1 << 20)
                if not data:
                    raise EOFError("server closed during the handshake")
                self.proto.feed(data)
        return self

    def close(self) -> None:
        self.sock.close()

    def query(self, sql: str, flags: int = BIN) -> list:
        self.sock.sendall(self.proto.query_frame(sql, flags))
        return self.until_ready()

    def ok(self, sql: str, flags: int = BIN) -> list:
        frames = self.query(sql, flags)
        assert C.ERROR not in kinds(frames), error_of(frames)
        return frames


def fr(msg_type: int, payload: bytes = b"", flags: int = 0) -> bytes:
    return framing.encode_frame(msg_type, payload, 0, C.ZERO_UUID, 0, flags)


def kinds(frames) -> list:
    return [f.msg_type for f in frames]


def error_of(frames) -> dict:
    return next((sm.parse_error(f.payload) for f in frames if f.msg_type == C.ERROR), {})


def results(frames, layout: str = "p1"):
    """[(columns, rows)] per ROW_DESCRIPTION: binary columns through bincodec, text raw."""
    out, decoder = [], None
    for f in frames:
        if f.msg_type == C.ROW_DESCRIPTION:
            columns = sm.parse_row_description(f.payload, layout).columns
            if all(col.format == 1 for col in columns):
                decoder = bincodec.BinaryRowDecoder(columns)
            else:
                assert all(col.format == 0 for col in columns), "mixed formats"
                decoder = rowcodec.TextRowDecoder([c.type_oid for c in columns], raw_text=True)
            out.append((columns, []))
        elif f.msg_type == C.DATA_ROW:
            out[-1][1].append(decoder.decode_row(f.payload))
    return out


def bitmap_nulls(payload) -> list:
    ncols, nbitmap = struct.unpack_from("<HH", payload)
    return [bool(payload[4 + (i >> 3)] & (1 << (i & 7))) for i in range(ncols)]


def assert_fatal(client, sqlstate: str, message=None, detail=None) -> dict:
    frame = client.read()
    assert frame is not None and frame.msg_type == C.ERROR, frame
    fields = sm.parse_error(frame.payload)
    assert fields["C"] == sqlstate, fields
    if message is not None:
        assert fields["M"] == message, fields
    if detail is not None:
        assert fields.get("D") == detail, fields
    assert client.read() is None, "the server should close after a fatal error"
    return fields


@pytest.fixture(scope="module")
def server():
    with DevServer(profile="full", tls="off", user=USER, password=PASSWORD,
                   users={"alice": "wonder-land"}) as srv:
        yield srv


@pytest.fixture(scope="module")
def sbsql_server():
    with DevServer(profile="sbsql", tls="off", user=USER, password=PASSWORD) as srv:
        yield srv


@pytest.fixture
def client(server):
    c = Client(server.port).handshake()
    yield c
    c.close()


_names = iter(range(10 ** 6))


def table(prefix: str) -> str:
    return f"{prefix}_{next(_names)}"


# ---------------------------------------------------------------- SCRAM-SHA-256 (3.10 [SPEC])


class RawAuth(FrameIO):
    """STARTUP and the SCRAM frames by hand (before READY nothing is compressed)."""

    def __init__(self, port: int, user: str = USER) -> None:
        super().__init__(socket.create_connection(("127.0.0.1", port), timeout=30),
                         framing.FrameReader(check_flags=False))
        self.send(fr(C.STARTUP, cm.encode_startup_p1(
            [("database", "default"), ("user", user)], features=C.CLIENT_OFFERED_FEATURES)))
        self.request = self.read()

    def respond(self, message: bytes):
        self.send(fr(C.AUTH_RESPONSE, message))
        return self.read()

    def server_first(self, scram: ScramClient) -> bytes:
        frame = self.respond(scram.client_first())
        assert frame.msg_type == C.AUTH_CONTINUE, frame
        step = am.parse_auth_continue(frame.payload)
        assert (step.method, step.stage) == (C.AUTH_METHOD_SCRAM_SHA_256, am.STAGE_SERVER_FIRST)
        return step.data


def test_scram_handshake_server_info_and_signature(server):
    raw = RawAuth(server.port)
    assert raw.request.msg_type == C.AUTH_REQUEST
    assert bytes(raw.request.payload) == am.encode_scram_auth_request(["SCRAM-SHA-256"])
    scram = ScramClient(USER, PASSWORD, nonce="fyko+d2lbbFgONRv9qkxdawL")
    first = raw.server_first(scram)
    assert first.startswith(b"r=fyko+d2lbbFgONRv9qkxdawL") and b",i=4096" in first
    frame = raw.respond(scram.client_final(first))
    assert frame.msg_type == C.AUTH_OK and frame.attachment_id != C.ZERO_UUID
    session_id, server_final = am.parse_scram_auth_ok(frame.payload)
    assert session_id == frame.attachment_id and server_final.startswith(b"v=")
    scram.verify_server_final(server_final)            # raises on a forged signature
    rest = raw.until_ready()
    assert kinds(rest) == [C.SERVER_INFO, C.PARAMETER_STATUS, C.READY]
    info = sm.parse_server_info(rest[0].payload)
    assert info.product == "ScratchBird dev server (full profile)"
    assert info.supported_features == FULL_MASK and FULL_MASK & (1 << 0) and FULL_MASK & (1 << 32)
    status = sm.parse_parameter_status(rest[1].payload)
    assert status["session.principal_claim"] == USER
    assert status["session.auth_provider_family"] == "local_password"    # as sbsql
    ready = sm.parse_ready(rest[2].payload)
    assert ready.reason == C.READY_STARTUP and ready.features == C.CLIENT_OFFERED_FEATURES
    raw.sock.close()


def test_scram_through_client_protocol_with_every_feature(server):
    c = Client(server.port, user="alice", password="wonder-land", compression=True).handshake()
    try:
        assert c.proto.auth_method == C.AUTH_METHOD_SCRAM_SHA_256
        granted = c.proto.negotiated_features
        assert granted & C.FEATURE_COMPRESSION and granted & C.FEATURE_BINARY_VALUES
        assert c.proto.parameters["protocol.negotiated_features"] == str(granted)
        assert results(c.ok("SELECT 41 + 1 AS answer"))[0][1] == [(42,)]
    finally:
        c.close()


def test_scram_over_tls():
    import ssl
    with DevServer(profile="full", tls="required", user=USER, password=PASSWORD) as srv:
        context = ssl.create_default_context(cafile=srv.cafile)
        c = Client(srv.port)
        c.sock = context.wrap_socket(c.sock, server_hostname="localhost")
        c.handshake()
        assert results(c.ok("SELECT 'tls' AS t"))[0][1] == [("tls",)]
        c.close()


@pytest.mark.parametrize("user,password", [(USER, "not-the-password"), ("mallory", PASSWORD)])
def test_scram_wrong_password_or_unknown_user_is_28P01_then_close(server, user, password):
    c = Client(server.port, user=user, password=password)
    with pytest.raises(AuthenticationError) as info:
        c.handshake()
    assert info.value.sqlstate == "28P01"
    assert info.value.diag_code == "SECURITY.AUTHENTICATION.FAILED"
    assert c.read() is None
    c.close()


def test_scram_unknown_user_cannot_be_told_apart(server):
    def first(user):
        raw = RawAuth(server.port, user)
        data = raw.server_first(ScramClient(user, "whatever"))
        raw.sock.close()
        attrs = dict(item.split("=", 1) for item in data.decode().split(","))
        return attrs["s"], attrs["i"]

    ghost, again, other, real = first("ghost"), first("ghost"), first("phantom"), first(USER)
    assert ghost == again                     # a stable salt, as a real user's is
    assert ghost[0] != other[0] and ghost[1] == other[1] == real[1] == "4096"
    assert len(ghost[0]) == len(real[0])


def test_scram_tampered_proof_is_28P01(server):
    raw = RawAuth(server.port)
    scram = ScramClient(USER, PASSWORD)
    final = scram.client_final(raw.server_first(scram))
    head, proof = final.rsplit(b",p=", 1)
    raw_proof = bytearray(base64.b64decode(proof))
    raw_proof[0] ^= 0x01
    raw.send(fr(C.AUTH_RESPONSE, head + b",p=" + base64.b64encode(bytes(raw_proof))))
    assert_fatal(raw, "28P01", "Authentication failed.", "SECURITY.AUTHENTICATION.FAILED")


@pytest.mark.parametrize("message", [
    PASSWORD.encode(),                                     # a cleartext password
    b"p=tls-server-end-point,,n=sb,r=abcdefgh",            # channel binding
    b"n,,n=alice,r=abcdefgh",                              # not the STARTUP user
    b"",
])
def test_scram_invalid_client_first_is_fatal(server, message):
    raw = RawAuth(server.port)
    raw.send(fr(C.AUTH_RESPONSE, message))
    fields = assert_fatal(raw, "28000")
    assert fields["D"] in ("SECURITY.AUTHENTICATION.SCRAM_MESSAGE_INVALID",
                           "SECURITY.AUTHENTICATION.FAILED")


def test_scram_wrong_nonce_in_client_final_and_wrong_frame(server):
    raw = RawAuth(server.port)
    scram = ScramClient(USER, PASSWORD)
    final = scram.client_final(raw.server_first(scram))
    bad = final.replace(b",r=", b",r=x", 1)
    raw.send(fr(C.AUTH_RESPONSE, bad))
    assert_fatal(raw, "28000", detail="SECURITY.AUTHENTICATION.SCRAM_MESSAGE_INVALID")
    raw = RawAuth(server.port)
    raw.send(fr(C.QUERY, cm.encode_query("SELECT 1")))
    assert_fatal(raw, "08P01", "expected AUTH_RESPONSE after AUTH_REQUEST")


@pytest.mark.parametrize("profile,accepted", [("full", True), ("sbsql", False)])
def test_requiring_compression_and_binary_values(profile, accepted):
    wanted = C.FEATURE_COMPRESSION | C.FEATURE_BINARY_VALUES
    with DevServer(profile=profile, tls="off", user=USER, password=PASSWORD) as srv:
        raw = FrameIO(socket.create_connection(("127.0.0.1", srv.port), timeout=30),
                      framing.FrameReader(check_flags=False))
        raw.send(fr(C.STARTUP, cm.encode_startup_p1(
            [("database", "default"), ("user", USER)],
            features=C.CLIENT_OFFERED_FEATURES | wanted, required=wanted)))
        frame = raw.read()
        if accepted:                                   # on to SCRAM
            assert frame.msg_type == C.AUTH_REQUEST and frame.payload[0] == 3
        else:                                          # bit 32 is unknown to sbsql (3.6 step 6)
            assert sm.parse_error(frame.payload)["M"] == "SBWP.FEATURE.UNKNOWN_REQUIRED"
            assert raw.read() is None
        raw.sock.close()


def test_full_profile_keeps_verifiers_not_passwords(server):
    store = server._listener.config.users
    kept = repr(vars(store)) + repr([v.encode() for v in store._verifiers.values()])
    assert PASSWORD not in kept and "wonder-land" not in kept
    assert store.verify(USER, PASSWORD.encode()) is False      # no cleartext path at all
    assert store.verifier_for(USER).encode().startswith("SCRAM-SHA-256$4096:")


# ---------------------------------------------------------------- zstd (2.4 [SPEC])


def test_compressed_query_and_compressed_results(server):
    c = Client(server.port, compression=True).handshake()
    try:
        literal = "abc" * 2000
        frame = c.proto.query_frame(f"SELECT length('{literal}') AS n, '{literal}' AS s", BIN)
        assert frame[7] & C.FLAG_COMPRESSED and len(frame) < len(literal)   # sent compressed
        c.send(frame)
        frames = c.until_ready()
        assert results(frames)[0][1] == [(6000, literal)]
        for flags in (BIN, 0):                                   # binary and text results
            frames = c.ok("SELECT i, repeat('xy', 3000) || i::VARCHAR AS big "
                          "FROM range(40) t(i) ORDER BY i", flags)
            rows = results(frames)[0][1]
            assert len(rows) == 40 and rows[7][1] == "xy" * 3000 + "7"
            assert rows[7][0] == (7 if flags else "7")
            data_rows = [f for f in frames if f.msg_type == C.DATA_ROW]
            assert all(f.flags & C.FLAG_COMPRESSED for f in data_rows)
            ready = frames[-1]
            assert not ready.flags & C.FLAG_COMPRESSED            # small frames stay plain
    finally:
        c.close()


def test_corrupt_compressed_frame_is_fatal(server):
    c = Client(server.port, compression=True).handshake()
    good = c.proto.query_frame("SELECT '" + "z" * 5000 + "'", BIN)
    assert good[7] & C.FLAG_COMPRESSED
    corrupt = bytearray(good)
    corrupt[-8:] = bytes(8)                                       # zstd data and checksum
    c.send(bytes(corrupt))
    assert_fatal(c, "08P01", "SBWP.COMPRESSION.INVALID_FRAME")


def test_compressed_frame_without_bit_0_stays_fatal(server):
    c = Client(server.port, compression=False).handshake()
    assert not c.proto.negotiated_features & C.FEATURE_COMPRESSION
    c.send(fr(C.QUERY, cm.encode_query("SELECT 1"), flags=C.FLAG_COMPRESSED))
    assert_fatal(c, "08P01", "SBWP.COMPRESSION.UNNEGOTIATED_FRAME")


# ---------------------------------------------------------------- binary results (protocol.md 1)

B = bincodec
TZ5 = dt.timezone(dt.timedelta(hours=-5))


def _struct(value):
    return tuple(value.values())


def _tuple_to_list(value):
    return [_tuple_to_list(v) if isinstance(v, tuple) else v for v in value]


def _fold(value: Interval):
    """DuckDB's own Python value of an INTERVAL folds a month into 30 days."""
    return dt.timedelta(days=value.months * 30 + value.days, microseconds=value.microseconds)


# (DuckDB type, non-NULL sample literals, wire type id, DuckDB expression for the expected
#  value, how DuckDB's value compares, how ours compares); {} is the column
TYPES = [
    ("BOOLEAN", ["true", "false"], B.BOOLEAN),
    ("TINYINT", ["-128", "127", "0"], B.INT8),
    ("SMALLINT", ["-32768", "32767"], B.INT16),
    ("INTEGER", ["-2147483648", "2147483647"], B.INT32),
    ("BIGINT", ["-9223372036854775808", "9223372036854775807"], B.INT64),
    ("HUGEINT", ["-170141183460469231731687303715884105728",
                 "170141183460469231731687303715884105727"], B.INT128),
    ("UTINYINT", ["0", "255"], B.UINT8),
    ("USMALLINT", ["65535"], B.UINT16),
    ("UINTEGER", ["4294967295"], B.UINT32),
    ("UBIGINT", ["18446744073709551615"], B.UINT64),
    ("UHUGEINT", ["340282366920938463463374607431768211455", "0"], B.UINT128),
    ("DECIMAL(4,1)", ["-999.9", "0.0", "12.5"], B.DECIMAL),
    ("DECIMAL(18,3)", ["-123456789012345.678", "0.001"], B.DECIMAL),
    ("DECIMAL(38,10)", ["-1234567890123456789012345678.0123456789", "0.0000000001"], B.DECIMAL),
    ("FLOAT", ["1.5", "-0.0", "3.4028235e38", "'-inf'"], B.FLOAT32),
    ("DOUBLE", ["-2.25e300", "5e-324", "'inf'"], B.FLOAT64),
    ("VARCHAR", ["''", "'héllo wörld'", "'duck 🦆'"], B.TEXT),
    ("BLOB", ["''::BLOB", "'\\x00\\xFFab'::BLOB"], B.BINARY),
    ("DATE", ["DATE '2026-01-02'", "DATE '0001-01-01'", "DATE '9999-12-31'"], B.DATE),
    ("TIME", ["TIME '00:00:00'", "TIME '23:59:59.999999'"], B.TIME),
    ("TIMESTAMP", ["TIMESTAMP '2026-01-02 03:04:05.678901'", "TIMESTAMP '1900-01-01'"],
     B.TIMESTAMP),
    ("TIMESTAMP_S", ["TIMESTAMP_S '2026-01-02 03:04:05'"], B.TIMESTAMP),
    ("TIMESTAMP_MS", ["TIMESTAMP_MS '2026-01-02 03:04:05.123'"], B.TIMESTAMP),
    # DuckDB's own value truncates nanoseconds; the server rounds, as DuckDB's CAST does
    ("TIMESTAMP_NS", ["TIMESTAMP_NS '2026-01-02 03:04:05.123456789'"], B.TIMESTAMP,
     "CAST({} AS TIMESTAMP)"),
    ("TIMESTAMPTZ", ["TIMESTAMPTZ '2026-01-02 03:04:05.5+02'",
                     "TIMESTAMPTZ '1999-12-31 23:59:59Z'"],
     B.TIMESTAMPTZ, "CAST({} AS TIMESTAMP)", lambda v: v.replace(tzinfo=UTC)),
    ("TIME WITH TIME ZONE", ["TIMETZ '01:02:03.5-05'", "TIMETZ '23:00:00+14'"], B.TIMETZ),
    ("INTERVAL", ["INTERVAL '14 months 3 days 04:05:06.000007'", "INTERVAL '-1 year -2 days'",
                  "INTERVAL '0 seconds'"], B.INTERVAL, None, None, _fold),
    ("UUID", ["'018f0a2b-0000-7000-9000-000000000301'", "'ffffffff-ffff-ffff-ffff-ffffffffffff'"],
     B.UUID),
    ("JSON", ["'{\"a\": [1, 2]}'", "'null'"], B.JSON),
    ("BIT", ["'10101'::BIT", "'1'::BIT"], B.BIT),
    ("fullmood", ["'sad'", "'ok'"], B.ENUM),
    ("INTEGER[]", ["[]", "[1, NULL, 3]"], B.LIST),
    ("VARCHAR[][]", ["[['a'], [], NULL, ['b', NULL]]"], B.LIST),
    ("INTEGER[3]", ["[1, 2, NULL]"], B.ARRAY, None, _tuple_to_list),
    ("INTERVAL[]", ["[INTERVAL '1 month', NULL]"], B.LIST, None, None,
     lambda v: [None if x is None else _fold(x) for x in v]),
    ("STRUCT(a INTEGER, b VARCHAR[], c TIMESTAMPTZ)",
     ["{'a': 1, 'b': ['x'], 'c': TIMESTAMPTZ '2020-01-01 00:00:00+01'}",
      "{'a': NULL, 'b': NULL, 'c': NULL}"], B.ROW,
     "CAST({} AS STRUCT(a INTEGER, b VARCHAR[], c TIMESTAMP))",
     lambda v: (v["a"], v["b"], None if v["c"] is None else v["c"].replace(tzinfo=UTC))),
    ("MAP(VARCHAR, INTEGER)", ["MAP {'k': 1, 'n': NULL}", "MAP {}"], B.MAP),
]
ENUM_DDL = "CREATE TYPE fullmood AS ENUM ('sad', 'ok')"


def _table_sql(name: str):
    cols = ", ".join(f"c{k} {spec[0]}" for k, spec in enumerate(TYPES))
    rows = []
    width = max(len(spec[1]) for spec in TYPES)
    for r in range(width):                         # no NULLs
        rows.append([spec[1][r % len(spec[1])] for spec in TYPES])
    for k in range(len(TYPES)):                    # a NULL in every position
        rows.append([("NULL" if j == k else spec[1][(k + j) % len(spec[1])])
                     for j, spec in enumerate(TYPES)])
    rows.append(["NULL"] * len(TYPES))             # all NULL
    values = ", ".join(f"({i}, " + ", ".join(row) + ")" for i, row in enumerate(rows))
    return (f"CREATE TABLE {name} (id INTEGER NOT NULL, {cols})",
            f"INSERT INTO {name} VALUES {values}")


@pytest.fixture(scope="module")
def typed_table(server):
    name = table("typed")
    c = Client(server.port).handshake()
    for sql in (ENUM_DDL, *_table_sql(name)):
        c.ok(sql)
    c.ok("COMMIT")
    c.close()
    local = duckdb.connect()
    local.execute("SET TimeZone = 'UTC'")
    for sql in (ENUM_DDL, *_table_sql(name)):
        local.execute(sql)
    yield name, local
    local.close()


def test_binary_results_every_type_with_nulls_everywhere(client, typed_table):
    name, local = typed_table
    frames = client.ok(f"SELECT * FROM {name} ORDER BY id")
    (columns, rows), = results(frames)
    assert all(col.format == 1 for col in columns)             # value_format 0 on the wire
    exprs = ["id"] + [(spec[3] if len(spec) > 3 and spec[3] else "{}").format(f"c{k}")
                      for k, spec in enumerate(TYPES)]
    expected = local.execute(f"SELECT {', '.join(exprs)} FROM {name} ORDER BY id").fetchall()
    assert len(rows) == len(expected) == max(len(s[1]) for s in TYPES) + len(TYPES) + 1
    for row, want in zip(rows, expected):
        assert row[0] == want[0]
        for k, spec in enumerate(TYPES):
            theirs = spec[4] if len(spec) > 4 and spec[4] else (lambda v: v)
            mine = spec[5] if len(spec) > 5 and spec[5] else (lambda v: v)
            got, exp = row[k + 1], want[k + 1]
            if exp is None:
                assert got is None, (spec[0], row[0], got)
            else:
                assert mine(got) == theirs(exp), (spec[0], row[0], got, exp)
    payloads = [f.payload for f in frames if f.msg_type == C.DATA_ROW]
    for payload, row in zip(payloads, rows):                  # NULL is the bitmap bit
        assert bitmap_nulls(payload) == [v is None for v in row]


def test_binary_column_types_and_modifiers(client, typed_table):
    name, _local = typed_table
    frames = client.ok(f"SELECT * FROM {name} WHERE id < 0")   # no rows: still described (spec)
    assert kinds(frames) == [C.ROW_DESCRIPTION, C.COMMAND_COMPLETE, C.READY]
    (empty_columns, empty_rows), = results(frames)
    assert empty_rows == [] and [col.name for col in empty_columns][0] == "id"
    (columns, _rows), = results(client.ok(f"SELECT * FROM {name} LIMIT 1"))
    assert columns[0].nullable == 0                            # id is NOT NULL in the catalog
    by_type = {spec[0]: col.typeref for spec, col in zip(TYPES, columns[1:])}
    for spec, col in zip(TYPES, columns[1:]):
        family, code = spec[2]
        assert (col.typeref.family, col.typeref.code) == (family, code & ~B.TZ), spec[0]
        assert col.nullable == 1 and col.typeref.version == 1
        assert bincodec.column_type_id(col) == spec[2], spec[0]
    dec = by_type["DECIMAL(18,3)"]
    assert dec.modifier_bitmap & 0b11 and (dec.precision, dec.scale) == (18, 3)
    for duck, digits in (("TIMESTAMP_S", 0), ("TIMESTAMP_MS", 3), ("TIMESTAMP", 6),
                         ("TIMESTAMP_NS", 6), ("TIME", 6)):
        assert by_type[duck].modifier_bitmap & 0x4 and by_type[duck].datetime_precision == digits
    assert by_type["TIMESTAMPTZ"].timezone_policy == 1 and by_type["TIMESTAMP"].timezone_policy == 0
    assert by_type["VARCHAR[][]"].array_rank == 2 and by_type["INTEGER[3]"].array_rank == 1


def test_binary_null_and_empty_string_and_exact_values(client):
    frames = client.ok("SELECT NULL AS n, '' AS e, NULL::VARCHAR AS nv, "
                       "INTERVAL '14 months 3 days 00:00:00.000007' AS i, "
                       "TIMESTAMP_NS '1969-12-31 23:59:59.9999994' AS ns, "
                       "12.50::DECIMAL(5,2) AS d, [TIMESTAMPTZ '2020-01-01 01:00:00+01'] AS l")
    (columns, rows), = results(frames)
    assert rows == [(None, "", None, Interval(14, 3, 7),
                     dt.datetime(1969, 12, 31, 23, 59, 59, 999999),
                     Decimal("12.50"), [dt.datetime(2020, 1, 1, tzinfo=UTC)])]
    assert (columns[0].typeref.family, columns[0].typeref.code) == (0, 0)
    assert str(rows[0][5]) == "12.50"                          # the scale travels
    payload = next(f.payload for f in frames if f.msg_type == C.DATA_ROW)
    assert bitmap_nulls(payload)[:3] == [True, False, True]


def _tags(frames):
    return [sm.parse_command_complete(f.payload).tag for f in frames
            if f.msg_type == C.COMMAND_COMPLETE]


def test_binary_spec_shapes_and_scripts(client):
    # the full profile answers DDL and DML with the spec's tags, no catalog or status rows
    name = table("synth")
    frames = client.ok(f"CREATE TABLE {name} (a INTEGER, b VARCHAR)")
    assert kinds(frames) == [C.COMMAND_COMPLETE, C.READY] and _tags(frames) == ["CREATE TABLE"]
    frames = client.ok(f"INSERT INTO {name} (a, b) VALUES (1, 'x'), (2, NULL)")
    assert kinds(frames) == [C.COMMAND_COMPLETE, C.READY] and _tags(frames) == ["INSERT 0 2"]
    frames = client.ok(f"SELECT a FROM {name} ORDER BY a; SELECT b, b IS NULL AS n FROM {name} "
                       "ORDER BY a; UPDATE {0} SET a = a + 1 RETURNING a, b".replace("{0}", name))
    got = [r for _c, r in results(frames)]
    assert got == [[(1,), (2,)], [("x", False), (None, True)], [(2, "x"), (3, None)]]
    assert [cc.tag for cc in map(sm.parse_command_complete,
            (f.payload for f in frames if f.msg_type == C.COMMAND_COMPLETE))] == \
        ["SELECT 2", "SELECT 2", "SELECT 2"]
    client.ok("ROLLBACK")


# ---------------------------------------------------------------- text fallback (sbsql's bytes)


def _answer(port, sql_setup, sql, **kw):
    """(layout, [payloads of RD, DATA_ROW and COMMAND_COMPLETE]) for ``sql``."""
    c = Client(port, **kw).handshake()
    try:
        for stmt in sql_setup:
            c.ok(stmt, 0)
        frames = c.ok(sql, 0)
        return [(f.msg_type, bytes(f.payload)) for f in frames
                if f.msg_type in (C.ROW_DESCRIPTION, C.DATA_ROW, C.COMMAND_COMPLETE)]
    finally:
        c.close()


@pytest.mark.parametrize("layout,binary", [("p1", False), ("p1", True), ("legacy", False)])
def test_text_sessions_get_exactly_sbsql_bytes(server, sbsql_server, layout, binary):
    name = table("text")
    setup = [f"CREATE TEMP TABLE {name} (a INTEGER, b VARCHAR, c DECIMAL(10,2), d TIMESTAMPTZ, "
             f"e UUID, f BLOB, g BOOLEAN)",
             f"INSERT INTO {name} VALUES (1, '', 1.50, TIMESTAMPTZ '2020-01-01 00:00:00+02', "
             f"'018f0a2b-0000-7000-9000-000000000301', '\\x01'::BLOB, true), "
             f"(NULL, NULL, NULL, NULL, NULL, NULL, NULL)"]
    sql = f"SELECT *, NULL AS n, 'lit' AS l FROM {name} ORDER BY a NULLS LAST"
    full = _answer(server.port, setup, sql, layout=layout, binary=binary)
    sbsql = _answer(sbsql_server.port, setup, sql, layout=layout, binary=binary,
                    password=PASSWORD, allow_cleartext=True)
    assert full == sbsql and len(full) == 4
    assert b"<NULL>" in full[2][1]                              # sbsql's NULL text forms


# ---------------------------------------------------------------- binary parameters (1.7, 5)

PARAMS = [
    (B.BOOLEAN, True, B.BOOLEAN), (B.INT8, -128, B.INT8), (B.INT16, -32768, B.INT16),
    (B.INT32, 2 ** 31 - 1, B.INT32), (B.INT64, -2 ** 63, B.INT64),
    (B.INT128, 2 ** 127 - 1, B.INT128),
    (B.UINT8, 255, B.UINT8), (B.UINT16, 65535, B.UINT16), (B.UINT32, 2 ** 32 - 1, B.UINT32),
    (B.UINT64, 2 ** 64 - 1, B.UINT64), (B.UINT128, 2 ** 128 - 1, B.UINT128),
    (B.DECIMAL, Decimal("-123.45"), B.DECIMAL), (B.DECIMAL, Decimal("0.000001"), B.DECIMAL),
    (B.DECIMAL, Decimal("1E+5"), B.DECIMAL), (B.FLOAT32, 1.5, B.FLOAT32),
    (B.FLOAT64, -2.25e300, B.FLOAT64), (B.TEXT, "héllo", B.TEXT), (B.TEXT, "", B.TEXT),
    (B.BINARY, b"\x00\xff", B.BINARY), (B.BLOB, b"lob", B.BINARY),
    (B.DATE, dt.date(2026, 1, 2), B.DATE), (B.TIME, dt.time(12, 34, 56, 789), B.TIME),
    (B.TIMETZ, dt.time(1, 2, 3, 4, tzinfo=TZ5), B.TIMETZ),
    (B.TIMESTAMP, dt.datetime(2026, 1, 2, 3, 4, 5, 6), B.TIMESTAMP),
    (B.TIMESTAMPTZ, dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=2))),
     B.TIMESTAMPTZ),
    (B.INTERVAL, Interval(14, -3, 90061000003), B.INTERVAL),
    (B.UUID, uuid.UUID("018f0a2b-0000-7000-9000-000000000301"), B.UUID),
    (B.JSON, '{"a": [1, 2]}', B.JSON), (B.BIT, "10101", B.BIT), (B.ENUM, "red", B.TEXT),
    ((15, 2, B.INT64), [1, None, 3], B.LIST), ((15, 1, B.INT32), [[1, 2], [3, 4]], B.LIST),
    ((15, 2, B.TEXT), ["a", None, ""], B.LIST),
    ((16, 2, (B.INT32, B.TEXT, B.BOOLEAN)), (1, "x", None), B.ROW),
    ((16, 1, B.TEXT, B.INT32), {"a": 1, "b": None}, B.MAP),
    (B.INT32, None, B.UNTYPED), (B.UNTYPED, None, B.UNTYPED),
]


def _extended(param_type, sql: str, rows, *, name: str = "") -> list:
    """PARSE once, then BIND (binary) + EXECUTE per row, all framed raw."""
    oids = [C.param_type_oid(*t[:2]) if isinstance(t, tuple) else t for t in param_type]
    frames = [fr(C.PARSE, cm.encode_parse(name, sql, oids))]
    for row in rows:
        frames.append(fr(C.BIND, cm.encode_bind("", name, row, (1,))))
        frames.append(fr(C.EXECUTE, cm.encode_execute("")))
    return frames


def test_binary_parameters_round_trip_through_select(client):
    frames = []
    for k, (spec, value, _result) in enumerate(PARAMS):
        data = None if value is None else B.encode_value(spec, value)
        frames += _extended([spec], "SELECT $1 AS v", [[data]], name=f"p{k}")
    client.send(*frames, fr(C.SYNC))
    reply = client.until_ready()
    assert C.ERROR not in kinds(reply), error_of(reply)
    got = results(reply)
    assert len(got) == len(PARAMS)
    for (spec, value, result_type), (columns, rows) in zip(PARAMS, got):
        assert rows == [(value,)], (spec, value, rows)
        assert bincodec.column_type_id(columns[0]) == result_type, (spec, columns[0].typeref)


def test_bound_parameters_in_where_and_text_parameters_still_spliced(client):
    client.send(*_extended([B.INT32, B.TEXT], "SELECT x FROM range(10) t(x) WHERE x > $1 "
                           "AND $2 = 'go' ORDER BY x", [[B.encode_value(B.INT32, 6),
                                                        B.encode_value(B.TEXT, "go")]]),
                fr(C.PARSE, cm.encode_parse("t", "SELECT $1 AS v, $2 IS NULL AS q", [23, 0])),
                fr(C.BIND, cm.encode_bind("tp", "t", [b"42", None], (0,))),
                fr(C.EXECUTE, cm.encode_execute("tp")), fr(C.SYNC))
    reply = client.until_ready()
    assert C.ERROR not in kinds(reply), error_of(reply)
    first, second = results(reply)
    assert first[1] == [(7,), (8,), (9,)]
    assert second[1] == [(42, True)] and all(col.format == 1 for col in second[0])


def test_malformed_or_unsupported_binary_parameter(client):
    client.send(fr(C.PARSE, cm.encode_parse("", "SELECT $1", [C.param_type_oid(*B.INT32)])),
                fr(C.BIND, cm.encode_bind("", "", [b"\x01\x02\x03"], (1,))),
                fr(C.PARSE, cm.encode_parse("r", "SELECT $1", [C.param_type_oid(*B.RANGE)])),
                fr(C.BIND, cm.encode_bind(
                    "rp", "r", [B.encode_value((17, 1, B.INT64), Range(1, 5))], (1,))),
                fr(C.EXECUTE, cm.encode_execute("rp")))
    client.send(fr(C.SYNC))
    # extended-protocol errors bring no READY of their own: the only one is SYNC's (9.2)
    reply = client.until_ready()
    assert kinds(reply) == [C.PARSE_COMPLETE, C.ERROR, C.PARSE_COMPLETE, C.ERROR, C.ERROR, C.READY]
    errors = [sm.parse_error(f.payload) for f in reply if f.msg_type == C.ERROR]
    assert (errors[0]["C"], errors[0]["M"]) == ("22P02", "SBWP.BIND.BINARY_PARAMETER_INVALID")
    assert "parameter $1" in errors[0]["D"] and "INT32" in errors[0]["D"]
    assert (errors[1]["C"], errors[1]["M"]) == ("0A000", "SBWP.BIND.PARAMETER_TYPE_UNSUPPORTED")
    assert errors[2]["C"] == "34000"
    assert results(client.ok("SELECT 'alive' AS s"))[0][1] == [("alive",)]


def test_describe_announces_tagged_parameter_types(client):
    oids = [C.param_type_oid(*B.INT16), C.param_type_oid(*B.TIMESTAMPTZ), 23]
    client.send(fr(C.PARSE, cm.encode_parse("d", "SELECT $1, $2, $3", oids)),
                fr(C.DESCRIBE, cm.encode_describe("S", "d")), fr(C.SYNC))
    reply = client.until_ready()
    payload = next(f.payload for f in reply if f.msg_type == C.PARAMETER_DESCRIPTION)
    refs = [sm.TypeRef.decode(payload, 72 + 177 * i + 24) for i in range(3)]
    assert [(r.family, r.code, r.timezone_policy) for r in refs] == \
        [(2, 2, 0), (11, 3, 1), (2, 3, 0)]


def test_pipelined_binds_insert_1000_rows_and_replay_keeps_parameters(client):
    name = table("pipe")
    client.ok(f"CREATE TABLE {name} (a INTEGER PRIMARY KEY, b VARCHAR)")
    rows = [[B.encode_value(B.INT32, i), B.encode_value(B.TEXT, f"row-{i}")] for i in range(1000)]
    client.send(*_extended([B.INT32, B.TEXT], f"INSERT INTO {name} VALUES ($1, $2)", rows),
                fr(C.SYNC))
    reply = client.until_ready()
    assert C.ERROR not in kinds(reply), error_of(reply)
    tags = [sm.parse_command_complete(f.payload) for f in reply if f.msg_type == C.COMMAND_COMPLETE]
    assert len(tags) == 1000 and all((t.tag, t.rows) == ("INSERT 0 1", 1) for t in tags)
    assert kinds(reply).count(C.BIND_COMPLETE) == 1000 and kinds(reply)[-1] == C.READY
    count = f"SELECT count(*) AS n, sum(a) AS s, max(b) AS m FROM {name}"
    assert results(client.ok(count))[0][1] == [(1000, 499500, "row-999")]
    # A duplicate key aborts DuckDB's transaction; the session's writes are replayed,
    # with their bound parameters, so the (uncommitted) rows survive as on the real server.
    client.send(*_extended([B.INT32, B.TEXT], f"INSERT INTO {name} VALUES ($1, $2)",
                           [[B.encode_value(B.INT32, 5), B.encode_value(B.TEXT, "dup")]]),
                fr(C.SYNC))
    reply = client.until_ready()
    assert error_of(reply).get("D") == "SB-BULK-CONSTRAINT-UNIQUE-PERSISTED-CONFLICT"
    assert results(client.ok(count))[0][1] == [(1000, 499500, "row-999")]
    client.ok("ROLLBACK")


# ---------------------------------------------------------------- the driver on top


def test_driver_against_the_full_profile(server):
    import scratchbird
    conn = scratchbird.connect(server.dsn + "&compression=zstd")
    try:
        assert conn.binary_values
        cur = conn.cursor()
        name = table("drv")
        cur.execute(f"CREATE TEMP TABLE {name} (a INTEGER, c DECIMAL(10,2), d TIMESTAMPTZ)")
        stamp = dt.datetime(2024, 1, 1, tzinfo=UTC)
        cur.executemany(f"INSERT INTO {name} VALUES (?, ?, ?)",
                        [(i, Decimal(f"{i}.25"), stamp) for i in range(50)])
        cur.execute(f"SELECT a, c, d FROM {name} WHERE a >= ? ORDER BY a", (48,))
        assert cur.fetchall() == [(48, Decimal("48.25"), stamp), (49, Decimal("49.25"), stamp)]
        assert cur.description[1][4:6] == (10, 2)
    finally:
        conn.close()
