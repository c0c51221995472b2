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
from typing import Optional, Sequence

from scratchbird.errors import ProgrammingError

__all__ = ["encode_array_bind", "HEADER_BYTES", "SLOT_BYTES"]

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
