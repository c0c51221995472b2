"""T9-T13 (issue 9) from one ``python -m benchmarks.columnar`` run: ratios of client-CPU
figures measured in the same run, PASS or MISS, N/A when a figure is missing, and INVALID
when a figure the target is made of was not verified correct (its ``check`` failed or is
absent), as T1-T8 in benchmarks/targets.py.

Never a timed test: a MISS is a figure to act on.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple

from benchmarks.targets import check_problem

__all__ = ["evaluate", "TARGETS"]

# id, title, our figure (by suffix after "scratchbird-<impl> "), peer figures, minimum ratio
TARGETS: Sequence[Tuple[str, str, str, Sequence[str], float]] = (
    ("T9", "scenario 7 (full): fetch_arrow vs ADBC fetch_arrow_table",
     "7 scratchbird-{impl} full fetch_arrow", ("7 adbc fetch_arrow_table",), 1.2),
    ("T10", "scenario 7b (full): fetch_arrow+to_pandas vs ADBC then to_pandas",
     "7b scratchbird-{impl} full fetch_arrow+to_pandas",
     ("7b adbc fetch_arrow_table+to_pandas",), 1.2),
    ("T11", "scenario 8 (full): conn.load of tuples vs asyncpg copy_records_to_table",
     "8 scratchbird-{impl} full load tuples", ("8 asyncpg copy_records_to_table",), 1.0),
    ("T12", "scenario 8b (full): conn.load of an Arrow table vs ADBC adbc_ingest",
     "8b scratchbird-{impl} full load arrow", ("8b adbc adbc_ingest",), 2.0),
)
T13_LIMIT_MB = 200.0


def _figure(figures: dict, name: str) -> Optional[tuple]:
    fig = figures.get(name)
    return tuple(fig) if isinstance(fig, (list, tuple)) else None


def _target(tid, title, rule, value, ok, detail) -> Dict[str, object]:
    status = "N/A" if ok is None else ("PASS" if ok else "MISS")
    return {"id": tid, "title": title, "rule": rule, "value": value, "status": status,
            "detail": detail}


def _unverified(checks: dict, names: List[str]) -> List[str]:
    problems = (check_problem(name, checks.get(name)) for name in names)
    return [problem for problem in problems if problem]


def evaluate(results: dict) -> List[Dict[str, object]]:
    figures, checks = results.get("figures", {}), results.get("checks", {})
    impl = results.get("impl", "c")
    out = []
    for tid, title, ours_name, peer_names, minimum in TARGETS:
        ours_name = ours_name.format(impl=impl)
        ours = _figure(figures, ours_name)
        peer_name = next((p for p in peer_names if _figure(figures, p)), None)
        rule = f"ratio >= {minimum:.2f}"
        if ours is None or peer_name is None:
            out.append(_target(tid, title, rule, None, None,
                               f"needs {ours_name} and {' or '.join(peer_names)}"))
            continue
        peer = _figure(figures, peer_name)
        # rows per client-CPU second, ours over the peer's
        value = (ours[2] / ours[0]) / (peer[2] / peer[0])
        target = _target(tid, title, rule, value, value >= minimum,
                         f"{ours[2] / ours[0]:,.0f} vs {peer[2] / peer[0]:,.0f} rows/s of "
                         f"client CPU; by wall {(ours[2] / ours[1]) / (peer[2] / peer[1]):.2f}x")
        bad = _unverified(checks, [ours_name, peer_name])
        if bad:
            target["status"] = "INVALID"
            target["detail"] += f"; not a valid figure: {'; '.join(bad)}"
        out.append(target)
    export = results.get("export")
    rule = f"< {T13_LIMIT_MB:.0f} MB"
    if not export or export.get("growth_mb") is None:
        failed = (export or {}).get("failed") or "needs the export memory child (--export-rows)"
        out.append(_target("T13", "scratchbird export to Parquet: peak RSS growth", rule, None,
                           None, " ".join(failed.split())[:200]))
    else:
        mb, rows = export["growth_mb"], export["rows"]
        stand_in = "" if rows >= 10_000_000 else f" ({rows:,} rows stand in for 10,000,000)"
        target = _target("T13", "scratchbird export of 10M rows to Parquet: peak RSS growth",
                         rule, mb, mb < T13_LIMIT_MB,
                         f"peak RSS grew {mb:,.1f} MB exporting {rows:,} rows{stand_in}")
        if not export.get("ok"):
            target["status"] = "INVALID"
            target["detail"] += f"; not a valid figure: the file is wrong ({export.get('failed')})"
        out.append(target)
    return out


def report_lines(targets: List[Dict[str, object]]) -> List[str]:
    lines = ["| id | target | rule | value | status | detail |",
             "| --- | --- | --- | ---: | --- | --- |"]
    for t in targets:
        value = "" if t["value"] is None else f"{t['value']:.2f}"
        lines.append(f"| {t['id']} | {t['title']} | {t['rule']} | {value} | {t['status']} | "
                     f"{t['detail']} |")
    return lines
