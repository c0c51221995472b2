"""Type map of the SQLAlchemy dialect, both ways (the README's binary type map).

Results arrive in two forms. With binary values (profile ``full``, feature bit 32) the driver
already hands over the Python type of the README's table: ``Decimal``, aware ``datetime``,
``uuid.UUID``, ``list``, ``bytes``, :class:`scratchbird.Interval`. Today's server sends text
only and types a column from its first row (REFERENCE 8.2, 12.A.5), so a date is a ``str``, a
text column whose first value was ``42`` is an ``int``, and a BLOB is hex text. Each result
processor below therefore converts by the *declared SQLAlchemy type* of the column and leaves a
value that already has the right type alone.
"""
from __future__ import annotations

import datetime as _dt
import decimal
import json
import re
import uuid
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Type, cast

from sqlalchemy import types as sqltypes
from sqlalchemy.dialects.postgresql import ARRAY as _PGARRAY
from sqlalchemy.dialects.postgresql import INTERVAL as _PGINTERVAL
from sqlalchemy.dialects.postgresql import JSON as _PGJSON
from sqlalchemy.dialects.postgresql import JSONB as _PGJSONB

from scratchbird.binary_types import Interval as _WireInterval
from scratchbird.binary_types import Jsonb as _WireJsonb

if TYPE_CHECKING:
    from sqlalchemy.engine.interfaces import Dialect

    from scratchbird.sqlalchemy.dialect import ScratchbirdDialect

__all__ = ["colspecs", "ischema_names", "parse_interval"]

Processor = Optional[Callable[[Any], Any]]


class SBString(sqltypes.String):
    """A text column whose first row looked like a number comes back typed int/Decimal."""

    def result_processor(self, dialect: Dialect, coltype: object) -> Processor:
        def process(value: Any) -> Any:
            if value is None or isinstance(value, str):
                return value
            return str(value)
        return process


class SBNumeric(sqltypes.Numeric[Any]):
    def bind_processor(self, dialect: Dialect) -> Processor:
        return None   # the driver renders Decimal and float itself

    def result_processor(self, dialect: Dialect, coltype: object) -> Processor:
        if self.asdecimal:
            scale = self._effective_decimal_return_scale

            def process(value: Any) -> Any:
                if value is None or isinstance(value, decimal.Decimal):
                    return value
                if isinstance(value, float) and scale is not None:
                    return decimal.Decimal(repr(value)).quantize(decimal.Decimal(1).scaleb(-scale))
                return decimal.Decimal(str(value))
            return process

        def process_float(value: Any) -> Any:
            return None if value is None else float(value)
        return process_float


class SBFloat(sqltypes.Float[Any]):
    def bind_processor(self, dialect: Dialect) -> Processor:
        return None

    def result_processor(self, dialect: Dialect, coltype: object) -> Processor:
        if self.asdecimal:
            return SBNumeric(asdecimal=True, decimal_return_scale=self.decimal_return_scale) \
                .result_processor(dialect, coltype)

        def process(value: Any) -> Any:
            return None if value is None else float(value)
        return process


class SBInteger(sqltypes.Integer):
    def result_processor(self, dialect: Dialect, coltype: object) -> Processor:
        def process(value: Any) -> Any:
            return value if value is None or type(value) is int else int(value)
        return process


class SBBigInteger(SBInteger, sqltypes.BigInteger):
    pass


class SBSmallInteger(SBInteger, sqltypes.SmallInteger):
    pass


class SBBoolean(sqltypes.Boolean):
    """``SELECT 1 = 1`` is an int8 on today's server (REFERENCE 12.A.16)."""

    def result_processor(self, dialect: Dialect, coltype: object) -> Processor:
        def process(value: Any) -> Any:
            if value is None or isinstance(value, bool):
                return value
            if isinstance(value, str):
                return value.strip().lower() in ("t", "true", "1", "yes", "y", "on")
            return bool(value)
        return process


def _text_to(parse: Callable[[str], Any], kind: type) -> Callable[[Any], Any]:
    def process(value: Any) -> Any:
        if value is None or isinstance(value, kind):
            return value
        return parse(str(value))
    return process


_TZ_SUFFIX = re.compile(r"([+-]\d\d)$")


def _parse_datetime(text: str) -> _dt.datetime:
    text = text.strip().replace(" ", "T", 1)
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    text = _TZ_SUFFIX.sub(r"\1:00", text)   # '+00' (PostgreSQL/DuckDB form) for Python 3.10
    return _dt.datetime.fromisoformat(text)


class SBDateTime(sqltypes.DateTime):
    def result_processor(self, dialect: Dialect, coltype: object) -> Processor:
        parse = _text_to(_parse_datetime, _dt.datetime)
        if not self.timezone:
            return parse

        def process(value: Any) -> Any:
            value = parse(value)
            if value is not None and value.tzinfo is None:
                value = value.replace(tzinfo=_dt.timezone.utc)
            return value
        return process


class SBDate(sqltypes.Date):
    def result_processor(self, dialect: Dialect, coltype: object) -> Processor:
        def parse(text: str) -> _dt.date:
            return _dt.date.fromisoformat(text.strip()[:10])
        base = _text_to(parse, _dt.date)

        def process(value: Any) -> Any:
            if isinstance(value, _dt.datetime):
                return value.date()
            return base(value)
        return process


class SBTime(sqltypes.Time):
    def result_processor(self, dialect: Dialect, coltype: object) -> Processor:
        def parse(text: str) -> _dt.time:
            text = _TZ_SUFFIX.sub(r"\1:00", text.strip())
            return _dt.time.fromisoformat(text)
        return _text_to(parse, _dt.time)


_INTERVAL_PART = re.compile(
    r"(?P<num>[+-]?\d+)\s*(?P<unit>years?|mons?|months?|days?)|"
    r"(?P<sign>[+-]?)(?P<h>\d+):(?P<m>\d\d):(?P<s>\d\d(?:\.\d+)?)", re.IGNORECASE)


def parse_interval(text: str) -> _dt.timedelta:
    """DuckDB's interval text (``1 day 02:03:04.5``) as a timedelta; months count as 30 days,
    as ``Interval.to_timedelta`` refuses them otherwise: a year-month interval has no exact
    length, so a column meant for them should be read as text."""
    total = _dt.timedelta()
    for m in _INTERVAL_PART.finditer(text):
        if m.group("num") is not None:
            n, unit = int(m.group("num")), m.group("unit").lower()
            if unit.startswith("year"):
                total += _dt.timedelta(days=365 * n)
            elif unit.startswith("mon"):
                total += _dt.timedelta(days=30 * n)
            else:
                total += _dt.timedelta(days=n)
        else:
            sign = -1 if m.group("sign") == "-" else 1
            total += sign * _dt.timedelta(hours=int(m.group("h")), minutes=int(m.group("m")),
                                          seconds=float(m.group("s")))
    return total


class SBInterval(_PGINTERVAL):
    @classmethod
    def adapt_emulated_to_native(cls, interval: Any,  # type: ignore[override]  # PG INTERVAL names it interval, NativeForEmulated impl: one base always disagrees
                                 **kw: Any) -> "SBInterval":
        return cls(precision=interval.second_precision)

    def bind_processor(self, dialect: Dialect) -> Processor:
        return None

    def result_processor(self, dialect: Dialect, coltype: object) -> Processor:
        def process(value: Any) -> Any:
            if value is None or isinstance(value, _dt.timedelta):
                return value
            if isinstance(value, _WireInterval):
                return value.to_timedelta()
            return parse_interval(str(value))
        return process


class SBUuid(sqltypes.Uuid[Any]):
    def bind_processor(self, dialect: Dialect) -> Processor:
        if not self.native_uuid:
            return super().bind_processor(dialect)   # CHAR(32) hex, SQLAlchemy's own
        if self.as_uuid:
            return None   # the driver sends uuid.UUID natively

        def process(value: Any) -> Any:
            return None if value is None else uuid.UUID(str(value))
        return process

    def result_processor(self, dialect: Dialect, coltype: object) -> Processor:
        if not self.native_uuid:
            hex_processor: Processor = super().result_processor(  # type: ignore[no-untyped-call]  # SQLAlchemy's Uuid is unannotated here
                dialect, coltype)
            return hex_processor
        if self.as_uuid:
            return _text_to(lambda t: uuid.UUID(t.strip()), uuid.UUID)

        def process(value: Any) -> Any:
            return None if value is None else str(value)
        return process


def _hex_blob(text: str) -> bytes:
    text = text.strip()
    if text.startswith("\\x"):
        text = text[2:]
    return bytes.fromhex(text)


class SBLargeBinary(sqltypes.LargeBinary):
    """Today's server sends a BLOB as hex text (README, benchmark scenario 2)."""

    def bind_processor(self, dialect: Dialect) -> Processor:
        def process(value: Any) -> Any:
            return None if value is None else bytes(value)
        return process

    def result_processor(self, dialect: Dialect, coltype: object) -> Processor:
        def process(value: Any) -> Any:
            if value is None or isinstance(value, bytes):
                return value
            if isinstance(value, (bytearray, memoryview)):
                return bytes(value)
            if not isinstance(value, str):
                # hex text of digits only was typed as a number from the first row
                # (REFERENCE 8.2): its leading zeros are gone, so the bytes are too
                from scratchbird.errors import DataError
                raise DataError("a BLOB value arrived as a number (the server guessed the "
                                "column's type from hex text made of digits); read BLOBs "
                                "with binary values (a server offering feature bit 32)")
            return _hex_blob(value)
        return process


def _json_text(value: Any) -> Any:
    if isinstance(value, _WireJsonb):
        return value.text if hasattr(value, "text") else str(value)
    return value


class SBJSON(_PGJSON):
    """JSON travels as text: dumped by the dialect's serializer, parsed on the way back
    unless the connection already parses it (``parse_json=true``)."""

    def result_processor(self, dialect: Dialect, coltype: object) -> Processor:
        loads = cast("ScratchbirdDialect", dialect)._json_deserializer or json.loads

        def process(value: Any) -> Any:
            if value is None or isinstance(value, (dict, list, bool, int, float)):
                return value
            if isinstance(value, decimal.Decimal):   # a JSON number typed numeric (8.2)
                return loads(str(value))
            return loads(_json_text(value))
        return process


class SBJSONB(_PGJSONB, SBJSON):
    pass


def json_path(elements: Any) -> str:
    """A path given as a sequence of keys and indexes, in DuckDB's JSONPath spelling:
    ``("a", 1, "b")`` -> ``$."a"[1]."b"`` (a str is taken as a path already)."""
    if isinstance(elements, str):
        return elements
    parts = ["$"]
    for element in elements:
        if isinstance(element, int) and not isinstance(element, bool):
            parts.append(f"[{element}]")
        else:
            parts.append("." + json.dumps(str(element)))
    return "".join(parts)


class SBJSONPathType(sqltypes.JSON.JSONPathType):
    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any]:
        def process(value: Any) -> Any:
            return None if value is None else json_path(value)
        return process

    def literal_processor(self, dialect: Dialect) -> Callable[[Any], str]:
        string_literal: Callable[[Any], str] = sqltypes.String().literal_processor(  # type: ignore[no-untyped-call]  # SQLAlchemy's String is unannotated here
            dialect)

        def process(value: Any) -> str:
            return string_literal(json_path(value))
        return process


class SBARRAY(_PGARRAY[Any]):
    """Binary values give lists; text values of today's server give DuckDB's list text,
    parsed as JSON where that works (numbers, booleans, nested lists)."""

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any]:
        item = self.item_type.dialect_impl(dialect).result_processor(dialect, coltype)

        def convert(seq: List[Any]) -> List[Any]:
            if item is None:
                return list(seq)
            return [convert(v) if isinstance(v, list) else item(v) for v in seq]

        def process(value: Any) -> Any:
            if value is None:
                return None
            if isinstance(value, str):
                try:
                    value = json.loads(value)
                except ValueError:
                    return value
            if isinstance(value, (list, tuple)):
                return convert(list(value))
            return value
        return process


colspecs: Dict[Any, Type[Any]] = {
    sqltypes.String: SBString,
    sqltypes.Enum: sqltypes.Enum,   # a String subclass with its own processors
    sqltypes.Numeric: SBNumeric,
    sqltypes.Float: SBFloat,
    sqltypes.Integer: SBInteger,
    sqltypes.BigInteger: SBBigInteger,
    sqltypes.SmallInteger: SBSmallInteger,
    sqltypes.Boolean: SBBoolean,
    sqltypes.DateTime: SBDateTime,
    sqltypes.Date: SBDate,
    sqltypes.Time: SBTime,
    sqltypes.Interval: SBInterval,
    _PGINTERVAL: SBInterval,
    sqltypes.Uuid: SBUuid,
    sqltypes.LargeBinary: SBLargeBinary,
    sqltypes.JSON: SBJSON,
    _PGJSON: SBJSON,
    _PGJSONB: SBJSONB,
    sqltypes.JSON.JSONPathType: SBJSONPathType,
    sqltypes.ARRAY: SBARRAY,
    _PGARRAY: SBARRAY,
}

# information_schema.columns.data_type (DuckDB spelling) -> SQLAlchemy type, for reflection.
ischema_names: Dict[str, Type[Any]] = {
    "BOOLEAN": sqltypes.BOOLEAN,
    "TINYINT": sqltypes.SMALLINT,
    "SMALLINT": sqltypes.SMALLINT,
    "INTEGER": sqltypes.INTEGER,
    "BIGINT": sqltypes.BIGINT,
    "HUGEINT": sqltypes.NUMERIC,
    "UTINYINT": sqltypes.SMALLINT,
    "USMALLINT": sqltypes.INTEGER,
    "UINTEGER": sqltypes.BIGINT,
    "UBIGINT": sqltypes.NUMERIC,
    "FLOAT": sqltypes.REAL,
    "REAL": sqltypes.REAL,
    "DOUBLE": sqltypes.DOUBLE_PRECISION,
    "DECIMAL": sqltypes.NUMERIC,
    "NUMERIC": sqltypes.NUMERIC,
    "VARCHAR": sqltypes.VARCHAR,
    "TEXT": sqltypes.TEXT,
    "CHAR": sqltypes.CHAR,
    "BLOB": sqltypes.LargeBinary,
    "DATE": sqltypes.DATE,
    "TIME": sqltypes.TIME,
    "TIMESTAMP": sqltypes.TIMESTAMP,
    "TIMESTAMP WITH TIME ZONE": sqltypes.TIMESTAMP,
    "TIMESTAMP_NS": sqltypes.TIMESTAMP,
    "TIMESTAMP_MS": sqltypes.TIMESTAMP,
    "TIMESTAMP_S": sqltypes.TIMESTAMP,
    "INTERVAL": _PGINTERVAL,
    "UUID": sqltypes.UUID,
    "JSON": _PGJSON,
}
