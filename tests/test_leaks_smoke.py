"""Smoke test of ``python -m benchmarks.leaks`` (the long loops; figures in
benchmarks/README.md): a few iterations of three loops run and report flat memory."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_leak_loops_run_and_stay_flat():
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT)]))
    proc = subprocess.run([sys.executable, "-m", "benchmarks.leaks", "--iterations", "200",
                           "--loops", "connect_plain,decoder_errors,prepare_close"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = [line for line in proc.stdout.splitlines() if line.startswith(("connect_", "decoder_", "prepare_"))]
    assert len(lines) == 3 and all(line.endswith("yes") for line in lines), proc.stdout
