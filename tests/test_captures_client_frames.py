"""Part c of the recorded conversations (tests/data/captures; helpers in
tests/capture_replay.py): the driver's encoders, given the same steps, produce the recorded
client frames, masking only what captures/README.md says varies (sequence, attachment id).
"""
from __future__ import annotations

import pytest

from tests.capture_replay import (  # noqa: F401  (captures: the fixture)
    captures, NUMBERS, LIFECYCLE_NUMBERS, ZERO, header, _lpstrs, Replay,
)
from scratchbird import _client_messages as cm
from scratchbird import _constants as c
from scratchbird._impl import framing


def _parse_args(payload):
    name, sql = _lpstrs(payload, 2)
    return name, sql


# Steps with no ClientProtocol method: the _client_messages encoder calls that make them.
UNSUPPORTED_STEPS = {
    "10": [(c.PARSE, lambda p: cm.encode_parse("s1", _parse_args(p)[1], [25])),
           (c.DESCRIBE, lambda p: cm.encode_describe("S", "s1")),
           (c.BIND, lambda p: cm.encode_bind("", "s1", [b"alpha"], formats=(0,))),
           (c.EXECUTE, lambda p: cm.encode_execute("", 0)),
           (c.SYNC, lambda p: cm.encode_sync()),
           (c.BIND, lambda p: cm.encode_bind("", "s1", [b"beta"], formats=(0,))),
           (c.EXECUTE, lambda p: cm.encode_execute("", 0)),
           (c.SYNC, lambda p: cm.encode_sync()),
           (c.CLOSE, lambda p: cm.encode_close("S", "s1")),
           (c.SYNC, lambda p: cm.encode_sync()),
           (c.TERMINATE, lambda p: cm.encode_terminate())],
    "11": [(c.RESET_SESSION, lambda p: cm.encode_reset_session(rollback=False)),
           (c.RESET_SESSION, lambda p: cm.encode_reset_session(rollback=True)),
           (c.TERMINATE, lambda p: cm.encode_terminate())],
    "13": [(c.PARSE, lambda p: cm.encode_parse("n1", _parse_args(p)[1], [])),
           (c.BIND, lambda p: cm.encode_bind("", "n1", [None], formats=(0,))),
           (c.EXECUTE, lambda p: cm.encode_execute("", 0)),
           (c.SYNC, lambda p: cm.encode_sync()),
           (c.TERMINATE, lambda p: cm.encode_terminate())],
    # the capture tool's refused form (no byte 17): the driver never sends it
    "17": [(c.RESET_SESSION, lambda p: b""),
           (c.TERMINATE, lambda p: cm.encode_terminate())],
}


@pytest.mark.parametrize("number", NUMBERS + LIFECYCLE_NUMBERS)
def test_client_frames_match_capture(captures, number):
    cap = captures[number]
    replay = Replay(cap, "seed17")
    frames = list(replay.sent)
    session = replay.proto.session_id
    for (msg_type, encode), rec in zip(UNSUPPORTED_STEPS.get(number, []), replay.pending):
        assert rec.msg_type == msg_type
        frames.append(framing.encode_frame(msg_type, encode(rec.payload), 0, session, 0))
    assert len(frames) == len(cap.c2s)
    authenticated = False
    for n, (ours, rec) in enumerate(zip(frames, cap.c2s)):
        got, want = header(ours), header(rec.data)
        assert ours[:6] == rec.data[:6] == b"SBWP\x01\x01"
        assert got[0] == want[0] and got[1] == want[1] == 0          # type, flags
        assert got[2] == want[2] == len(ours) - 40                     # length
        assert got[5] == want[5] == 0                                  # txn_id
        assert ours[40:] == rec.payload, rec.name                      # payload, byte for byte
        # masked: the capture tool's counter vs the driver's 0; zero vs the session UUID
        assert got[3] == 0 and want[3] == n
        assert got[4] == (session if authenticated else ZERO) and want[4] == ZERO
        if rec.msg_type == c.AUTH_RESPONSE:
            authenticated = number != "03"
    assert frames[0] == cap.c2s[0].data                                # STARTUP: every byte
