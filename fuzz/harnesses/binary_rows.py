"""The binary row decoder (bincodec.BinaryRowDecoder, docs/protocol.md "Binary values").

Input: byte 0 gives the column count (``% 7``); then one byte per column picks its type
from every type of the binary type map; the rest is the DATA_ROW payload, decoded by
``decode_row`` and by ``read_data_rows`` (each twin over its own FrameReader).
Seeds are valid rows holding one value of every type.
"""
from __future__ import annotations

from fuzz.contract import check_twins, outcome
from fuzz.harnesses.text_rows import _batch
from fuzz.twins import twins

_cache = {}


def _types():
    if "types" not in _cache:
        from fuzz.samples import samples
        _cache["types"] = [type_id for type_id, _ in samples()] + [(0, 0), (27, 1)]
    return _cache["types"]


def _columns(type_ids):
    from scratchbird._pure.bincodec import typeref_for
    from scratchbird._server_messages import Column, TypeRef

    columns = []
    for i, type_id in enumerate(type_ids):
        try:
            typeref = typeref_for(type_id)
        except Exception:      # no codec (UNTYPED, unknown): a bare TypeRef
            typeref = TypeRef(type_id[0], type_id[1])
        columns.append(Column(f"c{i}", 25, format=1, typeref=typeref))
    return columns


def one_input(data: bytes) -> None:
    if not data:
        return
    types = _types()
    ncols = data[0] % 7
    if len(data) < 1 + ncols:
        return
    type_ids = [types[b % len(types)] for b in data[1:1 + ncols]]
    payload = data[1 + ncols:]
    (pure, compiled), (pframing, cframing) = twins("bincodec"), twins("framing")
    columns = _columns(type_ids)
    decoders = (pure.BinaryRowDecoder(columns), compiled.BinaryRowDecoder(columns))
    check_twins("BinaryRowDecoder.decode_row", outcome(decoders[0].decode_row, payload),
                outcome(decoders[1].decode_row, payload))
    check_twins("bincodec.read_data_rows",
                outcome(_batch, pure, pframing, decoders[0], payload),
                outcome(_batch, compiled, cframing, decoders[1], payload))


def seeds():
    from fuzz.samples import samples
    from scratchbird._pure import bincodec as B

    pairs = samples()
    types = _types()
    out = []
    for start in range(0, len(pairs), 6):
        group = pairs[start:start + 6]
        head = bytes([len(group)]) + bytes(types.index(t) for t, _ in group)
        out.append(head + B.encode_data_row([t for t, _ in group], [v for _, v in group]))
        nulls = [None if i % 2 else v for i, (_, v) in enumerate(group)]
        out.append(head + B.encode_data_row([t for t, _ in group], nulls))
    return out
