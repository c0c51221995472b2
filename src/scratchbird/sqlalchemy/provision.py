"""Hooks for SQLAlchemy's test suite (``sqlalchemy.testing``), loaded by the suite through
``Dialect.load_provisioning()``; nothing here runs in an application."""
from sqlalchemy.testing.provision import temp_table_keyword_args


@temp_table_keyword_args.for_db("scratchbird")
def _temp_table_keyword_args(cfg, eng):
    return {"prefixes": ["TEMPORARY"]}
