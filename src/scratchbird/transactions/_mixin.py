"""The transaction methods of ``Connection``: transaction(), isolation_level, read_only."""
from __future__ import annotations

from typing import TYPE_CHECKING, Optional, cast

from scratchbird import _constants as c
from scratchbird.errors import NotSupportedError, ProgrammingError
from scratchbird.transactions._block import Transaction
from scratchbird.transactions._characteristics import (
    SERVER_DEFAULT_LEVEL, access_sql, check_report, isolation_sql, normalize_level, report_of)

if TYPE_CHECKING:
    from scratchbird._connection_host import ConnectionHost as _Host
    from scratchbird.connection import Connection
else:
    _Host = object

__all__ = ["TransactionMixin"]

_SAVEPOINT_SQL = {c.TXN_SAVEPOINT: "SAVEPOINT", c.TXN_RELEASE: "RELEASE SAVEPOINT",
                  c.TXN_ROLLBACK_TO: "ROLLBACK TO SAVEPOINT"}


class TransactionMixin(_Host):
    """Mixed into ``Connection`` (which provides ``_request``, ``_lock``...)."""

    _isolation_level: Optional[str]     # set by Connection.__init__
    _read_only: Optional[bool]

    def transaction(self, isolation_level: Optional[str] = None,
                    read_only: Optional[bool] = None) -> Transaction:
        """A block that commits on success and rolls back on an exception::

            with conn.transaction():
                cur.execute(...)
                with conn.transaction():    # a savepoint
                    ...

        ``isolation_level`` / ``read_only`` apply to the outermost block only and are
        restored after it."""
        return Transaction(cast("Connection", self), normalize_level(isolation_level),
                           None if read_only is None else bool(read_only))

    @property
    def isolation_level(self) -> Optional[str]:
        """``"READ COMMITTED"``, ``"SERIALIZABLE"`` or None (the server's default, read
        committed). Settable between transactions; other levels raise NotSupportedError."""
        return self._isolation_level

    @isolation_level.setter
    def isolation_level(self, value: Optional[str]) -> None:
        self._change_characteristics(normalize_level(value), self._read_only)

    @property
    def read_only(self) -> Optional[bool]:
        """True for read-only transactions, False for read-write, None for the default.
        Today's server accepts it but does not enforce it (REFERENCE 12.D)."""
        return self._read_only

    @read_only.setter
    def read_only(self, value: Optional[bool]) -> None:
        self._change_characteristics(self._isolation_level, None if value is None else bool(value))

    # ------------------------------------------------------------ internals

    def _change_characteristics(self, level: Optional[str], read_only: Optional[bool]) -> None:
        with self._lock:
            self._check_open()
            if self._in_transaction and not self._autocommit:
                raise ProgrammingError(
                    "isolation_level and read_only cannot change inside a transaction with work "
                    "in it: call commit() or rollback() first")
            if level != self._isolation_level:
                self._set_transaction(isolation_sql(level or SERVER_DEFAULT_LEVEL),
                                      level or SERVER_DEFAULT_LEVEL, None)
                self._isolation_level = level
            if read_only != self._read_only:
                self._set_transaction(access_sql(bool(read_only)), None, bool(read_only))
                self._read_only = read_only

    def _set_transaction(self, sql: str, level: Optional[str], read_only: Optional[bool]) -> None:
        response = self._request(lambda proto: proto.query_frame(sql, 0, raw_text=True),
                                 log_sql=sql)
        error = response.error
        if error is not None:
            if isinstance(error, ProgrammingError):
                raise NotSupportedError(f"the server refused {sql!r}: {error.message}",
                                        sqlstate=error.sqlstate, diag_code=error.diag_code,
                                        fields=error.fields) from error
            raise error
        report = report_of(response)
        self.server_report = report
        check_report(report, level, read_only)

    def _restore_characteristics(self) -> None:
        """After a session reset: the server's defaults again, if they had been changed."""
        if self._isolation_level is not None:
            self._set_transaction(isolation_sql(SERVER_DEFAULT_LEVEL), SERVER_DEFAULT_LEVEL, None)
        if self._read_only:
            self._set_transaction(access_sql(False), None, False)
        self._isolation_level = self._read_only = None

    def _savepoint_op(self, msg_type: int, name: str) -> None:
        proto = self._check_open()
        if proto.negotiated_features & c.FEATURE_SAVEPOINTS:
            response = self._request(lambda p: p.savepoint_frame(msg_type, name))
        else:
            sql = f"{_SAVEPOINT_SQL[msg_type]} {name}"
            response = self._request(lambda p: p.query_frame(sql, 0), log_sql=sql)
        if response.error is not None:
            raise response.error
        self._in_transaction = True
