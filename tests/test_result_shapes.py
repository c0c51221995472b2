"""Result shapes as a PEP 249 user sees them (issue 8 part 1), against both dev-server
profiles over TLS (``conn``) and plaintext (``plain_conn``), under the implementation in use.

``sbsql`` answers as today's server does (REFERENCE 4.2, 12.A.3, 12.B.3): no ROW_DESCRIPTION
for 0 rows, a catalog row for DDL, a status row for an INSERT with a column list. ``full``
answers with the spec's shapes. The driver shows the same PEP 249 results for both.
"""
from __future__ import annotations

import uuid

import pytest

import scratchbird
from scratchbird._reports import STATUS_COLUMNS, match_report, summarise_report
from scratchbird._statements import leading_keyword, split_statements


@pytest.fixture(params=["tls", "plain"])
def any_conn(request, devserver, plain_devserver):
    server = devserver if request.param == "tls" else plain_devserver
    connection = scratchbird.connect(server.dsn)
    connection.profile_name, connection.server_dsn = server.profile_name, server.dsn
    yield connection
    connection.close()


def _name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


def _no_result_set(cur) -> None:
    assert cur.description is None and cur.rownumber is None
    for fetch in (cur.fetchone, cur.fetchall, cur.fetchmany):
        with pytest.raises(scratchbird.ProgrammingError, match="no results to fetch"):
            fetch()


def test_every_statement_shape(any_conn):
    sbsql = any_conn.profile_name == "sbsql"
    cur = any_conn.cursor()
    t = _name("shapes")
    cur.execute(f"CREATE TABLE {t} (id INTEGER, name VARCHAR)")
    _no_result_set(cur)
    assert cur.rowcount == -1
    assert cur.statusmessage == ("SELECT 1" if sbsql else "CREATE TABLE")
    if sbsql:
        assert cur.server_report["object_kind"] == "table" and cur.server_report["state"] == "active"
    else:
        assert cur.server_report is None

    cur.execute(f"INSERT INTO {t} (id, name) VALUES (1, 'a'), (2, 'b')")
    _no_result_set(cur)
    assert cur.rowcount == 2
    assert cur.statusmessage == ("INSERT 2" if sbsql else "INSERT 0 2")
    assert cur.server_report == ({"accepted_rows": 2, "inserted_rows": 2, "rejected_rows": 0}
                                 if sbsql else None)

    cur.execute(f"INSERT INTO {t} VALUES (3, 'c')")        # no column list: a tag only
    _no_result_set(cur)
    assert cur.rowcount == 1 and cur.server_report is None
    assert cur.statusmessage == ("INSERT" if sbsql else "INSERT 0 1")

    cur.execute(f"UPDATE {t} SET name = 'z' WHERE id >= 2")
    _no_result_set(cur)
    assert cur.rowcount == 2 and cur.statusmessage == ("UPDATE" if sbsql else "UPDATE 2")
    cur.execute(f"DELETE FROM {t} WHERE id = 3")
    _no_result_set(cur)
    assert cur.rowcount == 1 and cur.statusmessage == ("DELETE" if sbsql else "DELETE 1")
    cur.execute(f"UPDATE {t} SET name = 'q' WHERE id = 99")
    assert cur.rowcount == 0

    cur.execute(f"SELECT id, name FROM {t} WHERE id > 50")  # 0 rows
    assert cur.rowcount == 0 and cur.statusmessage == "SELECT 0"
    assert cur.fetchone() is None and cur.fetchmany() == [] and cur.fetchall() == []
    assert list(cur) == [] and cur.rownumber == 0
    if sbsql:   # no ROW_DESCRIPTION and no earlier identical statement (REFERENCE 4.2)
        assert cur.description is None
    else:       # the spec describes a 0-row result
        assert [d[0] for d in cur.description] == ["id", "name"]

    cur.execute(f"SELECT id, name FROM {t} ORDER BY id")
    assert [d[0] for d in cur.description] == ["id", "name"]
    assert cur.fetchall() == [(1, "a"), (2, "z")] and cur.rowcount == 2

    cur.execute(f"DROP TABLE {t}")
    _no_result_set(cur)
    assert cur.rowcount == -1
    assert (cur.server_report or {}).get("state") == ("dropped" if sbsql else None)
    any_conn.rollback()


def test_zero_rows_remember_the_description(any_conn):
    """A repeated statement names its columns even when it matches nothing (sbsql sends no
    ROW_DESCRIPTION then): the connection keeps the last description per SQL text."""
    cur = any_conn.cursor()
    query = "SELECT i AS n, i * 2 AS twice FROM range(5) t(i) WHERE i > :floor"
    cur.execute(query, {"floor": 10})
    if any_conn.profile_name == "sbsql":
        assert cur.description is None
    cur.execute(query, {"floor": 3})
    assert [d[0] for d in cur.description] == ["n", "twice"] and cur.fetchall() == [(4, 8)]
    cur.execute(query, {"floor": 10})
    assert [d[0] for d in cur.description] == ["n", "twice"]
    assert cur.fetchall() == [] and cur.rowcount == 0
    other = scratchbird.connect(any_conn.server_dsn)
    try:    # the memory is per connection
        c2 = other.cursor()
        c2.execute(query, {"floor": 10})
        assert c2.fetchall() == []
        if any_conn.profile_name == "sbsql":
            assert c2.description is None
    finally:
        other.close()


def test_multi_statement_applies_the_rule_per_statement(any_conn):
    sbsql = any_conn.profile_name == "sbsql"
    t = _name("multi")
    cur = any_conn.cursor()
    cur.execute(f"CREATE TABLE {t} (a INTEGER, b VARCHAR); "
                f"INSERT INTO {t} (a, b) VALUES (1, 'x;y'); "   # ';' inside a literal
                f"SELECT a, b FROM {t} WHERE a > 5; "
                f"SELECT a, b FROM {t}; -- a comment; with a semicolon\n"
                f"UPDATE {t} SET b = 'w'")
    _no_result_set(cur)                              # CREATE
    assert cur.server_report is not None if sbsql else cur.server_report is None
    assert cur.nextset()
    _no_result_set(cur)                              # INSERT
    assert cur.rowcount == 1
    assert cur.server_report == ({"accepted_rows": 1, "inserted_rows": 1, "rejected_rows": 0}
                                 if sbsql else None)
    assert cur.nextset()
    assert cur.fetchall() == [] and cur.rowcount == 0      # 0-row SELECT
    assert cur.nextset()
    assert [d[0] for d in cur.description] == ["a", "b"]
    assert cur.fetchall() == [(1, "x;y")]
    assert cur.nextset()
    _no_result_set(cur)
    assert cur.rowcount == 1
    assert cur.nextset() is None
    any_conn.rollback()


def test_executemany_rowcount_is_the_total(any_conn):
    t = _name("many")
    cur = any_conn.cursor()
    cur.execute(f"CREATE TABLE {t} (a INTEGER, b VARCHAR)")
    cur.executemany(f"INSERT INTO {t} (a, b) VALUES (:a, :b)",
                    [{"a": i, "b": str(i)} for i in range(7)])
    assert cur.rowcount == 7
    if any_conn.profile_name == "sbsql":   # the status rows, counts summed
        assert cur.server_report == {"accepted_rows": 7, "inserted_rows": 7, "rejected_rows": 0}
    cur.executemany(f"UPDATE {t} SET b = 'u' WHERE a < :n", [{"n": 2}, {"n": 4}])
    assert cur.rowcount == 6
    cur.execute(f"SELECT count(*) FROM {t}")
    assert cur.fetchone() == (7,)
    any_conn.rollback()


def test_report_rows_pass_through(devserver):
    t = _name("raw")
    with scratchbird.connect(devserver.dsn + "&report_rows=true") as conn:
        assert conn.params.report_rows is True
        cur = conn.cursor()
        cur.execute(f"CREATE TABLE {t} (a INTEGER)")
        cur.execute(f"INSERT INTO {t} (a) VALUES (1), (2)")
        assert cur.rowcount == 2 and cur.server_report is None
        if devserver.profile_name == "sbsql":
            assert [d[0] for d in cur.description] == list(STATUS_COLUMNS)
            assert cur.fetchall() == [(2, 2, 0)]
        quiet = conn.cursor(report_rows=False)    # the cursor's choice wins
        quiet.execute(f"INSERT INTO {t} (a) VALUES (3)")
        assert quiet.description is None and quiet.rowcount == 1
        conn.rollback()


def test_streaming_cursor_shapes(conn):
    t = _name("stream")
    cur = conn.cursor(stream=True)
    cur.itersize = 1
    cur.execute(f"CREATE TABLE {t} (a INTEGER)")
    _no_result_set(cur)
    cur.execute(f"INSERT INTO {t} (a) SELECT i FROM range(5) t(i)")
    assert cur.description is None
    cur.execute(f"INSERT INTO {t} (a) VALUES (7), (8)")
    assert cur.description is None and cur.rowcount == 2
    cur.execute(f"SELECT a FROM {t} WHERE a > 100")
    assert cur.fetchall() == []
    cur.execute(f"SELECT a FROM {t} ORDER BY a")
    assert [r[0] for r in cur] == [0, 1, 2, 3, 4, 7, 8]
    conn.rollback()


def test_callproc_is_not_supported(conn):
    with pytest.raises(scratchbird.NotSupportedError, match="callproc"):
        conn.cursor().callproc("anything", (1,))


def test_fetch_before_execute_raises(conn):
    with pytest.raises(scratchbird.ProgrammingError, match="no results to fetch"):
        conn.cursor().fetchall()


# ---------------------------------------------------------------- the pieces, without a server

@pytest.mark.parametrize("sql,texts", [
    ("SELECT 1", ["SELECT 1"]),
    ("SELECT 1; SELECT 2;", ["SELECT 1", "SELECT 2"]),
    ("SELECT 'a;b'; SELECT \"x;y\"", ["SELECT 'a;b'", 'SELECT "x;y"']),
    ("SELECT E'\\';' ; SELECT 2", ["SELECT E'\\';'", "SELECT 2"]),
    ("SELECT $$a;b$$; SELECT $q$;$q$", ["SELECT $$a;b$$", "SELECT $q$;$q$"]),
    ("SELECT 1 -- c; d\n; SELECT /* ; /* ; */ ; */ 2", ["SELECT 1 -- c; d", "SELECT /* ; /* ; */ ; */ 2"]),
    ("INSERT INTO t VALUES (1)\n;\nINSERT INTO t VALUES (2)", ["INSERT INTO t VALUES (1)", "INSERT INTO t VALUES (2)"]),
    (" ; ;; ", [""]),
    ("", [""]),
    ("SELECT x$1 ; SELECT 'unterminated;", ["SELECT x$1", "SELECT 'unterminated;"]),
])
def test_split_statements(sql, texts):
    assert [s.text for s in split_statements(sql)] == texts


def test_leading_keyword():
    assert leading_keyword("  -- hi\n /* x */ (select 1)") == "SELECT"
    assert leading_keyword("insert into t values (1)") == "INSERT"
    assert leading_keyword("") == "" and leading_keyword("-- only") == ""


def test_reports_need_keyword_columns_and_tag_together():
    assert match_report("INSERT", STATUS_COLUMNS, "INSERT 3").name == "insert_status"
    assert match_report("COPY", STATUS_COLUMNS, "COPY 3").name == "copy_status"
    # a user's SELECT with the same column names is a result set, whatever its values
    assert match_report("SELECT", STATUS_COLUMNS, "SELECT 1") is None
    assert match_report("INSERT", STATUS_COLUMNS, "SELECT 1") is None        # wrong tag
    assert match_report("INSERT", STATUS_COLUMNS[:2], "INSERT 3") is None    # wrong columns
    assert match_report("INSERT", STATUS_COLUMNS, None) is None
    assert match_report("SET", ("session_uuid", "scope"), "SELECT 1").name == "session_characteristics"


def test_copy_report_rows_are_summed():
    shape = match_report("COPY", STATUS_COLUMNS, "COPY 3")
    report, rowcount = summarise_report(shape, STATUS_COLUMNS, [(2, 2, 0), ("1", "1", "0")])
    assert report == {"accepted_rows": 3, "inserted_rows": 3, "rejected_rows": 0} and rowcount == 3
