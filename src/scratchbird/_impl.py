"""Chooses the compiled modules or their pure-Python twins, once, at import.

``SCRATCHBIRD_IMPL=c`` (the default) uses the Cython modules built from ``ext/``;
``SCRATCHBIRD_IMPL=python`` uses ``scratchbird._pure``. Asking for ``c`` when the
extensions are not built is an ImportError that says how to build them: it never
falls back silently.
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING

IMPL = os.environ.get("SCRATCHBIRD_IMPL", "c").strip().lower() or "c"

if TYPE_CHECKING:
    # One module type per twin for the type checker: the stubs (src/scratchbird/_compiled/
    # *.pyi), which describe both twins (tests/test_stubs_match_twins.py holds them to the
    # pure twins' names, parameters and annotations).
    from scratchbird._compiled import (arraybind, arrowcodec, bincodec, copycodec, framing,
                                       literals, requestcodec, responsecodec, rowcodec,
                                       textparams)
elif IMPL == "c":
    try:
        from scratchbird._compiled import (arraybind, arrowcodec, bincodec, copycodec, framing,
                                           literals, requestcodec, responsecodec, rowcodec,
                                           textparams)
    except ImportError as exc:  # pragma: no cover - depends on the build
        raise ImportError(
            "scratchbird: the compiled extensions are not built (SCRATCHBIRD_IMPL=c, the "
            "default). Build them with `pip install -e .` (or `python setup.py build_ext "
            "--inplace`), or set SCRATCHBIRD_IMPL=python to use the pure-Python twins. "
            f"Import failed with: {exc}") from exc
elif IMPL == "python":
    from scratchbird._pure import (arraybind, arrowcodec, bincodec, copycodec, framing, literals,
                                   requestcodec, responsecodec, rowcodec, textparams)
else:
    raise ImportError(f"SCRATCHBIRD_IMPL must be 'c' or 'python', not {IMPL!r}")

__all__ = ["IMPL", "arraybind", "arrowcodec", "bincodec", "copycodec", "framing", "literals",
           "requestcodec", "responsecodec", "rowcodec", "textparams"]
