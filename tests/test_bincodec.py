"""Binary values (docs/protocol.md, "Binary values"), for the SCRATCHBIRD_IMPL in use.

Golden bytes from the document, encode-then-decode identity for every codec over random
values and their edges, refusals with DataError naming the column and the type, random
bytes into every decoder, DATA_ROW decoding with the null bitmap and read_data_rows over
any chunking. Run the suite with SCRATCHBIRD_IMPL=python and =c to cover both twins.
"""
import datetime as dt
import ipaddress
import json
import math
import re
import struct
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scratchbird._constants import DATA_ROW, READY
from scratchbird._impl import bincodec, framing
from scratchbird._server_messages import Column, TypeRef
from scratchbird.binary_types import Geometry, Interval, Jsonb, Range
from scratchbird.errors import DataError, ProtocolError

B = bincodec
DOC = Path(__file__).resolve().parents[1] / "docs" / "protocol.md"
UTC = dt.timezone.utc
FAST = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


def tz(minutes):
    return dt.timezone(dt.timedelta(minutes=minutes))


# ---------------------------------------------------------------- comparable form

def norm(value):
    """Comparable form that keeps types (True vs 1), float signs and NaN, Decimal exponents."""
    if isinstance(value, float):
        return ("float", "nan") if math.isnan(value) else ("float", value, math.copysign(1, value))
    if isinstance(value, Decimal):
        return ("decimal", value.as_tuple())
    if isinstance(value, dt.datetime) and value.utcoffset() is not None:
        return ("instant", value.replace(tzinfo=None) - value.utcoffset())   # TIMESTAMPTZ is UTC
    if isinstance(value, (dt.datetime, dt.time)):
        return (type(value).__name__, value.replace(tzinfo=None), value.utcoffset())
    if isinstance(value, Range):
        return ("range", value.empty, value.bounds, norm(value.lower), norm(value.upper))
    if isinstance(value, list):
        return ("list", [norm(v) for v in value])
    if isinstance(value, tuple):
        return ("tuple", [norm(v) for v in value])
    if isinstance(value, dict):
        return ("dict", [(norm(k), norm(v)) for k, v in value.items()])
    return (type(value).__name__, value)


# ---------------------------------------------------------------- golden bytes (docs/protocol.md 1.8)

GOLDEN = [
    (B.BOOLEAN, True, "01"),
    (B.INT32, -2, "feffffff"),
    (B.INT8, -128, "80"),
    (B.UINT16, 65535, "ffff"),
    (B.UINT128, 2**128 - 1, "ffffffffffffffffffffffffffffffff"),
    (B.INT128, 2**64, "00000000000000000100000000000000"),
    (B.FLOAT64, 1.5, "000000000000f83f"),
    (B.FLOAT32, -0.0, "00000080"),
    (B.DECIMAL, Decimal("-123.45"), "05000200010000003930"),
    (B.DECIMAL, Decimal("1E+5"), "0100fbff0000000001"),
    (B.DECIMAL, Decimal("NaN"), "0000000020000000"),
    (B.DECIMAL, Decimal("-Infinity"), "0000000011000000"),
    (B.DECFLOAT, Decimal("1.5E+3"), "0200feff000000000f"),
    (B.MONEY, Decimal("12.34"), "0400020000000000d204"),
    (B.TEXT, "héllo", "0600000068c3a96c6c6f"),
    (B.TEXT, "", "00000000"),
    (B.JSON, '{"a":1}', "070000007b2261223a317d"),
    (B.JSONB, Jsonb("[1]"), "030000005b315d"),
    (B.XML, "<a/>", "040000003c612f3e"),
    (B.TSVECTOR, "'cat':1", "0700000027636174273a31"),
    (B.ENUM, "red", "03000000726564"),
    (B.BINARY, b"\x00\xff", "0200000000ff"),
    (B.BLOB, b"lob", "030000006c6f62"),
    (B.BIT, "10101", "05000000a8"),
    (B.DATE, dt.date(2026, 1, 2), "1a250000"),
    (B.DATE, dt.date(1, 1, 1), "f9dbf4ff"),
    (B.TIME, dt.time(12, 34, 56, 789000), "0826e68b0a000000"),
    (B.TIMETZ, dt.time(1, 2, 3, tzinfo=tz(-300)), "c078e8dd00000000b0b9ffff"),
    (B.TIMESTAMP, dt.datetime(2026, 1, 2, 3, 4, 5), "401315bb5dea0200"),
    (B.TIMESTAMPTZ, dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), "401315bb5dea0200"),
    (B.INTERVAL, Interval(1, 2, 3), "03000000000000000200000001000000"),
    (B.UUID, uuid.UUID("018f0a2b-0000-7000-9000-000000000301"), "018f0a2b000070009000000000000301"),
    ((15, 1, B.INT32), [[1, 2], [3, None]],
     "02000000010000000200030002000000010000000200000001000000040000000100000004000000"
     "020000000400000003000000ffffffff"),
    ((15, 2, B.TEXT), ["a", None], "0100000001000000080001000200000001000000050000000100000061ffffffff"),
    ((17, 1, B.INT64), Range(1, 10), "0200000002000400080000000100000000000000080000000a00000000000000"),
    ((17, 2, B.INT32), [Range(1, 3), Range(5, None)],
     "0200030002000000180000000200000002000300040000000100000004000000030000001000000012000000"
     "020003000400000005000000"),
    ((16, 1, B.TEXT, B.INT32), {"a": 1, "b": None},
     "0800010002000300020000000500000001000000610400000001000000050000000100000062ffffffff"),
    ((16, 2, (B.INT32, B.TEXT, B.BOOLEAN)), (1, "x", None),
     "030000000200030004000000010000000800010005000000010000007801000100ffffffff"),
    ((16, 3, (B.INT64,)), (7,), "0100000002000400080000000700000000000000"),
    (B.VARIANT, 3.5, "060003000000000000000c40"),
    (B.INET, ipaddress.ip_interface("192.168.0.1/24"), "02180000c0a80001"),
    (B.CIDR, ipaddress.ip_network("10.0.0.0/8"), "020801000a000000"),
    (B.INET, ipaddress.ip_interface("::1/128"), "0a80000000000000000000000000000000000001"),
    (B.MACADDR, "08:00:2b:01:02:03", "08002b010203"),
    (B.MACADDR, "08:00:2b:ff:fe:01:02:03", "08002bfffe010203"),
    (B.GEOMETRY, Geometry(bytes.fromhex("0101000000000000000000f03f0000000000000040")),
     "150000000101000000000000000000f03f0000000000000040"),
    (B.VECTOR, [1.0, 2.5], "020000000000803f00002040"),
]
GOLDEN_ROW = "0300010002040000002a0000000400000000000000"


@pytest.mark.parametrize("spec, value, hexed", GOLDEN, ids=[f"{B.type_label(g[0])}-{i}" for i, g in enumerate(GOLDEN)])
def test_golden_bytes(spec, value, hexed):
    assert B.encode_value(spec, value).hex() == hexed
    assert norm(B.decode_value(spec[:2], bytes.fromhex(hexed))) == norm(value)


def test_golden_bytes_are_the_documented_ones():
    doc = DOC.read_text(encoding="utf-8")
    for _spec, _value, hexed in GOLDEN:
        assert f"`{hexed}`" in doc
    assert f"`{GOLDEN_ROW}`" in doc


def test_golden_data_row_with_null_and_empty_string():
    types = [B.INT32, B.TEXT, B.TEXT]
    assert B.encode_data_row(types, [42, None, ""]).hex() == GOLDEN_ROW
    decoder = B.BinaryRowDecoder([typed(t, f"c{i}") for i, t in enumerate(types)])
    assert decoder.decode_row(bytes.fromhex(GOLDEN_ROW)) == (42, None, "")


# ---------------------------------------------------------------- columns and rows

def typeref(type_id, **fields):
    family, code = type_id
    ref = TypeRef(family, code & 0x7FFF)
    if code & B.TZ:
        ref.timezone_policy = 1
        ref.modifier_bitmap |= 1 << 10
    for name, value in fields.items():
        setattr(ref, name, value)
    return ref


def typed(type_id, name="c", **fields):
    return Column(name, 25, format=1, typeref=typeref(type_id, **fields))


def raw_row(*values):
    """A DATA_ROW payload of value bytes as given (None: the bitmap NULL)."""
    bitmap = bytearray((len(values) + 7) // 8)
    parts = []
    for i, raw in enumerate(values):
        if raw is None:
            bitmap[i >> 3] |= 1 << (i & 7)
        else:
            parts.append(struct.pack("<i", len(raw)) + raw)
    return struct.pack("<HH", len(values), len(bitmap)) + bytes(bitmap) + b"".join(parts)


def test_column_types_come_from_the_typeref():
    assert B.column_type_id(typed(B.INT32)) == B.INT32
    assert B.column_type_id(typed(B.TIMESTAMPTZ)) == B.TIMESTAMPTZ
    assert B.column_type_id(typed(B.TIMETZ)) == B.TIMETZ
    assert B.column_type_id(Column("x", 1184, format=1)) == B.TIMESTAMPTZ
    assert B.column_type_id(Column("x", 701, format=1)) == B.FLOAT64
    assert B.typeref_for(B.TIMESTAMPTZ).timezone_policy == 1
    assert (B.typeref_for(B.UINT128).family, B.typeref_for(B.UINT128).flags) == (3, 0x30)


def test_row_with_null_bitmap_and_every_scalar_family():
    values = [True, -5, 2**100, 1.25, Decimal("3.14"), "t", b"\x01", "101", dt.date(2000, 1, 1),
              dt.time(1), dt.datetime(1999, 12, 31, 23, 59, 59, 999999),
              dt.datetime(2000, 1, 1, tzinfo=UTC), Interval(0, -1, 5), uuid.UUID(int=7), None]
    types = [B.BOOLEAN, B.INT16, B.INT128, B.FLOAT32, B.DECIMAL, B.TEXT, B.BINARY, B.BIT,
             B.DATE, B.TIME, B.TIMESTAMP, B.TIMESTAMPTZ, B.INTERVAL, B.UUID, B.JSON]
    payload = B.encode_data_row(types, values)
    decoder = B.BinaryRowDecoder([typed(t, f"c{i}") for i, t in enumerate(types)])
    assert decoder.ncolumns == len(types)
    assert decoder.type_ids == tuple(types)
    assert norm(decoder.decode_row(payload)) == norm(tuple(values))
    assert norm(decoder.decode_row(memoryview(payload))) == norm(tuple(values))


def test_length_minus_one_is_null_and_zero_length_is_malformed():
    decoder = B.BinaryRowDecoder([typed(B.INT32, "n")])
    assert decoder.decode_row(bytes.fromhex("01000100" "00" "ffffffff")) == (None,)
    with pytest.raises(DataError, match=r"^column 0 \('n', INT32 \(2,3\)\): value of 0 bytes, expected 4$"):
        decoder.decode_row(bytes.fromhex("01000100" "00" "00000000"))


@pytest.mark.parametrize("payload, message", [
    ("0100", "DATA_ROW payload truncated: 2 bytes"),
    ("020001000000000000", "DATA_ROW has 2 columns but the ROW_DESCRIPTION declared 1"),
    ("010000000000000000", "DATA_ROW null bitmap of 0 bytes for 1 columns"),
    ("01000100", "DATA_ROW payload truncated inside the null bitmap"),
    ("0100010000", "DATA_ROW payload truncated at column 0"),
    ("010001000005000000", "DATA_ROW column 0 length 5 runs past the payload"),
    ("0100010000040000000100000000", "DATA_ROW has 1 bytes after its last column"),
])
def test_data_row_framing_errors_are_protocol_errors(payload, message):
    with pytest.raises(ProtocolError) as info:
        B.BinaryRowDecoder([typed(B.INT32)]).decode_row(bytes.fromhex(payload))
    assert str(info.value) == message


def test_malformed_values_name_column_and_type():
    decoder = B.BinaryRowDecoder([typed(B.INT32, "id"), typed((15, 1), "tags")])
    bad_text = B.encode_value((15, 1, B.TEXT), ["ok", "x", None])
    bad_text = bad_text.replace(b"\x01\x00\x00\x00x", b"\x01\x00\x00\x00\xff")
    payload = raw_row(B.encode_value(B.INT32, 1), bad_text)
    with pytest.raises(DataError) as info:
        decoder.decode_row(payload)
    assert str(info.value) == ("column 1 ('tags', ARRAY (15,1)): element 1 (TEXT (8,1)): value is "
                               "not valid UTF-8 (invalid start byte at byte 0)")


def test_unknown_and_refused_column_types_decode_nulls_and_refuse_values():
    columns = [typed((27, 1), "blob"), Column("o", 600, format=1),
               typed(B.TIMESTAMP, "ns", modifier_bitmap=4, datetime_precision=9),
               typed(B.TIMESTAMP, "p", timezone_policy=7)]
    decoder = B.BinaryRowDecoder(columns)
    assert decoder.decode_row(B.encode_data_row([B.INT32] * 4, [None] * 4)) == (None,) * 4
    messages = [
        "column 0 ('blob', type (27,1)): no binary decoding for this type",
        "column 1 ('o', OID 600): no binary decoding for this type",
        "column 2 ('ns', TIMESTAMP (11,3)): datetime precision 9 is finer than the microseconds Python holds",
        "column 3 ('p', TIMESTAMP (11,3)): timezone_policy 7 is not 0 (without time zone) or 1 (with time zone)",
    ]
    for i, message in enumerate(messages):
        values = [None] * 4
        values[i] = 1
        with pytest.raises(DataError) as info:
            decoder.decode_row(B.encode_data_row([B.INT64] * 4, values))
        assert str(info.value) == message


def test_json_options():
    text = '{"a": [1, 2]}'
    assert B.decode_value(B.JSON, B.encode_value(B.JSON, text)) == text
    assert B.decode_value(B.JSONB, B.encode_value(B.JSONB, text)) == Jsonb(text)
    assert B.decode_value(B.JSON, B.encode_value(B.JSON, text), json_loads=json.loads) == {"a": [1, 2]}
    assert B.decode_value(B.JSONB, B.encode_value(B.JSONB, {"a": [1, 2]}), json_loads=json.loads) == {"a": [1, 2]}
    nested = B.BinaryRowDecoder([typed(B.ARRAY, "a")], json_loads=json.loads)
    assert nested.decode_row(B.encode_data_row([(15, 1, B.JSONB)], [["[1]", "{}"]])) == ([[1], {}],)
    decoder = B.BinaryRowDecoder([typed(B.JSONB, "j")], json_loads=json.loads)
    with pytest.raises(DataError, match=r"^column 0 \('j', JSONB \(20,3\)\): JSON text does not parse \(JSONDecodeError: "):
        decoder.decode_row(B.encode_data_row([B.JSONB], ["{nope"]))


# ---------------------------------------------------------------- round trips of every codec

I32 = st.integers(-2**31, 2**31 - 1)
I64 = st.integers(-2**63, 2**63 - 1)
OFFSETS = st.integers(-23 * 60 - 59, 23 * 60 + 59).map(tz)
DECIMALS = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True),
    st.builds(lambda s, d, e: Decimal((s, tuple(d), e)), st.integers(0, 1),
              st.lists(st.integers(0, 9), min_size=1, max_size=200), st.integers(-32767, 32768)),
    st.sampled_from([Decimal("NaN"), Decimal("-NaN"), Decimal("sNaN"), Decimal("-sNaN"),
                     Decimal("NaN123"), Decimal("Infinity"), Decimal("-Infinity"), Decimal("-0"),
                     Decimal("0E-32767"), Decimal("9" * 50 + "E+32768")]),
).filter(lambda d: not d.is_finite() or -32767 <= d.as_tuple().exponent <= 32768)


def _aware_in_range(value):
    return dt.datetime(1, 1, 2) <= value.replace(tzinfo=None) <= dt.datetime(9999, 12, 30)


def _prefix(network_cls, address_st, bits):
    return st.builds(lambda a, p: network_cls((a, p), strict=False), address_st, bits)


IPV4 = st.ip_addresses(v=4)
IPV6 = st.ip_addresses(v=6)
SCALARS = {
    B.BOOLEAN: st.booleans(),
    **{t: st.integers(-2**(w - 1), 2**(w - 1) - 1)
       for t, w in ((B.INT8, 8), (B.INT16, 16), (B.INT32, 32), (B.INT64, 64), (B.INT128, 128))},
    **{t: st.integers(0, 2**w - 1)
       for t, w in ((B.UINT8, 8), (B.UINT16, 16), (B.UINT32, 32), (B.UINT64, 64), (B.UINT128, 128))},
    B.FLOAT32: st.floats(width=32),
    B.FLOAT64: st.floats(),
    B.DECIMAL: DECIMALS, B.DECFLOAT: DECIMALS, B.MONEY: DECIMALS,
    B.TEXT: st.text(), B.XML: st.text(), B.ENUM: st.text(), B.TSVECTOR: st.text(),
    B.TSQUERY: st.text(), B.JSON: st.text(), B.JSONB: st.text().map(Jsonb),
    B.BINARY: st.binary(), B.BLOB: st.binary(),
    B.BIT: st.text(alphabet="01"),
    B.DATE: st.dates(),
    B.TIME: st.times(),
    B.TIMETZ: st.builds(lambda t, z: t.replace(tzinfo=z), st.times(), OFFSETS),
    B.TIMESTAMP: st.datetimes(),
    B.TIMESTAMPTZ: st.one_of(st.datetimes(timezones=st.just(UTC)),
                             st.datetimes(timezones=OFFSETS).filter(_aware_in_range)),
    B.INTERVAL: st.builds(Interval, I32, I32, I64),
    B.UUID: st.uuids(),
    B.INET: st.one_of(st.builds(lambda a, p: ipaddress.IPv4Interface((a.packed, p)), IPV4, st.integers(0, 32)),
                      st.builds(lambda a, p: ipaddress.IPv6Interface((a.packed, p)), IPV6, st.integers(0, 128))),
    B.CIDR: st.one_of(_prefix(ipaddress.IPv4Network, IPV4.map(lambda a: a.packed), st.integers(0, 32)),
                      _prefix(ipaddress.IPv6Network, IPV6.map(lambda a: a.packed), st.integers(0, 128))),
    B.MACADDR: st.one_of(st.binary(min_size=6, max_size=6), st.binary(min_size=8, max_size=8)).map(lambda b: b.hex(":")),
    B.GEOMETRY: st.binary(min_size=5).map(lambda b: Geometry(bytes([b[0] & 1]) + b[1:])),
    B.GEOGRAPHY: st.binary(min_size=5, max_size=40).map(lambda b: Geometry(bytes([b[0] & 1]) + b[1:])),
    B.POINT: st.binary(min_size=5, max_size=40).map(lambda b: Geometry(bytes([b[0] & 1]) + b[1:])),
    B.SHAPE: st.binary(min_size=5, max_size=40).map(lambda b: Geometry(bytes([b[0] & 1]) + b[1:])),
    B.VECTOR: st.lists(st.floats(width=32)),
}
SCALAR_SPECS = sorted(SCALARS)
ELEMENT = st.sampled_from([B.INT32, B.TEXT, B.FLOAT64, B.DECIMAL, B.TIMESTAMPTZ, B.UUID, B.BOOLEAN,
                           B.DATE, B.INTERVAL, B.INET])


@st.composite
def arrays(draw, element=None):
    element = element or draw(ELEMENT)
    leaf = st.one_of(st.none(), SCALARS[element])
    shape = draw(st.lists(st.integers(0, 3), min_size=1, max_size=3))

    def build(dims):
        if len(dims) == 1:
            return draw(st.lists(leaf, min_size=dims[0], max_size=dims[0]))
        return [build(dims[1:]) for _ in range(dims[0])]
    value = build(shape)
    return (15, 1, element), value


@st.composite
def ranges(draw, subtype=None):
    subtype = subtype or draw(st.sampled_from([B.INT32, B.INT64, B.DATE, B.TIMESTAMP, B.DECIMAL]))
    bound = st.one_of(st.none(), SCALARS[subtype])
    if draw(st.booleans()) and draw(st.booleans()):
        return Range(empty=True)
    return Range(draw(bound), draw(bound), draw(st.sampled_from(["[)", "[]", "(]", "()"])))


NESTED = st.one_of(
    arrays(),
    arrays(B.TEXT).map(lambda a: ((15, 2, B.TEXT), a[1])),
    st.lists(st.one_of(st.none(), st.lists(st.one_of(st.none(), I64), max_size=4)), max_size=4)
      .map(lambda v: ((15, 1, (15, 1, B.INT64)), v)),   # ragged: an array of arrays
    st.sampled_from([B.INT32, B.DATE, B.TIMESTAMP]).flatmap(
        lambda t: ranges(t).map(lambda r: ((17, 1, t), r))),
    st.sampled_from([B.INT64, B.DECIMAL]).flatmap(
        lambda t: st.lists(ranges(t), max_size=4).map(lambda rs: ((17, 2, t), rs))),
    st.dictionaries(st.text(), st.one_of(st.none(), I64), max_size=5).map(lambda d: ((16, 1, B.TEXT, B.INT64), d)),
    st.dictionaries(I32, st.one_of(st.none(), st.text()), max_size=5).map(lambda d: ((16, 1, B.INT32, B.TEXT), d)),
    st.tuples(st.one_of(st.none(), I32), st.one_of(st.none(), st.text()), st.one_of(st.none(), st.dates()))
      .map(lambda t: ((16, 2, (B.INT32, B.TEXT, B.DATE)), t)),
    st.tuples(st.one_of(st.none(), st.floats())).map(lambda t: ((16, 3, (B.FLOAT64,)), t)),
    st.one_of(st.none(), st.booleans(), I64, st.floats(), st.text(), st.binary(), DECIMALS, st.uuids(),
              st.dates(), st.datetimes()).map(lambda v: (B.VARIANT, v)),
)


def assert_same(spec, decoded, value):
    if spec == B.TIMESTAMPTZ:   # the same instant, always in UTC
        assert decoded == value and decoded.tzinfo is UTC
    else:
        assert norm(decoded) == norm(value)


@pytest.mark.parametrize("spec", SCALAR_SPECS, ids=B.type_label)
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_each_scalar_codec_round_trips(spec, data):
    value = data.draw(SCALARS[spec])
    assert_same(spec, B.decode_value(spec, B.encode_value(spec, value)), value)


@FAST
@given(NESTED)
def test_every_nested_codec_round_trips(case):
    spec, value = case
    assert norm(B.decode_value(spec[:2], B.encode_value(spec, value))) == norm(value)


@FAST
@given(st.lists(st.sampled_from(SCALAR_SPECS), min_size=1, max_size=12), st.data())
def test_rows_round_trip(types, data):
    values = [data.draw(st.one_of(st.none(), SCALARS[t])) for t in types]
    payload = B.encode_data_row(types, values)
    decoder = B.BinaryRowDecoder([typed(t, f"c{i}") for i, t in enumerate(types)])
    decoded = decoder.decode_row(payload)
    assert len(decoded) == len(values)
    for spec, got, value in zip(types, decoded, values):
        if value is None:
            assert got is None
        else:
            assert_same(spec, got, value)


@pytest.mark.parametrize("spec, lo, hi", [
    (B.INT8, -2**7, 2**7 - 1), (B.INT16, -2**15, 2**15 - 1), (B.INT32, -2**31, 2**31 - 1),
    (B.INT64, -2**63, 2**63 - 1), (B.INT128, -2**127, 2**127 - 1),
    (B.UINT8, 0, 2**8 - 1), (B.UINT16, 0, 2**16 - 1), (B.UINT32, 0, 2**32 - 1),
    (B.UINT64, 0, 2**64 - 1), (B.UINT128, 0, 2**128 - 1),
])
def test_integer_limits(spec, lo, hi):
    for value in (lo, hi, 0):
        assert B.decode_value(spec, B.encode_value(spec, value)) == value
    for value in (lo - 1, hi + 1):
        with pytest.raises(DataError, match=r"integer does not fit"):
            B.encode_value(spec, value)


@pytest.mark.parametrize("value", [math.nan, -0.0, math.inf, -math.inf, 5e-324, 1.7976931348623157e308])
def test_float_edges(value):
    assert norm(B.decode_value(B.FLOAT64, B.encode_value(B.FLOAT64, value))) == norm(value)
    if abs(value) < 1e38 or math.isinf(value) or math.isnan(value):
        assert norm(B.decode_value(B.FLOAT32, B.encode_value(B.FLOAT32, value))) == \
            norm(struct.unpack("<f", struct.pack("<f", value))[0])
    with pytest.raises(DataError, match="outside the FLOAT32 range"):
        B.encode_value(B.FLOAT32, 1e39)


def test_text_edges():
    big = "ü" * 3_000_000
    assert B.decode_value(B.TEXT, B.encode_value(B.TEXT, big)) == big
    with pytest.raises(DataError, match=r"^TEXT \(8,1\): text is not encodable as UTF-8"):
        B.encode_value(B.TEXT, "a\udc80")
    for raw in (b"\xff", b"\xc3", b"\xed\xa0\x80", b"a\x80b"):
        with pytest.raises(DataError, match=r"^TEXT \(8,1\): value is not valid UTF-8"):
            B.decode_value(B.TEXT, struct.pack("<i", len(raw)) + raw)


def test_decimal_with_many_digits_and_big_exponents():
    for value in (Decimal("1" * 6000), Decimal("-" + "7" * 5000 + "E-32767"), Decimal("1E+32768"),
                  Decimal("0E+32768"), Decimal("-0.000"), Decimal("NaN" + "9" * 60)):
        assert norm(B.decode_value(B.DECIMAL, B.encode_value(B.DECIMAL, value))) == norm(value)
    for value in (Decimal("1E+32769"), Decimal("1E-32768")):
        with pytest.raises(DataError, match="outside the i16 scale range"):
            B.encode_value(B.DECIMAL, value)


def test_far_dates_and_timestamps():
    for value in (dt.date(1, 1, 1), dt.date(9999, 12, 31)):
        assert B.decode_value(B.DATE, B.encode_value(B.DATE, value)) == value
    for value in (dt.datetime.min, dt.datetime.max):
        assert B.decode_value(B.TIMESTAMP, B.encode_value(B.TIMESTAMP, value)) == value
        aware = value.replace(tzinfo=UTC)
        assert B.decode_value(B.TIMESTAMPTZ, B.encode_value(B.TIMESTAMPTZ, aware)) == aware
    with pytest.raises(DataError, match="instant in UTC falls outside years 1..9999"):
        B.encode_value(B.TIMESTAMPTZ, dt.datetime(1, 1, 1, tzinfo=tz(60)))


@pytest.mark.parametrize("spec, raw, message", [
    (B.DATE, struct.pack("<i", 2**31 - 1), "DATE (11,1): date is +infinity, which Python's date cannot hold"),
    (B.DATE, struct.pack("<i", -2**31), "DATE (11,1): date is -infinity, which Python's date cannot hold"),
    (B.DATE, struct.pack("<i", 2921940), "DATE (11,1): date 2921940 days from 2000-01-01 is outside years 1..9999"),
    (B.DATE, struct.pack("<i", -730120), "DATE (11,1): date -730120 days from 2000-01-01 is outside years 1..9999"),
    (B.TIMESTAMP, struct.pack("<q", 2**63 - 1), "TIMESTAMP (11,3): timestamp is +infinity, which Python's datetime cannot hold"),
    (B.TIMESTAMPTZ, struct.pack("<q", -2**63), "TIMESTAMPTZ (11,3,tz): timestamp is -infinity, which Python's datetime cannot hold"),
    (B.TIMESTAMP, struct.pack("<q", 252455616000000000),
     "TIMESTAMP (11,3): timestamp 252455616000000000 microseconds from 2000-01-01 is outside years 1..9999"),
    (B.TIME, struct.pack("<q", 86400000000), "TIME (11,2): time of day 86400000000 microseconds is outside 00:00:00..23:59:59.999999"),
    (B.TIMETZ, struct.pack("<qi", 0, 86400), "TIMETZ (11,2,tz): time zone offset 86400 seconds is outside -86399..86399"),
    (B.BOOLEAN, b"\x02", "BOOLEAN (1,1): boolean byte 2 is not 0 or 1"),
    (B.INT64, b"\x00" * 7, "INT64 (2,4): value of 7 bytes, expected 8"),
    (B.TEXT, b"\x05\x00\x00\x00abc", "TEXT (8,1): inner length 5 does not match the 3 bytes that follow"),
    (B.DECIMAL, bytes.fromhex("0000000002000000"), "DECIMAL (4,1): decimal sign byte 0x02 is not 0x00/0x01, "
     "0x10/0x11 (infinity), 0x20/0x21 (NaN) or 0x30/0x31 (signaling NaN)"),
    (B.DECIMAL, bytes.fromhex("000000001000000001"), "DECIMAL (4,1): a decimal infinity has a coefficient"),
    (B.BIT, bytes.fromhex("03000000e1"), "BIT (10,1): the padding bits after the last bit are not zero"),
    (B.BIT, bytes.fromhex("09000000ff"), "BIT (10,1): 9 bits need 2 bytes, the value has 1"),
    (B.INET, bytes.fromhex("0321000001020304"), "INET (19,1): address family 3 is not 2 (IPv4) or 10 (IPv6)"),
    (B.INET, bytes.fromhex("0221000001020304"), "INET (19,1): prefix length 33 exceeds 32"),
    (B.INET, bytes.fromhex("0218010001020304"), "INET (19,1): is_cidr byte 1, expected 0"),
    (B.CIDR, bytes.fromhex("0218010001020304"), "CIDR (19,2): network prefix /24 has host bits set"),
    (B.MACADDR, bytes(7), "MACADDR (19,3): value of 7 bytes, expected 6 or 8"),
    (B.VECTOR, bytes.fromhex("0200000000000000"), "VECTOR (22,1): 2 dimensions need 8 bytes, the value has 4"),
    (B.GEOMETRY, bytes.fromhex("050000000201000000"), "GEOMETRY (21,1): WKB byte-order byte 2 is not 0 or 1"),
    ((27, 1), b"x", "type (27,1): no binary decoding for this type"),
    (B.UNTYPED, b"", "UNTYPED (0,0): no binary decoding for this type"),
])
def test_refused_values(spec, raw, message):
    with pytest.raises(DataError) as info:
        B.decode_value(spec, raw)
    assert str(info.value) == message


@pytest.mark.parametrize("spec, raw, message", [
    (B.ARRAY, bytes.fromhex("07000000000000000800010000"), "array of 7 dimensions (0..6 supported)"),
    (B.ARRAY, bytes.fromhex("010000000200000008000100"), "array flags 0x2 have unknown bits"),
    (B.ARRAY, bytes.fromhex("0100000000000000080001000300000001000000"),
     "array dimensions 3 need more than the 0 bytes left"),
    (B.ARRAY, bytes.fromhex("01000000000000000200030001000000010000000400000001000000ff"),
     "1 bytes after the last element"),
    (B.ARRAY, bytes.fromhex("0100000000000000020003000100000001000000fe000000"),
     "element 0: length 254 does not fit the 0 bytes left"),
    (B.RANGE, bytes.fromhex("0300000002000300"), "range flags 0x03 mark it empty and set bounds too"),
    (B.RANGE, bytes.fromhex("1a00000002000300"), "the lower bound is both infinite and inclusive"),
    (B.RANGE, bytes.fromhex("1800000002000300ff"), "1 bytes after the last bound"),
    (B.RANGE, bytes.fromhex("0800000002000300ffffffff"), "upper bound: length -1 does not fit the 0 bytes left"),
    (B.MULTIRANGE, bytes.fromhex("0200030001000000" "08000000" "0100000002000400"),
     "range 0 has subtype INT64 (2,4) but the multirange declares INT32 (2,3)"),
    (B.MAP, bytes.fromhex("02000300020003000200000004000000010000000400000002000000"
                          "04000000010000000400000003000000"), "key 1 repeats an earlier key"),
    (B.MAP, bytes.fromhex("0f00010002000300010000000c00000000000000000000000200000004000000"
                          "01000000"), "key 0 (ARRAY (15,1)) is not hashable"),
    (B.MAP, bytes.fromhex("020003000200030001000000ffffffff04000000"),
     "key 0: length -1 does not fit the 4 bytes left"),
    (B.ROW, bytes.fromhex("ffffff7f"), "2147483647 fields cannot fit in the 0 bytes left"),
    (B.ROW, bytes.fromhex("010000000200030003000000010203"), "field 0 (INT32 (2,3)): value of 3 bytes, expected 4"),
    (B.VARIANT, bytes.fromhex("0000000001"), "a NULL variant carries 1 bytes"),
    (B.VARIANT, bytes.fromhex("0100010002"), "variant (BOOLEAN (1,1)): boolean byte 2 is not 0 or 1"),
])
def test_refused_nested_values(spec, raw, message):
    with pytest.raises(DataError) as info:
        B.decode_value(spec, raw)
    assert str(info.value) == f"{B.type_label(spec)}: {message}"


def test_nesting_depth_is_limited():
    raw = B.encode_value(B.VARIANT, 1)
    for _ in range(40):
        raw = struct.pack("<HH", *B.VARIANT) + raw
    with pytest.raises(DataError, match=f"nesting deeper than {B.MAX_DEPTH} levels"):
        B.decode_value(B.VARIANT, raw)
    value = [1]
    for _ in range(B.MAX_DEPTH - 1):
        value = [value]
    spec = B.INT64
    for _ in range(B.MAX_DEPTH):
        spec = (15, 1, spec)
    assert B.decode_value(B.ARRAY, B.encode_value(spec, value)) == value


def test_arrays_shapes_nulls_and_ragged_lists():
    assert B.decode_value(B.ARRAY, B.encode_value(B.ARRAY, [])) == []
    assert B.decode_value(B.ARRAY, B.encode_value((15, 1, B.INT32), [[], []])) == [[], []]
    assert B.decode_value(B.ARRAY, B.encode_value(B.ARRAY, [None, None])) == [None, None]
    assert B.decode_value(B.ARRAY, B.encode_value(B.ARRAY, [["a", None], [None, "b"]])) == [["a", None], [None, "b"]]
    for ragged in ([[1, 2], [3]], [[1], 2], [1, [2]]):
        with pytest.raises(DataError, match="ragged array"):
            B.encode_value(B.ARRAY, ragged)
    ragged = [[1, 2], [3], None, []]
    assert B.decode_value(B.ARRAY, B.encode_value((15, 1, (15, 1, B.INT32)), ragged)) == ragged
    with pytest.raises(DataError, match=r"values of different types \(INT64 \(2,4\), TEXT \(8,1\)\) need an explicit type"):
        B.encode_value(B.ARRAY, [1, "a"])


def test_encode_param_infers_types():
    cases = [
        (True, B.BOOLEAN), (1, B.INT64), (2**64, B.INT128), (2**127, B.UINT128), (2**128, B.DECIMAL),
        (-2**200, B.DECIMAL), (1.5, B.FLOAT64), (Decimal("1.5"), B.DECIMAL), ("s", B.TEXT),
        (b"b", B.BINARY), (bytearray(b"b"), B.BINARY), (dt.date(2020, 1, 1), B.DATE),
        (dt.datetime(2020, 1, 1), B.TIMESTAMP), (dt.datetime(2020, 1, 1, tzinfo=tz(90)), B.TIMESTAMPTZ),
        (dt.time(1), B.TIME), (dt.time(1, tzinfo=UTC), B.TIMETZ), (dt.timedelta(days=-1, seconds=5), B.INTERVAL),
        (Interval(1, 0, 0), B.INTERVAL), (uuid.UUID(int=1), B.UUID), (Jsonb("{}"), B.JSONB),
        (Geometry(bytes.fromhex("0101000000000000000000f03f0000000000000040")), B.GEOMETRY),
        (ipaddress.ip_address("1.2.3.4"), B.INET), (ipaddress.ip_network("::/0"), B.CIDR),
        ([1, None, 2**70], B.ARRAY), ((1, "a", None), B.ROW), ({"k": [1.5]}, B.MAP), (Range(1, None), B.RANGE),
    ]
    for value, expected in cases:
        type_id, raw = B.encode_param(value)
        assert type_id == expected
        decoded = B.decode_value(type_id, raw)
        if isinstance(value, dt.timedelta):
            assert decoded.to_timedelta() == value
        elif isinstance(value, ipaddress.IPv4Address):
            assert decoded == ipaddress.ip_interface("1.2.3.4/32")
        elif isinstance(value, dt.datetime) and value.tzinfo:
            assert decoded == value
        elif expected == B.DECIMAL and isinstance(value, int):
            assert norm(decoded) == norm(Decimal(value))
        else:
            assert norm(decoded) == norm(value if not isinstance(value, bytearray) else bytes(value))
    assert B.encode_param(None) == (B.UNTYPED, None)
    with pytest.raises(DataError, match="^parameter of Python type object: no binary encoding for Python type object$"):
        B.encode_param(object())


@pytest.mark.parametrize("spec, value, message", [
    (B.TIMESTAMPTZ, dt.datetime(2020, 1, 1), "TIMESTAMPTZ takes an aware datetime"),
    (B.TIMESTAMP, dt.datetime(2020, 1, 1, tzinfo=UTC), "TIMESTAMP takes a naive datetime"),
    (B.DATE, dt.datetime(2020, 1, 1), "expected date, got datetime"),
    (B.TIMETZ, dt.time(1, tzinfo=dt.timezone(dt.timedelta(microseconds=5))), "fractions of a second"),
    (B.INT32, True, "expected int, got bool"),
    (B.BIT, "012", "only '0' and '1'"),
    (B.MACADDR, "08:00:2b", "6 or 8 bytes"),
    (B.INTERVAL, Interval(2**31, 0, 0), "do not fit"),
    (B.TEXT, None, "None has no binary value"),
    ((27, 1), 1, "no binary encoding for this type"),
    ((16, 2, (B.INT32,)), (1, 2), "1 field types for 2 values"),
    ((16, 1, B.TEXT, B.INT32), {None: 1}, "map keys cannot be NULL"),
])
def test_encoding_refusals(spec, value, message):
    with pytest.raises(DataError, match=message):
        B.encode_value(spec, value)
    if value is None:   # in a row, None is the bitmap NULL
        assert B.encode_data_row([spec], [value]) == bytes.fromhex("0100010001")
    else:
        with pytest.raises(DataError, match=rf"^column 0 \({re.escape(B.type_label(spec))}\): .*{message}"):
            B.encode_data_row([spec], [value])


def test_every_minute_offset():
    for minutes in range(-23 * 60 - 59, 23 * 60 + 60):
        value = dt.time(23, 59, 59, 999999, tzinfo=tz(minutes))
        decoded = B.decode_value(B.TIMETZ, B.encode_value(B.TIMETZ, value))
        assert decoded == value and decoded.utcoffset() == value.utcoffset()
        stamp = dt.datetime(2024, 2, 29, 0, 0, 0, 1, tzinfo=tz(minutes))
        decoded = B.decode_value(B.TIMESTAMPTZ, B.encode_value(B.TIMESTAMPTZ, stamp))
        assert decoded == stamp and decoded.tzinfo is UTC


def test_interval_with_negative_parts():
    value = Interval(-13, -400, -1)
    assert B.decode_value(B.INTERVAL, B.encode_value(B.INTERVAL, value)) == value
    assert Interval(0, -1, 5).to_timedelta() == dt.timedelta(days=-1, microseconds=5)
    with pytest.raises(ValueError):
        Interval(1, 0, 0).to_timedelta()


def test_value_classes_are_small_immutable_values():
    for value in (Interval(1, 2, 3), Range(1, 2), Range(empty=True), Jsonb("[]"), Geometry(b"\x01abcd")):
        assert value == eval(repr(value), {"Interval": Interval, "Range": Range, "Jsonb": Jsonb,
                                           "Geometry": Geometry})
        assert hash(value) == hash(eval(repr(value), {"Interval": Interval, "Range": Range,
                                                      "Jsonb": Jsonb, "Geometry": Geometry}))
        with pytest.raises(AttributeError):
            value.x = 1
    assert Range(None, 5, "[]") == Range(None, 5, "(]") and Range(None, 5, "[]").lower_inf
    assert Jsonb.dumps({"a": 1}).loads() == {"a": 1}


# ---------------------------------------------------------------- random bytes into every decoder

ALL_TYPES = sorted(set(SCALAR_SPECS) | {B.ARRAY, B.LIST, B.RANGE, B.MULTIRANGE, B.MAP, B.ROW,
                                        B.COMPOSITE, B.VARIANT, B.UNTYPED, (27, 1)})


def check_decoded_or_refused(spec, raw):
    """Decode, or refuse with a DataError naming the type: nothing else may come out of
    a decoder. A value that decodes must survive the encoder (a separate code path):
    encoding it again and decoding gives the same value."""
    try:
        value = B.decode_value(spec, raw)
    except DataError as exc:
        assert str(exc).startswith(B.type_label(spec) + ": ")
        return
    try:
        again = B.encode_value(spec, value)
    except DataError:
        return      # some decodable values have no encoding (an element type ARRAY cannot name)
    assert norm(B.decode_value(spec, again)) == norm(value)


@settings(FAST, max_examples=400)
@given(st.sampled_from(ALL_TYPES), st.binary(max_size=64))
def test_random_bytes_never_crash_any_decoder(spec, raw):
    check_decoded_or_refused(spec, raw)


@settings(FAST, max_examples=300)
@given(NESTED, st.data())
def test_corrupted_nested_values_never_crash(case, data):
    spec, value = case
    raw = bytearray(B.encode_value(spec, value))
    for _ in range(data.draw(st.integers(1, 3))):
        if raw and data.draw(st.booleans()):
            raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
        else:
            del raw[data.draw(st.integers(0, len(raw))):]
    check_decoded_or_refused(spec[:2], bytes(raw))


@FAST
@given(st.lists(st.sampled_from(ALL_TYPES), min_size=1, max_size=4), st.binary(max_size=80))
def test_random_rows_raise_only_data_or_protocol_errors(types, raw):
    decoder = B.BinaryRowDecoder([typed(t) for t in types])
    payload = struct.pack("<HH", len(types), (len(types) + 7) // 8) + raw
    try:
        assert len(decoder.decode_row(payload)) == len(types)
    except (DataError, ProtocolError) as exc:
        assert str(exc)


# ---------------------------------------------------------------- read_data_rows

TYPES = [B.INT64, B.TEXT, B.DECIMAL, B.TIMESTAMPTZ, B.UUID, B.ARRAY]
COLUMNS = [typed(t, f"c{i}") for i, t in enumerate(TYPES)]


def sample_rows(n):
    return [(i, f"row {i}" if i % 3 else None, Decimal(i) / 4, dt.datetime(2020, 1, 1, tzinfo=UTC)
             + dt.timedelta(seconds=i), uuid.UUID(int=i), [i, None]) for i in range(n)]


def frames(rows, seq=0):
    return b"".join(framing.encode_frame(DATA_ROW, B.encode_data_row(TYPES, row), seq + i)
                    for i, row in enumerate(rows))


def test_read_data_rows_stops_at_another_frame_and_at_max_rows():
    rows = sample_rows(5)
    reader = framing.FrameReader()
    reader.feed(frames(rows) + framing.encode_frame(READY, b"\x00" * 20))
    decoder = B.BinaryRowDecoder(COLUMNS)
    out = []
    assert B.read_data_rows(reader, decoder, out, 2) == 2
    assert B.read_data_rows(reader, decoder, out, 100) == 3
    assert B.read_data_rows(reader, decoder, out, 100) == 0
    assert out == rows
    assert reader.peek_type() == READY


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 2000), max_size=8), st.integers(1, 7))
def test_read_data_rows_over_any_chunking(cuts, max_rows):
    rows = sample_rows(7)
    stream = frames(rows)
    cuts = sorted({c % (len(stream) + 1) for c in cuts})
    reader = framing.FrameReader()
    decoder = B.BinaryRowDecoder(COLUMNS)
    out = []
    start = 0
    for cut in cuts + [len(stream)]:
        reader.feed(stream[start:cut])
        start = cut
        while B.read_data_rows(reader, decoder, out, max_rows):
            pass
    assert out == rows


def test_read_data_rows_consumes_a_malformed_row_and_goes_on():
    good = B.encode_data_row([B.INT64], [1])
    bad = B.encode_data_row([B.INT32], [1])
    reader = framing.FrameReader()
    reader.feed(framing.encode_frame(DATA_ROW, good) + framing.encode_frame(DATA_ROW, bad)
                + framing.encode_frame(DATA_ROW, good))
    decoder = B.BinaryRowDecoder([typed(B.INT64, "id")])
    out = []
    with pytest.raises(DataError, match=r"^column 0 \('id', INT64 \(2,4\)\): value of 4 bytes, expected 8$"):
        B.read_data_rows(reader, decoder, out, 10)
    assert out == [(1,)]
    assert B.read_data_rows(reader, decoder, out, 10) == 1
    assert out == [(1,), (1,)]
