"""TLS verification modes and client certificates against real dev servers over real TLS.

Certificates come from tests/tls_material.py (generated per session). ``verify-full``
checks the chain and the host name, ``verify-ca`` the chain only, ``require`` encrypts
without verifying and refuses a server that offers no TLS; a dev server started with
``tls_client_ca`` (``--tls-client-ca``) requires a client certificate from that CA.
"""
import pytest

import scratchbird
from scratchbird.devserver import DevServer
from scratchbird.errors import OperationalError
from tests.tls_material import Authority

USER, PASSWORD = "sb", "tls-test-pw"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pki")
    trusted, rogue = Authority(folder, "trusted"), Authority(folder, "rogue")
    return {
        "folder": folder,
        "trusted": trusted,
        "rogue": rogue,
        "good": trusted.issue("good-server"),
        "other_host": trusted.issue("other-host", hosts=("db.other.example",)),
        "expired": trusted.issue("expired-server", expired=True),
        "untrusted": rogue.issue("rogue-server"),
        "client": trusted.issue("client", hosts=(), client=True),
        "rogue_client": rogue.issue("rogue-client", hosts=(), client=True),
    }


@pytest.fixture(scope="module")
def servers(pki):
    started = {}
    try:
        for label in ("good", "other_host", "expired", "untrusted"):
            cert, key = pki[label]
            started[label] = DevServer(user=USER, password=PASSWORD, certfile=cert,
                                       keyfile=key).start()
        cert, key = pki["good"]
        started["mtls"] = DevServer(user=USER, password=PASSWORD, certfile=cert, keyfile=key,
                                    tls_client_ca=pki["trusted"].ca_file).start()
        started["plain"] = DevServer(user=USER, password=PASSWORD, tls="off").start()
        yield started
    finally:
        for server in started.values():
            server.stop()


def connect(server, **options):
    options.setdefault("connect_timeout", 10)
    return scratchbird.connect(host="127.0.0.1", port=server.port, user=USER,
                               password=PASSWORD, database="db", **options)


def works(conn):
    with conn:
        cur = conn.cursor()
        cur.execute("SELECT 41 + 1")
        return cur.fetchone()[0] == 42


def test_verify_full_accepts_the_right_host_from_the_trusted_ca(servers, pki):
    assert works(connect(servers["good"], sslmode="verify-full",
                         sslrootcert=pki["trusted"].ca_file))


@pytest.mark.parametrize("label, reason", [
    ("other_host", "Hostname mismatch|IP address mismatch|doesn't match"),
    ("expired", "expired"),
    ("untrusted", "unable to get local issuer|self.signed|unknown ca"),
])
def test_verify_full_refuses(servers, pki, label, reason):
    with pytest.raises(OperationalError, match=f"(?i)certificate verification failed.*({reason})"):
        connect(servers[label], sslmode="verify-full", sslrootcert=pki["trusted"].ca_file)


def test_verify_ca_accepts_another_hosts_name_but_not_another_ca(servers, pki):
    assert works(connect(servers["other_host"], sslmode="verify-ca",
                         sslrootcert=pki["trusted"].ca_file))
    with pytest.raises(OperationalError, match="(?i)certificate verification failed"):
        connect(servers["untrusted"], sslmode="verify-ca", sslrootcert=pki["trusted"].ca_file)


def test_require_refuses_a_server_that_offers_no_tls(servers):
    with pytest.raises(OperationalError, match="(?i)TLS"):
        connect(servers["plain"], sslmode="require")


def test_require_encrypts_without_verifying(servers):
    assert works(connect(servers["untrusted"], sslmode="require"))


def test_client_certificate_end_to_end(servers, pki):
    cert, key = pki["client"]
    assert works(connect(servers["mtls"], sslmode="verify-full",
                         sslrootcert=pki["trusted"].ca_file, sslcert=cert, sslkey=key))


@pytest.mark.parametrize("which", ["none", "rogue_client"])
def test_server_requiring_client_certificates_refuses_others(servers, pki, which):
    options = {}
    if which != "none":
        options["sslcert"], options["sslkey"] = pki[which]
    with pytest.raises(OperationalError):
        connect(servers["mtls"], sslmode="verify-full", sslrootcert=pki["trusted"].ca_file,
                **options)


def test_dev_server_command_line_takes_the_client_ca(pki):
    from scratchbird.devserver.__main__ import build_parser

    args = build_parser().parse_args(["--tls-client-ca", pki["trusted"].ca_file])
    assert args.tls_client_ca == pki["trusted"].ca_file
    with pytest.raises(ValueError, match="tls_client_ca needs tls='required'"):
        DevServer(tls="off", tls_client_ca=pki["trusted"].ca_file)
