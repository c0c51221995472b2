"""Statement shapes of the recorded conversations (tests/data/captures; helpers in
tests/capture_replay.py) as a PEP 249 user sees them: a Cursor over a connection that
answers from a replayed capture (REFERENCE 12.D).
"""
from __future__ import annotations

import pytest

from tests.capture_replay import (  # noqa: F401  (captures: the fixture)
    captures, _sql, Replay,
)
from scratchbird import _constants as c
from scratchbird.errors import ProgrammingError


# ---------------------------------------------------------------- statement shapes through a Cursor

class RecordedConnection:
    """What a Cursor needs of a Connection, answered from a replayed capture: each
    ``_execute_sql`` must send the recorded SQL, and gets the Response the real server's
    frames gave ClientProtocol (no transport, no dev server)."""

    def __init__(self, replay, report_rows=False):
        from scratchbird._dsn import make_params
        from scratchbird._shapes import DescriptionMemory
        from scratchbird.adapters import AdaptersMap, adapters
        self.params = make_params(report_rows=report_rows)
        self.adapters = AdaptersMap(adapters)
        self._descriptions = DescriptionMemory()
        self.statement_cache = None   # statements without parameters never use it
        self.closed = False
        self._answers = list(replay.responses)

    def _execute_sql(self, sql, row_limit=None, *, raw_text=None, adapters=None, **_request):
        request, response = self._answers.pop(0)
        assert sql == _sql(request.payload)
        return response


SHAPES_19 = [   # (description names, rowcount, statusmessage, server_report keys / values)
    (None, -1, "SELECT 1", "catalog"),
    (None, 1, "INSERT 1", {"accepted_rows": 1, "inserted_rows": 1, "rejected_rows": 0}),
    (None, 2, "INSERT 2", {"accepted_rows": 2, "inserted_rows": 2, "rejected_rows": 0}),
    (None, 1, "INSERT", None),
    (None, 1, "UPDATE", None),
    (None, 1, "DELETE", None),
    ("empty", 0, "SELECT 0", None),
    (["id", "name", "qty"], 3, "SELECT 3", None),
    (None, -1, "SELECT 1", "catalog"),
]


def test_replay_19_statement_shapes_through_a_cursor(captures):
    """REFERENCE 12.D: what a PEP 249 user sees for each of the real server's shapes."""
    from scratchbird._reports import CREATE_COLUMNS, DROP_COLUMNS
    from scratchbird.cursor import Cursor
    cap = captures["19"]
    conn = RecordedConnection(Replay(cap, "seed13"))
    cur = Cursor(conn)
    queries = [_sql(f.payload) for f in cap.c2s if f.msg_type == c.QUERY]
    assert len(queries) == len(SHAPES_19)
    for sql, (names, rowcount, tag, report) in zip(queries, SHAPES_19):
        cur.execute(sql)
        assert (cur.rowcount, cur.statusmessage) == (rowcount, tag), sql
        if names is None:           # no result set: description None, fetch raises
            assert cur.description is None
            with pytest.raises(ProgrammingError, match="no results to fetch"):
                cur.fetchall()
        elif names == "empty":      # a SELECT that matched nothing: an empty result set
            assert cur.description is None   # no RD, and no earlier identical statement
            assert cur.fetchone() is None and cur.fetchall() == [] and list(cur) == []
        else:
            assert [d[0] for d in cur.description] == names
            assert cur.fetchall() == [(1, "uno", 10), (3, "three", 30), (4, "four", 40)]
        if report == "catalog":
            columns = CREATE_COLUMNS if sql.startswith("CREATE") else DROP_COLUMNS
            assert list(cur.server_report) == list(columns)
            assert cur.server_report["state"] == ("active" if sql.startswith("CREATE") else "dropped")
        else:
            assert cur.server_report == report
    # report_rows=True: today's pass-through, the report rows are results again
    raw = Cursor(RecordedConnection(Replay(cap, "seed14"), report_rows=True))
    raw.execute(queries[0])
    assert len(raw.description) == 25 and raw.rowcount == 1 and len(raw.fetchall()) == 1
    raw.execute(queries[1])
    assert [d[0] for d in raw.description] == ["accepted_rows", "inserted_rows", "rejected_rows"]
    assert raw.fetchall() == [(1, 1, 0)] and raw.server_report is None


def test_replay_05_reports_and_09_multi_statement_through_a_cursor(captures):
    from scratchbird.cursor import Cursor
    cur = Cursor(RecordedConnection(Replay(captures["05"], "seed15")))
    seen = []
    for f in captures["05"].c2s:
        if f.msg_type == c.QUERY:
            cur.execute(_sql(f.payload))
            seen.append((cur.description is not None, cur.rowcount))
    # CREATE, 3 INSERTs (status rows), SELECT, DROP, COMMIT
    assert seen == [(False, -1), (False, 1), (False, 1), (False, 1), (True, 3), (False, -1),
                    (False, -1)]
    cur = Cursor(RecordedConnection(Replay(captures["09"], "seed16")))
    cur.execute(_sql(next(f for f in captures["09"].c2s if f.msg_type == c.QUERY).payload))
    assert cur.fetchall() == [(1,)] and cur.nextset() and cur.fetchall() == [(2,)]
    assert cur.nextset() is None
# ---------------------------------------------------------------- d. lifecycle (17, 18)
