"""The fuzz harnesses, one per input surface, by name.

Each harness module defines ``one_input(data: bytes) -> None`` (checks the contract of
fuzz/contract.py on one input) and ``seeds() -> list[bytes]`` (valid inputs to start
from; fuzz/corpus/<name>/ holds them written out). Modules are named here as strings
and imported only inside the fuzz process, after libFuzzer has started, so that the
instrumented extensions and atheris's bytecode instrumentation both see them.

A new surface (the COPY encoders, say) gets a module with ``one_input``/``seeds``,
registered here. ``tests/test_fuzz_harnesses.py`` picks every entry up automatically.
"""
from __future__ import annotations

import importlib

__all__ = ["HARNESSES", "load"]

# name -> (module, argument passed to the module's ``harness(arg)`` factory or None)
HARNESSES = {
    "framing": ("fuzz.harnesses.framing", None),
    "protocol": ("fuzz.harnesses.protocol", None),
    "text_rows": ("fuzz.harnesses.text_rows", None),
    "binary_rows": ("fuzz.harnesses.binary_rows", None),
    "values_numeric": ("fuzz.harnesses.values", "numeric"),
    "values_text": ("fuzz.harnesses.values", "text"),
    "values_temporal": ("fuzz.harnesses.values", "temporal"),
    "values_network": ("fuzz.harnesses.values", "network"),
    "values_spatial": ("fuzz.harnesses.values", "spatial"),
    "values_nested": ("fuzz.harnesses.values", "nested"),
    "scram": ("fuzz.harnesses.scram", None),
    "zstd": ("fuzz.harnesses.zstd", None),
    "placeholders": ("fuzz.harnesses.placeholders", None),
    "array_bind": ("fuzz.harnesses.array_bind", None),
}


def load(name: str):
    """``(one_input, seeds)`` of the harness ``name`` (imports scratchbird)."""
    module_name, arg = HARNESSES[name]
    module = importlib.import_module(module_name)
    if arg is None:
        return module.one_input, module.seeds
    return module.harness(arg)
