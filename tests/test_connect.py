"""Connecting: TLS modes, authentication, timeouts, and broken peers (real dev server)."""
from __future__ import annotations

import socket
import threading

import pytest

import scratchbird
from scratchbird import errors
from tests.conftest import PASSWORD, USER
from tests.proxy import FaultyProxy


def _dsn(srv, **query):
    base = f"scratchbird://{USER}:{PASSWORD}@127.0.0.1:{srv.port}/default"
    return base + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_tls_verify_full(devserver, profile):
    with scratchbird.connect(devserver.dsn) as conn:
        info = conn.info
        assert info["tls"] is True
        assert info["server"] == ("ScratchBird native SBWP P1" if profile == "sbsql"
                                  else "ScratchBird dev server (full profile)")
        assert info["dialect"] == "sbsql"
        assert info["txn_id"] > 0 and info["protocol_version"] == "1.1"
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_tls_is_1_3(devserver):
    conn = scratchbird.connect(devserver.dsn)
    try:
        assert conn._transport.sock.version() == "TLSv1.3"
    finally:
        conn.close()


def test_require_without_verification(devserver):
    with scratchbird.connect(_dsn(devserver, sslmode="require")) as conn:
        assert conn.info["tls"] is True


def test_verify_ca_with_wrong_root_fails(devserver, tmp_path):
    from scratchbird.devserver._tls import generate_certificate
    other = generate_certificate(tmp_path)[0]
    with pytest.raises(scratchbird.OperationalError, match="certificate verification failed"):
        scratchbird.connect(_dsn(devserver, sslmode="verify-ca", sslrootcert=other))


def test_verify_full_checks_host_name(devserver):
    # The generated certificate names localhost and 127.0.0.1, not this alias.
    dsn = _dsn(devserver, sslmode="verify-full", sslrootcert=devserver.cafile)
    dsn = dsn.replace("@127.0.0.1:", "@127.0.0.2:")
    with pytest.raises(scratchbird.OperationalError):
        scratchbird.connect(dsn)


def test_plaintext_with_sslmode_disable(plain_devserver):
    with scratchbird.connect(_dsn(plain_devserver, sslmode="disable")) as conn:
        assert conn.info["tls"] is False
        assert conn.execute("SELECT 'plain'").fetchone() == ("plain",)


def test_prefer_falls_back_but_refuses_cleartext_password(plain_devserver, profile):
    if profile == "sbsql":   # password auth would send the password in clear: refused
        with pytest.raises(errors.AuthenticationError, match="unencrypted"):
            scratchbird.connect(_dsn(plain_devserver))  # sslmode=prefer is the default
    else:                    # SCRAM never sends the password: plaintext is allowed
        with scratchbird.connect(_dsn(plain_devserver)) as conn:
            assert conn.info["tls"] is False and conn.execute("SELECT 1").fetchone() == (1,)


def test_require_against_plaintext_server_fails(plain_devserver):
    with pytest.raises(scratchbird.OperationalError, match="TLS"):
        scratchbird.connect(_dsn(plain_devserver, sslmode="require"))


def test_allow_upgrades_to_tls(devserver):
    with scratchbird.connect(_dsn(devserver, sslmode="allow")) as conn:
        assert conn.info["tls"] is True


def test_disable_against_tls_server_fails(devserver):
    with pytest.raises(scratchbird.OperationalError):
        scratchbird.connect(_dsn(devserver, sslmode="disable"), connect_timeout=5)


def test_wrong_password(devserver):
    dsn = f"scratchbird://{USER}:not-the-password-xyz@127.0.0.1:{devserver.port}/default?sslmode=require"
    with pytest.raises(scratchbird.OperationalError) as info:
        scratchbird.connect(dsn)
    exc = info.value
    assert isinstance(exc, errors.AuthenticationError)
    assert exc.sqlstate in ("28000", "28P01") and exc.diag_code == "SECURITY.AUTHENTICATION.FAILED"
    assert "not-the-password-xyz" not in str(exc) and "not-the-password-xyz" not in repr(exc)


def test_password_not_in_repr(conn):
    assert PASSWORD not in repr(conn) and PASSWORD not in repr(conn.params)


def test_password_with_semicolon(devserver, profile):
    dsn = f"scratchbird://{USER}:a%3Bb@127.0.0.1:{devserver.port}/default?sslmode=require"
    if profile == "sbsql":   # the server would misread it as structured evidence (3.9)
        with pytest.raises(scratchbird.InterfaceError, match="';'"):
            scratchbird.connect(dsn)
    else:                    # SCRAM carries any password: this one is just wrong
        with pytest.raises(errors.AuthenticationError):
            scratchbird.connect(dsn)


def test_legacy_startup_layout(plain_devserver):
    with scratchbird.connect(_dsn(plain_devserver, sslmode="disable"), startup_layout="legacy") as conn:
        assert conn.info["server"] is None  # legacy sessions get no SERVER_INFO
        assert conn.execute("SELECT 42 AS answer").fetchall() == [(42,)]
        assert conn.execute("SELECT 42 AS answer").description[0][0] == "answer"


def test_connection_refused():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    with pytest.raises(scratchbird.OperationalError, match="cannot connect"):
        scratchbird.connect(f"scratchbird://u:p@127.0.0.1:{port}/d?sslmode=disable")


def test_connect_timeout_on_a_silent_server():
    listener = socket.create_server(("127.0.0.1", 0))
    accepted = []
    threading.Thread(target=lambda: accepted.append(listener.accept()), daemon=True).start()
    outcome = []

    def attempt():
        try:
            scratchbird.connect(f"scratchbird://u:p@127.0.0.1:{listener.getsockname()[1]}/d",
                                sslmode="disable", connect_timeout=0.5)
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 - checked below, in the test's thread
            outcome.append(exc)
    # A hang guard, not a timing: connect() must return at all (its own timeout is 0.5 s).
    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(60)
    listener.close()
    assert not worker.is_alive(), "connect() hung on a silent server despite connect_timeout"
    assert isinstance(outcome[0], scratchbird.OperationalError), outcome


def test_text_banner_is_reported(plain_devserver):
    # A server that answers with the text-protocol banner (REFERENCE 3.3).
    listener = socket.create_server(("127.0.0.1", 0))

    def serve():
        sock, _ = listener.accept()
        sock.recv(1024)
        sock.sendall(b"ScratchBird SBSQL parser ready\n")
        sock.close()
    threading.Thread(target=serve, daemon=True).start()
    with pytest.raises(scratchbird.OperationalError, match="banner"):
        scratchbird.connect(f"scratchbird://u:p@127.0.0.1:{listener.getsockname()[1]}/d",
                            sslmode="disable", connect_timeout=5)
    listener.close()


def test_dropped_connection_mid_result(plain_devserver):
    # Let the handshake and some rows through, then cut the server's stream.
    def cut(data, offset):
        return None if offset > 6000 else data
    with FaultyProxy("127.0.0.1", plain_devserver.port, s2c_filter=cut) as proxy:
        conn = scratchbird.connect(f"scratchbird://{USER}:{PASSWORD}@127.0.0.1:{proxy.port}/default",
                                   sslmode="disable")
        with pytest.raises(scratchbird.OperationalError, match="closed the connection|lost"):
            conn.execute("SELECT i, 'row ' || i FROM range(100000) t(i)")
        assert conn.closed
        with pytest.raises(scratchbird.InterfaceError, match="closed"):
            conn.cursor()


def test_malformed_frame_from_server(plain_devserver):
    # Corrupt the magic of a frame after the handshake: a ProtocolError, connection closed.
    state = {"armed": False}

    def corrupt(data, offset):
        if state["armed"]:
            data = bytearray(data)
            pos = data.find(b"SBWP")
            if pos >= 0:
                data[pos:pos + 4] = b"XXXX"
                state["armed"] = False
            return bytes(data)
        return data
    with FaultyProxy("127.0.0.1", plain_devserver.port, s2c_filter=corrupt) as proxy:
        conn = scratchbird.connect(f"scratchbird://{USER}:{PASSWORD}@127.0.0.1:{proxy.port}/default",
                                   sslmode="disable")
        state["armed"] = True
        with pytest.raises(errors.ProtocolError, match="magic"):
            conn.execute("SELECT 1")
        assert conn.closed


def test_socket_timeout_closes_connection(plain_devserver):
    with FaultyProxy("127.0.0.1", plain_devserver.port) as proxy:
        conn = scratchbird.connect(f"scratchbird://{USER}:{PASSWORD}@127.0.0.1:{proxy.port}/default",
                                   sslmode="disable", socket_timeout=0.5)
        proxy.s2c_filter = lambda data, offset: b""  # swallow everything from now on
        with pytest.raises(scratchbird.OperationalError, match="socket_timeout"):
            conn.execute("SELECT 1")
        assert conn.closed


def test_server_keeps_serving_after_a_broken_client(plain_devserver):
    s = socket.create_connection(("127.0.0.1", plain_devserver.port))
    s.sendall(b"SBWP\x01\x01\x03\x00\xff\xff\xff\xff" + bytes(28))  # absurd length
    s.close()
    with scratchbird.connect(_dsn(plain_devserver, sslmode="disable")) as conn:
        assert conn.execute("SELECT 7").fetchone() == (7,)
