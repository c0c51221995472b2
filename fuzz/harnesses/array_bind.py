"""executemany's parameter sets to array-bind packets (``arraybind.encode_param_sets``).

Input: byte 0 sets the shape (bits 0-2: 1 + columns; bit 3: ``exact_only``; bits 4-5: the
packet size, small enough that sets split across packets; bit 6: sets as lists instead of
tuples; bit 7: ``:name`` sets given as dicts); the rest is read as values, each a kind byte
and the bytes that kind takes (ints, floats from raw IEEE bits so NaN, infinities,
subnormals and -0.0 come up, Decimals from text, strings with invalid UTF-8 replaced,
dates, times, UUIDs, booleans, None and values only the literal path takes). Both twins
must give the same OIDs and packet bytes, or the same None, or the same error class.
"""
from __future__ import annotations

import datetime as dt
import struct
import uuid
from decimal import Decimal, InvalidOperation

from fuzz.contract import check_twins, outcome
from fuzz.twins import twins

_PACKET_BYTES = (64, 300, 4096, 1 << 20)
_MAX_VALUES = 256


def _values(data: bytes):
    pos, out = 0, []
    while pos < len(data) and len(out) < _MAX_VALUES:
        kind, pos = data[pos] % 12, pos + 1
        chunk = data[pos:pos + 8].ljust(8, b"\0")
        if kind == 0:
            out.append(None)
        elif kind == 1:
            out.append(bool(chunk[0] & 1)); pos += 1
        elif kind == 2:
            out.append(int.from_bytes(chunk, "little", signed=True)); pos += 8
        elif kind == 3:      # beyond int64: the literal path
            out.append(int.from_bytes(chunk, "little", signed=True) << chunk[0] % 80); pos += 8
        elif kind == 4:
            out.append(struct.unpack("<d", chunk)[0]); pos += 8
        elif kind == 5:
            n = chunk[0] % 24
            text = data[pos + 1:pos + 1 + n].decode("ascii", "replace")
            try:
                out.append(Decimal(text))
            except InvalidOperation:
                out.append(Decimal(int.from_bytes(chunk, "little", signed=True)).scaleb(-(chunk[1] % 30)))
            pos += 1 + n
        elif kind == 6:
            n = chunk[0] % 32
            out.append(data[pos + 1:pos + 1 + n].decode("utf-8", "replace")); pos += 1 + n
        elif kind == 7:
            out.append(dt.date.fromordinal(1 + int.from_bytes(chunk[:3], "little") % 3652058)); pos += 3
        elif kind == 8:
            seconds = int.from_bytes(chunk[:5], "little") % (10**10)
            out.append(dt.datetime(1, 1, 1) + dt.timedelta(seconds=seconds,
                                                           microseconds=chunk[5] * 3917)); pos += 6
        elif kind == 9:
            out.append(dt.time(chunk[0] % 24, chunk[1] % 60, chunk[2] % 60, chunk[3] * 3917)); pos += 4
        elif kind == 10:
            out.append(uuid.UUID(bytes=data[pos:pos + 16].ljust(16, b"\0"))); pos += 16
        else:                # the literal path's own kinds
            out.append((b"\x00'", dt.timezone.utc, [1, 2], {"a": 1})[chunk[0] % 4]); pos += 1
    return out


def one_input(data: bytes) -> None:
    if not data:
        return
    config = data[0]
    width = 1 + (config & 0x07)
    values = _values(data[1:]) or [None]
    rows = [values[i:i + width] for i in range(0, len(values), width)]
    rows[-1] = rows[-1] + [None] * (width - len(rows[-1]))
    keys = None
    if config & 0x80:
        keys = tuple(f"p{i}" for i in range(width))
        sets = [dict(zip(keys, row)) for row in rows]
    elif config & 0x40:
        sets = [list(row) for row in rows]
    else:
        sets = [tuple(row) for row in rows]
    args = (sets, width, keys, keys is None, lambda params: list(params.values())
            if isinstance(params, dict) else list(params), bool(config & 0x08),
            _PACKET_BYTES[(config >> 4) & 0x03])
    pure, compiled = twins("arraybind")
    check_twins("encode_param_sets", outcome(pure.encode_param_sets, *args),
                outcome(compiled.encode_param_sets, *args))


def seeds():
    return [b"\x02" + b"\x02" + (7).to_bytes(8, "little") + b"\x06\x05hello" + b"\x00",
            b"\x13" + b"\x04" + struct.pack("<d", 0.1) + b"\x05\x041.50" + b"\x07\x01\x02\x03",
            b"\x85" + b"\x00\x01\x01\x08" + bytes(6) + b"\x09\x01\x02\x03\x04\x0a" + bytes(16),
            b"\x4b" + b"\x03" + (1).to_bytes(8, "little") + b"\x0b\x00" + b"\x04" + b"\xff" * 8]
