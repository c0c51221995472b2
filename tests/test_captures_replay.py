"""Part b of the recorded conversations (tests/data/captures; helpers in
tests/capture_replay.py): the server's byte stream, cut into random chunks, drives
ClientProtocol through the client's recorded steps; each Response must show what the
capture shows. Also the lifecycle captures (17 savepoints and reset, 18 cancel and subscribe).
"""
from __future__ import annotations

import random
from decimal import Decimal

import pytest

from tests.capture_replay import (  # noqa: F401  (captures: the fixture)
    captures, NUMBERS, LIFECYCLE_NUMBERS, OFFERED, ServerFrameChecker, Replay, supported_step,
)
from tests.sbwp_material import (
    note_columns, note_command_complete, note_error, note_parameters, note_ready, note_values,
)
from scratchbird import _constants as c
from scratchbird._impl import rowcodec
from scratchbird._protocol import ClientProtocol
from scratchbird.errors import (
    AuthenticationError, IntegrityError, OperationalError, ProgrammingError,
    TransactionRollbackError, error_from_fields,
)


def expected_responses(cap):
    """What each protocol-driven request got, from the capture's notes (not from the
    driver's parsers), up to the first step ClientProtocol has no method for."""
    out, current = [], None
    first_ready = next(f.index for f in cap.frames if f.msg_type == c.READY and f.dir == "s2c")
    for f in cap.frames[first_ready + 1:]:
        if f.dir == "c2s":
            if f.msg_type != c.TERMINATE and not supported_step(f):
                break
            if current is None and f.msg_type != c.TERMINATE:
                current = {"req": f, "results": [], "error": None, "ready": None,
                           "params": {}, "pong": None}
            continue
        if current is None:
            continue
        results = current["results"]
        if f.msg_type == c.ROW_DESCRIPTION:
            results.append({"cols": [(n, o) for n, o, _ in note_columns(f.note)], "rows": [],
                            "tag": None, "rowcount": -1})
        elif f.msg_type == c.DATA_ROW:
            results[-1]["rows"].append(tuple(note_values(f.note)))
        elif f.msg_type == c.COMMAND_COMPLETE:
            if not results or results[-1]["tag"] is not None:
                results.append({"cols": None, "rows": [], "tag": None, "rowcount": -1})
            results[-1]["tag"], results[-1]["rowcount"] = note_command_complete(f.note)
        elif f.msg_type == c.ERROR:
            current["error"] = note_error(f.note)
        elif f.msg_type == c.PARAMETER_STATUS:
            current["params"].update(note_parameters(f.note))
        elif f.msg_type in (c.READY, c.PONG):
            current["ready"] = note_ready(f.note) if f.msg_type == c.READY else None
            current["pong"] = f.payload if f.msg_type == c.PONG else None
            out.append(current)
            current = None
    return out


def assert_response(response, want):
    assert len(response.results) == len(want["results"])
    for got, exp in zip(response.results, want["results"]):
        if exp["cols"] is None:
            assert got.description is None
        else:
            assert [(col.name, col.type_oid) for col in got.description.columns] == exp["cols"]
        assert got.rows == exp["rows"]
        assert (got.tag, got.rowcount, got.complete) == (exp["tag"], exp["rowcount"], True)
    if want["error"] is None:
        assert response.error is None
    else:
        err = response.error
        assert err.fields == want["error"] and err.sqlstate == want["error"]["C"]
        assert err.severity == "ERROR"
    assert response.parameters == want["params"] and response.pong == want["pong"]
    if want["ready"] is None:
        assert response.ready is None
    else:
        assert response.ready.txn_id == want["ready"]["txn"]
        assert response.ready.reason == want["ready"].get("reason")


CHUNKINGS = ["whole", "eager", "seed0", "seed1", "seed2"]
# 03 is not replayed eagerly: its ERROR answers the AUTH_RESPONSE, so no server could
# have sent it together with the AUTH_REQUEST.
REPLAYS = [(n, ch) for n in NUMBERS for ch in CHUNKINGS if (n, ch) != ("03", "eager")] + \
    [(n, "bytes") for n in ("01", "02", "03", "04", "09", "11")] + \
    [(n, ch) for n in LIFECYCLE_NUMBERS for ch in CHUNKINGS + ["bytes"]]


@pytest.mark.parametrize("number,chunking", REPLAYS, ids=[f"{n}-{ch}" for n, ch in REPLAYS])
def test_replay_matches_capture(captures, number, chunking):
    """raw_text=True: every value exactly as the capture shows it, in every step."""
    cap = captures[number]
    replay = Replay(cap, chunking, raw_text=True)
    if number == "03":
        assert isinstance(replay.error, AuthenticationError)
        assert isinstance(replay.error, OperationalError)
        assert (replay.error.sqlstate, replay.error.diag_code) == \
            ("28000", "SECURITY.AUTHENTICATION.FAILED")
        assert replay.error.message == "Authentication failed."
        assert replay.proto.broken and not replay.proto.handshake_done
        assert len(replay.sent) == len(cap.c2s) == 2
        return
    proto = replay.proto
    assert replay.error is None and proto.handshake_done and proto.auth_method == 1
    ready = next(f for f in cap.s2c if f.msg_type == c.READY)
    assert proto.session_id == next(f for f in cap.s2c if f.msg_type == c.AUTH_OK).payload[:16]
    if cap.layout == "p1":
        assert proto.negotiated_features == OFFERED and proto.server_info.dialect == "sbsql"
        startup_params = next(f for f in cap.s2c if f.msg_type == c.PARAMETER_STATUS)
        assert proto.parameters.items() >= note_parameters(startup_params.note).items()
        assert len(note_parameters(startup_params.note)) == 18
    else:
        assert (proto.negotiated_features, proto.server_info, proto.parameters) == (0, None, {})
    wanted = expected_responses(cap)
    assert len(replay.responses) == len(wanted)
    for (req, response), want in zip(replay.responses, wanted):
        assert req is want["req"]
        assert_response(response, want)
    readies = [r.ready for _, r in replay.responses if r.ready is not None]
    assert proto.txn_id == (readies[-1].txn_id if readies else note_ready(ready.note)["txn"])
    # a pending (unsupported) step leaves the rest of the server stream to the parsers
    assert bool(replay.pending) == bool(replay.leftover) == (number in ("10", "11", "13", "17"))


# ---------------------------------------------------------------- b. decoded values

def _rows(replay, step):
    return [r.rows for r in replay.responses[step][1].results]


def test_replay_04_select_literals(captures):
    rows = {}
    for policy, kwargs in (("default", {}), ("raw", {"raw_text": True}),
                           ("no_markers", {"null_markers": ()})):
        replay = Replay(captures["04"], "seed3", **kwargs)
        rows[policy] = [_rows(replay, i) for i in range(3)]
        assert [r.tag for _, resp in replay.responses for r in resp.results] == ["SELECT 1"] * 3
    assert rows["default"] == [[[(1,)]], [[(42, "hello", True, Decimal("3.25"))]], [[(None,)]]]
    assert rows["raw"] == [[[("1",)]], [[("42", "hello", "true", "3.25")]], [[("NULL",)]]]
    assert rows["no_markers"] == [[[(1,)]], [[(42, "hello", True, Decimal("3.25"))]], [[("NULL",)]]]


ROWS_05 = [
    (1, 9007199254740993, "plain ascii", 'it\'s a "quoted" back\\slash word', True,
     Decimal("12345.678"), Decimal("3.25"), "2024-02-29", "2024-02-29 13:14:15",
     "0191e7c2-8d3b-7a10-9c4e-1234567890ab"),
    (2, -42, "ünïcødé € 日本 😀", None, False, Decimal("-0.5"), Decimal("6.02e23"), "1999-12-31",
     "2000-01-01 00:00:00.5", "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"),
    (3,) + (None,) * 9,
]


def test_replay_05_typed_table(captures):
    replay = Replay(captures["05"], "seed4")
    tags = [r.tag for _, resp in replay.responses for r in resp.results]
    assert tags == ["SELECT 1", "INSERT 1", "INSERT 1", "INSERT 1", "SELECT 3", "SELECT 1", "COMMIT"]
    create, drop = replay.responses[0][1].results[0], replay.responses[5][1].results[0]
    for catalog in (create, drop):
        [row] = catalog.rows
        assert len(row) == 25 and catalog.rowcount == 1
        kinds = [col.type_oid for col in catalog.description.columns]
        assert [type(v) for v, k in zip(row, kinds) if k == 16] == [bool] * 6
    assert create.rows[0][1:2] == ("table",) and drop.rows[0][3] == "dropped"
    for step in (1, 2, 3):
        [result] = replay.responses[step][1].results
        assert [col.name for col in result.description.columns] == \
            ["accepted_rows", "inserted_rows", "rejected_rows"]
        assert (result.rows, result.rowcount) == ([(1, 1, 0)], 1)
    [select] = replay.responses[4][1].results
    assert [col.name for col in select.description.columns] == \
        ["i", "b", "v", "t", "f", "n", "d", "dt", "ts", "u"]
    assert [col.type_oid for col in select.description.columns] == \
        [20, 20, 25, 25, 16, 1700, 1700, 25, 25, 25]
    assert select.rows == ROWS_05 and select.rowcount == 3
    assert replay.proto.txn_id == 604

    raw = Replay(captures["05"], "seed5", raw_text=True).responses[4][1].results[0].rows
    assert raw[1][3] == "" and raw[2] == ("3", "<NULL>", "", "<NULL>", "<NULL>", "<NULL>",
                                          "<NULL>", "<NULL>", "<NULL>", "<NULL>")
    assert raw[0][4:7] == ("true", "12345.678", "3.25")
    kept = Replay(captures["05"], "seed6", null_markers=()).responses[4][1].results[0].rows
    assert kept[1][3] == "" and kept[0] == ROWS_05[0] and kept[1][5] == Decimal("-0.5")
    # '<NULL>' is not an int, bool or decimal: without markers it stays text
    assert kept[2] == (3, "<NULL>", "", "<NULL>", "<NULL>", "<NULL>", "<NULL>", "<NULL>",
                       "<NULL>", "<NULL>")


def test_replay_06_zero_rows(captures):
    replay = Replay(captures["06"], "seed7")
    for _, response in replay.responses:
        [result] = response.results
        assert (result.description, result.rows, result.rowcount, result.tag) == \
            (None, [], 0, "SELECT 0")


def test_replay_07_transactions(captures):
    replay = Replay(captures["07"], "seed8")
    steps = [(req.msg_type, [r.tag for r in resp.results], resp.ready.txn_id)
             for req, resp in replay.responses]
    assert steps == [
        (c.QUERY, ["INSERT 1"], 616), (c.TXN_ROLLBACK, ["ROLLBACK"], 617),
        (c.QUERY, ["INSERT 1"], 617), (c.TXN_COMMIT, ["COMMIT"], 618),
        (c.QUERY, ["INSERT 1"], 618), (c.QUERY, ["COMMIT"], 619),
        (c.QUERY, ["INSERT 1"], 619), (c.QUERY, ["ROLLBACK"], 620),
        (c.QUERY, ["SELECT 2"], 620)]
    assert replay.responses[-1][1].results[0].rows == \
        [(2, "kept by TXN_COMMIT"), (3, "kept by SQL COMMIT")]
    assert replay.proto.txn_id == 620


def test_replay_08_errors(captures):
    replay = Replay(captures["08"], "seed9")
    expected = [(ProgrammingError, "SBSQL.PARSER.STATEMENT_FAMILY_UNKNOWN"),
                (ProgrammingError, "SBSQL.NAME_RESOLUTION.NOT_FOUND_OR_NOT_VISIBLE"),
                (IntegrityError, "SB-BULK-CONSTRAINT-UNIQUE-PERSISTED-CONFLICT")]
    for (_, response), (cls, code) in zip(replay.responses, expected):
        err = response.error
        assert type(err) is cls and (err.sqlstate, err.diag_code) == ("42000", code)
        assert err.message == err.fields["M"] and response.results == []
        assert (response.ready.reason, response.ready.txn_id) == (c.READY_COMMAND_COMPLETE, 625)
    last = replay.responses[3][1]
    assert last.error is None and last.results[0].rows == [(1, "one")]


def test_replay_09_multi_statement(captures):
    replay = Replay(captures["09"], "seed10")
    [(_, response)] = replay.responses
    assert [(r.rows, r.rowcount, r.tag) for r in response.results] == \
        [([(1,)], 1, "SELECT 1"), ([(2,)], 1, "SELECT 1")]
    assert [[(col.name, col.type_oid) for col in r.description.columns]
            for r in response.results] == [[("column1", 20)]] * 2


@pytest.mark.parametrize("chunking", ["seed11", "seed12"])
def test_replay_12_many_rows(captures, chunking):
    replay = Replay(captures["12"], chunking)
    [(_, response)] = replay.responses
    [result] = response.results
    assert result.rows == [(i, f"row-{i:04d}") for i in range(1, 2001)]
    assert (result.rowcount, result.tag) == (2000, "SELECT 2000")


def test_replay_13_null_forms(captures):
    out = {}
    for policy, kwargs in (("default", {}), ("raw", {"raw_text": True}),
                           ("no_markers", {"null_markers": ()})):
        replay = Replay(captures["13"], "seed13", **kwargs)
        out[policy] = [resp.results[0].rows for _, resp in replay.responses[5:]]
        assert len(replay.responses) == 10
    assert out["default"] == [[(1, None), (2, None), (3, None), (4, None), (5, None)],
                              [(1, None), (4, None), (5, None)],
                              [(None, None, None, None)], [(None,)], [(None, None, None, None)]]
    assert out["raw"] == [[("1", "<NULL>"), ("2", ""), ("3", "NULL"), ("4", "<NULL>"), ("5", None)],
                          [("1", "<NULL>"), ("4", "<NULL>"), ("5", None)],
                          [("NULL", "", "NULL", "<NULL>")], [("",)], [("", "", "NULL", "<NULL>")]]
    assert out["no_markers"] == [[(1, "<NULL>"), (2, ""), (3, "NULL"), (4, "<NULL>"), (5, None)],
                                 [(1, "<NULL>"), (4, "<NULL>"), (5, None)],
                                 [("NULL", "", "NULL", "<NULL>")], [("",)],
                                 [("", "", "NULL", "<NULL>")]]


# ---------------------------------------------------------------- b. parsers-only tails

def _leftover(replay, cap):
    """Parse the frames the protocol did not read, with the same checks as part a."""
    checker = ServerFrameChecker(cap)
    recorded = cap.s2c[-len(replay.leftover):]
    checker.seq = recorded[0].sequence
    checker.session = replay.proto.session_id
    return [(f.msg_type, checker.check(rec, f.msg_type, f.sequence, bytes(f.attachment_id),
                                       f.txn_id, bytes(f.payload)))
            for f, rec in zip(replay.leftover, recorded)]


def test_replay_10_extended_parsers_only(captures):
    cap = captures["10"]
    replay = Replay(cap, "seed14")
    assert replay.responses == [] and [f.msg_type for f in replay.pending][:5] == \
        [c.PARSE, c.DESCRIBE, c.BIND, c.EXECUTE, c.SYNC]
    parsed = _leftover(replay, cap)
    assert [t for t, _ in parsed] == [
        c.PARSE_COMPLETE, c.PARAMETER_DESCRIPTION, c.BIND_COMPLETE, c.ROW_DESCRIPTION, c.DATA_ROW,
        c.COMMAND_COMPLETE, c.READY, c.BIND_COMPLETE, c.ROW_DESCRIPTION, c.DATA_ROW,
        c.COMMAND_COMPLETE, c.READY, c.CLOSE_COMPLETE, c.READY]
    by_type = {}
    for t, value in parsed:
        by_type.setdefault(t, []).append(value)
    assert by_type[c.PARAMETER_DESCRIPTION] == [[25]]
    assert [[(col.name, col.type_oid) for col in rd.columns] for rd in by_type[c.ROW_DESCRIPTION]] \
        == [[("id", 20), ("name", 25)]] * 2
    decoder = rowcodec.TextRowDecoder([20, 25])
    rows = [decoder.decode_row(f.payload) for f in replay.leftover if f.msg_type == c.DATA_ROW]
    assert rows == [(1, "alpha"), (2, "beta")]
    assert [r.reason for r in by_type[c.READY]] == [c.READY_COMMAND_COMPLETE] * 3


def test_replay_11_ping_options_and_reset(captures):
    cap = captures["11"]
    replay = Replay(cap, "seed15")
    (ping, pong), (opt, status) = replay.responses
    assert ping.msg_type == c.PING and pong.pong == bytes(range(1, 9)) and pong.ready is None
    assert opt.msg_type == c.SET_OPTION and status.ready.reason == c.READY_STATE_CHANGE
    assert status.parameters == {"session.option": "updated", "copy_window_bytes": "65536"}
    # RESET_SESSION has no ClientProtocol method yet: its replies go through the parsers.
    assert [f.msg_type for f in replay.pending] == [c.RESET_SESSION, c.RESET_SESSION, c.TERMINATE]
    parsed = _leftover(replay, cap)
    assert [t for t, _ in parsed] == [c.ERROR, c.READY, c.PARAMETER_STATUS, c.READY]
    err = error_from_fields(parsed[0][1])
    assert isinstance(err, TransactionRollbackError) and err.sqlstate == "25001"
    assert err.diag_code == "NATIVE_WIRE.RESET_REFUSED_OPEN_TRANSACTION"   # M holds the code here
    assert err.message.startswith("reset_session requires rollback_open_transaction")
    assert (parsed[1][1].reason, parsed[1][1].txn_id) == (c.READY_ERROR_RECOVERED, 634)
    assert parsed[2][1] == {"session.reset": "complete", "protocol.selected_version": "1.1"}
    assert (parsed[3][1].reason, parsed[3][1].txn_id) == (c.READY_RESET_COMPLETE, 635)


def test_replay_13_bind_null_parsers_only(captures):
    cap = captures["13"]
    replay = Replay(cap, "seed16")
    assert [f.msg_type for f in replay.pending] == [c.PARSE, c.BIND, c.EXECUTE, c.SYNC, c.TERMINATE]
    parsed = _leftover(replay, cap)
    assert [t for t, _ in parsed] == [c.PARSE_COMPLETE, c.BIND_COMPLETE, c.ROW_DESCRIPTION,
                                      c.DATA_ROW, c.COMMAND_COMPLETE, c.READY]
    assert parsed[3][1] == ("NULL",)   # raw: a NULL bound by the client comes back as 'NULL'
    payload = next(f.payload for f in replay.leftover if f.msg_type == c.DATA_ROW)
    assert rowcodec.TextRowDecoder([25]).decode_row(payload) == (None,)


# ---------------------------------------------------------------- c. client frames


def _steps(replay):
    return [(req.msg_type, [(r.tag, r.rowcount, len(r.rows)) for r in resp.results],
             resp.error.sqlstate if resp.error else None, resp.ready.reason if resp.ready else None)
            for req, resp in replay.responses]


@pytest.mark.parametrize("chunking", ["whole", "seed4", "bytes"])
def test_replay_17_savepoints_and_reset(captures, chunking):
    replay = Replay(captures["17"], chunking)
    ok, failed = c.READY_COMMAND_COMPLETE, c.READY_ERROR_RECOVERED
    assert _steps(replay) == [
        (c.QUERY, [("INSERT 1", 1, 1)], None, ok),
        (c.TXN_SAVEPOINT, [("SAVEPOINT", 0, 0)], None, ok),
        (c.QUERY, [("INSERT 1", 1, 1)], None, ok),
        (c.TXN_ROLLBACK_TO, [("ROLLBACK", 0, 0)], None, ok),
        (c.QUERY, [("SELECT 2", 2, 2)], None, ok),     # ROLLBACK TO undid nothing (12.A.8)
        (c.TXN_SAVEPOINT, [("SAVEPOINT", 0, 0)], None, ok),
        (c.QUERY, [("INSERT 1", 1, 1)], None, ok),
        (c.TXN_RELEASE, [("RELEASE", 0, 0)], None, ok),
        (c.TXN_SAVEPOINT, [], "08P01", failed),        # "bad name": not an identifier
        (c.TXN_ROLLBACK_TO, [], "42000", ok),          # unknown savepoint: READY(2)
        (c.QUERY, [("SELECT 3", 3, 3)], None, ok),
        (c.RESET_SESSION, [], None, c.READY_RESET_COMPLETE),
        (c.QUERY, [("SELECT 0", 0, 0)], None, ok),     # the reset rolled the rows back
    ]
    reset = replay.responses[11][1]
    assert reset.parameters == {"session.reset": "complete", "protocol.selected_version": "1.1"}
    assert reset.ready.txn_id == replay.responses[10][1].ready.txn_id + 1
    assert [f.msg_type for f in replay.pending] == [c.RESET_SESSION, c.TERMINATE]
    assert replay.responses[8][1].error.diag_code == "SBWP.SAVEPOINT.INVALID_PAYLOAD"


@pytest.mark.parametrize("chunking", ["whole", "eager", "seed5", "bytes"])
def test_replay_18_cancel_and_subscribe(captures, chunking):
    replay = Replay(captures["18"], chunking)
    assert [(t, tags, err, ready) for t, tags, err, ready in _steps(replay)] == [
        (c.QUERY, [("SELECT 1", 1, 1)], None, 2),
        (c.CANCEL, [], None, c.READY_CANCEL_OUTCOME),
        (c.QUERY, [("SELECT 1", 1, 1)], None, 2),
        (c.CANCEL, [], None, c.READY_CANCEL_OUTCOME),
        (c.QUERY, [("SELECT 1", 1, 1)], None, 2),
        (c.SUBSCRIBE, [("SUBSCRIBE", 0, 0)], None, 2),
        (c.UNSUBSCRIBE, [("UNSUBSCRIBE", 0, 0)], None, 2),
    ]
    assert [r.rows for _, resp in replay.responses if resp.results for r in resp.results][:3] == \
        [[(1,)], [(2,)], [(3,)]]
    untargeted, targeted = replay.proto.cancel_outcomes
    assert untargeted.cancel_id == targeted.cancel_id == bytes(range(0xC0, 0xD0))
    assert (untargeted.outcome_class, untargeted.sqlstate, untargeted.diagnostic_code) == \
        ("cancel_target_not_found", "57014", "EXECUTION.CANCEL_TARGET_NOT_FOUND")
    # nothing ran, yet a targeted CANCEL reports a cancelled statement (12.D): never trusted
    assert (targeted.outcome_class, targeted.diagnostic_code) == \
        ("user_statement_cancelled", "EXECUTION.QUERY_CANCELLED")
    assert replay.responses[5][1].notifications == [("session", "subscription_active", 0)]


def _server_segments(cap):
    """The server's bytes after each client frame (by the index of that frame)."""
    out, sent = {}, 0
    for f in cap.frames:
        if f.dir == "c2s":
            sent += 1
        else:
            out[sent] = out.get(sent, b"") + f.data
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cancel_reply_after_a_request_is_read_with_the_next_one(captures, seed):
    """A CANCEL sent while a request runs is answered after that request's READY (7.2);
    ClientProtocol skips that reply wherever it lands: the running request ends at its
    own READY, the next request reads past CANCEL_ACK, CANCELLED and READY(6)."""
    cap = captures["18"]
    segments = _server_segments(cap)
    proto = ClientProtocol(user=cap.user, password=cap.password, database="default",
                           features=OFFERED, allow_cleartext=True)
    proto.startup_frame()
    proto.feed(segments[1])
    proto.advance_handshake()
    proto.feed(segments[2])
    proto.advance_handshake()
    assert proto.handshake_done
    # SELECT 1 with a CANCEL sent during it, then SELECT 2: the server's bytes for all of
    # it arrive in random chunks (the CANCEL reply is what followed the capture's CANCEL).
    stream = segments[3] + segments[4] + segments[5]
    rng = random.Random(seed)
    proto.query_frame("SELECT 1")
    proto.cancel_frame(bytes(range(0xC0, 0xD0)))
    pos, got = 0, []
    while len(got) < 2:
        response = proto.read_response()
        if response is None:
            step = rng.randint(1, 90)
            proto.feed(stream[pos:pos + step])
            pos += step
            continue
        got.append(response)
        if len(got) == 1:
            proto.query_frame("SELECT 2")
    assert [r.results[0].rows for r in got] == [[(1,)], [(2,)]]
    assert [r.ready.reason for r in got] == [2, 2]
    assert [o.outcome_class for o in proto.cancel_outcomes] == ["cancel_target_not_found"]
    assert pos >= len(stream) and proto.reader.buffered == 0
# ---------------------------------------------------------------- d. COPY (captures 14, 15)

# Kept apart from NUMBERS: COPY steps have their own driver (ClientProtocol's COPY frames
