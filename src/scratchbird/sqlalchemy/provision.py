"""Hooks for SQLAlchemy's test suite (``sqlalchemy.testing``), loaded by the suite through
``Dialect.load_provisioning()``; nothing here runs in an application."""
from typing import Any, Dict

from sqlalchemy.testing.provision import temp_table_keyword_args


@temp_table_keyword_args.for_db("scratchbird")  # type: ignore[untyped-decorator]  # SQLAlchemy's testing hooks are unannotated
def _temp_table_keyword_args(cfg: Any, eng: Any) -> Dict[str, Any]:
    return {"prefixes": ["TEMPORARY"]}
