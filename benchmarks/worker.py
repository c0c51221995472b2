"""One contender, one scenario, in a fresh process: ``python -m benchmarks.worker TASK.json``.

The orchestrator (``benchmarks.__main__``) writes the task and reads the result file the
worker writes. A fresh process per task isolates the implementation choice
(``SCRATCHBIRD_IMPL`` is read at import) and the memory of each measurement.

Modes:

* ``throughput``: one untimed warm-up (it also fills the dev server's result cache), then
  ``repeats`` timed samples. What the warm-up, the first and the last timed sample
  returned is checked against the expected rows, outside the clocks: for scratchbird-c
  the timed samples are replayed from the dev server's cache, so checking only the
  warm-up would leave the measured results unchecked;
* ``mem_fetchall``: peak RSS growth of one ``fetchall()`` against the size of the Python
  objects it returned;
* ``mem_iterate``: peak RSS growth while iterating a large result row by row (with the
  driver's streaming cursor when the task says ``stream``).
"""
from __future__ import annotations

import gc
import json
import pickle
import random
import sys
import time
import traceback
from pathlib import Path
from typing import Callable, Dict, Optional, Tuple

from . import measure
from .contenders import Contender, load
from .data import insert_rows
from .scenarios import INSERT_COLUMNS, Scenario

__all__ = ["main", "run_task", "combine_checks"]


def _operation(c: Contender, sc: Scenario) -> Tuple[Callable, Optional[Callable]]:
    """(timed operation, untimed step before each sample) for the scenario."""
    if sc.kind == "fetch":
        return (lambda: c.fetch_repeated(sc.sql, sc.inner)), None
    if sc.kind == "roundtrip":
        return (lambda: (c.round_trips(sc.rows), None)), None
    if sc.kind == "prepared":
        ids = random.Random(4).choices(range(1000), k=sc.rows)
        return (lambda: (len(ids), c.prepared_lookups(sc.sql, ids))), None
    if sc.kind in ("insert", "insert_columns"):
        rows = insert_rows(sc.rows)
        columns = [name for name, _type in INSERT_COLUMNS]
        listed = sc.kind == "insert_columns"
        return ((lambda: (c.insert_many(sc.table, columns, rows, listed), None)),
                (lambda: c.execute(f"DELETE FROM {sc.table}")))
    raise ValueError(f"unknown scenario kind {sc.kind!r}")


def _check(c: Contender, sc: Scenario, product, data_dir: Optional[str]) -> dict:
    """Compare what one execution returned with what it must return."""
    if sc.kind == "roundtrip":
        got = c.as_tuples(sc.sid, c.fetch("SELECT 1"))
        return {"ok": got == [(1,)], "what": "SELECT 1 gives [(1,)]"}
    if sc.kind == "prepared":
        got = c.as_tuples(sc.sid, c.prepared_lookups(sc.sql, [7]))
        return {"ok": [tuple(r)[:2] for r in got] == [(7, "item 7")],
                "what": "id 7 gives (7, 'item 7', 8.75)", "got": str(got)[:200]}
    if sc.kind in ("insert", "insert_columns"):
        got = c.as_tuples(sc.sid, c.fetch(f"SELECT count(*) FROM {sc.table}"))
        return {"ok": got == [(sc.rows,)], "what": f"{sc.rows} rows inserted", "got": str(got)}
    path = Path(data_dir or ".") / f"expected_{sc.sid}.pickle"
    with open(path, "rb") as f:
        expected = pickle.load(f)
    got = c.as_tuples(sc.sid, product)
    ok = got == expected
    if not ok and len(got) == len(expected):          # same rows in another order?
        ok = sorted(got, key=lambda r: r[0]) == expected
    out = {"ok": ok, "what": f"{len(expected)} rows equal to the expected Python rows"}
    if not ok:
        bad = next((k for k, (a, b) in enumerate(zip(got, expected)) if a != b), None)
        out["got_rows"] = len(got)
        if bad is not None:
            out["first_difference"] = {"row": bad, "got": repr(got[bad])[:300],
                                       "expected": repr(expected[bad])[:300]}
    return out


def combine_checks(checks: Dict[str, dict]) -> dict:
    """One check from the checks of several executions: ok only if every one is ok;
    ``samples`` says which were checked and how each went."""
    first_bad = next((name for name, chk in checks.items() if not chk["ok"]), None)
    out = {"ok": first_bad is None, "what": next(iter(checks.values()))["what"],
           "samples": {name: chk["ok"] for name, chk in checks.items()}}
    if first_bad is not None:
        out["failed"] = first_bad
        out.update({k: v for k, v in checks[first_bad].items() if k not in ("ok", "what")})
    return out


def _throughput(c: Contender, sc: Scenario, task: dict) -> dict:
    data_dir = task.get("data_dir")
    repeats = int(task["repeats"])
    verify = task.get("verify", True)
    c.prepare(sc, data_dir)
    op, between = _operation(c, sc)
    if between is not None:
        between()
    w0 = time.perf_counter()
    _units, product = op()                         # warm-up: untimed
    warmup = time.perf_counter() - w0
    checks: Dict[str, dict] = {}
    if verify:
        checks["warm-up"] = _check(c, sc, product, data_dir)
    del product
    gc.collect()

    # The first and the last timed sample keep what they returned; it is checked before
    # the next sample starts (an INSERT scenario's table is still full then), untimed.
    wanted = {1: "first timed", repeats: "last timed"} if verify else {}
    kept: Dict[str, object] = {}
    done = [0]

    def sample():
        units, product = op()
        done[0] += 1
        if done[0] in wanted:
            kept[wanted[done[0]]] = product
        return units, product

    def check_kept() -> None:
        for name in list(kept):
            checks[name] = _check(c, sc, kept.pop(name), data_dir)

    def before_sample() -> None:
        check_kept()
        if between is not None:
            between()

    samples = measure.time_samples(sample, repeats, c.server_pid, before_sample)
    check_kept()
    return {"samples": [s.as_dict() for s in samples], "summary": measure.summarize(samples),
            "check": combine_checks(checks) if checks else None, "warmup_wall_s": warmup}


def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark (VmHWM) of this process; True if it worked."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _peak() -> int:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return measure.peak_rss_bytes()


def _memory(c: Contender, sc: Scenario, task: dict, mode: str) -> dict:
    c.prepare(sc, task.get("data_dir"))
    gc.collect()
    reset = _reset_peak()
    base = measure.rss_bytes()
    w0, c0 = time.perf_counter(), time.process_time()
    if mode == "mem_iterate":
        rows = None
        count = c.iterate(task["iterate_sql"], stream=bool(task.get("stream")))
    else:
        rows = c.fetch(sc.sql)
        count = len(rows)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    peak = _peak()
    after = measure.rss_bytes()
    out = {"rows": count, "rss_before": base, "peak_growth": peak - base,
           "retained_growth": after - base, "peak_reset": reset, "wall_s": wall, "cpu_s": cpu}
    if rows is not None:
        out["objects_bytes"] = measure.deep_size(rows)
        out["ratio"] = out["peak_growth"] / out["objects_bytes"] if out["objects_bytes"] else None
    return out


def run_task(task: dict) -> dict:
    sc = Scenario(**task["scenario"])
    c = load(task["contender"], task.get("target") or {})
    try:
        result = {"contender": task["contender"], "scenario": sc.sid, "mode": task["mode"],
                  "info": c.info(), "variant": task.get("variant", "")}
        if task["mode"] == "throughput":
            result.update(_throughput(c, sc, task))
        else:
            result.update(_memory(c, sc, task, task["mode"]))
        return result
    finally:
        c.close()


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    task = json.loads(Path(argv[0]).read_text())
    try:
        result = run_task(task)
    except Exception:
        traceback.print_exc()
        return 1
    Path(task["result_path"]).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
