"""The dev server's SQL engine layer (DuckDB), driven directly: no sockets, no mocks."""

from __future__ import annotations

import re
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

duckdb = pytest.importorskip("duckdb")

from scratchbird.devserver import _engine  # noqa: E402
from scratchbird.devserver._engine import Engine, EngineError, EngineSession  # noqa: E402
from scratchbird.devserver._results import infer_type_oid  # noqa: E402
from scratchbird.devserver._sqltext import classify, split_statements  # noqa: E402

UUID_RE = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")

CREATE_COLUMNS = (
    "object_uuid, object_kind, schema_uuid, name, state, payload, ddl_operation_id, "
    "ddl_result_object_uuid, ddl_result_object_kind, ddl_result_catalog_row_uuid, "
    "ddl_publish_packet_id, ddl_publish_order, ddl_validation_before_publish, "
    "ddl_prebuild_before_final_lock, ddl_backfill_before_publish, "
    "ddl_final_publish_short_section, ddl_final_publish_lock_scope, ddl_partial_state_visible, "
    "ddl_result_buffer_owner, ddl_uuid_result_shape, ddl_epoch_invalidation, "
    "ddl_dependency_proof, ddl_rollback_recovery_authority, ddl_parser_sql_authority, "
    "ddl_mga_finality_authority").split(", ")
BOOL_COLUMNS = {"ddl_validation_before_publish", "ddl_prebuild_before_final_lock",
                "ddl_backfill_before_publish", "ddl_final_publish_short_section",
                "ddl_partial_state_visible", "ddl_parser_sql_authority"}


class Done:
    """A consumed StatementResult."""

    def __init__(self, result, batches):
        self.result = result
        self.batches = batches
        self.rows = [row for batch in batches for row in batch]
        self.tag, self.count = result.tag, result.rows
        self.columns, self.oids, self.has_rows = result.columns, result.type_oids, result.has_rows

    def col(self, name):
        i = self.columns.index(name)
        return [row[i] for row in self.rows]


def run(session: EngineSession, sql: str, autocommit: bool = False):
    out = []
    for result in session.execute_script(sql, autocommit=autocommit):
        out.append(Done(result, list(result.batches())))
    return out


def one(session, sql, autocommit=False) -> Done:
    (done,) = run(session, sql, autocommit)
    return done


def error_of(session, sql) -> EngineError:
    with pytest.raises(EngineError) as info:
        run(session, sql)
    return info.value


@pytest.fixture
def engine():
    eng = Engine()
    yield eng
    eng.close()


@pytest.fixture
def s(engine):
    return engine.open_session(user="sbtest")


@pytest.fixture
def t(s):
    one(s, "CREATE TABLE t (id INTEGER PRIMARY KEY, v VARCHAR)")
    one(s, "COMMIT")
    return "t"


# ------------------------------------------------------------------ result shapes and tags


def test_select_literals_capture_04(s):
    d = one(s, "SELECT 1")
    assert (d.columns, d.oids, d.rows, d.tag, d.count, d.has_rows) == (
        ["column1"], [20], [(b"1",)], "SELECT 1", 1, True)
    d = one(s, "SELECT 42 AS i, 'hello' AS t, TRUE AS flag, 3.25 AS d")
    assert d.columns == ["i", "t", "flag", "d"]
    assert d.oids == [20, 25, 16, 1700]
    assert d.rows == [(b"42", b"hello", b"true", b"3.25")]


def test_unnamed_constant_columns_are_positional(s):
    d = one(s, "SELECT 1 AS a, 2, 'x' || 'y'")
    assert d.columns == ["a", "column2", "column3"]
    assert d.rows == [(b"1", b"2", b"xy")]


def test_select_zero_rows_has_no_description(s, t):
    d = one(s, "SELECT * FROM t WHERE id = 1")
    assert (d.has_rows, d.columns, d.oids, d.batches, d.tag, d.count) == (
        False, [], [], [], "SELECT 0", 0)


def test_select_many_rows_tag(s):
    d = one(s, "SELECT * FROM range(6)")
    assert d.tag == "SELECT 6" and d.count == 6 and len(d.rows) == 6


def test_values_columns_are_c0_c1(s):
    d = one(s, "VALUES (1, 'a'), (2, 'b')")
    assert d.columns == ["c0", "c1"] and d.tag == "SELECT 2"
    assert d.rows == [(b"1", b"a"), (b"2", b"b")]


@pytest.mark.parametrize("sql", [
    "SHOW TABLES", "DESCRIBE t", "PRAGMA table_info('t')", "EXPLAIN SELECT 1",
    "WITH q AS (SELECT 5 AS x) SELECT x FROM q", "FROM t", "CALL pragma_version()",
])
def test_other_row_returning_statements(s, t, sql):
    one(s, "INSERT INTO t VALUES (1, 'a')")
    d = one(s, sql)
    assert d.has_rows and d.rows and d.tag == f"SELECT {len(d.rows)}" and d.count == len(d.rows)
    assert len(d.columns) == len(d.oids) == len(d.rows[0])


def test_insert_with_column_list_returns_status_row(s, t):
    d = one(s, "INSERT INTO t (id, v) VALUES (1, 'a')")
    assert d.columns == ["accepted_rows", "inserted_rows", "rejected_rows"]
    assert d.oids == [20, 20, 20] and d.rows == [(b"1", b"1", b"0")]
    assert (d.tag, d.count) == ("INSERT 1", 1)
    d = one(s, "INSERT INTO t (id, v) VALUES (2, 'b'), (3, 'c'), (4, 'd')")
    assert d.rows == [(b"3", b"3", b"0")] and (d.tag, d.count) == ("INSERT 3", 3)
    d = one(s, "INSERT INTO t (id) SELECT 10 + i FROM range(5) r(i)")
    assert d.rows == [(b"5", b"5", b"0")] and d.tag == "INSERT 5"


def test_insert_without_column_list_is_bare_tag(s, t):
    d = one(s, "INSERT INTO t VALUES (5, 'e')")
    assert (d.has_rows, d.columns, d.tag, d.count) == (False, [], "INSERT", 1)
    d = one(s, "INSERT INTO t VALUES (6, 'f'), (7, 'g')")
    assert (d.tag, d.count) == ("INSERT", 2)


def test_update_delete_truncate_tags(s, t):
    one(s, "INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c')")
    d = one(s, "UPDATE t SET v = 'z' WHERE id = 1")
    assert (d.has_rows, d.tag, d.count) == (False, "UPDATE", 1)
    assert one(s, "UPDATE t SET v = 'z' WHERE id = 99").count == 0
    assert one(s, "UPDATE t SET v = 'y'").count == 3
    d = one(s, "DELETE FROM t WHERE id = 2")
    assert (d.tag, d.count) == ("DELETE", 1)
    assert one(s, "DELETE FROM t WHERE id = 2").count == 0
    d = one(s, "TRUNCATE t")
    assert (d.tag, d.count, d.has_rows) == ("TRUNCATE", 2, False)


def test_returning_is_a_row_result(s, t):
    d = one(s, "INSERT INTO t (id) VALUES (1), (2) RETURNING id, v")
    assert d.columns == ["id", "v"] and d.tag == "SELECT 2" and d.count == 2
    assert d.rows == [(b"1", b"<NULL>"), (b"2", b"<NULL>")]      # stored NULLs
    d = one(s, "UPDATE t SET v = 'x' WHERE id = 99 RETURNING *")
    assert (d.has_rows, d.tag, d.count) == (False, "SELECT 0", 0)
    d = one(s, "DELETE FROM t WHERE id = 1 RETURNING id")
    assert d.rows == [(b"1",)] and d.tag == "SELECT 1"


def test_create_table_catalog_row_like_capture_05(s):
    d = one(s, "CREATE TABLE cap_typed (i integer, v varchar(40))")
    assert d.columns == CREATE_COLUMNS and len(d.columns) == 25
    assert (d.tag, d.count, len(d.rows)) == ("SELECT 1", 1, 1)
    assert d.oids == [16 if c in BOOL_COLUMNS else 25 for c in d.columns]
    row = dict(zip(d.columns, d.rows[0]))
    assert UUID_RE.fullmatch(row["object_uuid"]) and UUID_RE.fullmatch(row["schema_uuid"])
    assert row["ddl_result_object_uuid"] == row["object_uuid"]
    assert row["ddl_publish_packet_id"] == b"ddl.create_table:table:" + row["object_uuid"]
    assert (row["object_kind"], row["name"], row["state"], row["payload"]) == (
        b"table", b"cap_typed", b"active", b"mga_relation_metadata=table_create")
    assert row["ddl_operation_id"] == b"ddl.create_table"
    assert row["ddl_epoch_invalidation"] == b"catalog:mga_relation_metadata"
    assert row["ddl_mga_finality_authority"] == b"durable_transaction_inventory"
    assert [row[c] for c in sorted(BOOL_COLUMNS)].count(b"true") == 4
    assert one(s, "SELECT * FROM cap_typed").tag == "SELECT 0"      # really created


def test_create_index_view_schema_sequence(s, t):
    for sql, kind, name in [("CREATE INDEX ix_v ON t (v)", b"index", b"ix_v"),
                            ("CREATE VIEW vw AS SELECT id FROM t", b"view", b"vw"),
                            ("CREATE SCHEMA sc", b"schema", b"sc"),
                            ("CREATE SEQUENCE sc.seq", b"sequence", b"seq")]:
        d = one(s, sql)
        row = dict(zip(d.columns, d.rows[0]))
        assert d.tag == "SELECT 1" and len(d.columns) == 25
        assert (row["object_kind"], row["name"]) == (kind, name)
        assert row["payload"] == b"mga_relation_metadata=" + kind + b"_create"
    assert one(s, "SELECT nextval('sc.seq') AS n").rows == [(b"1",)]


def test_drop_table_catalog_row_reports_the_created_uuid(s):
    created = dict(zip(*[(d.columns, d.rows[0]) for d in [one(s, "CREATE TABLE dropme (a INT)")]][0]))
    d = one(s, "DROP TABLE dropme")
    assert len(d.columns) == 25 and d.tag == "SELECT 1"
    assert d.columns[:6] == ["object_uuid", "object_kind", "name", "state", "payload", "options"]
    assert "schema_uuid" not in d.columns
    row = dict(zip(d.columns, d.rows[0]))
    uid = created["object_uuid"]
    assert row["object_uuid"] == row["name"] == uid
    assert (row["state"], row["payload"], row["options"]) == (
        b"dropped", b"target=" + uid, b"principal_name:sbtest")
    assert (row["ddl_operation_id"], row["ddl_epoch_invalidation"], row["ddl_dependency_proof"]) == (
        b"ddl.drop_object", b"catalog:table", b"table")
    assert d.oids == [16 if c in BOOL_COLUMNS else 25 for c in d.columns]
    assert error_of(s, "SELECT * FROM dropme").code == _engine.CODE_NOT_FOUND


def test_alter_table_catalog_row_has_22_columns(s, t):
    d = one(s, "ALTER TABLE t ADD COLUMN extra INTEGER")
    assert len(d.columns) == 22 and d.tag == "SELECT 1" and d.count == 1
    assert d.columns[:4] == ["object_uuid", "object_kind", "state", "ddl_operation_id"]
    row = dict(zip(d.columns, d.rows[0]))
    assert (row["object_kind"], row["state"]) == (b"table", b"published")
    assert sum(1 for oid in d.oids if oid == 16) == 6
    assert one(s, "SELECT extra FROM t").tag == "SELECT 0"


@pytest.mark.parametrize("sql, tag", [("SET search_path = 'main'", "SET"),
                                      ("PREPARE p1 AS SELECT 1", "PREPARE")])
def test_other_statements_use_the_first_word(s, sql, tag):
    d = one(s, sql)
    assert (d.tag, d.count, d.has_rows, d.columns) == (tag, 0, False, [])


def test_prepare_execute(s):
    one(s, "PREPARE p2 AS SELECT 40 + 2 AS answer")
    d = one(s, "EXECUTE p2")
    assert d.rows == [(b"42",)] and d.tag == "SELECT 1"


@pytest.mark.parametrize("sql", ["", "   ", ";", " ; ;\n", "-- only a comment", "/* c */ ;"])
def test_empty_sql_gives_one_empty_result(s, sql):
    d = one(s, sql)
    assert (d.tag, d.count, d.has_rows, d.columns, d.batches) == ("EMPTY", 0, False, [], [])


# ------------------------------------------------------------------ NULL forms


def test_null_forms_capture_13(s):
    one(s, "CREATE TABLE n (id INTEGER, t VARCHAR)")
    one(s, "INSERT INTO n (id, t) VALUES (1, NULL), (2, ''), (3, 'NULL'), (4, '<NULL>')")
    d = one(s, "SELECT * FROM n ORDER BY id")
    assert d.col("t") == [b"<NULL>", b"", b"NULL", b"<NULL>"]
    assert d.oids == [20, 25]
    d = one(s, "SELECT NULL AS n, '' AS e, 'NULL' AS s, '<NULL>' AS a")
    assert d.rows == [(b"NULL", b"", b"NULL", b"<NULL>")] and d.oids == [25, 25, 25, 25]
    d = one(s, "SELECT NULL + 1 AS x")
    assert d.rows == [(b"",)] and d.oids == [25]
    d = one(s, "VALUES (NULL, '', 'NULL', '<NULL>')")
    assert d.rows == [(b"", b"", b"NULL", b"<NULL>")]


def test_null_literal_forms(s):
    d = one(s, "SELECT NULL")
    assert (d.columns, d.rows, d.oids) == (["column1"], [(b"NULL",)], [25])
    d = one(s, "SELECT 1 AS a, NULL AS b, 'z' AS c")
    assert d.rows == [(b"1", b"NULL", b"z")]
    d = one(s, "SELECT COALESCE(NULL, NULL) AS x, COALESCE(NULL, 7) AS y, CAST(NULL AS INT) AS z")
    assert d.rows == [(b"", b"7", b"")] and d.oids == [25, 20, 25]
    d = one(s, "VALUES (1, NULL)")
    assert d.rows == [(b"1", b"")] and d.oids == [20, 25]


def test_null_from_a_table_even_in_expressions(s, t):
    one(s, "INSERT INTO t VALUES (1, NULL)")
    d = one(s, "SELECT v, NULL AS n, v || 'x' AS e FROM t")
    assert d.rows == [(b"<NULL>", b"<NULL>", b"<NULL>")]


def test_null_is_never_a_bitmap_null(s, t):
    one(s, "INSERT INTO t VALUES (1, NULL), (2, 'x')")
    for sql in ("SELECT * FROM t", "SELECT NULL, NULL + 1", "VALUES (NULL)"):
        assert all(v is not None for row in one(s, sql).rows for v in row)


# ------------------------------------------------------------------ type inference / rendering


@pytest.mark.parametrize("text, oid", [
    (b"true", 16), (b"FALSE", 16), (b"t", 16), (b"F", 16), (b"yes", 25),
    (b"0", 20), (b"-42", 20), (b"+7", 20), (b"007", 20), (b"18446744073709551616", 20),
    (b"1.5", 1700), (b".5", 1700), (b"5.", 1700), (b"-0.50", 1700), (b"1.2.3", 25), (b".", 25),
    (b"1e10", 25), (b"NaN", 25), (b"inf", 25), (b"", 25), (b"<NULL>", 25), (b"NULL", 25),
    (b"2024-02-29", 25), (b"-", 25), (b"+", 25), (None, 25), (b"\xd9\xa3", 25),
])
def test_infer_type_oid_reference_8_2(text, oid):
    assert infer_type_oid(text) == oid


@given(st.integers())
def test_infer_type_oid_integers(n):
    assert infer_type_oid(str(n).encode()) == 20


@given(st.decimals(allow_nan=False, allow_infinity=False, places=3))
def test_infer_type_oid_fixed_point(value):
    assert infer_type_oid(f"{value:f}".encode()) == 1700


def test_type_codes_come_from_the_first_row(s):
    one(s, "CREATE TABLE ty (id INTEGER, i INTEGER, f BOOLEAN, n DECIMAL(10,2), u UUID)")
    one(s, "INSERT INTO ty VALUES (1, NULL, NULL, NULL, NULL), "
           "(2, 5, TRUE, 1.5, '0191e7c2-8d3b-7a10-9c4e-1234567890ab')")
    d = one(s, "SELECT * FROM ty ORDER BY id")
    assert d.oids == [20, 25, 25, 25, 25]                       # first row: '<NULL>'
    d = one(s, "SELECT * FROM ty ORDER BY id DESC")
    assert d.oids == [20, 20, 16, 1700, 25]
    d = one(s, "VALUES ('42'), ('abc')")
    assert d.oids == [20] and d.rows[1] == (b"abc",)            # later rows not consulted


def test_value_rendering(s):
    d = one(s, "SELECT TRUE AS b1, FALSE AS b2, -7::BIGINT AS i, 12345.678::DECIMAL(12,3) AS n, "
               "DATE '2024-02-29' AS dt, TIMESTAMP '2024-02-29 13:14:15.5' AS ts, "
               "TIMESTAMPTZ '2024-01-02 03:04:05-05:00' AS tz, "
               "UUID 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11' AS u, "
               "'\\xAB\\x01\\xff'::BLOB AS bl, x'0102FF' AS hx, 'ünïcødé 😀' AS s, 7 / 2 AS q, "
               "170141183460469231731687303715884105727::HUGEINT AS h")
    row = dict(zip(d.columns, d.rows[0]))
    assert row == {
        "b1": b"true", "b2": b"false", "i": b"-7", "n": b"12345.678", "dt": b"2024-02-29",
        "ts": b"2024-02-29 13:14:15.5", "tz": b"2024-01-02 08:04:05+00",
        "u": b"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "bl": b"ab01ff", "hx": b"0102ff",
        "s": "ünïcødé 😀".encode(), "q": b"3",
        "h": b"170141183460469231731687303715884105727"}
    assert d.oids[:4] == [16, 16, 20, 1700]


def test_blob_hex_from_a_table(s):
    one(s, "CREATE TABLE bl (id INT, b BLOB)")
    one(s, "INSERT INTO bl VALUES (1, '\\x00\\x10\\xAB'::BLOB), (2, ''::BLOB), (3, '123'::BLOB)")
    d = one(s, "SELECT b FROM bl ORDER BY id")
    assert d.rows == [(b"0010ab",), (b"",), (b"313233",)]


# ------------------------------------------------------------------ scripts


def test_multi_statement_script_capture_09(s):
    results = run(s, "SELECT 1; SELECT 2")
    assert [(d.tag, d.rows) for d in results] == [("SELECT 1", [(b"1",)]), ("SELECT 1", [(b"2",)])]


def test_script_error_in_the_middle(s, t):
    gen = s.execute_script(f"INSERT INTO {t} VALUES (1, 'a'); SELECT * FROM nosuch; "
                           f"INSERT INTO {t} VALUES (2, 'b')")
    first = next(gen)
    assert first.tag == "INSERT" and first.rows == 1
    with pytest.raises(EngineError) as info:
        next(gen)
    assert info.value.code == _engine.CODE_NOT_FOUND
    with pytest.raises(StopIteration):
        next(gen)
    assert one(s, f"SELECT id FROM {t}").rows == [(b"1",)]     # third never ran, first kept


def test_script_results_are_lazy(engine, t):
    a, b = engine.open_session(), engine.open_session()
    gen = a.execute_script(f"SELECT 1; INSERT INTO {t} (id) VALUES (1)", autocommit=True)
    first = next(gen)
    assert first.has_rows and first.columns == ["column1"]     # first batch already fetched
    assert list(first.batches()) == [[(b"1",)]]
    assert one(b, f"SELECT * FROM {t}").count == 0              # second not run yet
    assert next(gen).tag == "INSERT 1"
    assert one(b, f"SELECT id FROM {t}").rows == [(b"1",)]


def test_splitting_respects_quotes_comments_and_dollar_quotes(s):
    sql = ("SELECT 'a;b' AS x; SELECT 'it''s;' AS x -- c;\n; /* ; /* ; */ ; */ "
           "SELECT $$d;q$$ AS x;; SELECT $tag$ $$ ; $tag$ AS x; SELECT 1 AS \"we;ird\"")
    results = run(s, sql)
    assert [d.rows[0][0] for d in results] == [b"a;b", b"it's;", b"d;q", b" $$ ; ", b"1"]
    assert results[-1].columns == ["we;ird"]


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize("sql, code", [
    ("SELEC 1", "SBSQL.PARSER.STATEMENT_FAMILY_UNKNOWN"),
    ("SELECT * FROM no_such_table", "SBSQL.NAME_RESOLUTION.NOT_FOUND_OR_NOT_VISIBLE"),
    ("SELECT nosuchcol FROM e", "SBSQL.NAME_RESOLUTION.NOT_FOUND_OR_NOT_VISIBLE"),
    ("DROP TABLE no_such_table", "SBSQL.NAME_RESOLUTION.NOT_FOUND_OR_NOT_VISIBLE"),
    ("CREATE TABLE e (x INT)", "CATALOG.OBJECT.DUPLICATE_NAME"),
    ("INSERT INTO e (id, v, p, c) VALUES (1, 'dup', NULL, 1)", "SB-BULK-CONSTRAINT-UNIQUE-PERSISTED-CONFLICT"),
    ("INSERT INTO e (id, v, p, c) VALUES (2, NULL, NULL, 1)", "SB-BULK-CONSTRAINT-NOT-NULL"),
    ("INSERT INTO e (id, v, p, c) VALUES (3, 'x', 99, 1)", "SB-BULK-CONSTRAINT-FOREIGN-KEY"),
    ("INSERT INTO e (id, v, p, c) VALUES (4, 'x', NULL, -1)", "SB-BULK-CONSTRAINT-CHECK"),
    ("SELECT 9223372036854775807 + 1", "SBLR.NUMERIC_OVERFLOW"),
    ("SELECT 1 / 0", "SBLR.DIVIDE_BY_ZERO"),
    ("SELECT 1.5 / 0", "SBLR.DIVIDE_BY_ZERO"),
    ("SELECT CAST('abc' AS INTEGER) AS x", "SB_ENGINE_API_INVALID_REQUEST"),
    ("SELECT 'a' + 1", "SBSQL.EXECUTION.REJECTED"),
])
def test_error_codes(s, sql, code):
    one(s, "CREATE TABLE e (id INTEGER PRIMARY KEY, v VARCHAR NOT NULL, "
           "p INTEGER REFERENCES e (id), c INTEGER CHECK (c > 0))")
    one(s, "INSERT INTO e VALUES (1, 'one', NULL, 1)")
    err = error_of(s, sql)
    assert err.code == code and err.sqlstate == "42000"
    assert err.message and "\n" not in err.message and " Error: " not in err.message
    assert one(s, "SELECT count(*) FROM e").rows == [(b"1",)]   # the transaction survived


def test_engine_error_attributes():
    err = EngineError("boom", "X.Y")
    assert (err.message, err.code, err.sqlstate, str(err)) == ("boom", "X.Y", "42000", "boom")
    assert EngineError("m", "c", "25000").sqlstate == "25000"


def test_write_write_conflict(engine, t):
    a, b = engine.open_session(), engine.open_session()
    one(a, f"INSERT INTO {t} VALUES (1, 'a')")
    one(a, "COMMIT")
    one(a, f"UPDATE {t} SET v = 'from a' WHERE id = 1")
    one(b, f"SELECT * FROM {t}")
    assert error_of(b, f"UPDATE {t} SET v = 'from b' WHERE id = 1").code == "SB-TXN-WRITE-CONFLICT"
    one(a, "COMMIT")
    one(b, "ROLLBACK")
    assert one(b, f"SELECT v FROM {t}").rows == [(b"from a",)]


# ------------------------------------------------------------------ transactions


def test_transaction_survives_errors(engine, s):
    one(s, "CREATE TABLE surv (id INTEGER PRIMARY KEY)")
    one(s, "INSERT INTO surv VALUES (1), (2)")
    txn = s.txn_id
    for bad in ("SELEC 1", "INSERT INTO surv VALUES (1)", "SELECT * FROM nope", "SELECT 1 / 0"):
        error_of(s, bad)
        assert s.txn_id == txn
    one(s, "INSERT INTO surv VALUES (3)")
    assert one(s, "SELECT id FROM surv ORDER BY id").rows == [(b"1",), (b"2",), (b"3",)]
    one(s, "COMMIT")
    other = engine.open_session()
    assert one(other, "SELECT count(*) FROM surv").rows == [(b"3",)]


def test_error_while_streaming_keeps_the_transaction(s, t):
    one(s, f"INSERT INTO {t} VALUES (1, 'kept')")
    sql = "SELECT CASE WHEN i = 60000 THEN CAST('x' || i AS INTEGER) ELSE i END AS v FROM range(100000) r(i)"
    with pytest.raises(EngineError) as info:
        run(s, sql)
    assert info.value.code == _engine.CODE_INVALID_REQUEST
    assert one(s, f"SELECT v FROM {t}").rows == [(b"kept",)]


def test_visibility_between_sessions(engine, t):
    a, b = engine.open_session(), engine.open_session()
    assert one(b, f"SELECT * FROM {t}").count == 0
    one(a, f"INSERT INTO {t} VALUES (1, 'a')")
    assert one(b, f"SELECT * FROM {t}").count == 0             # uncommitted: invisible
    assert one(a, f"SELECT * FROM {t}").count == 1
    one(a, "COMMIT")
    assert one(b, f"SELECT id FROM {t}").rows == [(b"1",)]     # visible after commit


def test_rollback_discards(s, t):
    one(s, f"INSERT INTO {t} VALUES (1, 'a')")
    one(s, "ROLLBACK")
    assert one(s, f"SELECT * FROM {t}").count == 0
    one(s, f"INSERT INTO {t} VALUES (2, 'b')")
    s.rollback()
    assert one(s, f"SELECT * FROM {t}").count == 0


def test_txn_ids_from_one_engine_counter(engine):
    a = engine.open_session()
    b = engine.open_session()
    assert a.txn_id == 100 and b.txn_id == 101
    before = a.txn_id
    assert one(a, "BEGIN").tag == "BEGIN" and a.txn_id == before
    assert one(a, "START TRANSACTION").tag == "BEGIN" and a.txn_id == before
    a.begin()
    assert a.txn_id == before
    assert one(a, "COMMIT").tag == "COMMIT" and a.txn_id == 102
    b.commit()
    assert b.txn_id == 103
    assert one(a, "ROLLBACK").tag == "ROLLBACK" and a.txn_id == 104
    a.rollback()
    assert a.txn_id == 105
    assert one(b, "END").tag == "COMMIT" and b.txn_id == 106
    assert one(b, "ABORT").tag == "ROLLBACK" and b.txn_id == 107
    b.close()                                                    # the implicit rollback uses an id
    assert engine.open_session().txn_id == 109


def test_commit_frame_makes_work_visible(engine, t):
    a, b = engine.open_session(), engine.open_session()
    one(a, f"INSERT INTO {t} VALUES (1, 'a')")
    old = a.txn_id
    a.commit()
    assert a.txn_id != old and a.txn_id != 0
    assert one(b, f"SELECT count(*) FROM {t}").rows == [(b"1",)]


def test_autocommit(engine, t):
    a, b = engine.open_session(), engine.open_session()
    txn = a.txn_id
    assert one(a, f"SELECT * FROM {t}", autocommit=True).count == 0
    assert a.txn_id == txn                                       # SELECT: no commit
    one(a, f"INSERT INTO {t} (id) VALUES (5)", autocommit=True)
    assert a.txn_id > txn
    assert one(b, f"SELECT id FROM {t}").rows == [(b"5",)]
    txn = a.txn_id
    run(a, f"UPDATE {t} SET v = 'x'; DELETE FROM {t} WHERE id = 99", autocommit=True)
    assert a.txn_id == txn + 2


def test_savepoints_are_accepted_without_effect(s, t):
    assert one(s, "SAVEPOINT sp1").tag == "SAVEPOINT"
    one(s, f"INSERT INTO {t} VALUES (1, 'after savepoint')")
    assert one(s, "ROLLBACK TO SAVEPOINT sp1").tag == "ROLLBACK"
    assert one(s, "ROLLBACK TO sp1").tag == "ROLLBACK"
    assert one(s, "RELEASE SAVEPOINT sp1").tag == "RELEASE"
    err = error_of(s, "ROLLBACK TO SAVEPOINT never_made")
    assert err.code == "SB_ENGINE_API_INVALID_REQUEST"
    one(s, "COMMIT")
    assert one(s, f"SELECT id FROM {t}").rows == [(b"1",)]      # ROLLBACK TO undid nothing


def test_close_rolls_back_and_rejects_further_use(engine, t):
    a = engine.open_session()
    one(a, f"INSERT INTO {t} VALUES (1, 'lost')")
    a.close()
    a.close()                                                    # idempotent
    with pytest.raises(EngineError):
        run(a, "SELECT 1")
    assert one(engine.open_session(), f"SELECT * FROM {t}").count == 0


def test_file_database_persists(tmp_path):
    path = str(tmp_path / "dev.duckdb")
    eng = Engine(path)
    s = eng.open_session()
    one(s, "CREATE TABLE keep (id INTEGER)")
    one(s, "INSERT INTO keep VALUES (42)")
    s.commit()
    eng.close()
    eng = Engine(path)
    try:
        assert one(eng.open_session(), "SELECT id FROM keep").rows == [(b"42",)]
    finally:
        eng.close()


# ------------------------------------------------------------------ streaming


def test_large_select_streams_in_batches(s):
    sql = "SELECT i AS id, 'row-' || i AS label, i % 2 = 0 AS even FROM range(100000) r(i) ORDER BY i"
    sizes, last, total = [], None, 0
    for result in s.execute_script(sql):
        assert result.has_rows and result.columns == ["id", "label", "even"]
        assert result.type_oids == [20, 25, 16]
        for batch in result.batches():
            sizes.append(len(batch))
            total += len(batch)
            last = batch[-1]
    assert total == 100000 and len(sizes) > 1 and max(sizes) <= 10000
    assert last == (b"99999", b"row-99999", b"false")
    assert (result.tag, result.rows) == ("SELECT 100000", 100000)


def test_unconsumed_stream_is_dropped_by_the_next_statement(s):
    gen = s.execute_script("SELECT * FROM range(50000); SELECT 2")
    first = next(gen)
    assert first.has_rows
    second = next(gen)                                           # first never consumed
    assert list(second.batches()) == [[(b"2",)]]
    assert one(s, "SELECT 3").rows == [(b"3",)]


def test_sessions_on_threads_interleave_safely(engine, t):
    errors = []

    def work(k):
        sess = engine.open_session()
        try:
            for i in range(15):
                one(sess, f"INSERT INTO {t} VALUES ({k * 100 + i}, 'x')")
                result = next(sess.execute_script("SELECT i FROM range(30000) r(i)"))
                assert sum(len(b) for b in result.batches()) == 30000
            sess.commit()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    assert one(engine.open_session(), f"SELECT count(*) FROM {t}").rows == [(b"60",)]


# ------------------------------------------------------------------ SQL text helpers


def test_split_statements_edge_cases():
    assert split_statements("") == []
    assert split_statements(" ;; -- x\n ; /* y */") == []
    assert split_statements("SELECT 1") == ["SELECT 1"]
    assert split_statements("SELECT 'a'';b'; SELECT \"x;\"\"y\"") == ["SELECT 'a'';b'", 'SELECT "x;""y"']
    assert split_statements("SELECT E'\\';x'; SELECT 2") == ["SELECT E'\\';x'", "SELECT 2"]
    assert split_statements("SELECT $1; SELECT a$b$c FROM t") == ["SELECT $1", "SELECT a$b$c FROM t"]
    assert split_statements("SELECT 1 -- trailing ; comment") == ["SELECT 1 -- trailing ; comment"]
    assert split_statements("SELECT 'unterminated; x") == ["SELECT 'unterminated; x"]


@settings(max_examples=60)
@given(st.lists(st.sampled_from(["SELECT 1", "SELECT 'a;b'", "SELECT $$;$$", "SELECT /*;*/ 2",
                                 'SELECT 1 AS ";"', "VALUES (1)"]), max_size=6),
       st.sampled_from([";", " ; ", ";\n", ";;"]))
def test_split_statements_roundtrip(statements, sep):
    assert split_statements(sep.join(statements)) == statements


@pytest.mark.parametrize("sql, expected", [
    ("INSERT INTO t (a, b) VALUES (1, 2)", True),
    ("insert into s.t(a) select 1", True),
    ('INSERT OR REPLACE INTO "T" AS x (a) VALUES (1)', True),
    ("INSERT INTO t VALUES (1)", False),
    ("INSERT INTO t (SELECT 1)", False),
    ("INSERT INTO t SELECT 1", False),
    ("INSERT INTO t DEFAULT VALUES", False),
    ("INSERT INTO t BY NAME SELECT 1 AS a", False),
    ("WITH q AS (SELECT 1) INSERT INTO t (a) SELECT * FROM q", True),
])
def test_insert_column_list_detection(sql, expected):
    assert classify(sql).insert_has_column_list() is expected


@pytest.mark.parametrize("sql, expected", [
    ("CREATE TABLE t (a INT)", ("table", "", "t")),
    ("CREATE OR REPLACE TEMP TABLE IF NOT EXISTS s.\"Odd\" AS SELECT 1", ("table", "s", "Odd")),
    ("CREATE UNIQUE INDEX ix ON t (a)", ("index", "", "ix")),
    ("DROP VIEW IF EXISTS v CASCADE", ("view", "", "v")),
    ("ALTER TABLE db.s.t ADD COLUMN c INT", ("table", "s", "t")),
])
def test_ddl_target(sql, expected):
    assert classify(sql).ddl_target() == expected


@pytest.mark.parametrize("sql, expected", [
    ("SELECT a FROM t", True), ("FROM t", True), ("SELECT 1", False),
    ("SELECT extract(year FROM d)", False), ("SELECT 1 IS DISTINCT FROM 2", False),
    ("SELECT 'FROM x'", False), ("WITH q AS (SELECT 1 FROM t) SELECT 2", False),
    ("WITH q AS (SELECT 1) SELECT * FROM q", True),
])
def test_reads_table(sql, expected):
    assert classify(sql).reads_table() is expected
