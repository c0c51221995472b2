"""Binary value codecs for the nested types (part of the pure twin of ``ext/bincodec.pyx``).

ARRAY/LIST, RANGE, MULTIRANGE, MAP, ROW/COMPOSITE and VARIANT. Nested values are
self-describing: each names the type of what it holds with a 4-byte type id (u16 family,
u16 code; docs/protocol.md, "Type ids"), so a value decodes without any metadata beyond
its own type. Inner values are framed as ``i32 length`` + bytes, ``-1`` for NULL where
NULL is allowed. Nesting is limited to ``MAX_DEPTH`` levels, so hostile bytes cannot
exhaust the stack.
"""
from __future__ import annotations

import datetime as _dt
import ipaddress
import struct
import uuid
from decimal import Decimal
from typing import (Any, Callable, Dict, Iterable, List, Literal, Optional, Tuple, Union,
                    overload)

from scratchbird.binary_types import Geometry, Interval, Jsonb, Range
from scratchbird.types import Json
from scratchbird._pure.bincodec_scalar import (
    ARRAY, BINARY, BOOLEAN, CIDR, CODECS, DATE, DECIMAL, FLOAT64, GEOMETRY, INET, INT64, INT128,
    INTERVAL, JSON, JSONB, LIST, MAP, MULTIRANGE, RANGE, ROW, TEXT, TIME, TIMESTAMP, TIMESTAMPTZ,
    TIMETZ, UINT128, UNTYPED, UUID, VARIANT, VECTOR, COMPOSITE, Encoder, Options, TypeSpec,
    _Malformed, _expected, _is_int, _register, type_label,
)

MAX_DEPTH = 32      # nested values inside one value
MAX_NDIM = 6        # dimensions of one array (PostgreSQL's MAXDIM)
ARRAY_HAS_NULLS = 0x01
RANGE_EMPTY, RANGE_LOWER_INC, RANGE_UPPER_INC = 0x01, 0x02, 0x04
RANGE_LOWER_INF, RANGE_UPPER_INF = 0x08, 0x10

_I32 = struct.Struct("<i")
_U32 = struct.Struct("<I")
_TYPE_ID = struct.Struct("<HH")
_ARRAY_HEAD = struct.Struct("<iiHH")     # ndim, flags, element family, element code
_DIM = struct.Struct("<ii")              # length, lower bound
_RANGE_HEAD = struct.Struct("<B3xHH")    # flags, subtype family, subtype code
_MAP_HEAD = struct.Struct("<HHHHI")      # key type, value type, count
_SET_HEAD = struct.Struct("<HHI")        # member type, count (MULTIRANGE)
_FIELD_HEAD = struct.Struct("<HHi")      # field type, length

# types whose Python value is a list: inside an ARRAY they are elements, not dimensions
_LIST_VALUED = frozenset((ARRAY, LIST, MULTIRANGE, VECTOR, JSON, JSONB, VARIANT))


def decode_any(type_id: TypeSpec, data: bytes, opts: Options, depth: int) -> Any:
    """Decode ``data`` as a value of ``type_id``; unknown types are malformed values."""
    codec = CODECS.get(type_id)
    if codec is None:
        raise _Malformed("no binary decoding for this type")
    return codec[0](data, opts, depth)


def _inside(what: str, type_id: TypeSpec, data: bytes, opts: Options, depth: int) -> Any:
    """decode_any for a nested value, with ``what`` and its type added to a failure."""
    try:
        return decode_any(type_id, data, opts, depth)
    except _Malformed as exc:
        raise _Malformed(f"{what} ({type_label(type_id)}): {exc}") from None


@overload
def _frame(data: bytes, pos: int, what: str, null_ok: Literal[False]) -> Tuple[bytes, int]: ...
@overload
def _frame(data: bytes, pos: int, what: str, null_ok: bool) -> Tuple[Optional[bytes], int]: ...


def _frame(data: bytes, pos: int, what: str, null_ok: bool) -> Tuple[Optional[bytes], int]:
    """Read ``i32 length`` + bytes at ``pos``: ``(bytes or None, next_pos)``."""
    n = len(data)
    if n - pos < 4:
        raise _Malformed(f"{what}: truncated length")
    length = _I32.unpack_from(data, pos)[0]
    pos += 4
    if length == -1 and null_ok:
        return None, pos
    if length < 0 or length > n - pos:
        raise _Malformed(f"{what}: length {length} does not fit the {n - pos} bytes left")
    return data[pos:pos + length], pos + length


def _enter(depth: int) -> None:
    if depth >= MAX_DEPTH:
        raise _Malformed(f"nesting deeper than {MAX_DEPTH} levels")


def _check_count(count: int, each: int, rem: int, what: str) -> None:
    if count > rem // each:
        raise _Malformed(f"{count} {what} cannot fit in the {rem} bytes left")

# ---------------------------------------------------------------- ARRAY / LIST


def _dec_array(data: bytes, opts: Options, depth: int) -> Any:
    _enter(depth)
    n = len(data)
    if n < 12:
        raise _Malformed(f"value of {n} bytes, expected at least 12")
    ndim, flags, family, code = _ARRAY_HEAD.unpack_from(data)
    if not 0 <= ndim <= MAX_NDIM:
        raise _Malformed(f"array of {ndim} dimensions (0..{MAX_NDIM} supported)")
    if flags & ~ARRAY_HAS_NULLS:
        raise _Malformed(f"array flags 0x{flags & 0xFFFFFFFF:x} have unknown bits")
    pos = 12
    if n - pos < 8 * ndim:
        raise _Malformed(f"value of {n} bytes is too short for {ndim} dimensions")
    dims = []
    for d in range(ndim):
        length = _DIM.unpack_from(data, pos)[0]     # the lower bound is not kept (a list)
        pos += 8
        if length < 0:
            raise _Malformed(f"dimension {d + 1} has length {length}")
        dims.append(length)
    total = 0
    if ndim:
        total = 1
        for length in dims:
            total *= length
    if total > (n - pos) // 4:
        raise _Malformed(f"array dimensions {'x'.join(map(str, dims))} need more than "
                         f"the {n - pos} bytes left")
    _check_sub_arrays(dims, n)
    element_type = (family, code)
    flat = []
    for k in range(total):
        raw, pos = _frame(data, pos, f"element {k}", True)
        flat.append(None if raw is None else
                    _inside(f"element {k}", element_type, raw, opts, depth + 1))
    if pos != n:
        raise _Malformed(f"{n - pos} bytes after the last element")
    return _reshape(flat, dims) if ndim > 1 else flat


def _check_sub_arrays(dims: List[int], n: int) -> None:
    # An empty array may declare dimensions like 2**31 x 0: no element pays for them, but
    # the nested lists would still be built. Every sub-list must be paid for by the
    # value's bytes too (at most 2 per byte; a non-empty array never comes near it).
    # Found by review (issue 7) and by the fuzz harness values_nested (issue 13).
    lists = built = 0 if len(dims) < 2 else 1
    for length in dims[:-1]:
        built *= length
        lists += built
        if lists > 2 * n:
            raise _Malformed(f"array dimensions {'x'.join(map(str, dims))} describe more "
                             f"sub-arrays than the value's {n} bytes can hold")


def _reshape(flat: List[Any], dims: List[int]) -> List[Any]:
    if len(dims) == 1:
        return flat
    step = 1
    for length in dims[1:]:
        step *= length
    return [_reshape(flat[i * step:(i + 1) * step], dims[1:]) for i in range(dims[0])]


def _array_shape(value: List[Any], multi: bool) -> Tuple[List[int], List[Any]]:
    """``(dims, flat leaves)`` of a (nested) list; ragged lists are refused."""
    if not value:
        return [], []
    dims = [len(value)]
    if multi:
        probe = value[0]
        while isinstance(probe, list):
            dims.append(len(probe))
            probe = probe[0] if probe else None
    if len(dims) > MAX_NDIM:
        raise _Malformed(f"array of {len(dims)} dimensions (1..{MAX_NDIM} supported)")
    flat: List[Any] = []
    _flatten(value, dims, 0, flat, multi, "")
    return dims, flat


def _flatten(items: List[Any], dims: List[int], level: int, flat: List[Any], multi: bool,
             where: str) -> None:
    last = level == len(dims) - 1
    for i, item in enumerate(items):
        if last:
            if multi and isinstance(item, list):
                raise _Malformed(f"ragged array: element {where}[{i}] is a list where "
                                 "the other elements are not")
            flat.append(item)
        elif not isinstance(item, list) or len(item) != dims[level + 1]:
            raise _Malformed(f"ragged array: element {where}[{i}] is not a list of "
                             f"{dims[level + 1]} elements like the first")
        else:
            _flatten(item, dims, level + 1, flat, multi, f"{where}[{i}]")


def _enc_array(value: Any, spec: TypeSpec) -> bytes:
    if not isinstance(value, (list, tuple)):
        raise _expected("list", value)
    element = spec[2] if len(spec) > 2 else None
    multi = element is None or tuple(element[:2]) not in _LIST_VALUED
    dims, flat = _array_shape(list(value), multi)
    if element is None:
        element = infer_common(flat)
    element = tuple(element)
    encode = _encoder(element)
    has_nulls = any(item is None for item in flat)
    parts = [_ARRAY_HEAD.pack(len(dims), ARRAY_HAS_NULLS if has_nulls else 0, *element[:2])]
    parts.extend(_DIM.pack(length, 1) for length in dims)
    for k, item in enumerate(flat):
        if item is None:
            parts.append(b"\xff\xff\xff\xff")
            continue
        parts.append(_framed(f"element {k}", element, encode, item))
    return b"".join(parts)


def _encoder(spec: TypeSpec) -> Optional[Encoder]:
    codec = CODECS.get(tuple(spec[:2]))
    if codec is None:
        return None
    return codec[1]


def _framed(what: str, spec: TypeSpec, encode: Optional[Encoder], value: Any) -> bytes:
    if encode is None:
        raise _Malformed(f"{what} ({type_label(spec)}): no binary encoding for this type")
    try:
        raw = encode(value, spec)
    except _Malformed as exc:
        raise _Malformed(f"{what} ({type_label(spec)}): {exc}") from None
    return _I32.pack(len(raw)) + raw


_register([ARRAY, LIST], _dec_array, _enc_array)

# ---------------------------------------------------------------- RANGE / MULTIRANGE


def _dec_range(data: bytes, opts: Options, depth: int) -> Any:
    _enter(depth)
    n = len(data)
    if n < 8:
        raise _Malformed(f"value of {n} bytes, expected at least 8")
    flags, family, code = _RANGE_HEAD.unpack_from(data)
    if flags & ~0x1F:
        raise _Malformed(f"range flags 0x{flags:02x} have unknown bits")
    if flags & RANGE_EMPTY:
        if flags != RANGE_EMPTY:
            raise _Malformed(f"range flags 0x{flags:02x} mark it empty and set bounds too")
        if n != 8:
            raise _Malformed(f"{n - 8} bytes after an empty range")
        return Range(empty=True)
    subtype = (family, code)
    pos = 8
    bounds: List[Any] = []
    for what, inf_flag, inc_flag in (("lower bound", RANGE_LOWER_INF, RANGE_LOWER_INC),
                                     ("upper bound", RANGE_UPPER_INF, RANGE_UPPER_INC)):
        if flags & inf_flag:
            if flags & inc_flag:
                raise _Malformed(f"the {what} is both infinite and inclusive")
            bounds.append(None)
            continue
        raw, pos = _frame(data, pos, what, False)
        bounds.append(_inside(what, subtype, raw, opts, depth + 1))
    if pos != n:
        raise _Malformed(f"{n - pos} bytes after the last bound")
    return Range(bounds[0], bounds[1], ("[" if flags & RANGE_LOWER_INC else "(")
                 + ("]" if flags & RANGE_UPPER_INC else ")"))


def _range_bytes(value: Any, subtype: TypeSpec) -> bytes:
    if not isinstance(value, Range):
        raise _expected("Range", value)
    if value.empty:
        return _RANGE_HEAD.pack(RANGE_EMPTY, *subtype[:2])
    flags = 0
    parts = []
    encode = _encoder(subtype)
    for what, bound, inf_flag, inc_flag, inclusive in (
            ("lower bound", value.lower, RANGE_LOWER_INF, RANGE_LOWER_INC, value.lower_inc),
            ("upper bound", value.upper, RANGE_UPPER_INF, RANGE_UPPER_INC, value.upper_inc)):
        if bound is None:
            flags |= inf_flag
            continue
        flags |= inc_flag if inclusive else 0
        parts.append(_framed(what, subtype, encode, bound))
    return _RANGE_HEAD.pack(flags, *subtype[:2]) + b"".join(parts)


def _bounds_of(ranges: Iterable[Any]) -> List[Any]:
    return [b for r in ranges if isinstance(r, Range) for b in (r.lower, r.upper)]


def _enc_range(value: Any, spec: TypeSpec) -> bytes:
    subtype = tuple(spec[2]) if len(spec) > 2 else infer_common(_bounds_of([value]))
    return _range_bytes(value, subtype)


def _dec_multirange(data: bytes, opts: Options, depth: int) -> Any:
    _enter(depth)
    n = len(data)
    if n < 8:
        raise _Malformed(f"value of {n} bytes, expected at least 8")
    family, code, count = _SET_HEAD.unpack_from(data)
    pos = 8
    _check_count(count, 4, n - pos, "ranges")
    out = []
    for k in range(count):
        raw, pos = _frame(data, pos, f"range {k}", False)
        member = _inside(f"range {k}", RANGE, raw, opts, depth + 1)
        if raw[4:8] != data[0:4]:
            member_type = _TYPE_ID.unpack_from(raw, 4)
            raise _Malformed(f"range {k} has subtype {type_label(member_type)} but the "
                             f"multirange declares {type_label((family, code))}")
        out.append(member)
    if pos != n:
        raise _Malformed(f"{n - pos} bytes after the last range")
    return out


def _enc_multirange(value: Any, spec: TypeSpec) -> bytes:
    if not isinstance(value, (list, tuple)):
        raise _expected("a list of Range", value)
    subtype = tuple(spec[2]) if len(spec) > 2 else infer_common(_bounds_of(value))
    parts = [_SET_HEAD.pack(subtype[0], subtype[1], len(value))]
    for k, member in enumerate(value):
        try:
            raw = _range_bytes(member, subtype)
        except _Malformed as exc:
            raise _Malformed(f"range {k}: {exc}") from None
        parts.append(_I32.pack(len(raw)) + raw)
    return b"".join(parts)


_register([RANGE], _dec_range, _enc_range)
_register([MULTIRANGE], _dec_multirange, _enc_multirange)

# ---------------------------------------------------------------- MAP, ROW/COMPOSITE, VARIANT


def _dec_map(data: bytes, opts: Options, depth: int) -> Any:
    _enter(depth)
    n = len(data)
    if n < 12:
        raise _Malformed(f"value of {n} bytes, expected at least 12")
    kf, kc, vf, vc, count = _MAP_HEAD.unpack_from(data)
    key_type, value_type = (kf, kc), (vf, vc)
    pos = 12
    _check_count(count, 8, n - pos, "entries")
    out = {}
    for k in range(count):
        raw, pos = _frame(data, pos, f"key {k}", False)
        key = _inside(f"key {k}", key_type, raw, opts, depth + 1)
        item_raw, pos = _frame(data, pos, f"value {k}", True)
        item = None if item_raw is None else _inside(f"value {k}", value_type, item_raw, opts,
                                                     depth + 1)
        try:
            seen = key in out
        except TypeError:
            raise _Malformed(f"key {k} ({type_label(key_type)}) is not hashable") from None
        if seen:
            raise _Malformed(f"key {k} repeats an earlier key")
        out[key] = item
    if pos != n:
        raise _Malformed(f"{n - pos} bytes after the last entry")
    return out


def _enc_map(value: Any, spec: TypeSpec) -> bytes:
    if not isinstance(value, dict):
        raise _expected("dict", value)
    key_type = tuple(spec[2]) if len(spec) > 2 else infer_common(list(value))
    value_type = tuple(spec[3]) if len(spec) > 3 else infer_common(list(value.values()))
    encode_key, encode_value = _encoder(key_type), _encoder(value_type)
    parts = [_MAP_HEAD.pack(*key_type[:2], *value_type[:2], len(value))]
    for k, (key, item) in enumerate(value.items()):
        if key is None:
            raise _Malformed(f"key {k} is None; map keys cannot be NULL")
        parts.append(_framed(f"key {k}", key_type, encode_key, key))
        parts.append(b"\xff\xff\xff\xff" if item is None else
                     _framed(f"value {k}", value_type, encode_value, item))
    return b"".join(parts)


def _dec_row(data: bytes, opts: Options, depth: int) -> Any:
    _enter(depth)
    n = len(data)
    if n < 4:
        raise _Malformed(f"value of {n} bytes, expected at least 4")
    count = _U32.unpack_from(data)[0]
    pos = 4
    _check_count(count, 8, n - pos, "fields")
    out = []
    for k in range(count):
        if n - pos < 4:
            raise _Malformed(f"field {k}: truncated type id")
        field_type = _TYPE_ID.unpack_from(data, pos)
        raw, pos = _frame(data, pos + 4, f"field {k}", True)
        out.append(None if raw is None else
                   _inside(f"field {k}", field_type, raw, opts, depth + 1))
    if pos != n:
        raise _Malformed(f"{n - pos} bytes after the last field")
    return tuple(out)


def _enc_row(value: Any, spec: TypeSpec) -> bytes:
    if not isinstance(value, (tuple, list)):
        raise _expected("tuple", value)
    if len(spec) > 2:
        fields = [tuple(f) for f in spec[2]]
        if len(fields) != len(value):
            raise _Malformed(f"{len(fields)} field types for {len(value)} values")
    else:
        fields = [infer_spec(item) for item in value]
    parts = [_U32.pack(len(value))]
    for k, (field, item) in enumerate(zip(fields, value)):
        parts.append(_TYPE_ID.pack(*field[:2]))
        parts.append(b"\xff\xff\xff\xff" if item is None else
                     _framed(f"field {k}", field, _encoder(field), item))
    return b"".join(parts)


def _dec_variant(data: bytes, opts: Options, depth: int) -> Any:
    _enter(depth)
    n = len(data)
    if n < 4:
        raise _Malformed(f"value of {n} bytes, expected at least 4")
    tag = _TYPE_ID.unpack_from(data)
    if tag == UNTYPED:
        if n != 4:
            raise _Malformed(f"a NULL variant carries {n - 4} bytes")
        return None
    return _inside("variant", tag, data[4:], opts, depth + 1)


def _enc_variant(value: Any, spec: TypeSpec) -> bytes:
    tag = tuple(spec[2]) if len(spec) > 2 else infer_spec(value)
    if value is None:
        return _TYPE_ID.pack(0, 0)
    encode = _encoder(tag)
    if encode is None:
        raise _Malformed(f"variant ({type_label(tag)}): no binary encoding for this type")
    try:
        return _TYPE_ID.pack(*tag[:2]) + encode(value, tag)
    except _Malformed as exc:
        raise _Malformed(f"variant ({type_label(tag)}): {exc}") from None


_register([MAP], _dec_map, _enc_map)
_register([ROW, COMPOSITE], _dec_row, _enc_row)
_register([VARIANT], _dec_variant, _enc_variant)

# ---------------------------------------------------------------- type inference (encode_param)

_I64_MIN, _I64_MAX = -(1 << 63), (1 << 63) - 1
_I128_MIN, _I128_MAX = -(1 << 127), (1 << 127) - 1
_U128_MAX = (1 << 128) - 1


def _int_spec(lo: int, hi: int) -> TypeSpec:
    """The narrowest of INT64, INT128, UINT128, DECIMAL that holds ``lo..hi``."""
    if _I64_MIN <= lo and hi <= _I64_MAX:
        return INT64
    if _I128_MIN <= lo and hi <= _I128_MAX:
        return INT128
    if 0 <= lo and hi <= _U128_MAX:
        return UINT128
    return DECIMAL


def _aware(value: Union[_dt.time, _dt.datetime]) -> bool:
    return value.utcoffset() is not None


def _list_spec(value: List[Any]) -> TypeSpec:
    try:
        dims, flat = _array_shape(value, True)
    except _Malformed:
        if not any(isinstance(item, list) for item in value):
            raise
        # Ragged (DuckDB's LIST of LISTs): a one-dimensional array whose elements are
        # arrays themselves, each framed with its own dimensions.
        inner = {_list_spec(item) for item in value if isinstance(item, list)}
        inner = {spec for spec in inner if spec[2] != UNTYPED} or inner
        if len(inner) > 1 or any(item is not None and not isinstance(item, list) for item in value):
            raise
        return (ARRAY[0], ARRAY[1], inner.pop())
    return (ARRAY[0], ARRAY[1], infer_common(flat))


# Python type -> type id, or a function of the value giving its spec (adaptation as data)
_INFER: Dict[type, Union[TypeSpec, Callable[[Any], TypeSpec]]] = {
    bool: BOOLEAN, float: FLOAT64, Decimal: DECIMAL, str: TEXT,
    bytes: BINARY, bytearray: BINARY, memoryview: BINARY,
    _dt.date: DATE,
    _dt.datetime: lambda v: TIMESTAMPTZ if _aware(v) else TIMESTAMP,
    _dt.time: lambda v: TIMETZ if _aware(v) else TIME,
    _dt.timedelta: INTERVAL, Interval: INTERVAL, uuid.UUID: UUID,
    Json: JSON, Jsonb: JSONB, Geometry: GEOMETRY,
    ipaddress.IPv4Interface: INET, ipaddress.IPv6Interface: INET,
    ipaddress.IPv4Address: INET, ipaddress.IPv6Address: INET,
    ipaddress.IPv4Network: CIDR, ipaddress.IPv6Network: CIDR,
    int: lambda v: _int_spec(v, v),
    list: _list_spec,
    tuple: lambda v: (ROW[0], ROW[1], tuple(infer_spec(item) for item in v)),
    dict: lambda v: (MAP[0], MAP[1], infer_common(list(v)), infer_common(list(v.values()))),
    Range: lambda v: (RANGE[0], RANGE[1], infer_common(_bounds_of([v]))),
}


def infer_spec(value: Any) -> TypeSpec:
    """The type spec for a Python value (``UNTYPED`` for None); _Malformed if there is none."""
    if value is None:
        return UNTYPED
    for cls in type(value).__mro__:
        rule = _INFER.get(cls)
        if rule is not None:
            return rule(value) if callable(rule) else rule
    raise _Malformed(f"no binary encoding for Python type {type(value).__name__}")


def infer_common(values: Iterable[Any]) -> TypeSpec:
    """One spec for all of ``values`` (None skipped); ints widen to hold every one."""
    specs = set()
    ints = []
    for value in values:
        if value is None:
            continue
        if _is_int(value):
            ints.append(value)
        else:
            specs.add(infer_spec(value))
    if ints:
        specs.add(_int_spec(min(ints), max(ints)))
    if not specs:
        return UNTYPED
    if len(specs) > 1:
        names = ", ".join(sorted(type_label(s) for s in specs))
        raise _Malformed(f"values of different types ({names}) need an explicit type")
    return specs.pop()
