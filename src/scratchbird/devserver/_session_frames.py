"""The dev server's small session frames (REFERENCE sections 6.6 and 7): PING, SET_OPTION,
RESET_SESSION, REAUTH, TRACE_CONTEXT, CANCEL, SUBSCRIBE, LOB_CLOSE, SBLR_EXECUTE and the
TXN_STATUS finality query.

A mixin of ``_session.Session``: it uses the session's state and its reply helpers
(``_send``, ``_error``, ``_ready``, ``_parameter_status``, ``_need_auth``,
``_txn_mismatch``), which stay in ``_session``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, cast

import logging
import struct

from scratchbird import _constants as C
from scratchbird._client_messages import MessageFormatError, lpstr, parse_set_option
from scratchbird._server_messages import encode_command_complete, encode_notification

from . import _notify                                           # NOTIFY delivery (protocol.md 7)

__all__ = ["SessionFrames"]

log = logging.getLogger("scratchbird.devserver")

_CANCEL_FIXED_UUID = bytes.fromhex("292d6577f82d7968a92d6577f82d8968")


if TYPE_CHECKING:                   # the session state this mixin uses, for mypy only
    from ._session_host import SessionHost as _Host
    from ._startup import Negotiation
else:
    _Host = object


class SessionFrames(_Host):
    """The one-frame requests of a ``Session`` that run no SQL."""

    def _on_txn_status(self, frame, payload) -> None:
        """Finality query (6.6): this server keeps no commit records, so always "not found"."""
        if not self._need_auth(ready=3):
            return
        data = bytes(payload)
        if len(data) < 44 or data[0] != 1:
            self._error("08P01", "SBWP.COMMIT.FINALITY_QUERY_INVALID",
                        "TxnStatus finality query payload is truncated or unsupported")
            self._ready(3)
            return
        code = b"SBWP.COMMIT.FINALITY_NOT_FOUND"
        detail = b"no commit finality record for requested idempotency key or finality token"
        record = (struct.pack("<BBH", 1, 5, 0x0005) + data[4:36] + bytes(24)
                  + struct.pack("<H", len(code)) + code + struct.pack("<H", len(detail)) + detail)
        self._send(C.TXN_STATUS, record)
        self._ready(2)

    def _on_ping(self, frame, payload) -> None:
        self._send(C.PONG, bytes(payload))

    def _on_set_option(self, frame, payload) -> None:
        try:
            name, value = parse_set_option(payload)
            ok = 1 <= len(name.encode("utf-8")) <= 256 and len(value.encode("utf-8")) <= 4096
        except MessageFormatError:
            ok = False
        if not ok:
            self._error("08P01", "SBWP.SET_OPTION.INVALID_PAYLOAD",
                        "SetOption requires one non-empty option name and one bounded value")
            self._ready(3)
            return
        if value:
            self.options[name] = value
        else:
            self.options.pop(name, None)
        self._parameter_status([("session.option", "updated"), (name, value)])
        self._ready(C.READY_STATE_CHANGE)

    def _on_reset(self, frame, payload) -> None:
        data = bytes(payload)
        if not self._need_auth(ready=3):
            return
        if len(data) <= 17 or data[17] == 0:
            self._error("25001", "NATIVE_WIRE.RESET_REFUSED_OPEN_TRANSACTION",
                        "reset_session requires rollback_open_transaction when a transaction is open")
            self._ready(3)
            return
        try:
            self.es.rollback()
        except Exception:
            log.exception("%s: reset rollback failed", self.peer)
            self._error("08006", "SESSION.RESET_TIMEOUT", "reset_session rollback did not complete")
            self._ready(3)
            return
        if not (len(data) > 18 and data[18] == 0):
            self.statements.clear()
            self.portals.clear()
        if not (len(data) > 20 and data[20] == 0):
            self.trace = None
        self._parameter_status([("session.reset", "complete"),
                                ("protocol.selected_version",
                                 cast("Negotiation", self.nego).version_text)])   # set: authenticated
        self._ready(C.READY_RESET_COMPLETE)

    def _on_reauth(self, frame, payload) -> None:
        if not len(payload):
            self._error("28000", "SECURITY.REAUTH_TIMEOUT",
                        "reauth requires a non-empty engine-verifiable auth payload")
            self._ready(3)
        elif self.es is None:
            self._error("28000", "NATIVE_WIRE.REAUTH_REQUIRED", "reauth requires an authenticated session")
            self._ready(3)
        else:                                   # accepted without verification (7.6)
            self._parameter_status([("security.generation", "refreshed")])
            self._ready(C.READY_REAUTH_COMPLETE)

    def _on_trace_context(self, frame, payload) -> None:
        data = bytes(payload)
        traceparent = None
        try:
            pos = 16
            n = struct.unpack_from("<I", data, pos)[0]
            tp = data[pos + 4:pos + 4 + n]
            pos += 4 + n
            m = struct.unpack_from("<I", data, pos)[0]
            pos += 4 + m
            if len(tp) == n and pos + 2 <= len(data):
                text = tp.decode("ascii")
                if not text or (len(text) == 55 and text[2] == text[35] == text[52] == "-"):
                    traceparent = text
        except (struct.error, UnicodeDecodeError):
            pass
        if traceparent is None:
            self._error("08P01", "NATIVE_WIRE.TRACE_CONTEXT_INVALID",
                        "trace context requires a W3C traceparent and a tracestate")
            self._ready(3)
            return
        self.trace = traceparent or None
        self._parameter_status([("traceparent", "present" if traceparent else "absent")])
        self._ready(C.READY_STATE_CHANGE)

    def _on_cancel(self, frame, payload) -> None:
        """In-band outcome only (7.2): nothing runs concurrently, so nothing is interrupted."""
        if self.es is None:
            self._error("28000", "SECURITY.CANCEL_NOT_AUTHORIZED", "cancel requires an authenticated session")
            return
        data = bytes(payload)
        cancel_id = data[:16] if len(data) >= 16 and any(data[:16]) else _CANCEL_FIXED_UUID
        if len(data) >= 32 and any(data[16:32]):
            outcome = ("user_statement_cancelled", "57014", "EXECUTION.QUERY_CANCELLED",
                       "statement_aborted_transaction_state_reported_by_engine",
                       "application_decision")
        else:
            outcome = ("cancel_target_not_found", "57014", "EXECUTION.CANCEL_TARGET_NOT_FOUND",
                       "no_known_state_change", "no")
        self._send(C.CANCEL_ACK, cancel_id + b"\x01")
        self._send(C.CANCELLED, cancel_id + b"".join(lpstr(v) for v in outcome))
        self._ready(C.READY_CANCEL_OUTCOME)

    def _on_subscribe(self, frame, payload) -> None:
        if self.profile.spec_semantics:
            _notify.on_subscribe(self, frame, payload)
            return
        if frame.msg_type == C.SUBSCRIBE:
            self._send(C.COMMAND_COMPLETE, encode_command_complete("SUBSCRIBE", 0))
            self._send(C.NOTIFICATION, encode_notification("session", "subscription_active", 0))
        else:
            self._send(C.COMMAND_COMPLETE, encode_command_complete("UNSUBSCRIBE", 0))
        self._ready(2)

    def _on_lob_close(self, frame, payload) -> None:
        self._error("0A000", "FEATURE.NOT_IMPLEMENTED_RELEASE_BLOCKING",
                    "LOB locators are not implemented in this release")
        self._ready(3)

    def _on_sblr_execute(self, frame, payload) -> None:
        """SBLR_EXECUTE (7.10): payload checks as the real server; the dev server has no
        SBLR engine route, so a well-formed envelope is rejected like an engine refusal."""
        if not self._need_auth(ready=3):
            return
        self._txn_mismatch(frame, "SBLR_EXECUTE")
        data = bytes(payload)
        if len(data) < 16 or 16 + struct.unpack_from("<I", data, 8)[0] > len(data):
            err = ("08P01", "SBWP.SBLR_EXECUTE.PAYLOAD_INVALID", "SBLR_EXECUTE payload is malformed")
        elif struct.unpack_from("<H", data, 12)[0]:
            err = ("0A000", "SBWP.SBLR_EXECUTE.PARAMETER_BINDING_REQUIRED",
                   "SBLR_EXECUTE requires a non-empty envelope and 0 params")
        elif not struct.unpack_from("<I", data, 8)[0]:
            err = ("08P01", "SBWP.SBLR_EXECUTE.EMPTY_ENVELOPE",
                   "SBLR_EXECUTE requires a non-empty envelope and 0 params")
        else:
            err = ("42000", "The engine rejected the admitted SBLR envelope.",
                   "SB_ENGINE_API_INVALID_REQUEST")
        self._error(*err)
        self._ready(3)
