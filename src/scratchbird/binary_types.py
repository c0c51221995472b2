"""Value classes for the binary values Python has no type of its own for.

``Interval`` (INTERVAL), ``Range`` (RANGE, and the members of a MULTIRANGE), ``Jsonb``
(JSONB text) and ``Geometry`` (the spatial family, as WKB). Each is small, immutable,
hashable and compares by value. The byte layouts they travel in are in docs/protocol.md,
"Binary values".
"""
from __future__ import annotations

import datetime as _dt
import json as _json
from typing import Any, Callable

__all__ = ["Interval", "Range", "Jsonb", "Geometry"]


class _Frozen:
    """Instances refuse attribute assignment after ``__init__``."""

    __slots__ = ()

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")


class Interval(_Frozen):
    """An SQL INTERVAL: months, days and microseconds, kept apart as SQL keeps them.

    A month has no fixed length and a day may not be 24 hours (DST), so the three parts
    are not folded into each other and two intervals are equal only part by part:
    ``Interval(0, 1, 0) != Interval(0, 0, 86_400_000_000)``. ``to_timedelta()`` converts
    when there are no months.
    """

    __slots__ = ("months", "days", "microseconds")
    months: int
    days: int
    microseconds: int

    def __init__(self, months: int = 0, days: int = 0, microseconds: int = 0) -> None:
        for name, value in (("months", months), ("days", days), ("microseconds", microseconds)):
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"Interval {name} must be an int, not {type(value).__name__}")
            object.__setattr__(self, name, value)

    @classmethod
    def from_timedelta(cls, value: _dt.timedelta) -> "Interval":
        """``timedelta(days=d, seconds=s, microseconds=u)`` as ``Interval(0, d, s * 10**6 + u)``."""
        return cls(0, value.days, value.seconds * 1_000_000 + value.microseconds)

    def to_timedelta(self) -> _dt.timedelta:
        """The interval as a ``timedelta``; ValueError when it has months."""
        if self.months:
            raise ValueError(f"{self!r} has months, which have no fixed length in a timedelta")
        return _dt.timedelta(days=self.days, microseconds=self.microseconds)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Interval):
            return NotImplemented
        return (self.months, self.days, self.microseconds) == \
            (other.months, other.days, other.microseconds)

    def __hash__(self) -> int:
        return hash((Interval, self.months, self.days, self.microseconds))

    def __repr__(self) -> str:
        return f"Interval(months={self.months}, days={self.days}, microseconds={self.microseconds})"


_BOUNDS = frozenset(("[)", "[]", "(]", "()"))


class Range(_Frozen):
    """An SQL range: ``Range(lower, upper, bounds='[)')`` or ``Range(empty=True)``.

    ``None`` as a bound means unbounded (infinite). An infinite bound is never
    inclusive, so its side of ``bounds`` is normalised to ``(`` or ``)``: the value you
    build is the value that comes back. An empty range has no bounds.
    """

    __slots__ = ("lower", "upper", "bounds", "empty")
    lower: Any
    upper: Any
    bounds: str
    empty: bool

    def __init__(self, lower: Any = None, upper: Any = None, bounds: str = "[)",
                 empty: bool = False) -> None:
        if bounds not in _BOUNDS:
            raise ValueError(f"Range bounds must be one of '[)', '[]', '(]', '()', not {bounds!r}")
        if empty:
            if lower is not None or upper is not None:
                raise ValueError("an empty Range has no bounds")
            bounds = "()"
        else:
            if lower is None:
                bounds = "(" + bounds[1]
            if upper is None:
                bounds = bounds[0] + ")"
        object.__setattr__(self, "lower", lower)
        object.__setattr__(self, "upper", upper)
        object.__setattr__(self, "bounds", bounds)
        object.__setattr__(self, "empty", bool(empty))

    @property
    def lower_inc(self) -> bool:
        return self.bounds[0] == "["

    @property
    def upper_inc(self) -> bool:
        return self.bounds[1] == "]"

    @property
    def lower_inf(self) -> bool:
        return not self.empty and self.lower is None

    @property
    def upper_inf(self) -> bool:
        return not self.empty and self.upper is None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Range):
            return NotImplemented
        return (self.empty, self.bounds, self.lower, self.upper) == \
            (other.empty, other.bounds, other.lower, other.upper)

    def __hash__(self) -> int:
        return hash((Range, self.empty, self.bounds, self.lower, self.upper))

    def __repr__(self) -> str:
        if self.empty:
            return "Range(empty=True)"
        return f"Range({self.lower!r}, {self.upper!r}, {self.bounds!r})"


class Jsonb(_Frozen):
    """A JSONB value as its JSON text. ``loads()`` parses it; ``Jsonb.dumps(obj)`` makes one.

    Equality is on the text: the driver does not normalise JSON.
    """

    __slots__ = ("text",)
    text: str

    def __init__(self, text: str) -> None:
        if not isinstance(text, str):
            raise TypeError(f"Jsonb takes the JSON text as a str, not {type(text).__name__}")
        object.__setattr__(self, "text", text)

    @classmethod
    def dumps(cls, obj: Any, dumps: Callable[[Any], str] = _json.dumps) -> "Jsonb":
        return cls(dumps(obj))

    def loads(self, loads: Callable[[str], Any] = _json.loads) -> Any:
        return loads(self.text)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Jsonb):
            return NotImplemented
        return self.text == other.text

    def __hash__(self) -> int:
        return hash((Jsonb, self.text))

    def __repr__(self) -> str:
        return f"Jsonb({self.text!r})"


class Geometry(_Frozen):
    """A value of the spatial family (GEOMETRY, GEOGRAPHY, POINT, SHAPE) as WKB bytes.

    The driver does not parse WKB; hand ``wkb`` to shapely (``shapely.from_wkb``) or
    any other WKB reader.
    """

    __slots__ = ("wkb",)
    wkb: bytes

    def __init__(self, wkb: bytes) -> None:
        if not isinstance(wkb, (bytes, bytearray, memoryview)):
            raise TypeError(f"Geometry takes WKB bytes, not {type(wkb).__name__}")
        object.__setattr__(self, "wkb", bytes(wkb))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Geometry):
            return NotImplemented
        return self.wkb == other.wkb

    def __hash__(self) -> int:
        return hash((Geometry, self.wkb))

    def __repr__(self) -> str:
        if len(self.wkb) <= 32:
            return f"Geometry({self.wkb!r})"
        return f"Geometry(<{len(self.wkb)} bytes of WKB: {self.wkb[:16].hex()}...>)"
