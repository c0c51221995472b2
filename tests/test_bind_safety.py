"""Text BIND values against today's server (REFERENCE 5.2, 8.6): OIDs 16/20/21/23/700/
701/1700 are spliced unquoted, so the driver declares them only for values it checked
and rendered itself. A string can never become SQL, whatever column it is bound to."""
from __future__ import annotations

import struct
import uuid
from decimal import Decimal
from enum import IntEnum

import pytest

from scratchbird import _constants as c
from scratchbird.errors import DatabaseError
from scratchbird.prepared._plan import OID_TEXT, UNQUOTED_OIDS, StatementPlan, text_value
from tests.wire_spy import WireSpy

ATTACKS = ["1); DROP TABLE {t}; --", "1 OR 1=1", "0; DELETE FROM {t}", "1' OR '1'='1",
           "TRUE); DROP TABLE {t}; --", "1e3 UNION SELECT 1", "-1--", "1/*", "NaN"]


class Level(IntEnum):
    HIGH = 3


@pytest.mark.parametrize("value,oid,text", [
    (True, 16, b"TRUE"), (False, 16, b"FALSE"), (0, 20, b"0"), (-12, 20, b"-12"),
    (2 ** 63, 1700, b"9223372036854775808"), (Level.HIGH, 20, b"3"),
    (1.5, 701, b"1.5"), (1e20, 701, b"1e+20"), (-0.0, 701, b"-0.0"),
    (float("nan"), OID_TEXT, b"NaN"), (float("-inf"), OID_TEXT, b"-Infinity"),
    (Decimal("1E+3"), 1700, b"1000"), (Decimal("-0.001"), 1700, b"-0.001"),
    (Decimal("NaN"), OID_TEXT, b"NaN"), ("42", OID_TEXT, b"42"), ("x'y", OID_TEXT, b"x'y"),
    (None, OID_TEXT, None),
])
def test_text_value_types_only_what_it_rendered(value, oid, text):
    assert text_value(value) == (oid, text)


def test_strings_are_never_declared_numeric():
    for attack in ATTACKS + ["1", "1.5", "TRUE", " 2"]:
        oid, data = text_value(attack)
        assert oid == OID_TEXT and oid not in UNQUOTED_OIDS and data == attack.encode()

    class Sneaky(str):
        pass
    assert text_value(Sneaky("1; DROP"))[0] == OID_TEXT


def test_values_text_cannot_carry_go_the_literal_way():
    assert text_value(b"\x00\x01") is None            # X'..' is syntax, not a quoted text
    assert text_value((1, 2)) is None                 # an IN list
    assert text_value("nul\x00") is None              # the literal path raises its error
    plan = StatementPlan("SELECT * FROM t WHERE a = ? AND b = :x")
    assert not plan.preparable                         # mixed styles: the literal path says why


def _declared_oids(spy):
    for msg_type, payload in spy.frames:
        if msg_type == c.PARSE:
            pos = 4 + struct.unpack_from("<I", payload)[0]
            pos += 4 + struct.unpack_from("<I", payload, pos)[0]
            count, _ = struct.unpack_from("<HH", payload, pos)
            return list(struct.unpack_from(f"<{count}I", payload, pos + 4))
    return None


def test_string_bound_to_a_numeric_column_never_becomes_sql(conn):
    table = f"inj_{uuid.uuid4().hex[:10]}"
    cur = conn.cursor()
    cur.execute(f"CREATE TABLE {table} (id INTEGER, qty INTEGER, name TEXT)")
    cur.execute(f"INSERT INTO {table} (id, qty, name) VALUES (1, 10, 'a'), (2, 20, 'b')",
                prepare=False)
    conn.commit()
    spy = WireSpy(conn)
    declared = {}          # the types each statement was last parsed with
    for template in ATTACKS:
        attack = template.format(t=table)
        for sql, params in [
                (f"SELECT * FROM {table} WHERE id = ?", (attack,)),
                (f"SELECT * FROM {table} WHERE id = $1 AND qty > $2", (attack, 0)),
                (f"DELETE FROM {table} WHERE qty = ?", (attack,)),
                (f"UPDATE {table} SET qty = ? WHERE id = ?", (attack, 99)),
                (f"INSERT INTO {table} (id, qty, name) VALUES (?, ?, ?)", (99, attack, "z"))]:
            spy.clear()
            try:
                cur.execute(sql, params, prepare=True)
                rows = cur.fetchall() if cur.description else []
            except DatabaseError:
                rows = []
            conn.rollback()
            # a string is never all the rows, never a second statement
            assert len(rows) <= 1 and all(r[0] in (1, 99) for r in rows)
            if not conn.binary_values:
                oids = _declared_oids(spy) or declared[sql]   # no PARSE: the same types
                declared[sql] = oids
                assert oids[params.index(attack)] == OID_TEXT
    # The table and its rows are intact.
    assert sorted(conn.execute(f"SELECT id, qty, name FROM {table}").fetchall()) == \
        [(1, 10, "a"), (2, 20, "b")]


def test_numbers_are_declared_numeric_and_work_unquoted(conn):
    spy = WireSpy(conn)
    cur = conn.cursor()
    cur.execute("SELECT ? + 1 AS a, ? AS b, ? AS c", (41, Decimal("2.50"), True), prepare=True)
    row = cur.fetchall()[0]
    assert row[0] == 42 and row[1] == Decimal("2.50")
    if not conn.binary_values:
        assert _declared_oids(spy) == [20, 1700, 16]
