"""DataFrame helpers: ``copy_method`` for ``pandas.DataFrame.to_sql(method=...)``.

pandas' default method sends INSERTs (through the driver's executemany fast path);
``copy_method`` hands the rows to the driver's bulk loader ``Connection.load`` instead, which
streams them through COPY FROM STDIN (REFERENCE 7.8).
"""
from __future__ import annotations

from typing import Any, Iterable, List, Optional, Tuple

from scratchbird.errors import NotSupportedError

__all__ = ["copy_method"]


def _dbapi_connection(conn: Any) -> Any:
    """The driver connection under a SQLAlchemy Connection (or the driver's own)."""
    pooled = getattr(conn, "connection", None)
    raw = getattr(pooled, "dbapi_connection", None)
    return raw if raw is not None else conn


def copy_method(pd_table: Any, conn: Any, keys: List[str],
                data_iter: Iterable[Tuple[Any, ...]]) -> Optional[int]:
    """``df.to_sql(name, engine, method=scratchbird.sqlalchemy.copy_method)``: load the rows
    through ``Connection.load(table, rows, columns=keys)`` (COPY). Returns the row count."""
    dbapi_conn = _dbapi_connection(conn)
    load = getattr(dbapi_conn, "load", None)
    if load is None:
        raise NotSupportedError(
            "copy_method needs scratchbird's Connection.load (COPY FROM STDIN), and this "
            "connection has none (is the engine a scratchbird:// one?); use to_sql's default "
            "method instead")
    table = pd_table.name if not pd_table.schema else f"{pd_table.schema}.{pd_table.name}"
    rows = [tuple(row) for row in data_iter]
    result = load(table, rows, columns=list(keys))
    return result if isinstance(result, int) else len(rows)
