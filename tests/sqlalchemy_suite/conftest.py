"""SQLAlchemy's own compliance suite (sqlalchemy.testing.suite) against a dev server that this
conftest starts: real TCP, real TLS, real DuckDB, profile ``full`` (SCRATCHBIRD_SA_PROFILE=sbsql
runs the same suite against today's server's shapes)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))   # requirements.py, named in setup.cfg

import scratchbird.sqlalchemy  # noqa: E402,F401  (registers scratchbird:// without an install)
from scratchbird.devserver import DevServer  # noqa: E402

pytest.register_assert_rewrite("sqlalchemy.testing.assertions")

from sqlalchemy.testing.plugin import pytestplugin as _plugin  # noqa: E402
from sqlalchemy.testing.plugin.pytestplugin import *  # noqa: E402,F401,F403

_SERVER = None


def pytest_configure(config):
    """Start the dev server first, then hand its URL to SQLAlchemy's plugin."""
    global _SERVER
    profile = os.environ.get("SCRATCHBIRD_SA_PROFILE", "full")
    _SERVER = DevServer(profile=profile, user="sb", password="sa-suite").start()
    config.option.dburi = [_SERVER.dsn]
    import scratchbird
    with scratchbird.connect(_SERVER.dsn) as conn:   # the suite's second and third schemas
        cur = conn.cursor()
        cur.execute("CREATE SCHEMA test_schema")
        cur.execute("CREATE SCHEMA test_schema_2")
    _plugin.pytest_configure(config)


def pytest_unconfigure(config):
    _plugin.pytest_unconfigure(config)
    if _SERVER is not None:
        _SERVER.stop()


def pytest_report_header(config):
    return f"scratchbird dev server profile {_SERVER.profile if _SERVER else '?'}; IMPL={scratchbird.IMPL}"
