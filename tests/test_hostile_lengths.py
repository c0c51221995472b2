"""Lengths a hostile server controls never buy more work than their bytes (issue 7 item 2):
a DECIMAL coefficient is capped at what the largest declared precision needs, an empty
array cannot build billions of lists, a long text NUMERIC is refused in linear time.

Expectations are hand-written values, not the other twin's answer.
"""
from __future__ import annotations

import os
import struct
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

import scratchbird

from scratchbird._impl import bincodec
from scratchbird._server_messages import Column, TypeRef
from scratchbird.errors import DataError

SRC = Path(scratchbird.__file__).resolve().parents[1]
CAP = 13607         # bytes of 10**32767 - 1, the largest 32 767-digit coefficient


def _decimal_value(coefficient: bytes, scale: int = 0, sign: int = 0) -> bytes:
    return struct.pack("<hhB3x", 0, scale, sign) + coefficient


def _row(*values: bytes) -> bytes:
    body = b"".join(struct.pack("<I", len(v)) + v for v in values)
    nbitmap = (len(values) + 7) // 8
    return struct.pack("<HH", len(values), nbitmap) + bytes(nbitmap) + body


def _decimal_decoder():
    return bincodec.BinaryRowDecoder([Column("id", 23, typeref=TypeRef(4, 1)),
                                      Column("price", 1700, typeref=TypeRef(4, 1))])


def test_decimal_of_the_largest_declared_precision_decodes():
    nines = 10 ** 32767 - 1
    raw = nines.to_bytes(CAP, "little")
    row = _decimal_decoder().decode_row(_row(_decimal_value(b"\x05"), _decimal_value(raw, 2)))
    assert row[0] == Decimal(5)
    assert row[1] == Decimal("9" * 32765 + ".99")


def test_decimal_coefficient_one_byte_over_the_cap_is_refused_naming_the_column():
    raw = b"\x01" * (CAP + 1)
    with pytest.raises(DataError, match=r"column 1 \('price'.*coefficient of 13608 bytes exceeds the 13607"):
        _decimal_decoder().decode_row(_row(_decimal_value(b"\x05"), _decimal_value(raw)))


def test_high_zero_bytes_do_not_count_against_the_cap():
    raw = b"\x07" + bytes(CAP * 4)
    assert _decimal_decoder().decode_row(_row(_decimal_value(b"\x01"), _decimal_value(raw, 1))) \
        == (Decimal(1), Decimal("0.7"))


def test_decimal_nan_payload_is_capped_too():
    with pytest.raises(DataError, match="coefficient of 20000 bytes"):
        bincodec.decode_value((4, 1), _decimal_value(b"\x01" * 20000, 0, 0x20))
    assert bincodec.decode_value((4, 1), _decimal_value(b"\x2a", 0, 0x20)).is_nan()


def _array(dims, element=(1, 3)):
    head = struct.pack("<iiHH", len(dims), 0, *element)
    return head + b"".join(struct.pack("<ii", d, 1) for d in dims)


def test_empty_array_shapes_decode():
    assert bincodec.decode_value((15, 1), _array([2, 0])) == [[], []]
    assert bincodec.decode_value((15, 1), _array([0, 5])) == []
    assert bincodec.decode_value((15, 1), _array([1, 3, 0])) == [[[], [], []]]


@pytest.mark.parametrize("dims", [[0x7FFFFFFF, 0], [1 << 16, 1 << 14, 0], [100, 0]])
def test_empty_array_shape_cannot_build_more_lists_than_its_bytes(dims):
    # 28 to 36 bytes asked for 2**31 (or 2**30, or 100) empty lists: refused before any is
    # built (each nested list must be paid for by the value's bytes, at most 2 per byte)
    with pytest.raises(DataError, match="describe more sub-arrays"):
        bincodec.decode_value((15, 1), _array(dims))


_TEXT_NUMERIC = """
import struct
from decimal import Decimal
from scratchbird._impl import rowcodec
def row(*values):
    body = b"".join(struct.pack("<I", len(v)) + v for v in values)
    return struct.pack("<HH", len(values), 1) + b"\\0" + body
digits_x = b"1" * 50000 + b"x"
out = rowcodec.TextRowDecoder([1700, 20, 1700]).decode_row(
    row(digits_x, b"9" * 50000, b"1" * 50000 + b".5"))
assert out[0] == digits_x.decode(), "a digit run and a letter is text"
assert out[1] == "9" * 50000, "50 000 digits exceed CPython's int-from-str limit: text"
assert out[2] == Decimal("1" * 50000 + ".5")
print("ok")
"""


def test_long_text_numeric_is_decoded_in_linear_time():
    # 1700 is NUMERIC in text sessions. With an ambiguous pattern the pure twin took
    # minutes for a digit run and a letter, holding the GIL: so the hang guard is a
    # subprocess with a timeout (it fails on a hang; it asserts no duration).
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]))
    try:
        proc = subprocess.run([sys.executable, "-c", _TEXT_NUMERIC], env=env, capture_output=True,
                              text=True, timeout=120)
    except subprocess.TimeoutExpired:
        pytest.fail("decoding a 50 000-digit text NUMERIC did not finish: quadratic or worse")
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr
