"""No secret leaks: the password, a SCRAM proof or any SCRAM key never shows in a repr,
an exception message or a DEBUG log line of a representative session, nor in the reprs
of prepared statements, COPY objects and the statement cache, nor in the CLI's error
lines (``python -m scratchbird query`` in a subprocess).

The session runs against both dev-server profiles (``sbsql``: password over TLS;
``full``: SCRAM). The SCRAM secrets of the live exchange are recorded by a ScramClient
subclass that computes them from the messages the client really exchanged.
"""
import base64
import logging
import os
import re
import subprocess
import sys

import pytest

import scratchbird
from scratchbird import _protocol, _scram
from scratchbird.errors import Error
from tests.conftest import PASSWORD


class RecordingScramClient(_scram.ScramClient):
    """The real client; keeps a copy of what must never leak, for the search."""

    secrets = []

    def client_final(self, server_first):
        text = bytes(server_first).decode()
        attrs = dict(part.split("=", 1) for part in text.split(","))
        out = super().client_final(server_first)
        salted = _scram._salted_password(PASSWORD.encode(), base64.b64decode(attrs["s"]),
                                         int(attrs["i"]))
        client_key, stored_key, server_key = _scram._keys(salted)
        proof = out.decode().rsplit(",p=", 1)[1]
        self.secrets.extend([proof, base64.b64decode(proof)])
        for key in (salted, client_key, stored_key, server_key):
            self.secrets.extend([key, base64.b64encode(key).decode()])
        return out


def forms(secret):
    """Every text form a secret could take in a message: as is, hex, base64, repr."""
    raw = secret.encode() if isinstance(secret, str) else secret
    out = {raw.hex(), base64.b64encode(raw).decode(), repr(raw)[2:-1]}
    if isinstance(secret, str):
        out.add(secret)
    return {form for form in out if len(form) >= 6}


def describe(exc):
    parts = [repr(exc), str(exc), repr(getattr(exc, "args", ()))]
    for attr in ("detail", "hint", "fields"):
        parts.append(repr(getattr(exc, attr, None)))
    for linked in (exc.__cause__, exc.__context__):
        if linked is not None and linked is not exc:
            parts.append(repr(linked) + str(linked))
    return parts


def session(devserver, seen):
    """A representative session; everything visible goes into ``seen``."""
    def attempt(call, *args, **kwargs):
        try:
            return call(*args, **kwargs)
        except Exception as exc:   # noqa: BLE001 - any exception text is searched
            seen.extend(describe(exc))

    conn = scratchbird.connect(devserver.dsn)
    seen += [repr(conn), repr(conn.params), repr(conn._proto), repr(conn._transport),
             repr(conn.info), str(conn.params.__dict__.get("sslmode"))]
    cur = conn.cursor()
    seen.append(repr(cur))
    table = f"secrets_{devserver.profile_name}"
    cur.execute(f"CREATE TABLE {table} (id INTEGER, name VARCHAR)")
    cur.execute(f"INSERT INTO {table} VALUES (?, ?)", (1, "x"))
    cur.execute(f"SELECT * FROM {table} WHERE id = ?", (1,))
    seen += [repr(cur.fetchall()), repr(cur.description), repr(cur)]
    attempt(cur.execute, "SELEC broken syntax")
    attempt(cur.execute, "SELECT * FROM no_such_table_here")
    attempt(cur.execute, "SELECT ?", (object(),))
    attempt(cur.execute, f"SELECT * FROM {table} WHERE id = ?", (1, 2))
    cur.execute(f"DROP TABLE {table}")
    conn.commit()
    cur.close()
    conn.close()
    seen += [repr(conn), repr(cur)]
    attempt(cur.execute, "SELECT 1")
    attempt(conn.cursor)
    attempt(scratchbird.connect, devserver.dsn.replace(PASSWORD, "wrong-" + PASSWORD[::-1]))
    attempt(scratchbird.connect, devserver.dsn + "&sslmode=bogus")
    attempt(scratchbird.connect, devserver.dsn.replace(str(devserver.port), "1"))


def test_no_secret_in_reprs_errors_or_debug_logs(devserver, monkeypatch, caplog):
    RecordingScramClient.secrets = []
    monkeypatch.setattr(_protocol, "ScramClient", RecordingScramClient)
    seen = []
    with caplog.at_level(logging.DEBUG, logger="scratchbird"):
        session(devserver, seen)
    seen += [record.getMessage() for record in caplog.records]
    seen += [repr(record.args) for record in caplog.records]
    haystack = "\n".join(seen)
    assert "Error" in haystack or "error" in haystack      # the failures were captured
    secrets = [PASSWORD] + RecordingScramClient.secrets
    if devserver.profile_name == "full":
        assert len(secrets) > 1, "the full profile authenticates with SCRAM"
    for secret in secrets:
        for form in forms(secret):
            assert form not in haystack, f"a secret ({form[:3]}...) leaked"


def test_public_objects_reprs_hide_the_password():
    from scratchbird._compression import Compressor, Decompressor
    from scratchbird._dsn import make_params

    params = make_params(f"scratchbird://alice:{PASSWORD}@localhost:1/db")
    client = _scram.ScramClient("alice", PASSWORD)
    verifier = _scram.make_verifier(PASSWORD)
    proto = _protocol.ClientProtocol(user="alice", password=PASSWORD, database="db")
    texts = [repr(params), str(params), repr(client), repr(verifier), repr(proto),
             repr(Compressor()), repr(Decompressor()), repr(_scram.ScramServer(verifier, "alice"))]
    for text in texts:
        assert PASSWORD not in text
        assert base64.b64encode(verifier.stored_key).decode() not in text
    assert re.search(r"alice", repr(params))


# ---------------------------------------------------------------- later objects and the CLI


def test_prepared_copy_and_statement_cache_reprs_hide_the_password(devserver):
    """PreparedStatement, Copy, the statement cache, its entries and server statements."""
    seen = []
    with scratchbird.connect(devserver.dsn, prepare_threshold=0) as conn:
        table = f"secrets_later_{devserver.profile_name}"
        cur = conn.cursor()
        cur.execute(f"CREATE TABLE {table} (id INTEGER, name VARCHAR)")
        stmt = conn.prepare(f"INSERT INTO {table} (id, name) VALUES (?, ?)")
        seen.append(repr(stmt))
        stmt.executemany([(1, "a"), (2, "b")])
        cur.execute(f"SELECT name FROM {table} WHERE id = ?", (1,))
        with cur.copy(f"COPY {table} (id, name) FROM STDIN") as copy:
            seen.append(repr(copy))
            copy.write_row((3, "c"))
            seen.append(repr(copy))
        seen.append(repr(copy))
        cache = conn.statement_cache
        seen += [repr(cache), str(cache), repr(cache.stats()), repr(cache.live)]
        seen += [repr(entry) for entry in cache._entries.values()]
        seen += [repr(vars(entry)) if hasattr(entry, "__dict__") else repr(entry)
                 for entry in cache._entries.values()]
        cur.execute(f"DROP TABLE {table}")
        seen.append(repr(stmt))
    assert "PreparedStatement" in "\n".join(seen) and "Copy" in "\n".join(seen)
    haystack = "\n".join(seen)
    for form in forms(PASSWORD):
        assert form not in haystack, f"the password ({form[:3]}...) leaked"


def run_cli(*args, dsn_env=None):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.path.join(os.path.dirname(os.path.dirname(__file__)), "src") + \
        os.pathsep + env.get("PYTHONPATH", "")
    env.pop("SCRATCHBIRD_DSN", None)
    if dsn_env is not None:
        env["SCRATCHBIRD_DSN"] = dsn_env
    result = subprocess.run([sys.executable, "-m", "scratchbird", *args], capture_output=True,
                            text=True, env=env, timeout=120, stdin=subprocess.DEVNULL)
    return result.returncode, result.stdout + result.stderr


def test_cli_error_lines_hide_the_password(devserver):
    """`python -m scratchbird query` with a wrong password, a bad option, an unreachable
    port and a malformed DSN, plain and with --debug (a traceback), DSN as option and as
    SCRATCHBIRD_DSN: neither the password given nor the server's appears."""
    wrong = "wr0ng-" + PASSWORD[::-1]
    dsns = [devserver.dsn.replace(PASSWORD, wrong),                  # wrong password
            devserver.dsn + "&sslmode=bogus",                         # bad option
            devserver.dsn.replace(f":{devserver.port}/", ":1/"),      # nobody listening
            devserver.dsn.replace("scratchbird://", "scratchbird:/").replace("@", "@@")]
    outputs = []
    for dsn in dsns:
        for debug in ([], ["--debug"]):
            rc, text = run_cli("--dsn", dsn, *debug, "query", "SELECT 1")
            assert rc != 0 and text.strip(), (dsn.replace(PASSWORD, "***"), text)
            outputs.append(text)
        rc, text = run_cli("query", "SELECT 1", dsn_env=dsn)
        assert rc != 0 and "error" in text.lower()
        outputs.append(text)
    haystack = "\n".join(outputs)
    assert "Authentication failed" in haystack and "cannot parse DSN" in haystack
    for secret in (PASSWORD, wrong):
        for form in forms(secret) | {secret[:4]}:   # a prefix too: the DSN parser once
            assert form not in haystack, f"a password ({form[:3]}...) leaked"  # echoed one
