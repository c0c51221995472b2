"""Opt-in result cache of the dev server, for benchmarks (``DevServer(cache_results=True)``).

A benchmark of the *client* wants the server to cost next to nothing, yet the dev server
runs every SELECT through DuckDB and renders every value in Python. With the cache on, a
read-only SELECT whose exact SQL text was already answered, with no commit anywhere since,
is answered from the rows kept the first time: they are framed again with the session's
own sequence numbers, attachment and txn id (the compiled encoder does this at some
5 million rows per second), and DuckDB is not asked at all.

What counts as read-only: one statement whose first word is SELECT, sent by a session
whose open transaction has written nothing. Any COMMIT by any session invalidates every
entry. Functions with side effects or changing results (``nextval``, ``random()``,
``now()``) are replayed as they were: the cache is for benchmarks, never on by default.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import List, Optional

from . import _sqltext as sqltext

__all__ = ["CachedResult", "Collector", "ResultCache"]


class CachedResult:
    """What one SELECT answered: column names, type codes, the rows as bytes, the tag."""

    __slots__ = ("columns", "type_oids", "has_rows", "batches", "tag", "rows", "commit_seq")

    def __init__(self, result, batches: List[list], commit_seq: int) -> None:
        self.columns = list(result.columns)
        self.type_oids = list(result.type_oids)
        self.has_rows = bool(result.has_rows)
        self.batches = batches
        self.tag = result.tag
        self.rows = result.rows
        self.commit_seq = commit_seq


class Collector(list):
    """The batches of one result, given up (emptied) once they pass ``max_values``."""

    def __init__(self, max_values: int) -> None:
        super().__init__()
        self.max_values = max_values
        self.values = 0
        self.overflow = False

    def append(self, batch: list) -> None:
        if self.overflow:
            return
        self.values += len(batch) * (len(batch[0]) if batch else 0)
        if self.values > self.max_values:
            self.overflow = True
            self.clear()
        else:
            super().append(batch)


class ResultCache:
    """SQL text -> :class:`CachedResult`, least recently used first out.

    ``max_values`` bounds one entry (rows x columns), ``max_total_values`` all of them:
    a result above the first limit is simply not kept.
    """

    def __init__(self, max_entries: int = 64, max_values: int = 16_000_000,
                 max_total_values: int = 64_000_000) -> None:
        self.max_entries = max_entries
        self.max_values = max_values
        self.max_total_values = max_total_values
        self._entries: "OrderedDict[str, CachedResult]" = OrderedDict()
        self._values = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    @staticmethod
    def cacheable(sql: str) -> bool:
        """One statement, and a SELECT."""
        texts = sqltext.split_statements(sql)
        if len(texts) != 1:
            return False
        info = sqltext.classify(texts[0])
        return info.kind == sqltext.OTHER and info.verb == "SELECT"

    def collector(self, sql: str) -> Optional["Collector"]:
        """Where the session collects the batches it sends for ``sql``; None when ``sql``
        is not cacheable at all."""
        return Collector(self.max_values) if self.cacheable(sql) else None

    def lookup(self, sql: str, engine, session) -> Optional[CachedResult]:
        """The entry for ``sql`` if it still holds for ``session``, else None."""
        if not session.read_only:
            return None
        with self._lock:
            entry = self._entries.get(sql)
            if entry is not None and entry.commit_seq != engine.commit_seq:
                self._drop(sql)
                entry = None
            if entry is None:
                self.misses += 1
                return None
            self._entries.move_to_end(sql)
            self.hits += 1
            return entry

    def store(self, sql: str, result, batches: "Collector", commit_seq: int, engine,
              session) -> bool:
        """Keep what ``sql`` answered if nothing was committed since ``commit_seq`` (read
        before the statement ran) and the session is still read-only. True when kept."""
        if batches.overflow or not session.read_only or engine.commit_seq != commit_seq:
            return False
        values = result.rows * max(1, len(result.columns))
        entry = CachedResult(result, batches, commit_seq)
        with self._lock:
            self._drop(sql)
            self._entries[sql] = entry
            self._values += values
            while self._entries and (len(self._entries) > self.max_entries
                                     or self._values > self.max_total_values):
                self._drop(next(iter(self._entries)))
        return True

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._values = 0

    def _drop(self, sql: str) -> None:
        entry = self._entries.pop(sql, None)
        if entry is not None:
            self._values -= entry.rows * max(1, len(entry.columns))
