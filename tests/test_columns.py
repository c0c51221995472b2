"""cursor.description and cursor.columns from the row description's metadata."""
from __future__ import annotations

import datetime as dt
import decimal

import scratchbird

from scratchbird._columns import column_info, describe
from scratchbird._constants import oid_for_typeref
from scratchbird._server_messages import Column, TypeRef


def _binary(name, family, code, **ref):
    typeref = TypeRef(family, code, **ref)
    return Column(name, oid_for_typeref(family, code), format=1, nullable=0, typeref=typeref)


def test_decimal_precision_scale_and_not_null():
    col = _binary("price", 4, 1, modifier_bitmap=0b11, precision=10, scale=2)
    assert describe(col) == ("price", 1700, None, None, 10, 2, False)
    info = column_info(col)
    assert (info.type_name, info.binary, info.python_type) == ("DECIMAL", True, decimal.Decimal)


def test_varchar_length_and_timestamptz():
    col = _binary("name", 8, 1, modifier_bitmap=0b1000, length_chars=40)
    assert describe(col)[3] == 40 and column_info(col).length == 40
    ts = _binary("at", 11, 3 | 0x8000, modifier_bitmap=0b100, datetime_precision=6)
    info = column_info(ts)
    assert info.type_code == 1184 and info.python_type is dt.datetime
    assert info.datetime_precision == 6


def test_text_session_columns(devserver):
    conn = scratchbird.connect(devserver.dsn, binary_transfer=False)
    cur = conn.execute("SELECT 1 AS a, 2.5 AS b, 'x' AS c, true AS d")
    assert [c.type_name for c in cur.columns] == ["INT64", "DECIMAL", "TEXT", "BOOLEAN"]
    assert [c.python_type for c in cur.columns] == [int, decimal.Decimal, str, bool]
    assert all(c.binary is False and c.nullable is True for c in cur.columns)
    cur.adapters.register_loader("text", str.upper)
    assert cur.columns[2].python_type is None  # a loader decides
    assert conn.cursor().columns is None
    conn.close()


def test_binary_session_columns(conn, profile):
    cur = conn.execute("SELECT 1::SMALLINT AS a, 2.5::DECIMAL(9,3) AS b, DATE '2024-01-02' AS c")
    if profile == "sbsql":
        assert [c.binary for c in cur.columns] == [False, False, False]
        return
    assert [c.type_name for c in cur.columns] == ["INT16", "DECIMAL", "DATE"]
    assert [c.python_type for c in cur.columns] == [int, decimal.Decimal, dt.date]
    assert cur.columns[1].precision == 9 and cur.columns[1].scale == 3
    assert cur.fetchone() == (1, decimal.Decimal("2.500"), dt.date(2024, 1, 2))


def test_oid_mapping_for_typerefs():
    assert oid_for_typeref(2, 3) == 23 and oid_for_typeref(2, 1) == 21 and oid_for_typeref(3, 4) == 20
    assert oid_for_typeref(6, 3) == 701 and oid_for_typeref(11, 1) == 1082
    assert oid_for_typeref(11, 3) == 1114 and oid_for_typeref(11, 0x8003) == 1184
    assert oid_for_typeref(13, 1) == 2950 and oid_for_typeref(20, 3) == 3802
    assert oid_for_typeref(99, 1) == 25
