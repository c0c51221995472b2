"""Seed corpus files: fuzz/corpus/<harness>/<name> (raw bytes, one input per file)."""
from __future__ import annotations

from pathlib import Path

__all__ = ["CORPUS", "read_corpus"]

CORPUS = Path(__file__).parent / "corpus"


def read_corpus(harness: str):
    """The committed seed inputs of ``harness`` (empty if it has none)."""
    folder = CORPUS / harness
    if not folder.is_dir():
        return []
    return [path.read_bytes() for path in sorted(folder.iterdir()) if path.is_file()]
