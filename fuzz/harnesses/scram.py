"""SCRAM-SHA-256 server messages (src/scratchbird/_scram.py) and the SBWP frames carrying
them (src/scratchbird/_auth_messages.py).

Input: ``server-first NUL server-final``. A client with the RFC 7677 test nonce reads the
server-first message and, if it accepts it, the server-final one. Also the raw input goes
through the AUTH_REQUEST, AUTH_CONTINUE and AUTH_OK payload parsers. Only
scratchbird.errors.Error may escape. The iteration cap is lowered to 8192 here so a fuzzed
``i=9999999`` costs milliseconds (the driver's cap is 10,000,000; both bounds are checked
by the same code). Pure Python only: there is no compiled twin.
"""
from __future__ import annotations

from fuzz.contract import outcome

USER, PASSWORD, NONCE = "user", "pencil", "rOprNGfwEbeRWgbNEkqO"  # RFC 7677 section 3


def _exchange(server_first: bytes, server_final: bytes):
    from scratchbird._scram import ScramClient

    client = ScramClient(USER, PASSWORD, nonce=NONCE, max_iterations=8192)
    client.client_first()
    client.client_final(server_first)
    client.verify_server_final(server_final)
    return client.done


def one_input(data: bytes) -> None:
    from scratchbird import _auth_messages as am

    server_first, _, server_final = data.partition(b"\0")
    result = outcome(_exchange, server_first, server_final)
    if result.error is None and result.value is not True:
        raise AssertionError("ScramClient accepted a server-final without finishing")
    for parse in (am.parse_scram_auth_request, am.parse_auth_continue, am.parse_scram_auth_ok):
        outcome(parse, data)


def seeds():
    first = (b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
             b"s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")
    final = b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
    return [first + b"\0" + final, first + b"\0e=invalid-proof", first + b",x=ext\0" + final,
            b"r=rOprNGfwEbeRWgbNEkqOxyz,s=QSXCR+Q6sek8bf92,i=4096\0v=AAAA"]
