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


# ---------------------------------------------------------------- checks and INVALID targets
# Fabricated contenders and results: the logic, not a timed run.


def _bench_modules():
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from benchmarks import targets, worker
    from benchmarks.contenders import Contender
    from benchmarks.scenarios import Scenario
    return targets, worker, Contender, Scenario


def _scripted_contender(Contender, wrong_calls):
    """Right rows on every call but those in ``wrong_calls`` (1 is the warm-up)."""
    class Scripted(Contender):
        calls = 0

        def fetch(self, sql):
            type(self).calls += 1
            return [(1, "a"), (2, "WRONG" if self.calls in wrong_calls else "b")]
    return Scripted({})


@pytest.mark.parametrize("wrong_calls,failed", [
    ((), None), ((1,), "warm-up"), ((2,), "first timed"), ((4,), "last timed"), ((3,), None),
])
def test_worker_checks_the_warm_up_and_the_first_and_last_timed_samples(tmp_path, wrong_calls,
                                                                        failed):
    import pickle
    _targets, worker, Contender, Scenario = _bench_modules()
    (tmp_path / "expected_x.pickle").write_bytes(pickle.dumps([(1, "a"), (2, "b")]))
    sc = Scenario(sid="x", title="t", kind="fetch", unit="rows", sql="SELECT", rows=2)
    c = _scripted_contender(Contender, set(wrong_calls))
    result = worker._throughput(c, sc, {"repeats": 3, "data_dir": str(tmp_path)})
    assert c.calls == 4 and len(result["samples"]) == 3
    check = result["check"]
    assert set(check["samples"]) == {"warm-up", "first timed", "last timed"}
    assert check["ok"] is (failed is None)      # a wrong middle sample (call 3) is not seen
    assert check.get("failed") == failed
    if failed:
        assert check["first_difference"]["got"] == "(2, 'WRONG')"


def _fabricated_run(checks):
    """Results of scenarios 1a and 1 in which scratchbird-c meets T1 and T2."""
    def row(sid, contender, cpu):
        return {"scenario": sid, "contender": contender, "check": checks.get((sid, contender),
                                                                             {"ok": True}),
                "summary": {"cpu_s": {"best": cpu}, "rate_cpu": {"best": 1000 / cpu},
                            "rate_wall": {"best": 1000 / cpu}}}
    return {"results": [row("1a", "scratchbird-c", 1.0), row("1a", "floor", 1.0),
                        row("1", "scratchbird-c", 1.0), row("1", "psycopg-text", 2.0)],
            "memory": {}}


def test_targets_pass_when_every_row_was_checked_ok():
    targets, *_ = _bench_modules()
    status = {t["id"]: t["status"] for t in targets.evaluate(_fabricated_run({}))}
    assert status["T1"] == "PASS" and status["T2"] == "PASS" and status["T3"] == "N/A"


@pytest.mark.parametrize("bad_check,why", [
    ({"ok": False, "what": "rows", "failed": "last timed"}, "WRONG results (last timed)"),
    (None, "not checked"),
])
def test_a_target_made_of_a_wrong_or_unchecked_row_is_invalid(bad_check, why):
    targets, *_ = _bench_modules()
    run = _fabricated_run({("1a", "floor"): bad_check})
    result = {t["id"]: t for t in targets.evaluate(run)}
    assert result["T2"]["status"] == "INVALID"
    assert f"1a floor: {why}" in result["T2"]["detail"]
    assert result["T1"]["status"] == "PASS"        # its rows were fine
    run = _fabricated_run({("1", "scratchbird-c"): bad_check})
    assert {t["id"]: t["status"] for t in targets.evaluate(run)}["T1"] == "INVALID"


def test_combine_checks_keeps_the_first_failure():
    _targets, worker, *_ = _bench_modules()
    combined = worker.combine_checks({"warm-up": {"ok": True, "what": "2 rows"},
                                      "first timed": {"ok": False, "what": "2 rows", "got_rows": 1},
                                      "last timed": {"ok": False, "what": "2 rows", "got_rows": 0}})
    assert combined == {"ok": False, "what": "2 rows", "failed": "first timed", "got_rows": 1,
                        "samples": {"warm-up": True, "first timed": False, "last timed": False}}
