"""zstd frame compression, negotiated by feature bit 0 (REFERENCE 2.1, 2.4 and 3.7, [SPEC]).

A compressed frame has header flag 0x01 and the payload

    u32 uncompressed_size, u8 level, 3 reserved (0), one zstd frame

The header length is the compressed size and must stay within 64 MiB; the uncompressed
size may not exceed 64 MiB either. Today's server never grants feature 0 and treats
flag 0x01 as fatal (REFERENCE 10 row 6): nothing here is used unless it was negotiated.

One ``Compressor`` and one ``Decompressor`` per connection: each keeps its zstd context
for the life of the connection (zstd contexts are built to be reused). Neither is
thread-safe, like the connection that owns them.
"""
from __future__ import annotations

import struct
from typing import Tuple

import zstandard

from scratchbird._constants import FLAG_COMPRESSED, MAX_PAYLOAD
from scratchbird._typing import Buffer
from scratchbird.errors import ProtocolError

__all__ = ["PREFIX_SIZE", "Compressor", "Decompressor"]

_PREFIX = struct.Struct("<IB3s")     # uncompressed_size, level, reserved
PREFIX_SIZE = _PREFIX.size           # 8
_RESERVED = b"\0\0\0"


class Compressor:
    """Compresses outgoing payloads larger than ``threshold`` bytes.

    ``compress_payload`` returns ``(payload, flags)`` ready for ``framing.encode_frame``:
    either the payload unchanged with flags 0, or the prefixed zstd frame with
    FLAG_COMPRESSED when that is smaller than the original.
    """

    __slots__ = ("level", "threshold", "_cctx")

    def __init__(self, level: int = 3, threshold: int = 1024) -> None:
        if not 1 <= level <= zstandard.MAX_COMPRESSION_LEVEL:
            raise ValueError(f"zstd level must be 1..{zstandard.MAX_COMPRESSION_LEVEL}, "
                             f"not {level}")
        if threshold < 0:
            raise ValueError("threshold must not be negative")
        self.level = level
        self.threshold = threshold
        # The content size in the zstd frame lets the peer check it against the prefix
        # before allocating; the 4-byte checksum catches corruption TLS did not.
        self._cctx = zstandard.ZstdCompressor(level=level, write_content_size=True,
                                              write_checksum=True)

    def __repr__(self) -> str:
        return f"<Compressor zstd level={self.level} threshold={self.threshold}>"

    def compress_payload(self, payload: Buffer) -> Tuple[bytes, int]:
        size = len(payload)
        if size > MAX_PAYLOAD:
            raise ProtocolError(f"SBWP payload of {size} bytes exceeds the 64 MiB limit, "
                                "compressed or not")
        if size <= self.threshold:
            return bytes(payload), 0
        compressed = self._cctx.compress(payload)
        if PREFIX_SIZE + len(compressed) >= size:
            return bytes(payload), 0     # incompressible: plain is smaller
        return _PREFIX.pack(size, self.level, _RESERVED) + compressed, FLAG_COMPRESSED


class Decompressor:
    """Undoes ``Compressor``; an instance is a ``FrameReader.decompress`` hook.

    Never allocates more than the declared size, which may not exceed ``max_payload``;
    raises ProtocolError on a bad prefix, corrupt or truncated zstd data, trailing
    bytes, or a result whose size differs from the declared one.
    """

    __slots__ = ("max_payload", "_dctx")

    def __init__(self, max_payload: int = MAX_PAYLOAD) -> None:
        self.max_payload = max_payload
        self._dctx = zstandard.ZstdDecompressor()

    def __repr__(self) -> str:
        return f"<Decompressor zstd max_payload={self.max_payload}>"

    def __call__(self, payload: Buffer) -> bytes:
        return self.decompress(payload)

    def decompress(self, payload: Buffer) -> bytes:
        if len(payload) < PREFIX_SIZE:
            raise ProtocolError(f"compressed payload of {len(payload)} bytes is shorter than "
                                f"its {PREFIX_SIZE}-byte prefix")
        declared, _level, reserved = _PREFIX.unpack_from(payload)
        if reserved != _RESERVED:
            raise ProtocolError("compressed payload prefix has nonzero reserved bytes "
                                f"({reserved.hex()})")
        if declared > self.max_payload:
            raise ProtocolError(f"compressed payload declares {declared} uncompressed bytes, "
                                f"over the limit of {self.max_payload}")
        data = memoryview(payload)[PREFIX_SIZE:]
        try:
            content_size = zstandard.get_frame_parameters(data).content_size
        except zstandard.ZstdError as exc:
            raise ProtocolError(f"compressed payload has no valid zstd frame header: {exc}") \
                from None
        # zstandard allocates the frame's own content size when the header has one, so
        # compare it with the prefix before decompressing (no zip bombs).
        if content_size != zstandard.CONTENTSIZE_UNKNOWN and content_size != declared:
            raise ProtocolError(f"zstd frame content size {content_size} differs from the "
                                f"declared uncompressed size {declared}")
        try:
            # max_output_size=0 would mean "no limit": a 0-byte declaration gets 1
            out = self._dctx.decompress(data, max_output_size=max(declared, 1),
                                        allow_extra_data=False)
        except zstandard.ZstdError as exc:
            raise ProtocolError(f"corrupt or truncated zstd data in a compressed payload (or "
                                f"more than the declared {declared} bytes): {exc}") from None
        if len(out) != declared:
            raise ProtocolError(f"compressed payload decompressed to {len(out)} bytes, "
                                f"not the declared {declared}")
        return out
