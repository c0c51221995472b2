"""Issue 9's loading scenarios and the export memory figure, for ``python -m benchmarks.columnar``.

- 8: load N tuples (4 bigint, 2 double, 2 text, bool, NULL): scratchbird ``conn.load``
  (COPY FROM STDIN: SBNR v2 binary packets on ``full``, text lines on ``sbsql``) against
  asyncpg ``copy_records_to_table`` and psycopg COPY ``write_row`` into PostgreSQL.
- 8b: load an N-row pyarrow Table: scratchbird ``conn.load`` (encoded column by column from
  the Arrow buffers) against ADBC's ``adbc_ingest``.
- T13: a child process runs ``scratchbird export "SELECT ..." out.parquet`` over M rows and
  reports how far its peak RSS grew.

Every timed sample loads into an empty table (emptied outside the clock) and commits inside
it; after each sample a checksum query (count, sums, NULL count; outside the clock) compares
the table with the data: the figure's ``check`` (benchmarks/columnar_targets.py turns a
target made of an unchecked or wrong figure INVALID).
"""
from __future__ import annotations

import asyncio
import gc
import os
import subprocess
import sys
import time
from pathlib import Path

COLUMNS = ("a", "b", "c", "d", "e", "f", "g", "h", "k", "n")
CREATE_SB = ("CREATE TABLE {t} (a BIGINT, b BIGINT, c BIGINT, d BIGINT, e DOUBLE, f DOUBLE, "
             "g VARCHAR, h VARCHAR, k BOOLEAN, n VARCHAR)")
CREATE_PG = CREATE_SB.replace("DOUBLE", "DOUBLE PRECISION").replace("VARCHAR", "TEXT")
# Integers only, so every engine gives the same exact answer (no float sums).
CHECKSUM = ("SELECT count(*), sum(a), sum(b), sum(c), sum(d), sum(length(g)), "
            "sum(length(h)), sum(CASE WHEN k THEN 1 ELSE 0 END), count(n), "
            "sum(CAST(e * 2 AS BIGINT)) FROM {t}")
EXPORT_SQL = ("SELECT range AS id, range * 7 AS b, range * 0.5 AS e, 'row ' || range::VARCHAR "
              "AS label, range % 3 = 0 AS k FROM range({n})")


def make_rows(n: int) -> list:
    """The issue's table shape as tuples (built outside every clock)."""
    return [(i, i * 7919 % 1000003, i % 1000, -3 * i, i * 0.5, (i % 1000) / 8.0,
             f"name {i}", f"text {i % 9973}", i % 3 != 0, None) for i in range(n)]


def expected_checksum(rows) -> tuple:
    return (len(rows), sum(r[0] for r in rows), sum(r[1] for r in rows),
            sum(r[2] for r in rows), sum(r[3] for r in rows), sum(len(r[6]) for r in rows),
            sum(len(r[7]) for r in rows), sum(1 for r in rows if r[8]), 0,
            sum(int(r[4] * 2) for r in rows))


def make_arrow(rows):
    import pyarrow as pa
    columns = list(zip(*rows)) if rows else [()] * len(COLUMNS)
    types = [pa.int64()] * 4 + [pa.float64()] * 2 + [pa.string()] * 2 + [pa.bool_(), pa.string()]
    return pa.table([pa.array(list(col), type=t) for col, t in zip(columns, types)],
                    names=list(COLUMNS))


def _normalise(row) -> tuple:
    return tuple(0 if v is None else int(v) for v in row)


def timed_loads(load, reset, checksum, expected, rows: int, repeats: int):
    """(figure, check): figure = (client CPU s, wall s, rows) of the fastest sample by CPU;
    ``reset`` and ``checksum`` run outside the clocks, after every sample."""
    best, failures = None, []
    for _ in range(repeats):
        reset()
        gc.collect()
        c0, w0 = time.process_time(), time.perf_counter()
        load()
        sample = (time.process_time() - c0, time.perf_counter() - w0, rows)
        got = _normalise(checksum())
        if got != expected:
            failures.append(f"checksum {got} != {expected}")
        if best is None or sample[0] < best[0]:
            best = sample
    return best, {"ok": not failures, "failed": "; ".join(failures[:1]),
                  "samples": repeats}


def scratchbird_loads(dsn: str, profile: str, rows: list, arrow_table, repeats: int,
                      figures: dict, checks: dict, impl: str) -> None:
    import scratchbird
    conn = scratchbird.connect(dsn)
    expected = _normalise(expected_checksum(rows))
    for table in ("load8", "load8b"):
        cur = conn.cursor()
        cur.execute(f"DROP TABLE IF EXISTS {table}")
        cur.execute(CREATE_SB.format(t=table))
    conn.commit()

    def reset_for(table):
        def reset():
            conn.cursor().execute(f"DELETE FROM {table}")
            conn.commit()
        return reset

    def checksum_of(table):
        def checksum():
            cur = conn.cursor()
            cur.execute(CHECKSUM.format(t=table))
            return cur.fetchone()
        return checksum

    def load_tuples():
        conn.load("load8", rows, columns=list(COLUMNS))
        conn.commit()

    def load_arrow():
        conn.load("load8b", arrow_table)
        conn.commit()
    name = f"8 scratchbird-{impl} {profile} load tuples"
    figures[name], checks[name] = timed_loads(load_tuples, reset_for("load8"),
                                              checksum_of("load8"), expected, len(rows), repeats)
    if arrow_table is not None:
        name = f"8b scratchbird-{impl} {profile} load arrow"
        figures[name], checks[name] = timed_loads(load_arrow, reset_for("load8b"),
                                                  checksum_of("load8b"), expected,
                                                  len(rows), repeats)
    conn.close()


def peer_loads(dsn: str, rows: list, arrow_table, repeats: int, figures: dict,
               checks: dict) -> None:
    expected = _normalise(expected_checksum(rows))
    try:
        import psycopg
    except ImportError as exc:
        figures["psycopg load"] = f"not installed: {exc}"
        return
    pconn = psycopg.connect(dsn, autocommit=True)
    for table in ("load8", "load8b"):
        pconn.execute(f"DROP TABLE IF EXISTS {table}")
        pconn.execute(CREATE_PG.format(t=table))

    def reset_for(table):
        return lambda: pconn.execute(f"TRUNCATE {table}")

    def checksum_of(table):
        return lambda: pconn.execute(CHECKSUM.format(t=table)).fetchone()

    def psycopg_copy():
        with pconn.cursor() as cur:
            with cur.copy(f"COPY load8 ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
    figures["8 psycopg COPY write_row"], checks["8 psycopg COPY write_row"] = timed_loads(
        psycopg_copy, reset_for("load8"), checksum_of("load8"), expected, len(rows), repeats)
    try:
        import asyncpg
        loop = asyncio.new_event_loop()
        aconn = loop.run_until_complete(asyncpg.connect(dsn))

        def asyncpg_copy():
            loop.run_until_complete(aconn.copy_records_to_table(
                "load8", records=rows, columns=list(COLUMNS)))
        name = "8 asyncpg copy_records_to_table"
        figures[name], checks[name] = timed_loads(asyncpg_copy, reset_for("load8"),
                                                  checksum_of("load8"), expected, len(rows),
                                                  repeats)
        loop.run_until_complete(aconn.close())
        loop.close()
    except ImportError as exc:
        figures["asyncpg"] = f"not installed: {exc}"
    try:
        import adbc_driver_postgresql.dbapi as adbc
        aconn = adbc.connect(dsn)

        def adbc_ingest():
            with aconn.cursor() as cur:
                cur.adbc_ingest("load8b", arrow_table, mode="append")
            aconn.commit()
        name = "8b adbc adbc_ingest"
        figures[name], checks[name] = timed_loads(adbc_ingest, reset_for("load8b"),
                                                  checksum_of("load8b"), expected, len(rows),
                                                  repeats)
        aconn.close()
    except ImportError as exc:
        figures["adbc ingest"] = f"not installed: {exc}"
    pconn.close()


def export_memory(dsn: str, n: int, env, work: Path, repo: Path) -> dict:
    """Run the export in a child; returns {"growth_mb", "rows", "ok", "failed"}."""
    out = work / "export.parquet"
    done = subprocess.run([sys.executable, "-m", "benchmarks.loading", dsn, str(n), str(out)],
                          capture_output=True, text=True, env=env, cwd=str(repo), timeout=7200)
    if done.returncode != 0:
        return {"growth_mb": None, "rows": n, "ok": False, "failed": done.stderr[-500:]}
    growth = float(done.stdout.split()[-1])
    import pyarrow.parquet as pq
    meta = pq.ParquetFile(str(out)).metadata     # verified outside the child's measurement
    ok = meta.num_rows == n and meta.num_columns == 5
    out.unlink()
    return {"growth_mb": growth, "rows": n, "ok": ok,
            "failed": "" if ok else f"{meta.num_rows} rows x {meta.num_columns} columns"}


def export_child(dsn: str, n: int, out: str) -> None:
    """``scratchbird export`` in this process, as the console script runs it; prints the
    peak RSS growth in MB (VmHWM after minus the baseline with the CLI and pyarrow loaded)."""
    import pyarrow.parquet  # noqa: F401 - loaded before the baseline, as the command does
    from scratchbird.cli import _commands  # noqa: F401 - click, rich, the writers
    from scratchbird.cli import run
    with open("/proc/self/status") as f:
        base = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
    rc = run(["--dsn", dsn, "export", EXPORT_SQL.format(n=n), out])
    if rc != 0:
        raise SystemExit(rc)
    with open("/proc/self/status") as f:
        peak = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
    print(f"{(peak - base) / 1024:.1f}")


if __name__ == "__main__":
    export_child(sys.argv[1], int(sys.argv[2]), sys.argv[3])
    sys.stdout.flush()
    os._exit(0)
