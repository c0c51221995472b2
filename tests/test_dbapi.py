"""PEP 249 behaviour end to end against the dev server (profile sbsql, TLS)."""
from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal

import pytest

import scratchbird


@pytest.fixture
def table(conn):
    name = f"t_{uuid.uuid4().hex[:10]}"
    conn.execute(f"CREATE TABLE {name} (id INTEGER PRIMARY KEY, name VARCHAR, price DECIMAL(10,2), ok BOOLEAN)")
    conn.commit()
    yield name


def test_module_globals():
    assert scratchbird.apilevel == "2.0"
    assert scratchbird.threadsafety == 1
    assert scratchbird.paramstyle == "named"
    assert scratchbird.IMPL in ("c", "python")


def test_type_objects_and_constructors():
    assert scratchbird.NUMBER == 20 and scratchbird.NUMBER == 1700 and scratchbird.NUMBER == 16
    assert scratchbird.STRING == 25 and scratchbird.STRING != 20
    assert scratchbird.DATETIME == 1114 and scratchbird.BINARY == 17 and scratchbird.ROWID != 25
    assert scratchbird.Date(2024, 1, 2) == dt.date(2024, 1, 2)
    assert scratchbird.Time(1, 2, 3) == dt.time(1, 2, 3)
    assert scratchbird.Timestamp(2024, 1, 2, 3, 4, 5) == dt.datetime(2024, 1, 2, 3, 4, 5)
    assert isinstance(scratchbird.DateFromTicks(0), dt.date)
    assert isinstance(scratchbird.TimeFromTicks(0), dt.time)
    assert isinstance(scratchbird.TimestampFromTicks(0), dt.datetime)
    assert scratchbird.Binary(bytearray(b"ab")) == b"ab"


def test_select_and_description(conn, profile):
    cur = conn.cursor()
    cur.execute("SELECT 42 AS i, 'hello' AS t, TRUE AS flag, 3.25 AS d")
    assert cur.fetchall() == [(42, "hello", True, Decimal("3.25"))]
    names = [d[0] for d in cur.description]
    codes = [d[1] for d in cur.description]
    assert names == ["i", "t", "flag", "d"]
    # sbsql infers int8 from the text '42'; the full profile sends the real INTEGER type
    assert codes == ([20, 25, 16, 1700] if profile == "sbsql" else [23, 25, 16, 1700])
    if profile == "full":
        assert cur.description[3][4:6] == (3, 2)   # DECIMAL(3,2): precision and scale
    assert all(len(d) == 7 for d in cur.description)
    assert cur.description[0][1] == scratchbird.NUMBER and cur.description[1][1] == scratchbird.STRING
    assert cur.rowcount == 1


def test_fetch_variants_and_iteration(conn):
    cur = conn.cursor()
    cur.execute("SELECT i FROM range(10) t(i) ORDER BY i")
    assert cur.fetchone() == (0,)
    cur.arraysize = 3
    assert cur.fetchmany() == [(1,), (2,), (3,)]
    assert cur.fetchmany(2) == [(4,), (5,)]
    assert [r for r in cur] == [(6,), (7,), (8,), (9,)]
    assert cur.fetchone() is None and cur.fetchall() == [] and cur.fetchmany(5) == []


def test_insert_update_delete_rowcount(conn, table):
    cur = conn.cursor()
    cur.execute(f"INSERT INTO {table} (id, name, price, ok) VALUES (1, 'a', 1.50, true), (2, 'b', 2.50, false)")
    assert cur.rowcount == 2
    # sbsql answers an INSERT with a column list with a status row (REFERENCE 12.A.3): it is
    # the server's report, not a result set (the full profile sends none)
    assert cur.description is None
    if conn.info["server"] and "full" not in conn.info["server"]:
        assert cur.server_report == {"accepted_rows": 2, "inserted_rows": 2, "rejected_rows": 0}
    cur.execute(f"UPDATE {table} SET name = 'z' WHERE id = 1")
    assert cur.rowcount == 1 and cur.description is None
    cur.execute(f"DELETE FROM {table} WHERE id IN (1, 2)")
    assert cur.rowcount == 2
    cur.execute(f"SELECT * FROM {table}")
    assert cur.rowcount == 0 and cur.fetchall() == []


def test_lastrowid_rownumber_and_connection_attribute(conn, table):
    """PEP 249 extensions: today's server never reports a last insert id (COMMAND_COMPLETE's
    last_insert_id is always 0, REFERENCE 4.5), so lastrowid stays None rather than 0."""
    cur = conn.cursor()
    assert cur.connection is conn and cur.lastrowid is None and cur.rownumber is None
    cur.execute(f"INSERT INTO {table} (id, name, price, ok) VALUES (7, 'g', 7.00, true)")
    assert cur.lastrowid is None
    cur.execute(f"SELECT id FROM {table} WHERE id = 7")
    assert cur.rownumber == 0
    assert cur.fetchone() == (7,) and cur.rownumber == 1
    conn.rollback()


def test_zero_row_select_is_an_empty_result(conn, table):
    cur = conn.cursor()
    cur.execute(f"SELECT * FROM {table} WHERE id = 999")
    assert cur.rowcount == 0
    assert cur.fetchone() is None and cur.fetchall() == [] and cur.fetchmany(3) == []


def test_ddl_catalog_row_is_a_server_report(conn):
    cur = conn.cursor()
    name = f"ddl_{uuid.uuid4().hex[:8]}"
    cur.execute(f"CREATE TABLE {name} (a INTEGER)")
    assert cur.rowcount == -1 and cur.description is None
    with pytest.raises(scratchbird.ProgrammingError, match="no results to fetch"):
        cur.fetchone()
    raw = conn.cursor(report_rows=True)   # today's pass-through, on request
    raw.execute(f"DROP TABLE {name}")
    if raw.statusmessage == "SELECT 1":   # sbsql: the 25-column catalog row (12.B.3)
        assert len(raw.description) == 25 and raw.description[0][0] == "object_uuid"
        assert raw.rowcount == 1 and len(raw.fetchall()) == 1
    else:                                 # full: the spec's tag, nothing to pass through
        assert raw.statusmessage == "DROP TABLE" and raw.description is None


def test_multi_statement_and_nextset(conn):
    cur = conn.cursor()
    cur.execute("SELECT 1 AS a; SELECT 'x' AS b, 2 AS c")
    assert cur.fetchall() == [(1,)]
    assert cur.nextset() is True
    assert [d[0] for d in cur.description] == ["b", "c"]
    assert cur.fetchall() == [("x", 2)]
    assert cur.nextset() is None


def test_executemany(conn, table):
    cur = conn.cursor()
    cur.executemany(f"INSERT INTO {table} (id, name, price, ok) VALUES (:id, :name, :price, :ok);",
                    [{"id": i, "name": f"n{i}", "price": Decimal(i) / 4, "ok": i % 2 == 0}
                     for i in range(100)])
    assert cur.rowcount == 100
    cur.execute(f"SELECT count(*), sum(price) FROM {table}")
    assert cur.fetchone() == (100, Decimal("1237.50"))
    cur.executemany(f"UPDATE {table} SET name = ? WHERE id = ?", [("x", 1), ("y", 2)])
    assert cur.rowcount == 2
    cur.executemany(f"DELETE FROM {table} WHERE id = $1", [])
    assert cur.rowcount == 0


def test_executemany_error_stops_and_raises(conn, table):
    cur = conn.cursor()
    with pytest.raises(scratchbird.IntegrityError):
        cur.executemany(f"INSERT INTO {table} (id, name) VALUES (?, ?)", [(1, "a"), (1, "dup")])
    assert conn.execute("SELECT 1").fetchone() == (1,)  # still usable


def test_param_styles(conn):
    assert conn.execute("SELECT :a AS a, :b AS b", {"a": 1, "b": "two"}).fetchone() == (1, "two")
    assert conn.execute("SELECT ? AS a, ? AS b", (1, "two")).fetchone() == (1, "two")
    assert conn.execute("SELECT $2 AS a, $1 AS b", ["one", 2]).fetchone() == (2, "one")
    assert conn.execute("SELECT ':notaparam' AS s").fetchone() == (":notaparam",)


def test_param_errors(conn):
    with pytest.raises(scratchbird.ProgrammingError, match="no value was given for :b"):
        conn.execute("SELECT :a, :b", {"a": 1})
    with pytest.raises(scratchbird.ProgrammingError):
        conn.execute("SELECT ?", (1, 2))
    with pytest.raises(scratchbird.ProgrammingError, match="object"):
        conn.execute("SELECT :x", {"x": object()})


@pytest.mark.parametrize("value", [
    "it's \"quoted\" back\\slash", "semi;colon -- not a comment", "ünïcødé € 日本 😀",
    "line1\nline2\ttab", "' OR 1=1 --", "/* x */", "$$dollar$$",
])
def test_adversarial_strings_round_trip(conn, value):
    assert conn.execute("SELECT :v AS v", {"v": value}).fetchone() == (value,)


def test_nul_in_string(conn, profile):
    if profile == "sbsql":   # literal rendering: the QUERY text would end at the NUL
        with pytest.raises(scratchbird.DataError, match="NUL"):
            conn.execute("SELECT :v", {"v": "a\x00b"})
    else:                    # a binary parameter carries any string
        assert conn.execute("SELECT :v AS v", {"v": "a\x00b"}).fetchone() == ("a\x00b",)


def test_values_of_many_types_travel(conn, profile):
    params = {"i": 2**62, "f": 1.5, "d": Decimal("-12.345"), "day": dt.date(2024, 2, 29),
              "ts": dt.datetime(2024, 1, 2, 3, 4, 5, 123456), "u": uuid.UUID(int=5),
              "j": scratchbird.Json({"k": [1, 2]}), "b": b"\x00\xff"}
    row = conn.execute(
        "SELECT :i AS i, :f AS f, :d AS d, :day AS day, :ts AS ts, :u AS u, :j AS j, :b AS b",
        params).fetchone()
    assert row[0] == 2**62 and row[2] == Decimal("-12.345")
    if profile == "sbsql":   # text values, typed by the server's first-row guess
        assert row[1] == Decimal("1.5")
        assert row[3] == "2024-02-29" and row[4].startswith("2024-01-02 03:04:05.123456")
        assert row[5] == str(uuid.UUID(int=5)) and '"k"' in row[6] and row[7] == "00ff"
    else:                    # binary values: every type comes back as itself
        assert row[1] == 1.5 and type(row[1]) is float
        assert row[3] == params["day"] and row[4] == params["ts"] and row[5] == params["u"]
        assert json.loads(row[6]) == {"k": [1, 2]} and row[7] == b"\x00\xff"


def test_null_policy(devserver, table, profile):
    with scratchbird.connect(devserver.dsn) as conn:
        conn.execute(f"INSERT INTO {table} (id, name) VALUES (1, NULL), (2, '')")
        assert conn.execute("SELECT NULL AS x").fetchone() == (None,)
        names = conn.execute(f"SELECT name FROM {table} ORDER BY id").fetchall()
        # text values cannot tell NULL from '' (lossy, REFERENCE 12); binary ones can
        assert names == ([(None,), (None,)] if profile == "sbsql" else [(None,), ("",)])
    with scratchbird.connect(devserver.dsn, binary_transfer=False) as conn:
        assert conn.execute(f"SELECT name FROM {table} ORDER BY id").fetchall() == [(None,), (None,)]
    with scratchbird.connect(devserver.dsn, null_markers=[], binary_transfer=False) as conn:
        assert conn.execute("SELECT NULL AS x").fetchone() == ("NULL",)
    with scratchbird.connect(devserver.dsn, raw_text=True, binary_transfer=False) as conn:
        assert conn.execute("SELECT 1 AS a, TRUE AS b, NULL AS c").fetchone() == ("1", "true", "NULL")
        assert conn.cursor(raw_text=False).execute("SELECT 1").fetchone() == (1,)


def test_type_hint_fallback_to_str(devserver):
    # The type code is inferred from the first row only (REFERENCE 8.2); later values
    # that do not parse under it come back as str, never as a wrong value.
    with scratchbird.connect(devserver.dsn, binary_transfer=False) as conn:
        rows = conn.execute("SELECT * FROM (VALUES ('1'), ('abc'), ('2')) t(v)").fetchall()
        assert rows == [(1,), ("abc",), (2,)]
    with scratchbird.connect(devserver.dsn) as conn:   # binary values keep their type
        rows = conn.execute("SELECT * FROM (VALUES ('1'), ('abc'), ('2')) t(v)").fetchall()
        assert rows in ([(1,), ("abc",), (2,)], [("1",), ("abc",), ("2",)])
        assert rows[1] == ("abc",)


def test_errors_map_and_connection_stays_usable(conn, table):
    with pytest.raises(scratchbird.ProgrammingError) as info:
        conn.execute("SELECT * FROM no_such_table_xyz")
    assert info.value.sqlstate == "42000"
    assert info.value.diag_code == "SBSQL.NAME_RESOLUTION.NOT_FOUND_OR_NOT_VISIBLE"
    conn.execute(f"INSERT INTO {table} (id) VALUES (1)")
    with pytest.raises(scratchbird.IntegrityError):
        conn.execute(f"INSERT INTO {table} (id) VALUES (1)")
    with pytest.raises(scratchbird.ProgrammingError):
        conn.execute("SELEC 1")
    assert conn.execute(f"SELECT count(*) FROM {table}").fetchone() == (1,)


def test_commit_and_rollback_visibility(devserver, table):
    with scratchbird.connect(devserver.dsn) as a, scratchbird.connect(devserver.dsn) as b:
        txn = a.txn_id
        a.execute(f"INSERT INTO {table} (id) VALUES (10)")
        assert b.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,)
        a.rollback()
        assert a.txn_id != txn
        assert a.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,)
        a.execute(f"INSERT INTO {table} (id) VALUES (11)")
        a.commit()
        b.rollback()  # start a fresh transaction to see the commit
        assert b.execute(f"SELECT id FROM {table}").fetchall() == [(11,)]


def test_autocommit(devserver, table):
    with scratchbird.connect(devserver.dsn) as a, scratchbird.connect(devserver.dsn) as b:
        a.autocommit = True
        a.execute(f"INSERT INTO {table} (id) VALUES (20)")
        b.rollback()
        assert b.execute(f"SELECT id FROM {table}").fetchall() == [(20,)]
        a.autocommit = False
        a.execute(f"INSERT INTO {table} (id) VALUES (21)")
        with pytest.raises(scratchbird.ProgrammingError, match="commit"):
            a.autocommit = True
        a.rollback()
        a.autocommit = True
        assert a.autocommit is True


def test_context_manager_commits_or_rolls_back(devserver, table):
    with scratchbird.connect(devserver.dsn) as conn:
        conn.execute(f"INSERT INTO {table} (id) VALUES (30)")
    with pytest.raises(ZeroDivisionError):
        with scratchbird.connect(devserver.dsn) as conn:
            conn.execute(f"INSERT INTO {table} (id) VALUES (31)")
            1 / 0
    assert conn.closed
    with scratchbird.connect(devserver.dsn) as conn:
        assert conn.execute(f"SELECT id FROM {table}").fetchall() == [(30,)]


def test_query_and_exec_helpers(conn, table):
    assert conn.exec(f"INSERT INTO {table} (id, name) VALUES (:id, :n)", {"id": 1, "n": "a"}) == (1, None)
    assert conn.query(f"SELECT id, name FROM {table}") == [{"id": 1, "name": "a"}]
    assert conn.query(f"SELECT * FROM {table} WHERE id = 99") == []


def test_quote_literal_and_identifier():
    assert scratchbird.quote_literal("it's") == "'it''s'"
    assert scratchbird.quote_literal(None) == "NULL"
    assert scratchbird.quote_identifier('we"ird') == '"we""ird"'


def test_closed_cursor_and_connection(devserver):
    conn = scratchbird.connect(devserver.dsn)
    cur = conn.cursor()
    cur.close()
    with pytest.raises(scratchbird.InterfaceError):
        cur.execute("SELECT 1")
    conn.close()
    conn.close()  # idempotent
    with pytest.raises(scratchbird.InterfaceError):
        conn.cursor()
    with pytest.raises(scratchbird.InterfaceError):
        conn.commit()


def test_setinputsizes_and_ping(conn):
    cur = conn.cursor()
    assert cur.setinputsizes([None]) is None and cur.setoutputsize(10) is None
    assert conn.ping() > 0


def test_large_result(conn):
    rows = conn.execute("SELECT i, 'v' || i, i % 2 = 0 FROM range(100000) t(i) ORDER BY i").fetchall()
    assert len(rows) == 100000
    assert rows[0] == (0, "v0", True) and rows[-1] == (99999, "v99999", False)
