"""zstd frame compression (REFERENCE 2.1, 2.4 and 3.7 [SPEC]; docs/protocol.md (sections 2 and 3))
and its FrameReader hook, for the SCRATCHBIRD_IMPL in use."""
import os
import struct
import tracemalloc

import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

from scratchbird import _compression
from scratchbird._compression import PREFIX_SIZE, Compressor, Decompressor
from scratchbird._constants import (COMMAND_COMPLETE, DATA_ROW, FLAG_COMPRESSED, MAX_PAYLOAD,
                                    OID_INT8, OID_TEXT, READY)
from scratchbird._impl import framing, rowcodec
from scratchbird.errors import ProtocolError

TEXT = b"SELECT id, name, created_at FROM customers WHERE region = 'north'; " * 64  # ~4.3 KB


def compressed(payload=TEXT, **kwargs):
    data, flags = Compressor(**kwargs).compress_payload(payload)
    assert flags == FLAG_COMPRESSED
    return data


def prefix(declared, level=3, reserved=b"\0\0\0"):
    return struct.pack("<IB3s", declared, level, reserved)


def streamed_frame(chunks):
    """A zstd frame without a content size in its header, as a streaming peer writes it."""
    obj = zstandard.ZstdCompressor().compressobj()
    return b"".join(obj.compress(chunk) for chunk in chunks) + obj.flush()


# ---------------------------------------------------------------- round trips and layout

@settings(max_examples=200, deadline=None)
@given(st.one_of(st.binary(max_size=20000),
                 st.builds(lambda b, n: b * n, st.binary(min_size=1, max_size=40),
                           st.integers(1, 3000))),
       st.integers(0, 4096))
def test_round_trip(payload, threshold):
    data, flags = Compressor(threshold=threshold).compress_payload(payload)
    assert flags in (0, FLAG_COMPRESSED)
    if flags:
        assert len(payload) > threshold and len(data) < len(payload)
        assert Decompressor()(data) == payload
    else:
        assert data == payload


def test_prefix_layout():
    data = compressed(level=5)
    declared, level, reserved = struct.unpack_from("<IB3s", data)
    assert (declared, level, reserved) == (len(TEXT), 5, b"\0\0\0")
    assert data[PREFIX_SIZE:PREFIX_SIZE + 4] == b"\x28\xb5\x2f\xfd"   # zstd frame magic
    assert zstandard.get_frame_parameters(data[PREFIX_SIZE:]).content_size == len(TEXT)


def test_threshold_is_inclusive():
    payload = b"a" * 1024
    assert Compressor().compress_payload(payload) == (payload, 0)          # at the threshold
    data, flags = Compressor().compress_payload(payload + b"a")            # above it
    assert flags == FLAG_COMPRESSED and Decompressor()(data) == payload + b"a"
    assert Compressor(threshold=0).compress_payload(b"") == (b"", 0)
    assert Compressor(threshold=10).compress_payload(b"xyz") == (b"xyz", 0)


def test_incompressible_data_is_sent_plain():
    payload = os.urandom(100_000)
    assert Compressor().compress_payload(payload) == (payload, 0)
    assert Compressor().compress_payload(memoryview(payload)) == (payload, 0)


def test_any_buffer_is_accepted():
    data = compressed()
    for kind in (bytes, bytearray, memoryview):
        assert Compressor().compress_payload(kind(TEXT))[0] == data
        assert Decompressor().decompress(kind(data)) == TEXT


def test_a_streamed_frame_from_another_peer_is_accepted():
    payload = TEXT * 3
    assert Decompressor()(prefix(len(payload)) + streamed_frame([TEXT] * 3)) == payload


@pytest.mark.parametrize("kwargs", [dict(level=0), dict(level=23), dict(threshold=-1)])
def test_bad_settings(kwargs):
    with pytest.raises(ValueError):
        Compressor(**kwargs)


def test_contexts_are_made_once_and_reused(monkeypatch):
    made = {"c": 0, "d": 0}
    real_c, real_d = zstandard.ZstdCompressor, zstandard.ZstdDecompressor

    def counting(kind, real):
        def factory(*args, **kwargs):
            made[kind] += 1
            return real(*args, **kwargs)
        return factory

    monkeypatch.setattr(_compression.zstandard, "ZstdCompressor", counting("c", real_c))
    monkeypatch.setattr(_compression.zstandard, "ZstdDecompressor", counting("d", real_d))
    comp, decomp = Compressor(), Decompressor()
    payloads = [TEXT[:n] * 3 for n in range(400, 4000, 97)] + [bytes(5000), b"xy" * 9000]
    out = [decomp(comp.compress_payload(p)[0]) for p in payloads]
    assert out == payloads and made == {"c": 1, "d": 1}
    # one context's output does not depend on what it compressed before
    assert comp.compress_payload(TEXT) == Compressor().compress_payload(TEXT)


# ---------------------------------------------------------------- corrupt payloads

def test_every_flipped_byte_is_detected():
    data = compressed()
    for i in range(len(data)):
        if i == 4:       # the level byte is informational
            continue
        bad = bytearray(data)
        bad[i] ^= 0xFF
        with pytest.raises(ProtocolError):
            Decompressor()(bytes(bad))


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_random_bit_flips_fail_or_change_nothing(data):
    payload = data.draw(st.sampled_from([TEXT, bytes(range(256)) * 20, b"abc" * 1000]))
    frame = bytearray(compressed(payload))
    position = data.draw(st.integers(PREFIX_SIZE, len(frame) - 1))
    frame[position] ^= 1 << data.draw(st.integers(0, 7))
    try:
        result = Decompressor()(bytes(frame))
    except ProtocolError:
        return
    # zstd ignores a few bits (an unused frame-header bit); such a flip is harmless
    assert result == payload


def test_every_truncation_is_detected():
    data = compressed()
    for n in range(len(data)):
        with pytest.raises(ProtocolError):
            Decompressor()(data[:n])


@pytest.mark.parametrize("payload, message", [
    (b"", "shorter than its 8-byte prefix"),
    (b"\x00" * 7, "shorter than its 8-byte prefix"),
    (prefix(10, reserved=b"\0\1\0") + zstandard.ZstdCompressor().compress(b"x" * 10),
     "nonzero reserved bytes"),
    (prefix(10, reserved=b"\0\0\x80") + zstandard.ZstdCompressor().compress(b"x" * 10),
     "nonzero reserved bytes"),
    (prefix(MAX_PAYLOAD + 1), f"declares {MAX_PAYLOAD + 1} uncompressed bytes, over the limit"),
    (prefix(0xFFFFFFFF), "over the limit"),
    (prefix(len(TEXT) + 1) + compressed()[PREFIX_SIZE:], "content size .* differs from the declared"),
    (prefix(len(TEXT) - 1) + compressed()[PREFIX_SIZE:], "content size .* differs from the declared"),
    (prefix(0) + compressed()[PREFIX_SIZE:], "differs from the declared uncompressed size 0"),
    (prefix(100) + b"not a zstd frame at all", "no valid zstd frame header"),
    (prefix(len(TEXT)), "no valid zstd frame header"),
    (compressed() + b"\x00", "corrupt or truncated zstd data"),        # trailing bytes
    (compressed() + compressed()[PREFIX_SIZE:], "corrupt or truncated zstd data"),  # two frames
    (prefix(len(TEXT) * 3 - 1) + streamed_frame([TEXT] * 3), "corrupt or truncated zstd data"),
    (prefix(len(TEXT) * 3 + 1) + streamed_frame([TEXT] * 3), "decompressed to .* not the declared"),
    (prefix(0) + streamed_frame([TEXT]), "corrupt or truncated zstd data"),
])
def test_corrupt_payloads(payload, message):
    with pytest.raises(ProtocolError, match=message):
        Decompressor()(payload)


def test_declared_size_over_a_smaller_limit():
    with pytest.raises(ProtocolError, match=f"declares {len(TEXT)} uncompressed bytes, over the limit of 4000"):
        Decompressor(max_payload=4000)(compressed())
    assert Decompressor(max_payload=len(TEXT))(compressed()) == TEXT


@pytest.mark.parametrize("content_size_in_header", [True, False])
def test_zip_bomb_is_refused_without_allocating_its_size(content_size_in_header):
    chunk = bytes(1 << 20)
    if content_size_in_header:
        frame = zstandard.ZstdCompressor().compress(chunk * 48)
    else:
        frame = streamed_frame([chunk] * 48)
    del chunk
    bomb = prefix(1000) + frame          # 48 MiB of zeros that claim to be 1000 bytes
    decompressor = Decompressor()
    tracemalloc.start()
    try:
        with pytest.raises(ProtocolError):
            decompressor(bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20


# ---------------------------------------------------------------- near the 64 MiB frame limit

def test_near_64_mib_round_trip_through_a_frame():
    payload = b"0123456789abcdef" * ((MAX_PAYLOAD - 100 * 1024) // 16)   # ~63.9 MiB
    assert MAX_PAYLOAD - 110 * 1024 < len(payload) < MAX_PAYLOAD
    data, flags = Compressor().compress_payload(payload)
    assert flags == FLAG_COMPRESSED and len(data) <= MAX_PAYLOAD
    wire = framing.encode_frame(DATA_ROW, data, 7, bytes(16), 42, flags)
    assert framing.decode_header(wire)[2] == len(data)   # header length = compressed size
    reader = framing.FrameReader()
    reader.decompress = Decompressor()
    half = len(wire) // 2
    reader.feed(wire[:half])
    assert reader.next_frame() is None
    reader.feed(wire[half:])
    frame = reader.next_frame()
    assert frame.flags == FLAG_COMPRESSED and len(frame.payload) == len(payload)
    assert frame.payload == payload


def test_exactly_64_mib_declared_is_allowed_and_one_more_is_not():
    payload = bytes(MAX_PAYLOAD)
    data, flags = Compressor().compress_payload(payload)
    assert flags == FLAG_COMPRESSED and Decompressor()(data) == payload
    with pytest.raises(ProtocolError, match="over the limit of 67108864"):
        Decompressor()(prefix(MAX_PAYLOAD + 1) + data[PREFIX_SIZE:])
    with pytest.raises(ProtocolError, match="exceeds the 64 MiB limit"):
        Compressor().compress_payload(payload + b"\0")


# ---------------------------------------------------------------- FrameReader hook

def _stream():
    """Frames as a peer with compression would send them, and what each should read as."""
    rows = [rowcodec.encode_data_row([str(i).encode(), (b"name-%d " % i) * 200])
            for i in range(5)]
    sent, expected = [], []
    comp = Compressor()
    for seq, (msg_type, payload) in enumerate(
            [(DATA_ROW, row) for row in rows]
            + [(DATA_ROW, rowcodec.encode_data_row([b"9", b"short"])),
               (COMMAND_COMPLETE, b"\x01" + TEXT), (READY, bytes(20))]):
        data, flags = comp.compress_payload(payload)
        sent.append(framing.encode_frame(msg_type, data, seq, bytes(16), 42, flags))
        expected.append((msg_type, flags, seq, payload))
    assert {e[1] for e in expected} == {0, FLAG_COMPRESSED}   # both kinds are in the stream
    return b"".join(sent), expected


def _drain(reader):
    out = []
    while (frame := reader.next_frame()) is not None:
        out.append((frame.msg_type, frame.flags, frame.sequence, bytes(frame.payload)))
    return out


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 3000), min_size=1, max_size=30))
def test_frame_reader_decompresses_frames_split_across_chunks(sizes):
    wire, expected = _stream()
    reader = framing.FrameReader()
    reader.decompress = Decompressor()
    got, pos = [], 0
    for size in sizes:
        reader.feed(wire[pos:pos + size])
        pos += size
        got += _drain(reader)
    reader.feed(wire[pos:])
    got += _drain(reader)
    assert got == expected and reader.buffered == 0


def test_frame_reader_without_the_hook_refuses_compressed_frames():
    wire, expected = _stream()
    reader = framing.FrameReader()
    reader.feed(wire)
    with pytest.raises(ProtocolError, match="compressed but compression was not negotiated"):
        reader.next_frame()
    plain = framing.FrameReader()
    plain.feed(framing.encode_frame(READY, bytes(20)))
    assert _drain(plain) == [(READY, 0, 0, bytes(20))]


def test_frame_reader_reports_a_corrupt_compressed_frame():
    data = bytearray(compressed())
    data[-3] ^= 0xFF
    reader = framing.FrameReader()
    reader.decompress = Decompressor()
    reader.feed(framing.encode_frame(DATA_ROW, bytes(data), flags=FLAG_COMPRESSED))
    with pytest.raises(ProtocolError, match="corrupt or truncated zstd data"):
        reader.next_frame()


def test_frame_reader_hands_the_hook_the_compressed_payload():
    seen = []

    def hook(payload):
        seen.append(bytes(payload))
        return Decompressor()(payload)

    data = compressed()
    reader = framing.FrameReader()
    reader.decompress = hook
    reader.feed(framing.encode_frame(DATA_ROW, data, flags=FLAG_COMPRESSED))
    assert bytes(reader.next_frame().payload) == TEXT and seen == [data]


def test_row_decoder_reads_compressed_data_rows():
    wire, expected = _stream()
    reader = framing.FrameReader()
    reader.decompress = Decompressor()
    reader.feed(wire)
    rows = []
    decoder = rowcodec.TextRowDecoder([OID_INT8, OID_TEXT])
    assert rowcodec.read_data_rows(reader, decoder, rows, 100) == 6
    assert rows[:5] == [(i, ("name-%d " % i) * 200) for i in range(5)]
    assert rows[5] == (9, "short")
    assert reader.next_frame().msg_type == COMMAND_COMPLETE
