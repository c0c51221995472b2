"""Client-side parameter binding: literal rendering and placeholder substitution.

Tests the implementation ``scratchbird._impl`` selected (SCRATCHBIRD_IMPL=c|python).
Every rendered literal is executed by a real SQL engine (DuckDB, in process) and must
come back as the value it was rendered from: that is what proves a literal is a
literal, whatever the text looks like. Where DuckDB's Python conversion needs extra
modules (TIMESTAMPTZ needs pytz), the value is compared through epoch_us instead.
"""
from __future__ import annotations

import datetime as dt
import enum
import json
import math
import types
import uuid
from collections.abc import Sequence
from decimal import Decimal

import duckdb
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from scratchbird._impl import literals
from scratchbird.errors import DataError, ProgrammingError
from scratchbird.types import Json

render_literal = literals.render_literal
quote_identifier = literals.quote_identifier
merge_params = literals.merge_params

UTC = dt.timezone.utc
EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def duck():
    con = duckdb.connect()
    yield con
    con.close()


def select(duck, literal: str):
    """What DuckDB makes of ``SELECT <literal>``."""
    return duck.execute("SELECT " + literal).fetchone()[0]


def tz(hours=0, minutes=0, seconds=0):
    return dt.timezone(dt.timedelta(hours=hours, minutes=minutes, seconds=seconds))


# ---------------------------------------------------------------------------------
# NULL, booleans, integers
# ---------------------------------------------------------------------------------

def test_none_and_booleans(duck):
    assert render_literal(None) == "NULL"
    assert render_literal(True) == "TRUE"
    assert render_literal(False) == "FALSE"
    assert select(duck, render_literal(None)) is None
    assert select(duck, render_literal(True)) is True
    assert select(duck, render_literal(False)) is False


INT64_MIN, INT64_MAX = -2**63, 2**63 - 1
INTS = [0, 1, -1, 42, -2**31, 2**31 - 1, INT64_MIN, INT64_MAX, INT64_MIN - 1, INT64_MAX + 1,
        -2**127, 2**127 - 1, 2**128 - 1, 10**38, 10**60, -10**60]


@pytest.mark.parametrize("value", INTS)
def test_integers_round_trip(duck, value):
    text = render_literal(value)
    assert text == str(value)
    # DuckDB reads up to HUGEINT/UHUGEINT natively and wider ones as BIGNUM (as text)
    assert int(select(duck, text)) == value


def test_int_subclasses_render_their_number(duck):
    class Color(enum.IntEnum):
        RED = 7

    assert render_literal(Color.RED) == "7"  # not "Color.RED"
    assert select(duck, render_literal(Color.RED)) == 7


def test_bool_is_checked_before_int():
    assert render_literal(True) != "1"
    assert render_literal((True, 1)) == "(TRUE, 1)"


def test_integer_too_long_for_text_is_a_data_error():
    with pytest.raises(DataError, match="too large"):
        render_literal(10**5000)  # beyond sys.get_int_max_str_digits()


# ---------------------------------------------------------------------------------
# Floats and decimals
# ---------------------------------------------------------------------------------

FLOATS = [0.0, -0.0, 0.1, -2.5, 1.0, 1 / 3, 1e20, 1e-7, 1e16, 123456789012345678.0, 5e-324,
          2.2250738585072014e-308, 1.7976931348623157e308, -1.7976931348623157e308,
          0.30000000000000004, 2.0**53 + 2]


@pytest.mark.parametrize("value", FLOATS)
def test_floats_round_trip(duck, value):
    text = render_literal(value)
    assert text == repr(value)
    assert float(text) == value and math.copysign(1, float(text)) == math.copysign(1, value)
    # DuckDB types 0.1 as DECIMAL(1,1) and 1e20 as DOUBLE; both convert back exactly.
    # (Its exact decimal has no -0, so the sign of -0.0 is checked on the text above.)
    assert float(select(duck, text)) == value


def test_float_specials_are_quoted_strings(duck):
    assert render_literal(math.nan) == "'NaN'"
    assert render_literal(math.inf) == "'Infinity'"
    assert render_literal(-math.inf) == "'-Infinity'"
    assert math.isnan(select(duck, f"CAST({render_literal(math.nan)} AS DOUBLE)"))
    assert select(duck, f"CAST({render_literal(math.inf)} AS DOUBLE)") == math.inf
    assert select(duck, f"CAST({render_literal(-math.inf)} AS DOUBLE)") == -math.inf


def test_float_subclass_renders_as_float():
    class Money(float):
        def __repr__(self):
            return "Money!"

    assert render_literal(Money(1.25)) == "1.25"


DECIMALS = ["0", "1.5", "-1.25", "1.000", "-0.00", "0.000000000000000000000000000001",
            "12345678901234567890.123456789", "99999999999999999999999999999999999999",
            "1E+3", "-4.2E+10", "1.5E-10", "0E-5"]


@pytest.mark.parametrize("text", DECIMALS)
def test_decimals_round_trip(duck, text):
    value = Decimal(text)
    literal = render_literal(value)
    assert "E" not in literal.upper()
    assert Decimal(literal) == value
    assert Decimal(select(duck, literal)) == value  # DuckDB DECIMAL holds 38 digits


def test_decimal_fixed_point_text():
    assert render_literal(Decimal("1E+3")) == "1000"
    assert render_literal(Decimal("1E-3")) == "0.001"
    assert render_literal(Decimal("-1.50")) == "-1.50"


def test_wide_decimal_keeps_every_digit():
    value = Decimal("-1234567890123456789012345678.0123456789123456789")
    assert Decimal(render_literal(value)) == value


def test_decimal_specials(duck):
    assert render_literal(Decimal("NaN")) == "'NaN'"
    assert render_literal(Decimal("Infinity")) == "'Infinity'"
    assert render_literal(Decimal("-Infinity")) == "'-Infinity'"
    assert select(duck, f"CAST({render_literal(Decimal('-Infinity'))} AS DOUBLE)") == -math.inf
    with pytest.raises(DataError, match="signalling NaN"):
        render_literal(Decimal("sNaN"))


def test_decimal_too_wide_to_write_out_is_refused():
    # valid Python, but fixed-point text would be a billion characters
    with pytest.raises(DataError, match="out of range"):
        render_literal(Decimal("1E+999999999"))
    with pytest.raises(DataError, match="out of range"):
        render_literal(Decimal("1E-999999999"))
    assert render_literal(Decimal("0E+999999999")) == "0"


# ---------------------------------------------------------------------------------
# Strings
# ---------------------------------------------------------------------------------

ADVERSARIAL = [
    "", " ", "plain", "it's", "''", "'", "'''", "a''b", '"', '""', 'say "hi"',
    "back\\slash", "\\", "\\'", "'\\", "a\\nb", "; DROP TABLE t; --", "'; DROP TABLE t; --",
    "x' OR '1'='1", "-- comment", "/* open", "*/", "$$", "$tag$", "?", ":name", "$1",
    "line1\nline2", "tab\there", "cr\rlf\n", "\x01\x1f\x7f", "ünïcødé €", "日本語",
    "emoji 😀👍🏽", "\U0010ffff", "\ufeffbom", "a=b;c=d", "E'x'", "X'00'", "%s %(x)s {0}",
]


@pytest.mark.parametrize("text", ADVERSARIAL)
def test_strings_round_trip(duck, text):
    literal = render_literal(text)
    assert literal == "'" + text.replace("'", "''") + "'"
    assert select(duck, literal) == text


def test_string_cannot_escape_its_quotes(duck):
    duck.execute("CREATE TABLE victim (x INTEGER)")
    try:
        for text in ADVERSARIAL:
            sql = merge_params("SELECT ? AS v", [text])
            assert duck.execute(sql).fetchall() == [(text,)]
        assert duck.execute("SELECT count(*) FROM victim").fetchone()[0] == 0
    finally:
        duck.execute("DROP TABLE victim")


@pytest.mark.parametrize("text", ["\x00", "a\x00", "\x00b", "x' \x00; DROP TABLE t", "é\x00",
                                  "日\x00", "😀\x00"])
def test_nul_is_refused(text):
    # the QUERY payload ends the SQL at the first NUL (REFERENCE 4.1)
    with pytest.raises(DataError, match="NUL") as info:
        render_literal(text)
    assert f"index {text.index(chr(0))}" in str(info.value)


@pytest.mark.parametrize("text", ["\ud800", "a\udfff", "😀\udc00x"])
def test_lone_surrogates_are_refused(text):
    with pytest.raises(DataError, match="surrogate"):
        render_literal(text)


def test_very_long_strings(duck):
    for text in ["x" * 1_000_000, "'" * 100_000, "é'" * 50_000, "😀'" * 50_000]:
        literal = render_literal(text)
        assert len(literal) == len(text) + 2 + text.count("'")
        assert select(duck, literal) == text


def test_every_bmp_character_round_trips(duck):
    text = "".join(chr(c) for c in range(1, 0x10000) if not 0xD800 <= c <= 0xDFFF)
    assert select(duck, render_literal(text)) == text


def test_str_subclass_renders_its_value(duck):
    class Shout(str):
        def replace(self, *args):  # must not be used: str.replace is
            return "HACKED"

    class Mood(str, enum.Enum):
        HAPPY = "it's fine"

    assert render_literal(Shout("a'b")) == "'a''b'"
    assert select(duck, render_literal(Mood.HAPPY)) == "it's fine"


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00")))
@example("'); DROP TABLE t; --")
@example("\\'")
def test_any_text_round_trips_through_merge(text):
    with duckdb.connect() as con:
        for sql, params in [("SELECT ?", [text]), ("SELECT $1", (text,)),
                            ("SELECT :v /* ? */", {"v": text}),
                            ("SELECT '?', ? -- ?\n", [text])]:
            assert con.execute(merge_params(sql, params)).fetchone()[-1] == text


@given(st.text(), st.text(min_size=0, max_size=5))
def test_text_with_nul_is_always_refused(head, tail):
    with pytest.raises(DataError):
        render_literal(head + "\x00" + tail)


# ---------------------------------------------------------------------------------
# Bytes, dates and times, intervals, UUIDs, JSON, tuples
# ---------------------------------------------------------------------------------

def test_bytes_all_values(duck):
    data = bytes(range(256))
    literal = render_literal(data)
    assert literal == "X'" + data.hex() + "'"
    assert select(duck, literal) == data
    assert render_literal(bytearray(data)) == literal
    assert render_literal(memoryview(data)) == literal
    assert select(duck, render_literal(b"")) == b""


def test_bytes_from_a_strided_memoryview(duck):
    view = memoryview(b"a-b-c-")[::2]
    assert select(duck, render_literal(view)) == b"abc"


@pytest.mark.parametrize("value", [dt.date(1, 1, 1), dt.date(999, 12, 31), dt.date(2024, 2, 29),
                                   dt.date(9999, 12, 31)])
def test_dates(duck, value):
    literal = render_literal(value)
    assert literal == f"DATE '{value.isoformat()}'"
    assert select(duck, literal) == value


@pytest.mark.parametrize("value", [dt.time(0, 0), dt.time(13, 14, 15), dt.time(13, 14, 15, 500000),
                                   dt.time(23, 59, 59, 999999)])
def test_naive_times(duck, value):
    literal = render_literal(value)
    assert literal == f"TIME '{value.isoformat()}'"
    assert select(duck, literal) == value


OFFSETS = [UTC, tz(5, 30), tz(-3, -30), tz(14), tz(-12), tz(5, 45), tz(-9, -30),
           tz(5, 30, 15), tz(-1, 0, -1)]


@pytest.mark.parametrize("zone", OFFSETS, ids=str)
def test_aware_times(duck, zone):
    value = dt.time(13, 14, 15, 123456, tzinfo=zone)
    literal = render_literal(value)
    assert literal.startswith("TIMETZ '13:14:15.123456")
    back = select(duck, literal)
    assert back == value and back.utcoffset() == value.utcoffset()


def test_time_offset_text():
    assert render_literal(dt.time(1, 2, 3, tzinfo=tz(-3, -30))) == "TIMETZ '01:02:03-03:30'"
    assert render_literal(dt.time(1, 2, 3, tzinfo=UTC)) == "TIMETZ '01:02:03+00:00'"
    assert render_literal(dt.time(1, 2, 3, tzinfo=tz(5, 30, 15))) == "TIMETZ '01:02:03+05:30:15'"


@pytest.mark.parametrize("value", [dt.datetime(1, 1, 1), dt.datetime(2024, 2, 29, 13, 14, 15),
                                   dt.datetime(2024, 2, 29, 13, 14, 15, 1),
                                   dt.datetime(9999, 12, 31, 23, 59, 59, 999999)])
def test_naive_datetimes(duck, value):
    literal = render_literal(value)
    assert literal == f"TIMESTAMP '{value.isoformat(' ')}'"
    assert select(duck, literal) == value


@pytest.mark.parametrize("zone", OFFSETS, ids=str)
@pytest.mark.parametrize("value", [dt.datetime(2024, 2, 29, 13, 14, 15, 500000),
                                   dt.datetime(1, 1, 2), dt.datetime(9999, 12, 30, 23, 59, 59)])
def test_aware_datetimes(duck, value, zone):
    aware = value.replace(tzinfo=zone)
    literal = render_literal(aware)
    assert literal.startswith("TIMESTAMPTZ '" + value.isoformat(" "))
    expected_us = (aware - EPOCH) // dt.timedelta(microseconds=1)
    assert select(duck, f"epoch_us({literal})") == expected_us


def test_aware_datetime_in_a_named_zone(duck):
    zoneinfo = pytest.importorskip("zoneinfo")
    try:
        zone = zoneinfo.ZoneInfo("America/St_Johns")  # -03:30 / -02:30
    except zoneinfo.ZoneInfoNotFoundError:
        pytest.skip("no time zone database")
    value = dt.datetime(2024, 7, 1, 12, 0, tzinfo=zone)
    assert render_literal(value) == "TIMESTAMPTZ '2024-07-01 12:00:00-02:30'"
    assert select(duck, f"epoch_us({render_literal(value)})") == (value - EPOCH) // dt.timedelta(
        microseconds=1)
    # a time with a zone but no date has no offset: it goes as a plain TIME
    assert render_literal(dt.time(1, 2, tzinfo=zone)) == "TIME '01:02:00'"


def test_offsets_with_fractions_of_a_second_are_refused():
    zone = dt.timezone(dt.timedelta(hours=1, microseconds=5))
    with pytest.raises(DataError, match="fraction of a second"):
        render_literal(dt.datetime(2024, 1, 1, tzinfo=zone))


TIMEDELTAS = [dt.timedelta(0), dt.timedelta(days=1), dt.timedelta(microseconds=1),
              dt.timedelta(microseconds=-1), dt.timedelta(days=-1, seconds=5),
              -dt.timedelta(hours=1, minutes=30), dt.timedelta(days=3, hours=4, microseconds=5),
              dt.timedelta(days=-400, microseconds=-999999), dt.timedelta.max, dt.timedelta.min]


@pytest.mark.parametrize("value", TIMEDELTAS, ids=str)
def test_timedeltas_round_trip(duck, value):
    literal = render_literal(value)
    assert literal == (f"INTERVAL '{value.days} days {value.seconds} seconds "
                       f"{value.microseconds} microseconds'")
    assert select(duck, literal) == value


@pytest.mark.parametrize("value", [uuid.UUID(int=0), uuid.UUID(int=2**128 - 1), uuid.uuid4(),
                                   uuid.UUID("0191E7C2-0000-7000-8000-00000000A001")])
def test_uuids(duck, value):
    literal = render_literal(value)
    assert literal == f"'{value}'" and literal == literal.lower()
    assert select(duck, f"CAST({literal} AS UUID)") == value


def test_json(duck):
    obj = {"a": [1, 2.5, None, True], "quote": "it's", "nul": "\x00", "emoji": "😀"}
    literal = render_literal(Json(obj))
    assert literal == "'" + json.dumps(obj).replace("'", "''") + "'"
    assert json.loads(select(duck, literal)) == obj
    custom = Json(obj, dumps=lambda o: json.dumps(o, ensure_ascii=False, sort_keys=True))
    assert json.loads(select(duck, render_literal(custom))) == obj


def test_json_dumps_must_return_text():
    with pytest.raises(ProgrammingError, match="bytes"):
        render_literal(Json({}, dumps=lambda o: b"{}"))
    with pytest.raises(DataError, match="NUL"):
        render_literal(Json({}, dumps=lambda o: '{"a": "\x00"}'))


def test_tuples_make_in_lists(duck):
    assert render_literal((1, "a", None)) == "(1, 'a', NULL)"
    assert render_literal((5,)) == "(5)"
    assert select(duck, "2 IN " + render_literal((1, 2, 3))) is True
    assert select(duck, "'b''c' IN " + render_literal(("a", "b'c"))) is True
    assert select(duck, merge_params("4 IN ?", [(1, 2, 3)])) is False
    assert select(duck, render_literal((1, (2, 3)))) == (1, (2, 3))
    with pytest.raises(ProgrammingError, match="empty tuple"):
        render_literal(())
    with pytest.raises(DataError):
        render_literal(("ok", "bad\x00"))


@pytest.mark.parametrize("value, hint", [({"a": 1}, "Json"), ([1, 2], "Json"), ({1, 2}, "tuple"),
                                         (frozenset(), "tuple"), (object(), None),
                                         (1j, None), (types.SimpleNamespace(), None)])
def test_other_types_are_refused(value, hint):
    with pytest.raises(ProgrammingError) as info:
        render_literal(value)
    message = str(info.value)
    assert type(value).__qualname__ in message
    if hint:
        assert hint in message


# ---------------------------------------------------------------------------------
# Property round trips through DuckDB
# ---------------------------------------------------------------------------------

@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=-2**127, max_value=2**128 - 1))
def test_any_integer_round_trips(duck, value):
    assert int(select(duck, render_literal(value))) == value


@settings(max_examples=200, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_any_float_round_trips(duck, value):
    text = render_literal(value)
    assert float(text) == value and math.copysign(1, float(text)) == math.copysign(1, value)
    assert float(select(duck, text)) == value


@settings(max_examples=200, deadline=None)
@given(st.decimals(min_value=-10**20, max_value=10**20, places=10))
def test_any_decimal_round_trips(duck, value):
    assert Decimal(select(duck, render_literal(value))) == value


# whole-second offsets up to +-15:59:59 (the range DuckDB accepts)
WHOLE_SECOND_OFFSETS = st.integers(min_value=-57599, max_value=57599).map(
    lambda seconds: dt.timezone(dt.timedelta(seconds=seconds)))


@settings(max_examples=200, deadline=None)
@given(st.datetimes(timezones=WHOLE_SECOND_OFFSETS))
def test_any_aware_datetime_round_trips(duck, value):
    expected_us = (value - EPOCH) // dt.timedelta(microseconds=1)
    assert select(duck, f"epoch_us({render_literal(value)})") == expected_us


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.datetimes(), st.dates(), st.times(), st.timedeltas()))
def test_any_naive_temporal_round_trips(duck, value):
    assert select(duck, render_literal(value)) == value


# ---------------------------------------------------------------------------------
# Identifiers
# ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["a", "Mixed Case", 'we"ird', '""', "sp ace; DROP", "ünï", "😀"])
def test_quote_identifier(duck, name):
    quoted = quote_identifier(name)
    assert quoted == '"' + name.replace('"', '""') + '"'
    assert duck.execute(f"SELECT 1 AS {quoted}").description[0][0] == name


def test_quote_identifier_refusals():
    with pytest.raises(DataError, match="NUL"):
        quote_identifier("a\x00b")
    with pytest.raises(DataError, match="surrogate"):
        quote_identifier("\ud800")
    with pytest.raises(ProgrammingError, match="empty"):
        quote_identifier("")
    with pytest.raises(ProgrammingError, match="str"):
        quote_identifier(b"name")


# ---------------------------------------------------------------------------------
# merge_params: styles and counts
# ---------------------------------------------------------------------------------

def test_none_params_leave_the_sql_alone():
    sql = "SELECT '? :x $1 unterminated"
    assert merge_params(sql, None) is sql
    assert merge_params(b"not even text", None) == b"not even text"


def test_no_placeholders_and_empty_params():
    assert merge_params("SELECT 1", []) == "SELECT 1"
    assert merge_params("SELECT 1", ()) == "SELECT 1"
    assert merge_params("SELECT 1", {}) == "SELECT 1"
    assert merge_params("SELECT '?', ':x', $$?$$", []) == "SELECT '?', ':x', $$?$$"


def test_qmark(duck):
    sql = merge_params("SELECT ?, ?, ?", [1, "two", None])
    assert sql == "SELECT 1, 'two', NULL"
    assert duck.execute(sql).fetchone() == (1, "two", None)


def test_numeric(duck):
    assert merge_params("SELECT $2, $1, $2", ("a", "b")) == "SELECT 'b', 'a', 'b'"
    values = list(range(100, 111))
    sql = merge_params("SELECT $10, $1, $11, " + ", ".join(f"${k}" for k in range(1, 12)), values)
    assert duck.execute(sql).fetchone()[:3] == (109, 100, 110)


def test_named(duck):
    sql = merge_params("SELECT :a, :b_2, :a, :_c", {"a": 1, "b_2": "x", "_c": None})
    assert sql == "SELECT 1, 'x', 1, NULL"
    assert duck.execute(sql).fetchone() == (1, "x", 1, None)


def test_named_next_to_punctuation(duck):
    sql = merge_params("SELECT (:a,:b),:a||:b,[:a],:a+1,:a::VARCHAR,:a;",
                       {"a": 1, "b": 2})
    assert sql == "SELECT (1,2),1||2,[1],1+1,1::VARCHAR,1;"
    assert duck.execute(sql).fetchone() == ((1, 2), "12", [1], 2, "1", 1)


def test_casts_and_odd_colons_are_not_placeholders():
    assert merge_params("SELECT 1::int, x:::y, a := 1, :1, : a", {}) == \
        "SELECT 1::int, x:::y, a := 1, :1, : a"
    assert merge_params("SELECT '{\"a\":1}'::JSON", ()) == "SELECT '{\"a\":1}'::JSON"


def test_count_mismatch_messages():
    with pytest.raises(ProgrammingError) as info:
        merge_params("SELECT ?, ?", [1, 2, 3])
    assert str(info.value) == "the query has 2 placeholders but 3 parameters were given"
    with pytest.raises(ProgrammingError, match="1 placeholder but 0 parameters were given"):
        merge_params("SELECT ?", [])
    with pytest.raises(ProgrammingError, match="0 placeholders but 1 parameter was given"):
        merge_params("SELECT 1", [1])


def test_numeric_range_errors():
    with pytest.raises(ProgrammingError, match=r"up to \$3 but 2 parameters"):
        merge_params("SELECT $1, $3", [1, 2])
    with pytest.raises(ProgrammingError, match=r"never uses \$2"):
        merge_params("SELECT $1, $3", [1, 2, 3])
    with pytest.raises(ProgrammingError, match=r"\$0"):
        merge_params("SELECT $0", [1])
    with pytest.raises(ProgrammingError, match=r"up to \$99999999999999999999"):
        merge_params("SELECT $99999999999999999999", [1])


def test_mixed_styles_are_refused():
    with pytest.raises(ProgrammingError, match="mixes"):
        merge_params("SELECT ?, $1", [1])
    with pytest.raises(ProgrammingError, match=":name"):
        merge_params("SELECT ?, :name", [1, 2])
    with pytest.raises(ProgrammingError, match="mapping"):
        merge_params("SELECT ?", {"a": 1})
    with pytest.raises(ProgrammingError, match="mapping"):
        merge_params("SELECT $1", {"a": 1})


def test_named_key_errors():
    with pytest.raises(ProgrammingError, match=":b"):
        merge_params("SELECT :a, :b", {"a": 1})
    with pytest.raises(ProgrammingError) as info:
        merge_params("SELECT :a", {"a": 1, "zz": 2, "yy": 3})
    assert "'yy', 'zz'" in str(info.value)
    with pytest.raises(ProgrammingError, match="'x'"):
        merge_params("SELECT 1", {"x": 1})


@pytest.mark.parametrize("params", ["ab", b"ab", bytearray(b"ab"), 5, {1, 2}, iter([1])])
def test_params_of_the_wrong_kind(params):
    with pytest.raises(ProgrammingError, match="sequence"):
        merge_params("SELECT ?, ?", params)


def test_sql_must_be_text():
    with pytest.raises(ProgrammingError, match="str"):
        merge_params(b"SELECT ?", [1])


def test_other_sequences_and_mappings():
    class Row(Sequence):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            if i >= 2:
                raise IndexError(i)
            return i * 10

    assert merge_params("SELECT ?, ?", Row()) == "SELECT 0, 10"
    assert merge_params("SELECT :a", types.MappingProxyType({"a": 1})) == "SELECT 1"


def test_str_subclass_sql():
    class Query(str):
        pass

    assert merge_params(Query("SELECT ?"), [1]) == "SELECT 1"


# ---------------------------------------------------------------------------------
# merge_params: what is not a placeholder
# ---------------------------------------------------------------------------------

@pytest.mark.parametrize("sql, runs_in_duckdb", [
    ("SELECT '?', ':a', '$1', 'it''s ?', ''", True),
    ('SELECT 1 AS "?", 2 AS "a""?", 3 AS ":a"', True),
    ("SELECT 1 -- ? :a $1\n", True),
    ("SELECT 1 /* ? */, /* /* ? */ :a */ 2", True),
    ("SELECT $$?$$, $$:a$$, $t$ ? $1 $$ ? $t$, $a$ $b$ ? $b$ $a$", True),
    ("SELECT E'\\'?', e'\\\\', E'it''s ?'", True),
    ("SELECT x$1, a$$b", False),  # PostgreSQL: $ continues a name; DuckDB has no such names
])
def test_quoted_and_commented_placeholders_are_left_alone(duck, sql, runs_in_duckdb):
    assert merge_params(sql, []) == sql
    assert merge_params(sql, {}) == sql
    if runs_in_duckdb:  # DuckDB would fail with "values were not provided" on a parameter
        assert duck.execute(sql).fetchone() is not None


def test_placeholders_among_quotes(duck):
    sql = "SELECT '?' AS a, ? AS b, 1 AS \"?\", $$?$$ AS d, ? /* ? */ AS e -- ?\n"
    merged = merge_params(sql, [1, 2])
    assert merged == "SELECT '?' AS a, 1 AS b, 1 AS \"?\", $$?$$ AS d, 2 /* ? */ AS e -- ?\n"
    assert duck.execute(merged).fetchone() == ("?", 1, 1, "?", 2)


def test_e_string_backslash_quote(duck):
    # E'\'' is one quote in PostgreSQL and DuckDB, so the ? after it is real
    sql = merge_params("SELECT E'\\'', ?", ["x"])
    assert sql == "SELECT E'\\'', 'x'"
    assert duck.execute(sql).fetchone() == ("'", "x")


def test_dollar_ten_is_not_dollar_one():
    values = [f"v{k}" for k in range(1, 11)]
    sql = "SELECT $10, $1, " + ", ".join(f"${k}" for k in range(2, 10))
    assert merge_params(sql, values).startswith("SELECT 'v10', 'v1', 'v2',")


def test_unterminated_quotes_and_comments_swallow_the_rest():
    for sql in ["SELECT ?, '?", 'SELECT ?, "?', "SELECT ? /* ? /* */ ?", "SELECT ?, $$ ?",
                "SELECT ?, $t$ ? $t", "SELECT ?, E'\\' ?", "SELECT ? -- ?"]:
        assert merge_params(sql, [1]) == sql.replace("?", "1", 1)


def test_lone_dollar_and_dollar_name():
    assert merge_params("SELECT $ ?, $a ?", [1, 2]) == "SELECT $ 1, $a 2"


# ---------------------------------------------------------------------------------
# merge_params: the literal never fuses with the SQL around it
# ---------------------------------------------------------------------------------

def test_negative_after_minus_is_not_a_comment(duck):
    sql = merge_params("SELECT 1-?, 2", [-1])
    assert sql == "SELECT 1- -1, 2"
    assert duck.execute(sql).fetchone() == (2, 2)
    assert merge_params("SELECT 1-?", [1]) == "SELECT 1-1"
    assert duck.execute(merge_params("SELECT 1-?", [-0.5])).fetchone()[0] == Decimal("1.5")


def test_literal_after_a_word_gets_a_space(duck):
    assert merge_params("SELECT E?", ["\\'; SELECT 1 --"]) == "SELECT E '\\''; SELECT 1 --'"
    assert merge_params("SELECT 1 IN?", [(1, 2)]) == "SELECT 1 IN (1, 2)"
    assert duck.execute(merge_params("SELECT 2 IN?", [(1, 2)])).fetchone()[0] is True
