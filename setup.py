"""Build the compiled twins in ext/ as scratchbird._compiled.<name>.

Every module in ext/ has a pure-Python twin with the same names in
src/scratchbird/_pure/; SCRATCHBIRD_IMPL=c|python picks one at import time.
Set SCRATCHBIRD_DEBUG=1 to build with bounds checks and assertions on.
Set SCRATCHBIRD_FUZZ=1 to build with clang and libFuzzer coverage hooks
(-fsanitize=fuzzer-no-link) for ``python -m fuzz --instrumented`` (fuzz/README.md).
"""
import os
from pathlib import Path

from setuptools import Extension, setup

HERE = Path(__file__).parent
DEBUG = os.environ.get("SCRATCHBIRD_DEBUG") == "1"
FUZZ = os.environ.get("SCRATCHBIRD_FUZZ") == "1"
if FUZZ:  # libFuzzer's coverage hooks need clang; atheris provides the runtime
    os.environ.setdefault("CC", "clang")
    os.environ.setdefault("LDSHARED", "clang -shared")
# SCRATCHBIRD_BUILD_ONLY=framing,rowcodec builds just those (for quick rebuilds while developing)
ONLY = {m for m in os.environ.get("SCRATCHBIRD_BUILD_ONLY", "").split(",") if m}


def extensions():
    from Cython.Build import cythonize

    mods = [
        Extension(
            f"scratchbird._compiled.{pyx.stem}",
            [str(pyx.relative_to(HERE))],
            extra_compile_args=(["-O1", "-g", "-fsanitize=fuzzer-no-link"] if FUZZ
                                else ["-O0", "-g"] if DEBUG else ["-O2"]),
            extra_link_args=["-fsanitize=fuzzer-no-link"] if FUZZ else [],
        )
        for pyx in sorted((HERE / "ext").glob("*.pyx"))
        if not ONLY or pyx.stem in ONLY
    ]
    return cythonize(
        mods,
        language_level=3,
        compiler_directives={
            "boundscheck": DEBUG,   # the fuzz build keeps the shipped directives
            "wraparound": DEBUG,
            "cdivision": True,
            "embedsignature": True,
        },
        include_path=[str(HERE / "ext")],
    )


setup(ext_modules=extensions())
