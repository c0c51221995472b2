"""SBWP v1.1 constants: message codes, feature bits, flags (REFERENCE 2, 3.7, appendix A)."""
from __future__ import annotations

from typing import Optional, Tuple

HEADER_SIZE = 40
MAGIC = b"SBWP"
VERSION_MAJOR = 1
VERSION_MINOR = 1
MAX_PAYLOAD = 64 * 1024 * 1024  # 67,108,864 bytes (REFERENCE 2)
ZERO_UUID = bytes(16)

# Header flags (REFERENCE 2.1)
FLAG_COMPRESSED = 0x01
FLAG_CONTINUED = 0x02
FLAG_FINAL = 0x04
FLAG_URGENT = 0x08
FLAG_RESERVED_MASK = 0xF0

# Client -> server
STARTUP = 0x01
AUTH_RESPONSE = 0x02
QUERY = 0x03
PARSE = 0x04
BIND = 0x05
DESCRIBE = 0x06
EXECUTE = 0x07
CLOSE = 0x08
SYNC = 0x09
FLUSH = 0x0A
CANCEL = 0x0B
TERMINATE = 0x0C
COPY_DATA = 0x0D
COPY_DONE = 0x0E
COPY_FAIL = 0x0F
SBLR_EXECUTE = 0x10
SUBSCRIBE = 0x11
UNSUBSCRIBE = 0x12
FEDERATED_QUERY = 0x13
STREAM_CONTROL = 0x14
TXN_BEGIN = 0x15
TXN_COMMIT = 0x16
TXN_ROLLBACK = 0x17
TXN_SAVEPOINT = 0x18
TXN_RELEASE = 0x19
TXN_ROLLBACK_TO = 0x1A
PING = 0x1B
SET_OPTION = 0x1C
CLUSTER_AUTH = 0x1D
ATTACH_CREATE = 0x1E
ATTACH_DETACH = 0x1F
ATTACH_LIST = 0x20
RESET_SESSION = 0x21
REAUTH = 0x22
TRACE_CONTEXT = 0x23
LOB_CLOSE = 0x71
HEARTBEAT = 0x80
EXTENSION = 0x81

# Server -> client
AUTH_REQUEST = 0x40
AUTH_OK = 0x41
AUTH_CONTINUE = 0x42
READY = 0x43
ROW_DESCRIPTION = 0x44
DATA_ROW = 0x45
COMMAND_COMPLETE = 0x46
EMPTY_QUERY = 0x47
ERROR = 0x48
NOTICE = 0x49
PARSE_COMPLETE = 0x4A
BIND_COMPLETE = 0x4B
CLOSE_COMPLETE = 0x4C
PORTAL_SUSPENDED = 0x4D
NO_DATA = 0x4E
PARAMETER_STATUS = 0x4F
PARAMETER_DESCRIPTION = 0x50
COPY_IN_RESPONSE = 0x51
NOTIFICATION = 0x54
SBLR_COMPILED = 0x57
TXN_STATUS = 0x5C
PONG = 0x5D
SERVER_INFO = 0x61
CANCEL_ACK = 0x65
CANCELLED = 0x66

MESSAGE_NAMES = {
    value: name for name, value in dict(globals()).items()
    if isinstance(value, int) and name.isupper() and not name.startswith(("FLAG_", "FEATURE_", "MAX_", "HEADER_", "VERSION_", "AUTH_METHOD"))
}

# Client frame types the real server knows (REFERENCE appendix A); others are fatal.
CLIENT_MESSAGE_TYPES = frozenset({
    STARTUP, AUTH_RESPONSE, QUERY, PARSE, BIND, DESCRIBE, EXECUTE, CLOSE, SYNC, CANCEL,
    TERMINATE, COPY_DATA, COPY_DONE, COPY_FAIL, SBLR_EXECUTE, SUBSCRIBE, UNSUBSCRIBE,
    STREAM_CONTROL, TXN_BEGIN, TXN_COMMIT, TXN_ROLLBACK, TXN_SAVEPOINT, TXN_RELEASE,
    TXN_ROLLBACK_TO, PING, SET_OPTION, RESET_SESSION, REAUTH, TRACE_CONTEXT, TXN_STATUS,
    LOB_CLOSE, HEARTBEAT, EXTENSION,
})

# Feature bits (REFERENCE 3.7)
FEATURE_COMPRESSION = 1 << 0
FEATURE_STREAMING = 1 << 1
FEATURE_SBLR = 1 << 2
FEATURE_NOTIFICATIONS = 1 << 4
FEATURE_BATCH = 1 << 6
FEATURE_PIPELINE = 1 << 7
FEATURE_BINARY_COPY = 1 << 8
FEATURE_SAVEPOINTS = 1 << 9
FEATURE_MULTI_RESULT = 1 << 13
FEATURE_GENERATED_KEYS = 1 << 14
FEATURE_OUT_PARAMETERS = 1 << 15
FEATURE_ARRAY_BIND = 1 << 16
FEATURE_BULK_REJECTS = 1 << 17
FEATURE_LOB_LOCATOR = 1 << 18
FEATURE_CURSORS = 1 << 19
FEATURE_COPY_BACKPRESSURE = 1 << 20
FEATURE_SESSION_RESET = 1 << 21
FEATURE_REAUTH = 1 << 22
FEATURE_TRACE_CONTEXT = 1 << 24
# Project extension (docs/protocol.md 1.1): binary result values and binary BIND
# parameters. Bit 32 lies outside the server's known range; offering it (never requiring
# it) is harmless to today's server, which grants only bits it knows (REFERENCE 3.6).
FEATURE_BINARY_VALUES = 1 << 32

# What the real sbsql server grants (REFERENCE 3.7) and what this driver offers
# (appendix D item 2: 1 | 2 | 4 | 8 | 9 | 16 | 21 | 24).
SBSQL_SUPPORTED_FEATURES = 0x016FE3D6
CLIENT_OFFERED_FEATURES = (
    FEATURE_STREAMING | FEATURE_SBLR | FEATURE_NOTIFICATIONS | FEATURE_BINARY_COPY
    | FEATURE_SAVEPOINTS | FEATURE_ARRAY_BIND | FEATURE_SESSION_RESET | FEATURE_TRACE_CONTEXT
)

# Frames that need a negotiated feature bit (REFERENCE 3.7); without it they are fatal.
GATED_CLIENT_FRAMES = {
    COPY_DATA: FEATURE_STREAMING, COPY_DONE: FEATURE_STREAMING, COPY_FAIL: FEATURE_STREAMING,
    SBLR_EXECUTE: FEATURE_SBLR, SUBSCRIBE: FEATURE_NOTIFICATIONS,
    UNSUBSCRIBE: FEATURE_NOTIFICATIONS, TXN_SAVEPOINT: FEATURE_SAVEPOINTS,
    TXN_RELEASE: FEATURE_SAVEPOINTS, TXN_ROLLBACK_TO: FEATURE_SAVEPOINTS,
    LOB_CLOSE: FEATURE_LOB_LOCATOR, STREAM_CONTROL: FEATURE_COPY_BACKPRESSURE,
    RESET_SESSION: FEATURE_SESSION_RESET, REAUTH: FEATURE_REAUTH,
    TRACE_CONTEXT: FEATURE_TRACE_CONTEXT,
}

# PARSE parameter type ids in binary sessions (docs/protocol.md 1.7): the TypeRef's
# (family, code) packed into the u32 OID slot, marked by the top bit.
PARAM_TYPE_TAG = 0x80000000


def param_type_oid(family: int, code: int) -> int:
    return PARAM_TYPE_TAG | (family << 16) | code


def param_type_from_oid(oid: int) -> Optional[Tuple[int, int]]:
    """(family, code) for a tagged parameter type, else None (a plain OID)."""
    if oid & PARAM_TYPE_TAG:
        return (oid >> 16) & 0x7FFF, oid & 0xFFFF
    return None


# READY reasons (REFERENCE 3.14)
READY_STARTUP = 1
READY_COMMAND_COMPLETE = 2
READY_ERROR_RECOVERED = 3
READY_RESET_COMPLETE = 4
READY_REAUTH_COMPLETE = 5
READY_CANCEL_OUTCOME = 6
READY_STATE_CHANGE = 7

# QUERY flags (REFERENCE 4.1)
QUERY_FLAG_BINARY_RESULT = 0x04
QUERY_FLAG_AUTOCOMMIT = 0x40

# AUTH_REQUEST methods
AUTH_METHOD_PASSWORD = 1
AUTH_METHOD_SCRAM_SHA_256 = 3

# Type codes the real server infers from value text (REFERENCE 8.2): PostgreSQL OIDs.
OID_BOOL = 16
OID_INT8 = 20
OID_TEXT = 25
OID_NUMERIC = 1700

# P1 CanonicalTypeRef (family, code) for those OIDs (REFERENCE 8.2)
TYPEREF_FOR_OID = {
    OID_BOOL: (1, 1),
    OID_INT8: (2, 4),
    OID_NUMERIC: (4, 1),
    OID_TEXT: (8, 1),
    23: (2, 3),
    701: (6, 2),
    0: (0, 0),
}
OID_FOR_TYPEREF = {
    (1, 1): OID_BOOL, (2, 3): 23, (2, 4): OID_INT8, (4, 1): OID_NUMERIC, (8, 1): OID_TEXT,
    (6, 2): 701, (0, 0): 0,
}


def oid_for_typeref(family: int, code: int) -> int:
    """The DB-API type code (a PostgreSQL-numbered OID) for a CanonicalTypeRef: the
    reference drivers' mapping (REFERENCE 8.8, last paragraph), widened to the integer,
    float and time-zone variants that mapping folds together."""
    exact = OID_FOR_TYPEREF.get((family, code))
    if exact is not None:
        return exact
    if family == 2:
        return 21 if code in (1, 2) else 20          # int8/int16 -> int2; int128 -> int8
    if family == 3:
        return 20                                    # unsigned integers
    if family == 5:
        return OID_NUMERIC                           # decfloat
    if family == 6:
        return 701                                   # approximate numerics
    if family == 7:
        return 790                                   # money
    if family in (9, 14):
        return 17                                    # binary, blob
    if family == 11:
        tz = code & 0x8000
        base = code & 0x7FFF
        if base == 1:
            return 1082
        if base == 2:
            return 1266 if tz else 1083
        return 1184 if tz else 1114
    if family == 12:
        return 1186
    if family == 13:
        return 2950
    if family == 19:
        return 829 if code == 3 else (650 if code == 2 else 869)
    if family == 20:
        return {3: 3802, 5: 142}.get(code, 114)
    return OID_TEXT
