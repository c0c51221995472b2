"""Reference counting in the compiled decoders: no leak, no over-release.

The compiled twins handle references by hand in places (PyList_SET_ITEM, borrowed
tuples). On a known set of values each decoder runs many times; the reference counts of
everything passed in (payloads, decoders, loaders, markers) must not move, every value
that comes out must be owned only by its container, and the interpreter's count of
allocated blocks must stay flat. Errors raised from inside the decoders are included.
"""
import gc
import sys
from decimal import Decimal

import pytest

from fuzz.samples import samples
from scratchbird._compiled import bincodec, framing, rowcodec
from scratchbird._pure import bincodec as pure_bincodec
from scratchbird._server_messages import Column
from scratchbird.errors import DataError, ProtocolError

ROUNDS = 2000


def flat_blocks(run, rounds=ROUNDS):
    """Allocated blocks after ``rounds`` more calls, minus before (after a warm-up)."""
    for _ in range(200):
        run()
    gc.collect()
    before = sys.getallocatedblocks()
    for _ in range(rounds):
        run()
    gc.collect()
    return sys.getallocatedblocks() - before


def refcounts(*objects):
    return [sys.getrefcount(o) for o in objects]


def text_case():
    payload = rowcodec.encode_data_row([b"42", b"t", b"3.5", "h\u00e9", None, b"NULL", b"x" * 50])
    loader = lambda text: ("loaded", text)  # noqa: E731
    decoder = rowcodec.TextRowDecoder([20, 16, 1700, 25, 25, 25, 25],
                                      loaders=[None, None, None, None, None, None, loader])
    return payload, decoder, loader


def test_text_decoder_keeps_refcounts_exact():
    payload, decoder, loader = text_case()
    markers = decoder.null_markers
    before = refcounts(payload, decoder, loader, markers, *markers)
    row = decoder.decode_row(payload)
    expected = (42, True, Decimal("3.5"), "h\u00e9", None, None, ("loaded", "x" * 50))
    same = row == expected
    assert same
    row_refs = sys.getrefcount(row)
    assert row_refs == 2                        # only ``row`` (and the call's argument)
    # counted outside assert statements: pytest's assertion rewriting keeps references
    counts = [sys.getrefcount(row[i]) for i in (2, 3, 6)]
    assert counts == [2, 2, 2]                  # the row's slot and the call's argument
    del row
    for _ in range(ROUNDS):
        decoder.decode_row(payload)
    assert refcounts(payload, decoder, loader, markers, *markers) == before
    assert flat_blocks(lambda: decoder.decode_row(payload)) < 50


def test_binary_decoder_keeps_refcounts_exact():
    pairs = samples()
    types = [t for t, _ in pairs]
    columns = [Column(f"c{i}", 25, format=1, typeref=pure_bincodec.typeref_for(t))
               for i, t in enumerate(types)]
    payload = bincodec.encode_data_row(types, [v for _, v in pairs])
    decoder = bincodec.BinaryRowDecoder(columns)
    before = refcounts(payload, decoder, *columns)
    row = decoder.decode_row(payload)
    row_refs = sys.getrefcount(row)
    assert len(row) == len(types) and row_refs == 2
    counts = {type_id: sys.getrefcount(row[i]) for i, (type_id, _) in enumerate(pairs)
              if not isinstance(row[i], bool) and not (isinstance(row[i], int) and -5 <= row[i] <= 256)}
    assert counts == {type_id: 2 for type_id in counts}    # owned by the row alone
    del row
    assert flat_blocks(lambda: decoder.decode_row(payload)) < 50
    assert refcounts(payload, decoder, *columns) == before


@pytest.mark.parametrize("bad", [
    "truncated", "bad utf-8", "binary value too short", "huge empty array"])
def test_errors_raised_inside_the_decoders_leak_nothing(bad):
    text_payload, text_decoder, _ = text_case()
    int32 = [Column("n", 25, format=1, typeref=pure_bincodec.typeref_for(pure_bincodec.INT32))]
    cases = {
        "truncated": (text_decoder.decode_row, text_payload[:-3], ProtocolError),
        "bad utf-8": (rowcodec.TextRowDecoder([25]).decode_row,
                      rowcodec.encode_data_row([b"\xff\xfe"]), DataError),
        "binary value too short": (bincodec.BinaryRowDecoder(int32).decode_row,
                                   bytes.fromhex("01000100" "00" "02000000" "0102"), DataError),
        "huge empty array": (lambda data: bincodec.decode_value(bincodec.ARRAY, data),
                             bytes.fromhex("02000000" "00000000" "02000300"
                                           "ffffff7f01000000" "0000000001000000"), DataError),
    }
    decode, payload, error = cases[bad]
    before = sys.getrefcount(payload)

    def run():
        try:
            decode(payload)
        except error:
            pass
        else:
            raise AssertionError("the decoder accepted a bad payload")

    assert flat_blocks(run) < 50
    assert sys.getrefcount(payload) == before


def test_frame_reader_releases_its_chunks():
    frame = framing.encode_frame(0x5A, rowcodec.encode_data_row([b"1"] * 10))
    chunk = frame * 50
    before = sys.getrefcount(chunk)
    reader = framing.FrameReader()

    def run():
        reader.feed(chunk)
        frames = []
        while (f := reader.next_frame()) is not None:
            frames.append(f)
        assert len(frames) == 50

    assert flat_blocks(run, 500) < 50
    assert reader.buffered == 0
    assert sys.getrefcount(chunk) == before
