"""SCRAM-SHA-256 for the dev server's ``full`` profile (REFERENCE 3.10 [SPEC]).

The exchange and its SBWP frames are in docs/protocol.md, section 2::

    S: AUTH_REQUEST   method 3, mechanism list ["SCRAM-SHA-256"]
    C: AUTH_RESPONSE  client-first          S: AUTH_CONTINUE  server-first
    C: AUTH_RESPONSE  client-final          S: AUTH_OK        v=<server signature>

The server keeps a salted verifier per user (``_scram.make_verifier``), never a password
nor a password digest. An unknown user gets a dummy verifier whose salt is derived from
the user name with a per-server secret, so the answer to a probe (server-first, then
28P01 at the proof) is the same shape as for a real user with a wrong password.

Refusals are fatal (one ERROR, then close), as for the cleartext password (REFERENCE 9.2):

- wrong proof, unknown user, no user: ``28P01`` "Authentication failed."
  ``SECURITY.AUTHENTICATION.FAILED``;
- a reply to method 3 that is not a valid SCRAM message (a cleartext password, a
  channel-binding request, another user name in ``n=``, a wrong nonce, ...):
  ``28000`` with the reason, ``SECURITY.AUTHENTICATION.SCRAM_MESSAGE_INVALID``;
- a frame other than AUTH_RESPONSE: ``08P01`` "expected AUTH_RESPONSE after AUTH_REQUEST".
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from typing import TYPE_CHECKING, Callable, Dict, Mapping, NoReturn, Optional, Tuple, cast

from scratchbird import _constants as C
from scratchbird._auth_messages import (
    SCRAM_SHA_256, encode_auth_continue, encode_scram_auth_request,
)
from scratchbird._scram import MIN_ITERATIONS, ScramServer, ScramVerifier, make_verifier
from scratchbird.errors import AuthenticationError, InterfaceError

from ._startup import Negotiation, user_uuid_text

if TYPE_CHECKING:
    from ._session import Session

__all__ = ["ScramUserStore", "scram_handshake"]

log = logging.getLogger("scratchbird.devserver")

FAILED = ("28P01", "Authentication failed.", "SECURITY.AUTHENTICATION.FAILED")
MESSAGE_INVALID = "SECURITY.AUTHENTICATION.SCRAM_MESSAGE_INVALID"


class ScramUserStore:
    """user -> ScramVerifier, built once from the configured passwords (then dropped).

    The same interface as ``_startup.UserStore`` (``verify``, ``uuid_of``) plus
    ``verifier_for``; ``verify`` (the cleartext check of REFERENCE 3.9) always refuses:
    this store has no password to compare with.
    """

    def __init__(self, users: Mapping[str, str], iterations: int = MIN_ITERATIONS) -> None:
        self._verifiers: Dict[str, ScramVerifier] = {
            name: make_verifier(pw, iterations=iterations) for name, pw in users.items()}
        self._uuids = {name: user_uuid_text(name, i + 1) for i, name in enumerate(users)}
        self._iterations = iterations
        self._secret = secrets.token_bytes(32)
        # keys no proof can match: nobody knows a ClientKey whose SHA-256 they are
        self._dummy_keys = (secrets.token_bytes(32), secrets.token_bytes(32))

    def knows(self, user: Optional[str]) -> bool:
        return bool(user) and user in self._verifiers

    def verifier_for(self, user: str) -> ScramVerifier:
        """The user's verifier, or a dummy one (stable per name) for an unknown user."""
        verifier = self._verifiers.get(user)
        if verifier is not None:
            return verifier
        salt = hmac.new(self._secret, user.encode("utf-8", "surrogatepass"),
                        hashlib.sha256).digest()[:16]
        return ScramVerifier(salt, self._iterations, *self._dummy_keys)

    def verify(self, user: Optional[str], evidence: bytes) -> bool:
        return False

    def uuid_of(self, user: str) -> str:
        return self._uuids.get(user, user_uuid_text(user, 0))


def _response(session: Session) -> bytes:
    frame = session._next_frame()              # not flag-checked, as in sbsql (2.1)
    if frame.msg_type != C.AUTH_RESPONSE:
        session._fatal("08P01", "expected AUTH_RESPONSE after AUTH_REQUEST")
    return bytes(frame.payload)


def _refuse(session: Session, user: Optional[str], exc: Exception) -> NoReturn:
    sqlstate = getattr(exc, "sqlstate", None)
    if sqlstate == "28P01":                     # a wrong proof (or a dummy verifier)
        log.info("%s: SCRAM authentication failed for user %r", session.peer, user)
        session._fatal(*FAILED)
    log.info("%s: SCRAM exchange refused for user %r: %s", session.peer, user, exc)
    session._fatal("28000", getattr(exc, "message", "") or "invalid SCRAM message",
                   MESSAGE_INVALID)


def scram_handshake(session: Session, nego: Negotiation,
                    check_database: Callable[[Negotiation], None]) -> Tuple[str, bytes]:
    """Run the exchange on ``session`` (a ``_session.Session``) for the STARTUP ``nego``.

    Returns ``(user, server_final)``; the caller puts ``server_final`` into AUTH_OK.
    ``check_database`` is the sbsql profile's database check, run at the same point
    (after the first AUTH_RESPONSE). Every refusal ends the session (``_fatal``).
    """
    store = cast(ScramUserStore, session.cfg.users)      # the full profile's store
    user = nego.params.get("user") or None
    session._send(C.AUTH_REQUEST, encode_scram_auth_request((SCRAM_SHA_256,)))
    client_first = _response(session)
    check_database(nego)
    if not user:
        session._fatal(*FAILED)
    try:
        server = ScramServer(store.verifier_for(user), user)
        server_first = server.server_first(client_first)
    except InterfaceError:                      # a user name SASLprep refuses
        session._fatal(*FAILED)
    except AuthenticationError as exc:
        _refuse(session, user, exc)
    session._send(C.AUTH_CONTINUE, encode_auth_continue(server_first))
    client_final = _response(session)
    try:
        server_final = server.server_final(client_final)
    except AuthenticationError as exc:
        _refuse(session, user, exc)
    if not store.knows(user):                   # belt and braces: dummy keys never verify
        session._fatal(*FAILED)
    return user, server_final
