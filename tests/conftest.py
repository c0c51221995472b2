"""Shared fixtures: the embedded dev server (real TCP, real TLS, real DuckDB) and the
shared protocol material (REFERENCE.md and the recorded captures)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

import scratchbird

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SCRATCHBIRD_SHARED", REPO.parent / "shared"))
REFERENCE = SHARED / "sbwp" / "REFERENCE.md"
CAPTURES = SHARED / "sbwp" / "captures"

# SQLAlchemy's compliance suite has its own conftest and pytest options: run it on its own
# (`.ci/run` does), never inside this session.
collect_ignore = ["sqlalchemy_suite"]

USER = "sb"
PASSWORD = "s3cret-pw"


def pytest_report_header(config):
    return f"scratchbird IMPL={scratchbird.IMPL}; shared material: {SHARED}"


def require_shared() -> None:
    """The golden vectors live in ../shared. CI always has it: there, missing is a failure."""
    if REFERENCE.exists() and CAPTURES.is_dir():
        return
    if os.environ.get("CI"):
        pytest.fail(f"shared protocol material not found at {SHARED}")
    pytest.skip(f"shared protocol material (REFERENCE.md, captures) not found at {SHARED}; "
                "set SCRATCHBIRD_SHARED or place shared/ beside the repository")


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    require_shared()
    return SHARED


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
