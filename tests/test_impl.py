"""Choosing the implementation: SCRATCHBIRD_IMPL=c|python, and a missing build fails loudly."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import scratchbird

SRC = str(Path(scratchbird.__file__).resolve().parents[1])


def _run(code: str, impl: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, SCRATCHBIRD_IMPL=impl, PYTHONPATH=SRC)
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=60)


def test_impl_matches_environment():
    expected = os.environ.get("SCRATCHBIRD_IMPL", "c")
    assert scratchbird.IMPL == expected
    from scratchbird import _impl
    module = _impl.framing.__name__
    assert module == ("scratchbird._compiled.framing" if expected == "c" else "scratchbird._pure.framing")


def test_python_impl_uses_the_twins():
    out = _run("import scratchbird, scratchbird._impl as i; print(scratchbird.IMPL, i.rowcodec.__name__)",
               "python")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["python", "scratchbird._pure.rowcodec"]


def test_missing_build_fails_loudly():
    # Make the compiled module unimportable, as an unbuilt checkout would be.
    code = ("import sys; sys.modules['scratchbird._compiled.framing'] = None\n"
            "import scratchbird")
    out = _run(code, "c")
    assert out.returncode != 0
    assert "ImportError" in out.stderr
    assert "pip install -e ." in out.stderr and "SCRATCHBIRD_IMPL=python" in out.stderr


def test_unknown_impl_is_refused():
    out = _run("import scratchbird", "fortran")
    assert out.returncode != 0 and "SCRATCHBIRD_IMPL must be 'c' or 'python'" in out.stderr
