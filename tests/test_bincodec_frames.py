"""``bincodec.encode_data_row_frames``: the dev server's bulk DATA_ROW path, both twins.

Each twin must give exactly the frames ``encode_header`` + ``encode_data_row`` give row
by row (the reference), and the same exception class and message for the same bad input.
"""
import datetime as dt
import os
import uuid
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scratchbird._constants import DATA_ROW, ZERO_UUID
from scratchbird._impl import framing
from scratchbird._pure import bincodec as pure
from tests.test_bincodec import FAST, NESTED, SCALAR_SPECS, SCALARS

B = pure
IMPL = os.environ.get("SCRATCHBIRD_IMPL", "c").strip().lower() or "c"
try:
    from scratchbird._compiled import bincodec as comp
except ImportError as exc:  # pragma: no cover - depends on the build
    if IMPL == "python":
        pytest.skip(f"the compiled bincodec is not built: {exc}", allow_module_level=True)
    raise

ATTACHMENT = bytes(range(16))


def reference(type_ids, rows, sequence, attachment=ZERO_UUID, txn=0):
    out = []
    for row in rows:
        payload = pure.encode_data_row(type_ids, row)
        out.append(framing.encode_header(DATA_ROW, len(payload), sequence, attachment, txn))
        out.append(payload)
        sequence += 1
    return b"".join(out), sequence


def outcome(call, *args):
    try:
        return ("ok", call(*args))
    except Exception as exc:  # noqa: BLE001 - comparing any outcome
        return ("raised", type(exc), str(exc))


def same_everywhere(type_ids, rows, sequence=0, attachment=ATTACHMENT, txn=7):
    expected = outcome(reference, type_ids, rows, sequence, attachment, txn)
    for twin in (pure, comp):
        assert outcome(twin.encode_data_row_frames, type_ids, rows, sequence, attachment,
                       txn) == expected, twin.__name__
    return expected


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


@pytest.mark.parametrize("type_ids,rows", [
    ((B.INT32,), [(1, 2)]),                              # value count
    ((B.INT8,), [(1,), (300,)]),                         # out of range: column named
    ((B.UUID, B.TEXT), [(uuid.UUID(int=1), b"x")]),
])
def test_refusals_are_the_same(type_ids, rows):
    assert same_everywhere(type_ids, rows)[0] == "raised"


@pytest.mark.parametrize("type_ids,attachment", [
    ((B.INT32,), b"short"),                              # attachment size
    ((B.INT32,) * 70000, ATTACHMENT),                    # column count
])
def test_bad_arguments_are_refused_before_any_row(type_ids, attachment):
    expected = outcome(pure.encode_data_row_frames, type_ids, [], 0, attachment)
    assert expected[0] == "raised"
    assert outcome(comp.encode_data_row_frames, type_ids, [], 0, attachment) == expected
