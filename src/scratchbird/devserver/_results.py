"""Result shaping for the dev server engine: value text rendering, type codes, synthetic rows.

* :func:`render_expr` builds the DuckDB SQL expression that turns one result column into the
  UTF-8 bytes the real server would send, so DuckDB (not Python) renders every value.
* :func:`infer_type_oid` is REFERENCE 8.2: the type code comes from the first row's text.
* :func:`catalog_row` and :func:`status_row` build the synthetic rows the real server answers
  DDL (REFERENCE 12.B.3, capture 05) and INSERT with a column list with.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from typing import List, Optional, Sequence, Tuple

__all__ = [
    "OID_BOOL",
    "OID_INT8",
    "OID_NUMERIC",
    "OID_TEXT",
    "NULL_FROM_TABLE",
    "NULL_LITERAL",
    "NULL_EXPRESSION",
    "infer_type_oid",
    "infer_type_oids",
    "render_expr",
    "null_constant_expr",
    "catalog_row",
    "status_row",
    "uuid7",
]

OID_BOOL = 16
OID_INT8 = 20
OID_NUMERIC = 1700
OID_TEXT = 25

#: NULL read from a table (12.A.1): the 6 bytes ``<NULL>``
NULL_FROM_TABLE = b"<NULL>"
#: bare NULL literal in a constant projection: the 4 bytes ``NULL``
NULL_LITERAL = b"NULL"
#: NULL produced by an expression or VALUES: a zero-length value
NULL_EXPRESSION = b""

# ---------------------------------------------------------------------------------------------
# Type-code inference (REFERENCE 8.2)
# ---------------------------------------------------------------------------------------------

_BOOL_TEXTS = frozenset({b"TRUE", b"FALSE", b"T", b"F"})
_INT_RE = re.compile(rb"[+-]?[0-9]+")
_NUMERIC_RE = re.compile(rb"[+-]?(?:[0-9]+\.[0-9]*|\.[0-9]+)")


def infer_type_oid(value: Optional[bytes]) -> int:
    """16, 20, 1700 or 25 from the text of a column's first value (None counts as empty)."""
    if not value:
        return OID_TEXT
    if len(value) <= 5 and value.upper() in _BOOL_TEXTS:
        return OID_BOOL
    if _INT_RE.fullmatch(value):
        return OID_INT8
    if _NUMERIC_RE.fullmatch(value):
        return OID_NUMERIC
    return OID_TEXT


def infer_type_oids(row: Sequence[Optional[bytes]]) -> List[int]:
    return [infer_type_oid(v) for v in row]


# ---------------------------------------------------------------------------------------------
# Rendering expressions (DuckDB does the work)
# ---------------------------------------------------------------------------------------------


def _blob_literal(text: bytes) -> str:
    # Only ASCII without quotes or backslashes is ever passed here.
    return "'" + text.decode("ascii") + "'::BLOB"


def null_constant_expr(text: bytes) -> str:
    """SQL for a constant value (used for columns of DuckDB's NULL type)."""
    return _blob_literal(text)


def render_expr(ref: str, duck_type: str, null_text: bytes) -> str:
    """SQL rendering column ``ref`` (e.g. ``#3``) of DuckDB type ``duck_type`` to UTF-8 bytes.

    booleans ``true``/``false``; numbers, dates, timestamps (TimeZone is UTC per session) and
    everything else as DuckDB's VARCHAR cast; BLOB as lowercase hex digits without prefix; NULL
    as ``null_text``.
    """
    t = duck_type.strip().upper()
    if t in ('"NULL"', "NULL"):
        return _blob_literal(null_text)
    if t == "BLOB":
        text = f"lower(hex({ref}))"
    elif t == "VARCHAR":
        text = ref
    else:
        text = f"CAST({ref} AS VARCHAR)"
    return f"coalesce(encode({text}), {_blob_literal(null_text)})"


# ---------------------------------------------------------------------------------------------
# Synthetic rows
# ---------------------------------------------------------------------------------------------


def uuid7() -> str:
    """A time-ordered (version 7) UUID as lowercase text, like the real server's object ids."""
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = ((ms & ((1 << 48) - 1)) << 80) | (0x7 << 76) | (((rand >> 62) & 0xFFF) << 64)
    value |= (0b10 << 62) | (rand & ((1 << 62) - 1))
    return str(uuid.UUID(int=value))


STATUS_COLUMNS = ["accepted_rows", "inserted_rows", "rejected_rows"]

# The 19 columns every DDL catalog row ends with (capture 05, REFERENCE 12.B.3).
_DDL_TAIL_COLUMNS = [
    "ddl_operation_id", "ddl_result_object_uuid", "ddl_result_object_kind",
    "ddl_result_catalog_row_uuid", "ddl_publish_packet_id", "ddl_publish_order",
    "ddl_validation_before_publish", "ddl_prebuild_before_final_lock",
    "ddl_backfill_before_publish", "ddl_final_publish_short_section",
    "ddl_final_publish_lock_scope", "ddl_partial_state_visible", "ddl_result_buffer_owner",
    "ddl_uuid_result_shape", "ddl_epoch_invalidation", "ddl_dependency_proof",
    "ddl_rollback_recovery_authority", "ddl_parser_sql_authority", "ddl_mga_finality_authority",
]
CREATE_COLUMNS = ["object_uuid", "object_kind", "schema_uuid", "name", "state", "payload"] + _DDL_TAIL_COLUMNS
DROP_COLUMNS = ["object_uuid", "object_kind", "name", "state", "payload", "options"] + _DDL_TAIL_COLUMNS
ALTER_COLUMNS = ["object_uuid", "object_kind", "state"] + _DDL_TAIL_COLUMNS
assert len(CREATE_COLUMNS) == 25 and len(DROP_COLUMNS) == 25 and len(ALTER_COLUMNS) == 22


def _ddl_tail(operation: str, object_uuid: str, kind: str, epoch: str, proof: str) -> List[str]:
    return [
        operation, object_uuid, kind, uuid7(), f"{operation}:{kind}:{object_uuid}",
        "validate.prebuild.persist.name_registry.result_shape.invalidate",
        "true", "true", "true", "true",
        "catalog_epoch_publish_only", "false", "engine", "uuid_first",
        epoch, proof, "durable_transaction_inventory", "false", "durable_transaction_inventory",
    ]


def catalog_row(action: str, kind: str, name: str, object_uuid: str, schema_uuid: str,
                principal: str) -> Tuple[List[str], List[bytes]]:
    """Column names and values of the catalog row answering ``action`` (CREATE, DROP, ALTER).

    CREATE/DROP give the 25-column shapes of capture 05, ALTER the 22-column one of 12.B.3.
    ``kind`` is the object kind in lower case (table, index, view, schema, sequence, ...).
    """
    kind = kind or "object"
    if action == "DROP":
        cols = DROP_COLUMNS
        vals = [object_uuid, kind, object_uuid, "dropped", f"target={object_uuid}",
                f"principal_name:{principal}"]
        vals += _ddl_tail("ddl.drop_object", object_uuid, kind, f"catalog:{kind}", kind)
    elif action == "ALTER":
        cols = ALTER_COLUMNS
        vals = [object_uuid, kind, "published"]
        vals += _ddl_tail(f"ddl.alter_{kind}", object_uuid, kind,
                          "catalog:mga_relation_metadata", "mga_relation_metadata")
    else:
        cols = CREATE_COLUMNS
        epoch = "catalog:mga_relation_metadata" if kind == "table" else f"catalog:mga_relation_metadata.{kind}"
        vals = [object_uuid, kind, schema_uuid, name, "active", f"mga_relation_metadata={kind}_create"]
        vals += _ddl_tail(f"ddl.create_{kind}", object_uuid, kind, epoch, "mga_relation_metadata")
    return list(cols), [v.encode("utf-8") for v in vals]


def status_row(n: int) -> Tuple[List[str], List[bytes]]:
    """The accepted/inserted/rejected status row of an INSERT with a column list."""
    text = str(n).encode("ascii")
    return list(STATUS_COLUMNS), [text, text, b"0"]
