"""``with conn.transaction():`` blocks: a transaction outside, savepoints inside.

The outermost block (no transaction with work open) commits when it ends and rolls
back when an exception leaves it. A block inside another one, or inside work not yet
committed, is a savepoint: TXN_SAVEPOINT / TXN_RELEASE / TXN_ROLLBACK_TO frames when
feature 9 was granted (REFERENCE 6.5), else the same SQL. On an exception an inner
block rolls back to its savepoint and releases it; the exception goes on.

Today's server accepts ROLLBACK TO and undoes nothing (REFERENCE 12.A.8): rows written
inside the inner block survive and are committed with the outer one. The driver cannot
repair that; it warns (``SavepointNotUndoneWarning``) each time it rolls back to a
savepoint on such a server. docs/protocol.md 6.1.
"""
from __future__ import annotations

import itertools
import warnings
from types import TracebackType
from typing import TYPE_CHECKING, Literal, Optional, Tuple, Type

from scratchbird import _constants as c
from scratchbird._log import log
from scratchbird.errors import Error, InterfaceError, ProgrammingError

if TYPE_CHECKING:
    from scratchbird._protocol import ClientProtocol
    from scratchbird.connection import Connection

__all__ = ["Transaction", "SavepointNotUndoneWarning"]

# Servers known to answer ROLLBACK TO without undoing anything (SERVER_INFO product).
_NO_UNDO_PRODUCTS = ("ScratchBird native SBWP P1",)
_names = itertools.count(1)


class SavepointNotUndoneWarning(UserWarning):
    """The server acknowledged ROLLBACK TO SAVEPOINT but, as today's server does
    (REFERENCE 12.A.8), will not undo the rows written after the savepoint."""


def server_undoes_savepoints(proto: Optional[ClientProtocol]) -> bool:
    info = proto.server_info if proto is not None else None
    return info is not None and info.product not in _NO_UNDO_PRODUCTS


class Transaction:
    """One ``conn.transaction()`` block (reentrant nesting through the connection)."""

    def __init__(self, conn: Connection, isolation_level: Optional[str] = None,
                 read_only: Optional[bool] = None) -> None:
        self.connection = conn
        self.isolation_level = isolation_level
        self.read_only = read_only
        self.savepoint_name: Optional[str] = None   # None for the outermost block
        #: (autocommit, isolation_level, read_only) before the outermost block
        self._saved: Optional[Tuple[bool, Optional[str], Optional[bool]]] = None

    def __repr__(self) -> str:
        kind = f"savepoint {self.savepoint_name}" if self.savepoint_name else "transaction"
        return f"<scratchbird.Transaction {kind}>"

    def __enter__(self) -> "Transaction":
        conn = self.connection
        with conn._lock:
            conn._check_open()
            if not conn._tx_stack and not (conn._in_transaction and not conn._autocommit):
                self._saved = (conn._autocommit, conn._isolation_level, conn._read_only)
                if self.isolation_level is not None or self.read_only is not None:
                    level = conn._isolation_level if self.isolation_level is None else \
                        self.isolation_level
                    read_only = conn._read_only if self.read_only is None else self.read_only
                    conn._change_characteristics(level, read_only)
                conn._autocommit = False    # a block is one transaction even in autocommit
            else:
                if self.isolation_level is not None or self.read_only is not None:
                    raise ProgrammingError(
                        "isolation_level and read_only can be given only to the outermost "
                        "transaction() block (a nested block is a savepoint)")
                self.savepoint_name = f"sb_sp_{next(_names)}"
                conn._savepoint_op(c.TXN_SAVEPOINT, self.savepoint_name)
            conn._tx_stack.append(self)
        log.debug("transaction block entered: %r", self)
        return self

    def __exit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException],
                 tb: Optional[TracebackType]) -> Literal[False]:
        conn = self.connection
        with conn._lock:
            if self not in conn._tx_stack:      # reset_session() inside the block
                if exc_type is None:
                    raise ProgrammingError("the session was reset inside this transaction() "
                                           "block: its work was rolled back")
                return False
            if conn._tx_stack[-1] is not self:
                raise ProgrammingError("transaction() blocks ended out of order")
            conn._tx_stack.pop()
            if conn.closed:
                if exc_type is None:
                    raise InterfaceError("the connection was closed inside a transaction() block; "
                                         "its work is lost")
                return False
            try:
                if self.savepoint_name is None:
                    self._end_outer(exc_type is None)
                elif exc_type is None:
                    conn._savepoint_op(c.TXN_RELEASE, self.savepoint_name)
                else:
                    self._rollback_to()
            except Error:
                if exc_type is None:
                    raise
                log.debug("ending %r after %s failed too", self, exc_type.__name__, exc_info=True)
        return False

    def _end_outer(self, commit: bool) -> None:
        conn = self.connection
        assert self._saved is not None     # set by __enter__ of the outermost block
        autocommit, level, read_only = self._saved
        try:
            if commit:
                conn.commit()
            else:
                conn.rollback()
        finally:
            conn._autocommit = autocommit
            if not conn.closed and (level, read_only) != (conn._isolation_level, conn._read_only):
                conn._change_characteristics(level, read_only)

    def _rollback_to(self) -> None:
        conn = self.connection
        assert self.savepoint_name is not None   # only inner blocks roll back to one
        conn._savepoint_op(c.TXN_ROLLBACK_TO, self.savepoint_name)
        if not server_undoes_savepoints(conn._proto):
            warnings.warn(
                "the server acknowledged ROLLBACK TO SAVEPOINT but does not undo anything "
                "(REFERENCE 12.A.8): rows written in the failed inner transaction() block "
                "survive and will be committed with the outer block",
                SavepointNotUndoneWarning, stacklevel=3)
        conn._savepoint_op(c.TXN_RELEASE, self.savepoint_name)
