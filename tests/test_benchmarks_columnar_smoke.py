"""Smoke test of ``python -m benchmarks.columnar`` (scenarios 7, 7b, 8, 8b, the stream and
export memory children, targets T9-T13) on tiny sizes, without PostgreSQL: the figures exist
and are positive, the loads were verified. Never anything about time."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

pytest.importorskip("pyarrow", reason="pyarrow is in the test extra")
pytest.importorskip("pandas", reason="pandas is in the test extra")


def test_columnar_benchmark_runs_on_tiny_sizes(tmp_path):
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from benchmarks.columnar import main
    assert main(["--rows", "2000", "--repeats", "1", "--stream-rows", "20000",
                 "--export-rows", "20000", "--no-postgres", "--out", str(tmp_path)]) == 0
    results = json.loads((tmp_path / "columnar.json").read_text())
    figures = results["figures"]
    for profile in ("sbsql", "full"):
        cpu, wall, rows = figures[f"7 scratchbird-{results['impl']} {profile} fetch_arrow"]
        assert rows == 2000 and cpu > 0 and wall > 0
        assert figures[f"T13 stream 20,000 rows {profile}: peak RSS growth MB"] >= 0
        for name in (f"8 scratchbird-{results['impl']} {profile} load tuples",
                     f"8b scratchbird-{results['impl']} {profile} load arrow"):
            cpu, wall, rows = figures[name]
            assert rows == 2000 and cpu > 0 and wall > 0
            assert results["checks"][name]["ok"], results["checks"][name]
    export = results["export"]           # T13's child: the Parquet file was verified
    assert export["ok"] and export["rows"] == 20000 and export["growth_mb"] >= 0
    text = (tmp_path / "columnar.txt").read_text()
    assert "fetch_arrow" in text and "load tuples" in text
    # no PostgreSQL: the ratio targets have no peer (N/A), T13 has its figure
    for tid in ("T9", "T10", "T11", "T12"):
        assert f"| {tid} |" in text and "N/A" in text.split(f"| {tid} |")[1].split("\n")[0]
    t13 = text.split("| T13 |")[1].split("\n")[0]
    assert "PASS" in t13 or "MISS" in t13
