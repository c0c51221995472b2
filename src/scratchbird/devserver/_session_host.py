"""What the ``Session`` mixins (``_extended``, ``_session_frames``) may use of their host,
declared for the type checker only.

The mixins' handlers read the session's state and call its reply helpers, which live in
``_session.Session``. At run time the mixins are plain classes; under ``TYPE_CHECKING`` they
derive from ``SessionHost`` so mypy checks those uses against these declarations. Nothing
here runs.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from ._binding import BoundStore
from ._startup import Negotiation, Profile

__all__ = ["SessionHost"]


class SessionHost:
    """The state and reply helpers of ``_session.Session`` that its mixins use."""

    profile: Profile
    peer: str
    es: Any                         # the engine session (``_engine.EngineSession``) once authenticated
    nego: Optional[Negotiation]
    layout: str
    features: int
    options: Dict[str, str]
    trace: Optional[str]
    statements: BoundStore
    portals: BoundStore
    ready_since_extended: bool

    def _send(self, msg_type: int, payload: bytes = b"") -> None: ...

    def _error(self, sqlstate: str, message: str, detail: str = "") -> None: ...

    def _ready(self, reason: int) -> None: ...

    def _parameter_status(self, entries: Any) -> None: ...

    def _need_auth(self, ready: Optional[int] = 2) -> bool:
        raise NotImplementedError

    def _txn_mismatch(self, frame: Any, name: str) -> None: ...

    def _run_sql(self, sql: str, *, autocommit: bool, script: bool, summary: bool,
                 ready: bool, binary: bool = False, params: Optional[List[Any]] = None) -> None: ...
