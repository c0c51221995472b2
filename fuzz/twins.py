"""The two twins of a compiled module, side by side in one process.

The fuzz process runs the package itself with ``SCRATCHBIRD_IMPL=python`` (so importing
``scratchbird`` loads no extension) and imports both twins of each module explicitly.
``FUZZ_COMPILED_DIR`` points at an instrumented build (``python -m fuzz --instrumented``,
see fuzz/README.md); its extensions are put first on ``scratchbird._compiled.__path__``
so libFuzzer sees their edges. Without it the regular in-place build is used.
"""
from __future__ import annotations

import importlib
import os

__all__ = ["twins", "use_impl"]

_prepared = False


def _prepare() -> None:
    global _prepared
    if _prepared:
        return
    import scratchbird._compiled as compiled_pkg

    extra = os.environ.get("FUZZ_COMPILED_DIR")
    if extra and extra not in compiled_pkg.__path__:
        compiled_pkg.__path__.insert(0, extra)
    _prepared = True


def twins(name: str):
    """``(pure, compiled)`` modules of ``name`` (framing, rowcodec, bincodec, literals)."""
    _prepare()
    pure = importlib.import_module(f"scratchbird._pure.{name}")
    compiled = importlib.import_module(f"scratchbird._compiled.{name}")
    return pure, compiled


class use_impl:
    """Point the modules that bound ``scratchbird._impl``'s choice at import time
    (``_protocol``, ``_mixed_rows``; the response reader too) at one twin for the
    duration of a ``with`` block,
    so one process can replay a conversation through both implementations."""

    _BOUND = ("scratchbird._protocol", "scratchbird._mixed_rows")
    _NAMES = ("framing", "rowcodec", "bincodec")

    def __init__(self, impl: str) -> None:
        self.index = 0 if impl == "python" else 1
        self.saved = []

    def __enter__(self):
        for modname in self._BOUND:
            module = importlib.import_module(modname)
            for name in self._NAMES:
                if hasattr(module, name):
                    self._swap(module, name, twins(name)[self.index])
        # the response reader's twin, and the names _protocol bound from it at import
        protocol = importlib.import_module("scratchbird._protocol")
        reader = twins("responsecodec")[self.index]
        self._swap(protocol, "responsecodec", reader)
        for name, value in (("Result", reader.Result), ("Response", reader.Response),
                            ("_scan_response", reader.scan_response),
                            ("_SCAN_STOP", reader.SCAN_STOP)):
            self._swap(protocol, name, value)
        return self

    def _swap(self, module, name, value) -> None:
        self.saved.append((module, name, getattr(module, name)))
        setattr(module, name, value)

    def __exit__(self, *exc):
        for module, name, value in reversed(self.saved):
            setattr(module, name, value)
        self.saved.clear()
        return False
