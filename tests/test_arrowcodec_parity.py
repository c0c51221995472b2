"""Parity: the compiled columnar decoder (ext/arrowcodec.pyx, Arrow C data interface) and
its pure twin (pyarrow builders) give the same Arrow columns for the same DATA_ROW bytes.

Both sinks get identical payloads and frame streams, text (sbsql) and binary (full), every
column kind of the type map, NULLs in every position, values that do not parse under their
column's code, malformed values and truncated rows. The tables must be equal (schema and
values) or both must raise the same exception class with the same message.
"""
import datetime as dt
import os
import uuid
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pa = pytest.importorskip("pyarrow", reason="pyarrow is in the test extra; columnar fetch needs it")

from scratchbird._pure import arrowcodec as pure                      # noqa: E402
from scratchbird._pure import bincodec as B                           # noqa: E402
from scratchbird._pure import framing as pure_framing                 # noqa: E402
from scratchbird._pure import rowcodec as pure_rows                   # noqa: E402
from scratchbird._server_messages import Column                       # noqa: E402
from scratchbird.arrow._convert import batch_from_columns             # noqa: E402
from scratchbird.binary_types import Interval                         # noqa: E402
from scratchbird.errors import DataError, ProgrammingError            # noqa: E402

IMPL = os.environ.get("SCRATCHBIRD_IMPL", "c").strip().lower() or "c"
try:
    from scratchbird._compiled import arrowcodec as comp
    from scratchbird._compiled import framing as c_framing
except ImportError as exc:  # pragma: no cover - depends on the build
    if IMPL == "python":
        pytest.skip(f"the compiled arrowcodec is not built (SCRATCHBIRD_IMPL=python): {exc}",
                    allow_module_level=True)
    pytest.fail(f"the compiled arrowcodec is not built, but SCRATCHBIRD_IMPL={IMPL!r} needs it: {exc}",
                pytrace=False)

UTC = dt.timezone.utc


def text_columns(*oids):
    return [Column(f"c{i}", oid, format=0) for i, oid in enumerate(oids)]


def binary_column(i, type_id, precision=None, scale=None):
    typeref = B.typeref_for(type_id)
    if precision is not None:
        typeref.modifier_bitmap |= 3
        typeref.precision, typeref.scale = precision, scale
    return Column(f"c{i}", 0, format=1, typeref=typeref)


def table(module, columns, payloads, **options):
    """The Arrow table a twin's sink makes of ``payloads`` (or the exception it raised)."""
    try:
        sink = module.ArrowSink(columns, **options)
        for payload in payloads:
            assert sink.decode_row(payload) is None
        n = len(sink)
        batch = batch_from_columns([c.name for c in columns], sink.plans, sink.take())
        assert batch.num_rows == n and len(sink) == 0
        return ("ok", batch.schema, batch.to_pylist())
    except Exception as exc:  # noqa: BLE001 - the point is to compare any outcome
        return ("raised", type(exc), str(exc))


def same(columns, payloads, **options):
    expected = table(pure, columns, payloads, **options)
    assert table(comp, columns, payloads, **options) == expected
    return expected


def text_rows(rows):
    return [pure_rows.encode_data_row(row) for row in rows]


def test_both_twins_export_the_same_names():
    assert comp.__all__ == pure.__all__
    assert comp.NUMERIC_AS_DEFAULT == pure.NUMERIC_AS_DEFAULT == "str"


# ------------------------------------------------------------------ text values (sbsql)

TEXT_ROWS = [
    [b"1", b"t", b"1.50", b"abc", b"x"],
    [None, None, None, None, None],
    [b"-9223372036854775808", b"FALSE", b"-0.25", "h\u00e9llo \u2603".encode(), b"<NULL>"],
    [b"9223372036854775807", b"1", b"12345678.9", b"", b"NULL"],
    [b"+007", b"True", b".5", b"NULL", b"y"],
]


@pytest.mark.parametrize("numeric_as", ["str", "float64", "decimal128(12,2)", "decimal128(38, 10)"])
def test_text_values_every_kind_with_nulls(numeric_as):
    columns = text_columns(20, 16, 1700, 25, 25)
    kind, schema, rows = same(columns, text_rows(TEXT_ROWS), numeric_as=numeric_as)
    assert kind == "ok"
    assert schema.field(0).type == pa.int64() and schema.field(1).type == pa.bool_()
    assert rows[0]["c0"] == 1 and rows[4]["c0"] == 7 and rows[2]["c0"] == -(1 << 63)
    assert [r["c1"] for r in rows] == [True, None, False, True, True]
    # the NULL markers (<NULL>, NULL, '') are NULL, as in fetchall (REFERENCE 8.5)
    assert [r["c3"] for r in rows] == ["abc", None, "h\u00e9llo \u2603", None, None]
    assert [r["c4"] for r in rows] == ["x", None, None, None, "y"]
    c2 = [r["c2"] for r in rows]
    if numeric_as == "str":
        assert c2 == ["1.50", None, "-0.25", "12345678.9", ".5"]
    elif numeric_as == "float64":
        assert c2 == [1.5, None, -0.25, 12345678.9, 0.5]
    elif numeric_as == "decimal128(12,2)":
        # 12345678.9 fits; all values exactly representable with scale 2
        assert c2 == [Decimal("1.50"), None, Decimal("-0.25"), Decimal("12345678.90"), Decimal("0.50")]


def test_raw_text_keeps_every_value_as_sent():
    columns = text_columns(20, 16, 1700, 25, 25)
    kind, schema, rows = same(columns, text_rows(TEXT_ROWS), raw_text=True)
    assert all(f.type == pa.string() for f in schema)
    assert rows[2]["c4"] == "<NULL>" and rows[3]["c3"] == "" and rows[0]["c0"] == "1"


@pytest.mark.parametrize("oid, values", [
    (20, [b"1", b"abc", b"3"]),                           # a VARCHAR typed by its first row
    (20, [b"1", b"99999999999999999999", None]),          # beyond int64
    (16, [b"t", b"yes", b"f"]),
    (1700, [b"1.5", b"1.555", b"NaN"]),                   # does not fit decimal128(10,2)
    (1700, [b"1.5", b"1e400", b"2"]),
])
def test_a_value_that_does_not_parse_turns_the_column_into_the_servers_text(oid, values):
    kind, schema, rows = same(text_columns(oid), text_rows([[v] for v in values]),
                              numeric_as="decimal128(10,2)")
    assert schema.field(0).type == pa.string()
    assert [r["c0"] for r in rows] == [None if v is None else v.decode() for v in values]


def test_bad_utf8_and_bad_rows_raise_the_same_errors():
    assert same(text_columns(25), text_rows([[b"ok"], [b"\xff\xfe"]]))[0:2] == ("raised", DataError)
    assert same(text_columns(20), text_rows([[b"1"], [b"\xc3"]]))[0:2] == ("raised", DataError)
    payload = text_rows([[b"abc", b"d"]])[0]
    for cut in range(1, len(payload)):
        same(text_columns(25, 25), [payload[:cut]])
    same(text_columns(25), [payload])                                   # column count
    assert same(text_columns(25), [b"\x01\x00\x01\x00\x00\x05\x00\x00\x00ab"])[0] == "raised"


def test_numeric_as_is_checked():
    for bad in ("decimal", "decimal128(40,2)", "decimal128(5,6)", 3):
        assert same(text_columns(1700), [], numeric_as=bad)[1] is ProgrammingError


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(
    st.one_of(st.none(), st.integers(-(1 << 70), 1 << 70).map(lambda v: str(v).encode()),
              st.binary(max_size=6)),
    st.one_of(st.none(), st.decimals(allow_nan=False, allow_infinity=False).map(
        lambda v: str(v).encode()), st.sampled_from([b"t", b"F", b"1", b"yes"])),
    st.one_of(st.none(), st.text(max_size=8).map(str.encode))), max_size=12),
    st.sampled_from(["str", "float64", "decimal128(20,4)"]))
def test_text_property(rows, numeric_as):
    same(text_columns(20, 1700, 16), text_rows([list(r) for r in rows]), numeric_as=numeric_as)


# ------------------------------------------------------------------ binary values (full)

BINARY_TYPES = [
    (B.BOOLEAN, [True, False]), (B.INT8, [-128, 127]), (B.INT16, [-3, 32767]),
    (B.INT32, [7, -(1 << 31)]), (B.INT64, [1 << 62, -5]), (B.UINT8, [0, 255]),
    (B.UINT16, [65535, 1]), (B.UINT32, [(1 << 32) - 1, 0]), (B.UINT64, [(1 << 64) - 1, 3]),
    (B.FLOAT32, [1.5, -0.0]), (B.FLOAT64, [float("inf"), 2.25]),
    (B.DATE, [dt.date(2024, 2, 29), dt.date(1, 1, 1)]),
    (B.TIME, [dt.time(23, 59, 59, 999999), dt.time(0)]),
    (B.TIMESTAMP, [dt.datetime(1999, 12, 31, 23, 59), dt.datetime(2038, 1, 19, 3, 14, 8, 1)]),
    (B.TIMESTAMPTZ, [dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC), dt.datetime(1970, 1, 1, tzinfo=UTC)]),
    (B.UUID, [uuid.UUID(int=1), uuid.UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")]),
    (B.TEXT, ["h\u00e9", ""]), (B.JSON, ['{"a": 1}', "[]"]), (B.BINARY, [b"\x00\xff", b""]),
    (B.BLOB, [b"blob", b"x" * 300]),
    (B.INT128, [-(1 << 100), 12]), (B.INTERVAL, [Interval(1, 2, 3), Interval(0, 0, -1)]),
    (B.DECIMAL, [Decimal("1.25"), Decimal("-1E+3")]),                  # undeclared: utf8
    ((15, 2, B.INT32), [[1, None, 3], []]),
    ((16, 2, (B.INT32, B.TEXT)), [(1, "a"), (None, None)]),
]


@pytest.mark.parametrize("type_id, values", BINARY_TYPES, ids=lambda v: str(v)[:24])
def test_binary_values_every_type_with_nulls(type_id, values):
    columns = [binary_column(0, type_id[:2])]
    rows = [[values[0]], [None], [values[1]]]
    payloads = [B.encode_data_row([type_id], row) for row in rows]
    kind, schema, out = same(columns, payloads)
    assert kind == "ok"
    assert out[1]["c0"] is None
    if type_id == B.UUID:
        assert schema.field(0).type == pa.uuid()
    if type_id == B.DECIMAL:
        assert [r["c0"] for r in out] == ["1.25", None, "-1E+3"]
    elif type_id == B.INTERVAL:
        assert out[0]["c0"] == pa.MonthDayNano([1, 2, 3000])
    elif type_id[:2] == (16, 2):
        assert out[0]["c0"] == {"f0": 1, "f1": "a"}
    elif type_id not in (B.UUID, B.INT128):
        assert [r["c0"] for r in out] == [values[0], None, values[1]]


def test_declared_decimal_is_decimal128_and_never_rounded():
    columns = [binary_column(0, B.DECIMAL, 10, 2)]
    ok = [B.encode_data_row([B.DECIMAL], [v]) for v in (Decimal("1.5"), Decimal("-12345678.99"), None)]
    kind, schema, rows = same(columns, ok)
    assert schema.field(0).type == pa.decimal128(10, 2)
    assert [r["c0"] for r in rows] == [Decimal("1.50"), Decimal("-12345678.99"), None]
    for bad in (Decimal("1.555"), Decimal("123456789.5"), Decimal("NaN")):
        kind, cls, message = same(columns, [B.encode_data_row([B.DECIMAL], [bad])])
        assert cls is DataError and "column 0 ('c0'" in message


def test_malformed_binary_values_raise_the_same_errors():
    for type_id, raw in [(B.INT32, b"\x01\x02"), (B.BOOLEAN, b"\x02"), (B.TEXT, b"\x05\x00\x00\x00ab"),
                         (B.TEXT, b"\x02\x00\x00\x00\xff\xfe"), (B.UUID, b"\x00" * 15),
                         (B.TIME, (86400 * 10**6).to_bytes(8, "little")), (B.INTERVAL, b"\x00")]:
        payload = b"\x01\x00\x01\x00\x00" + len(raw).to_bytes(4, "little") + raw
        kind, cls, message = same([binary_column(0, type_id)], [payload])
        assert kind == "raised" and cls is DataError and message.startswith("column 0 ('c0'")


# ------------------------------------------------------------------ the frame loop

@pytest.mark.parametrize("chunk", [7, 64, 4096, 1 << 20])
def test_frames_in_chunks_through_read_data_rows(chunk):
    rows = [[str(i).encode(), None if i % 3 else b"t", ("v%d" % i).encode() * (i % 5)]
            for i in range(300)]
    frames, _ = pure_rows.encode_data_row_frames(rows, 1)
    frames += pure_framing.encode_frame(0x5A, b"I", 0)          # READY stops the loop
    tables = []
    for module, framing in ((pure, pure_framing), (comp, c_framing)):
        reader = framing.FrameReader()
        for i in range(0, len(frames), chunk):
            reader.feed(frames[i:i + chunk])
        sink = module.ArrowSink(text_columns(20, 16, 25))
        total = 0
        while True:
            n = module.read_data_rows(reader, sink, sink, 1 << 62)
            total += n
            if n == 0:
                break
        assert total == 300 and reader.peek_type() == 0x5A
        tables.append(batch_from_columns(["a", "b", "c"], sink.plans, sink.take()).to_pylist())
    assert tables[0] == tables[1]
    assert tables[0][3] == {"a": 3, "b": True, "c": "v3" * 3}


def test_a_drained_stream_keeps_no_rows():
    frames, _ = pure_rows.encode_data_row_frames([[b"1"]] * 50, 1)
    for module, framing in ((pure, pure_framing), (comp, c_framing)):
        reader = framing.FrameReader()
        reader.feed(frames)
        sink = module.ArrowSink(text_columns(20))
        assert module.read_data_rows(reader, sink, [], 10) == 10
        assert len(sink) == 0
        assert module.read_data_rows(reader, sink, sink, 100) == 40
        assert len(sink) == 40


def test_exported_column_is_handed_out_once():
    sink = comp.ArrowSink(text_columns(20))
    sink.decode_row(pure_rows.encode_data_row([b"5"]))
    column = sink.take()[0]
    assert column.format == "l" and len(column) == 1
    assert pa.array(column).to_pylist() == [5]
    with pytest.raises(ValueError, match="already exported"):
        column.__arrow_c_array__()


def test_the_c_stream_carries_the_same_batches():
    columns = text_columns(20, 16, 25)
    rows = [[str(i).encode(), b"t" if i % 2 else None, b"x" * (i % 4)] for i in range(10)]
    tables = []
    for module in (pure, comp):
        sinks = []
        for part in (rows[:4], rows[4:]):
            sink = module.ArrowSink(columns)
            for payload in text_rows(part):
                sink.decode_row(payload)
            sinks.append(sink.take())
        capsule = module.export_stream(["a", "b", "c"], ["l", "b", "u"], iter(sinks))
        tables.append(pa.RecordBatchReader._import_from_c_capsule(capsule).read_all())
    assert tables[0].equals(tables[1])
    assert tables[1].column("a").to_pylist() == list(range(10))
    assert tables[1].column("c").to_pylist()[0] is None         # '' is a NULL marker


def test_a_stream_batch_of_another_type_fails_the_stream_with_a_message():
    for module in (pure, comp):
        sink = module.ArrowSink(text_columns(20))
        sink.decode_row(text_rows([[b"abc"]])[0])                # falls back to utf8
        capsule = module.export_stream(["a"], ["l"], iter([sink.take()]))
        reader = pa.RecordBatchReader._import_from_c_capsule(capsule)
        with pytest.raises(Exception, match="column 0 \\('a'\\) was 'l' in the first batch"):
            reader.read_all()
