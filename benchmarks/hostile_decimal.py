"""How long the driver takes to refuse hostile DECIMAL values (issue 7 item 2).

    PYTHONPATH=src python -m benchmarks.hostile_decimal

Not a test: it prints figures. A DATA_ROW whose DECIMAL coefficient is longer than the
13 607 bytes the largest declared precision needs is refused before any digit is
computed; before the cap a 512 KiB coefficient cost 20 s of CPU and 1 MiB far more.
Both twins are measured, each in the same process.
"""
from __future__ import annotations

import importlib
import struct
import time

from scratchbird._server_messages import Column, TypeRef
from scratchbird.errors import DataError

SIZES = (13_607, 13_608, 64 * 1024, 1024 * 1024, 16 * 1024 * 1024)


def _row(coefficient: bytes) -> bytes:
    value = struct.pack("<hhB3x", 0, 0, 0) + coefficient
    return struct.pack("<HHB", 1, 1, 0) + struct.pack("<I", len(value)) + value


def main() -> None:
    for impl in ("scratchbird._compiled.bincodec", "scratchbird._pure.bincodec"):
        try:
            module = importlib.import_module(impl)
        except ImportError as exc:
            print(f"{impl}: not available ({exc})")
            continue
        decoder = module.BinaryRowDecoder([Column("price", 1700, typeref=TypeRef(4, 1))])
        for size in SIZES:
            row = _row(b"\xff" * size)
            start = time.perf_counter()
            try:
                decoder.decode_row(row)
                outcome = "decoded"
            except DataError as exc:
                outcome = f"refused: {str(exc)[:60]}..."
            elapsed = time.perf_counter() - start
            print(f"{impl.split('.')[1]:>9} {size:>10} bytes  {elapsed * 1e3:9.3f} ms  {outcome}")


if __name__ == "__main__":
    main()
