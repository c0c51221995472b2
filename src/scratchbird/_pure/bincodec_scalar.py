"""Binary value codecs for the scalar types (part of the pure twin of ``ext/bincodec.pyx``).

Temporal types are in ``bincodec_temporal``, nested ones in ``bincodec_nested``.

One decoder and one encoder per type id, registered in ``CODECS``; the layouts are in
docs/protocol.md, "Binary values", which says where REFERENCE 8.7 defines them and
where this driver chose. A decoder takes the value's bytes (``bytes``), the decode
options and the nesting depth, and raises ``_Malformed`` with the bare reason; the
caller adds the column and type. Every length is checked before it is used.
"""
from __future__ import annotations

import ipaddress
import json
import struct
import uuid
from decimal import Decimal
from typing import Any, Callable, Dict, Iterable, Optional, Tuple, Union

from scratchbird.binary_types import Geometry, Jsonb
from scratchbird.types import Json

# ---------------------------------------------------------------- type ids (REFERENCE 8.8)

# A type id is (family, code) of the P1 CanonicalTypeRef. TIME and TIMESTAMP WITH TIME
# ZONE share their code with the plain types (the TypeRef says it in timezone_policy),
# so a type id marks them with this bit in the code: the 4-byte id inside nested values
# must tell them apart (docs/protocol.md, "Type ids").
TZ = 0x8000

# (family, code)
TypeId = Tuple[int, int]
# (family, code) or (family, code, element specs...): docs/protocol.md 1.7
TypeSpec = Tuple[Any, ...]

UNTYPED = (0, 0)
BOOLEAN = (1, 1)
INT8, INT16, INT32, INT64, INT128 = (2, 1), (2, 2), (2, 3), (2, 4), (2, 5)
UINT8, UINT16, UINT32, UINT64, UINT128 = (3, 1), (3, 2), (3, 3), (3, 4), (3, 5)
DECIMAL = (4, 1)
DECFLOAT = (5, 1)
FLOAT32, FLOAT64 = (6, 2), (6, 3)
MONEY = (7, 1)
TEXT = (8, 1)
BINARY = (9, 1)
BIT = (10, 1)
DATE, TIME, TIMESTAMP = (11, 1), (11, 2), (11, 3)
TIMETZ, TIMESTAMPTZ = (11, 2 | TZ), (11, 3 | TZ)
INTERVAL = (12, 1)
UUID = (13, 1)
BLOB = (14, 1)
ARRAY, LIST = (15, 1), (15, 2)
MAP, ROW, COMPOSITE, VARIANT = (16, 1), (16, 2), (16, 3), (16, 4)
RANGE, MULTIRANGE = (17, 1), (17, 2)
ENUM = (18, 1)
INET, CIDR, MACADDR = (19, 1), (19, 2), (19, 3)
JSON, JSONB, XML = (20, 2), (20, 3), (20, 5)
GEOMETRY, GEOGRAPHY, POINT, SHAPE = (21, 1), (21, 2), (21, 3), (21, 4)
VECTOR = (22, 1)
TSVECTOR, TSQUERY = (30, 101), (30, 102)

TYPE_NAMES = {
    UNTYPED: "UNTYPED", BOOLEAN: "BOOLEAN",
    INT8: "INT8", INT16: "INT16", INT32: "INT32", INT64: "INT64", INT128: "INT128",
    UINT8: "UINT8", UINT16: "UINT16", UINT32: "UINT32", UINT64: "UINT64", UINT128: "UINT128",
    DECIMAL: "DECIMAL", DECFLOAT: "DECFLOAT", FLOAT32: "FLOAT32", FLOAT64: "FLOAT64",
    MONEY: "MONEY", TEXT: "TEXT", BINARY: "BINARY", BIT: "BIT", DATE: "DATE", TIME: "TIME",
    TIMESTAMP: "TIMESTAMP", TIMETZ: "TIMETZ", TIMESTAMPTZ: "TIMESTAMPTZ",
    INTERVAL: "INTERVAL", UUID: "UUID", BLOB: "BLOB", ARRAY: "ARRAY", LIST: "LIST",
    MAP: "MAP", ROW: "ROW", COMPOSITE: "COMPOSITE", VARIANT: "VARIANT", RANGE: "RANGE",
    MULTIRANGE: "MULTIRANGE", ENUM: "ENUM", INET: "INET", CIDR: "CIDR", MACADDR: "MACADDR",
    JSON: "JSON", JSONB: "JSONB", XML: "XML", GEOMETRY: "GEOMETRY", GEOGRAPHY: "GEOGRAPHY",
    POINT: "POINT", SHAPE: "SHAPE", VECTOR: "VECTOR", TSVECTOR: "TSVECTOR",
    TSQUERY: "TSQUERY",
}


def type_label(type_id: TypeSpec) -> str:
    """``INT32 (2,3)``, ``TIMESTAMPTZ (11,3,tz)``, ``type (99,1)`` for error messages."""
    family, code = type_id[0], type_id[1]
    name = TYPE_NAMES.get((family, code), "type")
    if code & TZ and family == 11:
        return f"{name} ({family},{code & ~TZ},tz)"
    return f"{name} ({family},{code})"


class _Malformed(Exception):
    """A value's bytes (or a Python value) do not fit its type; the text is the reason."""


JsonLoads = Callable[[str], Any]


class Options:
    """Decode options shared by every value of a result (and its nested values)."""

    __slots__ = ("json_loads",)

    def __init__(self, json_loads: Optional[JsonLoads] = None) -> None:
        self.json_loads = json_loads


# decode(data, opts, depth) and encode(value, spec) of one type
Decoder = Callable[[bytes, Options, int], Any]
Encoder = Callable[[Any, TypeSpec], bytes]

# type id -> (decode, encode); the temporal and nested modules add theirs
CODECS: Dict[TypeId, Tuple[Decoder, Encoder]] = {}


def _register(type_ids: Iterable[TypeId], decode: Decoder, encode: Encoder) -> None:
    for type_id in type_ids:
        CODECS[type_id] = (decode, encode)


def _fixed(data: bytes, width: int) -> None:
    if len(data) != width:
        raise _Malformed(f"value of {len(data)} bytes, expected {width}")


def _expected(what: str, value: object) -> _Malformed:
    return _Malformed(f"expected {what}, got {type(value).__name__}")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)

# ---------------------------------------------------------------- boolean, integers, floats


def _dec_bool(data: bytes, opts: Options, depth: int) -> Any:
    _fixed(data, 1)
    if data[0] > 1:
        raise _Malformed(f"boolean byte {data[0]} is not 0 or 1")
    return data[0] == 1


def _enc_bool(value: Any, spec: TypeSpec) -> bytes:
    if not isinstance(value, bool):
        raise _expected("bool", value)
    return b"\x01" if value else b"\x00"


_register([BOOLEAN], _dec_bool, _enc_bool)


def _int_codec(type_id: TypeId, width: int, signed: bool) -> None:
    lo = -(1 << (8 * width - 1)) if signed else 0
    hi = (1 << (8 * width - 1)) - 1 if signed else (1 << (8 * width)) - 1
    problem = f"integer does not fit {TYPE_NAMES[type_id]} ({lo}..{hi})"

    def decode(data: bytes, opts: Options, depth: int) -> Any:
        _fixed(data, width)
        return int.from_bytes(data, "little", signed=signed)

    def encode(value: Any, spec: TypeSpec) -> bytes:
        if not _is_int(value):
            raise _expected("int", value)
        if not lo <= value <= hi:
            raise _Malformed(problem)
        number: int = value
        return number.to_bytes(width, "little", signed=signed)

    _register([type_id], decode, encode)


for _tid, _width in ((INT8, 1), (INT16, 2), (INT32, 4), (INT64, 8), (INT128, 16)):
    _int_codec(_tid, _width, True)
for _tid, _width in ((UINT8, 1), (UINT16, 2), (UINT32, 4), (UINT64, 8), (UINT128, 16)):
    _int_codec(_tid, _width, False)


def _float_codec(type_id: TypeId, fmt: str) -> None:
    packer = struct.Struct(fmt)
    name = TYPE_NAMES[type_id]

    def decode(data: bytes, opts: Options, depth: int) -> Any:
        _fixed(data, packer.size)
        return packer.unpack(data)[0]

    def encode(value: Any, spec: TypeSpec) -> bytes:
        if _is_int(value):
            try:
                as_float = float(value)
            except OverflowError:
                as_float = None
            if as_float is None or as_float != value:
                raise _Malformed(f"integer is not exactly representable as {name}")
            value = as_float
        elif not isinstance(value, float):
            raise _expected("float", value)
        try:
            return packer.pack(value)
        except OverflowError:
            raise _Malformed(f"float is outside the {name} range") from None

    _register([type_id], decode, encode)


_float_codec(FLOAT32, "<f")
_float_codec(FLOAT64, "<d")

# ---------------------------------------------------------------- DECIMAL, DECFLOAT, MONEY

_DEC_HEAD = struct.Struct("<hhB3x")   # precision, scale, sign; REFERENCE 8.7
SIGN_NEGATIVE = 0x01
SIGN_INFINITY = 0x10
SIGN_NAN = 0x20
SIGN_SNAN = 0x30
_SPECIAL_EXPONENT = {SIGN_INFINITY: "F", SIGN_NAN: "n", SIGN_SNAN: "N"}
_SPECIAL_SIGN = {"F": SIGN_INFINITY, "n": SIGN_NAN, "N": SIGN_SNAN}


# The largest precision the i16 precision field can declare is 32 767 digits, and a
# coefficient below 10**32767 fits in 13 607 bytes (32767 * log2(10) / 8, rounded up).
# A longer coefficient is refused before it is turned into digits, which costs time
# quadratic in its length (docs/protocol.md 1.4, "DECIMAL digits").
MAX_DECIMAL_DIGITS = 32767
MAX_DECIMAL_COEFFICIENT_BYTES = 13607


def _digits_of(coefficient: int) -> Tuple[int, ...]:
    # Decimal(int) is exact and, unlike str(int), has no digit limit: callers cap the
    # coefficient's length first (_coefficient)
    return Decimal(coefficient).as_tuple().digits


def _coefficient(data: bytes) -> int:
    """The little-endian coefficient after the 8-byte head, its length capped."""
    raw = bytes(data[8:]).rstrip(b"\x00")      # high zero bytes add nothing
    if len(raw) > MAX_DECIMAL_COEFFICIENT_BYTES:
        raise _Malformed(f"decimal coefficient of {len(raw)} bytes exceeds the "
                         f"{MAX_DECIMAL_COEFFICIENT_BYTES} bytes that {MAX_DECIMAL_DIGITS} "
                         "digits (the largest i16 precision) need")
    return int.from_bytes(raw, "little")


def _dec_decimal(data: bytes, opts: Options, depth: int) -> Any:
    if len(data) < 8:
        raise _Malformed(f"value of {len(data)} bytes, expected at least 8")
    _precision, scale, sign = _DEC_HEAD.unpack_from(data)   # precision: informative only
    negative = sign & SIGN_NEGATIVE
    kind = sign & ~SIGN_NEGATIVE
    coefficient = _coefficient(data)
    if kind == 0:
        return Decimal((negative, _digits_of(coefficient), -scale))
    if kind not in _SPECIAL_EXPONENT:
        raise _Malformed(f"decimal sign byte 0x{sign:02x} is not 0x00/0x01, 0x10/0x11 "
                         "(infinity), 0x20/0x21 (NaN) or 0x30/0x31 (signaling NaN)")
    if scale:
        raise _Malformed(f"a decimal infinity or NaN has scale {scale}, expected 0")
    if kind == SIGN_INFINITY:
        if coefficient:
            raise _Malformed("a decimal infinity has a coefficient")
        return Decimal((negative, (), "F"))  # type: ignore[arg-type]  # typeshed lacks the 'F' form
    # a NaN's coefficient is its diagnostic payload
    payload = _digits_of(coefficient) if coefficient else ()
    # typeshed lacks the 'n'/'N' exponent form of the tuple
    return Decimal((negative, payload, _SPECIAL_EXPONENT[kind]))  # type: ignore[arg-type]


def _enc_decimal(value: Any, spec: TypeSpec) -> bytes:
    if _is_int(value):
        value = Decimal(value)
    elif not isinstance(value, Decimal):
        raise _expected("Decimal or int", value)
    sign, digits, exponent = value.as_tuple()
    if isinstance(exponent, str):
        payload = int(Decimal((0, digits, 0))) if digits else 0
        return _DEC_HEAD.pack(0, 0, _SPECIAL_SIGN[exponent] | sign) + _le_unsigned(payload)
    if not -32767 <= exponent <= 32768:
        raise _Malformed(f"exponent {exponent} is outside the i16 scale range (exponents -32767..32768)")
    if len(digits) > 32767:
        raise _Malformed(f"{len(digits)} digits exceed the i16 precision field (32767)")
    coefficient = int(Decimal((0, digits, 0)))     # exact, no digit limit
    return _DEC_HEAD.pack(len(digits), -exponent, sign) + _le_unsigned(coefficient)


def _le_unsigned(number: int) -> bytes:
    return number.to_bytes((number.bit_length() + 7) // 8, "little")


_register([DECIMAL, DECFLOAT, MONEY], _dec_decimal, _enc_decimal)

# ---------------------------------------------------------------- text, JSON, bytes, bits

_I32 = struct.Struct("<i")
MAX_I32 = 0x7FFFFFFF


def _inner(data: bytes) -> bytes:
    """The bytes after the inner ``i32 length`` (REFERENCE 8.7), which must match."""
    n = len(data)
    if n < 4:
        raise _Malformed(f"value of {n} bytes, expected at least 4")
    length = _I32.unpack_from(data)[0]
    if length != n - 4:
        raise _Malformed(f"inner length {length} does not match the {n - 4} bytes that follow")
    return data[4:]


def _utf8(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _Malformed(f"value is not valid UTF-8 ({exc.reason} at byte {exc.start})") from None


def _with_length(raw: bytes) -> bytes:
    if len(raw) > MAX_I32:
        raise _Malformed(f"value of {len(raw)} bytes exceeds the i32 length")
    return _I32.pack(len(raw)) + raw


def _encode_text(text: str) -> bytes:
    try:
        raw = text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise _Malformed(f"text is not encodable as UTF-8 ({exc.reason} at index {exc.start})") from None
    return _with_length(raw)


def _dec_text(data: bytes, opts: Options, depth: int) -> Any:
    return _utf8(_inner(data))


def _enc_text(value: Any, spec: TypeSpec) -> bytes:
    if not isinstance(value, str):
        raise _expected("str", value)
    return _encode_text(value)


_register([TEXT, XML, ENUM, TSVECTOR, TSQUERY], _dec_text, _enc_text)


def _loads(opts: Options, text: str) -> Any:
    try:
        return opts.json_loads(text)  # type: ignore[misc]  # callers check json_loads is set
    except Exception as exc:  # any failure of the user's loads is a bad value
        raise _Malformed(f"JSON text does not parse ({type(exc).__name__}: {exc})") from None


def _dec_json(data: bytes, opts: Options, depth: int) -> Any:
    text = _utf8(_inner(data))
    return text if opts.json_loads is None else _loads(opts, text)


def _dec_jsonb(data: bytes, opts: Options, depth: int) -> Any:
    text = _utf8(_inner(data))
    return Jsonb(text) if opts.json_loads is None else _loads(opts, text)


def _enc_json(value: Any, spec: TypeSpec) -> bytes:
    """str is JSON text as is; Json and Jsonb wrappers give theirs; other objects are dumped."""
    if isinstance(value, str):
        return _encode_text(value)
    if isinstance(value, Jsonb):
        return _encode_text(value.text)
    if isinstance(value, Json):
        return _encode_text(value.dumps_text())
    try:
        return _encode_text(json.dumps(value))
    except (TypeError, ValueError) as exc:
        raise _Malformed(f"value is not JSON-serialisable ({exc})") from None


_register([JSON], _dec_json, _enc_json)
_register([JSONB], _dec_jsonb, _enc_json)


def _dec_bytes(data: bytes, opts: Options, depth: int) -> Any:
    return _inner(data)


def _enc_bytes(value: Any, spec: TypeSpec) -> bytes:
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise _expected("bytes", value)
    return _with_length(bytes(value))


_register([BINARY, BLOB], _dec_bytes, _enc_bytes)


def _dec_bit(data: bytes, opts: Options, depth: int) -> Any:
    n = len(data)
    if n < 4:
        raise _Malformed(f"value of {n} bytes, expected at least 4")
    nbits = _I32.unpack_from(data)[0]
    if nbits < 0:
        raise _Malformed(f"bit count {nbits} is negative")
    need = (nbits + 7) // 8
    if n - 4 != need:
        raise _Malformed(f"{nbits} bits need {need} bytes, the value has {n - 4}")
    if nbits % 8 and data[-1] & (0xFF >> (nbits % 8)):
        raise _Malformed("the padding bits after the last bit are not zero")
    if not nbits:
        return ""
    return bin(int.from_bytes(data[4:], "big"))[2:].zfill(8 * need)[:nbits]


def _enc_bit(value: Any, spec: TypeSpec) -> bytes:
    if not isinstance(value, str):
        raise _expected("str of '0' and '1'", value)
    if value.strip("01"):
        raise _Malformed("a bit string holds only '0' and '1'")
    nbits = len(value)
    need = (nbits + 7) // 8
    if not nbits:
        return _I32.pack(0)
    return _I32.pack(nbits) + int(value + "0" * (8 * need - nbits), 2).to_bytes(need, "big")


_register([BIT], _dec_bit, _enc_bit)

# ---------------------------------------------------------------- uuid, network, geometry, vector


def _dec_uuid(data: bytes, opts: Options, depth: int) -> Any:
    _fixed(data, 16)
    return uuid.UUID(bytes=data)


def _enc_uuid(value: Any, spec: TypeSpec) -> bytes:
    if not isinstance(value, uuid.UUID):
        raise _expected("uuid.UUID", value)
    return value.bytes


_register([UUID], _dec_uuid, _enc_uuid)

_FAMILIES = {2: (4, 32, ipaddress.IPv4Interface, ipaddress.IPv4Network),
             10: (16, 128, ipaddress.IPv6Interface, ipaddress.IPv6Network)}


def _ip_parts(data: bytes, is_cidr: int) -> Tuple[bytes, int, Any, Any]:
    n = len(data)
    if n < 4:
        raise _Malformed(f"value of {n} bytes, expected 8 (IPv4) or 20 (IPv6)")
    family, bits, cidr_flag = data[0], data[1], data[2]   # data[3] is reserved
    if family not in _FAMILIES:
        raise _Malformed(f"address family {family} is not 2 (IPv4) or 10 (IPv6)")
    size, max_bits, interface, network = _FAMILIES[family]
    if n != 4 + size:
        raise _Malformed(f"value of {n} bytes, expected {4 + size} for family {family}")
    if bits > max_bits:
        raise _Malformed(f"prefix length {bits} exceeds {max_bits}")
    if cidr_flag != is_cidr:
        raise _Malformed(f"is_cidr byte {cidr_flag}, expected {is_cidr}")
    return data[4:], bits, interface, network


def _dec_inet(data: bytes, opts: Options, depth: int) -> Any:
    address, bits, interface, _network = _ip_parts(data, 0)
    return interface((address, bits))


def _dec_cidr(data: bytes, opts: Options, depth: int) -> Any:
    address, bits, _interface, network = _ip_parts(data, 1)
    try:
        return network((address, bits))
    except ValueError:
        raise _Malformed(f"network prefix /{bits} has host bits set") from None


def _ip_bytes(address: Union[ipaddress.IPv4Address, ipaddress.IPv6Address], bits: int,
              is_cidr: int) -> bytes:
    if getattr(address, "scope_id", None):
        raise _Malformed("a scoped IPv6 address has no binary form")
    family = 2 if address.version == 4 else 10
    return bytes((family, bits, is_cidr, 0)) + address.packed


def _enc_inet(value: Any, spec: TypeSpec) -> bytes:
    if isinstance(value, str):
        try:
            value = ipaddress.ip_interface(value)
        except ValueError as exc:
            raise _Malformed(str(exc)) from None
    if isinstance(value, (ipaddress.IPv4Interface, ipaddress.IPv6Interface)):
        return _ip_bytes(value.ip, value.network.prefixlen, 0)
    if isinstance(value, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
        return _ip_bytes(value, value.max_prefixlen, 0)
    raise _expected("an IP interface or address", value)


def _enc_cidr(value: Any, spec: TypeSpec) -> bytes:
    if isinstance(value, str):
        try:
            value = ipaddress.ip_network(value)
        except ValueError as exc:
            raise _Malformed(str(exc)) from None
    if isinstance(value, (ipaddress.IPv4Network, ipaddress.IPv6Network)):
        return _ip_bytes(value.network_address, value.prefixlen, 1)
    raise _expected("an IP network", value)


def _dec_macaddr(data: bytes, opts: Options, depth: int) -> Any:
    if len(data) not in (6, 8):
        raise _Malformed(f"value of {len(data)} bytes, expected 6 or 8")
    return data.hex(":")


def _enc_macaddr(value: Any, spec: TypeSpec) -> bytes:
    if isinstance(value, (bytes, bytearray)):
        raw = bytes(value)
    elif isinstance(value, str):
        parts = value.replace("-", ":").split(":")
        if not all(len(p) == 2 and p.strip("0123456789abcdefABCDEF") == "" for p in parts):
            raise _Malformed("a MAC address is 6 or 8 pairs of hex digits joined by ':' or '-'")
        raw = bytes.fromhex("".join(parts))
    else:
        raise _expected("str or bytes", value)
    if len(raw) not in (6, 8):
        raise _Malformed(f"a MAC address has 6 or 8 bytes, not {len(raw)}")
    return raw


_register([INET], _dec_inet, _enc_inet)
_register([CIDR], _dec_cidr, _enc_cidr)
_register([MACADDR], _dec_macaddr, _enc_macaddr)


def _check_wkb(wkb: bytes) -> None:
    if len(wkb) < 5:
        raise _Malformed(f"WKB of {len(wkb)} bytes is shorter than its 5-byte header")
    if wkb[0] > 1:
        raise _Malformed(f"WKB byte-order byte {wkb[0]} is not 0 or 1")


def _dec_geometry(data: bytes, opts: Options, depth: int) -> Any:
    wkb = _inner(data)
    _check_wkb(wkb)
    return Geometry(wkb)


def _enc_geometry(value: Any, spec: TypeSpec) -> bytes:
    if isinstance(value, Geometry):
        value = value.wkb
    elif not isinstance(value, (bytes, bytearray, memoryview)):
        raise _expected("Geometry or WKB bytes", value)
    value = bytes(value)
    _check_wkb(value)
    return _with_length(value)


_register([GEOMETRY, GEOGRAPHY, POINT, SHAPE], _dec_geometry, _enc_geometry)

_U32 = struct.Struct("<I")


def _dec_vector(data: bytes, opts: Options, depth: int) -> Any:
    n = len(data)
    if n < 4:
        raise _Malformed(f"value of {n} bytes, expected at least 4")
    dims = _U32.unpack_from(data)[0]
    if n - 4 != 4 * dims:
        raise _Malformed(f"{dims} dimensions need {4 * dims} bytes, the value has {n - 4}")
    return list(struct.unpack_from(f"<{dims}f", data, 4))


def _enc_vector(value: Any, spec: TypeSpec) -> bytes:
    if not isinstance(value, (list, tuple)):
        raise _expected("a list of floats", value)
    encode = CODECS[FLOAT32][1]
    parts = [_U32.pack(len(value))]
    for i, item in enumerate(value):
        try:
            parts.append(encode(item, FLOAT32))
        except _Malformed as exc:
            raise _Malformed(f"dimension {i}: {exc}") from None
    return b"".join(parts)


_register([VECTOR], _dec_vector, _enc_vector)
