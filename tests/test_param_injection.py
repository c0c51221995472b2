"""Parameters at the type limits go through every parameter path into the dev server and
come back equal, and none of them can change the statement.

Paths: the ``sbsql`` profile renders parameters as SQL literals in a simple QUERY; the
``full`` profile sends them as binary BIND values (PARSE/BIND/EXECUTE). The same
hypothesis strategies run against both. After each value the statement's shape is
checked: one row inserted, the table and its neighbour still there, one row selected by
the same value.

The same values also go through the later paths (``test_every_later_path``): a prepared
statement (text BIND on ``sbsql``, REFERENCE 5.2; binary BIND on ``full``), array-bound
executemany (REFERENCE 5.8; bytes fall back to literals, docs/protocol.md 8.2), and COPY
in binary (SBNR) and text form (REFERENCE 7.8). Text COPY has no escaping: a value it
cannot carry is refused with a DataError before anything is sent (docs/protocol.md 7.1),
and the table is left as it was.
"""
import math
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import scratchbird
from scratchbird.errors import DataError

SETTINGS = settings(max_examples=25, deadline=None, derandomize=True,
                    suppress_health_check=list(HealthCheck))

NASTY = ["'; DROP TABLE guard; --", "' OR '1'='1", "?", "$1", ":v", "\\", "\\'", "E'\\''",
         "$$", "$tag$", "/*", "*/", "--", "\"", "''", "'", ";", "\u2028", "\U0001F600"]
TEXT = st.one_of(st.sampled_from(NASTY),
                 st.text(st.characters(blacklist_categories=("Cs",),
                                       blacklist_characters="\x00"), max_size=60),
                 st.lists(st.sampled_from(NASTY), max_size=5).map("".join))
INT64 = st.one_of(st.sampled_from([-2**63, 2**63 - 1, 0, -1, 2**31, -2**31 - 1]),
                  st.integers(-2**63, 2**63 - 1))
FLOATS = st.one_of(st.sampled_from([5e-324, -5e-324, 1.7976931348623157e308, -0.0, 0.1]),
                   st.floats(allow_nan=False, allow_infinity=False))
DECIMALS = st.decimals(min_value=Decimal("-" + "9" * 28 + ".9999999999"),
                       max_value=Decimal("9" * 28 + ".9999999999"), places=10,
                       allow_nan=False, allow_infinity=False)

CASES = {
    # name: (column type, strategy, text form the sbsql profile returns, equality)
    "text": ("VARCHAR", TEXT, str, None),
    "bytes": ("BLOB", st.binary(max_size=64), None, None),
    "int64": ("BIGINT", INT64, str, None),
    "float": ("DOUBLE", FLOATS, None, lambda a, b: float(a) == b or (a == b == 0)),
    "decimal": ("DECIMAL(38,10)", DECIMALS, None, lambda a, b: Decimal(a) == b),
}


def assert_stored(cur, raw, table, case, value, binary, rows=1):
    """The value stored under k = 7 is ``value``, and exactly ``rows`` rows hold it."""
    same = CASES[case][3]
    if binary:   # typed binary values come back as Python values
        cur.execute(f"SELECT v, ? FROM {table} WHERE k = ?", (value, 7))
        (back, echoed), = cur.fetchall()
        for got in (back, echoed):
            if case == "float":
                assert got == value
            else:
                assert got == value and type(got) is type(value)
    else:        # sbsql: text values; read the raw text (types are guessed per row)
        raw.execute(f"SELECT v FROM {table} WHERE k = ?", (7,))
        (back,), = raw.fetchall()
        if case == "bytes":
            assert bytes.fromhex(back) == value
        elif same is not None:
            assert same(back, value)
        else:
            assert back == str(value)
    cur.execute(f"SELECT count(*) FROM {table} WHERE v = ?", (value,))
    assert cur.fetchall() == [(rows,)]


@pytest.fixture
def session(devserver):
    conn = scratchbird.connect(devserver.dsn)
    conn.autocommit = True
    yield conn
    conn.close()


@pytest.mark.parametrize("case", sorted(CASES))
def test_parameters_round_trip_and_cannot_change_the_statement(session, devserver, case):
    column_type, strategy, _, same = CASES[case]
    table = f"param_{case}_{devserver.profile_name}"
    cur = session.cursor()
    raw = session.cursor(raw_text=True)
    cur.execute(f"CREATE TABLE {table} (k INTEGER, v {column_type})")
    cur.execute("CREATE TABLE IF NOT EXISTS guard (x INTEGER)")
    binary = session.binary_values

    @SETTINGS
    @given(strategy)
    def round_trip(value):
        cur.execute(f"DELETE FROM {table}")
        cur.execute(f"INSERT INTO {table} VALUES (?, ?)", (7, value))
        cur.execute(f"SELECT count(*), min(k) FROM {table}")
        assert cur.fetchall() == [(1, 7)]
        cur.execute("SELECT count(*) FROM guard")
        assert cur.fetchall() == [(0,)]
        assert_stored(cur, raw, table, case, value, binary)

    try:
        round_trip()
    finally:
        cur.execute(f"DROP TABLE {table}")


def test_a_nul_in_a_string_parameter_is_refused_not_cut(session):
    cur = session.cursor()
    if session.binary_values:
        cur.execute("SELECT ?", ("a\x00b",))
        assert cur.fetchall() == [("a\x00b",)]
    else:
        with pytest.raises(DataError, match="NUL"):
            cur.execute("SELECT ?", ("a\x00b'; DROP TABLE guard; --",))


def test_special_floats_round_trip(session):
    cur = session.cursor()
    cur.execute("SELECT CAST(? AS DOUBLE), CAST(? AS DOUBLE), CAST(? AS DOUBLE)",
                (math.inf, -math.inf, math.nan))
    row, = cur.fetchall()
    values = [float(v) for v in row]
    assert values[0] == math.inf and values[1] == -math.inf and math.isnan(values[2])


# ---------------------------------------------------------------- text BIND, array bind, COPY

_TEXT_COPY_WS = " \t\n\x0b\x0c\r"


def text_copy_refuses(value) -> bool:
    """docs/protocol.md 7.1: what text COPY cannot carry (no escaping, REFERENCE 7.8)."""
    if not isinstance(value, str):
        return False
    return (any(ch in value for ch in ";\n\r") or value[:1] in tuple(_TEXT_COPY_WS)
            or value[-1:] in tuple(_TEXT_COPY_WS) or value.upper() in ("NULL", "<NULL>"))


PATHS = ["prepared", "executemany", "copy-binary", "copy-text"]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("case", sorted(CASES))
def test_every_later_path(devserver, case, path):
    column_type, strategy, _, _ = CASES[case]
    options = {"binary_copy": False} if path == "copy-text" else {}
    conn = scratchbird.connect(devserver.dsn, **options)
    conn.autocommit = True
    table = f"param_{case}_{path.replace('-', '_')}_{devserver.profile_name}"
    cur, raw = conn.cursor(), conn.cursor(raw_text=True)
    cur.execute(f"CREATE TABLE {table} (k INTEGER, v {column_type})")
    cur.execute("CREATE TABLE IF NOT EXISTS guard (x INTEGER)")
    binary = conn.binary_values

    def store(value) -> int:
        """Stores ``value`` under k = 7 (and k = 8 for executemany); the rows holding it."""
        if path == "prepared":
            cur.execute(f"INSERT INTO {table} VALUES (?, ?)", (7, value), prepare=True)
            cur.execute(f"SELECT count(*) FROM {table} WHERE k = ? AND v = ?", (7, value),
                        prepare=True)
            assert cur.fetchall() == [(1,)]
            return 1
        if path == "executemany":
            cur.executemany(f"INSERT INTO {table} (k, v) VALUES (?, ?)", [(7, value), (8, value)])
            assert cur.rowcount == 2
            return 2
        with cur.copy(f"COPY {table} (k, v) FROM STDIN") as copy:
            copy.write_row((7, value))
        assert cur.rowcount == 1
        return 1

    @SETTINGS
    @given(strategy)
    def round_trip(value):
        cur.execute(f"DELETE FROM {table}")
        if path == "copy-text" and text_copy_refuses(value):
            with pytest.raises(DataError, match="text COPY|COPY"):
                store(value)
            cur.execute(f"SELECT count(*) FROM {table}")
            assert cur.fetchall() == [(0,)]
            return
        rows = store(value)
        cur.execute(f"SELECT count(*), min(k) FROM {table}")
        assert cur.fetchall() == [(rows, 7)]
        cur.execute("SELECT count(*) FROM guard")
        assert cur.fetchall() == [(0,)]
        assert_stored(cur, raw, table, case, value, binary, rows)

    try:
        round_trip()
    finally:
        cur.execute(f"DROP TABLE {table}")
        conn.close()
