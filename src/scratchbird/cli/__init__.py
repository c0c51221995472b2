"""The ``scratchbird`` command line (``python -m scratchbird``): query, export, load.

click and rich are optional (``pip install 'scratchbird[cli]'``); they are imported when
the command runs, never by ``import scratchbird``.
"""
from __future__ import annotations

from ._run import run

__all__ = ["main", "run"]


def main() -> None:
    """Console-script entry point."""
    import sys
    sys.exit(run())
