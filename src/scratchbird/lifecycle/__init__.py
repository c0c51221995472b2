"""What pools and frameworks ask of a connection (Go's database/sql/driver contract).

``LifecycleMixin`` gives ``Connection``: ``reset_session()``, ``is_valid()``, ``broken``,
``cancel()`` and the statement deadline behind ``cursor.execute(..., timeout=)`` and the
``statement_timeout`` connect option. The cancel machinery lives in ``_cancel``.
"""
from scratchbird.lifecycle._cancel import CANCEL_GRACE_SECONDS, RequestControl
from scratchbird.lifecycle._mixin import LifecycleMixin

__all__ = ["LifecycleMixin", "RequestControl", "CANCEL_GRACE_SECONDS"]
