"""Binary results of the ``full`` profile: ROW_DESCRIPTION and DATA_ROW frames (docs/protocol.md 1).

A request's results go in binary when the session negotiated FEATURE_BINARY_VALUES
(bit 32) and the request is a QUERY with flag 0x04 (BINARY_RESULT) or an EXECUTE. Then:

- the engine runs the SQL with ``native=NATIVE`` (``_native``): rows come as DuckDB's own
  Python values, with a ``TypePlan`` per column;
- the P1 ROW_DESCRIPTION announces every column with value_format 0 and its real
  CanonicalTypeRef (nullability from DuckDB's DESCRIBE);
- the DATA_ROWs of a batch are ``bincodec.encode_data_row_frames(specs, rows, ...)``
  (the compiled twin under SCRATCHBIRD_IMPL=c resolves each column's encoder once and
  frames in C): NULL is the null-bitmap bit, never a text form.

The few results that are not DuckDB rows (the synthetic DDL catalog row, the INSERT
status row, REFERENCE 12.B.3) keep the type codes sbsql infers from their text (8.2) and
are encoded as those types: 16 BOOLEAN, 20 INT64, 1700 DECIMAL, anything else TEXT.

In a compressed session every frame goes through the session's compressor (one
``_send`` per DATA_ROW); otherwise a batch of rows is framed in one go, and with the
result cache on (``_cache``) those frames are what is kept: ``_cache.replay_binary``
sends them again re-stamped for the asking session, without DuckDB or the encoder.
"""
from __future__ import annotations

from decimal import Decimal

from scratchbird import _constants as C
from scratchbird._impl import bincodec
from scratchbird._server_messages import Column, encode_command_complete, encode_row_description_p1

from ._native import NATIVE

__all__ = ["run_native", "send_binary_result"]

_TEXT_TYPES = {
    C.OID_BOOL: (bincodec.BOOLEAN, lambda raw: bytes(raw).upper() in (b"TRUE", b"T")),
    C.OID_INT8: (bincodec.INT64, int),
    C.OID_NUMERIC: (bincodec.DECIMAL, lambda raw: Decimal(bytes(raw).decode("ascii"))),
}
_TEXT = (bincodec.TEXT, lambda raw: bytes(raw).decode("utf-8", "replace"))


def run_native(es, sql: str, autocommit: bool, params=None):
    """The engine's results for ``sql`` with DuckDB's own values (and bound ``params``)."""
    return es.execute_script(sql, autocommit=autocommit, params=params, native=NATIVE)


def _shape(result):
    """``(columns, specs, text converters)`` of a result for binary encoding."""
    plans = getattr(result, "plans", None)
    if plans is not None:
        columns = [Column(name, plan.oid, format=1, nullable=nullable, typeref=plan.typeref)
                   for name, plan, nullable in zip(result.columns, plans, result.nullable)]
        return columns, tuple(plan.spec for plan in plans), None
    # synthetic text rows: encode them as the types sbsql infers for them (8.2)
    kinds = [_TEXT_TYPES.get(oid, _TEXT) for oid in result.type_oids]
    columns = [Column(name, oid, format=1, typeref=bincodec.typeref_for(kind[0]))
               for name, oid, kind in zip(result.columns, result.type_oids, kinds)]
    return columns, tuple(kind[0] for kind in kinds), [kind[1] for kind in kinds]


def send_binary_result(session, result, keep=None) -> None:
    """[ROW_DESCRIPTION, DATA_ROW...] COMMAND_COMPLETE in binary; no RD for zero rows (4.2).

    ``keep``: a binary ``_cache.Collector`` that keeps the RD payload and the frames."""
    shape = None
    if keep is not None and session.compressor is not None:
        keep.give_up()                  # compressed sessions do not use the binary cache
        keep = None
    for batch in result.batches():
        if not batch:
            continue
        if shape is None:
            shape = _shape(result)
            description = encode_row_description_p1(shape[0])
            session._send(C.ROW_DESCRIPTION, description)
            if keep is not None:
                keep.row_description = description
        _columns, specs, text = shape
        if text is not None:
            batch = [[None if v is None else load(v) for v, load in zip(row, text)]
                     for row in batch]
        if session.compressor is not None:
            encode = bincodec.encode_data_row
            for row in batch:
                session._send(C.DATA_ROW, encode(specs, row))
        else:
            data, session.seq = bincodec.encode_data_row_frames(
                specs, batch, session.seq, session.attachment, session.txn)
            session._write(data)
            if keep is not None:
                keep.add_frames(data, len(batch), len(specs))
    if shape is None and getattr(result, "describe_empty", False):   # full profile, 0 rows
        session._send(C.ROW_DESCRIPTION, encode_row_description_p1(_shape(result)[0]))
    session._send(C.COMMAND_COMPLETE, encode_command_complete(result.tag, result.rows))

