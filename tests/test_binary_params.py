"""Planning binary parameters (docs/protocol.md 1.7) and the mixed-row decoder."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

import scratchbird
from scratchbird._binary_params import plan_binary
from scratchbird._constants import param_type_from_oid
from scratchbird._impl import bincodec, rowcodec
from scratchbird._mixed_rows import MixedRowDecoder
from scratchbird._server_messages import Column, TypeRef


def test_named_placeholders_become_dollar_markers_in_first_use_order():
    sql, oids, rows = plan_binary("SELECT :a, :b, :a", [{"a": 1, "b": "x"}])
    assert sql == "SELECT $1, $2, $1"
    assert [param_type_from_oid(o) for o in oids] == [(2, 4), (8, 1)]
    assert rows == [[bincodec.encode_param(1)[1], bincodec.encode_param("x")[1]]]


def test_qmark_and_numeric():
    assert plan_binary("SELECT ?, ?", [(1, 2)])[0] == "SELECT $1, $2"
    sql, oids, rows = plan_binary("SELECT $2, $1", [(Decimal("1.5"), dt.date(2024, 1, 2))])
    assert sql == "SELECT $2, $1"
    assert [param_type_from_oid(o) for o in oids] == [(4, 1), (11, 1)]


def test_nulls_take_the_type_of_other_sets():
    sql, oids, rows = plan_binary("INSERT INTO t VALUES (?)", [(None,), (5,)])
    assert param_type_from_oid(oids[0]) == (2, 4) and rows[0] == [None]


def test_text_way_for_what_binary_cannot_carry():
    assert plan_binary("SELECT ?", [((1, 2),)]) is None                  # IN-list tuple
    assert plan_binary("SELECT ?", [(scratchbird.SqlLiteral("1"),)]) is None
    assert plan_binary("SELECT ?", [(1,), ("one",)]) is None              # types disagree


def test_errors_are_the_text_paths():
    with pytest.raises(scratchbird.ProgrammingError, match="no value was given for :a"):
        plan_binary("SELECT :a", [{"b": 1}])
    with pytest.raises(scratchbird.ProgrammingError):
        plan_binary("SELECT ?, ?", [(1,)])
    with pytest.raises(scratchbird.ProgrammingError):
        plan_binary("SELECT 1", [(1,)])


def test_mixed_decoder_text_and_binary_columns():
    text_col = Column("t", 20)
    bin_col = Column("b", 0, format=1, typeref=TypeRef(11, 1))
    dec = MixedRowDecoder([text_col, bin_col], rowcodec.DEFAULT_NULL_MARKERS)
    payload = rowcodec.encode_data_row([b"42", bincodec.encode_value((11, 1), dt.date(2024, 2, 29))])
    assert dec.decode_row(payload) == (42, dt.date(2024, 2, 29))
    loaded = MixedRowDecoder([text_col, bin_col], (), loaders=[None, bytes.hex])
    assert loaded.decode_row(payload)[1] == bincodec.encode_value((11, 1), dt.date(2024, 2, 29)).hex()
    bad = rowcodec.encode_data_row([b"1", b"\x01"])
    with pytest.raises(scratchbird.DataError):
        dec.decode_row(bad)
