"""DATA_ROW codec (REFERENCE 4.6, 8.2-8.5), for the SCRATCHBIRD_IMPL in use.

Run the suite with SCRATCHBIRD_IMPL=python and =c to cover both twins.
"""
import zlib
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scratchbird._constants import COMMAND_COMPLETE, DATA_ROW, READY, ZERO_UUID
from scratchbird._impl import framing, rowcodec
from scratchbird.errors import DataError, ProtocolError

BOOL, INT, TEXT, NUMERIC = 16, 20, 25, 1700
SESSION = bytes.fromhex("018f0a2b3c4d7e5f8a6b7c8d9e0fa1b2")

# REFERENCE 11.11, 11.18 and 11.19: full DATA_ROW frames as the server sends them
GOLDEN_11_11 = bytes.fromhex(
    "53425750010145000a00000006000000018f0a2b3c4d7e5f8a6b7c8d9e0fa1b2"
    "2a0000000000000001000100000100000031")
GOLDEN_11_18 = bytes.fromhex(
    "53425750010145005200000006000000018f0a2b3c4d7e5f8a6b7c8d9e0fa1b2"
    "2a00000000000000040001000000000000060000003132332e34351300000032"
    "3032362d30312d30325430333a30343a30352400000030313866306132622d30"
    "3030302d373030302d393030302d303030303030303030333031")
GOLDEN_11_19 = bytes.fromhex(
    "53425750010145004e00000007000000018f0a2b3c4d7e5f8a6b7c8d9e0fa1b2"
    "2a000000000000000400010001060000003132332e343513000000323032362d"
    "30312d30325430333a30343a30352400000030313866306132622d303030302d"
    "373030302d393030302d303030303030303030333031")
ROW_11_18 = (None, Decimal("123.45"), "2026-01-02T03:04:05", "018f0a2b-0000-7000-9000-000000000301")

FORTY_DIGITS = "1234567890123456789012345678901234567890"


def decode(oids, values, **options):
    return rowcodec.TextRowDecoder(oids, **options).decode_row(rowcodec.encode_data_row(values))


def one(oid, raw, **options):
    return decode([oid], [raw], **options)[0]


def data_rows(rows, seq=0):
    return rowcodec.encode_data_row_frames(rows, seq)[0]


def reader_with(*chunks):
    r = framing.FrameReader()
    for c in chunks:
        r.feed(c)
    return r


# --- golden bytes ---

def test_reference_11_11_select_1():
    assert rowcodec.TextRowDecoder([INT]).decode_row(memoryview(GOLDEN_11_11)[40:]) == (1,)
    assert rowcodec.encode_data_row([b"1"]) == GOLDEN_11_11[40:]


@pytest.mark.parametrize("golden", [GOLDEN_11_18, GOLDEN_11_19])
def test_reference_11_18_and_11_19_both_null_forms(golden):
    decoder = rowcodec.TextRowDecoder([TEXT, NUMERIC, TEXT, TEXT])
    rows = []
    assert rowcodec.read_data_rows(reader_with(golden), decoder, rows, 10) == 1
    assert rows == [ROW_11_18]
    assert type(rows[0][1]) is Decimal


def test_reference_11_19_encodes_bitmap_null():
    values = [None, b"123.45", b"2026-01-02T03:04:05", b"018f0a2b-0000-7000-9000-000000000301"]
    assert rowcodec.encode_data_row(values) == GOLDEN_11_19[40:]


def test_live_row_with_ten_absent_columns():
    # REFERENCE 12.B topic 1: bitmap fe 07 flags columns 1-10, only id has a length
    payload = bytes.fromhex("0b000200fe070100000033")
    assert rowcodec.TextRowDecoder([INT] * 11).decode_row(payload) == (3,) + (None,) * 10


# --- conversion by declared type code (REFERENCE 8.2-8.4) ---

@pytest.mark.parametrize("raw, value", [
    (b"t", True), (b"true", True), (b"TRUE", True), (b"T", True), (b"True", True), (b"1", True),
    (b"f", False), (b"false", False), (b"FALSE", False), (b"F", False), (b"0", False),
    (b"yes", "yes"), (b"tru", "tru"), (b"2", "2"), (b"truee", "truee"), (b" t", " t"),
])
def test_bool_column(raw, value):
    got = one(BOOL, raw)
    assert got == value and type(got) is type(value)


@pytest.mark.parametrize("raw, value", [
    ("0", 0), ("42", 42), ("-1", -1), ("+7", 7), ("007", 7), ("-0", 0),
    ("-32768", -32768), ("9223372036854775807", 2**63 - 1), ("-9223372036854775808", -2**63),
    ("9223372036854775808", 2**63), ("-9223372036854775809", -2**63 - 1),
    ("18446744073709551615", 2**64 - 1), ("18446744073709551616", 2**64),
    ("9999999999999999999", 9999999999999999999), ("-9999999999999999999", -9999999999999999999),
    ("170141183460469231731687303715884105727", 2**127 - 1),
    (FORTY_DIGITS, int(FORTY_DIGITS)), ("-" + FORTY_DIGITS, -int(FORTY_DIGITS)),
    ("+" + FORTY_DIGITS, int(FORTY_DIGITS)), ("0" * 30 + "5", 5),
])
def test_int_column(raw, value):
    got = one(INT, raw.encode())
    assert got == value and type(got) is int


@pytest.mark.parametrize("raw", ["abc", "1.5", "1e5", "+", "-", "--1", " 1", "1 ", "1_000",
                                 "0x10", "\u0661\u0662", "12a", "9" * 5000])
def test_int_column_values_that_do_not_parse_come_back_as_str(raw):
    # REFERENCE 8.4: never trust the hint; 5000 digits is past Python's int() limit
    assert one(INT, raw.encode()) == raw


@pytest.mark.parametrize("raw", ["123.45", "-0.50", "5.", ".5", "+.5", "0", "-7", "1e3", "1E+3",
                                 "-1.5e-3", "+.5E10", "5.e2", "0.333333333333333333342368351437379204",
                                 "-1234567890123456789012345678.0123456789", "1.7976931348623157e308"])
def test_decimal_column(raw):
    got = one(NUMERIC, raw.encode())
    assert type(got) is Decimal
    assert got == Decimal(raw) and str(got) == str(Decimal(raw))   # exact: no context rounding


@pytest.mark.parametrize("raw", ["1e5x", "NaN", "nan", "inf", "Infinity", "1e", "1e+", ".", "-.",
                                 "e5", "1.2.3", "1,5", " 1.5", "1.5 ", "12-01", "1e99999999999999999999"])
def test_decimal_column_values_that_do_not_parse_come_back_as_str(raw):
    assert one(NUMERIC, raw.encode()) == raw


@pytest.mark.parametrize("oid", [TEXT, 23, 701, 1082, 0, 99999])
def test_text_and_unknown_type_codes_give_str(oid):
    assert one(oid, "ünïcødé € 日本".encode()) == "ünïcødé € 日本"
    assert one(oid, b"42") == "42"


def test_mixed_row():
    values = [b"1", b"-2", b"1.25", b"t", b"hello", b"abc", b"1e5x", None]
    assert decode([INT, INT, NUMERIC, BOOL, TEXT, INT, NUMERIC, TEXT], values) == (
        1, -2, Decimal("1.25"), True, "hello", "abc", "1e5x", None)


def test_decoder_attributes():
    d = rowcodec.TextRowDecoder([BOOL, INT, NUMERIC, TEXT, 1082], null_markers=[bytearray(b"N")])
    assert d.type_oids == (BOOL, INT, NUMERIC, TEXT, 1082)
    assert d.kinds == (1, 2, 3, 0, 0)
    assert d.ncolumns == 5
    assert d.null_markers == (b"N",)
    assert d.raw_text is False
    assert rowcodec.TextRowDecoder([INT], raw_text=1).kinds == (0,)


# --- NULL policy (REFERENCE 4.6, 8.5) ---

def test_bitmap_null_and_length_minus_one_are_none():
    assert decode([TEXT, INT], [None, None]) == (None, None)
    payload = bytes.fromhex("0200010000") + b"\xff\xff\xff\xff" + b"\x01\x00\x00\x007"
    assert rowcodec.TextRowDecoder([INT, INT]).decode_row(payload) == (None, 7)


@pytest.mark.parametrize("oid", [TEXT, INT, NUMERIC, BOOL])
def test_default_null_markers(oid):
    assert rowcodec.DEFAULT_NULL_MARKERS == (b"<NULL>", b"NULL", b"")
    for marker in (b"<NULL>", b"NULL", b""):
        assert one(oid, marker) is None
    assert one(TEXT, b"null") == "null"
    assert one(TEXT, b"<NULL> ") == "<NULL> "


def test_custom_null_markers():
    opts = {"null_markers": (b"\\N",)}
    assert decode([TEXT, TEXT, TEXT, INT], [b"\\N", b"NULL", b"", b"\\N"], **opts) == (None, "NULL", "", None)
    long_marker = b"x" * 100
    assert one(TEXT, long_marker, null_markers=[long_marker]) is None


def test_empty_markers_keep_strings():
    assert decode([TEXT, TEXT, TEXT], [b"", b"NULL", b"<NULL>"], null_markers=()) == ("", "NULL", "<NULL>")
    assert one(INT, b"", null_markers=()) == ""


def test_raw_text_returns_every_value_as_str():
    values = [b"42", b"t", b"1.5", b"NULL", b"", b"<NULL>", None]
    got = decode([INT, BOOL, NUMERIC, TEXT, TEXT, TEXT, INT], values, raw_text=True)
    assert got == ("42", "t", "1.5", "NULL", "", "<NULL>", None)


def test_decoder_settings_can_be_changed_after_construction():
    d = rowcodec.TextRowDecoder([INT, TEXT])
    payload = rowcodec.encode_data_row([b"5", b"NULL"])
    assert d.decode_row(payload) == (5, None)
    d.null_markers = (b"x",)
    assert d.decode_row(payload) == (5, "NULL")
    d.raw_text = True
    d.kinds = (0, 0)
    assert d.decode_row(payload) == ("5", "NULL")


# --- malformed DATA_ROWs ---

@pytest.mark.parametrize("payload, oids, message", [
    (b"", [TEXT], "DATA_ROW payload truncated: 0 bytes"),
    (b"\x01\x00\x01", [TEXT], "DATA_ROW payload truncated: 3 bytes"),
    (bytes.fromhex("0200010000"), [TEXT], "DATA_ROW has 2 columns but the ROW_DESCRIPTION declared 1"),
    (bytes.fromhex("0100020000"), [TEXT], r"DATA_ROW null bitmap of 2 bytes for 1 columns"),
    (bytes.fromhex("01000000"), [TEXT], r"DATA_ROW null bitmap of 0 bytes for 1 columns"),
    (bytes.fromhex("0900020000"), [TEXT] * 9, "DATA_ROW payload truncated inside the null bitmap"),
    (bytes.fromhex("01000100"), [TEXT], "DATA_ROW payload truncated inside the null bitmap"),
    (bytes.fromhex("0100010000"), [TEXT], "DATA_ROW payload truncated at column 0"),
    (bytes.fromhex("0100010000010000"), [TEXT], "DATA_ROW payload truncated at column 0"),
    (bytes.fromhex("010001000005000000616263"), [TEXT], "DATA_ROW column 0 length 5 runs past the payload"),
    (bytes.fromhex("0100010000feffffff"), [TEXT], "DATA_ROW column 0 length -2 runs past the payload"),
    (bytes.fromhex("0100010000ffffff7f"), [TEXT], "DATA_ROW column 0 length 2147483647 runs past"),
    (bytes.fromhex("0100010000010000006178"), [TEXT], "DATA_ROW has 1 bytes after its last column"),
    (bytes.fromhex("0200010001") + b"\x01\x00\x00\x00a" + b"zz", [TEXT, TEXT],
     "DATA_ROW has 2 bytes after its last column"),
    (bytes.fromhex("020001000001000000"), [TEXT, TEXT], "DATA_ROW column 0 length 1 runs past"),
    (bytes.fromhex("0200010000010000003103"), [INT, TEXT], "DATA_ROW payload truncated at column 1"),
])
def test_malformed_data_rows_raise_protocol_error(payload, oids, message):
    with pytest.raises(ProtocolError, match=message):
        rowcodec.TextRowDecoder(oids).decode_row(payload)


@pytest.mark.parametrize("oid", [TEXT, INT, NUMERIC, BOOL])
def test_invalid_utf8_raises_data_error(oid):
    with pytest.raises(DataError, match=r"column 1: value is not valid UTF-8 \(invalid start byte at byte 2\)"):
        decode([TEXT, oid], [b"ok", b"ab\xffcd"])
    with pytest.raises(DataError, match=r"column 0: value is not valid UTF-8 \(unexpected end of data at byte 0\)"):
        decode([oid], [b"\xc3"], raw_text=True)


# --- read_data_rows ---

ROWS = [[str(i).encode(), b"name %d" % i, None] for i in range(10)]
EXPECTED = [(i, "name %d" % i, None) for i in range(10)]
OIDS = [INT, TEXT, TEXT]
TAIL = framing.encode_frame(COMMAND_COMPLETE, b"tag") + framing.encode_frame(READY, b"r")


def test_read_data_rows_stops_at_another_frame_type():
    r = reader_with(data_rows(ROWS) + TAIL)
    rows = []
    assert rowcodec.read_data_rows(r, rowcodec.TextRowDecoder(OIDS), rows, 100) == 10
    assert rows == EXPECTED
    assert r.peek_type() == COMMAND_COMPLETE
    assert rowcodec.read_data_rows(r, rowcodec.TextRowDecoder(OIDS), rows, 100) == 0
    assert r.buffered == len(TAIL)


def test_read_data_rows_stops_at_max_rows():
    r = reader_with(data_rows(ROWS) + TAIL)
    decoder = rowcodec.TextRowDecoder(OIDS)
    rows = []
    counts = [rowcodec.read_data_rows(r, decoder, rows, 3) for _ in range(5)]
    assert counts == [3, 3, 3, 1, 0]
    assert rows == EXPECTED
    assert rowcodec.read_data_rows(reader_with(data_rows(ROWS)), decoder, [], 0) == 0


def test_read_data_rows_stops_at_an_incomplete_frame_and_resumes():
    data = data_rows(ROWS)
    r = reader_with(data[:-5])
    decoder = rowcodec.TextRowDecoder(OIDS)
    rows = []
    assert rowcodec.read_data_rows(r, decoder, rows, 100) == 9
    assert r.peek_type() is None
    r.feed(data[-5:])
    assert rowcodec.read_data_rows(r, decoder, rows, 100) == 1
    assert rows == EXPECTED and r.buffered == 0


def test_read_data_rows_with_rows_split_at_every_offset():
    data = data_rows(ROWS[:3]) + TAIL
    decoder = rowcodec.TextRowDecoder(OIDS)
    for cut in range(len(data) + 1):
        r = reader_with(data[:cut])
        rows = []
        rowcodec.read_data_rows(r, decoder, rows, 100)
        r.feed(data[cut:])
        rowcodec.read_data_rows(r, decoder, rows, 100)
        assert rows == EXPECTED[:3], cut
        assert r.buffered == len(TAIL)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 2000), max_size=12), st.integers(1, 12))
def test_read_data_rows_over_any_chunking(cuts, max_rows):
    data = data_rows(ROWS) + TAIL
    bounds = sorted({0, len(data), *(c for c in cuts if c < len(data))})
    r = framing.FrameReader()
    decoder = rowcodec.TextRowDecoder(OIDS)
    rows = []
    for a, b in zip(bounds, bounds[1:]):
        r.feed(data[a:b])
        while rowcodec.read_data_rows(r, decoder, rows, max_rows):
            pass
    assert rows == EXPECTED and r.buffered == len(TAIL)


def test_read_data_rows_one_byte_at_a_time():
    data = data_rows(ROWS)
    r = framing.FrameReader()
    decoder = rowcodec.TextRowDecoder(OIDS)
    rows = []
    for i in range(len(data)):
        r.feed(data[i:i + 1])
        rowcodec.read_data_rows(r, decoder, rows, 100)
    assert rows == EXPECTED


def test_read_data_rows_applies_header_flags_like_the_reader():
    payload = rowcodec.encode_data_row([b"7", b"x", None])
    urgent = framing.encode_frame(DATA_ROW, payload, flags=0x08)
    packed = framing.encode_frame(DATA_ROW, zlib.compress(payload), flags=0x01)
    r = reader_with(data_rows(ROWS[:2]) + urgent + packed + data_rows(ROWS[2:4]))
    r.decompress = lambda p: zlib.decompress(bytes(p))
    rows = []
    assert rowcodec.read_data_rows(r, rowcodec.TextRowDecoder(OIDS), rows, 100) == 6
    assert rows == EXPECTED[:2] + [(7, "x", None)] * 2 + EXPECTED[2:4]


def test_read_data_rows_reserved_flag_raises_after_the_rows_before_it():
    bad = framing.encode_frame(DATA_ROW, rowcodec.encode_data_row([b"1", b"2", b"3"]), flags=0x40)
    r = reader_with(data_rows(ROWS[:2]) + bad + data_rows(ROWS[2:3]))
    rows = []
    with pytest.raises(ProtocolError, match=r"reserved flag bits set \(0x40\)"):
        rowcodec.read_data_rows(r, rowcodec.TextRowDecoder(OIDS), rows, 100)
    assert rows == EXPECTED[:2]
    assert rowcodec.read_data_rows(r, rowcodec.TextRowDecoder(OIDS), rows, 100) == 1


@pytest.mark.parametrize("corrupt, message", [
    (lambda h: b"SBWQ" + h[4:], "bad SBWP magic b'SBWQ'"),
    (lambda h: h[:5] + b"\x00" + h[6:], r"unsupported SBWP header version 1\.0"),
    (lambda h: h[:8] + (1 << 30).to_bytes(4, "little") + h[12:], "frame length 1073741824 exceeds the limit of 67108864"),
])
def test_read_data_rows_bad_header_raises_and_stays_in_the_reader(corrupt, message):
    third = data_rows(ROWS[2:3])
    bad = corrupt(third[:40]) + third[40:]
    r = reader_with(data_rows(ROWS[:2]) + bad)
    rows = []
    with pytest.raises(ProtocolError, match=message):
        rowcodec.read_data_rows(r, rowcodec.TextRowDecoder(OIDS), rows, 100)
    assert rows == EXPECTED[:2]
    assert r.buffered == len(bad)


def test_read_data_rows_uses_the_readers_limit():
    r = framing.FrameReader(max_payload=20)
    r.feed(data_rows(ROWS[:1]) + data_rows([[b"1", b"x" * 30, None]]))
    rows = []
    with pytest.raises(ProtocolError, match="exceeds the limit of 20 bytes"):
        rowcodec.read_data_rows(r, rowcodec.TextRowDecoder(OIDS), rows, 100)
    assert rows == EXPECTED[:1]


def test_read_data_rows_malformed_row_is_consumed_and_reading_goes_on():
    bad = framing.encode_frame(DATA_ROW, rowcodec.encode_data_row([b"1"]))
    utf8 = framing.encode_frame(DATA_ROW, rowcodec.encode_data_row([b"1", b"\xff", None]))
    r = reader_with(data_rows(ROWS[:1]) + bad + utf8 + data_rows(ROWS[1:2]))
    decoder = rowcodec.TextRowDecoder(OIDS)
    rows = []
    with pytest.raises(ProtocolError, match="DATA_ROW has 1 columns but the ROW_DESCRIPTION declared 3"):
        rowcodec.read_data_rows(r, decoder, rows, 100)
    assert rows == EXPECTED[:1]
    with pytest.raises(DataError, match="column 1: value is not valid UTF-8"):
        rowcodec.read_data_rows(r, decoder, rows, 100)
    assert rowcodec.read_data_rows(r, decoder, rows, 100) == 1
    assert rows == EXPECTED[:2] and r.buffered == 0


def test_read_data_rows_with_a_decoder_subclass_uses_its_decode_row():
    class Upper(rowcodec.TextRowDecoder):
        def decode_row(self, payload):
            return tuple(v.upper() if isinstance(v, str) else v for v in super().decode_row(payload))

    rows = []
    assert rowcodec.read_data_rows(reader_with(data_rows(ROWS[:2])), Upper(OIDS), rows, 10) == 2
    assert rows == [(0, "NAME 0", None), (1, "NAME 1", None)]


def test_read_data_rows_matches_decode_row_frame_by_frame():
    values = [[b"1", b"t", b"1.5", "é".encode(), b"", b"NULL", None, b"x" * 300]] * 5
    oids = [INT, BOOL, NUMERIC, TEXT, TEXT, INT, INT, TEXT]
    decoder = rowcodec.TextRowDecoder(oids)
    rows = []
    rowcodec.read_data_rows(reader_with(data_rows(values)), decoder, rows, 100)
    frames = reader_with(data_rows(values))
    assert rows == [decoder.decode_row(frames.next_frame().payload) for _ in values]


# --- encoding ---

@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(), st.binary().map(lambda b: b.hex().encode())), max_size=20))
def test_encode_data_row_round_trip(values):
    payload = rowcodec.encode_data_row(values)
    got = rowcodec.TextRowDecoder([TEXT] * len(values), null_markers=(), raw_text=True).decode_row(payload)
    assert got == tuple(v.decode() if isinstance(v, bytes) else v for v in values)


def test_encode_data_row_layout():
    assert rowcodec.encode_data_row([]) == b"\x00\x00\x00\x00"
    assert rowcodec.encode_data_row(("é", None, b"")) == bytes.fromhex("0300010002") + b"\x02\x00\x00\x00\xc3\xa9" + bytes(4)
    nine = rowcodec.encode_data_row([None] * 9)
    assert nine == bytes.fromhex("09000200ff01")


def test_encode_data_row_rejects_other_value_types():
    with pytest.raises(TypeError):
        rowcodec.encode_data_row([b"1", 2])
    with pytest.raises(UnicodeEncodeError):
        rowcodec.encode_data_row(["\ud800"])


def test_encode_data_row_frames():
    frames, next_seq = rowcodec.encode_data_row_frames(ROWS[:3], 2**32 - 2, SESSION, 42)
    assert next_seq == 2**32 + 1
    r = reader_with(frames)
    got = [r.next_frame() for _ in range(3)]
    assert [f.sequence for f in got] == [2**32 - 2, 2**32 - 1, 0]       # u32 wraps (REFERENCE 2)
    assert {(f.msg_type, f.flags, f.attachment_id, f.txn_id) for f in got} == {(DATA_ROW, 0, SESSION, 42)}
    assert [bytes(f.payload) for f in got] == [rowcodec.encode_data_row(v) for v in ROWS[:3]]
    assert r.next_frame() is None
    assert rowcodec.encode_data_row_frames([], 5) == (b"", 5)
    assert rowcodec.encode_data_row_frames(iter([(b"1",)]), 0)[0] == framing.encode_frame(
        DATA_ROW, b"\x01\x00\x01\x00\x00\x01\x00\x00\x001", 0, ZERO_UUID, 0)


def test_encode_data_row_frames_checks_header_arguments():
    with pytest.raises(ValueError, match="attachment_id must be 16 bytes"):
        rowcodec.encode_data_row_frames([[b"1"]], 0, b"short")
    assert rowcodec.encode_data_row_frames([], 0, b"short") == (b"", 0)     # only checked per frame


def test_loaders_take_the_text_and_skip_nulls():
    def load(text):
        return ("loaded", text)
    dec = rowcodec.TextRowDecoder([20, 25, 25], loaders=[None, load, None])
    payload = rowcodec.encode_data_row([b"7", b"abc", b"NULL"])
    assert dec.decode_row(payload) == (7, ("loaded", "abc"), None)
    assert dec.decode_row(rowcodec.encode_data_row([b"1", b"<NULL>", b"x"])) == (1, None, "x")


def test_failing_loader_raises_data_error_naming_the_column():
    from scratchbird.errors import DataError
    dec = rowcodec.TextRowDecoder([25], loaders=[int])
    with pytest.raises(DataError, match="column 0: loader int failed: ValueError"):
        dec.decode_row(rowcodec.encode_data_row([b"abc"]))


def test_loaders_must_match_the_columns():
    with pytest.raises(ValueError):
        rowcodec.TextRowDecoder([25, 25], loaders=[None])
