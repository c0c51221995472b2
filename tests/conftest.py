"""Shared fixtures: the embedded dev server (real TCP, real TLS, real DuckDB) and the
protocol material in tests/data (REFERENCE.md's hex dumps as JSON vectors, and the
recorded captures with their README), copied from the shared folder so that a fresh
clone runs every test."""
from __future__ import annotations

from pathlib import Path

import pytest

import scratchbird

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data"
SHARED = DATA                                      # kept for older imports: the material's home
REFERENCE = DATA / "reference_vectors.json"       # REFERENCE 11 and 12.B dumps (make_reference_vectors.py)
CAPTURES = DATA / "captures"

# SQLAlchemy's compliance suite has its own conftest and pytest options: run it on its own
# (`.ci/run` does), never inside this session.
collect_ignore = ["sqlalchemy_suite"]

USER = "sb"
PASSWORD = "s3cret-pw"


def pytest_report_header(config):
    return f"scratchbird IMPL={scratchbird.IMPL}; protocol material: {DATA}"


def require_shared() -> None:
    """The material is part of the repository now; nothing to skip. Kept so that tests
    written before tests/data existed still import it."""


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    return DATA


def _server(**kwargs):
    from scratchbird.devserver import DevServer
    return DevServer(user=USER, password=PASSWORD, **kwargs)


PROFILES = ("sbsql", "full")


@pytest.fixture(scope="session", params=PROFILES)
def profile(request) -> str:
    """Every end-to-end test runs against both dev-server profiles: ``sbsql`` (today's
    server: text values, password) and ``full`` (the v1.1 spec: SCRAM, binary values)."""
    return request.param


@pytest.fixture(scope="session")
def devserver(profile):
    """A TLS 1.3 dev server of the current profile, shared by the session."""
    with _server(tls="required", profile=profile) as srv:
        srv.profile_name = profile
        yield srv


@pytest.fixture(scope="session")
def plain_devserver(profile):
    """A plaintext dev server of the current profile."""
    with _server(tls="off", profile=profile) as srv:
        srv.profile_name = profile
        yield srv


@pytest.fixture
def conn(devserver):
    connection = scratchbird.connect(devserver.dsn)
    yield connection
    connection.close()


@pytest.fixture
def plain_conn(plain_devserver):
    connection = scratchbird.connect(plain_devserver.dsn)
    yield connection
    connection.close()


@pytest.fixture
def sa_engine(devserver):
    """A SQLAlchemy engine on the dev server (the dialect's tests and the DataFrame tests)."""
    sa = pytest.importorskip("sqlalchemy", reason="the SQLAlchemy dialect needs SQLAlchemy 2")
    import scratchbird.sqlalchemy  # noqa: F401  (registers scratchbird:// without an install)
    engine = sa.create_engine(devserver.dsn)
    yield engine
    engine.dispose()
