"""The "scratchbird" logger: silent by default; at DEBUG one line per request with no
secret in it (passwords, SCRAM messages, parameter values), over both profiles (sbsql:
cleartext password; full: SCRAM-SHA-256) and both transports."""
from __future__ import annotations

import logging

import pytest

import scratchbird
from scratchbird.errors import AuthenticationError, ProgrammingError
from tests.conftest import PASSWORD

SECRET_VALUE = "v4lue-n0t-for-logs"
SECRET_NUMBER = 918273645501


def test_logger_has_a_null_handler():
    logger = logging.getLogger("scratchbird")
    assert any(isinstance(h, logging.NullHandler) for h in logger.handlers)


def _session(dsn, **options):
    conn = scratchbird.connect(dsn, **options)
    try:
        cur = conn.cursor()
        cur.execute("CREATE TABLE log_t_%s (id BIGINT, secret VARCHAR)" % id(conn))
        cur.execute("INSERT INTO log_t_%s (id, secret) VALUES (:id, :s)" % id(conn),
                    {"id": SECRET_NUMBER, "s": SECRET_VALUE})
        cur.executemany("INSERT INTO log_t_%s (id, secret) VALUES (?, ?)" % id(conn),
                        [(SECRET_NUMBER, SECRET_VALUE), (1, SECRET_VALUE + "2")])
        cur.execute("SELECT id FROM log_t_%s WHERE secret = ?" % id(conn), [SECRET_VALUE])
        conn.commit()
        with pytest.raises(ProgrammingError):
            cur.execute("SELECT nope FROM no_such_table_%s WHERE x = :v" % id(conn),
                        {"v": SECRET_VALUE})
        conn.rollback()
        with conn.transaction():
            cur.execute("SELECT :v AS v", {"v": SECRET_VALUE})
        conn.ping()
    finally:
        conn.close()


@pytest.mark.parametrize("which", ["devserver", "plain_devserver"])
def test_debug_log_of_a_session_has_no_secret(request, profile, which, caplog):
    server = request.getfixturevalue(which)
    with caplog.at_level(logging.DEBUG, logger="scratchbird"):
        _session(server.dsn)
        bad = server.dsn.replace(f":{PASSWORD}@", ":Wr0ng-pa55word@")
        with pytest.raises(AuthenticationError):
            scratchbird.connect(bad)
    text = "\n".join(record.getMessage() for record in caplog.records)
    lines = [r.getMessage() for r in caplog.records if r.name == "scratchbird"]
    assert any(line.startswith("connected to") for line in lines)
    queries = [line for line in lines if line.startswith("QUERY") or line.startswith("PARSE")]
    assert queries and all(" ms" in line and "bytes, received" in line for line in queries)
    # parameters appear as their types only
    assert any("params={'id': 'int', 's': 'str'}" in line for line in lines), lines
    for secret in (PASSWORD, "Wr0ng-pa55word", SECRET_VALUE, str(SECRET_NUMBER)):
        assert secret not in text, f"{secret!r} leaked into the log"
    # no SCRAM message either: client-final always carries c=biws (RFC 5802, no binding)
    assert "c=biws" not in text and "n,,n=" not in text
    assert any("TXN_COMMIT" in line for line in lines)
    assert any("PING" in line for line in lines)


def test_log_parameters_shows_values_when_asked(devserver, caplog):
    with caplog.at_level(logging.DEBUG, logger="scratchbird"):
        with scratchbird.connect(devserver.dsn, log_parameters=True) as conn:
            conn.execute("SELECT :v AS v", {"v": SECRET_VALUE})
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert SECRET_VALUE in text and PASSWORD not in text


def test_long_sql_is_cut_to_200_characters(devserver, caplog):
    sql = "SELECT 1 AS " + "x" * 500
    with caplog.at_level(logging.DEBUG, logger="scratchbird"):
        with scratchbird.connect(devserver.dsn) as conn:
            conn.execute(sql)
    line = next(r.getMessage() for r in caplog.records if r.getMessage().startswith("QUERY"))
    assert sql[:200] in line and sql[:201] not in line and "(512 chars)" in line


def test_silent_unless_configured(devserver, capsys):
    with scratchbird.connect(devserver.dsn) as conn:
        conn.execute("SELECT 1")
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
