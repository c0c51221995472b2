"""The per-connection statement cache: an LRU of plans and prepared statements.

Keyed by SQL text. An entry keeps what a repeated statement would otherwise redo: the
placeholder plan and ``$n`` SQL (``StatementPlan``), the server statement once prepared
(its name and the parameter OIDs of its PARSE), and the last row description seen with
its decoders (kept by the protocol's description cache, keyed by the same payload).

A statement is prepared on its ``prepare_threshold``-th use (``None``: never, ``0``: at
once). Dropping a prepared entry from the LRU queues a CLOSE 'S' (REFERENCE 5.5) that
travels with the next extended-protocol request, so eviction costs no round trip.

The server evicts too, silently (256 statements / 4 MiB, least recently *stored* first,
REFERENCE 5): the runner re-prepares once when a BIND names a statement it lost.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING, Dict, List, Optional, Tuple

from scratchbird.prepared._plan import StatementPlan

if TYPE_CHECKING:
    from scratchbird._server_messages import RowDescription

__all__ = ["StatementCache", "CacheEntry", "ServerStatement", "DEFAULT_CACHE_SIZE",
           "DEFAULT_PREPARE_THRESHOLD"]

DEFAULT_CACHE_SIZE = 64
DEFAULT_PREPARE_THRESHOLD = 5


class ServerStatement:
    """A statement as the server holds it. ``oids`` are the parameter types of its last
    PARSE, or None when it must be parsed (again) before the next BIND."""

    __slots__ = ("name", "plan", "oids", "description", "bind_heads")

    def __init__(self, name: str, plan: StatementPlan) -> None:
        self.name = name
        self.plan = plan
        self.oids: Optional[Tuple[int, ...]] = None
        # the RowDescription of its last result, once seen
        self.description: Optional[RowDescription] = None
        self.bind_heads: Dict[Tuple[int, ...], bytes] = {}   # formats -> BIND payload head

    def __repr__(self) -> str:
        return f"<ServerStatement {self.name!r} parsed={self.oids is not None}>"


class CacheEntry:
    __slots__ = ("plan", "uses", "statement")

    def __init__(self, plan: StatementPlan) -> None:
        self.plan = plan
        self.uses = 0
        self.statement: Optional[ServerStatement] = None


class StatementCache:
    """LRU of ``size`` entries keyed by SQL text; see the module docstring."""

    def __init__(self, size: int = DEFAULT_CACHE_SIZE,
                 prepare_threshold: Optional[int] = DEFAULT_PREPARE_THRESHOLD,
                 name_prefix: str = "_sb") -> None:
        self.size = size
        self.prepare_threshold = prepare_threshold
        self._entries: "OrderedDict[str, CacheEntry]" = OrderedDict()
        self._prefix = name_prefix
        self._counter = 0
        # Every statement the driver keeps on the server, cached or explicit, by name:
        # array bind must close the other rowset INSERTs of its width (REFERENCE 5.8).
        self.live: Dict[str, ServerStatement] = {}
        self._pending_close: List[str] = []
        # (session id, autocommit) -> the constant frames around a BIND (_runner)
        self.request_frames: Dict[Tuple[bytes, bool], Tuple[bytes, bytes]] = {}
        self.hits = self.misses = self.prepares = self.reprepares = self.evictions = 0

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, sql: str) -> bool:
        return sql in self._entries

    def stats(self) -> Dict[str, int]:
        """``hits``: executions by an already prepared cached statement; ``misses``: the
        others that went through the cache; ``prepares``: PARSEs sent (re-prepares
        included); ``reprepares``: of those, after the server had lost the statement;
        ``evictions``: prepared entries dropped from the LRU (each sent a CLOSE);
        ``size``: entries held now."""
        return {"hits": self.hits, "misses": self.misses, "prepares": self.prepares,
                "reprepares": self.reprepares, "evictions": self.evictions,
                "size": len(self._entries)}

    def new_name(self) -> str:
        self._counter += 1
        return f"{self._prefix}{self._counter}"

    # ------------------------------------------------------------ lookups

    def plan(self, sql: str) -> Tuple[StatementPlan, Optional[CacheEntry]]:
        """The plan for ``sql`` (from the cache when held) and its entry, counting one
        use. With a cache of size 0 nothing is kept."""
        entry = self._entries.get(sql)
        if entry is not None:
            self._entries.move_to_end(sql)
        elif self.size > 0:
            entry = CacheEntry(StatementPlan(sql))
            self._entries[sql] = entry
            while len(self._entries) > self.size:
                self._evict_oldest()
        else:
            return StatementPlan(sql), None
        entry.uses += 1
        return entry.plan, entry

    def wants_prepare(self, entry: Optional[CacheEntry], prepare: Optional[bool]) -> bool:
        """Whether this execution goes the prepared way: ``prepare`` True/False decides;
        None lets the use count reach ``prepare_threshold``."""
        if prepare is not None:
            return prepare
        if entry is None or self.prepare_threshold is None:
            return False
        return entry.statement is not None or entry.uses >= max(self.prepare_threshold, 1)

    def statement_for(self, entry: CacheEntry) -> ServerStatement:
        """The entry's server statement, given a name the first time."""
        if entry.statement is None:
            entry.statement = ServerStatement(self.new_name(), entry.plan)
            self.live[entry.statement.name] = entry.statement
        return entry.statement

    # ------------------------------------------------------------ dropping

    def _evict_oldest(self) -> None:
        _sql, entry = self._entries.popitem(last=False)
        if entry.statement is not None:
            self.evictions += 1
            self.forget(entry.statement)

    def forget(self, statement: ServerStatement) -> None:
        """Stop tracking ``statement``; a CLOSE for it goes with the next request."""
        if self.live.pop(statement.name, None) is not None and statement.oids is not None:
            self._pending_close.append(statement.name)
        statement.oids = None

    def invalidate(self, sql: str) -> None:
        """Drop what is known about ``sql``'s result (after an error at EXECUTE): its
        statement is parsed again at its next use."""
        entry = self._entries.get(sql)
        if entry is not None and entry.statement is not None:
            entry.statement.oids = None
            entry.statement.description = None

    @property
    def has_pending_closes(self) -> bool:
        return bool(self._pending_close)

    def take_pending_closes(self) -> List[str]:
        names, self._pending_close = self._pending_close, []
        return names

    def clear(self) -> None:
        """Forget every cached statement (``reset_session()`` and DISCARD-like resets
        call this). Statements still on the server get a CLOSE with the next request;
        CLOSE of a name the server no longer has is harmless (REFERENCE 5.5)."""
        for entry in self._entries.values():
            if entry.statement is not None:
                self.forget(entry.statement)
        self._entries.clear()
