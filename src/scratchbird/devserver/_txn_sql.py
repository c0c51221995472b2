"""Transaction characteristics in SQL, as today's server takes them (REFERENCE 12.D).

Accepted: ``SET TRANSACTION ISOLATION LEVEL {SERIALIZABLE | READ COMMITTED}``,
``SET TRANSACTION {READ ONLY | READ WRITE}`` (several, comma-separated, may follow one
another), ``SET SESSION CHARACTERISTICS AS TRANSACTION ...`` and ``BEGIN ISOLATION LEVEL
...``. ``START TRANSACTION`` with characteristics is refused ("statement family not
recognized"), and so are levels other than the two above. ``SET TRANSACTION`` answers
with one report row; the session form with ``session_uuid`` and ``scope``.
"""
from __future__ import annotations

import re
from typing import NamedTuple, Optional

__all__ = ["Characteristics", "parse", "REPORT_COLUMNS"]

REPORT_COLUMNS = ["transaction_characteristics", "transaction_read_mode",
                  "transaction_read_only", "transaction_isolation_level"]

_HEAD = re.compile(
    r"\s*(?P<head>SET\s+TRANSACTION|SET\s+SESSION\s+CHARACTERISTICS\s+AS\s+TRANSACTION"
    r"|START\s+TRANSACTION|BEGIN(?:\s+(?:WORK|TRANSACTION))?)\b(?P<rest>.*?)\s*;?\s*\Z",
    re.IGNORECASE | re.DOTALL)
_MODE = re.compile(r"\s*(ISOLATION\s+LEVEL\s+(?P<level>[A-Z ]+?)|READ\s+(?P<rw>ONLY|WRITE)"
                   r"|(?P<not>NOT\s+)?DEFERRABLE)\s*(,|\Z)", re.IGNORECASE)
_LEVELS = {"READ COMMITTED": "read_committed", "SERIALIZABLE": "serializable"}


class Characteristics(NamedTuple):
    form: str                     # "set", "session", "begin", or "refused"
    isolation: Optional[str]      # "read_committed" / "serializable"
    read_only: Optional[bool]
    problem: str = ""             # why it is refused


def parse(text: str) -> Optional[Characteristics]:
    """The characteristics statement ``text`` is, or None when it is not one (a plain
    BEGIN or START TRANSACTION is None: the engine's BEGIN handles it)."""
    m = _HEAD.match(text)
    if m is None:
        return None
    head = " ".join(m.group("head").upper().split())
    rest = m.group("rest").strip()
    if head.startswith("BEGIN") or head == "START TRANSACTION":
        if not rest:
            return None
        if head == "START TRANSACTION":
            return Characteristics("refused", None, None, "statement family not recognized")
    isolation = read_only = None
    pos = 0
    while pos < len(rest):
        mode = _MODE.match(rest, pos)
        if mode is None or mode.end() == pos:
            return Characteristics("refused", None, None,
                                   f"unsupported transaction characteristic near {rest[pos:pos + 30]!r}")
        if mode.group("level"):
            level = " ".join(mode.group("level").upper().split())
            if level not in _LEVELS:
                return Characteristics("refused", None, None, f"isolation level {level} is not supported")
            isolation = _LEVELS[level]
        elif mode.group("rw"):
            read_only = mode.group("rw").upper() == "ONLY"
        pos = mode.end()
    if isolation is None and read_only is None:
        return Characteristics("refused", None, None, "no transaction characteristic given")
    form = {"SET TRANSACTION": "set"}.get(head, "session" if head.startswith("SET") else "begin")
    return Characteristics(form, isolation, read_only)
