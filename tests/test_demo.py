"""The README's first command ends in ``python -m scratchbird.demo``: it must run, under the
implementation the suite runs with, and show what it says it shows."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"


def test_demo_runs_to_the_end():
    env = dict(os.environ, PYTHONPATH=str(SRC) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = subprocess.run([sys.executable, "-m", "scratchbird.demo"], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    assert "inserted 20 rows with executemany" in out
    assert "(16, 'item 16', Decimal('32.99'))" in out
    assert "duplicate key -> IntegrityError" in out
    assert "conn.load(): 10000 rows through COPY FROM STDIN" in out
    assert "prepared statement: [('item 20', Decimal('81.98'))]" in out
    assert "conn.fetch_arrow(): a pyarrow.Table of 10020 rows" in out
    assert out.rstrip().endswith("done.")
