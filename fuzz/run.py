"""One harness under atheris/libFuzzer (the child process ``python -m fuzz`` starts).

    python -m fuzz.run NAME [libFuzzer flags and corpus folders...]

Nothing of scratchbird is imported before libFuzzer starts: the harness is loaded on the
first input, inside ``atheris.instrument_imports()``, so the pure modules get Python
coverage, and the extensions of an instrumented build (FUZZ_COMPILED_DIR) resolve their
``-fsanitize=fuzzer-no-link`` hooks against the libFuzzer atheris has loaded by then.
"""
from __future__ import annotations

import os
import sys


def main(argv) -> None:
    name, flags = argv[1], argv[1:]
    # The extensions are loaded into the global symbol namespace so an instrumented build
    # finds libFuzzer's __sanitizer_cov_* symbols (fuzz/README.md, "Instrumented build").
    sys.setdlopenflags(os.RTLD_NOW | os.RTLD_GLOBAL)
    import atheris

    state = {}

    def test_one_input(data: bytes) -> None:
        one_input = state.get("one_input")
        if one_input is None:
            with atheris.instrument_imports(include=["scratchbird", "fuzz"]):
                from fuzz.harnesses import load
                one_input = state["one_input"] = load(name)[0]
        one_input(data)

    atheris.Setup(flags, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
