"""The real server's own report rows, and how to recognise them.

Today's server answers some statements with a row of its own instead of (or besides) a
plain COMMAND_COMPLETE (REFERENCE 12.A.3, 12.B.3, 12.D): a DDL catalog row, the
accepted/inserted/rejected status row of an INSERT with a column list or of a COPY, and the
report rows of ``SET TRANSACTION`` / ``SET SESSION CHARACTERISTICS``. They are not user
result sets. A result is a report only when two things agree: the leading keyword of the
statement the driver sent, and the exact frame shape section 12 documents (the column
names in order, and the COMMAND_COMPLETE tag). Values are never looked at to decide.

To teach the driver a new shape, add a ``ReportShape`` to ``REPORT_SHAPES``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Dict, FrozenSet, List, Optional, Sequence, Tuple

__all__ = ["ReportShape", "REPORT_SHAPES", "names_never_report", "match_report",
           "summarise_report"]

# DDL catalog rows (REFERENCE 12.B.3 "DDL catalog rows"; captures 05 and 19).
_DDL_TAIL = (
    "ddl_operation_id", "ddl_result_object_uuid", "ddl_result_object_kind",
    "ddl_result_catalog_row_uuid", "ddl_publish_packet_id", "ddl_publish_order",
    "ddl_validation_before_publish", "ddl_prebuild_before_final_lock",
    "ddl_backfill_before_publish", "ddl_final_publish_short_section",
    "ddl_final_publish_lock_scope", "ddl_partial_state_visible", "ddl_result_buffer_owner",
    "ddl_uuid_result_shape", "ddl_epoch_invalidation", "ddl_dependency_proof",
    "ddl_rollback_recovery_authority", "ddl_parser_sql_authority", "ddl_mga_finality_authority")
CREATE_COLUMNS = ("object_uuid", "object_kind", "schema_uuid", "name", "state", "payload") + _DDL_TAIL
DROP_COLUMNS = ("object_uuid", "object_kind", "name", "state", "payload", "options") + _DDL_TAIL
ALTER_COLUMNS = ("object_uuid", "object_kind", "state") + _DDL_TAIL
# INSERT with a column list, array-bind INSERT, COPY (12.A.3, 12.A.13, 12.D).
STATUS_COLUMNS = ("accepted_rows", "inserted_rows", "rejected_rows")
# SET TRANSACTION ... and SET SESSION CHARACTERISTICS AS TRANSACTION ... (12.D).
TRANSACTION_COLUMNS = ("transaction_characteristics", "transaction_read_mode",
                       "transaction_read_only", "transaction_isolation_level")
SESSION_COLUMNS = ("session_uuid", "scope")

# A row-returning answer is tagged "SELECT n" (REFERENCE 4.2, 4.5); 12.D does not give the
# tag of the SET reports, so the first-word tag of 4.5 ("SET") is accepted too.
_ONE_ROW = re.compile(r"SELECT 1")
_SET_TAG = re.compile(r"SELECT 1|SET")


@dataclass(frozen=True)
class ReportShape:
    """One documented report: when it is one, and what it counts."""

    name: str                       # "ddl", "insert_status", ...
    keywords: FrozenSet[str]        # leading keyword of the statement sent (upper case)
    columns: Tuple[str, ...]        # the exact column names, in order
    tag: "re.Pattern[str]"          # the COMMAND_COMPLETE tag, whole
    counts: Tuple[str, ...] = ()    # columns summed over several report rows
    rowcount_from: Optional[str] = None   # the column that is the statement's rowcount


REPORT_SHAPES: List[ReportShape] = [
    ReportShape("ddl", frozenset({"CREATE"}), CREATE_COLUMNS, _ONE_ROW),
    ReportShape("ddl", frozenset({"DROP"}), DROP_COLUMNS, _ONE_ROW),
    ReportShape("ddl", frozenset({"ALTER"}), ALTER_COLUMNS, _ONE_ROW),
    ReportShape("insert_status", frozenset({"INSERT"}), STATUS_COLUMNS, re.compile(r"INSERT \d+"),
                STATUS_COLUMNS, "inserted_rows"),
    ReportShape("copy_status", frozenset({"COPY"}), STATUS_COLUMNS, re.compile(r"COPY \d+"),
                STATUS_COLUMNS, "inserted_rows"),
    ReportShape("transaction_characteristics", frozenset({"SET"}), TRANSACTION_COLUMNS, _SET_TAG),
    ReportShape("session_characteristics", frozenset({"SET"}), SESSION_COLUMNS, _SET_TAG),
]


def names_never_report(columns: Sequence[str]) -> bool:
    """True when no report shape has these column names: then ``match_report`` is None
    whatever the keyword and tag (the shaping of a plain result skips it)."""
    names = tuple(columns)
    return all(names != shape.columns for shape in REPORT_SHAPES)


def match_report(keyword: str, columns: Sequence[str], tag: Optional[str]) -> Optional[ReportShape]:
    """The report shape of a result, or None when it is an ordinary result.

    ``keyword``: the leading keyword of the statement that produced it; ``columns``: the
    ROW_DESCRIPTION's column names; ``tag``: its COMMAND_COMPLETE tag."""
    if tag is None:
        return None
    names = tuple(columns)
    for shape in REPORT_SHAPES:
        if keyword in shape.keywords and names == shape.columns and shape.tag.fullmatch(tag):
            return shape
    return None


def _as_int(value: Any) -> Optional[int]:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def summarise_report(shape: ReportShape, names: Sequence[str], rows: Sequence[Tuple[Any, ...]]
                     ) -> Tuple[Optional[Dict[str, Any]], Optional[int]]:
    """``(server_report, rowcount)`` of a report's rows.

    One row gives its dict. Several rows (COPY answers one per SBNR packet, 12.D) give the
    last row with the ``counts`` columns summed over all rows. The rowcount is the summed
    ``rowcount_from`` column, or None when the shape has none (the caller uses -1)."""
    if not rows:
        return None, None
    report = dict(zip(names, rows[-1]))
    for column in shape.counts:
        values = [_as_int(dict(zip(names, row)).get(column)) for row in rows]
        if all(v is not None for v in values):
            report[column] = sum(values)
    rowcount = None
    if shape.rowcount_from is not None:
        rowcount = _as_int(report.get(shape.rowcount_from))
    return report, rowcount
