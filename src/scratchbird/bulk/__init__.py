"""Bulk loading: COPY FROM STDIN from Python rows (``Cursor.copy``) and one-call loading
of tuples, dicts, CSV, Parquet, DataFrames and Arrow data (``Connection.load``)."""
from __future__ import annotations

from ._copy import Copy

__all__ = ["Copy"]
