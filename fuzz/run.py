"""One harness under atheris/libFuzzer (the child process ``python -m fuzz`` starts).

    python -m fuzz.run NAME [libFuzzer flags and corpus folders...]

The Python modules under test (the package runs with SCRATCHBIRD_IMPL=python, so that
loads no extension) are imported first, inside ``atheris.instrument_imports()``, so they
get Python coverage. The extensions are imported on the first input only: those of an
instrumented build (FUZZ_COMPILED_DIR) resolve their ``-fsanitize=fuzzer-no-link`` hooks
against the libFuzzer that atheris loads when fuzzing starts.
"""
from __future__ import annotations

import os
import sys


# Every Python module a harness reaches, imported inside the instrumentation block (a
# module first imported later, from inside a harness call, would get no Python coverage).
TARGETS = ("scratchbird", "scratchbird._protocol", "scratchbird._scram",
           "scratchbird._auth_messages", "scratchbird._compression",
           "scratchbird._server_messages", "scratchbird._client_messages",
           "scratchbird._mixed_rows", "scratchbird._pure.framing", "scratchbird._pure.rowcodec",
           "scratchbird._pure.bincodec", "scratchbird._pure.literals")


def import_targets(name: str):
    import importlib

    for module in TARGETS:
        importlib.import_module(module)
    from fuzz import contract, twins  # noqa: F401
    from fuzz.harnesses import load
    return load(name)[0]


def main(argv) -> None:
    name, flags = argv[1], argv[1:]
    # The extensions are loaded into the global symbol namespace so an instrumented build
    # finds libFuzzer's __sanitizer_cov_* symbols (fuzz/README.md, "Instrumented build").
    sys.setdlopenflags(os.RTLD_NOW | os.RTLD_GLOBAL)
    import atheris

    with atheris.instrument_imports(include=["scratchbird", "fuzz"]):
        one_input = import_targets(name)
    started = []

    def test_one_input(data: bytes) -> None:
        if not started:   # the extensions, now that libFuzzer is loaded
            from fuzz.twins import twins
            for module in ("framing", "rowcodec", "bincodec", "literals"):
                twins(module)
            started.append(True)
        one_input(data)

    atheris.Setup(flags, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
