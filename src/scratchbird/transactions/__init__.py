"""Transactions: ``with conn.transaction():``, savepoints, isolation level and read-only.

``TransactionMixin`` gives ``Connection``: ``transaction()``, ``isolation_level`` and
``read_only``. The SQL and the report rows are in ``_characteristics``.
"""
from scratchbird.transactions._block import SavepointNotUndoneWarning, Transaction
from scratchbird.transactions._characteristics import ISOLATION_LEVELS
from scratchbird.transactions._mixin import TransactionMixin

__all__ = ["Transaction", "TransactionMixin", "SavepointNotUndoneWarning", "ISOLATION_LEVELS"]
