"""SQLAlchemy 2 dialect for scratchbird (``pip install scratchbird[sqlalchemy]``).

    from sqlalchemy import create_engine
    engine = create_engine("scratchbird://sb:secret@127.0.0.1:3092/demo?sslmode=require")

    from sqlalchemy.ext.asyncio import create_async_engine
    engine = create_async_engine("scratchbird+async://sb:secret@127.0.0.1:3092/demo")

The package's entry point registers the ``scratchbird://`` scheme; importing this module
registers it as well, for a source tree that is not installed. ``copy_method`` is a
``DataFrame.to_sql(method=...)`` that loads through the driver's COPY (``conn.load``).
"""
from __future__ import annotations

try:
    from sqlalchemy.dialects import registry as _registry
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("scratchbird.sqlalchemy needs SQLAlchemy 2: "
                      "pip install 'scratchbird[sqlalchemy]'") from exc

from scratchbird.sqlalchemy.dialect import ScratchbirdDialect
from scratchbird.sqlalchemy.dataframes import copy_method

# scratchbird:// and its explicit-driver spelling scratchbird+scratchbird://
_registry.register("scratchbird", "scratchbird.sqlalchemy.dialect", "ScratchbirdDialect")
_registry.register("scratchbird.scratchbird", "scratchbird.sqlalchemy.dialect", "ScratchbirdDialect")
# create_async_engine("scratchbird+async://..."): the driver's asyncio API (needs greenlet)
_registry.register("scratchbird.async", "scratchbird.sqlalchemy.asyncio_dialect",
                   "ScratchbirdAsyncDialect")

__all__ = ["ScratchbirdDialect", "copy_method"]
