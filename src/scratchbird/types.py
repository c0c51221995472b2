"""PEP 249 type objects and constructors, and the value wrappers the driver understands."""
from __future__ import annotations

import datetime as _dt
import json as _json
import time as _time
from typing import Any, Callable, Iterable, Optional, Union

from scratchbird._constants import OID_BOOL, OID_INT8, OID_NUMERIC, OID_TEXT

__all__ = [
    "Date", "Time", "Timestamp", "DateFromTicks", "TimeFromTicks", "TimestampFromTicks",
    "Binary", "STRING", "BINARY", "NUMBER", "DATETIME", "ROWID", "Json", "DBAPITypeObject",
    "SqlLiteral",
]

Date = _dt.date
Time = _dt.time
Timestamp = _dt.datetime


def DateFromTicks(ticks: float) -> _dt.date:
    return Date(*_time.localtime(ticks)[:3])


def TimeFromTicks(ticks: float) -> _dt.time:
    return Time(*_time.localtime(ticks)[3:6])


def TimestampFromTicks(ticks: float) -> _dt.datetime:
    return Timestamp(*_time.localtime(ticks)[:6])


def Binary(data: Union[bytes, bytearray, memoryview, Iterable[int]]) -> bytes:
    return bytes(data)


class DBAPITypeObject:
    """Compares equal to every type code of its group (PEP 249 type objects)."""

    def __init__(self, name: str, *type_codes: int) -> None:
        self.name = name
        self.values = frozenset(type_codes)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, DBAPITypeObject):
            return self is other
        return other in self.values

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        return f"<DBAPITypeObject {self.name}>"


# Type codes in cursor.description are PostgreSQL-numbered OIDs (REFERENCE 8).
STRING = DBAPITypeObject("STRING", OID_TEXT, 1042, 1043, 18, 19, 114, 142, 3802)
BINARY = DBAPITypeObject("BINARY", 17)
NUMBER = DBAPITypeObject("NUMBER", OID_BOOL, OID_INT8, 21, 23, 700, 701, OID_NUMERIC, 790, 16384)
DATETIME = DBAPITypeObject("DATETIME", 1082, 1083, 1114, 1184, 1186, 1266)
ROWID = DBAPITypeObject("ROWID", 26, 16387)


class Json:
    """Wraps a Python object (dict, list, ...) to be sent as JSON text.

    ``dumps`` may replace ``json.dumps`` (for example ``functools.partial(json.dumps,
    default=str)``).
    """

    __slots__ = ("obj", "dumps")

    def __init__(self, obj: Any, dumps: Optional[Callable[[Any], str]] = None) -> None:
        self.obj = obj
        self.dumps = dumps or _json.dumps

    def dumps_text(self) -> str:
        return self.dumps(self.obj)

    def __repr__(self) -> str:
        return f"Json({self.obj!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Json) and other.obj == self.obj


class SqlLiteral:
    """SQL text that stands where a parameter placeholder was, verbatim.

    What a dumper (``AdaptersMap.register_dumper``) returns: the dumper is responsible
    for its quoting. A NUL character is refused like in any other parameter.
    """

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        if not isinstance(text, str):
            raise TypeError("SqlLiteral takes the SQL text as a str")
        self.text = text

    def __repr__(self) -> str:
        return f"SqlLiteral({self.text!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SqlLiteral) and other.text == self.text

    def __hash__(self) -> int:
        return hash(("SqlLiteral", self.text))
