"""The wheel workflow is valid and builds the promised matrix: the workflow file parses, each
of its runners feeds cibuildwheel one platform and architecture, and cibuildwheel (reading
[tool.cibuildwheel] in pyproject.toml) lists CPython 3.10-3.14 on Linux x86_64/aarch64
(manylinux and musllinux), macOS x86_64/arm64 and Windows AMD64."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml", reason="pyyaml is a test extra")

REPO = Path(__file__).resolve().parents[1]
WORKFLOW = REPO / ".github" / "workflows" / "wheels.yml"
PYTHONS = ("cp310", "cp311", "cp312", "cp313", "cp314")
EXPECTED = {
    "linux": {f"{py}-{libc}_{arch}" for py in PYTHONS for libc in ("manylinux", "musllinux")
              for arch in ("x86_64", "aarch64")},
    "macos": {f"{py}-macosx_{arch}" for py in PYTHONS for arch in ("x86_64", "arm64")},
    "windows": {f"{py}-win_amd64" for py in PYTHONS},
}


def _workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


def test_workflow_runs_cibuildwheel_on_every_platform_and_arch():
    wf = _workflow()
    job = wf["jobs"]["wheels"]
    combos = {(m["platform"], m["arch"]) for m in job["strategy"]["matrix"]["include"]}
    assert combos == {("linux", "x86_64"), ("linux", "aarch64"), ("macos", "x86_64"),
                      ("macos", "arm64"), ("windows", "AMD64")}
    runners = {m["os"] for m in job["strategy"]["matrix"]["include"]}
    assert any(r.startswith("ubuntu") and r.endswith("-arm") for r in runners)   # native aarch64
    steps = job["steps"]
    cibw = [s for s in steps if str(s.get("uses", "")).startswith("pypa/cibuildwheel@")]
    assert len(cibw) == 1
    assert cibw[0]["env"] == {"CIBW_PLATFORM": "${{ matrix.platform }}",
                              "CIBW_ARCHS": "${{ matrix.arch }}"}
    assert any("twine check" in str(s.get("run", "")) for s in wf["jobs"]["sdist"]["steps"])


def _identifiers(platform: str, archs: str = "") -> set:
    exe = shutil.which("cibuildwheel")
    cmd = [exe] if exe else [sys.executable, "-m", "cibuildwheel"]
    env = dict(os.environ)
    env.pop("CIBW_BUILD", None)
    env.pop("CIBW_SKIP", None)
    if archs:
        env["CIBW_ARCHS"] = archs
    out = subprocess.run(cmd + ["--print-build-identifiers", "--platform", platform, str(REPO)],
                         capture_output=True, text=True, timeout=120, env=env, check=True)
    return set(out.stdout.split())


@pytest.mark.parametrize("platform", sorted(EXPECTED))
def test_cibuildwheel_lists_the_matrix(platform):
    pytest.importorskip("cibuildwheel", reason="cibuildwheel is a test extra")
    assert _identifiers(platform) == EXPECTED[platform]


def test_each_runner_builds_its_share_of_the_matrix():
    """The workflow's per-runner CIBW_ARCHS together cover the whole matrix, once."""
    pytest.importorskip("cibuildwheel", reason="cibuildwheel is a test extra")
    seen: list = []
    for entry in _workflow()["jobs"]["wheels"]["strategy"]["matrix"]["include"]:
        seen += sorted(_identifiers(entry["platform"], entry["arch"]))
    assert sorted(seen) == sorted(set().union(*EXPECTED.values()))


def test_free_threaded_builds_are_left_out_with_a_reason():
    """No compiled module claims to run without the GIL (no threaded test backs it yet), so
    no 3.14t wheel is built; the reason is written beside the setting."""
    text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    assert 'skip = "cp3??t-*"' in text
    assert "freethreading_compatible" in (REPO / "docs" / "packaging.md").read_text(encoding="utf-8")
    for pyx in (REPO / "ext").glob("*.pyx"):
        assert "freethreading_compatible" not in pyx.read_text(encoding="utf-8"), pyx.name
