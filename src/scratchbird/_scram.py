"""SCRAM-SHA-256 (RFC 5802, RFC 7677), client and server side, without I/O.

The design spec's SBWP v1.1 authentication (REFERENCE 3.10 [SPEC]): no channel binding
(gs2 header ``n,,``, ``c=biws``). Today's server never asks for it (REFERENCE 3.10 [SRV],
10 rows 13-14); the dev server's ``full`` profile will. The SBWP frames that carry these
messages are in ``_auth_messages``.

    client = ScramClient("user", "pencil")          # server = ScramServer(verifier, "user")
    first = client.client_first()                   # -> server.server_first(first)
    final = client.client_final(server_first)       # -> server.server_final(final)
    client.verify_server_final(server_final)        # raises AuthenticationError on a forgery

Passwords are prepared with SASLprep (RFC 4013) as "stored strings" (RFC 5802 section 2.2),
user names as "query strings". A password SASLprep refuses is an InterfaceError: the
driver never sends a different password instead. No password, salted password or key
appears in any repr or exception text.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import stringprep
import unicodedata
from dataclasses import dataclass, field
from typing import List, Optional, Tuple, Type

from scratchbird._typing import Buffer
from scratchbird.errors import AuthenticationError, InterfaceError

__all__ = ["MECHANISM", "MIN_ITERATIONS", "MAX_ITERATIONS", "saslprep", "ScramVerifier",
           "make_verifier", "ScramClient", "ScramServer"]

MECHANISM = "SCRAM-SHA-256"
MIN_ITERATIONS = 4096          # RFC 7677 section 4: at least 4096
MAX_ITERATIONS = 10_000_000    # a hostile server must not buy hours of our CPU
_NONCE_BYTES = 18              # 24 base64 characters, none of them ','
_GS2_HEADER = "n,,"            # no channel binding, no authzid
_KEY_SIZE = 32                 # SHA-256 output

# ---------------------------------------------------------------- SASLprep (RFC 4013)

# RFC 4013 section 2.3 (RFC 3454 tables), in the order they are checked.
_PROHIBITED = (
    (stringprep.in_table_c12, "C.1.2, non-ASCII space characters"),
    (stringprep.in_table_c21, "C.2.1, ASCII control characters"),
    (stringprep.in_table_c22, "C.2.2, non-ASCII control characters"),
    (stringprep.in_table_c3, "C.3, private use characters"),
    (stringprep.in_table_c4, "C.4, non-character code points"),
    (stringprep.in_table_c5, "C.5, surrogate code points"),
    (stringprep.in_table_c6, "C.6, characters inappropriate for plain text"),
    (stringprep.in_table_c7, "C.7, characters inappropriate for canonical representation"),
    (stringprep.in_table_c8, "C.8, change display properties or deprecated characters"),
    (stringprep.in_table_c9, "C.9, tagging characters"),
)


def _refused(what: str, reason: str, ch: Optional[str], reveal: bool) -> InterfaceError:
    where = f" (U+{ord(ch):04X})" if reveal and ch is not None else ""
    return InterfaceError(f"the {what} cannot be used with {MECHANISM}: SASLprep (RFC 4013) "
                          f"refuses it: {reason}{where}")


def saslprep(text: str, *, allow_unassigned: bool = False, what: str = "string",
             reveal: bool = True) -> str:
    """``text`` prepared with the SASLprep profile of stringprep (RFC 4013).

    Maps non-ASCII spaces to U+0020 and "commonly mapped to nothing" characters to
    nothing, applies NFKC (Unicode 3.2, as stringprep requires), then refuses prohibited
    characters, bidi violations and (unless ``allow_unassigned``, the "query" mode)
    unassigned code points with an InterfaceError. ``reveal=False`` keeps the offending
    character out of the message (for passwords).
    """
    if not isinstance(text, str):
        raise InterfaceError(f"the {what} must be a str, not {type(text).__name__}")
    mapped = []
    for ch in text:
        if stringprep.in_table_b1(ch):
            continue
        mapped.append(" " if stringprep.in_table_c12(ch) else ch)
    prepared = unicodedata.ucd_3_2_0.normalize("NFKC", "".join(mapped))
    for ch in prepared:
        for in_table, reason in _PROHIBITED:
            if in_table(ch):
                raise _refused(what, f"it contains a prohibited character (table {reason})",
                               ch, reveal)
        if not allow_unassigned and stringprep.in_table_a1(ch):
            raise _refused(what, "it contains a code point unassigned in Unicode 3.2 "
                           "(table A.1)", ch, reveal)
    # RFC 3454 section 6: a string with right-to-left characters has no left-to-right
    # ones, and starts and ends with a right-to-left character.
    if any(stringprep.in_table_d1(ch) for ch in prepared):
        if any(stringprep.in_table_d2(ch) for ch in prepared):
            raise _refused(what, "it mixes right-to-left and left-to-right characters",
                           None, reveal)
        if not (stringprep.in_table_d1(prepared[0]) and stringprep.in_table_d1(prepared[-1])):
            raise _refused(what, "right-to-left text must start and end with a "
                           "right-to-left character", None, reveal)
    return prepared


def _prepare_password(password: str) -> bytes:
    prepared = saslprep(password, what="password", reveal=False)
    if not prepared:
        raise InterfaceError(f"the password is empty after SASLprep; {MECHANISM} needs a "
                             "non-empty password")
    return prepared.encode("utf-8")


def _prepare_username(username: str) -> str:
    prepared = saslprep(username, allow_unassigned=True, what="user name")
    if not prepared:
        raise InterfaceError(f"{MECHANISM} needs a non-empty user name")
    return prepared


# ---------------------------------------------------------------- primitives (RFC 5802 section 3)

def _hmac(key: bytes, msg: bytes) -> bytes:
    return hmac.new(key, msg, hashlib.sha256).digest()


def _salted_password(password: bytes, salt: bytes, iterations: int) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", password, salt, iterations)   # Hi()


def _keys(salted: bytes) -> Tuple[bytes, bytes, bytes]:
    """(ClientKey, StoredKey, ServerKey) of a salted password."""
    client_key = _hmac(salted, b"Client Key")
    return client_key, hashlib.sha256(client_key).digest(), _hmac(salted, b"Server Key")


def _xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _b64decode(value: str, what: str) -> bytes:
    try:
        data = base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        data = None
    if data is None or _b64(data) != value:   # canonical form only: no stray padding bits
        raise AuthenticationError(f"SCRAM {what} is not valid base64")
    return data


def _new_nonce() -> str:
    return _b64(secrets.token_bytes(_NONCE_BYTES))


# printable = %x21-2B / %x2D-7E (RFC 5802 section 7): visible ASCII except ','
_NONCE_RE = re.compile(r"[\x21-\x2b\x2d-\x7e]+\Z")
_ITERATIONS_RE = re.compile(r"[1-9][0-9]{0,9}\Z")
_ATTR_RE = re.compile(r"[A-Za-z]\Z")


def _check_nonce(nonce: str, what: str, error: Type[Exception] = AuthenticationError) -> str:
    if not _NONCE_RE.match(nonce):
        raise error(f"SCRAM {what} must be printable ASCII without ',' and not empty")
    return nonce


def _escape_saslname(name: str) -> str:
    return name.replace("=", "=3D").replace(",", "=2C")


def _unescape_saslname(value: str) -> str:
    if re.search(r"=(?!2C|3D)", value):
        raise AuthenticationError("SCRAM user name has an '=' that is not =2C or =3D")
    return value.replace("=2C", ",").replace("=3D", "=")


def _decode(message: Buffer, what: str) -> str:
    try:
        return bytes(message).decode("utf-8")
    except UnicodeDecodeError:
        raise AuthenticationError(f"SCRAM {what} is not valid UTF-8") from None


def _attributes(text: str, what: str) -> List[Tuple[str, str]]:
    """``a=value,b=value`` as [(a, value), ...]; each name is one letter (RFC 5802 section 7)."""
    out = []
    for part in text.split(","):
        name, eq, value = part.partition("=")
        if not eq or not _ATTR_RE.match(name):
            raise AuthenticationError(f"SCRAM {what} is malformed: expected 'x=value' items")
        out.append((name, value))
    return out


def _expect(attrs: List[Tuple[str, str]], index: int, name: str, what: str) -> str:
    if index >= len(attrs) or attrs[index][0] != name:
        raise AuthenticationError(f"SCRAM {what} is malformed: attribute '{name}=' missing "
                                  f"at position {index + 1}")
    return attrs[index][1]


def _refuse_mandatory_extension(attrs: List[Tuple[str, str]], what: str) -> None:
    if attrs and attrs[0][0] == "m":
        raise AuthenticationError(f"SCRAM {what} requires an unsupported mandatory "
                                  "extension ('m=')")


# ---------------------------------------------------------------- server-side verifier

@dataclass(frozen=True)
class ScramVerifier:
    """What a server stores for one user instead of the password (RFC 5802 section 3)."""

    salt: bytes
    iterations: int
    stored_key: bytes = field(repr=False)
    server_key: bytes = field(repr=False)

    def encode(self) -> str:
        """Text form ``SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`` (base64)."""
        return (f"{MECHANISM}${self.iterations}:{_b64(self.salt)}$"
                f"{_b64(self.stored_key)}:{_b64(self.server_key)}")

    @classmethod
    def decode(cls, text: str) -> "ScramVerifier":
        """The inverse of ``encode``; ValueError if ``text`` is not in that form."""
        match = re.fullmatch(re.escape(MECHANISM) + r"\$([0-9]+):([^$:]+)\$([^$:]+):([^$:]+)", text)
        if not match:
            raise ValueError(f"not a {MECHANISM} verifier")
        try:
            salt, stored, server = (base64.b64decode(g, validate=True) for g in match.groups()[1:])
        except binascii.Error:
            raise ValueError(f"{MECHANISM} verifier has invalid base64") from None
        if len(stored) != _KEY_SIZE or len(server) != _KEY_SIZE or not salt:
            raise ValueError(f"{MECHANISM} verifier has keys of the wrong size or no salt")
        return cls(salt, int(match.group(1)), stored, server)


def make_verifier(password: str, salt: Optional[bytes] = None,
                  iterations: int = MIN_ITERATIONS) -> ScramVerifier:
    """A stored verifier for ``password`` (SASLprep'd; InterfaceError if it refuses)."""
    if not MIN_ITERATIONS <= iterations <= MAX_ITERATIONS:
        raise ValueError(f"{MECHANISM} iteration count must be between {MIN_ITERATIONS} "
                         f"and {MAX_ITERATIONS}, not {iterations}")
    salt = secrets.token_bytes(16) if salt is None else bytes(salt)
    if not salt:
        raise ValueError("the salt must not be empty")
    _, stored_key, server_key = _keys(_salted_password(_prepare_password(password), salt,
                                                       iterations))
    return ScramVerifier(salt, iterations, stored_key, server_key)


# ---------------------------------------------------------------- client

class ScramClient:
    """The client side of one SCRAM-SHA-256 exchange.

    ``nonce`` is for test vectors only; by default it comes from ``secrets``.
    ``min_iterations`` / ``max_iterations`` bound what the server may ask for.
    """

    __slots__ = ("username", "_password", "_nonce", "_first_bare", "_server_signature",
                 "_state", "min_iterations", "max_iterations", "iterations")

    def __init__(self, username: str, password: str, *, nonce: Optional[str] = None,
                 min_iterations: int = MIN_ITERATIONS,
                 max_iterations: int = MAX_ITERATIONS) -> None:
        self.username = _prepare_username(username)
        self._password: Optional[bytes] = _prepare_password(password)
        self._nonce = (_new_nonce() if nonce is None
                       else _check_nonce(nonce, "client nonce", InterfaceError))
        self.min_iterations = max(min_iterations, MIN_ITERATIONS)
        self.max_iterations = max_iterations
        self.iterations: Optional[int] = None
        self._first_bare = ""
        self._server_signature = b""
        self._state = "new"

    def __repr__(self) -> str:
        return f"<ScramClient {MECHANISM} user={self.username!r} state={self._state}>"

    @property
    def done(self) -> bool:
        """True once the server's signature has been verified."""
        return self._state == "done"

    def _step(self, expected: str, name: str) -> None:
        if self._state != expected:
            raise InterfaceError(f"ScramClient.{name}() called in state {self._state!r}")

    def client_first(self) -> bytes:
        """``n,,n=<user>,r=<nonce>`` (RFC 5802 section 5.1)."""
        self._step("new", "client_first")
        self._first_bare = f"n={_escape_saslname(self.username)},r={self._nonce}"
        self._state = "first-sent"
        return (_GS2_HEADER + self._first_bare).encode("utf-8")

    def client_final(self, server_first: bytes) -> bytes:
        """``c=biws,r=<nonce>,p=<proof>`` for the server-first message.

        Raises AuthenticationError if the server-first message is malformed, its nonce
        does not extend ours, its salt is not base64, its iteration count is out of
        bounds, or it demands a mandatory extension.
        """
        self._step("first-sent", "client_final")
        self._state = "failed"   # until this step succeeds
        password, self._password = self._password, None   # used once, even on failure
        assert password is not None     # set by __init__; this step runs once (_step)
        text = _decode(server_first, "server-first message")
        attrs = _attributes(text, "server-first message")
        _refuse_mandatory_extension(attrs, "server-first message")
        nonce = _check_nonce(_expect(attrs, 0, "r", "server-first message"), "server nonce")
        if not nonce.startswith(self._nonce) or len(nonce) == len(self._nonce):
            raise AuthenticationError("SCRAM server nonce does not extend the client nonce")
        salt = _b64decode(_expect(attrs, 1, "s", "server-first message"), "salt")
        if not salt:
            raise AuthenticationError("SCRAM salt is empty")
        count = _expect(attrs, 2, "i", "server-first message")
        if not _ITERATIONS_RE.match(count):
            raise AuthenticationError("SCRAM iteration count is not a positive integer")
        iterations = int(count)
        if iterations < self.min_iterations:
            raise AuthenticationError(
                f"refusing SCRAM iteration count {iterations}: at least {self.min_iterations} "
                "is required (RFC 7677); the server's verifier is too weak")
        if iterations > self.max_iterations:
            raise AuthenticationError(
                f"refusing SCRAM iteration count {iterations}: more than {self.max_iterations}")
        self.iterations = iterations
        # extensions after i= are optional and ignored (RFC 5802 section 5.1)
        client_key, stored_key, server_key = _keys(_salted_password(password, salt, iterations))
        without_proof = f"c={_b64(_GS2_HEADER.encode('ascii'))},r={nonce}"
        auth_message = f"{self._first_bare},{text},{without_proof}".encode("utf-8")
        proof = _xor(client_key, _hmac(stored_key, auth_message))
        self._server_signature = _hmac(server_key, auth_message)
        self._state = "final-sent"
        return f"{without_proof},p={_b64(proof)}".encode("ascii")

    def verify_server_final(self, server_final: bytes) -> None:
        """Check ``v=<signature>``; AuthenticationError on a mismatch or on ``e=<error>``."""
        self._step("final-sent", "verify_server_final")
        self._state = "failed"
        text = _decode(server_final, "server-final message")
        attrs = _attributes(text, "server-final message") if text else []
        if attrs and attrs[0][0] == "e":
            reason = re.sub(r"[^\x20-\x7e]", "?", attrs[0][1])[:100]
            raise AuthenticationError(f"the server refused SCRAM authentication: {reason}")
        if not attrs or attrs[0][0] != "v":
            raise AuthenticationError("SCRAM server-final message has no server signature "
                                      "('v=')")
        signature = _b64decode(attrs[0][1], "server signature")
        if not hmac.compare_digest(signature, self._server_signature):
            raise AuthenticationError(
                "SCRAM server signature does not match: the server does not know the "
                "password's verifier (possible impersonation)")
        self._state = "done"


# ---------------------------------------------------------------- server

class ScramServer:
    """The server side of one exchange, for ``username`` with its stored verifier.

    ``nonce`` (the server's part) is for test vectors only. Every refusal is an
    AuthenticationError; the dev server turns it into ERROR 28P01 and closes.
    """

    __slots__ = ("verifier", "username", "_nonce", "_gs2_header", "_first_bare",
                 "_server_first", "_state")

    def __init__(self, verifier: ScramVerifier, username: str, *,
                 nonce: Optional[str] = None) -> None:
        self.verifier = verifier
        self.username = _prepare_username(username)
        self._nonce = (_new_nonce() if nonce is None
                       else _check_nonce(nonce, "server nonce", InterfaceError))
        self._gs2_header = ""
        self._first_bare = ""
        self._server_first = ""
        self._state = "new"

    def __repr__(self) -> str:
        return f"<ScramServer {MECHANISM} user={self.username!r} state={self._state}>"

    @property
    def done(self) -> bool:
        return self._state == "done"

    def _step(self, expected: str, name: str) -> None:
        if self._state != expected:
            raise InterfaceError(f"ScramServer.{name}() called in state {self._state!r}")

    def server_first(self, client_first: bytes) -> bytes:
        """``r=<nonce>,s=<salt>,i=<iterations>`` for the client-first message."""
        self._step("new", "server_first")
        self._state = "failed"
        text = _decode(client_first, "client-first message")
        flag, _, rest = text.partition(",")
        authzid, comma, bare = rest.partition(",")
        if not comma or flag not in ("n", "y"):
            if flag.startswith("p="):
                raise AuthenticationError("SCRAM channel binding is not supported")
            raise AuthenticationError("SCRAM client-first message has no valid gs2 header")
        if authzid:
            raise AuthenticationError("SCRAM authorization identity ('a=') is not supported")
        attrs = _attributes(bare, "client-first message")
        _refuse_mandatory_extension(attrs, "client-first message")
        name = _unescape_saslname(_expect(attrs, 0, "n", "client-first message"))
        if name != self.username:
            raise AuthenticationError("SCRAM user name does not match the connection's user")
        client_nonce = _check_nonce(_expect(attrs, 1, "r", "client-first message"),
                                    "client nonce")
        self._gs2_header = f"{flag},,"
        self._first_bare = bare
        self._server_first = (f"r={client_nonce}{self._nonce},s={_b64(self.verifier.salt)},"
                              f"i={self.verifier.iterations}")
        self._state = "first-sent"
        return self._server_first.encode("ascii")

    def server_final(self, client_final: bytes) -> bytes:
        """``v=<server signature>``; AuthenticationError if the proof is wrong."""
        self._step("first-sent", "server_final")
        self._state = "failed"
        text = _decode(client_final, "client-final message")
        attrs = _attributes(text, "client-final message")
        binding = _b64decode(_expect(attrs, 0, "c", "client-final message"), "channel binding")
        if binding != self._gs2_header.encode("ascii"):
            raise AuthenticationError("SCRAM channel binding data does not match the gs2 header")
        nonce = _expect(attrs, 1, "r", "client-final message")
        if nonce != self._server_first[2:self._server_first.index(",")]:
            raise AuthenticationError("SCRAM nonce in the client-final message is wrong")
        proof = _b64decode(_expect(attrs, len(attrs) - 1, "p", "client-final message"), "proof")
        if len(attrs) < 3 or len(proof) != _KEY_SIZE:
            raise AuthenticationError("SCRAM client proof is missing or has the wrong size")
        without_proof = text[:text.rindex(",p=")]
        auth_message = f"{self._first_bare},{self._server_first},{without_proof}".encode("utf-8")
        client_key = _xor(proof, _hmac(self.verifier.stored_key, auth_message))
        if not hmac.compare_digest(hashlib.sha256(client_key).digest(),
                                   self.verifier.stored_key):
            raise AuthenticationError("SCRAM authentication failed: the client proof is wrong "
                                      "(wrong password)", sqlstate="28P01")
        self._state = "done"
        return f"v={_b64(_hmac(self.verifier.server_key, auth_message))}".encode("ascii")
