"""DuckDB's own values for the ``full`` profile's binary results (docs/protocol.md 1, 4).

The text path (``_results.render_expr``) has DuckDB render every value as text. Binary
results instead fetch DuckDB's Python values and hand them to ``bincodec.encode_data_row``.
For each DuckDB column type this module works out, once per type string (cached):

- the **wire type**: the CanonicalTypeRef of the P1 ROW_DESCRIPTION, with DECIMAL
  precision/scale, fractional-second digits and the array rank where DuckDB has them;
- the **encode spec** (docs/protocol.md 1.7) handed to ``encode_data_row``;
- an optional **CAST in SQL** before the fetch, so that DuckDB gives Python a value the
  encoder takes;
- an optional **Python conversion** of each non-NULL value.

Rules worth knowing (documented in docs/protocol.md, "The dev server's full profile"):

- TIMESTAMPTZ is fetched as ``CAST(... AS TIMESTAMP)``: the session's TimeZone is UTC, so
  that is the UTC wall time, and DuckDB needs no ``pytz``. At the top level the naive UTC
  datetime is encoded with the TIMESTAMP layout, which is byte for byte the TIMESTAMPTZ
  one; inside nested values it is made aware (UTC), since nested values name their type.
- TIMESTAMP_NS and TIME_NS are fetched through DuckDB's CAST to TIMESTAMP / TIME, which
  **rounds to the nearest microsecond**; the column then says 6 fractional digits.
- INTERVAL is fetched as text and parsed into ``Interval(months, days, microseconds)``:
  DuckDB's Python value (a timedelta) folds months into 30 days.
- ENUM values are their labels (ENUM (18,1)); JSON is JSON (20,2); BLOB is BINARY (9,1)
  (an inline varbinary, not a LOB); LIST is LIST (15,2), a fixed-size ARRAY is ARRAY
  (15,1); STRUCT is ROW (16,2) (field names are not on the wire); MAP is MAP (16,1).
- A type with no binary layout here (UNION, BIGNUM, a MAP with nested keys, an extension
  type, or anything DuckDB adds later) is sent as TEXT (8,1), cast to VARCHAR in SQL.
"""
from __future__ import annotations

import datetime as _dt
import functools
import re
from typing import Callable, List, Optional, Sequence, cast

import duckdb

from scratchbird._constants import oid_for_typeref
from scratchbird._impl import bincodec
from scratchbird._server_messages import TypeRef
from scratchbird.binary_types import Interval

__all__ = ["TypePlan", "plan_for", "parse_interval", "NativeResult", "NativeValues", "NATIVE"]

B = bincodec
UTC = _dt.timezone.utc
BATCH_ROWS = 4096

MOD_PRECISION, MOD_SCALE, MOD_DATETIME_PRECISION, MOD_ARRAY_RANK = 1 << 0, 1 << 1, 1 << 2, 1 << 9

# DuckDB type id -> (wire type id, fetch-as type or None, datetime precision or None)
_SCALARS = {
    "boolean": (B.BOOLEAN, None, None),
    "tinyint": (B.INT8, None, None), "smallint": (B.INT16, None, None),
    "integer": (B.INT32, None, None), "bigint": (B.INT64, None, None),
    "hugeint": (B.INT128, None, None),
    "utinyint": (B.UINT8, None, None), "usmallint": (B.UINT16, None, None),
    "uinteger": (B.UINT32, None, None), "ubigint": (B.UINT64, None, None),
    "uhugeint": (B.UINT128, None, None),
    "float": (B.FLOAT32, None, None), "double": (B.FLOAT64, None, None),
    "varchar": (B.TEXT, None, None), "blob": (B.BINARY, None, None), "bit": (B.BIT, None, None),
    "uuid": (B.UUID, None, None), "enum": (B.ENUM, None, None), "null": (B.UNTYPED, None, None),
    "date": (B.DATE, None, None),
    "time": (B.TIME, None, 6), "time_ns": (B.TIME, "TIME", 6),
    "time with time zone": (B.TIMETZ, None, 6),
    "timestamp": (B.TIMESTAMP, None, 6), "timestamp_s": (B.TIMESTAMP, None, 0),
    "timestamp_ms": (B.TIMESTAMP, None, 3), "timestamp_ns": (B.TIMESTAMP, "TIMESTAMP", 6),
    "timestamp with time zone": (B.TIMESTAMPTZ, "TIMESTAMP", 6),
    "interval": (B.INTERVAL, "VARCHAR", 6),
}
_NESTED_KEYS = frozenset(("list", "array", "struct", "map", "union"))


class _Unsupported(Exception):
    """This type has no binary layout here: the column goes out as TEXT."""


# ---------------------------------------------------------------- INTERVAL text

# DuckDB's INTERVAL text: "[N year[s]] [N month[s]] [N day[s]] [-]HH:MM:SS[.ffffff]"
_INTERVAL_RE = re.compile(
    r"(?:(-?\d+) years? ?)?(?:(-?\d+) months? ?)?(?:(-?\d+) days? ?)?"
    r"(?:(-)?(\d+):(\d\d):(\d\d)(?:\.(\d{1,6}))?)?\Z")


def parse_interval(text: str) -> Interval:
    """DuckDB's text of an INTERVAL as ``Interval(months, days, microseconds)``."""
    m = _INTERVAL_RE.match(text)
    if m is None or not text:
        raise ValueError(f"unexpected INTERVAL text from DuckDB: {text!r}")
    years, months, days, neg, hours, minutes, seconds, fraction = m.groups()
    micros = 0
    if hours is not None:
        micros = ((int(hours) * 60 + int(minutes)) * 60 + int(seconds)) * 1_000_000
        micros += int((fraction or "0").ljust(6, "0"))
        if neg:
            micros = -micros
    return Interval(int(years or 0) * 12 + int(months or 0), int(days or 0), micros)


# ---------------------------------------------------------------- the type plan


class TypePlan:
    """How one DuckDB column type goes out in binary (see the module docstring)."""

    __slots__ = ("duck_type", "type_id", "spec", "typeref", "cast", "convert", "oid")

    def __init__(self, duck_type: str, type_id, spec, typeref: TypeRef, cast: Optional[str],
                 convert: Optional[Callable]) -> None:
        self.duck_type = duck_type
        self.type_id = type_id          # what the TypeRef announces
        self.spec = spec                # what encode_data_row is given
        self.typeref = typeref
        self.cast = cast                # SQL type to CAST to before the fetch, or None
        self.convert = convert          # applied to each non-NULL value, or None
        self.oid = oid_for_typeref(type_id[0], type_id[1])

    def fetch_expr(self, ref: str) -> str:
        return f"CAST({ref} AS {self.cast})" if self.cast else ref

    def __repr__(self) -> str:
        return f"<TypePlan {self.duck_type} -> {self.spec!r} cast={self.cast}>"


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _each(convert):
    return lambda v: [None if x is None else convert(x) for x in v]


def _map_type(t):
    """``(spec, fetch type or None, convert or None, rank)`` for a DuckDB type object.

    ``fetch type`` is None when DuckDB's value needs no CAST (for this subtree), ``rank``
    the number of list/array levels at the top. Nested values name their element types,
    so TIMESTAMPTZ inside them is TIMESTAMPTZ (made aware after the fetch)."""
    kind = t.id
    if kind in _SCALARS:
        type_id, fetch, _ = _SCALARS[kind]
        if kind == "varchar" and str(t) == "JSON":
            type_id = B.JSON
        convert = None
        if type_id == B.TIMESTAMPTZ:
            convert = lambda v: v.replace(tzinfo=UTC)  # noqa: E731
        elif type_id == B.INTERVAL:
            convert = parse_interval
        return type_id, fetch, convert, 0
    if kind == "decimal":
        return B.DECIMAL, None, None, 0
    children = dict(t.children) if kind in _NESTED_KEYS else {}
    if kind in ("list", "array"):
        spec, fetch, convert, rank = _map_type(children["child"])
        code = B.LIST if kind == "list" else B.ARRAY
        size = f"[{children['size']}]" if kind == "array" else "[]"
        return ((code[0], code[1], spec), None if fetch is None else fetch + size,
                None if convert is None else _each(convert), rank + 1)
    if kind == "struct":
        fields = [(name, _map_type(child)) for name, child in t.children]
        converts = [mapped[2] for _n, mapped in fields]
        fetch = None
        if any(mapped[1] for _n, mapped in fields):
            fetch = "STRUCT(" + ", ".join(
                f"{_quote_ident(name)} {mapped[1] or str(child)}"
                for (name, mapped), (_n2, child) in zip(fields, t.children)) + ")"
        if any(converts):
            convert = lambda v: tuple(  # noqa: E731
                x if x is None or c is None else c(x) for x, c in zip(v.values(), converts))
        else:
            convert = lambda v: tuple(v.values())  # noqa: E731
        return (B.ROW[0], B.ROW[1], tuple(mapped[0] for _n, mapped in fields)), fetch, convert, 0
    if kind == "map":
        key, value = children["key"], children["value"]
        if key.id in _NESTED_KEYS:
            raise _Unsupported("MAP with nested keys")     # DuckDB gives no dict for them
        kspec, kfetch, kconv, _ = _map_type(key)
        vspec, vfetch, vconv, _ = _map_type(value)
        fetch = None
        if kfetch or vfetch:
            fetch = f"MAP({kfetch or str(key)}, {vfetch or str(value)})"
        convert = None
        if kconv or vconv:
            kc, vc = kconv or (lambda k: k), vconv or (lambda x: x)
            convert = lambda v: {kc(k): None if x is None else vc(x)  # noqa: E731
                                 for k, x in v.items()}
        return (B.MAP[0], B.MAP[1], kspec, vspec), fetch, convert, 0
    raise _Unsupported(kind)


def _typeref(type_id, t, rank: int) -> TypeRef:
    if type_id == B.UNTYPED:
        return TypeRef(0, 0, 0, 0, descriptor_version=0)       # as the "untyped" reference
    typeref = bincodec.typeref_for(type_id)
    if t.id == "decimal":
        params = dict(t.children)
        typeref.modifier_bitmap |= MOD_PRECISION | MOD_SCALE
        typeref.precision, typeref.scale = int(params["precision"]), int(params["scale"])
    elif t.id in _SCALARS and _SCALARS[t.id][2] is not None:
        typeref.modifier_bitmap |= MOD_DATETIME_PRECISION
        typeref.datetime_precision = cast(int, _SCALARS[t.id][2])     # not None, just checked
    if rank:
        typeref.modifier_bitmap |= MOD_ARRAY_RANK
        typeref.array_rank = rank
    return typeref


@functools.lru_cache(maxsize=512)
def plan_for(duck_type: str) -> TypePlan:
    """The plan for a DuckDB type, from its text (as DESCRIBE or ``str(type)`` gives it)."""
    try:
        t = duckdb.type(duck_type)
        spec, fetch, convert, rank = _map_type(t)
    except (_Unsupported, duckdb.Error, KeyError, ValueError, TypeError):
        return TypePlan(duck_type, B.TEXT, B.TEXT, bincodec.typeref_for(B.TEXT), "VARCHAR", None)
    type_id = tuple(spec[:2])
    if type_id == B.TIMESTAMPTZ:
        # top level: the naive UTC wall time in the TIMESTAMP layout, which is the same
        # bytes as TIMESTAMPTZ's (docs/protocol.md 1.4); no per-value work at all
        spec, convert = B.TIMESTAMP, None
    return TypePlan(duck_type, type_id, spec, _typeref(type_id, t, rank), fetch, convert)


# ---------------------------------------------------------------- results


class NativeResult:
    """A statement's rows as DuckDB's Python values, with a plan per column.

    The same interface as ``_engine.StatementResult`` (``columns``, ``type_oids``,
    ``has_rows``, ``tag``, ``rows``, ``batches()``), plus ``plans`` and ``nullable``
    (1 nullable, 0 not, per DuckDB's DESCRIBE). ``batches()`` yields lists of rows whose
    values are already converted for ``encode_data_row`` (see ``TypePlan.convert``).
    """

    __slots__ = ("columns", "type_oids", "has_rows", "tag", "rows", "plans", "nullable",
                 "_pending", "_fetch", "_count_rows", "describe_empty")

    def __init__(self, tag: str, rows: int, columns: Sequence[str], plans: Sequence[TypePlan],
                 nullable: Sequence[int], pending: List[list], fetch=None,
                 count_rows: bool = False, describe_empty: bool = False) -> None:
        self._pending = [b for b in pending if b]
        self.has_rows = bool(self._pending)
        # a ROW_DESCRIPTION even without rows (full profile: the spec's 0-row shape)
        self.describe_empty = describe_empty and not self.has_rows
        keep = self.has_rows or self.describe_empty
        self.columns = list(columns) if keep else []
        self.plans = list(plans) if keep else []
        self.nullable = list(nullable) if keep else []
        self.type_oids = [plan.oid for plan in self.plans]
        self.tag, self.rows = tag, rows
        self._fetch = fetch if self.has_rows else None
        self._count_rows = count_rows

    @property
    def specs(self) -> tuple:
        return tuple(plan.spec for plan in self.plans)

    def batches(self):
        pending, self._pending = self._pending, []
        fetch, self._fetch = self._fetch, None
        converters = [(k, p.convert) for k, p in enumerate(self.plans) if p.convert is not None]
        count = 0
        try:
            for batch in pending:
                count += len(batch)
                yield _converted(batch, converters) if converters else batch
            while fetch is not None:
                batch = fetch()
                if not batch:
                    break
                count += len(batch)
                yield _converted(batch, converters) if converters else batch
        finally:
            if self._count_rows:
                self.rows = count
                self.tag = f"SELECT {count}"

    def __repr__(self) -> str:
        return f"NativeResult(tag={self.tag!r}, rows={self.rows}, plans={self.plans!r})"


def _converted(batch, converters):
    out = []
    for row in batch:
        row = list(row)
        for k, convert in converters:
            value = row[k]
            if value is not None:
                row[k] = convert(value)
        out.append(row)
    return out


class NativeValues:
    """The engine's hooks for binary results (``EngineSession.execute_script(native=...)``).

    The engine keeps running the SQL (locks, snapshots, recovery, streaming); it asks
    this object for the projection of each column and wraps the rows in a NativeResult.
    """

    @staticmethod
    def fetch_expr(ref: str, duck_type: str) -> str:
        """The projection of result column ``ref`` (``#k``) of DuckDB type ``duck_type``."""
        return plan_for(duck_type).fetch_expr(ref)

    @staticmethod
    def result(names: Sequence[str], described: Sequence[tuple], pending: List[list],
               fetch=None, describe_empty: bool = False) -> NativeResult:
        """A streamed query's result; ``described`` are DESCRIBE's rows (name, type, null)."""
        plans = [plan_for(row[1]) for row in described]
        nullable = [0 if str(row[2]).upper() == "NO" else 1 for row in described]
        first = len(pending[0]) if pending else 0
        return NativeResult(f"SELECT {first}", first, names, plans, nullable, pending, fetch,
                            count_rows=bool(pending), describe_empty=describe_empty)

    @staticmethod
    def relation_result(columns: Sequence[str], rel) -> NativeResult:
        """A materialised relation's rows (RETURNING, PRAGMA, SHOW, CALL, ...)."""
        plans = [plan_for(str(t)) for t in rel.types]
        exprs = [plan.fetch_expr(f"#{k + 1}") for k, plan in enumerate(plans)]
        rows = rel.project(", ".join(exprs)).fetchall() if exprs else []
        chunks = [rows[i:i + BATCH_ROWS] for i in range(0, len(rows), BATCH_ROWS)]
        return NativeResult(f"SELECT {len(rows)}", len(rows), columns, plans,
                            [1] * len(plans), chunks)


NATIVE = NativeValues()
