"""The short path of a repeated statement without parameters (issue 10 part 4, T3): what it
skips must not change what the user sees. Against both dev-server profiles, under the
implementation in use.

- ``execute(sql)`` with no parameters and ``prepare`` unset goes straight to a QUERY: the
  statement cache is not consulted (it would not prepare it anyway), ``prepare=True`` still is;
- a ROW_DESCRIPTION remembers whether its column names are any report's
  (``RowDescription.report_free``): names that are a report's are still matched with the
  statement's keyword and tag every time, so a SELECT with those names stays a result set
  and the INSERT's status row stays a report.
"""
from __future__ import annotations

import uuid

from scratchbird._reports import CREATE_COLUMNS, STATUS_COLUMNS, names_never_report


def test_names_never_report():
    assert names_never_report(["n"]) and names_never_report([])
    assert not names_never_report(STATUS_COLUMNS) and not names_never_report(list(CREATE_COLUMNS))
    assert names_never_report(STATUS_COLUMNS[:2])        # a prefix is not the shape


def test_parameterless_execute_leaves_the_statement_cache_alone(conn):
    cur = conn.cursor()
    before = conn.statement_cache.stats()
    for _ in range(8):                       # more than prepare_threshold uses
        cur.execute("SELECT 1")
        assert cur.fetchall() == [(1,)] and cur.rowcount == 1
    assert conn.execute("SELECT 1").fetchall() == [(1,)]
    assert conn.statement_cache.stats() == before
    cur.execute("SELECT 2", prepare=True)    # asked for: the cache prepares it
    assert cur.fetchall() == [(2,)]
    assert conn.statement_cache.stats()["prepares"] == before["prepares"] + 1


def test_report_names_are_matched_every_time(conn, devserver):
    table = f"fast_{uuid.uuid4().hex[:10]}"
    cur = conn.cursor()
    select = "SELECT 1 AS accepted_rows, 2 AS inserted_rows, 3 AS rejected_rows"
    for _ in range(3):                       # the same description each time (kept parsed)
        cur.execute(select)
        assert [d[0] for d in cur.description] == list(STATUS_COLUMNS)
        assert cur.fetchall() == [(1, 2, 3)] and cur.server_report is None
    cur.execute(f"CREATE TABLE {table} (id INTEGER, name VARCHAR)")
    assert cur.description is None
    for i in range(3):                       # sbsql: a status row with those names, a report
        cur.execute(f"INSERT INTO {table} (id, name) VALUES ({i}, 'x')")
        assert cur.description is None and cur.rowcount == 1
        if devserver.profile_name == "sbsql":
            assert cur.server_report is not None and cur.server_report["inserted_rows"] in (1, "1")
    cur.execute(select)
    assert cur.fetchall() == [(1, 2, 3)] and cur.rowcount == 1
    cur.execute(f"SELECT count(*) FROM {table}")
    assert cur.fetchall() == [(3,)]
    conn.rollback()


def test_one_statement_and_several_answer_in_order(conn):
    cur = conn.cursor()
    cur.execute("SELECT 1 AS a; SELECT 2 AS b, 3 AS c")
    assert [d[0] for d in cur.description] == ["a"] and cur.fetchall() == [(1,)]
    assert cur.nextset() and [d[0] for d in cur.description] == ["b", "c"]
    assert cur.fetchall() == [(2, 3)] and cur.nextset() is None
    cur.execute("SELECT 4 AS d")
    assert [d[0] for d in cur.description] == ["d"] and cur.fetchall() == [(4,)]
