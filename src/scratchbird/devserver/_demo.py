"""The tables of the README's tour, for ``python -m scratchbird.devserver --demo``.

``items`` holds 20 rows: ``(i, 'item i', i * 2 + 0.99)`` for i in 1..20, so the tour's
``SELECT ... WHERE id > 10`` starts at ``(11, 'item 11', Decimal('22.99'))``. They are
created and committed through an ordinary engine session before the server accepts
connections, so every connection sees them.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:                      # the engine loads DuckDB: only for the annotation
    from ._engine import Engine

__all__ = ["DEMO_STATEMENTS", "create_demo_tables"]

DEMO_STATEMENTS = (
    "CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR NOT NULL, price DECIMAL(10,2))",
    "INSERT INTO items (id, name, price) "
    "SELECT i, 'item ' || i, i * 2 + 0.99 FROM range(1, 21) t(i)",
)


def create_demo_tables(engine: Engine) -> None:
    """Create and commit the tour's tables in ``engine`` (an ``_engine.Engine``)."""
    session = engine.open_session()
    try:
        for sql in DEMO_STATEMENTS:
            for result in session.execute_script(sql):
                for _batch in result.batches():
                    pass
        session.commit()
    finally:
        session.close()
