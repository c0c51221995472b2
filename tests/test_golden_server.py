"""Golden bytes, server -> client: the REFERENCE dumps of frames the driver receives.

Section 11 (every server-side dump, including the extra ones inside 11.15, 11.20 and
11.22) and the full-frame dumps of section 12.B. For each: the dev-server encoder in
``_server_messages`` (or ``rowcodec.encode_data_row``), given the header fields the text
states, produces exactly the dumped bytes; the driver's parser reads back the fields the
text documents. DATA_ROW dumps are also decoded by ``rowcodec.TextRowDecoder`` under
each NULL policy and round-tripped through ``rowcodec.encode_data_row``.
"""
from __future__ import annotations

import struct
from decimal import Decimal

import pytest

from tests.conftest import REFERENCE
from tests.sbwp_material import SECTION11_SESSION as SESSION, load_reference_dumps
from scratchbird import _constants as c
from scratchbird import _server_messages as sm
from scratchbird._impl import framing, rowcodec
from scratchbird.errors import AuthenticationError, DataError, ProgrammingError, error_from_fields

ZERO = bytes(16)
UUID_TEXT = "018f0a2b-0000-7000-9000-000000000301"


@pytest.fixture(scope="module")
def dumps():
    return load_reference_dumps(REFERENCE)


def header(data) -> tuple:
    return tuple(bytes(v) if isinstance(v, (bytes, bytearray, memoryview)) else v
                 for v in framing.decode_header(bytes(data)))


def frame(msg_type, payload, sequence, attachment=SESSION, txn_id=42) -> bytes:
    return framing.encode_frame(msg_type, payload, sequence=sequence, attachment_id=attachment,
                                txn_id=txn_id)


PARAMS_11_6 = [("protocol.selected_version", "1.1"), ("protocol.negotiated_features", "514"),
               ("session.auth_provider_family", "local_password"),
               ("session.principal_claim", "alice"), ("current_txn_id", "42")]
COLUMNS_11_17 = [("n", 25), ("amount", 1700), ("ts", 25), ("id", 25)]
ROW_11_18 = [b"", b"123.45", b"2026-01-02T03:04:05", UUID_TEXT.encode()]
ERROR_11_16 = [("S", "ERROR"), ("C", "42000"), ("M", "relation not found"),
               ("D", "SBSQL.NAME_RESOLUTION.NOT_FOUND_OR_NOT_VISIBLE")]
ERROR_12_B_5 = [("S", "ERROR"), ("C", "42000"),
                ("M", "The engine rejected the admitted SBLR envelope."),
                ("D", "SBLR.DIVIDE_BY_ZERO")]
TXN_12 = 0x147  # txn id 327 of the section-12 legacy session

# key -> (expected header (type, length, sequence, attachment, txn), encoder)
# Attachment None = the dump's <session uuid> placeholder, masked in the comparison.
VECTORS = {
    "11.2": ((c.AUTH_REQUEST, 4, 0, ZERO, 0),
             lambda: frame(c.AUTH_REQUEST, sm.encode_auth_request(), 0, ZERO, 0)),
    "11.4": ((c.AUTH_OK, 20, 1, SESSION, 42),
             lambda: frame(c.AUTH_OK, sm.encode_auth_ok(SESSION), 1)),
    "11.5": ((c.SERVER_INFO, 127, 2, SESSION, 42),
             lambda: frame(c.SERVER_INFO, sm.encode_server_info(SESSION), 2)),
    "11.6": ((c.PARAMETER_STATUS, 204, 3, SESSION, 42),
             lambda: frame(c.PARAMETER_STATUS, sm.encode_parameter_status(PARAMS_11_6), 3)),
    "11.7": ((c.READY, 76, 4, SESSION, 42),
             lambda: frame(c.READY, sm.encode_ready_p1(SESSION, 42, 1, 0x202), 4)),
    "11.9": ((c.ROW_DESCRIPTION, 300, 5, SESSION, 42),
             lambda: frame(c.ROW_DESCRIPTION,
                           sm.encode_row_description_p1([sm.Column("column1", 20)]), 5)),
    "11.10": ((c.ROW_DESCRIPTION, 35, 5, SESSION, 42),
              lambda: frame(c.ROW_DESCRIPTION,
                            sm.encode_row_description_legacy([sm.Column("column1", 20)]), 5)),
    "11.11": ((c.DATA_ROW, 10, 6, SESSION, 42),
              lambda: frame(c.DATA_ROW, rowcodec.encode_data_row([b"1"]), 6)),
    "11.12": ((c.COMMAND_COMPLETE, 29, 7, SESSION, 42),
              lambda: frame(c.COMMAND_COMPLETE, sm.encode_command_complete("SELECT 1", rows=1), 7)),
    "11.13": ((c.READY, 76, 8, SESSION, 42),
              lambda: frame(c.READY, sm.encode_ready_p1(SESSION, 42, 2, 0x202), 8)),
    "11.14": ((c.READY, 20, 8, SESSION, 42),
              lambda: frame(c.READY, sm.encode_ready_legacy(42), 8)),
    "11.15": ((c.ERROR, 40, 0, ZERO, 0),
              lambda: frame(c.ERROR, sm.encode_error([
                  ("S", "ERROR"), ("C", "28000"), ("M", "authentication required"),
                  ("D", "")]), 0, ZERO, 0)),   # an empty D is left out (REFERENCE 9.1)
    "11.15b": ((c.READY, 20, 1, ZERO, 0),
               lambda: frame(c.READY, sm.encode_ready_legacy(0), 1, ZERO, 0)),
    "11.16": ((c.ERROR, 83, 9, SESSION, 42),
              lambda: frame(c.ERROR, sm.encode_error(ERROR_11_16), 9)),
    "11.17": ((c.ROW_DESCRIPTION, 111, 5, SESSION, 42),
              lambda: frame(c.ROW_DESCRIPTION, sm.encode_row_description_legacy(
                  [sm.Column(name, oid) for name, oid in COLUMNS_11_17]), 5)),
    "11.18": ((c.DATA_ROW, 82, 6, SESSION, 42),
              lambda: frame(c.DATA_ROW, rowcodec.encode_data_row(ROW_11_18), 6)),
    "11.19": ((c.DATA_ROW, 78, 7, SESSION, 42),
              lambda: frame(c.DATA_ROW, rowcodec.encode_data_row([None] + ROW_11_18[1:]), 7)),
    "11.20b": ((c.COMMAND_COMPLETE, 27, 9, SESSION, 43),
               lambda: frame(c.COMMAND_COMPLETE, sm.encode_command_complete("COMMIT"), 9, txn_id=43)),
    "11.20c": ((c.READY, 76, 10, SESSION, 43),
               lambda: frame(c.READY, sm.encode_ready_p1(SESSION, 43, 2, 0x202), 10, txn_id=43)),
    "11.22": ((c.COPY_IN_RESPONSE, 5, 11, SESSION, 43),
              lambda: frame(c.COPY_IN_RESPONSE, sm.encode_copy_in_response(0, 1048576), 11,
                            txn_id=43)),
    "12.B.5": ((c.ERROR, 85, 7, None, TXN_12),
               lambda: frame(c.ERROR, sm.encode_error(ERROR_12_B_5), 7, ZERO, TXN_12)),
    "12.B.7.11": ((c.ROW_DESCRIPTION, 29, 3, None, TXN_12),
                  lambda: frame(c.ROW_DESCRIPTION,
                                sm.encode_row_description_legacy([sm.Column("x", 25)]), 3, ZERO,
                                TXN_12)),
}
SERVER_KEYS = tuple(k for k in VECTORS if k.startswith("11."))
SECTION12_FRAME_KEYS = tuple(k for k in VECTORS if k.startswith("12."))


@pytest.mark.parametrize("key", tuple(VECTORS))
def test_server_encoder_reproduces_dump(dumps, key):
    dump = dumps[key]
    out = VECTORS[key][1]()
    if key.startswith("11."):
        assert not dump.masked
        assert out.hex(" ") == dump.data.hex(" ")
    else:
        assert dump.masked == [(16, 32)]   # only the session UUID is unknown
        assert len(out) == len(dump.data)
        assert dump.masked_equal(out)


# ---------------------------------------------------------------- parsers

def check_11_2(p):
    req = sm.parse_auth_request(p)
    assert (req.method, req.data) == (c.AUTH_METHOD_PASSWORD, b"")


def check_11_4(p):
    ok = sm.parse_auth_ok(p)
    assert (ok.session_id, ok.info) == (SESSION, b"")


def check_11_5(p):
    info = sm.parse_server_info(p)
    assert info.session_id == SESSION and (info.slot2, info.slot3) == (ZERO, ZERO)
    assert (info.product, info.channel, info.dialect) == \
        ("ScratchBird native SBWP P1", "public-alpha", "sbsql")
    assert (info.value1, info.supported_features, info.value3) == (1, 0x016FE3D6, 1)
    assert info.supported_features == c.SBSQL_SUPPORTED_FEATURES


def check_11_6(p):
    params = sm.parse_parameter_status(p)
    assert list(params.items()) == PARAMS_11_6
    assert int(params["protocol.negotiated_features"]) == 0x202


def check_ready_p1(p, txn_id, reason):
    r = sm.parse_ready(p)
    assert (r.layout, r.txn_id, r.status, r.reason) == ("p1", txn_id, ord("T"), reason)
    assert (r.session_id, r.attachment_id) == (SESSION, SESSION)
    assert (r.version, r.features) == (0x0101, 0x202)
    assert p[32:48] == bytes(16) and p[68:76] == bytes(8)


def check_ready_legacy(p, txn_id):
    r = sm.parse_ready(p)
    assert (r.layout, r.txn_id, r.status, r.reason) == ("legacy", txn_id, 1 if txn_id else 0, None)
    assert struct.unpack_from("<Q", p, 12)[0] == txn_id   # the "visibility epoch" repeats it


def check_11_9(p):
    for layout in ("p1", None):   # by our STARTUP, and by the drivers' shape test
        rd = sm.parse_row_description(p, layout)
        assert (rd.layout, rd.result_set_kind, len(rd.columns)) == ("p1", 0, 1)
        col = rd.columns[0]
        assert (col.name, col.type_oid, col.format, col.nullable) == ("column1", 20, 0, 1)
        assert (col.column_class, col.updatability, col.metadata_bitmap) == (0, 0, 0x401)
        assert col.extra_text == []
        t = col.typeref
        assert (t.family, t.code, t.version, t.flags) == (2, 4, 1, 0)
        assert (t.descriptor_version, t.array_rank, t.modifier_bitmap) == (1, 0, 0)
        assert t.descriptor_uuid == t.domain_uuid == t.element_uuid == ZERO
        assert t == sm.TypeRef.for_oid(20)
    assert p[72 + 216:] == b"\x03" + struct.pack("<I", 7) + b"column1"


def check_legacy_columns(p, expected):
    for layout in ("legacy", None):
        rd = sm.parse_row_description(p, layout)
        assert rd.layout == "legacy"
        assert [(col.name, col.type_oid) for col in rd.columns] == expected
        for i, col in enumerate(rd.columns):
            assert (col.table_oid, col.column_index, col.type_size, col.type_modifier) == (0, i, -1, -1)
            assert (col.format, col.nullable, col.typeref) == (0, 1, None)


def check_11_12(p):
    cc = sm.parse_command_complete(p)
    assert (cc.command_type, cc.rows, cc.last_insert_id, cc.tag) == (1, 1, 0, "SELECT 1")


def check_11_15(p):
    fields = sm.parse_error(p)
    assert fields == {"S": "ERROR", "C": "28000", "M": "authentication required"}
    err = error_from_fields(fields)
    assert isinstance(err, AuthenticationError)
    assert (err.sqlstate, err.message, err.diag_code, err.severity) == \
        ("28000", "authentication required", None, "ERROR")


def check_11_16(p):
    fields = sm.parse_error(p)
    assert list(fields.items()) == ERROR_11_16
    err = error_from_fields(fields)
    assert type(err) is ProgrammingError
    assert (err.sqlstate, err.message, err.diag_code) == \
        ("42000", "relation not found", "SBSQL.NAME_RESOLUTION.NOT_FOUND_OR_NOT_VISIBLE")


def check_11_20b(p):
    cc = sm.parse_command_complete(p)
    assert (cc.command_type, cc.rows, cc.last_insert_id, cc.tag) == (1, 0, 0, "COMMIT")


def check_11_22(p):
    assert tuple(sm.parse_copy_in_response(p)) == (0, 1048576)


def check_12_b_5(p):
    fields = sm.parse_error(p)
    assert list(fields.items()) == ERROR_12_B_5
    err = error_from_fields(fields)
    assert type(err) is DataError   # the engine code refines 42000 (REFERENCE 9.3)
    assert (err.sqlstate, err.diag_code) == ("42000", "SBLR.DIVIDE_BY_ZERO")


def expect_row(oids, expected):
    def check(p):
        assert rowcodec.TextRowDecoder(oids).decode_row(p) == expected
    return check


CHECKS = {
    "11.2": check_11_2, "11.4": check_11_4, "11.5": check_11_5, "11.6": check_11_6,
    "11.7": lambda p: check_ready_p1(p, 42, c.READY_STARTUP),
    "11.9": check_11_9,
    "11.10": lambda p: check_legacy_columns(p, [("column1", 20)]),
    "11.11": expect_row([20], (1,)),
    "11.12": check_11_12,
    "11.13": lambda p: check_ready_p1(p, 42, c.READY_COMMAND_COMPLETE),
    "11.14": lambda p: check_ready_legacy(p, 42),
    "11.15": check_11_15,
    "11.15b": lambda p: check_ready_legacy(p, 0),
    "11.16": check_11_16,
    "11.17": lambda p: check_legacy_columns(p, COLUMNS_11_17),
    "11.18": expect_row([25, 1700, 25, 25],
                        (None, Decimal("123.45"), "2026-01-02T03:04:05", UUID_TEXT)),
    "11.19": expect_row([25, 1700, 25, 25],
                        (None, Decimal("123.45"), "2026-01-02T03:04:05", UUID_TEXT)),
    "11.20b": check_11_20b,
    "11.20c": lambda p: check_ready_p1(p, 43, c.READY_COMMAND_COMPLETE),
    "11.22": check_11_22,
    "12.B.5": check_12_b_5,
    "12.B.7.11": lambda p: check_legacy_columns(p, [("x", 25)]),
}
assert set(CHECKS) == set(VECTORS)


@pytest.mark.parametrize("key", tuple(VECTORS))
def test_server_parser_reads_fields(dumps, key):
    dump = dumps[key]
    msg_type, length, sequence, attachment, txn_id = VECTORS[key][0]
    got = header(dump.data)
    assert got[:4] == (msg_type, 0, length, sequence) and got[5] == txn_id
    if attachment is not None:
        assert got[4] == attachment
    assert len(dump.payload) == length
    reader = framing.FrameReader()
    reader.feed(dump.data[:17])        # a header split across two chunks
    assert reader.next_frame() is None
    reader.feed(dump.data[17:])
    f = reader.next_frame()
    assert (f.msg_type, f.flags, f.sequence, f.txn_id) == (msg_type, 0, sequence, txn_id)
    assert bytes(f.payload) == dump.payload and reader.buffered == 0
    CHECKS[key](dump.payload)


# ---------------------------------------------------------------- DATA_ROW under each policy
# key -> (type OIDs, default decode, raw_text=True, null_markers=(), encoder input)
# The encoder input is the server's form: b"" is the zero-length value (11.18), None the
# bitmap bit (11.19). 12.B.1 shows DATA_ROW payloads without their header.
ROWS = {
    "11.11": ([20], (1,), ("1",), (1,), [b"1"]),
    "11.18": ([25, 1700, 25, 25],
              (None, Decimal("123.45"), "2026-01-02T03:04:05", UUID_TEXT),
              ("", "123.45", "2026-01-02T03:04:05", UUID_TEXT),
              ("", Decimal("123.45"), "2026-01-02T03:04:05", UUID_TEXT),
              ROW_11_18),
    "11.19": ([25, 1700, 25, 25],
              (None, Decimal("123.45"), "2026-01-02T03:04:05", UUID_TEXT),
              (None, "123.45", "2026-01-02T03:04:05", UUID_TEXT),
              (None, Decimal("123.45"), "2026-01-02T03:04:05", UUID_TEXT),
              [None] + ROW_11_18[1:]),
    "12.B.1": ([20, 25], (1, None), ("1", "<NULL>"), (1, "<NULL>"), [b"1", b"<NULL>"]),
    "12.B.1b": ([20, 25], (2, None), ("2", None), (2, None), [b"2", None]),
}


@pytest.mark.parametrize("key", tuple(ROWS))
def test_data_row_decodes_under_each_null_policy(dumps, key):
    oids, default, raw, no_markers, _ = ROWS[key]
    payload = dumps[key].payload
    assert rowcodec.TextRowDecoder(oids).decode_row(payload) == default
    assert rowcodec.TextRowDecoder(oids, raw_text=True).decode_row(payload) == raw
    assert rowcodec.TextRowDecoder(oids, null_markers=()).decode_row(payload) == no_markers
    # a memoryview payload, as the FrameReader hands it out, decodes the same
    assert rowcodec.TextRowDecoder(oids).decode_row(memoryview(payload)) == default


@pytest.mark.parametrize("key", tuple(ROWS))
def test_data_row_round_trips_through_encoder(dumps, key):
    oids, _, raw, _, values = ROWS[key]
    payload = dumps[key].payload
    assert rowcodec.encode_data_row(values) == payload
    # what raw_text decoding gives back re-encodes to the same bytes
    again = [None if v is None else v.encode() for v in raw]
    assert rowcodec.encode_data_row(again) == payload
    assert rowcodec.encode_data_row([None if v is None else v.decode() for v in values]) == payload
