"""The cached prepared statement's request builder: twins agree with each other and with
the frames ClientProtocol would build message by message (REFERENCE 5.2, 5.4, 5.6)."""
from __future__ import annotations

import random

import pytest

from scratchbird import _client_messages as cm
from scratchbird import _constants as c
from scratchbird._pure import framing
from scratchbird._pure import requestcodec as pure
from scratchbird.errors import ProgrammingError

try:
    from scratchbird._compiled import requestcodec as compiled
except ImportError:  # pragma: no cover - depends on the build
    compiled = None

TWINS = [pytest.param(pure, id="pure"),
         pytest.param(compiled, id="compiled", marks=pytest.mark.skipif(
             compiled is None, reason="compiled extensions not built"))]
SESSION = bytes(range(16))


def _reference(name: str, values, formats, autocommit: bool) -> bytes:
    def frame(t, p=b""):
        return framing.encode_frame(t, p, 0, SESSION, 0)
    return (frame(c.CLOSE, cm.encode_close("P", ""))
            + frame(c.BIND, cm.encode_bind("", name, values, formats))
            + frame(c.EXECUTE, cm.encode_execute("", 0, 1 if autocommit else None))
            + frame(c.SYNC))


def _built(twin, name, values, formats, autocommit):
    before = framing.encode_frame(c.CLOSE, cm.encode_close("P", ""), 0, SESSION, 0)
    after = (framing.encode_frame(c.EXECUTE, cm.encode_execute("", 0, 1 if autocommit else None),
                                  0, SESSION, 0) + framing.encode_frame(c.SYNC, b"", 0, SESSION, 0))
    head = cm.lpstr("") + cm.lpstr(name) + cm._U16.pack(len(formats)) + b"".join(
        cm._U16.pack(f) for f in formats)
    return twin.bind_request(before, SESSION, head, values, after)


@pytest.mark.parametrize("twin", TWINS)
@pytest.mark.parametrize("seed", range(5))
def test_request_matches_the_message_by_message_frames(twin, seed):
    rng = random.Random(seed)
    values = [rng.choice([None, b"", b"42", "é".encode() * rng.randint(1, 50), bytearray(b"x")])
              for _ in range(rng.randint(0, 12))]
    formats = rng.choice([(), (0,), (1,)])
    autocommit = bool(seed % 2)
    want = _reference("_sb7", [None if v is None else bytes(v) for v in values], formats, autocommit)
    assert _built(twin, "_sb7", values, formats, autocommit) == want


@pytest.mark.parametrize("twin", TWINS)
def test_bad_values_are_refused_with_the_same_message(twin):
    with pytest.raises(ProgrammingError, match="bytes or None, not str"):
        _built(twin, "s", ["text"], (0,), False)
    with pytest.raises(ProgrammingError, match="at most 65535"):
        _built(twin, "s", [None] * 70000, (0,), False)


@pytest.mark.parametrize("twin", TWINS)
def test_bind_frame_reproduces_reference_11_21b(twin):
    """REFERENCE 11.21's BIND ("s1", one binary i64 7): the payload byte for byte, and the
    header as the driver writes it (sequence and txn_id 0, REFERENCE 0 item 12, 12.A.2)."""
    from tests.conftest import REFERENCE, require_shared
    from tests.sbwp_material import SECTION11_SESSION, load_reference_dumps
    require_shared()
    dump = load_reference_dumps(REFERENCE)["11.21b"]
    head = cm.lpstr("") + cm.lpstr("s1") + cm._U16.pack(1) + cm._U16.pack(1)
    out = twin.bind_request(b"", SECTION11_SESSION, head, [(7).to_bytes(8, "little")], b"")
    assert out[40:] == dump.data[40:]
    assert out[:12] == dump.data[:12] and out[16:32] == dump.data[16:32]
