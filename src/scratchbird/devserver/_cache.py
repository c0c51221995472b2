"""Opt-in result cache of the dev server, for benchmarks (``DevServer(cache_results=True)``).

A benchmark of the *client* wants the server to cost next to nothing, yet the dev server
runs every SELECT through DuckDB and renders every value in Python. With the cache on, a
read-only SELECT whose exact SQL text was already answered, with no commit anywhere since,
is answered from the rows kept the first time: they are framed again with the session's
own sequence numbers, attachment and txn id (the compiled encoder does this at some
5 million rows per second), and DuckDB is not asked at all.

Binary results (the ``full`` profile, docs/protocol.md 4.2) are kept apart from text
ones (the key is the SQL text *and* the value format, so a text session and a binary
session never get each other's frames). They are kept as the DATA_ROW frames already
encoded the first time, one blob per batch with the offset of each frame's header
stamp: a replay copies the blob and re-stamps each header with the session's sequence
number, attachment id and txn id (``restamp``: some 4-5 million rows per second, no
value is encoded again). A compressed session neither reads nor fills the binary cache
(its frames are compressed one by one); its text results still use the text cache.

What counts as read-only: one statement whose first word is SELECT, sent by a session
whose open transaction has written nothing. Any COMMIT by any session invalidates every
entry. Functions with side effects or changing results (``nextval``, ``random()``,
``now()``) are replayed as they were: the cache is for benchmarks, never on by default.
"""
from __future__ import annotations

import struct
import threading
from array import array
from collections import OrderedDict
from typing import Optional, Sequence, Tuple

from scratchbird import _constants as C
from scratchbird._server_messages import encode_command_complete

from . import _sqltext as sqltext

__all__ = ["CachedResult", "Collector", "ResultCache", "frame_stamps", "restamp",
           "replay_binary"]

_LENGTH = struct.Struct("<I")           # a frame header's payload length, at offset 8
_STAMP = struct.Struct("<I16sQ")        # sequence, attachment id, txn id: header bytes 12..40
_HEADER_SIZE = 40
_SEQ_MASK = 0xFFFFFFFF


def frame_stamps(frames: bytes) -> "array[int]":
    """The offset of each frame's stamp (sequence, attachment, txn) in ``frames``, whole
    frames back to back."""
    stamps = array("I")
    pos, end, length = 0, len(frames), _LENGTH.unpack_from
    while pos < end:
        stamps.append(pos + 12)
        pos += _HEADER_SIZE + length(frames, pos + 8)[0]
    return stamps


def restamp(frames: bytes, stamps, sequence: int, attachment: bytes,
            txn_id: int) -> Tuple[bytearray, int]:
    """A copy of ``frames`` whose headers carry ``sequence`` (one up per frame),
    ``attachment`` and ``txn_id``; returns ``(frames, next_sequence)``."""
    out = bytearray(frames)
    pack, attachment = _STAMP.pack_into, bytes(attachment)
    start = sequence & _SEQ_MASK
    sequences: Sequence[int]
    if start + len(stamps) <= _SEQ_MASK + 1:
        sequences = range(start, start + len(stamps))
    else:                                 # the 32-bit sequence wraps inside this batch
        sequences = [(start + k) & _SEQ_MASK for k in range(len(stamps))]
    for offset, seq in zip(stamps, sequences):
        pack(out, offset, seq, attachment, txn_id)
    return out, sequence + len(stamps)


class CachedResult:
    """What one SELECT answered: column names, type codes, the tag, and the rows: text
    values (batches of tuples of bytes), or for a binary result the encoded frames
    (batches of ``(frames, stamps)``) and the ROW_DESCRIPTION payload."""

    __slots__ = ("columns", "type_oids", "has_rows", "batches", "tag", "rows", "commit_seq",
                 "binary", "row_description")

    def __init__(self, result, batches: "Collector", commit_seq: int) -> None:
        self.columns = list(result.columns)
        self.type_oids = list(result.type_oids)
        self.has_rows = bool(result.has_rows)
        self.batches = batches
        self.tag = result.tag
        self.rows = result.rows
        self.commit_seq = commit_seq
        self.binary = batches.binary
        self.row_description = batches.row_description


class Collector(list):
    """The batches of one result, given up (emptied) once they pass ``max_values``.

    Text results: ``append(batch)`` of rows. Binary results (``binary=True``):
    ``add_frames(frames, rows, columns)`` of a batch's encoded DATA_ROW frames, and
    ``row_description`` the P1 ROW_DESCRIPTION payload sent before them."""

    def __init__(self, max_values: int, binary: bool = False) -> None:
        super().__init__()
        self.max_values = max_values
        self.values = 0
        self.overflow = False
        self.binary = binary
        self.row_description: Optional[bytes] = None

    def append(self, batch: list) -> None:
        self._add(batch, len(batch) * (len(batch[0]) if batch else 0))

    def add_frames(self, frames: bytes, rows: int, columns: int) -> None:
        if not self.overflow:
            self._add((frames, frame_stamps(frames)), rows * columns)

    def give_up(self) -> None:
        self.overflow = True
        self.clear()

    def _add(self, item, values: int) -> None:
        if self.overflow:
            return
        self.values += values
        if self.values > self.max_values:
            self.give_up()
        else:
            super().append(item)


class ResultCache:
    """(value format, SQL text) -> :class:`CachedResult`, least recently used first out.

    ``max_values`` bounds one entry (rows x columns), ``max_total_values`` all of them:
    a result above the first limit is simply not kept. ``max_entries`` is large because
    a prepared lookup makes one entry per parameter value (an EXECUTE's key is its bound
    SQL text): benchmark 4b looks up 1,000 different ids.
    """

    def __init__(self, max_entries: int = 4096, max_values: int = 16_000_000,
                 max_total_values: int = 64_000_000) -> None:
        self.max_entries = max_entries
        self.max_values = max_values
        self.max_total_values = max_total_values
        self._entries: "OrderedDict[Tuple[bool, str], CachedResult]" = OrderedDict()
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

    def serve(self, session, sql: str, binary: bool = False):
        """What the protocol ``session`` (``_session.Session``) does with the cache for a
        single read-only request ``sql`` whose results go as text or ``binary``.

        A hit is replayed right here: ``(True, None, 0)``. Otherwise ``(False, collector
        or None, the commit sequence now)``: the session fills the collector while it sends
        the fresh result, then calls :meth:`store`. A compressed binary session neither
        reads nor fills the cache."""
        if binary and session.compressor is not None:
            return False, None, 0
        engine = session.cfg.engine
        entry = self.lookup(sql, engine, session.es, binary)
        if entry is None:
            return False, self.collector(sql, binary), engine.commit_seq
        if binary:
            replay_binary(session, entry)
        else:
            session._send_result(entry, batches=entry.batches)
        return True, None, 0

    def collector(self, sql: str, binary: bool = False) -> Optional["Collector"]:
        """Where the session collects the batches (text) or encoded frames (``binary``)
        it sends for ``sql``; None when ``sql`` is not cacheable at all."""
        return Collector(self.max_values, binary) if self.cacheable(sql) else None

    def lookup(self, sql: str, engine, session, binary: bool = False) -> Optional[CachedResult]:
        """The entry for ``sql`` in this value format (text, or ``binary``) if it still
        holds for ``session``, else None."""
        if not session.read_only:
            return None
        key = (binary, sql)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry.commit_seq != engine.commit_seq:
                self._drop(key)
                entry = None
            if entry is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry

    def store(self, sql: str, result, batches: "Collector", commit_seq: int, engine,
              session) -> bool:
        """Keep what ``sql`` answered if nothing was committed since ``commit_seq`` (read
        before the statement ran) and the session is still read-only. True when kept."""
        if batches.overflow or not session.read_only or engine.commit_seq != commit_seq:
            return False
        key = (batches.binary, sql)
        entry = CachedResult(result, batches, commit_seq)
        with self._lock:
            self._drop(key)
            self._entries[key] = entry
            self._values += _values_of(entry)
            while self._entries and (len(self._entries) > self.max_entries
                                     or self._values > self.max_total_values):
                self._drop(next(iter(self._entries)))
        return True

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._values = 0

    def _drop(self, key) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._values -= _values_of(entry)


def _values_of(entry: CachedResult) -> int:
    return entry.rows * max(1, len(entry.columns))


def replay_binary(session, entry: CachedResult) -> None:
    """[ROW_DESCRIPTION, DATA_ROW...] COMMAND_COMPLETE of a cached binary result for the
    protocol ``session``: the kept frames re-stamped with its sequence numbers, attachment
    id and txn id (read once: a replay runs no statement, so the txn cannot change)."""
    if entry.row_description is not None:
        session._send(C.ROW_DESCRIPTION, entry.row_description)
    for frames, stamps in entry.batches:
        data, session.seq = restamp(frames, stamps, session.seq, session.attachment,
                                    session.txn)
        session._write(data)
    session._send(C.COMMAND_COMPLETE, encode_command_complete(entry.tag, entry.rows))
