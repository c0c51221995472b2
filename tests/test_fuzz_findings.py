"""Regression tests for what the fuzz harnesses (fuzz/, `python -m fuzz`) found.

Each test replays the input a harness reported (or its essence) against both twins.
"""
import struct

import pytest

from scratchbird._compiled import bincodec as compiled_bincodec
from scratchbird._pure import bincodec as pure_bincodec
from scratchbird.errors import DataError

TWINS = pytest.mark.parametrize("B", [pure_bincodec, compiled_bincodec], ids=["pure", "compiled"])


def empty_array(*dims):
    """An ARRAY value of INT32 elements with the given dimension lengths and no elements."""
    head = struct.pack("<iiHH", len(dims), 0, 2, 3)
    return head + b"".join(struct.pack("<ii", length, 1) for length in dims)


@TWINS
@pytest.mark.parametrize("dims", [(2**31 - 1, 0), (65536, 65536, 0), (3, 2**31 - 1, 0, 5)])
def test_empty_array_with_huge_dimensions_is_refused_not_built(B, dims):
    # Finding 1 (values_nested, libFuzzer timeout at 894 MB RSS): an empty array whose
    # leading dimensions are huge passed the element-count check (0 elements) and the
    # decoder then built 2**31 empty lists. Now each nested list must be paid for by bytes.
    with pytest.raises(DataError, match="describe more sub-arrays than the value's"):
        B.decode_value(B.ARRAY, empty_array(*dims))


@TWINS
def test_small_empty_sub_arrays_still_decode(B):
    assert B.decode_value(B.ARRAY, empty_array(3, 0)) == [[], [], []]
    assert B.decode_value(B.ARRAY, empty_array(2, 2, 0)) == [[[], []], [[], []]]
    assert B.decode_value(B.ARRAY, empty_array(0, 7)) == []


def test_truncated_parameter_status_during_handshake_is_a_protocol_error():
    # Finding 2 (protocol harness, first minutes): a PARAMETER_STATUS whose entry length
    # runs past the payload raised MessageFormatError out of advance_handshake() (fixed by
    # issue 7: every parse failure is a ProtocolError).
    from scratchbird._constants import PARAMETER_STATUS
    from scratchbird._impl import framing
    from scratchbird._protocol import ClientProtocol
    from scratchbird.errors import ProtocolError

    proto = ClientProtocol(user="u", password="p", database="d", allow_cleartext=True)
    proto.startup_frame()
    proto.feed(framing.encode_frame(PARAMETER_STATUS, struct.pack("<I", 1) + b"\xff\xff\xff\x7f"))
    with pytest.raises(ProtocolError):
        proto.advance_handshake()
