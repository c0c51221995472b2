"""STARTUP negotiation, password check and the startup frames of the sbsql profile.

Covers REFERENCE 3.4-3.14: the two STARTUP layouts (3.5, 3.6), the twelve negotiation
steps of 3.6 in their order, the user store (only SHA-256 digests are kept, 3.9), and the
values of SERVER_INFO and the startup PARAMETER_STATUS (3.12, 3.13, 12.B.7 item 10).
"""
from __future__ import annotations

import hashlib
import hmac
import os
import struct
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Tuple, Union

from scratchbird._client_messages import (
    ADMITTED_STARTUP_KEYS, _render_key_value, is_p1_startup, parse_startup,
)
from scratchbird._constants import (
    FEATURE_BINARY_VALUES, FEATURE_COMPRESSION, SBSQL_SUPPORTED_FEATURES,
)
from scratchbird._typing import Buffer

if TYPE_CHECKING:
    from ._cache import ResultCache
    from ._full_auth import ScramUserStore

__all__ = ["Profile", "PROFILES", "SessionConfig", "StartupRejected", "Negotiation", "negotiate",
           "UserStore", "new_session_uuid", "user_uuid_text", "startup_parameter_entries",
           "P1_ONLY_BITS", "user_store_for"]

P1_ONLY_BITS = sum(1 << b for b in range(13, 25))   # features 13-24 need protocol 1.1
UNKNOWN_BITS = ~((1 << 25) - 1) & 0xFFFFFFFFFFFFFFFF
VERSION_1_0 = 0x0100
VERSION_1_1 = 0x0101
_ALLOWED_CONNECT_FLAGS = 0x1F

# STARTUP keys echoed in the startup PARAMETER_STATUS, in this order (REFERENCE 3.13)
ECHOED_KEYS = ("client_encoding", "charset", "timezone", "time_zone", "application_name",
               "default_schema", "default_catalog")


class StartupRejected(Exception):
    """A refused STARTUP: one ERROR with these fields, then close (REFERENCE 3.6)."""

    def __init__(self, sqlstate: str, code: str, detail: str) -> None:
        super().__init__(f"{sqlstate} {code}: {detail}")
        self.sqlstate = sqlstate
        self.code = code
        self.detail = detail


@dataclass
class Negotiation:
    """What a STARTUP settled: layout of later payloads, version, features, keys."""

    layout: str                         # "p1" or "legacy"
    selected_version: int = VERSION_1_1
    features: int = 0
    params: Dict[str, str] = field(default_factory=dict)

    @property
    def version_text(self) -> str:
        return "1.1" if self.selected_version == VERSION_1_1 else "1.0"


def _invalid(detail: str) -> StartupRejected:
    return StartupRejected("08P01", "NATIVE_WIRE.CONNECT_INVALID_PAYLOAD", detail)


def _ext_error(detail: str) -> StartupRejected:
    return StartupRejected("08P01", "SBWP.EXTENSION.REQUIRED_UNSUPPORTED", detail)


class _Reader:
    """Bounds-checked reads that raise the given refusal when the payload runs out."""

    __slots__ = ("data", "pos")

    def __init__(self, data: bytes, pos: int) -> None:
        self.data = data
        self.pos = pos

    def take(self, n: int, err: StartupRejected) -> bytes:
        if self.pos + n > len(self.data):
            raise err
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def u32(self, err: StartupRejected) -> int:
        value: int = struct.unpack("<I", self.take(4, err))[0]
        return value


def negotiate(payload: Buffer, supported: int) -> Negotiation:
    """Apply REFERENCE 3.5/3.6 to a STARTUP payload. Raises StartupRejected (steps 1-12)."""
    data = bytes(payload)
    if not is_p1_startup(data):
        legacy = parse_startup(data)       # features in a legacy STARTUP are ignored (3.5)
        return Negotiation("legacy", VERSION_1_1, 0, dict(legacy.params))
    min_v, max_v, connect_flags, client, required, _optional = struct.unpack_from("<HHIQQQ", data, 0)
    if min_v > max_v:                                                       # step 1
        raise StartupRejected("08P01", "SBWP.VERSION.NO_COMMON_VERSION",
                              "startup protocol_min_version is greater than protocol_max_version")
    if max_v < VERSION_1_0 or min_v > VERSION_1_1:                          # step 2
        raise StartupRejected("08P01", "SBWP.VERSION.NO_COMMON_VERSION",
                              "startup protocol version window does not include 1.0 or 1.1")
    if connect_flags & ~_ALLOWED_CONNECT_FLAGS:                             # step 3
        raise _invalid("startup connect_flags carry unknown bits")
    if connect_flags & 0x01 and connect_flags & 0x10:                       # step 4
        raise _invalid("startup connect_flags combine dormant reattach with multiplex request")
    selected = min(max_v, VERSION_1_1)                                      # step 5
    if selected == VERSION_1_0 and required & P1_ONLY_BITS:
        raise StartupRejected("0A000", "SBWP.FEATURE.REQUIRED_UNSUPPORTED",
                              "required features need protocol 1.1 but 1.0 was selected")
    if required & UNKNOWN_BITS & ~supported:                                # step 6
        raise StartupRejected("08P01", "SBWP.FEATURE.UNKNOWN_REQUIRED",
                              "required feature bitmap names unknown feature bits")
    if required & ~client:                                                  # step 7
        raise _invalid("required feature bitmap is not a subset of the client feature bitmap")
    if required & ~supported:                                               # step 8
        raise StartupRejected("0A000", "SBWP.FEATURE.REQUIRED_UNSUPPORTED",
                              "required feature bitmap names features this server does not support")
    features = client & supported                                           # step 9
    if selected == VERSION_1_0:
        features &= ~P1_ONLY_BITS
    params = _parse_keys_and_extensions(data)                               # steps 10-12
    return Negotiation("p1", selected, features, params)


def _parse_keys_and_extensions(data: bytes) -> Dict[str, str]:
    rd = _Reader(data, 80)
    truncated = _invalid("startup connect key records are truncated")
    count = rd.u32(truncated)
    if count > 256:                                                         # step 10
        raise _invalid("startup declares more than 256 connect keys")
    params: Dict[str, str] = {}
    for _ in range(count):
        key = rd.take(rd.u32(truncated), truncated).decode("utf-8", "replace")
        if key not in ADMITTED_STARTUP_KEYS:
            raise StartupRejected("08P01", "NATIVE_WIRE.CONNECT_UNKNOWN_KEY",
                                  f"startup connect key {key!r} is not admitted")
        vtype, redaction = rd.take(2, truncated)
        raw = rd.take(rd.u32(truncated), truncated)
        params[key] = _render_key_value(vtype, raw) if redaction < 3 else ""
    bad_ext = _ext_error("startup extension offers are missing or malformed")
    ext_count = rd.u32(bad_ext)                                             # step 11
    if ext_count > 64:
        raise _ext_error("startup declares more than 64 extension offers")
    for _ in range(ext_count):
        rd.take(rd.u32(bad_ext), bad_ext)
        rd.take(6, bad_ext)
        flags = rd.u32(bad_ext)
        if flags & ~0x03 or flags == 0x03:
            raise _ext_error("startup extension offer has invalid flags")
        if flags & 0x01:
            raise StartupRejected("08P01", "SBWP.EXTENSION.UNKNOWN_REQUIRED",
                                  "startup requires an extension this server does not provide")
    if rd.pos != len(data):                                                 # step 12
        raise _invalid("startup payload has trailing bytes")
    return params


@dataclass(frozen=True)
class Profile:
    """What distinguishes one server personality from another.

    ``sbsql``: today's real server. ``full``: the SBWP v1.1 design spec as this project
    implements it (docs/protocol.md, "The dev server's full profile"): SCRAM-SHA-256
    (``auth="scram"``), zstd compression (feature bit 0) and binary values (bit 32).
    """

    name: str
    supported_features: int
    product: str
    channel: str
    dialect: str
    auth: str = "password"          # "password" (REFERENCE 3.9) or "scram" (3.10 [SPEC])
    # The spec's transaction semantics where today's server lacks them: ROLLBACK TO undoes,
    # read-only is enforced, CANCEL interrupts the running statement (docs/protocol.md 5).
    spec_semantics: bool = False


PROFILES: Dict[str, Profile] = {
    "sbsql": Profile("sbsql", SBSQL_SUPPORTED_FEATURES, "ScratchBird native SBWP P1",
                     "public-alpha", "sbsql"),
    "full": Profile("full", SBSQL_SUPPORTED_FEATURES | FEATURE_COMPRESSION | FEATURE_BINARY_VALUES,
                    "ScratchBird dev server (full profile)", "public-alpha", "sbsql",
                    auth="scram", spec_semantics=True),
}


@dataclass
class SessionConfig:
    engine: Any                     # _engine.Engine, or any object with open_session()
    users: Union[UserStore, ScramUserStore]
    profile: Profile
    dbname: Optional[str] = None
    result_cache: Optional[ResultCache] = None   # when opted in (benchmarks)


# ---------------------------------------------------------------- users (3.9)


class UserStore:
    """user -> SHA-256 of the password. Plain passwords are never kept."""

    def __init__(self, users: Mapping[str, str]) -> None:
        self._digests = {name: hashlib.sha256(pw.encode("utf-8")).digest()
                         for name, pw in users.items()}
        self._uuids = {name: user_uuid_text(name, i + 1) for i, name in enumerate(users)}

    def verify(self, user: Optional[str], evidence: bytes) -> bool:
        """The local_password check of REFERENCE 3.9: SHA-256 of the raw bytes.

        Like the real engine, an empty credential fails, and a credential containing
        ``;`` or ``scheme=`` is read as structured evidence, which this server never
        accepts.
        """
        if not user or user not in self._digests or not evidence:
            return False
        if b";" in evidence or b"scheme=" in evidence:
            return False
        return hmac.compare_digest(hashlib.sha256(evidence).digest(), self._digests[user])

    def uuid_of(self, user: str) -> str:
        return self._uuids.get(user, user_uuid_text(user, 0))


def user_store_for(profile: Profile,
                   users: Mapping[str, str]) -> Union[UserStore, ScramUserStore]:
    """The user store a profile authenticates against: SHA-256 digests for the cleartext
    password (sbsql), salted SCRAM verifiers for ``full`` (``_full_auth``)."""
    if profile.auth == "scram":
        from ._full_auth import ScramUserStore
        return ScramUserStore(users)
    return UserStore(users)


def user_uuid_text(name: str, index: int) -> str:
    """A stable, time-ordered-looking principal UUID (the real one is catalog data)."""
    tail = hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]
    return f"019f0a11-ce00-7000-8000-{tail}{index & 0xFFFF:04x}"


def new_session_uuid() -> bytes:
    """Session UUID, time-ordered like a UUIDv7: 48-bit ms clock, version 7, variant 10."""
    ms = time.time_ns() // 1_000_000
    rnd = bytearray(os.urandom(10))
    rnd[0] = 0x70 | (rnd[0] & 0x0F)
    rnd[2] = 0x80 | (rnd[2] & 0x3F)
    return ms.to_bytes(6, "big") + bytes(rnd)


def startup_parameter_entries(nego: Negotiation, user: str, user_uuid: str,
                              txn_id: int) -> List[Tuple[str, str]]:
    """The startup PARAMETER_STATUS of a P1 session (12.B.7 item 10 / capture 01)."""
    entries = [
        ("protocol.selected_version", nego.version_text),
        ("protocol.negotiated_features", str(nego.features)),
        ("session.authenticated_user_uuid", user_uuid),
        ("session.auth_provider_family", "local_password"),
        ("session.principal_claim", user),
        ("security.generation", "1"),
        ("language.profile_id", "sbsql.builtin.recovery.en"),
        ("language.tag", "en"),
        ("language.default_tag", "en"),
        ("language.input_syntax_profile", "sbsql.syntax.standard"),
        ("language.common_resource_hash", "builtin.common.sbsql.v1"),
        ("language.resource_epoch", "1"),
        ("language.localized_name_epoch", "1"),
        ("language.message_epoch", "1"),
        ("language.resource_compatibility_identity", "sbsql.resource.compat.v1"),
        ("language.resource_version_identity", "sbsql.resource-pack.v1"),
        ("current_txn_id", str(txn_id)),
        ("session.snapshot_visible_through_local_transaction_id", str(max(txn_id - 1, 0))),
    ]
    for key in ECHOED_KEYS:
        if key in nego.params:
            entries.append((key, nego.params[key]))
    return entries
