"""The array-bind ParameterDataPacket (REFERENCE 5.8): many parameter rows in one BIND.

The pure-Python reference twin; the compiled twin is ``ext/arraybind.pyx`` (same names,
behaviour and messages). Every cell travels as UTF-8 text (payload_encoding 1), so the
server converts it by the text rules of REFERENCE 8.6, as it does a text BIND value; the
caller chooses the PARSE type OIDs (which decide quoting) and renders the texts.

Layout, as the real server reads it and as capture 16 recorded it:

- a 104-byte header: ``u16 layout 1, u8 kind 0 (bind request), u8 shape 1 (array rows),
  u32 flags 0``, two ignored 16-byte uuids, ``u32 parameter_count, u32 row_count,
  u32 slot_descriptor_bytes, u32 reserved``, a 32-byte hash and a 16-byte uuid (ignored);
- one 165-byte slot descriptor per parameter: ``u32 ordinal, u8 direction 0,
  u8 bind_flags 0, u8 name_binding_state 0, u8 value_format 1``, an all-zero 144-byte
  CanonicalTypeRef, ``i64 requested_size_bytes 0`` and an absent ``ntext`` name
  (``u8 0, u32 0``);
- per row ``u32 row_ordinal`` (from 1), ``u32 value_count``, then per cell ``u32 slot,
  u8 value_state (0 value, 1 NULL), u8 payload_encoding 1, u16 flags 0, u64 length``
  and the bytes (none for NULL).
"""
from __future__ import annotations

import struct
from typing import Any, Callable, List, Optional, Sequence, Tuple

from scratchbird._pure.textparams import OID_TEXT, _EXACT_TEXT_TYPES, text_value
from scratchbird.errors import ProgrammingError

__all__ = ["encode_array_bind", "encode_param_sets", "HEADER_BYTES", "SLOT_BYTES"]

HEADER_BYTES = 104
SLOT_BYTES = 165

_HEAD = struct.Struct("<HBBI")
_COUNTS = struct.Struct("<IIII")
_SLOT = struct.Struct("<IBBBB")
_SLOT_TAIL = bytes(144) + bytes(8) + b"\x00" + bytes(4)
_ROW = struct.Struct("<II")
_CELL = struct.Struct("<IBBHQ")


def _check_shape(rows: Sequence[Sequence[Optional[bytes]]], parameter_count: int) -> None:
    if parameter_count < 1:
        raise ProgrammingError("an array bind needs at least one parameter")
    if not rows:
        raise ProgrammingError("an array bind needs at least one row")


def _row_error(index: int, got: int, want: int) -> ProgrammingError:
    return ProgrammingError(
        f"array bind row {index} has {got} values; the statement takes {want}")


def _value_error(index: int, value: object) -> ProgrammingError:
    return ProgrammingError(
        f"array bind row {index} holds a {type(value).__name__}; cells must be bytes or None")


def encode_array_bind(rows: Sequence[Sequence[Optional[bytes]]], parameter_count: int) -> bytes:
    """The BIND payload carrying ``rows`` (each ``parameter_count`` UTF-8 texts or None)."""
    _check_shape(rows, parameter_count)
    slots = b"".join(_SLOT.pack(i + 1, 0, 0, 0, 1) + _SLOT_TAIL for i in range(parameter_count))
    parts = [_HEAD.pack(1, 0, 1, 0), bytes(32),
             _COUNTS.pack(parameter_count, len(rows), len(slots), 0), bytes(48), slots]
    for index, row in enumerate(rows):
        if len(row) != parameter_count:
            raise _row_error(index, len(row), parameter_count)
        parts.append(_ROW.pack(index + 1, parameter_count))
        for slot, value in enumerate(row, 1):
            if value is None:
                parts.append(_CELL.pack(slot, 1, 1, 0, 0))
            elif isinstance(value, (bytes, bytearray)):
                parts.append(_CELL.pack(slot, 0, 1, 0, len(value)))
                parts.append(bytes(value))
            else:
                raise _value_error(index, value)
    return b"".join(parts)


def _in_order(params: Any, width: int, keys: Optional[Sequence[Any]], positional: bool,
              ordered: Callable[[Any], Sequence[Any]]) -> Sequence[Any]:
    """One parameter set's values in slot order: a tuple or list of the right length as it
    is (``positional``), a dict holding exactly ``keys`` by lookup, anything else through
    ``ordered`` (the statement plan's, which raises the literal path's errors)."""
    cls = type(params)
    if positional and (cls is tuple or cls is list) and len(params) == width:
        as_is: Sequence[Any] = params
        return as_is
    if keys is not None and cls is dict and len(params) == width:
        try:
            return [params[key] for key in keys]
        except KeyError:
            pass
    return ordered(params)


def encode_param_sets(param_sets: Sequence[Any], width: int, keys: Optional[Sequence[Any]],
                      positional: bool, ordered: Callable[[Any], Sequence[Any]],
                      exact_only: bool, packet_bytes: int
                      ) -> Optional[Tuple[Tuple[int, ...], List[bytes]]]:
    """executemany's parameter sets straight to array-bind packets: ``(oids, packets)``,
    or None when a value needs the literal path (``textparams.text_value`` says None, or
    ``exact_only`` and a type whose text is not exact).

    Each value becomes a text cell by ``textparams.text_value``. ``oids`` are the PARSE
    types, one per column: a column keeps its unquoted OID only if every non-NULL value
    in it has that OID, otherwise the whole column goes as quoted text (OID 25), numbers
    included; an all-NULL column is text. A packet is closed after the row that brings
    its cells (8 bytes per row, 16 per cell, plus the texts) to ``packet_bytes``.

    Every parameter set is converted even after one needed the literal path, so a value
    that cannot be sent at all (a signalling NaN) raises before anything is sent."""
    _check_shape(param_sets, width)
    column_oids: List[Optional[int]] = [None] * width
    packets: List[bytes] = []
    rows: List[List[Optional[bytes]]] = []
    size = 0
    literal = False
    for params in param_sets:
        texts: List[Optional[bytes]] = []
        for column, value in enumerate(_in_order(params, width, keys, positional, ordered)):
            item = None if exact_only and not isinstance(value, _EXACT_TEXT_TYPES) \
                else text_value(value)
            if item is None:
                literal = True
                texts.append(None)
                continue
            oid, text = item
            texts.append(text)
            if text is None:
                continue
            have = column_oids[column]
            if have is None:
                column_oids[column] = oid
            elif have != oid:
                column_oids[column] = OID_TEXT
        rows.append(texts)
        size += 8 + sum(16 + (0 if text is None else len(text)) for text in texts)
        if size >= packet_bytes:
            packets.append(encode_array_bind(rows, width))
            rows, size = [], 0
    if rows:
        packets.append(encode_array_bind(rows, width))
    if literal:
        return None
    return tuple(OID_TEXT if oid is None else oid for oid in column_oids), packets
