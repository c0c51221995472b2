"""T9-T13 of benchmarks/columnar_targets.py on made-up figures: PASS and MISS by the ratio
rule, N/A without a peer, INVALID when a figure's rows were wrong or never checked. The
figures are invented inputs to the arithmetic; nothing here is timed."""
from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.columnar_targets import evaluate, report_lines  # noqa: E402

OK = {"ok": True, "failed": "", "samples": 1}


def _results(**over):
    figures = {
        # (client CPU s, wall s, rows)
        "7 scratchbird-c full fetch_arrow": (1.0, 2.0, 1000),
        "7 adbc fetch_arrow_table": (2.0, 2.0, 1000),              # 2.00x: PASS (>= 1.2)
        "7b scratchbird-c full fetch_arrow+to_pandas": (1.0, 2.0, 1000),
        "7b adbc fetch_arrow_table+to_pandas": (1.1, 2.0, 1000),   # 1.10x: MISS
        "8 scratchbird-c full load tuples": (1.0, 5.0, 1000),
        "8 asyncpg copy_records_to_table": (1.0, 1.0, 1000),       # 1.00x: PASS (>= 1.0)
        "8b scratchbird-c full load arrow": (1.0, 5.0, 1000),
        "8b adbc adbc_ingest": (3.0, 1.0, 1000),                   # 3.00x: PASS (>= 2.0)
    }
    results = {"impl": "c", "figures": figures, "checks": {name: OK for name in figures},
               "export": {"growth_mb": 120.0, "rows": 10_000_000, "ok": True, "failed": ""}}
    results.update(over)
    return results


def _by_id(results):
    return {t["id"]: t for t in evaluate(results)}


def test_ratios_pass_and_miss_by_client_cpu():
    t = _by_id(_results())
    assert [t[k]["status"] for k in ("T9", "T10", "T11", "T12", "T13")] == \
        ["PASS", "MISS", "PASS", "PASS", "PASS"]
    assert round(t["T9"]["value"], 2) == 2.0 and round(t["T10"]["value"], 2) == 1.1
    assert round(t["T12"]["value"], 2) == 3.0 and t["T13"]["value"] == 120.0


def test_a_wrong_or_unchecked_figure_makes_its_target_invalid():
    results = _results()
    results["checks"]["8 asyncpg copy_records_to_table"] = {"ok": False, "failed": "count 999"}
    del results["checks"]["8b scratchbird-c full load arrow"]
    results["export"]["ok"], results["export"]["failed"] = False, "9 rows x 5 columns"
    t = _by_id(results)
    assert t["T11"]["status"] == "INVALID" and "WRONG results (count 999)" in t["T11"]["detail"]
    assert t["T12"]["status"] == "INVALID" and "not checked" in t["T12"]["detail"]
    assert t["T13"]["status"] == "INVALID" and "9 rows x 5 columns" in t["T13"]["detail"]
    assert t["T9"]["status"] == "PASS"          # the others keep their status


def test_missing_peers_are_not_applicable_and_export_over_the_limit_misses():
    results = _results(export={"growth_mb": 250.0, "rows": 20000, "ok": True, "failed": ""})
    del results["figures"]["8b adbc adbc_ingest"]
    results["figures"]["7 adbc fetch_arrow_table"] = "not installed: no adbc"
    t = _by_id(results)
    assert t["T9"]["status"] == "N/A" and t["T12"]["status"] == "N/A"
    assert t["T13"]["status"] == "MISS" and "stand in for 10,000,000" in t["T13"]["detail"]
    assert _by_id(_results(export=None))["T13"]["status"] == "N/A"
    lines = report_lines(evaluate(results))
    assert lines[0].startswith("| id |") and len(lines) == 2 + 5
