"""Smoke test of the benchmark harness (``python -m benchmarks``) on tiny sizes.

Runs the real pieces (data files, DuckDB load, the dev server processes with their result
cache: ``sbsql`` and, for scenario 1b, ``full`` with binary values; one worker process per
contender and scenario, memory measurement, report, JSON, plot) for scenarios 1, 1a, 1b
and 4 with 1,000 rows, scratchbird contenders and the floor only, no PostgreSQL. Asserts
the JSON's structure and that the figures are positive; never anything about time.
"""
from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

pytest.importorskip("duckdb")


def _compiled_built() -> bool:
    try:
        return importlib.util.find_spec("scratchbird._compiled.rowcodec") is not None
    except ImportError:
        return False


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from benchmarks.__main__ import main
    out = tmp_path_factory.mktemp("bench")
    contenders = ["scratchbird-python", "floor"] + (["scratchbird-c"] if _compiled_built() else [])
    code = main(["--quick", "--scenarios", "1,1a,1b,4", "--rows", "1000", "--iterate-rows", "3000",
                 "--repeats", "2", "--contenders", ",".join(contenders), "--no-postgres",
                 "--out", str(out), "--timeout", "300"])
    assert code == 0
    return out, json.loads((out / "results.json").read_text()), contenders


def test_outputs_are_written(run):
    out, _data, _contenders = run
    assert (out / "results.txt").read_text().startswith("scratchbird benchmark")
    png = out / "results.png"
    if importlib.util.find_spec("matplotlib") is not None:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_json_structure(run):
    _out, data, contenders = run
    for key in ("schema", "config", "machine", "load_average", "contenders", "skipped",
                "scenarios", "results", "memory", "targets", "notes"):
        assert key in data, key
    assert data["config"]["quick"] is True and data["config"]["profile"] == "sbsql"
    assert data["config"]["scenarios"] == ["1", "1a", "1b", "4"]
    assert data["config"]["dev_servers"] == ["sbsql", "full"]
    assert data["config"]["scenario_profiles"] == {"1": "sbsql", "1a": "sbsql", "1b": "full",
                                                   "4": "sbsql"}
    assert {"cpu", "cores", "memory_gib", "os", "python", "versions"} <= set(data["machine"])
    assert {"scratchbird", "duckdb", "postgresql", "cython"} <= set(data["machine"]["versions"])
    assert set(data["contenders"]) == set(contenders)
    assert [s["sid"] for s in data["scenarios"]] == ["1", "1a", "1b", "4"]


def test_throughput_figures_are_positive_and_checked(run):
    _out, data, contenders = run
    seen = set()
    for r in data["results"]:
        assert "error" not in r, r
        seen.add((r["scenario"], r["contender"]))
        assert r["check"]["ok"], r["check"]
        assert len(r["samples"]) == 2
        s = r["summary"]
        assert s["units"] == (1000 if r["scenario"] in ("1", "1a", "1b") else 2000)
        for key in ("rate_cpu", "rate_wall", "cpu_s", "wall_s"):
            assert s[key]["best"] > 0 and s[key]["median"] > 0
        assert s["rate_cpu"]["best"] >= s["rate_cpu"]["median"]
        if r["contender"] != "floor":
            assert s["server_share"] is not None and s["server_cpu_s"]["best"] >= 0
    drivers = [c for c in contenders if c != "floor"]
    expected = {(sid, c) for sid in ("1", "1a", "1b", "4") for c in drivers} | {("1a", "floor")}
    assert seen == expected


def test_scenario_1b_runs_on_the_binary_profile(run):
    """1b is served by the second dev server (profile full): the driver negotiated binary
    values by itself, and its rows (timestamps, uuids, decimals, NULL) passed the check."""
    _out, data, _contenders = run
    for r in data["results"]:
        if r["scenario"] == "1b":
            assert r["info"]["profile"] == "full" and "full profile" in r["info"]["server"]
            assert r["check"]["ok"] and r["summary"]["rate_cpu"]["best"] > 0
        else:
            assert r["info"].get("profile") in (None, "sbsql")
    assert "(1b: full)" in (_out / "results.txt").read_text().splitlines()[0]


def test_memory_figures(run):
    _out, data, contenders = run
    memory = data["memory"]
    assert set(memory) == {"fetchall", "fetchall_1a", "iterate"}
    for entry in memory["fetchall"] + memory["fetchall_1a"]:
        assert "error" not in entry, entry
        assert entry["rows"] == 1000 and entry["objects_bytes"] > 0
        assert entry["peak_growth"] >= 0
    for entry in memory["iterate"]:
        assert "error" not in entry, entry
        assert entry["rows"] == 3000


def test_targets_are_ratios_with_a_status(run):
    _out, data, contenders = run
    targets = {t["id"]: t for t in data["targets"]}
    assert set(targets) == {"T1", "T2", "T3", "T4", "T5", "T6", "T7", "T8"}
    for t in targets.values():
        assert t["status"] in ("PASS", "MISS", "N/A")
    assert targets["T1"]["status"] == "N/A"            # no PostgreSQL in this run
    assert targets["T3"]["status"] == "N/A"
    assert targets["T6"]["status"] == "N/A"            # asyncpg needs PostgreSQL
    assert targets["T7"]["status"] == targets["T8"]["status"] == "N/A"   # no 4b, 5b here
    if "scratchbird-c" in contenders:
        assert targets["T2"]["value"] > 0 and targets["T2"]["status"] in ("PASS", "MISS")
        assert targets["T5"]["value"] > 0


def test_without_postgres_the_run_goes_on_and_says_why(monkeypatch, tmp_path):
    """No pg_ctl/initdb and not root: no apt-get; the PostgreSQL contenders are skipped
    with the reason and the others still run."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from benchmarks import postgres
    from benchmarks.__main__ import main
    monkeypatch.setattr(postgres, "find_bindir", lambda: None)
    monkeypatch.setattr(postgres.os, "geteuid", lambda: 1000)
    with pytest.raises(postgres.PostgresUnavailable, match="not root"):
        postgres.PostgresServer(tmp_path / "pg").start()
    out = tmp_path / "out"
    assert main(["--quick", "--scenarios", "4", "--repeats", "1", "--no-plot",
                 "--contenders", "scratchbird-python,psycopg-text", "--out", str(out)]) == 0
    data = json.loads((out / "results.json").read_text())
    assert [s["contender"] for s in data["skipped"]] == ["psycopg-text"]
    assert "not root" in data["skipped"][0]["reason"]
    assert [r["contender"] for r in data["results"]] == ["scratchbird-python"]
    assert data["results"][0]["summary"]["rate_cpu"]["best"] > 0
