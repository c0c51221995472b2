"""SQLAlchemy's dialect compliance suite; requirements.py says what the server supports."""
from sqlalchemy.testing.suite import *  # noqa: F401,F403
from sqlalchemy.testing.suite import JoinTest as _JoinTest
from sqlalchemy.testing.suite import ServerSideCursorsTest as _ServerSideCursorsTest


class ServerSideCursorsTest(_ServerSideCursorsTest):
    def _is_server_side(self, cursor):
        # the suite knows only the drivers it ships with (its own TODO says so): a
        # scratchbird streaming cursor is conn.cursor(stream=True)
        return bool(getattr(cursor, "stream", False))


class JoinTest(_JoinTest):
    __requires__ = ("delete_parent_after_child_in_one_transaction",)
