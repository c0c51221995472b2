"""Running prepared statements: pipelines of PARSE, CLOSE, BIND, EXECUTE and SYNC.

Every request is one write ending in SYNC, read to the READY that SYNC brings
(REFERENCE 5; the protocol handles errors that come without READY and the extra READY
of a txn-id mismatch, 12.A.2):

    [CLOSE 'S' evicted...] [PARSE name] CLOSE 'P' "" BIND "" name EXECUTE "" SYNC

Why ``CLOSE 'P' ""`` before each BIND: the server keeps the unnamed portal after it ran
(5.4), and frames after an error are still processed (5). Were a BIND to fail (its
statement evicted, 5 "Limits"), the EXECUTE behind it would run the *previous* portal
again. With the portal closed first it gets ``34000 bound portal not found`` instead and
nothing runs, so the runner can re-prepare and send again.
"""
from __future__ import annotations

import re
import struct
from typing import (TYPE_CHECKING, Any, Iterable, Iterator, List, Optional, Sequence, Tuple,
                    cast)

from scratchbird import _client_messages as cm
from scratchbird import _constants as c
from scratchbird._impl import arraybind, requestcodec
from scratchbird._protocol import ClientProtocol, Response, Result
from scratchbird.prepared._cache import ServerStatement, StatementCache
from scratchbird.errors import Error
from scratchbird.prepared._plan import StatementPlan

if TYPE_CHECKING:
    from scratchbird.adapters import AdaptersMap
    from scratchbird.connection import Connection

__all__ = ["run_statement", "run_many", "run_array_bind", "describe_statement",
           "close_statement", "is_rowset_insert", "array_bind_allowed"]

_CLOSE_UNNAMED_PORTAL = (c.CLOSE, cm.encode_close("P", ""))
_SYNC = (c.SYNC, b"")
# One parameter set as BIND takes it: (PARSE oids, values, formats).
Encoded = Tuple[Tuple[int, ...], List[Optional[bytes]], Tuple[int, ...]]
Message = Tuple[int, bytes]
# Pipelined writes (and array-bind packets) stay well under the 64 MiB frame limit and
# the server's 4 MiB per stored portal (REFERENCE 5 "Limits").
BATCH_BYTES = 4 << 20
PACKET_BYTES = 1 << 20

# A prepared rowset INSERT (REFERENCE 5.1): a column list and VALUES of markers only.
_ROWSET_INSERT = re.compile(
    r"\s*INSERT\s+INTO\s+[^()]+?\s*\([^()]*\)\s*VALUES\s*\(([^()]*)\)\s*;?\s*\Z",
    re.IGNORECASE | re.DOTALL)
_MARKER_ITEM = re.compile(r"\s*\$[0-9]+\s*\Z")


def is_rowset_insert(plan: StatementPlan) -> bool:
    if not plan.preparable or not plan.param_count:
        return False
    m = _ROWSET_INSERT.match(cast(str, plan.parse_sql))     # preparable: not None
    return m is not None and all(_MARKER_ITEM.match(item) for item in m.group(1).split(","))


def array_bind_allowed(conn: Connection) -> bool:
    """Array bind needs feature 16 granted in a P1 session (REFERENCE 5.8)."""
    proto = cast(ClientProtocol, conn._proto)        # open connections have one
    return proto.layout == "p1" and bool(proto.negotiated_features & c.FEATURE_ARRAY_BIND)


def _is_lost_statement(error: Optional[Error]) -> bool:
    # REFERENCE 5 "Limits" and 12.B.6: BIND to a statement the server no longer has.
    return (error is not None and error.sqlstate == "08P01"
            and (error.message or "").startswith("invalid BIND payload"))


def _execute_message(conn: Connection) -> Message:
    return (c.EXECUTE, cm.encode_execute("", 0, 1 if conn._autocommit else None))


def _send(conn: Connection, messages: List[Message], row_limit: Optional[int],
          raw_text: Optional[bool], adapters: Optional[AdaptersMap],
          timeout: Optional[float] = None) -> Response:
    response: Response = conn._request(lambda proto: proto.pipeline_frames(
        messages, raw_text=raw_text, adapters=adapters or conn.adapters), row_limit,
        timeout=timeout or conn._params.statement_timeout)
    if not conn._autocommit:
        conn._in_transaction = True
    return response


def _closes(cache: StatementCache) -> List[Message]:
    return [(c.CLOSE, cm.encode_close("S", name)) for name in cache.take_pending_closes()]


def _parse(cache: StatementCache, stmt: ServerStatement, oids: Sequence[int]) -> Message:
    cache.prepares += 1
    return (c.PARSE, cm.encode_parse(stmt.name, cast(str, stmt.plan.parse_sql), oids))


def encode_values(conn: Connection, plan: StatementPlan, params: Any) -> Optional[Encoded]:
    """``(oids, values, formats)`` for one parameter set, or None for the literal path."""
    proto = cast(ClientProtocol, conn._proto)
    if proto.negotiated_features & c.FEATURE_BINARY_VALUES:     # proto.binary_values
        encoded = plan.binary_values(params)
        formats: Tuple[int, ...] = (1,)
    else:
        encoded = plan.text_values(params)
        formats = (0,)
    if encoded is None:
        return None
    oids, values = encoded
    return oids, values, formats if oids else ()


def _bind_head(stmt: ServerStatement, formats: Tuple[int, ...]) -> bytes:
    head = stmt.bind_heads.get(formats)
    if head is None:
        head = cm.lpstr("") + cm.lpstr(stmt.name) + struct.pack(f"<H{len(formats)}H", len(formats), *formats)
        stmt.bind_heads[formats] = head
    return head


def _send_bind(conn: Connection, cache: StatementCache, stmt: ServerStatement,
               values: List[Optional[bytes]], formats: Tuple[int, ...],
               row_limit: Optional[int], raw_text: Optional[bool],
               adapters: Optional[AdaptersMap], timeout: Optional[float] = None) -> Response:
    """The common case, a parsed statement and nothing else to send: its request in one
    compiled call (``requestcodec.bind_request``) around the session's constant frames."""
    proto = cast(ClientProtocol, conn._proto)
    key = (proto.session_id, conn._autocommit)
    frames = cache.request_frames.get(key)
    if frames is None:
        frames = (proto._frame(*_CLOSE_UNNAMED_PORTAL),
                  proto._frame(*_execute_message(conn)) + proto._frame(*_SYNC))
        cache.request_frames[key] = frames
    head = stmt.bind_heads.get(formats) or _bind_head(stmt, formats)
    request = requestcodec.bind_request(frames[0], proto.session_id, head, values, frames[1])
    response: Response = conn._request(lambda p: p.prebuilt_request(
        request, raw_text=raw_text, adapters=adapters or conn.adapters), row_limit,
        timeout=timeout or conn._params.statement_timeout)
    if not conn._autocommit:
        conn._in_transaction = True
    return response


def _reuse_types(stmt: ServerStatement, oids: Tuple[int, ...],
                 values: Sequence[Optional[bytes]]) -> Tuple[int, ...]:
    """The statement's parsed types when these values fit them: a NULL is NULL under any
    type, so a NULL where the parse had a type needs no new PARSE."""
    parsed = stmt.oids
    if parsed is None or parsed == oids or len(parsed) != len(oids):
        return oids
    for have, want, value in zip(parsed, oids, values):
        if have != want and value is not None:
            return oids
    return parsed


def run_statement(conn: Connection, cache: StatementCache, stmt: ServerStatement,
                  encoded: Encoded, *, row_limit: Optional[int] = None,
                  raw_text: Optional[bool] = None, adapters: Optional[AdaptersMap] = None,
                  timeout: Optional[float] = None) -> Response:
    """BIND and EXECUTE ``stmt`` once (PARSE first when it is not parsed with these
    types). A BIND the server refuses because it lost the statement is sent again once,
    with PARSE: nothing ran the first time (see the module docstring)."""
    oids, values, formats = encoded
    if stmt.oids != oids:
        oids = _reuse_types(stmt, oids, values)
    for attempt in (0, 1):
        parsed = stmt.oids != oids
        # (cache._pending_close and proto._compressor: the properties has_pending_closes
        # and compressing, read directly on this per-lookup path)
        if not parsed and not cache._pending_close \
                and cast(ClientProtocol, conn._proto)._compressor is None:
            response = _send_bind(conn, cache, stmt, values, formats, row_limit, raw_text,
                                  adapters, timeout)
        else:
            messages = _closes(cache)
            if parsed:
                messages.append(_parse(cache, stmt, oids))
            messages += [_CLOSE_UNNAMED_PORTAL,
                         (c.BIND, cm.encode_bind("", stmt.name, values, formats)),
                         _execute_message(conn), _SYNC]
            response = _send(conn, messages, row_limit, raw_text, adapters, timeout)
        error = response.error if response.done else None
        if error is not None and attempt == 0 and not parsed and _is_lost_statement(error):
            cache.reprepares += 1
            stmt.oids = None
            continue
        break
    if parsed:
        stmt.oids = oids
    if error is not None:
        # A failed EXECUTE (a schema change, a dropped table) may leave the statement's
        # types or description stale: parse again at the next use.
        stmt.oids = None
        stmt.description = None
    elif response.results:
        stmt.description = response.results[-1].description
    return response


def run_many(conn: Connection, cache: StatementCache, stmt: ServerStatement,
             encoded_rows: Sequence[Encoded], *, raw_text: Optional[bool] = None,
             adapters: Optional[AdaptersMap] = None,
             collect: Optional[List[Result]] = None) -> Tuple[int, Optional[Response]]:
    """BIND + EXECUTE per parameter set, pipelined in batches of about BATCH_BYTES.
    Rows of one OID signature share a PARSE. Returns ``(rows affected, last response)``;
    the response of a failed batch comes back with its error set."""
    total, last = 0, None
    start = 0
    while start < len(encoded_rows):
        messages = _closes(cache)
        size, end = 0, start
        while end < len(encoded_rows) and (end == start or size < BATCH_BYTES):
            oids, values, formats = encoded_rows[end]
            oids = _reuse_types(stmt, oids, values)
            if stmt.oids != oids:
                messages.append(_parse(cache, stmt, oids))
                stmt.oids = oids
            messages += [_CLOSE_UNNAMED_PORTAL,
                         (c.BIND, cm.encode_bind("", stmt.name, values, formats)),
                         _execute_message(conn)]
            size += sum(len(v) + 4 for v in values if v is not None) + 96
            end += 1
        messages.append(_SYNC)
        last = _send(conn, messages, None, raw_text, adapters)
        if last.error is not None:
            stmt.oids = None     # re-parse at the next use, whatever failed
            return total, last
        total += sum(r.rowcount for r in last.results if r.rowcount > 0)
        if collect is not None:
            collect.extend(last.results)
        start = end
    return total, last


def run_array_bind(conn: Connection, cache: StatementCache, stmt: ServerStatement,
                   encoded: Tuple[Tuple[int, ...], List[bytes]], *,
                   raw_text: Optional[bool] = None, adapters: Optional[AdaptersMap] = None,
                   collect: Optional[List[Result]] = None) -> Tuple[int, Optional[Response]]:
    """executemany of a prepared rowset INSERT by array bind (REFERENCE 5.8, capture 16):
    PARSE once, then per packet of rows ``CLOSE 'P' "", BIND packet, EXECUTE ""``, and
    SYNC per write. ``encoded`` is ``(oids, packets)`` from
    ``StatementPlan.array_packets``.

    The packet names no statement: the server picks the only prepared rowset INSERT of
    the packet's width. Other such statements the driver keeps are closed first (they are
    parsed again at their next use)."""
    oids, packets = encoded
    width = stmt.plan.param_count
    head = _closes(cache)
    # the unnamed statement may hold a rowset INSERT of the same width too (a binary
    # execute's PARSE ""); CLOSE of a name the server lacks is harmless (REFERENCE 5.5)
    head.append((c.CLOSE, cm.encode_close("S", "")))
    for other in list(cache.live.values()):
        if other is not stmt and other.plan.param_count == width and is_rowset_insert(other.plan):
            head.append((c.CLOSE, cm.encode_close("S", other.name)))
            other.oids = None
    head.append(_parse(cache, stmt, oids))
    stmt.oids = None
    execute = _execute_message(conn)
    total, last = 0, None
    for batch in _writes(packets):
        messages = head
        for payload in batch:
            messages += [_CLOSE_UNNAMED_PORTAL, (c.BIND, payload), execute]
        messages.append(_SYNC)
        head = []
        last = _send(conn, messages, None, raw_text, adapters)
        if last.error is not None:
            return total, last
        stmt.oids = oids
        total += sum(r.rowcount for r in last.results if r.rowcount > 0)
        if collect is not None:
            collect.extend(last.results)
    return total, last


def _writes(packets: Iterable[bytes]) -> Iterator[List[bytes]]:
    """Packets grouped into writes of about BATCH_BYTES."""
    batch: List[bytes] = []
    size = 0
    for payload in packets:
        batch.append(payload)
        size += len(payload)
        if size >= BATCH_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def describe_statement(conn: Connection, cache: StatementCache, stmt: ServerStatement) -> Response:
    """PARSE (types left to the server) + DESCRIBE 'S' + SYNC: the parameter count and
    types (REFERENCE 5.3: PARAMETER_DESCRIPTION only, never a ROW_DESCRIPTION)."""
    messages = _closes(cache)
    messages += [_parse(cache, stmt, ()), (c.DESCRIBE, cm.encode_describe("S", stmt.name)), _SYNC]
    response = _send(conn, messages, None, None, None)
    stmt.oids = () if response.error is None else None
    return response


def close_statement(conn: Connection, cache: StatementCache, stmt: ServerStatement) -> None:
    """CLOSE 'S' + SYNC (REFERENCE 5.5: always CLOSE_COMPLETE)."""
    cache.live.pop(stmt.name, None)
    stmt.oids = None
    messages = _closes(cache) + [(c.CLOSE, cm.encode_close("S", stmt.name)), _SYNC]
    response = _send(conn, messages, None, None, None)
    if response.error is not None:
        raise response.error
