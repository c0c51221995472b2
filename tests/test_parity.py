"""Parity: the compiled twins (ext/*.pyx) behave exactly like the pure-Python ones.

Both get the same inputs: golden frames (REFERENCE 11.11, 11.18, 11.19), hypothesis rows
and random chunkings, malformed bytes. Each call must give equal results (with value
types compared too) or raise the same exception class with the same message.
"""
import os
import zlib
from decimal import Decimal
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scratchbird._constants import COMMAND_COMPLETE, DATA_ROW, MAX_PAYLOAD, READY
from scratchbird._pure import framing as pure_framing
from scratchbird._pure import rowcodec as pure_rowcodec
from scratchbird.errors import ProtocolError

IMPL = os.environ.get("SCRATCHBIRD_IMPL", "c").strip().lower() or "c"
try:
    from scratchbird._compiled import framing as c_framing
    from scratchbird._compiled import rowcodec as c_rowcodec
except ImportError as exc:  # pragma: no cover - depends on the build
    if IMPL == "python":
        pytest.skip(f"the compiled extensions are not built (SCRATCHBIRD_IMPL=python): {exc}",
                    allow_module_level=True)
    pytest.fail(f"the compiled extensions are not built, but SCRATCHBIRD_IMPL={IMPL!r} needs them "
                f"(python setup.py build_ext --inplace): {exc}", pytrace=False)

PURE = SimpleNamespace(framing=pure_framing, rowcodec=pure_rowcodec)
COMP = SimpleNamespace(framing=c_framing, rowcodec=c_rowcodec)
# the compiled row loop over a pure reader: read_data_rows must work with either reader
MIXED = SimpleNamespace(framing=pure_framing, rowcodec=c_rowcodec)

SESSION = bytes.fromhex("018f0a2b3c4d7e5f8a6b7c8d9e0fa1b2")
GOLDEN = {
    "11.11": ([20], bytes.fromhex(
        "53425750010145000a00000006000000018f0a2b3c4d7e5f8a6b7c8d9e0fa1b2"
        "2a0000000000000001000100000100000031")),
    "11.18": ([25, 1700, 25, 25], bytes.fromhex(
        "53425750010145005200000006000000018f0a2b3c4d7e5f8a6b7c8d9e0fa1b2"
        "2a00000000000000040001000000000000060000003132332e34351300000032"
        "3032362d30312d30325430333a30343a30352400000030313866306132622d30"
        "3030302d373030302d393030302d303030303030303030333031")),
    "11.19": ([25, 1700, 25, 25], bytes.fromhex(
        "53425750010145004e00000007000000018f0a2b3c4d7e5f8a6b7c8d9e0fa1b2"
        "2a000000000000000400010001060000003132332e343513000000323032362d"
        "30312d30325430333a30343a30352400000030313866306132622d303030302d"
        "373030302d393030302d303030303030303030333031")),
}
OIDS = [16, 20, 25, 1700, 1082]
MAX_ROWS = [0, 1, 2, 3, 5, 100]
FAST = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


def norm(value):
    """Comparable form: keeps types (True vs 1), Decimal exponents and memoryview contents."""
    if isinstance(value, (pure_framing.Frame, c_framing.Frame)):
        return ("Frame", value.msg_type, value.flags, value.sequence, value.attachment_id,
                value.txn_id, norm(value.payload), repr(value))
    if isinstance(value, memoryview):
        return ("memoryview", value.tobytes())
    if isinstance(value, (tuple, list)):
        return (type(value).__name__, *map(norm, value))
    if isinstance(value, Decimal):
        return ("Decimal", str(value))
    return (type(value).__name__, value)


def outcome(call, impl):
    try:
        return ("ok", norm(call(impl)))
    except Exception as exc:
        return ("raised", type(exc), str(exc))


def same(call, impls=(PURE, COMP)):
    """Run ``call(impl)`` for each twin; assert identical outcomes and return it."""
    results = [outcome(call, impl) for impl in impls]
    for other in results[1:]:
        assert other == results[0]
    return results[0]


# --- golden bytes ---

@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_frames(name):
    oids, data = GOLDEN[name]
    payload = data[40:]
    same(lambda m: m.framing.decode_header(data))
    same(lambda m: m.framing.encode_frame(DATA_ROW, payload, 6, SESSION, 42))
    same(lambda m: m.rowcodec.TextRowDecoder(oids).decode_row(payload))
    for raw_text in (False, True):
        def run(m):
            r = m.framing.FrameReader()
            r.feed(data * 3)
            rows = []
            return m.rowcodec.read_data_rows(r, m.rowcodec.TextRowDecoder(oids, raw_text=raw_text), rows, 5), rows
        assert same(run, (PURE, COMP, MIXED))[1][1] == ("int", 3)
    values = list(pure_rowcodec.TextRowDecoder([25] * len(oids), null_markers=(), raw_text=True).decode_row(payload))
    values = [None if name == "11.19" and i == 0 else v for i, v in enumerate(values)]
    assert same(lambda m: m.rowcodec.encode_data_row(values)) == ("ok", ("bytes", payload))


# --- framing ---

headers = st.builds(
    lambda magic, major, minor, msg_type, flags, length, seq, att, txn: (
        magic + bytes([major, minor, msg_type, flags]) + length.to_bytes(4, "little")
        + seq.to_bytes(4, "little") + att + txn.to_bytes(8, "little")),
    st.sampled_from([b"SBWP", b"SBWP", b"SBWP", b"XBWP", b"sbwp", bytes(4)]),
    st.sampled_from([1, 1, 1, 0, 2]), st.sampled_from([1, 1, 1, 0, 2]),
    st.integers(0, 255), st.integers(0, 255),
    st.one_of(st.integers(0, 2**32 - 1), st.sampled_from([0, 10, MAX_PAYLOAD, MAX_PAYLOAD + 1])),
    st.integers(0, 2**32 - 1), st.binary(min_size=16, max_size=16), st.integers(0, 2**64 - 1))


@FAST
@given(st.binary(max_size=8), headers, st.binary(max_size=8), st.integers(0, 60), st.integers(-50, 60),
       st.sampled_from([MAX_PAYLOAD, 0, 10, -5, 2**40, 2.5]), st.sampled_from([bytes, bytearray, memoryview]))
def test_decode_header(prefix, header, suffix, cut, offset, max_payload, kind):
    data = kind((prefix + header + suffix)[:len(prefix) + cut])
    same(lambda m: m.framing.decode_header(data, offset, max_payload))


odd_ints = st.one_of(st.integers(-3, 300), st.booleans(), st.just(1.0), st.just(None))


@FAST
@given(odd_ints, st.one_of(st.integers(-2, MAX_PAYLOAD + 2), st.just(2.0)),
       st.one_of(st.integers(-2**40, 2**40), st.just(1.5)),
       st.one_of(st.binary(min_size=16, max_size=16), st.binary(max_size=20), st.just(bytearray(16)),
                 st.just("x" * 16), st.builds(lambda: memoryview(bytes(32)).cast("H"))),
       st.one_of(st.integers(-1, 2**64), st.just(-2**70)), odd_ints)
def test_encode_header(msg_type, length, sequence, attachment, txn_id, flags):
    same(lambda m: m.framing.encode_header(msg_type, length, sequence, attachment, txn_id, flags))


@FAST
@given(st.integers(0, 255), st.one_of(st.binary(max_size=50), st.binary(max_size=9).map(bytearray),
                                      st.binary(max_size=9).map(memoryview), st.just([1, 2, 3]),
                                      st.just("text"), st.just(5)),
       st.integers(0, 2**33), st.integers(0, 2**64 - 1), st.integers(0, 255))
def test_encode_frame(msg_type, payload, sequence, txn_id, flags):
    same(lambda m: m.framing.encode_frame(msg_type, payload, sequence, SESSION, txn_id, flags))


frame_specs = st.lists(st.tuples(
    st.sampled_from([DATA_ROW, DATA_ROW, COMMAND_COMPLETE, READY, 0x00, 0xFF]),
    st.sampled_from([0, 0, 0, 0x01, 0x02, 0x08, 0x10, 0x80, 0x09]),
    st.binary(max_size=120)), max_size=6)
reader_ops = st.lists(st.one_of(
    st.tuples(st.just("next")), st.tuples(st.just("type")), st.tuples(st.just("contig")),
    st.tuples(st.just("peek"), st.one_of(st.integers(-3, 200), st.sampled_from([10**30, -10**30]))),
    st.tuples(st.just("consume"), st.one_of(st.integers(-2, 100), st.sampled_from([10**30, -10**30]))),
), max_size=6)


def build_stream(specs, corrupt):
    stream = bytearray(b"".join(pure_framing.encode_frame(t, zlib.compress(p) if f & 1 and i % 2 else p,
                                                          i, SESSION, i, f)
                                for i, (t, f, p) in enumerate(specs)))
    if corrupt is not None and stream:
        pos, byte = corrupt
        stream[pos % len(stream)] = byte
    return bytes(stream)


def chunked(data, cuts):
    bounds = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)})
    return [data[a:b] for a, b in zip(bounds, bounds[1:])]


@FAST
@given(frame_specs, st.one_of(st.none(), st.tuples(st.integers(0, 10**6), st.integers(0, 255))),
       st.lists(st.integers(0, 10**6), max_size=8), reader_ops, st.booleans(),
       st.sampled_from([MAX_PAYLOAD, 50, 2**40]), st.booleans())
def test_frame_reader(specs, corrupt, cuts, ops, check_flags, max_payload, with_zlib):
    chunks = chunked(build_stream(specs, corrupt), cuts)

    def run(m):
        r = m.framing.FrameReader(max_payload, check_flags)
        if with_zlib:
            r.decompress = lambda p: zlib.decompress(bytes(p))
        log = []
        for chunk in chunks:
            r.feed(chunk)
            for op, *args in ops + [("next",)] * 3:
                call = {"next": r.next_frame, "type": r.peek_type, "contig": r.contiguous,
                        "peek": r.peek, "consume": r.consume}[op]
                log.append(outcome(lambda _: call(*args), None))
                log.append(r.buffered)
        return log
    same(run)


# --- rowcodec: decode_row ---

texts = st.one_of(
    st.integers(-10**45, 10**45).map(str),
    st.sampled_from(["t", "T", "true", "FALSE", "f", "0", "1", "yes", "", "NULL", "<NULL>", "null",
                     "+7", "-0", "007", "1e5", "1e5x", "NaN", "-.5", "5.", ".", "1E-7", "+.5e+3",
                     "1e99999999999999999999", "9" * 4400, "abc", "ünï", "日本"]),
    st.decimals(allow_nan=False, allow_infinity=False).map(str),
    st.floats().map(repr),
    st.text(max_size=12))
values = st.one_of(st.none(), texts.map(str.encode), st.binary(max_size=12))
rows = st.lists(st.tuples(st.sampled_from(OIDS), values), max_size=12)
markers = st.sampled_from([None, (), (b"\\N",), (b"", b"x" * 70), (b"NULL", b"t", b"1")])


def decoder(m, oids, marker_set, raw_text):
    if marker_set is None:
        return m.rowcodec.TextRowDecoder(oids, raw_text=raw_text)
    return m.rowcodec.TextRowDecoder(oids, marker_set, raw_text)


@FAST
@given(rows, markers, st.booleans())
def test_decode_row(columns, marker_set, raw_text):
    oids = [oid for oid, _ in columns]
    payload = pure_rowcodec.encode_data_row([v for _, v in columns])
    same(lambda m: decoder(m, oids, marker_set, raw_text).decode_row(payload))


@FAST
@given(rows, st.integers(0, 10**6), st.binary(min_size=1, max_size=5),
       st.sampled_from(["truncate", "overwrite", "append", "insert"]))
def test_decode_row_malformed(columns, pos, junk, how):
    oids = [oid for oid, _ in columns]
    payload = pure_rowcodec.encode_data_row([v for _, v in columns])
    pos %= len(payload) + 1
    payload = {"truncate": payload[:pos], "append": payload + junk, "insert": payload[:pos] + junk + payload[pos:],
               "overwrite": payload[:pos] + junk + payload[pos + len(junk):]}[how]
    same(lambda m: m.rowcodec.TextRowDecoder(oids).decode_row(payload))


@FAST
@given(st.binary(max_size=40), st.integers(0, 3))
def test_decode_row_random_bytes(payload, ncols):
    same(lambda m: m.rowcodec.TextRowDecoder([20, 25, 16][:ncols] + [1700] * (ncols == 3)).decode_row(payload))


def test_decoder_attributes_and_settings():
    payload = pure_rowcodec.encode_data_row([b"5", b"NULL", b"t", b"x"])
    same(lambda m: vars_of(m.rowcodec.TextRowDecoder(iter([20, 25, 16, 9]), [bytearray(b"x")])))
    same(lambda m: m.rowcodec.TextRowDecoder([[20]]))                       # unhashable OID
    same(lambda m: m.rowcodec.TextRowDecoder([20], ["NULL"]))               # str marker
    same(lambda m: vars_of(m.rowcodec.TextRowDecoder([20], b"NULL")))       # bytes iterated as ints

    def changed(m):
        d = m.rowcodec.TextRowDecoder([20, 25, 16, 25])
        out = [d.decode_row(payload)]
        d.null_markers = [b"x", bytearray(b"t")]
        out.append(d.decode_row(payload))
        d.kinds = [2, 2.0, True, 7]
        out.append(d.decode_row(payload))
        d.raw_text = 1
        out.append(d.decode_row(payload))
        d.type_oids = "anything"
        out.append(vars_of(d))
        return out
    same(changed)


@pytest.mark.parametrize("marker_set", ["NULL", None, 5, [b"NULL", 5], {b"NULL": 1, b"5": 2},
                                        (memoryview(b"NULL"),), frozenset({b"5", "5"}), [bytearray(b"NULL")]])
def test_null_markers_of_any_container(marker_set):
    payload = pure_rowcodec.encode_data_row([b"NULL", b"5", b""])

    def run(m):
        d = m.rowcodec.TextRowDecoder([25, 20, 25])
        d.null_markers = marker_set
        return d.decode_row(payload)
    same(run)


def test_compiled_objects_made_without_init_are_safe():
    d = c_rowcodec.TextRowDecoder.__new__(c_rowcodec.TextRowDecoder)
    with pytest.raises(ProtocolError, match="DATA_ROW has 1 columns but the ROW_DESCRIPTION declared 0"):
        d.decode_row(bytes.fromhex("0100010000") + bytes(4))
    r = c_framing.FrameReader.__new__(c_framing.FrameReader)
    assert (r.next_frame(), r.peek_type(), r.peek(5), r.buffered) == (None, None, b"", 0)
    r.feed(GOLDEN["11.11"][1])
    assert bytes(r.next_frame().payload) == GOLDEN["11.11"][1][40:]


def vars_of(d):
    return (d.type_oids, d.null_markers, d.raw_text, d.kinds, d.ncolumns)


# --- rowcodec: read_data_rows over a stream ---

@st.composite
def row_streams(draw):
    oids = draw(st.lists(st.sampled_from(OIDS), min_size=1, max_size=5))
    parts = []
    for i in range(draw(st.integers(0, 8))):
        vals = [draw(values) for _ in oids]
        payload = pure_rowcodec.encode_data_row(vals)
        kind = draw(st.sampled_from(["row"] * 6 + ["flag", "zlib", "reserved", "other", "bad-row", "bad-utf8"]))
        msg_type, flags = DATA_ROW, 0
        if kind == "flag":
            flags = draw(st.sampled_from([0x02, 0x04, 0x08]))
        elif kind == "zlib":
            flags, payload = 0x01, zlib.compress(payload)
        elif kind == "reserved":
            flags = 0x20
        elif kind == "other":
            msg_type = draw(st.sampled_from([COMMAND_COMPLETE, READY]))
        elif kind == "bad-row":
            payload = payload[:-1] if payload[4:] else payload + b"x"
        elif kind == "bad-utf8":
            payload = pure_rowcodec.encode_data_row([b"\xff\xfe"] * len(oids))
        parts.append(pure_framing.encode_frame(msg_type, payload, i, SESSION, 7, flags))
    stream = bytearray(b"".join(parts))
    if stream and draw(st.integers(0, 9)) == 0:       # sometimes break a header byte
        stream[draw(st.integers(0, len(stream) - 1))] = draw(st.integers(0, 255))
    return oids, bytes(stream)


@FAST
@given(row_streams(), st.lists(st.integers(0, 10**6), max_size=8), st.sampled_from(MAX_ROWS),
       markers, st.booleans(), st.sampled_from([MAX_PAYLOAD, 30]))
def test_read_data_rows(stream, cuts, max_rows, marker_set, raw_text, max_payload):
    oids, data = stream
    chunks = chunked(data, cuts)

    def run(m):
        r = m.framing.FrameReader(max_payload)
        r.decompress = lambda p: zlib.decompress(bytes(p))
        d = decoder(m, oids, marker_set, raw_text)
        log, rows = [], []
        for chunk in chunks:
            r.feed(chunk)
            for _ in range(len(data) // 40 + 2):
                got = outcome(lambda _: m.rowcodec.read_data_rows(r, d, rows, max_rows), None)
                log.append((got, r.buffered, len(rows)))
                if got == ("ok", ("int", 0)):
                    skipped = outcome(lambda _: r.next_frame(), None)   # step over what stopped it
                    log.append(skipped)
                    if skipped == ("ok", ("NoneType", None)):
                        break
        return log, rows
    same(run, (PURE, COMP, MIXED))


@pytest.mark.parametrize("max_rows", [0, 1, 2.5, -1, True, 10**30, float("nan"), float("inf"), None, "3"])
def test_read_data_rows_max_rows_values(max_rows):
    data = pure_rowcodec.encode_data_row_frames([[b"1"]] * 5, 0)[0]

    def run(m):
        r = m.framing.FrameReader()
        r.feed(data)
        rows = []
        return m.rowcodec.read_data_rows(r, m.rowcodec.TextRowDecoder([20]), rows, max_rows), rows
    same(run, (PURE, COMP, MIXED))


# --- rowcodec: encoding ---

encodable = st.one_of(st.none(), st.binary(max_size=10), st.text(max_size=10),
                      st.sampled_from(["\ud800", "a\udfffb", bytearray(b"ba"), memoryview(b"mv"), 5, 1.5, [1, 2],
                                       type("S", (str,), {"encode": lambda self, *a: b"sub"})("s"),
                                       type("B", (bytes,), {})(b"bsub")]))
containers = st.sampled_from([list, tuple, lambda v: iter(v), lambda v: type("L", (list,), {})(v)])


@FAST
@given(st.lists(encodable, max_size=20), containers)
def test_encode_data_row(vals, container):
    same(lambda m: m.rowcodec.encode_data_row(container(vals)))


@FAST
@given(st.lists(st.lists(st.one_of(st.none(), st.binary(max_size=6), st.text(max_size=6)), max_size=10), max_size=6),
       st.sampled_from([0, 5, 2**32 - 2, -3, 2**70, True, 1.5]),
       st.sampled_from([SESSION, bytes(16), b"short", bytearray(16), "x" * 16]),
       st.sampled_from([0, 42, 2**64 - 1, -1, 2**64, 1.0]), containers)
def test_encode_data_row_frames(row_list, sequence, attachment, txn_id, container):
    same(lambda m: m.rowcodec.encode_data_row_frames(container(row_list), sequence, attachment, txn_id))


def test_encode_data_row_frames_bad_value_in_a_later_row():
    same(lambda m: m.rowcodec.encode_data_row_frames([[b"1"], [b"2", 3]], 0))
    same(lambda m: m.rowcodec.encode_data_row_frames([[b"1"], ("\ud800",)], 0))
    same(lambda m: m.rowcodec.encode_data_row_frames([[b"1"], 7], 0))
