"""Smoke test of ``python -m benchmarks.columnar`` (scenarios 7 and 7b, the stream memory
child) on tiny sizes, without PostgreSQL: the figures exist and are positive. Never
anything about time."""
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
                 "--no-postgres", "--out", str(tmp_path)]) == 0
    results = json.loads((tmp_path / "columnar.json").read_text())
    figures = results["figures"]
    for profile in ("sbsql", "full"):
        cpu, wall, rows = figures[f"7 scratchbird-{results['impl']} {profile} fetch_arrow"]
        assert rows == 2000 and cpu > 0 and wall > 0
        assert figures[f"T13 stream 20,000 rows {profile}: peak RSS growth MB"] >= 0
    assert "fetch_arrow" in (tmp_path / "columnar.txt").read_text()
