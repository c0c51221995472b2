"""What each statement's answer is to a PEP 249 user: a result set, a server report, or nothing.

The server's frames alone do not say it (REFERENCE 4.2, 12.A.3, 12.B.3): a SELECT that
matches nothing comes back with no ROW_DESCRIPTION, DDL comes back as a one-row catalog
"result" tagged ``SELECT 1``, and an INSERT with a column list as a status row. This module
decides, per statement, from what the driver sent (``_statements``) and the frames that
came back (``_reports``):

- a ROW_DESCRIPTION that is one of ``_reports.REPORT_SHAPES`` for the statement's keyword:
  not a result set (``description`` None, no rows); the row goes to ``server_report``, the
  rowcount is the report's inserted count (INSERT, COPY) or -1 (DDL);
- any other ROW_DESCRIPTION: a result set, rowcount from COMMAND_COMPLETE;
- no ROW_DESCRIPTION and a ``SELECT``/``SELECT n`` tag: a result set with no rows. Its
  description is the one an earlier identical statement on this connection had, else None;
- anything else: no result set; rowcount = the COMMAND_COMPLETE count when the tag is one
  that counts rows (INSERT, UPDATE, DELETE, ...), else -1.

``report_rows=True`` (connect or cursor) turns the report rule off: reports are passed
through as result sets, as the driver did before.
"""
from __future__ import annotations

import re
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Dict, List, NamedTuple, Optional, Sequence

from scratchbird import _reports
from scratchbird._statements import Statement
from scratchbird._typing import Row

if TYPE_CHECKING:
    from scratchbird._protocol import Result
    from scratchbird._server_messages import RowDescription

__all__ = ["Shaped", "DescriptionMemory", "align_statements", "shape_result", "is_report_candidate",
           "combined_report"]

# Tags whose COMMAND_COMPLETE rows count affected rows (REFERENCE 4.5 and the spec's tags).
_COUNTING_WORDS = frozenset({"INSERT", "UPDATE", "DELETE", "MERGE", "COPY", "SELECT", "MOVE",
                             "FETCH", "NATIVE_BULK_INGEST", "SCRIPT"})
_INSERT_TARGET = re.compile(r"\s*INSERT\s+INTO\s+([^\s(]+)", re.I)
_MEMORY_SIZE = 256


class Shaped(NamedTuple):
    result_set: bool                 # fetch*() may be called
    description: Optional[RowDescription]   # the one to show (None: none known)
    rowcount: int
    report: Optional[Dict[str, Any]]
    report_shape: Optional[_reports.ReportShape] = None


class DescriptionMemory:
    """Per connection: statement text -> the last ROW_DESCRIPTION it brought, so that the
    same statement matching no rows later still names its columns (REFERENCE 4.2)."""

    def __init__(self, size: int = _MEMORY_SIZE) -> None:
        self._size = size
        self._map: "OrderedDict[str, RowDescription]" = OrderedDict()

    def remember(self, text: str, description: RowDescription) -> None:
        if not text:
            return
        self._map[text] = description
        self._map.move_to_end(text)
        if len(self._map) > self._size:
            self._map.popitem(last=False)

    def recall(self, text: str) -> Optional[RowDescription]:
        return self._map.get(text)


def _tag_word(tag: Optional[str]) -> str:
    return tag.split(" ", 1)[0].upper() if tag else ""


def _insert_target(text: str) -> Optional[str]:
    m = _INSERT_TARGET.match(text)
    return m.group(1).lower() if m else None


def align_statements(statements: Sequence[Statement], results: Sequence[Result], done: bool,
                     failed: bool) -> List[Statement]:
    """The statement each result answers. One result per statement, except that the real
    server merges consecutive literal INSERTs into one target into one answer (REFERENCE
    4.1): when a finished, error-free response has fewer results than statements, an
    ``INSERT n`` result takes the following INSERTs into the same table with it."""
    if not statements:
        statements = [Statement("", "")]
    out: List[Statement] = []
    merge = done and not failed and len(results) < len(statements)
    p = 0
    for i, result in enumerate(results):
        statement = statements[min(p, len(statements) - 1)]
        out.append(statement)
        p += 1
        if merge and statement.keyword == "INSERT" and _tag_word(result.tag) == "INSERT":
            target = _insert_target(statement.text)
            while (p < len(statements) and len(statements) - p > len(results) - i - 1
                   and statements[p].keyword == "INSERT"
                   and _insert_target(statements[p].text) == target):
                p += 1
    return out


def _names(description: RowDescription) -> List[str]:
    return [col.name for col in description.columns]


def is_report_candidate(statement: Statement, description: RowDescription) -> bool:
    """True when a result could be a report once its tag is known (streaming reads it whole)."""
    names = tuple(_names(description))
    return any(statement.keyword in s.keywords and names == s.columns
               for s in _reports.REPORT_SHAPES)


def shape_result(result: Result, statement: Statement, report_rows: bool,
                 memory: Optional[DescriptionMemory]) -> Shaped:
    """How ``result`` (a ``_protocol.Result``) appears to the user."""
    rd = result.description
    if rd is not None:
        free = rd.report_free
        if free is None:                # once per description (it is kept, _protocol)
            free = rd.report_free = _reports.names_never_report(_names(rd))
        if not report_rows and not free:
            names = _names(rd)
            shape = _reports.match_report(statement.keyword, names, result.tag)
            if shape is not None:
                report, rowcount = _reports.summarise_report(shape, names, result.rows)
                return Shaped(False, None, -1 if rowcount is None else rowcount, report, shape)
        if memory is not None:
            memory.remember(statement.text, rd)
        return Shaped(True, rd, result.rowcount, None)
    if _tag_word(result.tag) == "SELECT":
        known = memory.recall(statement.text) if memory is not None else None
        return Shaped(True, known, max(result.rowcount, 0), None)
    rowcount = result.rowcount if _tag_word(result.tag) in _COUNTING_WORDS else -1
    return Shaped(False, None, rowcount, None)


def combined_report(shaped: Sequence[Shaped], rows_of: Sequence[Sequence[Row]],
                    names_of: Sequence[Sequence[str]]) -> Optional[Dict[str, Any]]:
    """One ``server_report`` for many statements (executemany): the last report's columns,
    with the counted columns summed over every report of the same shape."""
    reports = [(s, rows, names) for s, rows, names in zip(shaped, rows_of, names_of)
               if s.report_shape is not None]
    if not reports:
        return None
    shape = reports[-1][0].report_shape
    assert shape is not None            # every kept report has one
    names = reports[-1][2]
    rows = [row for s, rs, ns in reports if s.report_shape is shape and list(ns) == list(names)
            for row in rs]
    return _reports.summarise_report(shape, names, rows)[0]
