"""Row decoders called ``__init__`` again with input that fails halfway keep their old,
consistent state: a clean error afterwards, never a crash (issue 7 item 3).

The compiled decoders index their per-column tables without bounds checks, so a
half-done re-initialisation could read past a tuple. The check runs in a subprocess:
a segfault there fails this test instead of killing pytest.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import scratchbird

SRC = Path(scratchbird.__file__).resolve().parents[1]

_SCRIPT = textwrap.dedent("""
    import struct
    from scratchbird import errors
    from scratchbird._impl import bincodec, rowcodec
    from scratchbird._server_messages import Column

    class Unprintable:
        def __repr__(self):
            raise RuntimeError("this name cannot be shown")

    def row(*values):   # DATA_ROW: u16 count, u16 bitmap bytes, bitmap, (u32 length, bytes)*
        body = b"".join(struct.pack("<I", len(v)) + v for v in values)
        return struct.pack("<HH", len(values), (len(values) + 7) // 8) + bytes((len(values) + 7) // 8) + body

    decoder = bincodec.BinaryRowDecoder([Column("a", 23)])
    try:
        decoder.__init__([Column("a", 23), Column(Unprintable(), 23)])
    except RuntimeError:
        pass
    else:
        raise SystemExit("the failing re-initialisation did not fail")
    assert decoder.ncolumns == 1, decoder.ncolumns
    assert decoder.decode_row(row(struct.pack("<i", 5))) == (5,)
    try:
        decoder.decode_row(row(struct.pack("<i", 5), b"\\x01\\x02\\x03"))
    except errors.ProtocolError as exc:
        assert "2 columns" in str(exc), exc
    else:
        raise SystemExit("a two-column row was accepted by a one-column decoder")

    text = rowcodec.TextRowDecoder([20], loaders=[None])   # OID 20: INT8, parsed to int
    try:
        text.__init__([20, 25], loaders=[None, str, str])
    except ValueError:
        pass
    assert text.ncolumns == 1 and text.loaders == (None,), (text.ncolumns, text.loaders)
    assert text.decode_row(row(b"12")) == (12,)
    print("ok")
""")


def test_failed_reinitialisation_leaves_a_usable_decoder():
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run([sys.executable, "-c", _SCRIPT], env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, (f"exit {proc.returncode} under IMPL={scratchbird.IMPL}\n"
                                  f"{proc.stdout}\n{proc.stderr}")
    assert proc.stdout.strip() == "ok"
