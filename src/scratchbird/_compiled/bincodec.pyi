"""Type stubs for the compiled twin of ``scratchbird._pure.bincodec`` (ext/bincodec.pyx)."""
from typing import Any, Callable, Dict, Iterable, Optional, Sequence, Tuple

from scratchbird._server_messages import Column, TypeRef
from scratchbird._typing import Buffer, FrameSource, RowDecoder, RowSink

__all__ = [
    "BinaryRowDecoder", "read_data_rows", "decode_value", "encode_value", "encode_data_row",
    "encode_data_row_frames", "encode_param", "column_type_id", "typeref_for", "type_label",
    "TYPE_NAMES", "OID_TYPE_IDS", "TZ", "MAX_DEPTH", "MAX_NDIM",
    "UNTYPED", "BOOLEAN", "INT8", "INT16", "INT32", "INT64", "INT128", "UINT8", "UINT16",
    "UINT32", "UINT64", "UINT128", "DECIMAL", "DECFLOAT", "FLOAT32", "FLOAT64", "MONEY", "TEXT",
    "BINARY", "BIT", "DATE", "TIME", "TIMETZ", "TIMESTAMP", "TIMESTAMPTZ", "INTERVAL", "UUID",
    "BLOB", "ARRAY", "LIST", "MAP", "ROW", "COMPOSITE", "VARIANT", "RANGE", "MULTIRANGE", "ENUM",
    "INET", "CIDR", "MACADDR", "JSON", "JSONB", "XML", "GEOMETRY", "GEOGRAPHY", "POINT",
    "SHAPE", "VECTOR", "TSVECTOR", "TSQUERY",
]

TypeId = Tuple[int, int]
# (family, code) or (family, code, element specs...): docs/protocol.md 1.7
TypeSpec = Tuple[Any, ...]
JsonLoads = Callable[[str], Any]

TYPE_NAMES: Dict[TypeId, str]
OID_TYPE_IDS: Dict[int, TypeId]
TZ: int
MAX_DEPTH: int
MAX_NDIM: int

UNTYPED: TypeId
BOOLEAN: TypeId
INT8: TypeId
INT16: TypeId
INT32: TypeId
INT64: TypeId
INT128: TypeId
UINT8: TypeId
UINT16: TypeId
UINT32: TypeId
UINT64: TypeId
UINT128: TypeId
DECIMAL: TypeId
DECFLOAT: TypeId
FLOAT32: TypeId
FLOAT64: TypeId
MONEY: TypeId
TEXT: TypeId
BINARY: TypeId
BIT: TypeId
DATE: TypeId
TIME: TypeId
TIMETZ: TypeId
TIMESTAMP: TypeId
TIMESTAMPTZ: TypeId
INTERVAL: TypeId
UUID: TypeId
BLOB: TypeId
ARRAY: TypeId
LIST: TypeId
MAP: TypeId
ROW: TypeId
COMPOSITE: TypeId
VARIANT: TypeId
RANGE: TypeId
MULTIRANGE: TypeId
ENUM: TypeId
INET: TypeId
CIDR: TypeId
MACADDR: TypeId
JSON: TypeId
JSONB: TypeId
XML: TypeId
GEOMETRY: TypeId
GEOGRAPHY: TypeId
POINT: TypeId
SHAPE: TypeId
VECTOR: TypeId
TSVECTOR: TypeId
TSQUERY: TypeId

class BinaryRowDecoder:
    def __init__(self, columns: Iterable[Column],
                 json_loads: Optional[JsonLoads] = ...) -> None: ...
    @property
    def columns(self) -> Tuple[Column, ...]: ...
    @property
    def json_loads(self) -> Optional[JsonLoads]: ...
    @property
    def type_ids(self) -> Tuple[TypeId, ...]: ...
    @property
    def ncolumns(self) -> int: ...
    def decode_row(self, payload: Buffer) -> Tuple[Any, ...]: ...

def read_data_rows(reader: FrameSource, decoder: RowDecoder, rows: RowSink,
                   max_rows: int) -> int: ...
def decode_value(type_id: TypeSpec, data: Buffer,
                 json_loads: Optional[JsonLoads] = ...) -> Any: ...
def encode_value(type_id: TypeSpec, value: Any) -> bytes: ...
def encode_data_row(type_ids: Sequence[TypeSpec], values: Sequence[Any]) -> bytes: ...
def encode_data_row_frames(type_ids: Sequence[TypeSpec], rows: Iterable[Sequence[Any]],
                           sequence: int, attachment_id: Buffer = ...,
                           txn_id: int = ...) -> Tuple[bytes, int]: ...
def encode_param(value: Any) -> Tuple[TypeId, Optional[bytes]]: ...
def column_type_id(col: Column) -> TypeId: ...
def typeref_for(type_id: TypeSpec) -> TypeRef: ...
def type_label(type_id: TypeSpec) -> str: ...
