"""Part a of the recorded conversations (tests/data/captures; helpers in
tests/capture_replay.py): every server frame parses with the driver's parsers, and every
client frame with the dev server's parsers where they exist; the results agree with the
capture's notes (written by the capture tool, independently of this driver).
"""
from __future__ import annotations

import json
import re

import pytest

from tests.capture_replay import (  # noqa: F401  (captures: the fixture)
    captures, ALL_NUMBERS, NUMBERS, OFFERED, ZERO, header, _sql, ServerFrameChecker,
)
from tests.conftest import CAPTURES
from tests.sbwp_material import capture_files
from scratchbird import _client_messages as cm
from scratchbird import _constants as c
from scratchbird._impl import framing


def test_all_captures_are_present(captures):
    assert [p.name[:2] for p in capture_files(CAPTURES)] == ALL_NUMBERS
    for cap in captures.values():
        for direction in ("c2s", "s2c"):
            # the README's splitting rule gives back exactly the recorded frames
            stream = cap.stream(direction)
            frames, pos = [], 0
            while pos < len(stream):
                end = pos + 40 + int.from_bytes(stream[pos + 8:pos + 12], "little")
                frames.append(stream[pos:end])
                pos = end
            assert frames == [f.data for f in cap.frames if f.dir == direction]


@pytest.mark.parametrize("number", NUMBERS)
def test_server_frames_parse(captures, number):
    cap = captures[number]
    checker = ServerFrameChecker(cap)
    reader = framing.FrameReader()
    reader.feed(cap.stream("s2c"))
    for f in cap.frames:
        if f.dir == "c2s":
            if f.msg_type == c.PING:
                checker.last_ping = f.payload
            continue
        msg_type, flags, length, seq, attachment, txn_id = header(f.data)
        assert (flags, length) == (0, len(f.payload))
        got = reader.next_frame()
        assert (got.msg_type, got.sequence, got.txn_id, bytes(got.payload)) == \
            (msg_type, seq, txn_id, f.payload)
        checker.check(f, msg_type, seq, attachment, txn_id, f.payload)
    assert reader.next_frame() is None and reader.buffered == 0
    assert checker.seq == len(cap.s2c)


@pytest.mark.parametrize("number", NUMBERS)
def test_client_frames_parse(captures, number):
    cap = captures[number]
    for seq, f in enumerate(cap.c2s):
        msg_type, flags, length, sequence, attachment, txn_id = header(f.data)
        # the capture client: its own counter from 0, zero attachment, txn_id 0
        assert (msg_type, flags, length) == (f.msg_type, 0, len(f.payload))
        assert (sequence, attachment, txn_id) == (seq, ZERO, 0)
        p = f.payload
        if msg_type == c.STARTUP:
            s = cm.parse_startup(p)
            assert s.layout == cap.layout and s.params == {"database": "default", "user": cap.user}
            if cap.layout == "p1":
                assert (s.min_version, s.max_version, s.connect_flags) == (0x0101, 0x0101, 0)
                assert (s.features, s.required, s.optional, s.extensions) == (OFFERED, 0, 0, [])
            else:
                assert len(p) == 42 and s.features == 0
        elif msg_type == c.AUTH_RESPONSE:
            password = "not-the-password" if number == "03" else cap.password
            assert p == password.encode() and f.note.endswith(f'"{password}"')
        elif msg_type == c.QUERY:
            q = cm.parse_query(p)
            assert (q.flags, q.max_rows, q.timeout_ms, q.sql) == (0, 0, 0, _sql(p))
            assert q.sql == json.loads(re.search(r'sql=("(?:[^"\\]|\\.)*")$', f.note).group(1))
        elif msg_type == c.SET_OPTION:
            assert cm.parse_set_option(p) == ("copy_window_bytes", "65536")
        elif msg_type in (c.TXN_COMMIT, c.TXN_ROLLBACK):
            assert p == bytes(4)
        elif msg_type in (c.TERMINATE, c.SYNC):
            assert p == b""
        else:
            # PARSE, BIND, DESCRIBE, EXECUTE, CLOSE, RESET_SESSION, PING: the dev server has
            # no parser for them in _client_messages; part c compares them with our encoders.
            assert msg_type in (c.PARSE, c.BIND, c.DESCRIBE, c.EXECUTE, c.CLOSE,
                                c.RESET_SESSION, c.PING)
