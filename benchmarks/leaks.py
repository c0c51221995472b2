"""``python -m benchmarks.leaks``: long loops that must not grow memory.

Each loop runs ``--iterations`` times (default 10,000) after a warm-up of a tenth of
that; RSS (from /proc/self/statm) and the bytes ``tracemalloc`` traces are sampled once
warm and again at the end. A loop is flat when tracemalloc grew by less than 64 KiB and
RSS by less than 2 MiB (allocator noise); the exit status is 1 if one is not. The dev
servers run in their own processes (benchmarks.sbserver), so only the driver is measured.

Loops: connect + close in plaintext and over TLS; a 1,000-row fetch; errors raised from
inside the row decoders (text and binary); prepare, execute once and close a statement.

    SCRATCHBIRD_IMPL=c python -m benchmarks.leaks [--iterations N] [--loops a,b]
"""
from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

import scratchbird  # noqa: E402
from scratchbird import _impl  # noqa: E402
from scratchbird.errors import DataError, ProtocolError  # noqa: E402

from .sbserver import DevServerProcess  # noqa: E402

TRACED_LIMIT = 64 << 10
RSS_LIMIT = 2 << 20
PAGE = os.sysconf("SC_PAGE_SIZE")


def rss() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * PAGE


def connect_close(dsn):
    def loop():
        scratchbird.connect(dsn).close()
    return loop


def fetch_rows(dsn):
    conn = scratchbird.connect(dsn)
    sql = "SELECT i, 'name ' || CAST(i AS VARCHAR), i * 0.25 FROM range(1000) r(i)"

    def loop():
        cur = conn.cursor()
        cur.execute(sql)
        rows = cur.fetchall()
        assert len(rows) == 1000 and rows[999][0] == 999
        cur.close()
    return loop


def decoder_errors(_dsn):
    from scratchbird._pure import bincodec as pure_bincodec
    from scratchbird._server_messages import Column

    rowcodec, bincodec = _impl.rowcodec, _impl.bincodec
    text = rowcodec.TextRowDecoder([25, 20])
    typeref = pure_bincodec.typeref_for(pure_bincodec.INT32)
    binary = bincodec.BinaryRowDecoder([Column("n", 25, format=1, typeref=typeref)])
    bad_utf8 = rowcodec.encode_data_row([b"\xff\xfe", b"1"])
    truncated = rowcodec.encode_data_row([b"abc", b"1"])[:-2]
    short_int = bytes.fromhex("01000100" "00" "02000000" "0102")

    def loop():
        for decode, payload, error in ((text.decode_row, bad_utf8, DataError),
                                       (text.decode_row, truncated, ProtocolError),
                                       (binary.decode_row, short_int, DataError)):
            try:
                decode(payload)
            except error:
                pass
            else:
                raise AssertionError("a bad payload decoded")
    return loop


def prepare_close(dsn):
    """PARSE a statement, run it once (BIND/EXECUTE) and CLOSE it, on one connection."""
    conn = scratchbird.connect(dsn)

    def loop():
        stmt = conn.prepare("SELECT CAST(? AS BIGINT) + 1 AS a, ? AS b")
        cur = stmt.execute((41, "x"))
        assert cur.fetchall() == [(42, "x")]
        cur.close()
        stmt.close()
    return loop


# name -> (factory(dsn), which server: "plain" or "tls")
LOOPS = {
    "connect_plain": (connect_close, "plain"),
    "connect_tls": (connect_close, "tls"),
    "fetch_1000_rows": (fetch_rows, "plain"),
    "decoder_errors": (decoder_errors, "plain"),
    "prepare_close": (prepare_close, "plain"),
}


def measure(name, loop, iterations):
    for _ in range(max(100, iterations // 10)):
        loop()
    gc.collect()
    tracemalloc.start()
    rss0, traced0 = rss(), tracemalloc.get_traced_memory()[0]
    started = time.perf_counter()
    for _ in range(iterations):
        loop()
    elapsed = time.perf_counter() - started
    gc.collect()
    rss1, traced1 = rss(), tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    flat = traced1 - traced0 < TRACED_LIMIT and rss1 - rss0 < RSS_LIMIT
    return {"loop": name, "iterations": iterations, "seconds": elapsed,
            "rss_start_mib": rss0 / 2**20, "rss_growth_kib": (rss1 - rss0) / 1024,
            "traced_growth_kib": (traced1 - traced0) / 1024, "flat": flat}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.leaks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--iterations", type=int, default=10_000)
    parser.add_argument("--loops", default=",".join(LOOPS), help="comma-separated loop names")
    args = parser.parse_args(argv)
    names = [n for n in args.loops.split(",") if n]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "src"),
                                                       os.environ.get("PYTHONPATH", "")]))
    results = []
    with tempfile.TemporaryDirectory(prefix="sb-leaks-") as tmp:
        servers = {"plain": DevServerProcess(Path(tmp) / "plain.duckdb", env,
                                             Path(tmp) / "plain.log", tls=False,
                                             cache_results=False),
                   "tls": DevServerProcess(Path(tmp) / "tls.duckdb", env,
                                           Path(tmp) / "tls.log", tls=True,
                                           cache_results=False)}
        try:
            dsns = {key: server.start() for key, server in servers.items()}
            print(f"scratchbird IMPL={_impl.IMPL}; {args.iterations} iterations per loop")
            print(f"{'loop':<18}{'seconds':>9}{'RSS MiB':>9}{'RSS +KiB':>10}"
                  f"{'traced +KiB':>13}  flat")
            for name in names:
                factory, which = LOOPS[name]
                row = measure(name, factory(dsns[which]), args.iterations)
                results.append(row)
                print(f"{name:<18}{row['seconds']:>9.1f}{row['rss_start_mib']:>9.1f}"
                      f"{row['rss_growth_kib']:>10.0f}{row['traced_growth_kib']:>13.1f}  "
                      f"{'yes' if row['flat'] else 'NO'}", flush=True)
        finally:
            for server in servers.values():
                server.stop()
    return 0 if all(row["flat"] for row in results) else 1


if __name__ == "__main__":
    sys.exit(main())
