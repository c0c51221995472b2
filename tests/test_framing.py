"""Frame header codec and FrameReader (REFERENCE 2), for the SCRATCHBIRD_IMPL in use.

Run the suite with SCRATCHBIRD_IMPL=python and =c to cover both twins.
"""
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scratchbird._constants import (COMMAND_COMPLETE, DATA_ROW, HEADER_SIZE, MAX_PAYLOAD, READY,
                                    ZERO_UUID)
from scratchbird._impl import framing
from scratchbird.errors import ProtocolError

SESSION = bytes.fromhex("018f0a2b3c4d7e5f8a6b7c8d9e0fa1b2")
# REFERENCE 11.11: DATA_ROW for SELECT 1 (sequence 6, txn 42, session UUID)
GOLDEN_11_11 = bytes.fromhex(
    "53425750010145000a00000006000000018f0a2b3c4d7e5f8a6b7c8d9e0fa1b2"
    "2a0000000000000001000100000100000031")


def frame(msg_type=DATA_ROW, payload=b"", seq=0, flags=0, txn=0, att=ZERO_UUID):
    return framing.encode_frame(msg_type, payload, seq, att, txn, flags)


def fields(f):
    return (f.msg_type, f.flags, f.sequence, f.attachment_id, f.txn_id, bytes(f.payload))


def drain(reader):
    out = []
    while True:
        f = reader.next_frame()
        if f is None:
            return out
        out.append(fields(f))


# --- header encode/decode (REFERENCE 2) ---

def test_encode_frame_matches_reference_11_11():
    payload = GOLDEN_11_11[HEADER_SIZE:]
    assert framing.encode_header(DATA_ROW, len(payload), 6, SESSION, 42) == GOLDEN_11_11[:40]
    assert framing.encode_frame(DATA_ROW, payload, 6, SESSION, 42) == GOLDEN_11_11


def test_decode_header_of_reference_11_11():
    assert framing.decode_header(GOLDEN_11_11) == (DATA_ROW, 0, 10, 6, SESSION, 42)


@pytest.mark.parametrize("kind", [bytes, bytearray, memoryview])
def test_decode_header_at_offset_in_any_buffer(kind):
    data = kind(b"junk" + GOLDEN_11_11)
    assert framing.decode_header(data, 4) == (DATA_ROW, 0, 10, 6, SESSION, 42)


@pytest.mark.parametrize("msg_type, length, seq, txn, flags", [
    (0, 0, 0, 0, 0),
    (0xFF, MAX_PAYLOAD, 0xFFFFFFFF, 2**64 - 1, 0x0F),
    (READY, 76, 8, 42, 0x08),
])
def test_header_round_trip(msg_type, length, seq, txn, flags):
    header = framing.encode_header(msg_type, length, seq, SESSION, txn, flags)
    assert len(header) == HEADER_SIZE
    assert header[:6] == b"SBWP\x01\x01"
    assert framing.decode_header(header) == (msg_type, flags, length, seq, SESSION, txn)


def test_encode_header_wraps_the_sequence_to_u32():
    header = framing.encode_header(DATA_ROW, 0, 2**32 + 5)
    assert framing.decode_header(header)[3] == 5


def test_encode_header_checks_its_arguments():
    with pytest.raises(ValueError, match="attachment_id must be 16 bytes"):
        framing.encode_header(DATA_ROW, 0, 0, bytes(15))
    with pytest.raises(ProtocolError, match="payload of 67108865 bytes exceeds the 64 MiB"):
        framing.encode_header(DATA_ROW, MAX_PAYLOAD + 1)
    with pytest.raises(ProtocolError, match="payload of -1 bytes"):
        framing.encode_header(DATA_ROW, -1)


def test_decode_header_rejects_bad_magic():
    with pytest.raises(ProtocolError, match=r"bad SBWP magic b'XBWP' \(expected b'SBWP'\)"):
        framing.decode_header(b"XBWP" + GOLDEN_11_11[4:])


@pytest.mark.parametrize("major, minor", [(1, 0), (0, 1), (2, 1), (1, 2)])
def test_decode_header_rejects_versions_other_than_1_1(major, minor):
    data = GOLDEN_11_11[:4] + bytes([major, minor]) + GOLDEN_11_11[6:]
    with pytest.raises(ProtocolError, match=rf"unsupported SBWP header version {major}\.{minor}"):
        framing.decode_header(data)


def test_decode_header_length_limit():
    at_limit = framing.encode_header(DATA_ROW, MAX_PAYLOAD)
    assert framing.decode_header(at_limit)[2] == MAX_PAYLOAD
    over = at_limit[:8] + (MAX_PAYLOAD + 1).to_bytes(4, "little") + at_limit[12:]
    with pytest.raises(ProtocolError, match="frame length 67108865 exceeds the limit of 67108864"):
        framing.decode_header(over)
    with pytest.raises(ProtocolError, match="frame length 10 exceeds the limit of 9 bytes"):
        framing.decode_header(GOLDEN_11_11, 0, 9)


@pytest.mark.parametrize("cut", [0, 1, 39])
def test_decode_header_rejects_truncated_header(cut):
    with pytest.raises(ProtocolError, match=f"truncated SBWP header: {cut} of 40 bytes"):
        framing.decode_header(GOLDEN_11_11[:cut])
    with pytest.raises(ProtocolError, match=f"truncated SBWP header: {cut} of 40 bytes"):
        framing.decode_header(b"x" * 5 + GOLDEN_11_11[:cut], 5)


# --- FrameReader ---

def test_empty_reader():
    r = framing.FrameReader()
    assert r.next_frame() is None
    assert r.peek_type() is None
    assert r.buffered == 0
    assert r.peek(10) == b""
    assert r.contiguous() == (b"", 0, 0)


def test_frame_fields_and_repr():
    r = framing.FrameReader()
    r.feed(GOLDEN_11_11)
    f = r.next_frame()
    assert fields(f) == (DATA_ROW, 0, 6, SESSION, 42, GOLDEN_11_11[40:])
    assert repr(f) == "Frame(type=0x45, flags=0x00, seq=6, txn=42, len=10)"
    f.txn_id = 7
    assert f.txn_id == 7
    made = framing.Frame(1, 2, 3, SESSION, 4, memoryview(b"ab"))
    assert repr(made) == "Frame(type=0x01, flags=0x02, seq=3, txn=4, len=2)"


STREAM_PARTS = [frame(DATA_ROW, b"first payload", 1), frame(COMMAND_COMPLETE, b"", 2),
                frame(READY, bytes(range(200)), 3, txn=9, att=SESSION)]
STREAM = b"".join(STREAM_PARTS)
EXPECTED = [(DATA_ROW, 0, 1, ZERO_UUID, 0, b"first payload"),
            (COMMAND_COMPLETE, 0, 2, ZERO_UUID, 0, b""),
            (READY, 0, 3, SESSION, 9, bytes(range(200)))]


def test_frames_split_at_every_byte_offset():
    for cut in range(len(STREAM) + 1):
        r = framing.FrameReader()
        r.feed(STREAM[:cut])
        got = drain(r)
        assert r.buffered == cut - sum(len(p) for p in STREAM_PARTS[:len(got)])
        r.feed(STREAM[cut:])
        got += drain(r)
        assert got == EXPECTED, cut
        assert r.buffered == 0


def test_frames_fed_one_byte_at_a_time():
    r = framing.FrameReader()
    got = []
    for i in range(len(STREAM)):
        r.feed(STREAM[i:i + 1])
        got += drain(r)
    assert got == EXPECTED


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 255), st.binary(max_size=300)), max_size=8),
       st.lists(st.integers(0, 3000), max_size=10))
def test_any_chunking_gives_the_same_frames(frames, cuts):
    stream = b"".join(frame(t, p, i) for i, (t, p) in enumerate(frames))
    bounds = sorted({0, len(stream), *(c for c in cuts if c < len(stream))})
    r = framing.FrameReader()
    got = []
    for a, b in zip(bounds, bounds[1:]):
        r.feed(stream[a:b])
        got += drain(r)
    assert got == [(t, 0, i, ZERO_UUID, 0, p) for i, (t, p) in enumerate(frames)]


def test_many_frames_in_one_chunk_are_zero_copy_views():
    chunk = b"".join(frame(DATA_ROW, b"row %d" % i, i) for i in range(1000))
    r = framing.FrameReader()
    r.feed(chunk)
    for i in range(1000):
        f = r.next_frame()
        assert isinstance(f.payload, memoryview)
        assert f.payload.obj is chunk           # a view into the received chunk, no copy
        assert f.payload.readonly
        assert bytes(f.payload) == b"row %d" % i
    assert r.next_frame() is None
    assert r.buffered == 0


def test_frame_spanning_chunks_is_copied_once():
    data = frame(DATA_ROW, b"x" * 100)
    r = framing.FrameReader()
    r.feed(data[:50])
    r.feed(data[50:])
    f = r.next_frame()
    assert isinstance(f.payload, memoryview)
    assert bytes(f.payload) == b"x" * 100


def test_fed_buffers_are_copied_so_later_mutation_is_harmless():
    buf = bytearray(frame(DATA_ROW, b"abc"))
    r = framing.FrameReader()
    r.feed(buf)
    buf[-1] = ord("z")
    r.feed(b"")                                 # empty chunks are ignored
    assert bytes(r.next_frame().payload) == b"abc"


def test_length_is_not_trusted_beyond_what_is_buffered():
    header = framing.encode_header(DATA_ROW, 1000)
    r = framing.FrameReader()
    r.feed(header + b"short")
    assert r.peek_type() is None
    assert r.next_frame() is None
    assert r.buffered == 45


@pytest.mark.parametrize("flag", [0x10, 0x20, 0x40, 0x80, 0xF0])
def test_reserved_flags_raise_and_consume_the_frame(flag):
    r = framing.FrameReader()
    r.feed(frame(DATA_ROW, b"x", flags=flag) + frame(READY, b"ok"))
    with pytest.raises(ProtocolError, match=rf"frame 0x45 has reserved flag bits set \(0x{flag:02x}\)"):
        r.next_frame()
    assert fields(r.next_frame())[0] == READY


def test_compressed_flag_without_decompress_raises():
    r = framing.FrameReader()
    r.feed(frame(DATA_ROW, b"x", flags=0x01))
    with pytest.raises(ProtocolError, match="frame 0x45 is compressed but compression was not negotiated"):
        r.next_frame()
    assert r.buffered == 0


def test_compressed_flag_with_decompress():
    r = framing.FrameReader()
    r.decompress = lambda payload: zlib.decompress(bytes(payload))
    r.feed(frame(DATA_ROW, zlib.compress(b"hello" * 10), flags=0x01))
    f = r.next_frame()
    assert f.flags == 0x01
    assert isinstance(f.payload, memoryview)
    assert bytes(f.payload) == b"hello" * 10


@pytest.mark.parametrize("flag", [0x02, 0x04, 0x08, 0x0E])
def test_allowed_flags_pass(flag):
    r = framing.FrameReader()
    r.feed(frame(DATA_ROW, b"x", flags=flag))
    assert fields(r.next_frame()) == (DATA_ROW, flag, 0, ZERO_UUID, 0, b"x")


def test_check_flags_off_passes_every_flag_through():
    r = framing.FrameReader(check_flags=False)
    r.feed(frame(DATA_ROW, b"raw", flags=0xF1))
    assert fields(r.next_frame()) == (DATA_ROW, 0xF1, 0, ZERO_UUID, 0, b"raw")
    r.check_flags = True
    r.feed(frame(DATA_ROW, b"raw", flags=0xF1))
    with pytest.raises(ProtocolError, match="reserved flag bits"):
        r.next_frame()


@pytest.mark.parametrize("split", [None, 3, 20])
def test_bad_header_raises_from_peek_type_and_next_frame_without_consuming(split):
    data = b"XBWP" + GOLDEN_11_11[4:]
    r = framing.FrameReader()
    if split is None:
        r.feed(data)
    else:
        r.feed(data[:split])
        r.feed(data[split:])
    for call in (r.peek_type, r.next_frame):
        with pytest.raises(ProtocolError, match="bad SBWP magic"):
            call()
    assert r.buffered == len(data)


def test_reader_max_payload_is_settable():
    r = framing.FrameReader(max_payload=9)
    r.feed(GOLDEN_11_11)
    with pytest.raises(ProtocolError, match="frame length 10 exceeds the limit of 9 bytes"):
        r.next_frame()
    r.max_payload = 10
    assert r.max_payload == 10
    assert fields(r.next_frame())[5] == GOLDEN_11_11[40:]


def test_peek_and_peek_type_do_not_consume():
    r = framing.FrameReader()
    r.feed(STREAM[:10])
    r.feed(STREAM[10:50])
    assert r.peek(15) == STREAM[:15]
    assert r.peek(10_000) == STREAM[:50]
    assert r.peek(0) == b""
    assert r.peek(-1) == b""
    assert r.peek_type() is None        # the first frame is 53 bytes
    r.feed(STREAM[50:])
    assert r.peek_type() == DATA_ROW
    assert r.buffered == len(STREAM)


def test_peek_type_when_header_complete_but_payload_not():
    data = frame(DATA_ROW, b"12345")
    r = framing.FrameReader()
    r.feed(data[:-1])
    assert r.peek_type() is None
    r.feed(data[-1:])
    assert r.peek_type() == DATA_ROW


def test_contiguous_and_consume():
    r = framing.FrameReader()
    a, b = STREAM[:30], STREAM[30:]
    r.feed(a)
    r.feed(b)
    buf, start, end = r.contiguous()
    assert buf is a and (start, end) == (0, 30)
    r.consume(10)
    assert r.contiguous()[1:] == (10, 30)
    r.consume(25)                        # across the chunk boundary
    buf, start, end = r.contiguous()
    assert buf is b and start == 5
    assert r.buffered == len(STREAM) - 35
    with pytest.raises(ValueError, match="cannot consume more than is buffered"):
        r.consume(r.buffered + 1)
    with pytest.raises(ValueError, match="cannot consume more than is buffered"):
        r.consume(-1)
    r.consume(r.buffered)
    assert r.contiguous() == (b"", 0, 0)
    assert r.next_frame() is None
