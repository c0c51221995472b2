"""The driver's logger: ``logging.getLogger("scratchbird")``, silent unless configured.

DEBUG logs one line per request: the message type, the SQL as the application wrote it
(placeholders, not merged values) cut to 200 characters, parameter *types*, frames and
bytes each way, and the time taken. What is never logged: a password, a SCRAM value, or
a parameter value (unless the application connected with ``log_parameters=True``). The
handshake is logged as host, user, database and outcome only.
"""
from __future__ import annotations

import logging
import struct
from typing import Any, Optional

__all__ = ["log", "SQL_LOG_CHARS", "shorten", "describe_params", "count_frames"]

log = logging.getLogger("scratchbird")
log.addHandler(logging.NullHandler())

SQL_LOG_CHARS = 200
_LENGTH = struct.Struct("<I")


def shorten(sql: str) -> str:
    if len(sql) <= SQL_LOG_CHARS:
        return sql
    return sql[:SQL_LOG_CHARS] + f"... ({len(sql)} chars)"


def describe_params(params: Any, with_values: bool) -> Optional[str]:
    """Parameters as their types (``{'n': 'int'}``, ``['str', 'NoneType']``); their
    values only when ``with_values`` (the ``log_parameters`` connect option)."""
    if params is None:
        return None
    if with_values:
        return repr(params)
    if isinstance(params, dict):
        return repr({k: type(v).__name__ for k, v in params.items()})
    if isinstance(params, (list, tuple)):
        return repr([type(v).__name__ for v in params])
    return type(params).__name__


def count_frames(data: bytes) -> int:
    """How many SBWP frames ``data`` holds (it starts at a frame header; 2: length at 8)."""
    n, pos, end = 0, 0, len(data)
    while pos + 40 <= end:
        pos += 40 + _LENGTH.unpack_from(data, pos + 8)[0]
        n += 1
    return n
