"""Text BIND values (scratchbird._pure.textparams and its compiled twin): the twins agree
value by value, row by row, on every type and on the refusals."""
from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from enum import IntEnum

import pytest

from scratchbird._pure import textparams as pure
from scratchbird.types import Json, SqlLiteral

try:
    from scratchbird._compiled import textparams as compiled
except ImportError:  # pragma: no cover - depends on the build
    compiled = None

needs_compiled = pytest.mark.skipif(compiled is None, reason="compiled extensions not built")


class Small(IntEnum):
    ONE = 1


class Text(str):
    pass


VALUES = [None, True, False, 0, -1, 2 ** 63 - 1, -(2 ** 63), 2 ** 63, -(2 ** 70), Small.ONE,
          0.0, -0.0, 1.5, 1e20, 1e-7, float("nan"), float("inf"), float("-inf"),
          Decimal("1.50"), Decimal("-1E+3"), Decimal("NaN"), Decimal("-Infinity"),
          "", "x'y", "1); DROP TABLE t; --", "é€😀", Text("sub"), "nul\x00", "lone\ud800",
          dt.date(2026, 1, 2), dt.time(3, 4, 5), dt.datetime(2026, 1, 2, 3, 4, 5, 6),
          dt.datetime(2026, 1, 2, tzinfo=dt.timezone(dt.timedelta(hours=1))),
          dt.timedelta(days=1), uuid.UUID(int=5), b"\x00", bytearray(b"a"), (1, 2),
          Json({"a": 1}), SqlLiteral("now()")]


@needs_compiled
@pytest.mark.parametrize("value", VALUES, ids=[repr(v)[:30] for v in VALUES])
@pytest.mark.parametrize("exact_only", [False, True])
def test_twins_agree_on_each_value(value, exact_only):
    assert compiled.text_row([value], exact_only) == pure.text_row([value], exact_only)


@needs_compiled
def test_twins_agree_on_rows():
    row = [1, "a", None, 2.5, Decimal("3.25"), True, dt.date(2024, 5, 6)]
    assert compiled.text_row(row) == pure.text_row(row) == (
        (20, 25, 25, 701, 1700, 16, 25),
        [b"1", b"a", None, b"2.5", b"3.25", b"TRUE", b"2024-05-06"])
    assert compiled.text_row(row, True) is None and pure.text_row(row, True) is None
    assert compiled.text_row([]) == pure.text_row([]) == ((), [])


@pytest.mark.parametrize("twin", [pure] + ([compiled] if compiled else []))
def test_what_goes_the_literal_way(twin):
    for value in (b"\x00", (1, 2), "nul\x00", "lone\ud800", dt.timedelta(days=1),
                  SqlLiteral("now()")):
        assert twin.text_row([1, value]) is None
    assert twin.text_row([dt.date(2026, 1, 2)]) == ((25,), [b"2026-01-02"])
    assert twin.text_row([uuid.UUID(int=5)])[1] == [str(uuid.UUID(int=5)).encode()]
