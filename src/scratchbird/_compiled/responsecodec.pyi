"""Type stub for the compiled twin of scratchbird._pure.responsecodec (built from ext/responsecodec.pyx)."""
from typing import Any, Dict, List, Optional

from scratchbird.errors import Error

__all__ = ["Result", "Response", "receive", "scan_response", "SCAN_STOP", "SCAN_DONE",
           "SCAN_ROWS"]

SCAN_STOP: int
SCAN_DONE: int
SCAN_ROWS: int

class Result:
    """One statement's result: its description, rows and COMMAND_COMPLETE."""
    description: Any
    rows: Any
    rowcount: int
    tag: Optional[str]
    last_insert_id: int
    complete: bool
    def __init__(self, description: Any = None) -> None: ...

class Response:
    """Everything a request produced up to its READY."""
    results: List[Result]
    parameter_types: Optional[List[int]]
    error: Optional[Error]
    ready: Any
    parameters: Dict[str, str]
    pong: Optional[bytes]
    notifications: List[Any]
    done: bool
    copy_in: Optional[Any]
    def __init__(self, results: List[Result]) -> None: ...

def receive(proto: Any, data: bytes, row_limit: Optional[int]) -> Optional[Response]:
    """``proto.feed(data)`` then ``proto.read_response(row_limit)``, common frames in one call."""

def scan_response(proto: Any, response: Response, row_limit: Optional[int]) -> int:
    """Read the common frames of ``proto``'s response in progress (see the pure twin)."""
