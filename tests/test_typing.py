"""mypy --strict as a test (issue 12), and the typed usage example run for real.

One mypy run checks ``src/scratchbird`` and ``examples/typed_usage.py`` together, with the
configuration in pyproject.toml (strict; the dev server's looser override and its reason
are written there) and its cache in a temporary directory, so every run is a cold one.
The two verdicts are read apart: an error inside the package does not fail the example's
check, and the reverse. The example is then run against the dev server, both profiles.
"""
from __future__ import annotations

import os
import re
import runpy
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "src/scratchbird"
EXAMPLE = "examples/typed_usage.py"
_ERROR_LINE = re.compile(r"^(?P<path>[^:\n]+\.pyi?):\d+: error: ", re.M)

# The type check reads source files only: it does not depend on the implementation, so it
# runs once, under the compiled one (the suite runs under both).
static_only_once = pytest.mark.skipif(
    os.environ.get("SCRATCHBIRD_IMPL", "c") == "python",
    reason="mypy checks the same source under both implementations: run under SCRATCHBIRD_IMPL=c")


@pytest.fixture(scope="module")
def mypy_report(tmp_path_factory: pytest.TempPathFactory) -> str:
    pytest.importorskip("mypy", reason="mypy is in the test extra (pip install '.[test]')")
    cache = tmp_path_factory.mktemp("mypy_cache")
    cmd = [sys.executable, "-m", "mypy", "--strict", "--config-file", str(ROOT / "pyproject.toml"),
           "--cache-dir", str(cache), "--show-error-codes", "--no-color-output", PACKAGE, EXAMPLE]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    if done.returncode not in (0, 1):           # 2: mypy itself failed (bad config, crash)
        pytest.fail(f"mypy did not run (exit {done.returncode}):\n{done.stdout}{done.stderr}")
    return done.stdout


def _errors_under(report: str, prefix: str) -> list[str]:
    return [line for line in report.splitlines()
            if (m := _ERROR_LINE.match(line)) and m.group("path").replace(os.sep, "/").startswith(prefix)]


@static_only_once
def test_package_passes_mypy_strict(mypy_report: str) -> None:
    errors = _errors_under(mypy_report, PACKAGE + "/")
    assert not errors, f"{len(errors)} mypy --strict errors in {PACKAGE}:\n{mypy_report}"


@static_only_once
def test_dev_server_passes_mypy_with_its_override(mypy_report: str) -> None:
    errors = _errors_under(mypy_report, PACKAGE + "/devserver/")
    assert not errors, "\n".join(errors)


@static_only_once
def test_typed_usage_example_passes_mypy_strict(mypy_report: str) -> None:
    errors = _errors_under(mypy_report, EXAMPLE)
    assert not errors, "\n".join(errors)
    # mypy's summary line proves it checked the files ("Success: no issues found in N
    # source files" or "Found E errors in F files (checked N source files)")
    assert re.search(r"\b\d+ source files", mypy_report), mypy_report


def test_typed_usage_example_runs(devserver, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("pyarrow", reason="the example's fetch_arrow needs pyarrow (the arrow extra)")
    pytest.importorskip("greenlet", reason="the example's asyncio part needs greenlet (the async extra)")
    example = runpy.run_path(str(ROOT / EXAMPLE), run_name="typed_usage")
    example["main"](devserver.dsn)
    printed = dict(line.split(": ", 1) for line in capsys.readouterr().out.splitlines())
    assert printed == {
        "count": "3",
        "under 5": "['pen', 'ink']",
        "item 2": "INK",                        # the transaction block committed
        "loaded": "2",
        "total": str(Decimal("1.65") + Decimal("4.40") + Decimal("12.25") + Decimal("0.10")
                     + Decimal("2.00")),
        "pool count": "5",
        "async count": "5",
    }
