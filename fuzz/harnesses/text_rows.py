"""The text row decoder (rowcodec, REFERENCE 4.6, 8.4) on fuzzed DATA_ROW payloads.

Input: byte 0 gives the column count (``% 9``) and raw_text (bit 7); then one byte per
column picks its type code (bool, int8, numeric, text); the rest is the payload. The
payload is decoded by ``decode_row`` and, framed as two DATA_ROWs followed by a READY,
by ``read_data_rows`` over each twin's own FrameReader (the compiled batch loop).
"""
from __future__ import annotations

from fuzz.contract import check_twins, outcome
from fuzz.twins import twins

OIDS = (16, 20, 1700, 25)


def _layout(data: bytes):
    ncols = data[0] % 9
    oids = [OIDS[b % len(OIDS)] for b in data[1:1 + ncols]]
    return oids, bool(data[0] & 0x80), data[1 + ncols:]


def _batch(rowcodec, framing, decoder, payload):
    reader = framing.FrameReader()
    frame = framing.encode_frame(0x5A, payload)
    reader.feed(frame + frame + framing.encode_frame(0x5A, b"\x00\x00\x00\x00")[:45])
    rows = []
    count = rowcodec.read_data_rows(reader, decoder, rows, 1 << 20)
    return count, rows, reader.buffered


def one_input(data: bytes) -> None:
    if not data:
        return
    (pure, compiled), (pframing, cframing) = twins("rowcodec"), twins("framing")
    oids, raw_text, payload = _layout(data)
    if len(oids) != data[0] % 9:
        return
    decoders = (pure.TextRowDecoder(oids, raw_text=raw_text),
                compiled.TextRowDecoder(oids, raw_text=raw_text))
    check_twins("TextRowDecoder.decode_row", outcome(decoders[0].decode_row, payload),
                outcome(decoders[1].decode_row, payload))
    check_twins("rowcodec.read_data_rows",
                outcome(_batch, pure, pframing, decoders[0], payload),
                outcome(_batch, compiled, cframing, decoders[1], payload))


def seeds():
    from scratchbird._pure.rowcodec import encode_data_row

    rows = [
        ([16, 20, 1700, 25], [b"t", b"-9223372036854775808", b"3.25e-7", "h\u00e9llo"]),
        ([20, 20], [b"9223372036854775807", None]),
        ([1700, 16, 25], [b"NaN", b"false", b""]),
        ([25] * 8, [b"NULL", b"<NULL>", b"x" * 300, None, "'", "\\", "\u2603", b""]),
        ([], []),
    ]
    out = []
    for oids, values in rows:
        head = bytes([len(oids)]) + bytes(OIDS.index(o) for o in oids)
        out.append(head + encode_data_row(values))
        out.append(bytes([len(oids) | 0x80]) + head[1:] + encode_data_row(values))
    return out
