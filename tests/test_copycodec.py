"""The COPY row encoders (REFERENCE 7.8): compiled against pure twin on the same rows,
SBNR packets decoded back, every type tag with NULLs in every position, the text-form
refusals, and the window and frame limits."""
from __future__ import annotations

import datetime as dt
import os
import struct
import uuid
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scratchbird._pure import copycodec as pure
from scratchbird.bulk._values import infer_tags, render_copy_text
from scratchbird.errors import DataError

try:
    from scratchbird._compiled import copycodec as compiled
except ImportError as exc:  # pragma: no cover - depends on the build
    if os.environ.get("SCRATCHBIRD_IMPL", "c").strip().lower() == "python":
        pytest.skip(f"compiled copycodec not built ({exc}); SCRATCHBIRD_IMPL=python",
                    allow_module_level=True)
    pytest.fail(f"scratchbird._compiled.copycodec is not importable: {exc}", pytrace=False)

TWINS = [pure, compiled]
ALL_TAGS = [1, 2, 3, 4, 5, 6, 7]
NAMES = ["t", "i64", "b", "i32", "u64", "f", "bin"]
SAMPLE = ["x", -(1 << 63), True, -(1 << 31), (1 << 64) - 1, -0.5, b"\x00\xff"]


def outcome(fn, *args):
    try:
        return ("ok", fn(*args))
    except Exception as exc:  # noqa: BLE001 - the class and message are the contract
        return ("raised", type(exc), str(exc))


def sbnr(module, tags, names, rows, max_bytes=1 << 25, base=0):
    header = pure.sbnr_header(tags, names)
    return module.encode_sbnr_packet(header, tags, names, rows, 0, max_bytes, render_copy_text,
                                     base)


def null_positions_rows():
    """Every column NULL in some row, every column non-NULL in another, all NULL, none."""
    rows = [tuple(SAMPLE), (None,) * 7]
    for k in range(7):
        rows.append(tuple(None if j == k else SAMPLE[j] for j in range(7)))
        rows.append(tuple(SAMPLE[j] if j == k else None for j in range(7)))
    return rows


@pytest.mark.parametrize("module", TWINS, ids=["pure", "compiled"])
def test_every_tag_with_nulls_in_every_position_round_trips(module):
    rows = null_positions_rows()
    packet, end = sbnr(module, ALL_TAGS, NAMES, rows)
    assert end == len(rows)
    tags, names, count, columns = pure.decode_sbnr_packet(packet)
    assert (tags, names, count) == (ALL_TAGS, NAMES, len(rows))
    assert [tuple(col[r] for col in columns) for r in range(count)] == rows


def test_nine_columns_use_a_two_byte_bitmap():
    tags, names = [2] * 9, [f"c{k}" for k in range(9)]
    rows = [(None,) * 8 + (7,), (1,) * 9]
    for module in TWINS:
        packet, _ = sbnr(module, tags, names, rows)
        head = len(pure.sbnr_header(tags, names))
        assert packet[head:head + 2] == b"\xff\x00"       # LSB first (REFERENCE 7.8)
        assert pure.decode_sbnr_packet(packet)[3][8] == [7, 1]


row_values = st.tuples(
    st.none() | st.text(max_size=12),
    st.none() | st.integers(-(1 << 63), (1 << 63) - 1),
    st.none() | st.booleans(),
    st.none() | st.integers(-(1 << 31), (1 << 31) - 1),
    st.none() | st.integers(0, (1 << 64) - 1),
    st.none() | st.floats(allow_nan=False),
    st.none() | st.binary(max_size=12),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(row_values, min_size=1, max_size=20), st.integers(40, 400))
def test_sbnr_twins_agree(rows, max_bytes):
    start, packets = 0, []
    while start < len(rows):
        a = outcome(pure.encode_sbnr_packet, pure.sbnr_header(ALL_TAGS, NAMES), ALL_TAGS, NAMES,
                    rows, start, max_bytes, render_copy_text, start)
        b = outcome(compiled.encode_sbnr_packet, pure.sbnr_header(ALL_TAGS, NAMES), ALL_TAGS,
                    NAMES, rows, start, max_bytes, render_copy_text, start)
        assert a == b
        packet, start = a[1]
        packets.append(packet)
    decoded = []
    for packet in packets:
        assert len(packet) <= max_bytes or pure.decode_sbnr_packet(packet)[2] == 1
        _, _, count, columns = pure.decode_sbnr_packet(packet)
        decoded += [tuple(col[r] for col in columns) for r in range(count)]
    assert decoded == [tuple(bytes(v) if isinstance(v, bytearray) else v for v in r) for r in rows]


text_value = st.none() | st.booleans() | st.integers() | st.text(max_size=10) | st.floats()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(text_value, text_value), min_size=1, max_size=10),
       st.integers(8, 200))
def test_text_twins_agree(rows, max_bytes):
    start = 0
    while start < len(rows):
        a = outcome(pure.encode_text_rows, ["a", "b"], rows, start, max_bytes, render_copy_text, 0)
        b = outcome(compiled.encode_text_rows, ["a", "b"], rows, start, max_bytes,
                    render_copy_text, 0)
        assert a == b
        if a[0] == "raised":
            assert a[1] is DataError and "COPY row" in a[2]
            return
        payload, start = a[1]
        assert payload.endswith(b"\n")


@pytest.mark.parametrize("module", TWINS, ids=["pure", "compiled"])
@pytest.mark.parametrize("value,why", [
    ("a;b", "';'"), ("two\nlines", "line break"), ("cr\r", "line break"),
    (" lead", "whitespace"), ("trail\t", "whitespace"), ("NULL", "NULL"), ("<null>", "NULL"),
    ("Null", "NULL"), ("<NULL>", "NULL"),
])
def test_text_refusals_name_row_and_column(module, value, why):
    with pytest.raises(DataError) as info:
        module.encode_text_rows(["id", "note"], [(1, "fine"), (2, value)], 0, 1 << 20,
                                render_copy_text, 10)
    message = str(info.value)
    assert "COPY row 12, column 'note'" in message and why in message


@pytest.mark.parametrize("module", TWINS, ids=["pure", "compiled"])
def test_text_lines_and_renderings(module):
    rows = [(1, "a=b", None, True, Decimal("1.50"), dt.date(2024, 2, 29), 0.1),
            (2, "", None, False, Decimal("-0.5"), dt.datetime(2024, 1, 2, 3, 4, 5, 6), 1e20)]
    payload, end = module.encode_text_rows(list("abcdefg"), rows, 0, 1 << 20, render_copy_text)
    assert end == 2
    assert payload == (b"a=1;b=a=b;c=NULL;d=true;e=1.50;f=2024-02-29;g=0.1\n"
                       b"a=2;b=;c=NULL;d=false;e=-0.5;f=2024-01-02 03:04:05.000006;g=1e+20\n")


@pytest.mark.parametrize("module", TWINS, ids=["pure", "compiled"])
@pytest.mark.parametrize("tag,value", [
    (2, 1 << 63), (2, 1.5), (2, True), (3, 1), (4, 1 << 31), (5, -1), (6, "x"), (6, 1 << 60 | 1),
    (7, "text"),
])
def test_values_outside_their_tag_are_refused(module, tag, value):
    with pytest.raises(DataError) as info:
        sbnr(module, [tag], ["c"], [(value,)])
    assert "COPY row 1, column 'c'" in str(info.value)


@pytest.mark.parametrize("module", TWINS, ids=["pure", "compiled"])
def test_values_sbnr_cannot_carry_go_as_text(module):
    stamp = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    u = uuid.UUID("0191e7c2-8d3b-7a10-9c4e-1234567890ab")
    rows = [(Decimal("12.50"), dt.date(2024, 2, 29), stamp, u, dt.time(13, 14, 15, 500000))]
    tags = infer_tags(rows, 5)
    assert tags == [1] * 5
    packet, _ = sbnr(module, tags, list("abcde"), rows)
    [values] = zip(*pure.decode_sbnr_packet(packet)[3])
    assert values == ("12.50", "2024-02-29", "2024-01-02 03:04:05-05:00",
                      "0191e7c2-8d3b-7a10-9c4e-1234567890ab", "13:14:15.500000")


def test_tags_come_from_the_first_non_null_value():
    rows = [(None, None, None, None, None), (1, True, 2.5, b"x", 1 << 63), (None, None, None, None, None)]
    assert infer_tags(rows, 5) == [2, 3, 6, 7, 5]
    assert infer_tags([(None,)], 1) == [1]
    assert infer_tags(rows, 5, [None, 1, None, None, None]) == [2, 1, 6, 7, 5]


@pytest.mark.parametrize("module", TWINS, ids=["pure", "compiled"])
def test_window_splits_packets_and_bad_rows_are_named(module):
    rows = [(k, "v" * 10) for k in range(100)]
    packets, start = [], 0
    while start < len(rows):
        packet, start2 = sbnr(module, [2, 1], ["k", "v"], rows[start:], 200, start)
        assert len(packet) <= 200 and start2 > 0
        packets.append(packet)
        start += start2
    assert sum(pure.decode_sbnr_packet(p)[2] for p in packets) == 100
    assert struct.unpack_from("<Q", packets[0], 8)[0] == pure.decode_sbnr_packet(packets[0])[2]
    with pytest.raises(DataError, match="COPY row 3 has 1 values; the COPY has 2 columns"):
        sbnr(module, [2, 1], ["k", "v"], [(1, "a"), (2, "b"), (3,)])
    with pytest.raises(DataError, match="a row must be a tuple or a list"):
        module.encode_text_rows(["k"], [{"k": 1}], 0, 100, render_copy_text)


@pytest.mark.parametrize("payload", [
    b"SBNR", b"XXXX" + bytes(16), pure.sbnr_header([2], ["a"]),
    bytes(pure.sbnr_header([2], ["a"])[:8]) + struct.pack("<Q", 1)
    + pure.sbnr_header([2], ["a"])[16:] + b"\x00\x01",
])
def test_decoder_refuses_malformed_packets(payload):
    with pytest.raises(ValueError):
        pure.decode_sbnr_packet(payload)


def test_column_decoders_agree_and_build_arrow_arrays():
    """decode_sbnr_columns (the dev server's bulk path) against its pure twin, and the
    buffers as Arrow arrays equal the values decode_sbnr_packet reads."""
    pa = pytest.importorskip("pyarrow")
    rows = null_positions_rows() * 3
    packet, _ = sbnr(pure, ALL_TAGS, NAMES, rows)
    assert pure.decode_sbnr_columns(packet) == compiled.decode_sbnr_columns(packet)
    tags, names, count, columns = compiled.decode_sbnr_columns(packet)
    types = [pa.string(), pa.int64(), pa.bool_(), pa.int32(), pa.uint64(), pa.float64(),
             pa.binary()]
    for (validity, offsets, data), arrow_type, k in zip(columns, types, range(7)):
        buffers = [pa.py_buffer(validity)] + ([pa.py_buffer(offsets)] if offsets else []) \
            + [pa.py_buffer(data)]
        array = pa.Array.from_buffers(arrow_type, count, buffers)
        assert array.to_pylist() == [row[k] for row in rows]
    for bad in (packet[:-1], packet + b"\x00", b"SBNR" + bytes(16)):
        for module in TWINS:
            with pytest.raises(ValueError):
                module.decode_sbnr_columns(bad)
