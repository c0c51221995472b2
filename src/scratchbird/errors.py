"""The PEP 249 exception hierarchy and the mapping from SBWP ERROR frames to it.

SQLSTATE classes map to exception classes as the ScratchBird driver spec says; engine
failures always arrive as ``42000`` with the real diagnostic code in the ``D`` field
(REFERENCE 9.1, 9.3, 12.A.11), so that code refines the class.
"""
from __future__ import annotations

import re
from typing import Mapping, Optional, Tuple, Type, TypeGuard, Union

__all__ = [
    "Warning", "Error", "InterfaceError", "DatabaseError", "DataError",
    "OperationalError", "IntegrityError", "InternalError", "ProgrammingError",
    "NotSupportedError", "ProtocolError", "ConnectionLost", "AuthenticationError",
    "TransactionRollbackError", "QueryCanceledError", "error_from_fields", "split_diagnostic",
]


class Warning(Exception):  # noqa: A001 - the name is fixed by PEP 249
    """Important warnings such as data truncation (PEP 249)."""


class Error(Exception):
    """Base of every error this driver raises (PEP 249).

    Errors that come from the server carry its fields: ``sqlstate``, ``message``,
    ``detail``, ``hint``, ``position``, ``severity``, ``diag_code`` (the server's
    symbolic diagnostic code) and ``fields`` (every raw field by its one-letter code).
    """

    sqlstate: Optional[str] = None

    def __init__(self, message: str = "", *, sqlstate: Optional[str] = None,
                 detail: Optional[str] = None, hint: Optional[str] = None,
                 position: Optional[int] = None, severity: Optional[str] = None,
                 diag_code: Optional[str] = None,
                 fields: Optional[Mapping[str, str]] = None) -> None:
        super().__init__(message)
        self.message = message
        if sqlstate is not None:
            self.sqlstate = sqlstate
        self.detail = detail
        self.hint = hint
        self.position = position
        self.severity = severity
        self.diag_code = diag_code
        self.fields = dict(fields or {})

    def __str__(self) -> str:
        text = self.message
        extra = []
        if self.sqlstate:
            extra.append(f"SQLSTATE {self.sqlstate}")
        if self.diag_code and self.diag_code not in text:
            extra.append(self.diag_code)
        if extra:
            text = f"{text} [{', '.join(extra)}]"
        if self.detail and self.detail != self.diag_code:
            text += f"\nDETAIL: {self.detail}"
        if self.hint:
            text += f"\nHINT: {self.hint}"
        return text


class InterfaceError(Error):
    """Misuse of the driver itself (closed cursor, bad DSN value, ...)."""


class DatabaseError(Error):
    """Errors related to the database."""


class DataError(DatabaseError):
    """Problems with the processed data (SQLSTATE class 22, undecodable values)."""


class OperationalError(DatabaseError):
    """The connection or the server's operation failed (classes 08, 28, 53-58, ...)."""


class IntegrityError(DatabaseError):
    """Relational integrity is affected (class 23, engine constraint codes)."""


class InternalError(DatabaseError):
    """The server reports an internal error (class XX)."""


class ProgrammingError(DatabaseError):
    """SQL errors, missing objects, bad parameters (class 42, 34, ...)."""


class NotSupportedError(DatabaseError):
    """A feature the server or the driver does not support (class 0A)."""


class ProtocolError(OperationalError):
    """The peer sent bytes that break SBWP framing or a message layout.

    The connection is closed when this is raised: its byte stream can no longer be
    trusted.
    """


class ConnectionLost(OperationalError):
    """The connection was closed or dropped, or a socket timeout expired."""


class AuthenticationError(OperationalError):
    """Authentication failed or was refused (class 28)."""


class TransactionRollbackError(OperationalError):
    """The transaction was rolled back or cannot go on (classes 25 and 40)."""


class QueryCanceledError(OperationalError):
    """The statement was cancelled (``Connection.cancel()`` or a statement timeout),
    SQLSTATE 57014. When the server could not stop it in time the connection is closed
    as well (docs/protocol.md 6.4)."""

    sqlstate = "57014"


_CLASS_MAP = {
    "01": Warning,
    "08": OperationalError,
    "0A": NotSupportedError,
    "22": DataError,
    "23": IntegrityError,
    "25": TransactionRollbackError,
    "28": AuthenticationError,
    "34": ProgrammingError,
    "40": TransactionRollbackError,
    "42": ProgrammingError,
    "53": OperationalError,
    "54": OperationalError,
    "57": OperationalError,
    "58": OperationalError,
    "XX": InternalError,
}

# A symbolic diagnostic code: upper-case words joined by '.', '_' or '-'
# (SBWP.FEATURE.NOT_NEGOTIATED, SB_ENGINE_API_INVALID_REQUEST, ASYNC-011).
_CODE_RE = re.compile(r"^[A-Z][A-Z0-9]*(?:[._-][A-Z0-9]+)+$")

# Engine diagnostic codes (the D field of a 42000 ERROR) that say more than 42000 does.
_ENGINE_CODE_RULES = (
    (re.compile(r"CONSTRAINT|UNIQUE|DUPLICATE_KEY|FOREIGN_KEY|NOT_NULL"), IntegrityError),
    (re.compile(r"^SECURITY\.|AUTHENTICATION|PERMISSION|PRIVILEGE"), OperationalError),
    (re.compile(r"DIVIDE_BY_ZERO|NUMERIC_OVERFLOW|OUT_OF_RANGE|INVALID_TEXT|CONVERSION"), DataError),
    (re.compile(r"SERIALIZATION|DEADLOCK"), TransactionRollbackError),
    (re.compile(r"NOT_IMPLEMENTED|UNSUPPORTED"), NotSupportedError),
)


def _is_code(text: Optional[str]) -> TypeGuard[str]:
    if not text:
        return False
    return bool(_CODE_RE.match(text.split(";", 1)[0]))


def split_diagnostic(message: Optional[str], detail: Optional[str]
                     ) -> Tuple[Optional[str], str, Optional[str]]:
    """Return ``(diag_code, message, detail)`` from an ERROR's M and D fields.

    The server uses two conventions (REFERENCE 9.1): engine errors put the text in M
    and the code (sometimes ``code;detail``) in D; wire-layer refusals put the code in
    M and the text in D.
    """
    if _is_code(detail):
        code, _, rest = detail.partition(";")
        return code, message or code, rest or None
    if _is_code(message):
        code, _, rest = message.partition(";")
        return code, detail or code, rest or None
    return None, message or detail or "", detail if message else None


def class_for(sqlstate: Optional[str], diag_code: Optional[str]
              ) -> Union[Type[Error], Type[Warning]]:
    """The exception class for a SQLSTATE, refined by the diagnostic code for 42000."""
    if sqlstate == "42000" and diag_code:
        for pattern, cls in _ENGINE_CODE_RULES:
            if pattern.search(diag_code):
                return cls
    if sqlstate == "57014":
        return QueryCanceledError
    if not sqlstate or len(sqlstate) != 5:
        return DatabaseError
    return _CLASS_MAP.get(sqlstate[:2], DatabaseError)


def error_from_fields(fields: Mapping[str, str]) -> Error:
    """Build the exception for the fields of an ERROR frame (keys are field codes)."""
    sqlstate = fields.get("C")
    code, message, detail = split_diagnostic(fields.get("M"), fields.get("D"))
    position = fields.get("P")
    found = class_for(sqlstate, code)
    # a warning cannot be raised as an error; keep it a DatabaseError
    cls = found if issubclass(found, Error) else DatabaseError
    return cls(
        message or "server reported an error",
        sqlstate=sqlstate, detail=detail, hint=fields.get("H"),
        position=int(position) if position and position.isdigit() else None,
        severity=fields.get("S"), diag_code=code, fields=fields,
    )
