"""Parity: the compiled bincodec (ext/bincodec.pyx) behaves exactly like the pure twin.

Both get the same bytes: golden values, hypothesis values of every type, random and
corrupted bytes, whole rows and frame streams in random chunks. Each call must give
equal results (value types, float signs, Decimal exponents and UTC offsets compared
too) or raise the same exception class with the same message.
"""
import datetime as dt
import json
import os
import struct
from decimal import Decimal, localcontext

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scratchbird._constants import DATA_ROW, READY
from scratchbird._pure import bincodec as pure
from scratchbird._pure import framing as pure_framing
from tests.test_bincodec import (
    ALL_TYPES, COLUMNS, FAST, GOLDEN, NESTED, SCALAR_SPECS, SCALARS, TYPES, UTC, norm, raw_row,
    sample_rows, typed,
)

IMPL = os.environ.get("SCRATCHBIRD_IMPL", "c").strip().lower() or "c"
try:
    from scratchbird._compiled import bincodec as comp
    from scratchbird._compiled import framing as c_framing
except ImportError as exc:  # pragma: no cover - depends on the build
    if IMPL == "python":
        pytest.skip(f"the compiled bincodec is not built (SCRATCHBIRD_IMPL=python): {exc}",
                    allow_module_level=True)
    pytest.fail(f"the compiled bincodec is not built, but SCRATCHBIRD_IMPL={IMPL!r} needs it "
                f"(SCRATCHBIRD_BUILD_ONLY=bincodec python setup.py build_ext --inplace): {exc}",
                pytrace=False)


def outcome(call, *args, **kwargs):
    """What a call gives: a comparable value, or the exception's class and message."""
    try:
        value = call(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - the point is to compare any outcome
        return ("raised", type(exc), str(exc))
    return ("ok", norm(value))


def same(call_name, *args, **kwargs):
    expected = outcome(getattr(pure, call_name), *args, **kwargs)
    assert outcome(getattr(comp, call_name), *args, **kwargs) == expected
    return expected


def test_both_twins_export_the_same_names():
    assert comp.__all__ == pure.__all__
    for name in pure.__all__:
        assert hasattr(comp, name)
        if name.isupper():
            assert getattr(comp, name) == getattr(pure, name)


# Not twins: the compiled module re-exports these pure functions (per-parameter and
# per-column work, not per value), so comparing them between the modules would compare
# a function with itself. They are tested against hand-written values in test_bincodec.
SHARED = ("encode_value", "encode_param", "column_type_id", "typeref_for", "type_label")


def test_shared_functions_are_the_pure_ones():
    # If one of them gets a compiled twin, it must get parity tests here too.
    for name in SHARED:
        assert getattr(comp, name) is getattr(pure, name), name


def test_both_twins_decode_the_same_types():
    from scratchbird._pure.bincodec_scalar import CODECS
    for type_id in CODECS:
        message = outcome(comp.decode_value, type_id, b"")
        assert "no binary decoding" not in str(message)
    for type_id in (pure.UNTYPED, (27, 1), (11, 1 | pure.TZ)):
        assert same("decode_value", type_id, b"x")[2].endswith("no binary decoding for this type")


@pytest.mark.parametrize("spec, value, hexed", GOLDEN)
def test_golden_values(spec, value, hexed):
    assert same("decode_value", spec[:2], bytes.fromhex(hexed)) == ("ok", norm(value))


@settings(FAST, max_examples=300)
@given(st.data())
def test_scalar_values(data):
    spec = data.draw(st.sampled_from(SCALAR_SPECS))
    raw = pure.encode_value(spec, data.draw(SCALARS[spec]))
    assert same("decode_value", spec, raw)[0] == "ok"
    assert same("decode_value", spec, memoryview(raw))[0] == "ok"


@settings(FAST, max_examples=300)
@given(NESTED, st.sampled_from([None, json.loads]))
def test_nested_values(case, loads):
    spec, value = case
    assert same("decode_value", spec[:2], pure.encode_value(spec, value), json_loads=loads)[0] == "ok"


@settings(FAST, max_examples=1000)
@given(st.sampled_from(ALL_TYPES), st.binary(max_size=48))
def test_random_bytes(spec, raw):
    same("decode_value", spec, raw)


@settings(FAST, max_examples=500)
@given(NESTED, st.data())
def test_corrupted_nested_values(case, data):
    spec, value = case
    raw = bytearray(pure.encode_value(spec, value))
    for _ in range(data.draw(st.integers(1, 3))):
        if raw and data.draw(st.booleans()):
            raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
        elif raw:
            del raw[data.draw(st.integers(0, len(raw) - 1))]
        else:
            raw += bytes([data.draw(st.integers(0, 255))])
    same("decode_value", spec[:2], bytes(raw))


def test_json_parse_failures_and_deep_nesting():
    bad = pure.encode_value(pure.JSON, "{nope")
    same("decode_value", pure.JSON, bad, json_loads=json.loads)
    same("decode_value", pure.JSONB, bad, json_loads=lambda text: 1 / 0)
    raw = pure.encode_value(pure.VARIANT, 1)
    for _ in range(40):
        raw = struct.pack("<HH", *pure.VARIANT) + raw
    assert same("decode_value", pure.VARIANT, raw)[0] == "raised"


def decoders(columns, **options):
    return pure.BinaryRowDecoder(columns, **options), comp.BinaryRowDecoder(columns, **options)


def test_decoder_attributes():
    columns = [typed(t, f"c{i}") for i, t in enumerate(TYPES)] + [typed((27, 1), "x")]
    p, c = decoders(columns, json_loads=json.loads)
    for name in ("columns", "json_loads", "type_ids", "ncolumns"):
        assert getattr(c, name) == getattr(p, name)
    for decoder in (p, c):
        with pytest.raises(AttributeError):
            decoder.type_ids = ()


@settings(FAST, max_examples=300)
@given(st.lists(st.sampled_from(ALL_TYPES), min_size=1, max_size=5), st.data())
def test_rows(types, data):
    values = []
    for spec in types:
        strategy = SCALARS.get(spec)
        if strategy is None or data.draw(st.booleans()):
            values.append(data.draw(st.one_of(st.none(), st.binary(max_size=24))))
        else:
            values.append(pure.encode_value(spec, data.draw(strategy)))
    payload = raw_row(*values)
    if data.draw(st.booleans()) and payload:
        cut = data.draw(st.integers(0, len(payload)))
        payload = payload[:cut]
    p, c = decoders([typed(t, f"c{i}") for i, t in enumerate(types)])
    assert outcome(c.decode_row, payload) == outcome(p.decode_row, payload)


def frames_of(payloads):
    return b"".join(pure_framing.encode_frame(DATA_ROW, payload, i) for i, payload in enumerate(payloads))


@settings(FAST, max_examples=150)
@given(st.lists(st.integers(0, 3000), max_size=6), st.integers(1, 9), st.integers(0, 8))
def test_read_data_rows_over_any_chunking(cuts, max_rows, bad_at):
    payloads = [pure.encode_data_row(TYPES, row) for row in sample_rows(8)]
    if bad_at < len(payloads):
        payloads[bad_at] = pure.encode_data_row([pure.INT32] + TYPES[1:], (1,) + sample_rows(1)[0][1:])
    stream = frames_of(payloads) + pure_framing.encode_frame(READY, bytes(20))
    cuts = sorted({c % (len(stream) + 1) for c in cuts})
    results = []
    for twin, framing in ((pure, pure_framing), (comp, c_framing), (comp, pure_framing)):
        reader = framing.FrameReader()
        decoder = twin.BinaryRowDecoder(COLUMNS)
        rows, log = [], []
        start = 0
        for cut in cuts + [len(stream)]:
            reader.feed(stream[start:cut])
            start = cut
            for _ in range(100):     # a DataError consumes its row: reading goes on
                result = outcome(twin.read_data_rows, reader, decoder, rows, max_rows)
                log.append(result)
                if result == ("ok", ("int", 0)):
                    break
        results.append((norm(rows), log, reader.buffered, reader.peek_type()))
    assert results[1] == results[0]
    assert results[2] == results[0]


def test_read_data_rows_with_another_decoder_type():
    class Subclass(pure.BinaryRowDecoder):
        """Not the compiled class: read_data_rows takes the reader's frame-by-frame path."""

    reader = c_framing.FrameReader()
    reader.feed(frames_of([pure.encode_data_row(TYPES, row) for row in sample_rows(3)]))
    rows = []
    assert comp.read_data_rows(reader, Subclass(COLUMNS), rows, 10) == 3
    assert rows == sample_rows(3)


ANY_VALUE = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(-2**70, 2**70), st.floats(),
    st.text(), st.text(alphabet=st.characters(codec=None, categories=["Cs", "Ll"])),
    st.binary(), st.binary().map(bytearray), st.dates(), st.datetimes(),
    st.datetimes(timezones=st.sampled_from([UTC, dt.timezone(dt.timedelta(hours=-3))])),
    st.times(), st.uuids(), st.decimals(allow_nan=True), st.lists(st.integers(), max_size=3),
)


@settings(FAST, max_examples=500)
@given(st.lists(st.tuples(st.sampled_from(ALL_TYPES), ANY_VALUE), min_size=1, max_size=4))
def test_encode_data_row_any_value(columns):
    """The C fast path of encode_data_row writes or refuses exactly what the pure one does."""
    types = [spec for spec, _ in columns]
    values = [value for _, value in columns]
    assert outcome(comp.encode_data_row, types, values) == outcome(pure.encode_data_row, types, values)


@settings(FAST, max_examples=200)
@given(st.lists(st.sampled_from(SCALAR_SPECS), min_size=1, max_size=6), st.data())
def test_encoders_agree(types, data):
    values = [data.draw(st.one_of(st.none(), SCALARS[t])) for t in types]
    assert comp.encode_data_row(types, values) == pure.encode_data_row(types, values)


@pytest.mark.parametrize("text", [
    "0", "-0", "0.00", "0.001", "-0.0100", "100", "1E+5", "1.0E+3", "1.23E-10", "-12345.6789",
    "9999999999999999999", "10000000000000000000", "18446744073709551615", "0.1234567890123456789",
    "1E+32768", "1E+32769", "1E-32767", "1E-32768", "NaN", "-sNaN", "Infinity", "-0E-7",
])
def test_decimal_text_fast_path(text):
    value = Decimal(text)
    for capitals in (1, 0):
        with localcontext() as ctx:
            ctx.capitals = capitals
            assert outcome(comp.encode_data_row, [pure.DECIMAL], [value]) == \
                outcome(pure.encode_data_row, [pure.DECIMAL], [value])
