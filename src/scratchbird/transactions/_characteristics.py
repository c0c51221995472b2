"""Isolation level and read-only: the SQL that sets them and the report that answers it.

The transaction frames cannot carry them (REFERENCE 6.1, 6.2), so they go as SQL.
Today's server accepts (12.D) ``SET TRANSACTION ISOLATION LEVEL {SERIALIZABLE | READ
COMMITTED}`` and ``SET TRANSACTION {READ ONLY | READ WRITE}``; each answers with one report
row (``transaction_characteristics``, ``transaction_read_mode``, ``transaction_read_only``,
``transaction_isolation_level``) whose ``transaction_characteristics`` is
``session_defaults``: they hold for the session's later transactions. ``START TRANSACTION
...`` is refused. docs/protocol.md 6.2 says why this SQL was chosen.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Optional

from scratchbird.errors import NotSupportedError, ProgrammingError

if TYPE_CHECKING:
    from scratchbird._protocol import Response

__all__ = ["ISOLATION_LEVELS", "normalize_level", "isolation_sql", "access_sql",
           "report_of", "check_report", "SERVER_DEFAULT_LEVEL"]

#: levels the server honours: the driver's name -> the SQL words
ISOLATION_LEVELS = {"READ COMMITTED": "READ COMMITTED", "SERIALIZABLE": "SERIALIZABLE"}
#: SQL-standard levels today's server does not accept: NotSupportedError before sending
_UNSUPPORTED = ("READ UNCOMMITTED", "REPEATABLE READ", "SNAPSHOT")
#: what a new session runs at (read-committed visibility, REFERENCE 12.A.9)
SERVER_DEFAULT_LEVEL = "READ COMMITTED"


def normalize_level(value: object) -> Optional[str]:
    """``"read committed"``, ``"READ_COMMITTED"``... -> ``"READ COMMITTED"``; None stays."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ProgrammingError(f"isolation_level must be a string or None, not {type(value).__name__}")
    level = " ".join(value.replace("_", " ").replace("-", " ").upper().split())
    if level in ISOLATION_LEVELS:
        return level
    if level in _UNSUPPORTED:
        raise NotSupportedError(
            f"isolation level {level} is not supported by the server (it honours "
            f"{' and '.join(ISOLATION_LEVELS)}); refusing rather than running at another level")
    raise ProgrammingError(f"unknown isolation level {value!r}; use one of {', '.join(ISOLATION_LEVELS)}")


def isolation_sql(level: str) -> str:
    return f"SET TRANSACTION ISOLATION LEVEL {ISOLATION_LEVELS[level]}"


def access_sql(read_only: bool) -> str:
    return "SET TRANSACTION READ ONLY" if read_only else "SET TRANSACTION READ WRITE"


def report_of(response: Response) -> Optional[Dict[str, Any]]:
    """The report row of a SET TRANSACTION answer as a dict, or None if it sent none."""
    for result in response.results:
        if result.description is not None and result.rows:
            names = [col.name for col in result.description.columns]
            return dict(zip(names, result.rows[0]))
    return None


def _text(value: object) -> str:
    return str(value).strip().lower().replace(" ", "_")


def check_report(report: Optional[Dict[str, Any]], level: Optional[str],
                 read_only: Optional[bool]) -> None:
    """NotSupportedError when the server's report says it set something else."""
    if not report:
        return
    got = report.get("transaction_isolation_level")
    if level is not None and got is not None and _text(got) != _text(level):
        raise NotSupportedError(
            f"the server answered SET TRANSACTION ISOLATION LEVEL {level} with level "
            f"{got!r}: it does not honour {level}")
    got = report.get("transaction_read_only")
    if read_only is not None and got is not None:
        flag = got if isinstance(got, bool) else _text(got) in ("true", "t", "1", "yes")
        if flag != read_only:
            raise NotSupportedError(
                f"the server answered SET TRANSACTION {'READ ONLY' if read_only else 'READ WRITE'}"
                f" with transaction_read_only={got!r}")
