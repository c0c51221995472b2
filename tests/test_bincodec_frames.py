"""``bincodec.encode_data_row_frames``: the dev server's bulk DATA_ROW path, both twins.

The expectation is independent of the encoding loop: the frames are read back with a
FrameReader and decoded with a BinaryRowDecoder, and must give the input rows, one frame
per row, with the sequence, attachment and txn id asked for; a small case is checked
against golden bytes written out by hand. Refusals are hand-written messages, and both
twins must give the same exception class and message for the same bad input.
"""
import datetime as dt
import os
import uuid
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scratchbird._constants import DATA_ROW
from scratchbird._impl import framing
from scratchbird._pure import bincodec as pure
from tests.test_bincodec import FAST, NESTED, SCALAR_SPECS, SCALARS, norm, typed

B = pure
IMPL = os.environ.get("SCRATCHBIRD_IMPL", "c").strip().lower() or "c"
try:
    from scratchbird._compiled import bincodec as comp
except ImportError as exc:  # pragma: no cover - depends on the build
    if IMPL == "python":
        pytest.skip(f"the compiled bincodec is not built: {exc}", allow_module_level=True)
    raise

ATTACHMENT = bytes(range(16))


def read_back(type_ids, data):
    """``[(msg_type, sequence, attachment, txn, normalised row)]`` of a frame stream."""
    decoder = pure.BinaryRowDecoder([typed(spec[:2]) for spec in type_ids])
    reader = framing.FrameReader()
    reader.feed(data)
    out = []
    while (frame := reader.next_frame()) is not None:
        row = decoder.decode_row(frame.payload)
        out.append((frame.msg_type, frame.sequence, bytes(frame.attachment_id), frame.txn_id,
                    tuple(norm(v) for v in row)))
    assert reader.buffered == 0
    return out


def outcome(call, *args):
    try:
        return ("ok", call(*args))
    except Exception as exc:  # noqa: BLE001 - comparing any outcome
        return ("raised", type(exc), str(exc))


def same_everywhere(type_ids, rows, sequence=0, attachment=ATTACHMENT, txn=7):
    """Both twins' outcome (which must agree); when it is frames, they read back as ``rows``."""
    expected = outcome(pure.encode_data_row_frames, type_ids, rows, sequence, attachment, txn)
    assert outcome(comp.encode_data_row_frames, type_ids, rows, sequence, attachment,
                   txn) == expected, "the compiled twin differs from the pure one"
    if expected[0] == "ok":
        data, nxt = expected[1]
        assert nxt == sequence + len(rows)
        assert read_back(type_ids, data) == [
            (DATA_ROW, (sequence + i) & 0xFFFFFFFF, attachment, txn, tuple(norm(v) for v in row))
            for i, row in enumerate(rows)]
    return expected


def test_golden_frames():
    # INT32 5 and TEXT 'hi', then INT32 NULL and TEXT '' (docs/protocol.md 1.4 layouts)
    header = "53425750" "0101" "{type:02x}" "00" "{length}" "{seq}" + ATTACHMENT.hex() + "0700000000000000"
    row1 = "0200" "0100" "00" "04000000" "05000000" "06000000" "02000000" "6869"
    row2 = "0200" "0100" "01" "04000000" "00000000"
    expected = (header.format(type=DATA_ROW, length="17000000", seq="09000000") + row1
                + header.format(type=DATA_ROW, length="0d000000", seq="0a000000") + row2)
    for twin in (pure, comp):
        data, nxt = twin.encode_data_row_frames((B.INT32, B.TEXT), [(5, "hi"), (None, "")], 9,
                                                ATTACHMENT, 7)
        assert (data.hex(), nxt) == (expected, 11), twin.__name__


@st.composite
def tables(draw):
    """A few column specs (scalar or nested) and rows of values for them, NULLs included."""
    ncols = draw(st.integers(0, 12))
    columns = []
    for _ in range(ncols):
        if draw(st.booleans()):
            spec = draw(st.sampled_from(SCALAR_SPECS))
            columns.append((spec, SCALARS[spec]))
        else:
            spec, value = draw(NESTED)
            columns.append((spec, st.just(value)))
    nrows = draw(st.integers(0, 5))
    rows = [tuple(draw(st.one_of(st.none(), strategy)) for _spec, strategy in columns)
            for _ in range(nrows)]
    return [spec for spec, _s in columns], rows


@FAST
@given(tables(), st.integers(0, 2 ** 32 - 1), st.integers(0, 2 ** 64 - 1))
def test_frames_equal_the_row_by_row_reference(table, sequence, txn):
    type_ids, rows = table
    result = same_everywhere(type_ids, rows, sequence, ATTACHMENT, txn)
    assert result[0] == "ok" and result[1][1] == sequence + len(rows)


def test_common_rows_wrap_and_lists():
    specs = (B.INT64, B.INT32, B.DECIMAL, B.TEXT, B.BOOLEAN, B.INT32, B.TIMESTAMP, B.UUID,
             B.TIMESTAMPTZ, B.DATE, B.FLOAT64, (15, 2, B.INT64))
    rows = [(i, -i, Decimal(i) / 100, f"name-{i}", i % 2 == 0, None,
             dt.datetime(2024, 1, 1) + dt.timedelta(microseconds=i), uuid.UUID(int=i),
             dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc), dt.date(2024, 1, 1), i / 3, [i, None])
            for i in range(50)]
    data, nxt = same_everywhere(specs, rows, 2 ** 32 - 3)[1]
    assert nxt == 2 ** 32 + 47                    # the header's u32 wraps, the count does not
    reader = framing.FrameReader()
    reader.feed(data)
    decoded = []
    while (frame := reader.next_frame()) is not None:
        decoded.append(frame.sequence)
    assert decoded[:4] == [2 ** 32 - 3, 2 ** 32 - 2, 2 ** 32 - 1, 0]
    same_everywhere(specs, [list(row) for row in rows])  # rows may be lists


@pytest.mark.parametrize("type_ids,rows,message", [
    ((B.INT32,), [(1, 2)], "2 values for 1 column types"),
    ((B.INT8,), [(1,), (300,)], "column 0"),
    ((B.UUID, B.TEXT), [(uuid.UUID(int=1), b"x")], "column 1"),
])
def test_refusals_are_the_same(type_ids, rows, message):
    result = same_everywhere(type_ids, rows)
    assert result[0] == "raised" and message in result[2], result


@pytest.mark.parametrize("type_ids,attachment,message", [
    ((B.INT32,), b"short", "attachment_id must be 16 bytes"),
    ((B.INT32,) * 70000, ATTACHMENT, "at most 65535 columns, not 70000"),
])
def test_bad_arguments_are_refused_before_any_row(type_ids, attachment, message):
    expected = outcome(pure.encode_data_row_frames, type_ids, [], 0, attachment)
    assert expected[0] == "raised" and message in expected[2], expected
    assert outcome(comp.encode_data_row_frames, type_ids, [], 0, attachment) == expected
