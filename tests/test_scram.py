"""SCRAM-SHA-256 (RFC 5802/7677) client, server and SASLprep; the SBWP auth payloads
that carry the exchange (REFERENCE 3.8-3.11 [SPEC], docs/protocol.md (sections 2 and 3))."""
import base64
import hmac

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scratchbird import _client_messages as cm
from scratchbird import _server_messages as sm
from scratchbird._auth_messages import (SCRAM_SHA_256, STAGE_SERVER_FIRST, AuthContinue,
                                        choose_mechanism, encode_auth_continue,
                                        encode_scram_auth_ok, encode_scram_auth_request,
                                        encode_scram_auth_response, parse_auth_continue,
                                        parse_scram_auth_ok, parse_scram_auth_request)
from scratchbird._constants import AUTH_CONTINUE, AUTH_OK, AUTH_REQUEST, AUTH_RESPONSE
from scratchbird._impl import framing
from scratchbird._scram import (MAX_ITERATIONS, MIN_ITERATIONS, ScramClient, ScramServer,
                                ScramVerifier, make_verifier, saslprep)
from scratchbird.errors import (AuthenticationError, InterfaceError, NotSupportedError,
                                ProtocolError)

# RFC 7677 section 3
RFC_CLIENT_NONCE = "rOprNGfwEbeRWgbNEkqO"
RFC_SERVER_NONCE = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
RFC_SALT = base64.b64decode("W22ZaJ0SNY7soEsUEjb6gQ==")
RFC_CLIENT_FIRST = b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
RFC_SERVER_FIRST = (b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                    b"s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")
RFC_CLIENT_FINAL = (b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                    b"p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
RFC_SERVER_FINAL = b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="

SECRET = "Sup3r-S3cret-Pw"


def exchange(client, server):
    """Run a whole exchange; returns the server-final message the client verified."""
    server_first = server.server_first(client.client_first())
    server_final = server.server_final(client.client_final(server_first))
    client.verify_server_final(server_final)
    return server_final


def rfc_client():
    client = ScramClient("user", "pencil", nonce=RFC_CLIENT_NONCE)
    assert client.client_first() == RFC_CLIENT_FIRST
    return client


# ---------------------------------------------------------------- RFC 7677 test vector

def test_rfc7677_vector_client_side():
    client = rfc_client()
    assert client.client_final(RFC_SERVER_FIRST) == RFC_CLIENT_FINAL
    client.verify_server_final(RFC_SERVER_FINAL)
    assert client.done and client.iterations == 4096


def test_rfc7677_vector_server_side():
    verifier = make_verifier("pencil", RFC_SALT, 4096)
    server = ScramServer(verifier, "user", nonce=RFC_SERVER_NONCE)
    assert server.server_first(RFC_CLIENT_FIRST) == RFC_SERVER_FIRST
    assert server.server_final(RFC_CLIENT_FINAL) == RFC_SERVER_FINAL
    assert server.done


# ---------------------------------------------------------------- round trips

@pytest.mark.parametrize("iterations", [MIN_ITERATIONS, 10000])
def test_client_and_server_round_trip(iterations):
    verifier = make_verifier(SECRET, iterations=iterations)
    client, server = ScramClient("alice", SECRET), ScramServer(verifier, "alice")
    assert exchange(client, server).startswith(b"v=")
    assert client.done and server.done and client.iterations == iterations


def test_nonces_are_fresh_and_printable():
    firsts = {ScramClient("u", "p").client_first() for _ in range(20)}
    assert len(firsts) == 20
    for first in firsts:
        nonce = first.split(b",r=")[1]
        assert len(nonce) >= 24 and b"," not in nonce and all(0x21 <= b <= 0x7e for b in nonce)


def test_username_is_escaped_and_matched():
    client = ScramClient("a,b=c", SECRET)
    assert client.client_first().startswith(b"n,,n=a=2Cb=3Dc,r=")
    exchange(ScramClient("a,b=c", SECRET), ScramServer(make_verifier(SECRET), "a,b=c"))


def test_server_refuses_a_different_user_name():
    server = ScramServer(make_verifier(SECRET), "alice")
    with pytest.raises(AuthenticationError, match="user name does not match"):
        server.server_first(ScramClient("bob", SECRET).client_first())


def test_server_refuses_a_bad_escape_in_the_user_name():
    server = ScramServer(make_verifier(SECRET), "a=b")
    with pytest.raises(AuthenticationError, match="=2C or =3D"):
        server.server_first(b"n,,n=a=3Eb,r=abc")


def test_verifier_text_form_round_trips_and_hides_keys():
    verifier = make_verifier(SECRET, RFC_SALT, 4096)
    text = verifier.encode()
    assert text.startswith("SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$")
    assert ScramVerifier.decode(text) == verifier
    assert base64.b64encode(verifier.stored_key).decode() not in repr(verifier)
    with pytest.raises(ValueError):
        ScramVerifier.decode("SCRAM-SHA-256$4096:c2FsdA==$AAAA:AAAA")


@pytest.mark.parametrize("iterations", [0, 4095, MAX_ITERATIONS + 1])
def test_make_verifier_refuses_weak_or_absurd_iteration_counts(iterations):
    with pytest.raises(ValueError, match="iteration count"):
        make_verifier(SECRET, iterations=iterations)


# ---------------------------------------------------------------- failures

def test_wrong_password_is_refused_by_the_server():
    server = ScramServer(make_verifier("right password"), "alice")
    client = ScramClient("alice", "wrong password")
    final = client.client_final(server.server_first(client.client_first()))
    with pytest.raises(AuthenticationError, match="proof is wrong") as info:
        server.server_final(final)
    assert info.value.sqlstate == "28P01" and not server.done


def _server_final_for(verifier):
    """The server-final message of the RFC exchange, signed with ``verifier``'s ServerKey."""
    auth_message = b",".join([RFC_CLIENT_FIRST[3:], RFC_SERVER_FIRST,
                              RFC_CLIENT_FINAL.split(b",p=")[0]])
    return b"v=" + base64.b64encode(hmac.new(verifier.server_key, auth_message, "sha256").digest())


def test_client_refuses_a_server_that_does_not_know_the_password():
    assert _server_final_for(make_verifier("pencil", RFC_SALT, 4096)) == RFC_SERVER_FINAL
    # an impostor who knows the salt but holds the verifier of another password
    forged = _server_final_for(make_verifier("guess", RFC_SALT, 4096))
    client = rfc_client()
    client.client_final(RFC_SERVER_FIRST)
    with pytest.raises(AuthenticationError, match="signature does not match"):
        client.verify_server_final(forged)
    assert not client.done


@pytest.mark.parametrize("server_final, message", [
    (b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G5=", "not valid base64"),  # non-canonical
    (b"v=7rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=", "does not match"),
    (b"v=", "does not match"),
    (b"v=not base64!", "not valid base64"),
    (b"", "no server signature"),
    (b"x=1", "no server signature"),
    (b"e=invalid-proof", "refused SCRAM authentication: invalid-proof"),
    (b"e=other-error,x=1", "refused SCRAM authentication: other-error"),
    (b"\xff", "not valid UTF-8"),
])
def test_client_refuses_a_tampered_or_error_server_final(server_final, message):
    client = rfc_client()
    client.client_final(RFC_SERVER_FIRST)
    with pytest.raises(AuthenticationError, match=message):
        client.verify_server_final(server_final)
    with pytest.raises(InterfaceError):   # no second try
        client.verify_server_final(RFC_SERVER_FINAL)


@pytest.mark.parametrize("server_first, message", [
    (b"r=XXXXNGfwEbeRWgbNEkqO%hvYD,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", "does not extend"),
    (b"r=rOprNGfwEbeRWgbNEkqO,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", "does not extend"),
    (b"r=rOprNGfwEbeRWgbNEkq,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", "does not extend"),
    (b"r=rOprNGfwEbeRWgbNEkqO\x7fx,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", "printable"),
    (b"r=rOprNGfwEbeRWgbNEkqOabc,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4095", "at least 4096"),
    (b"r=rOprNGfwEbeRWgbNEkqOabc,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=1", "at least 4096"),
    (b"r=rOprNGfwEbeRWgbNEkqOabc,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=99999999", "more than"),
    (b"r=rOprNGfwEbeRWgbNEkqOabc,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=+4096", "not a positive integer"),
    (b"r=rOprNGfwEbeRWgbNEkqOabc,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=04096", "not a positive integer"),
    (b"r=rOprNGfwEbeRWgbNEkqOabc,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096.0", "not a positive integer"),
    (b"r=rOprNGfwEbeRWgbNEkqOabc,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=", "not a positive integer"),
    (b"r=rOprNGfwEbeRWgbNEkqOabc,s=W22ZaJ0SNY7soEsUEjb6gQ=,i=4096", "salt is not valid base64"),
    (b"r=rOprNGfwEbeRWgbNEkqOabc,s=W22Z*J0SNY7soEsUEjb6gQ==,i=4096", "salt is not valid base64"),
    (b"r=rOprNGfwEbeRWgbNEkqOabc,s=,i=4096", "salt is empty"),
    (b"m=ext,r=rOprNGfwEbeRWgbNEkqOabc,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", "mandatory extension"),
    (b"s=W22ZaJ0SNY7soEsUEjb6gQ==,r=rOprNGfwEbeRWgbNEkqOabc,i=4096", "'r=' missing"),
    (b"r=rOprNGfwEbeRWgbNEkqOabc,i=4096", "'s=' missing"),
    (b"r=rOprNGfwEbeRWgbNEkqOabc,s=W22ZaJ0SNY7soEsUEjb6gQ==", "'i=' missing"),
    (b"r=rOprNGfwEbeRWgbNEkqOabc,,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", "malformed"),
    (b"e=unknown-user", "'r=' missing"),
])
def test_client_validates_the_server_first_message_strictly(server_first, message):
    client = rfc_client()
    with pytest.raises(AuthenticationError, match=message):
        client.client_final(server_first)
    with pytest.raises(InterfaceError):   # the exchange is over
        client.client_final(RFC_SERVER_FIRST)


def test_client_ignores_optional_extensions_after_the_iteration_count():
    client = rfc_client()
    assert client.client_final(RFC_SERVER_FIRST + b",x=future") != RFC_CLIENT_FINAL  # AuthMessage differs
    assert client.iterations == 4096


def test_client_can_require_more_iterations():
    client = ScramClient("user", "pencil", nonce=RFC_CLIENT_NONCE, min_iterations=10000)
    client.client_first()
    with pytest.raises(AuthenticationError, match="at least 10000"):
        client.client_final(RFC_SERVER_FIRST)


def test_calls_out_of_order_are_interface_errors():
    client = ScramClient("user", "pencil")
    with pytest.raises(InterfaceError):
        client.client_final(RFC_SERVER_FIRST)
    with pytest.raises(InterfaceError):
        client.verify_server_final(RFC_SERVER_FINAL)
    server = ScramServer(make_verifier("pencil"), "user")
    with pytest.raises(InterfaceError):
        server.server_final(RFC_CLIENT_FINAL)


@pytest.mark.parametrize("client_first, message", [
    (b"p=tls-server-end-point,,n=user,r=abc", "channel binding is not supported"),
    (b"n,a=admin,n=user,r=abc", "authorization identity"),
    (b"x,,n=user,r=abc", "gs2 header"),
    (b"n=user,r=abc", "gs2 header"),
    (b"n,,m=ext,n=user,r=abc", "mandatory extension"),
    (b"n,,n=user", "'r=' missing"),
    (b"n,,n=user,r=a,b", "malformed"),
    (b"n,,n=user,r=", "printable"),
])
def test_server_validates_the_client_first_message(client_first, message):
    server = ScramServer(make_verifier("pencil"), "user")
    with pytest.raises(AuthenticationError, match=message):
        server.server_first(client_first)


@pytest.mark.parametrize("edit, message", [
    (lambda f: f.replace(b"c=biws", b"c=eSws"), "channel binding data"),
    (lambda f: f.replace(b"c=biws", b"c=???"), "not valid base64"),
    (lambda f: f.replace(b"hNlF$k0,", b"hNlF$k1,"), "nonce"),
    (lambda f: f.split(b",p=")[0] + b",p=AAAA", "wrong size"),
    (lambda f: f.split(b",p=")[0], "'p=' missing"),
    (lambda f: f.replace(b"p=dHzb", b"p=dHzc"), "proof is wrong"),
])
def test_server_refuses_a_tampered_client_final(edit, message):
    server = ScramServer(make_verifier("pencil", RFC_SALT, 4096), "user", nonce=RFC_SERVER_NONCE)
    server.server_first(RFC_CLIENT_FIRST)
    with pytest.raises(AuthenticationError, match=message):
        server.server_final(edit(RFC_CLIENT_FINAL))


# ---------------------------------------------------------------- SASLprep (RFC 4013)

@pytest.mark.parametrize("raw, prepared", [
    ("I\u00adX", "IX"),            # RFC 4013 example: soft hyphen mapped to nothing
    ("user", "user"),
    ("USER", "USER"),             # no case folding
    ("\u00aa", "a"),               # NFKC
    ("\u2168", "IX"),              # NFKC of ROMAN NUMERAL NINE
    ("a\u00a0b", "a b"),           # non-ASCII space mapped to U+0020
    ("a\u3000b\u2003c", "a b c"),
    ("a\u200bb\ufeffc", "abc"),    # zero-width space and BOM mapped to nothing
    ("\ufb01", "fi"),
    ("\u05d0\u05d1", "\u05d0\u05d1"),  # right-to-left only: fine
])
def test_saslprep_mapping(raw, prepared):
    assert saslprep(raw) == prepared


@pytest.mark.parametrize("raw, table", [
    ("\u0007", "C.2.1"),           # RFC 4013 example
    ("ab\x00", "C.2.1"),
    ("\u0085", "C.2.2"),
    ("\uffff", "C.4"),
    ("\ufdd0", "C.4"),
    ("\ue000", "C.3"),
    ("\ud800", "C.5"),
    ("\ufffd", "C.6"),
    ("\u2ff0", "C.7"),
    ("\u200e", "C.8"),
    ("\U000e0001", "C.9"),
    ("\u0221", "A.1"),             # unassigned in Unicode 3.2
    ("\u0627\u0031", "right-to-left"),  # RFC 4013 example: RandALCat must start and end
    ("\u05d0a\u05d0", "mixes"),
])
def test_saslprep_prohibits(raw, table):
    with pytest.raises(InterfaceError, match=table):
        saslprep(raw)


def test_saslprep_query_mode_allows_unassigned_code_points():
    assert saslprep("\u0221", allow_unassigned=True) == "\u0221"


@pytest.mark.parametrize("stored, given", [
    ("pass word", "pass\u00a0word"),
    ("IX", "I\u00adX"),
    ("IX", "\u2168"),
    ("fish", "\ufb01sh"),
])
def test_saslprep_equivalent_passwords_authenticate(stored, given):
    exchange(ScramClient("alice", given), ScramServer(make_verifier(stored), "alice"))


def test_saslprep_applies_to_the_user_name_too():
    client = ScramClient("\u2168", SECRET)
    assert client.client_first().startswith(b"n,,n=IX,")
    exchange(ScramClient("\u2168", SECRET), ScramServer(make_verifier(SECRET), "IX"))


@pytest.mark.parametrize("password", ["bad\u0007pw", "bad\uffffpw", "\u00ad", "", "bad\ud800"])
def test_refused_passwords_are_interface_errors_on_both_sides(password):
    with pytest.raises(InterfaceError):
        ScramClient("alice", password)
    with pytest.raises(InterfaceError):
        make_verifier(password)


def test_password_must_be_text():
    with pytest.raises(InterfaceError, match="must be a str"):
        ScramClient("alice", b"bytes")


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=12))
def test_whatever_saslprep_accepts_client_and_server_agree(password):
    try:
        prepared = saslprep(password)
    except InterfaceError:
        with pytest.raises(InterfaceError):
            ScramClient("alice", password)
        with pytest.raises(InterfaceError):
            make_verifier(password)
        return
    if not prepared:
        with pytest.raises(InterfaceError, match="empty"):
            ScramClient("alice", password)
        return
    server = ScramServer(make_verifier(password), "alice")
    client = ScramClient("alice", password)
    exchange(client, server)
    assert client.done and server.done
    # the prepared form is the same password to the server
    exchange(ScramClient("alice", prepared), ScramServer(make_verifier(password), "alice"))


# ---------------------------------------------------------------- the password stays secret

def _texts_of_exception(exc):
    seen = []
    while exc is not None and exc not in seen:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__
    return [t for e in seen for t in (str(e), repr(e), repr(e.args), repr(vars(e)))]


def _assert_secret_absent(texts, secret=SECRET):
    for text in texts:
        assert secret not in text
        assert secret.encode().hex() not in text


def test_password_never_in_repr_or_exceptions():
    verifier = make_verifier(SECRET)
    client, server = ScramClient("alice", SECRET), ScramServer(verifier, "alice")
    texts = [repr(client), str(client), repr(server), repr(verifier), str(verifier)]
    server_first = server.server_first(client.client_first())
    final = client.client_final(server_first)
    # after client_final the client holds no password, salted password or key
    texts += [repr(getattr(client, slot, None)) for slot in ScramClient.__slots__]
    assert all(SECRET.encode() not in repr(getattr(client, s, b"")).encode() for s in ScramClient.__slots__)
    texts += [repr(client), repr(server)]
    failures = [
        lambda: client.verify_server_final(b"v=AAAA"),
        lambda: ScramClient("alice", SECRET + "\u0007"),
        lambda: ScramClient("alice", SECRET + "\uffff"),
        lambda: ScramClient("alice", SECRET + "\ud800"),
        lambda: ScramClient("alice", SECRET + "\u0221"),
        lambda: ScramClient("alice", "\u0627" + SECRET),
        lambda: make_verifier(SECRET + "\u0007"),
        lambda: make_verifier(SECRET, iterations=1),
    ]
    raised = 0
    for failure in failures:
        try:
            failure()
        except Exception as exc:  # noqa: BLE001 - every kind of error is checked
            raised += 1
            texts += _texts_of_exception(exc)
    assert raised == len(failures)
    wrong = ScramClient("alice", SECRET + "x")
    try:
        server2 = ScramServer(verifier, "alice")
        server2.server_final(wrong.client_final(server2.server_first(wrong.client_first())))
    except AuthenticationError as exc:
        texts += _texts_of_exception(exc)
    else:
        pytest.fail("a wrong password was accepted")
    assert final and texts
    _assert_secret_absent(texts)
    # the refused character itself is not named for a password either
    with pytest.raises(InterfaceError) as info:
        ScramClient("alice", "pw\u0007")
    assert "U+0007" not in str(info.value) and "C.2.1" in str(info.value)


# ---------------------------------------------------------------- SBWP payloads of the exchange

def test_scram_auth_request_layout():
    payload = encode_scram_auth_request()
    assert payload == bytes.fromhex("03000000 0100 0d000000") + b"SCRAM-SHA-256"
    assert sm.parse_auth_request(payload).method == 3   # the existing parser still works
    assert parse_scram_auth_request(payload) == (SCRAM_SHA_256,)
    two = encode_scram_auth_request(["SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"])
    assert parse_scram_auth_request(two) == ("SCRAM-SHA-256-PLUS", "SCRAM-SHA-256")
    assert parse_scram_auth_request(b"\x03\x00\x00\x00") == (SCRAM_SHA_256,)


@pytest.mark.parametrize("payload, message", [
    (b"\x01\x00\x00\x00", "not a method-3"),
    (b"\x03\x00\x01\x00", "reserved"),
    (b"\x03\x00\x00\x00\x01", "truncated in its count"),
    (b"\x03\x00\x00\x00\x01\x00\x0d\x00", "truncated at name 0"),
    (b"\x03\x00\x00\x00\x01\x00\x0e\x00\x00\x00SCRAM-SHA-256", "runs past"),
    (encode_scram_auth_request() + b"\x00", "after its mechanism list"),
    (b"\x03\x00\x00\x00\x01\x00\x03\x00\x00\x00a b", "invalid SASL mechanism"),
    (b"\x03\x00\x00\x00\x01\x00\x02\x00\x00\x00\xc3\xa9", "not ASCII"),
])
def test_scram_auth_request_malformed(payload, message):
    with pytest.raises(ProtocolError, match=message):
        parse_scram_auth_request(payload)


def test_choose_mechanism():
    assert choose_mechanism(["SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"]) == SCRAM_SHA_256
    with pytest.raises(NotSupportedError, match="SCRAM-SHA-512"):
        choose_mechanism(["SCRAM-SHA-512"])


def test_auth_continue_layout():
    payload = encode_auth_continue(RFC_SERVER_FIRST)
    assert payload[:8] == bytes((3, STAGE_SERVER_FIRST, 0, 0)) + len(RFC_SERVER_FIRST).to_bytes(4, "little")
    assert parse_auth_continue(payload) == AuthContinue(3, 1, RFC_SERVER_FIRST)
    assert parse_auth_continue(memoryview(encode_auth_continue(b""))) == AuthContinue(3, 1, b"")


@pytest.mark.parametrize("payload, message", [
    (b"\x03\x01\x00\x00\x00\x00\x00", "shorter than"),
    (b"\x03\x01\x01\x00\x00\x00\x00\x00", "reserved"),
    (b"\x03\x01\x00\x00\x02\x00\x00\x00x", "declares 2 data bytes but carries 1"),
    (b"\x03\x01\x00\x00\x00\x00\x00\x00x", "declares 0 data bytes but carries 1"),
])
def test_auth_continue_malformed(payload, message):
    with pytest.raises(ProtocolError, match=message):
        parse_auth_continue(payload)


def test_auth_ok_layout():
    session = bytes(range(16))
    payload = encode_scram_auth_ok(session, RFC_SERVER_FINAL)
    assert payload == sm.encode_auth_ok(session, RFC_SERVER_FINAL)
    assert parse_scram_auth_ok(payload) == (session, RFC_SERVER_FINAL)
    assert sm.parse_auth_ok(payload).info == RFC_SERVER_FINAL
    assert parse_scram_auth_ok(session + bytes(4)) == (session, b"")
    for bad in (session, payload + b"x", payload[:-1]):
        with pytest.raises(ProtocolError, match="AUTH_OK"):
            parse_scram_auth_ok(bad)


def test_whole_exchange_through_sbwp_frames():
    """Server and client, talking only through frames and a FrameReader each."""
    session = bytes(range(16))
    server = ScramServer(make_verifier(SECRET), "alice")
    client = ScramClient("alice", SECRET)
    to_client, to_server = framing.FrameReader(), framing.FrameReader()

    def one(reader, wire, expected_type):
        reader.feed(wire)
        frame = reader.next_frame()
        assert frame.msg_type == expected_type
        return frame.payload

    payload = one(to_client, framing.encode_frame(AUTH_REQUEST, encode_scram_auth_request()),
                  AUTH_REQUEST)
    assert choose_mechanism(parse_scram_auth_request(payload)) == SCRAM_SHA_256
    wire = framing.encode_frame(AUTH_RESPONSE, encode_scram_auth_response(client.client_first()))
    first = one(to_server, wire, AUTH_RESPONSE)
    assert bytes(first) == cm.encode_auth_response(bytes(first))
    cont = parse_auth_continue(one(to_client, framing.encode_frame(
        AUTH_CONTINUE, encode_auth_continue(server.server_first(first))), AUTH_CONTINUE))
    assert (cont.method, cont.stage) == (3, STAGE_SERVER_FIRST)
    final = one(to_server, framing.encode_frame(AUTH_RESPONSE, client.client_final(cont.data)),
                AUTH_RESPONSE)
    ok = one(to_client, framing.encode_frame(AUTH_OK, encode_scram_auth_ok(
        session, server.server_final(final)), 1, session, 42), AUTH_OK)
    session_id, info = parse_scram_auth_ok(ok)
    client.verify_server_final(info)
    assert session_id == session and client.done and server.done
