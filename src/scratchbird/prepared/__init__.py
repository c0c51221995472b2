"""Prepared statements, the per-connection statement cache, and array-bound executemany
(REFERENCE 5): ``conn.prepare()``, ``cursor.execute(..., prepare=...)``,
``conn.statement_cache.stats()``. See docs/protocol.md, "Prepared statements"."""
from scratchbird.prepared._cache import StatementCache
from scratchbird.prepared._statement import PreparedStatement

__all__ = ["PreparedStatement", "StatementCache"]
