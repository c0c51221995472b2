"""``python -m benchmarks``: this driver side by side with its peers, in one run.

Prepares the data, starts the dev server (a separate process, result cache on; a second
one with the binary ``full`` profile for scenario 1b) and a local PostgreSQL, then runs every (scenario, contender) pair in a fresh worker process
(``benchmarks.worker``), measures memory for scenario 1, and writes the report: a table
on stdout and in ``results.txt``, every figure in ``results.json``, a plot in
``results.png``. See benchmarks/README.md.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Dict, List, Optional

from . import data as datamod
from . import machine, report
from .contenders import CONTENDERS
from .postgres import PostgresServer, PostgresUnavailable
from .sbserver import DevServerProcess
from .scenarios import BINARY_PROFILE, ITERATE_SQL, PROFILE, Scenario, build, select, sizes_for
from .targets import evaluate

REPO = Path(__file__).resolve().parents[1]
MEMORY_FETCHALL = ("scratchbird-c", "scratchbird-python", "psycopg-text", "psycopg-binary",
                   "asyncpg")
# (contender, streaming?, label): the default cursor reads a whole result at execute()
MEMORY_ITERATE = (("scratchbird-c", False, "default cursor"),
                  ("scratchbird-c", True, "cursor(stream=True)"),
                  ("psycopg-text", True, "Cursor.stream()"))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="small sizes (about 2 minutes)")
    p.add_argument("--scenarios", help="comma-separated ids, e.g. 1,4 (default: all)")
    p.add_argument("--rows", type=int, help="rows of scenarios 1, 1a, 1b (and fetchall memory)")
    p.add_argument("--iterate-rows", type=int, help="rows of the iteration memory test")
    p.add_argument("--repeats", type=int, help="timed samples per measurement (quick 3, full 5)")
    p.add_argument("--contenders", help="comma-separated names (default: all): "
                   + ", ".join(CONTENDERS))
    p.add_argument("--out", default=str(REPO / "benchmarks" / "results"),
                   help="output directory (default benchmarks/results)")
    p.add_argument("--no-postgres", action="store_true", help="skip the PostgreSQL contenders")
    p.add_argument("--no-memory", action="store_true", help="skip the memory measurements")
    p.add_argument("--tls", action="store_true", help="dev server with TLS 1.3 (default off)")
    p.add_argument("--profile", default=PROFILE,
                   help=f"dev server wire profile of every scenario but 1b (default {PROFILE}: "
                        f"text values; 1b is always {BINARY_PROFILE}: binary values)")
    p.add_argument("--no-cache", action="store_true",
                   help="dev server without its result cache (every query runs in DuckDB)")
    p.add_argument("--no-plot", action="store_true", help="write no PNG")
    p.add_argument("--timeout", type=float, default=1800, help="seconds per worker process")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory")
    return p


class Run:
    """State of one benchmark run: where things live and what is available."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.sizes = sizes_for(args.quick, args.rows, args.iterate_rows, args.repeats)
        self.scenarios: Dict[str, Scenario] = build(self.sizes, args.profile)
        self.sids = select(args.scenarios)
        names = [n.strip() for n in (args.contenders or "").split(",") if n.strip()]
        unknown = set(names) - set(CONTENDERS)
        if unknown:
            raise SystemExit(f"unknown contender(s): {', '.join(sorted(unknown))}")
        self.contenders = names or list(CONTENDERS)
        self.memory = "1" in self.sids and not args.no_memory
        self.tmp = Path(tempfile.mkdtemp(prefix="sbbench-"))
        self.env = self._env()
        self.data: Optional[datamod.DataSet] = None
        self.available: Dict[str, dict] = {}
        self.skipped: List[dict] = []
        self._tasks = 0

    def _env(self) -> Dict[str, str]:
        env = dict(os.environ)
        paths = [str(REPO / "src"), str(REPO)]
        if env.get("PYTHONPATH"):
            paths.append(env["PYTHONPATH"])
        env["PYTHONPATH"] = os.pathsep.join(paths)
        env.pop("SCRATCHBIRD_IMPL", None)
        return env

    def log(self, text: str) -> None:
        print(text, flush=True)

    def skip(self, name: str, reason: str) -> None:
        if name in self.contenders and not any(s["contender"] == name for s in self.skipped):
            self.skipped.append({"contender": name, "reason": reason})
            self.log(f"skipping {name}: {reason}")

    def python_ok(self, code: str, extra_env: Optional[Dict[str, str]] = None) -> Optional[str]:
        """None if ``code`` runs in a worker's environment, else the error's last line."""
        env = dict(self.env, **(extra_env or {}))
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                              text=True, timeout=120, cwd=str(REPO))
        if done.returncode == 0:
            return None
        return (done.stderr.strip().splitlines() or ["failed"])[-1]

    # ------------------------------------------------------------ workers

    def profiles(self) -> List[str]:
        """The dev server profiles this run needs (one server process each), main first."""
        wanted = {self.scenarios[sid].profile for sid in self.sids}
        return [p for p in dict.fromkeys([self.args.profile, *sorted(wanted)]) if p in wanted]

    def run_worker(self, name: str, mode: str, sc: Scenario, target: dict,
                   stream: bool = False, variant: str = "") -> dict:
        self._tasks += 1
        task_path = self.tmp / f"task-{self._tasks}.json"
        result_path = self.tmp / f"result-{self._tasks}.json"
        task = {"contender": name, "mode": mode, "scenario": asdict(sc),
                "repeats": self.sizes.repeats, "target": target, "data_dir": str(self.tmp),
                "result_path": str(result_path), "verify": True,
                "iterate_sql": ITERATE_SQL.format(n=self.sizes.iterate_rows),
                "stream": stream, "variant": variant}
        task_path.write_text(json.dumps(task))
        env = dict(self.env, **dict(CONTENDERS[name].env))
        error = None
        try:
            done = subprocess.run([sys.executable, "-m", "benchmarks.worker", str(task_path)],
                                  cwd=str(REPO), env=env, capture_output=True, text=True,
                                  timeout=self.args.timeout)
            if done.returncode != 0 or not result_path.exists():
                lines = done.stderr.strip().splitlines() or [f"exit status {done.returncode}"]
                error = lines[-1]
        except subprocess.TimeoutExpired:
            error = f"timed out after {self.args.timeout:.0f} s"
        if error is not None:
            return {"contender": name, "scenario": sc.sid, "mode": mode, "variant": variant,
                    "error": error}
        return json.loads(result_path.read_text())


def _check_contenders(run: Run, pg: Optional[PostgresServer]) -> None:
    for name in run.contenders:
        spec = CONTENDERS[name]
        reason = None
        if spec.server == "devserver":
            reason = run.python_ok("import scratchbird; assert scratchbird.IMPL == "
                                   f"{dict(spec.env)['SCRATCHBIRD_IMPL']!r}", dict(spec.env))
        elif spec.server == "postgres":
            module = "psycopg" if spec.module == "psycopg_pg" else "asyncpg"
            if pg is None:
                reason = "no PostgreSQL server in this run"
            else:
                reason = run.python_ok(f"import {module}")
                if reason:
                    reason += " (pip install -r benchmarks/requirements.txt)"
        if reason:
            run.skip(name, reason)
        else:
            run.available[name] = {"label": spec.label, "server": spec.server}


def _start_postgres(run: Run) -> Optional[PostgresServer]:
    wanted = [n for n in run.contenders if CONTENDERS[n].server == "postgres"]
    if not wanted:
        return None
    if run.args.no_postgres:
        for name in wanted:
            run.skip(name, "--no-postgres")
        return None
    pg = PostgresServer(run.tmp, log=run.log)
    try:
        run.log("PostgreSQL: initdb and start ...")
        pg.start()
        run.log(f"PostgreSQL: {pg.version} on port {pg.port}; loading the data ...")
        pg.psql(datamod.postgres_script(run.data))
        return pg
    except PostgresUnavailable as exc:
        run.log(f"PostgreSQL unavailable: {exc}; going on without it")
        pg.stop()
        for name in wanted:
            run.skip(name, f"PostgreSQL unavailable: {exc}")
        return None


def _progress(run: Run, r: dict) -> None:
    if r.get("error"):
        run.log(f"  {r['scenario']:<3} {r['contender']:<19} ERROR {r['error']}")
    elif r.get("summary"):
        s = r["summary"]
        ok = "ok" if (r.get("check") or {}).get("ok") else "CHECK FAILED"
        run.log(f"  {r['scenario']:<3} {r['contender']:<19} {s['rate_cpu']['best']:>14,.0f}/s cpu "
                f"{s['rate_wall']['best']:>14,.0f}/s wall  {ok}")
    else:
        variant = f" {r['variant']}" if r.get("variant") else ""
        run.log(f"  {r['scenario']:<3} {r['contender']:<19} {r['mode']}{variant}: peak RSS growth "
                f"{r['peak_growth'] / 1e6:,.1f} MB for {r['rows']:,} rows")


def _target(targets: Dict[str, dict], name: str, sc: Scenario) -> dict:
    """Where contender ``name`` finds its server for scenario ``sc`` (the dev server of the
    scenario's profile, PostgreSQL, or nothing)."""
    server = CONTENDERS[name].server
    return targets["devserver"].get(sc.profile, {}) if server == "devserver" else targets[server]


def _measure(run: Run, targets: Dict[str, dict]) -> dict:
    results, memory = [], {}
    for sid in run.sids:
        sc = run.scenarios[sid]
        run.log(f"scenario {sid}: {sc.title}")
        for name in run.contenders:
            if name not in run.available:
                continue
            if CONTENDERS[name].server == "none" and not sc.floor:
                continue
            r = run.run_worker(name, "throughput", sc, _target(targets, name, sc))
            _progress(run, r)
            results.append(r)
    if run.memory:
        run.log("memory ...")
        plan = (("fetchall", [(n, False, "") for n in MEMORY_FETCHALL], "1"),
                ("fetchall_1a", [("scratchbird-c", False, ""), ("floor", False, "")], "1a"),
                ("iterate", MEMORY_ITERATE, "1"))
        for key, entries, sid in plan:
            mode = "mem_iterate" if key == "iterate" else "mem_fetchall"
            memory[key] = []
            for name, stream, variant in entries:
                if name in run.available:
                    sc = run.scenarios[sid]
                    r = run.run_worker(name, mode, sc, _target(targets, name, sc), stream,
                                       variant)
                    _progress(run, r)
                    memory[key].append(r)
    return {"results": results, "memory": memory}


def _notes(run: Run) -> List[str]:
    notes = [
        "Best = the minimum over the samples of each metric on its own (client CPU, wall); "
        "median = the median sample. Rates divide the units of one sample by those times.",
        "Client CPU = time.process_time() of the worker process alone; server CPU = the server "
        "process (dev server: all its threads; PostgreSQL: the connection's backend), from "
        "/proc/<pid>/task/*/schedstat over the same interval.",
        "Every (scenario, contender) runs in a fresh process, after one untimed warm-up whose "
        "result is checked against the expected Python rows ('check').",
        f"Dev server profile {run.args.profile}"
        + (" (today's server): text values only" if run.args.profile == PROFILE else "")
        + (f" for every scenario but 1b; 1b is served by a second dev server process with the "
           f"{BINARY_PROFILE} profile (binary values, negotiated by the driver itself)"
           if len(run.profiles()) > 1 else "")
        + ". The PostgreSQL drivers receive binary (asyncpg, psycopg-binary) or text "
        "(psycopg-text).",
        "Scenario 2: the sbsql server sends BLOB as 2 KiB of hex text, which scratchbird "
        "returns as str; the PostgreSQL drivers return 1 KiB bytes.",
        "The default cursor reads a whole result at execute(), so iterating it costs the "
        "memory of the whole result; cursor(stream=True) reads itersize rows at a time.",
        "This is a 2-core machine shared with other engineers' test suites: figures are noisy "
        "(see the load average).",
    ]
    if not run.args.no_cache:
        notes.append("The dev servers run with their result cache: a repeated SELECT is "
                     "re-framed from kept rows (binary results: the kept DATA_ROW frames are "
                     "re-stamped), DuckDB is not asked; PostgreSQL executes every query.")
    return notes


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    run = Run(args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.time()
    load_start = machine.load_average()
    pg: Optional[PostgresServer] = None
    servers: Dict[str, DevServerProcess] = {}
    try:
        run.log(f"generating the data in {run.tmp} ...")
        run.data = datamod.DataSet(run.tmp, run.sizes)
        run.data.write(set(run.sids) | ({"1a"} if run.memory else set()))
        datamod.load_duckdb(run.data, run.tmp / "bench.duckdb")
        pg = _start_postgres(run)
        _check_contenders(run, pg)
        server_impl = "c" if run.python_ok("import scratchbird; assert scratchbird.IMPL == 'c'",
                                           {"SCRATCHBIRD_IMPL": "c"}) is None else "python"
        dev: Dict[str, dict] = {}
        for k, profile in enumerate(run.profiles()):   # a process per profile: sbsql, full (1b)
            database = run.tmp / "bench.duckdb"
            if k:                            # DuckDB locks its file: a copy for each other
                database = run.tmp / f"bench-{profile}.duckdb"
                shutil.copyfile(run.tmp / "bench.duckdb", database)
            server = servers[profile] = DevServerProcess(
                database, dict(run.env, SCRATCHBIRD_IMPL=server_impl),
                run.tmp / f"devserver-{profile}.log", tls=args.tls,
                cache_results=not args.no_cache, profile=profile)
            dsn = server.start()
            dev[profile] = {"dsn": dsn, "server_pid": server.pid, "profile": profile}
            run.log(f"dev server ({profile}): pid {server.pid}, "
                    f"{dsn.split('?')[0].rsplit('@', 1)[-1]} "
                    f"(IMPL={server_impl}, cache {'off' if args.no_cache else 'on'})")
        targets = {"devserver": dev, "postgres": {"pg_dsn": pg.dsn if pg else None}, "none": {}}
        measured = _measure(run, targets)
    finally:
        for server in servers.values():
            server.stop()
        if pg is not None:
            pg.stop()
        if not args.keep:
            shutil.rmtree(run.tmp, ignore_errors=True)
    result = {
        "schema": 1,
        "started": datetime.datetime.fromtimestamp(started).isoformat(timespec="seconds"),
        "duration_s": round(time.time() - started, 1),
        "config": {"quick": args.quick, "profile": args.profile, "tls": args.tls,
                   "cache_results": not args.no_cache, "repeats": run.sizes.repeats,
                   "scenarios": run.sids, "sizes": asdict(run.sizes),
                   "dev_server_impl": server_impl,
                   "scenario_profiles": {s: run.scenarios[s].profile for s in run.sids},
                   "dev_servers": run.profiles()},
        "machine": machine.describe(pg.version if pg else None),
        "load_average": {"start": load_start, "end": machine.load_average()},
        "contenders": run.available,
        "skipped": run.skipped,
        "scenarios": [dict(asdict(run.scenarios[s]), units=run.scenarios[s].units)
                      for s in run.sids],
        **measured,
        "notes": _notes(run),
    }
    result["targets"] = evaluate(result)
    text = report.format_report(result)
    report.write_json(result, out / "results.json")
    (out / "results.txt").write_text(text + "\n")
    why = None if args.no_plot else report.plot(result, out / "results.png")
    print()
    print(text)
    print(f"\nwritten: {out / 'results.json'}, {out / 'results.txt'}"
          + ("" if args.no_plot or why else f", {out / 'results.png'}"))
    if why:
        print(why)
    return 0


if __name__ == "__main__":
    sys.exit(main())
