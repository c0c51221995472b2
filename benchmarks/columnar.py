"""``python -m benchmarks.columnar``: columnar fetch (issue 9, scenarios 7 and 7b), loading
(8 and 8b, benchmarks/loading.py), the memory of a 10,000,000-row ``fetch_arrow_batches``
stream and of ``scratchbird export`` to Parquet (T13), and targets T9-T13
(benchmarks/columnar_targets.py). Figures only.

- 7: fetch N rows x 10 columns (4 bigint, 2 double, 2 text, bool, NULL) into an Arrow table:
  scratchbird ``conn.fetch_arrow`` against the dev server (``sbsql``: text values with
  ``numeric_as="float64"``; ``full``: binary values), ADBC's ``fetch_arrow_table`` and
  connectorx against a local PostgreSQL with the same table.
- 7b: the same into pandas: scratchbird ``fetch_pandas``-style (Arrow, then ``to_pandas``),
  ADBC then ``to_pandas``, connectorx, psycopg ``fetchall`` then ``DataFrame``.
- memory: a child process streams ``SELECT`` of 10,000,000 rows through
  ``fetch_arrow_batches`` and reports how far its peak RSS grew.

Client CPU is ``time.process_time()`` of this process (the servers are other processes);
best of ``--repeats``. Targets T9/T10 are ratios to ADBC by client CPU, in this one run.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TABLE_SQL = ("CREATE TABLE col7 AS SELECT i::BIGINT AS a, (i * 7919 % 1000003)::BIGINT AS b, "
             "(i % 1000)::BIGINT AS c, (-3 * i)::BIGINT AS d, (i * 0.5)::DOUBLE PRECISION AS e, "
             "((i % 1000) / 7.0)::DOUBLE PRECISION AS f, 'name ' || i::VARCHAR AS g, "
             "'text ' || (i % 9973)::VARCHAR AS h, i % 3 <> 0 AS k, NULL::TEXT AS n FROM {source}")
SELECT = "SELECT a, b, c, d, e, f, g, h, k, n FROM col7"
STREAM_SQL = "SELECT range AS id, 'row ' || range::VARCHAR AS label FROM range({n})"


def _rss_kb(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def best(fn, repeats: int):
    """(client CPU s, wall s, rows) of the fastest of ``repeats`` runs (by CPU)."""
    out = None
    for _ in range(repeats):
        gc.collect()
        c0, w0 = time.process_time(), time.perf_counter()
        rows = fn()
        sample = (time.process_time() - c0, time.perf_counter() - w0, rows)
        if out is None or sample[0] < out[0]:
            out = sample
    return out


def best_checked(fn, repeats: int, count, verify):
    """(figure, check): ``fn`` returns its result; ``count`` and ``verify`` look at it
    after the clocks stop, for every sample (the check of T9-T12's INVALID rule)."""
    out, failures = None, []
    for _ in range(repeats):
        gc.collect()
        c0, w0 = time.process_time(), time.perf_counter()
        result = fn()
        sample = (time.process_time() - c0, time.perf_counter() - w0)
        rows, problem = count(result), verify(result)
        del result
        if problem:
            failures.append(problem)
        if out is None or sample[0] < out[0]:
            out = (sample[0], sample[1], rows)
    return out, {"ok": not failures, "failed": "; ".join(failures[:1]), "samples": repeats}


def expected_col7(n: int) -> tuple:
    """(rows, sum of a, rows where k, NULLs in n) of col7."""
    return n, n * (n - 1) // 2, n - (n + 2) // 3, n


def verify_arrow(n: int):
    def verify(table):
        import pyarrow.compute as pc
        got = (table.num_rows, pc.sum(table.column("a")).as_py() or 0,
               pc.sum(pc.cast(table.column("k"), "int64")).as_py() or 0,
               table.column("n").null_count)
        return "" if got == expected_col7(n) else f"{got} != {expected_col7(n)}"
    return verify


def verify_pandas(n: int):
    def verify(df):
        got = (len(df), int(df["a"].sum()), int(df["k"].astype(bool).sum()),
               int(df["n"].isna().sum()))
        return "" if got == expected_col7(n) else f"{got} != {expected_col7(n)}"
    return verify


def scratchbird_contenders(dsn: str, profile: str, n: int):
    import scratchbird
    conn = scratchbird.connect(dsn)
    numeric_as = "float64" if profile == "sbsql" else None
    conn.fetch_arrow(SELECT + " LIMIT 10", numeric_as=numeric_as)     # warm the server cache

    def arrow():
        return conn.fetch_arrow(SELECT, numeric_as=numeric_as)

    def pandas():
        return conn.fetch_arrow(SELECT, numeric_as=numeric_as).to_pandas()

    def tuples():
        cur = conn.cursor()
        cur.execute(SELECT)
        return len(cur.fetchall())
    return conn, arrow, pandas, tuples


def run(args) -> dict:
    from benchmarks.postgres import PostgresServer, PostgresUnavailable
    from benchmarks.sbserver import DevServerProcess
    import scratchbird
    n, repeats = args.rows, args.repeats
    results = {"rows": n, "repeats": repeats, "impl": scratchbird.IMPL, "figures": {},
               "checks": {}, "load_average": [os.getloadavg()[0]]}
    from benchmarks.machine import describe
    results["machine"] = describe()
    results["machine"]["versions"].update(_peer_versions())
    figures, checks = results["figures"], results["checks"]
    from benchmarks import loading
    rows = arrow_table = None
    if not args.no_load:
        rows = loading.make_rows(n)
        arrow_table = loading.make_arrow(rows)
    work = Path(tempfile.mkdtemp(prefix="sb-columnar-"))
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
    for profile in ("sbsql", "full"):
        with DevServerProcess(work / f"{profile}.duckdb", env, work / f"{profile}.log",
                              profile=profile) as srv:
            conn = scratchbird.connect(srv.dsn)
            conn.cursor().execute(TABLE_SQL.format(source=f"range({n}) AS g(i)"))
            conn.commit()
            conn.close()
            _c, arrow, pandas, tuples = scratchbird_contenders(srv.dsn, profile, n)
            name = f"7 scratchbird-{scratchbird.IMPL} {profile} fetch_arrow"
            figures[name], checks[name] = best_checked(arrow, repeats, lambda t: t.num_rows,
                                                       verify_arrow(n))
            name = f"7b scratchbird-{scratchbird.IMPL} {profile} fetch_arrow+to_pandas"
            figures[name], checks[name] = best_checked(pandas, repeats, len, verify_pandas(n))
            figures[f"(ref) scratchbird-{scratchbird.IMPL} {profile} fetchall tuples"] = best(tuples, repeats)
            if not args.no_memory:
                figures[f"T13 stream {args.stream_rows:,} rows {profile}: peak RSS growth MB"] = \
                    _memory(srv.dsn, args.stream_rows, env)
            _c.close()
            if not args.no_load:
                loading.scratchbird_loads(srv.dsn, profile, rows, arrow_table, repeats,
                                          figures, checks, scratchbird.IMPL)
            if profile == "full" and args.export_rows:
                results["export"] = loading.export_memory(srv.dsn, args.export_rows, env,
                                                           work, REPO)
    if args.no_postgres:
        return results
    try:
        with PostgresServer(work, log=lambda m: print(m, file=sys.stderr)) as pg:
            pg.psql(TABLE_SQL.format(source=f"generate_series(0::bigint, {n} - 1) AS g(i)")
                    .replace("::VARCHAR", "::TEXT") + ";\nVACUUM ANALYZE col7;")
            _peers(pg.dsn, n, repeats, figures, checks)
            if not args.no_load:
                loading.peer_loads(pg.dsn, rows, arrow_table, repeats, figures, checks)
    except PostgresUnavailable as exc:
        results["postgres"] = f"unavailable: {exc}"
    return results


def _peer_versions() -> dict:
    import importlib
    out = {}
    for module in ("pyarrow", "pandas", "adbc_driver_postgresql", "connectorx"):
        try:
            out[module] = importlib.import_module(module).__version__
        except (ImportError, AttributeError):
            out[module] = None
    return out


def _peers(dsn: str, n: int, repeats: int, figures: dict, checks: dict) -> None:
    try:
        import adbc_driver_postgresql.dbapi as adbc
        aconn = adbc.connect(dsn)

        def adbc_arrow():
            with aconn.cursor() as cur:
                cur.execute(SELECT)
                return cur.fetch_arrow_table()

        def adbc_pandas():
            with aconn.cursor() as cur:
                cur.execute(SELECT)
                return cur.fetch_arrow_table().to_pandas()
        name = "7 adbc fetch_arrow_table"
        figures[name], checks[name] = best_checked(adbc_arrow, repeats, lambda t: t.num_rows,
                                                   verify_arrow(n))
        name = "7b adbc fetch_arrow_table+to_pandas"
        figures[name], checks[name] = best_checked(adbc_pandas, repeats, len, verify_pandas(n))
        aconn.close()
    except ImportError as exc:
        figures["adbc"] = f"not installed: {exc}"
    try:
        import connectorx as cx
        name = "7 connectorx arrow"
        figures[name], checks[name] = best_checked(
            lambda: cx.read_sql(dsn, SELECT, return_type="arrow"), repeats,
            lambda t: t.num_rows, verify_arrow(n))
        name = "7b connectorx pandas"
        figures[name], checks[name] = best_checked(
            lambda: cx.read_sql(dsn, SELECT, return_type="pandas"), repeats, len,
            verify_pandas(n))
    except ImportError as exc:
        figures["connectorx"] = f"not installed: {exc}"
    try:
        import pandas as pd
        import psycopg
        pconn = psycopg.connect(dsn)

        def psycopg_pandas():
            with pconn.cursor() as cur:
                cur.execute(SELECT)
                rows = cur.fetchall()
                return pd.DataFrame(rows, columns=[d.name for d in cur.description])
        name = "7b psycopg fetchall+DataFrame"
        figures[name], checks[name] = best_checked(psycopg_pandas, repeats, len,
                                                   verify_pandas(n))
        pconn.close()
    except ImportError as exc:
        figures["psycopg"] = f"not installed: {exc}"


def _memory(dsn: str, n: int, env) -> float:
    out = subprocess.run([sys.executable, "-m", "benchmarks.columnar", "--stream-child", dsn,
                          "--stream-rows", str(n)], capture_output=True, text=True, env=env,
                         cwd=str(REPO), timeout=3600)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    return float(out.stdout.split()[-1])


def stream_child(dsn: str, n: int) -> None:
    """Stream ``n`` rows through fetch_arrow_batches; print the peak RSS growth in MB."""
    import scratchbird
    import pyarrow  # noqa: F401 - loaded before the baseline, as a user's program would
    conn = scratchbird.connect(dsn)
    cur = conn.cursor(stream=True)
    cur.execute("SELECT 1")
    cur.fetchall()
    base = _rss_kb("VmHWM")
    cur.execute(STREAM_SQL.format(n=n))
    total = 0
    for batch in cur.fetch_arrow_batches(batch_rows=65536):
        total += batch.num_rows
    assert total == n, total
    print(f"{(_rss_kb('VmHWM') - base) / 1024:.1f}")


def report(results: dict) -> str:
    machine = results.get("machine") or {}
    lines = [f"machine: {machine.get('cpu')}, {machine.get('cores_usable')} cores usable, "
             f"{machine.get('memory_gib')} GiB, {machine.get('os')}, {machine.get('python')}; "
             f"{', '.join(f'{k} {v}' for k, v in (machine.get('versions') or {}).items() if v)}"]
    lines += [f"rows {results['rows']:,}, best of {results['repeats']}, by client CPU / wall",
             "| what | rows/s client CPU | rows/s wall |", "| --- | ---: | ---: |"]
    for name, fig in results["figures"].items():
        if isinstance(fig, (list, tuple)):
            cpu, wall, rows = fig
            lines.append(f"| {name} | {rows / cpu / 1e6:.2f} M | {rows / wall / 1e6:.2f} M |")
        else:
            lines.append(f"| {name} | {fig} | |")
    if "postgres" in results:
        lines.append(f"PostgreSQL peers: {results['postgres']}")
    export = results.get("export")
    if export:
        growth = export.get("growth_mb")
        lines.append(f"T13 export {export['rows']:,} rows to Parquet (full): peak RSS growth "
                     + (f"{growth:.1f} MB" if growth is not None else "not measured"))
    checks = results.get("checks", {})
    wrong = [f"{name}: {c.get('failed')}" for name, c in checks.items() if not c.get("ok")]
    lines.append(f"checks: {len(checks) - len(wrong)} of {len(checks)} verified"
                 + (f"; WRONG: {'; '.join(wrong)}" if wrong else ""))
    if results.get("load_average"):
        lines.append("load average (1 min) at start and end: "
                     + ", ".join(f"{v:.1f}" for v in results["load_average"]))
    from benchmarks.columnar_targets import evaluate, report_lines
    lines.append("")
    lines += report_lines(evaluate(results))
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.columnar", description=__doc__.split("\n")[0])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--stream-rows", type=int, default=10_000_000)
    p.add_argument("--no-postgres", action="store_true")
    p.add_argument("--no-memory", action="store_true", help="skip the stream memory children")
    p.add_argument("--no-load", action="store_true", help="skip scenarios 8 and 8b")
    p.add_argument("--export-rows", type=int, default=10_000_000,
                   help="rows of the T13 export child (0: skip it)")
    p.add_argument("--out", default=str(REPO / "benchmarks" / "results"))
    p.add_argument("--stream-child", metavar="DSN", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.stream_child:
        stream_child(args.stream_child, args.stream_rows)
        return 0
    results = run(args)
    results.setdefault("load_average", []).append(os.getloadavg()[0])
    text = report(results)
    print(text)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "columnar.json").write_text(json.dumps(results, indent=1))
    (out / "columnar.txt").write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
