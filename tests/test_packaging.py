"""Packaging end to end: build the sdist, build the wheel from that sdist (so a file missing
from the sdist fails the build), `twine check` both, install the wheel into a fresh venv (no
system site-packages) and run a smoke test there against a dev server: every .pyx/.pxi in the
sdist, every .pyi, py.typed and the SQLAlchemy entry point in the wheel, the compiled modules
importable from the install, and a real query over TLS.

About two minutes (the extensions are compiled once more), so it runs once, under
SCRATCHBIRD_IMPL=c: the wheel does not depend on the implementation a test run selects."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import textwrap
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.packaging

_IGNORE = shutil.ignore_patterns(".git", "build", "dist", "*.egg-info", "__pycache__", "*.so",
                                 "*.c", ".pytest_cache", ".hypothesis", "results", ".venv")

SMOKE = textwrap.dedent('''
    import importlib.metadata as md, json, sys
    from pathlib import Path
    import scratchbird
    from scratchbird.devserver import DevServer
    pkg = Path(scratchbird.__file__).parent
    assert "site-packages" in str(pkg), pkg
    assert scratchbird.IMPL == "c", scratchbird.IMPL
    from scratchbird._compiled import bincodec, framing, literals, rowcodec
    assert all(str(m.__file__).startswith(str(pkg)) for m in (bincodec, framing, literals, rowcodec))
    stubs = sorted(p.name for p in (pkg / "_compiled").glob("*.pyi"))
    eps = sorted(e.name for e in md.entry_points(group="sqlalchemy.dialects")
                 if e.value.startswith("scratchbird."))
    rows = {}
    for profile in ("sbsql", "full"):
        with DevServer(profile=profile) as srv:
            with scratchbird.connect(srv.dsn) as conn:
                cur = conn.cursor()
                cur.execute("SELECT 6 * 7 AS answer, 'ok' AS word")
                rows[profile] = [list(r) for r in cur.fetchall()]
    print(json.dumps({"version": scratchbird.__version__, "stubs": stubs,
                      "typed": (pkg / "py.typed").exists(), "entry_points": eps, "rows": rows,
                      "devserver": (pkg / "devserver" / "_engine.py").exists()}))
''')


def _run(cmd, cwd=None, timeout=600, env=None):
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env)
    assert proc.returncode == 0, f"{cmd[:4]} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    if os.environ.get("SCRATCHBIRD_IMPL", "c") == "python":
        pytest.skip("the wheel is the same for both implementations: built and checked once, "
                    "in the SCRATCHBIRD_IMPL=c run")
    pytest.importorskip("build", reason="the packaging test needs the 'build' package")
    tmp = tmp_path_factory.mktemp("pkg")
    source = tmp / "source"
    shutil.copytree(REPO, source, ignore=_IGNORE)     # leave the working tree untouched
    out = tmp / "dist"
    # sdist first, then the wheel built from the unpacked sdist (python -m build's default);
    # --no-isolation reuses this environment's setuptools and Cython (the test extra has them)
    _run([sys.executable, "-m", "build", "--no-isolation", "--outdir", out, source], timeout=900)
    return out


def _one(dist: Path, pattern: str) -> Path:
    found = sorted(dist.glob(pattern))
    assert len(found) == 1, found
    return found[0]


def test_sdist_ships_every_source_the_build_needs(dist):
    sdist = _one(dist, "scratchbird-*.tar.gz")
    with tarfile.open(sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    for pattern in ("ext/*.pyx", "ext/*.pxi", "src/scratchbird/**/*.pyi", "src/scratchbird/**/*.py"):
        for path in REPO.glob(pattern):
            assert str(path.relative_to(REPO)).replace(os.sep, "/") in names, path
    assert {"src/scratchbird/py.typed", "setup.py", "pyproject.toml", "README.md"} <= names


def test_wheel_holds_compiled_modules_stubs_and_data(dist):
    wheel = _one(dist, "scratchbird-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        entry_points = next(zf.read(n).decode() for n in names if n.endswith("entry_points.txt"))
    for pyx in (REPO / "ext").glob("*.pyx"):
        assert any(n.startswith(f"scratchbird/_compiled/{pyx.stem}.") and n.endswith((".so", ".pyd"))
                   for n in names), pyx.stem
        assert f"scratchbird/_compiled/{pyx.stem}.pyi" in names
    assert "scratchbird/py.typed" in names
    for py in (REPO / "src" / "scratchbird").rglob("*.py"):
        assert str(py.relative_to(REPO / "src")).replace(os.sep, "/") in names, py
    assert "scratchbird = scratchbird.sqlalchemy.dialect:ScratchbirdDialect" in entry_points
    assert ("scratchbird.async = scratchbird.sqlalchemy.asyncio_dialect:ScratchbirdAsyncDialect"
            in entry_points)


def test_twine_check_passes(dist):
    pytest.importorskip("twine", reason="the packaging test needs twine")
    out = _run([sys.executable, "-m", "twine", "check", "--strict", *sorted(dist.iterdir())])
    assert out.count("PASSED") == 2


def test_wheel_installs_into_a_fresh_venv_and_talks_to_a_dev_server(dist, tmp_path):
    import json

    wheel = _one(dist, "scratchbird-*.whl")
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", venv])          # no --system-site-packages
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    # runtime deps and DuckDB (the devserver extra) come from the package index or pip's cache
    _run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
          f"{wheel}[devserver]"], timeout=900)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SCRATCHBIRD_IMPL")}
    report = json.loads(_run([python, "-c", SMOKE], cwd=tmp_path, env=env).strip().splitlines()[-1])
    from scratchbird._version import __version__
    assert report["version"] == __version__
    assert report["stubs"] == sorted(p.stem + ".pyi" for p in (REPO / "ext").glob("*.pyx"))
    assert report["typed"] and report["devserver"]
    assert report["entry_points"] == ["scratchbird", "scratchbird.async", "scratchbird.scratchbird"]
    assert report["rows"] == {"sbsql": [[42, "ok"]], "full": [[42, "ok"]]}
