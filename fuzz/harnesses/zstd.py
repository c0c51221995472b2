"""The zstd frame wrapper (src/scratchbird/_compression.py, REFERENCE 2.1, 2.4).

Input: a compressed payload (8-byte prefix and a zstd frame) for ``Decompressor`` with a
1 MiB limit; only scratchbird.errors.Error may escape and nothing beyond the limit is
allocated. Then the same bytes, taken as a plain payload, must survive
``Compressor.compress_payload`` and come back unchanged. Pure Python over the zstandard
library: there is no compiled twin.
"""
from __future__ import annotations

from fuzz.contract import outcome

_LIMIT = 1 << 20


def one_input(data: bytes) -> None:
    from scratchbird._compression import Compressor, Decompressor

    result = outcome(Decompressor(max_payload=_LIMIT), data)
    if result.error is None and len(result.value) > _LIMIT:
        raise AssertionError(f"Decompressor returned {len(result.value)} bytes over its limit")
    payload, flags = Compressor(threshold=16).compress_payload(data)
    back = Decompressor()(payload) if flags else payload
    if back != data:
        raise AssertionError("zstd round trip changed the payload")


def seeds():
    from scratchbird._compression import Compressor

    out = []
    for plain in (b"a" * 5000, bytes(range(256)) * 8, b"SELECT 1" * 300):
        payload, _ = Compressor(threshold=16).compress_payload(plain)
        out.append(payload)
    return out
