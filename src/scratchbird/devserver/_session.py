"""One SBWP connection of the dev server: the per-connection state machine.

Behaves on the wire like the real ``sbp_sbsql`` worker (REFERENCE sections 2-7, with
section 12 winning where it differs). The SQL itself runs in the engine layer
(``_engine``); this module owns framing, the order of checks on every client frame
(2.2), startup, the reply shapes, sequence numbers and header ids, READY rules, SQL,
transactions and COPY. The extended protocol (5) is in ``_extended`` and the small session
frames (PING, SET_OPTION, RESET_SESSION, ...) in ``_session_frames``: mixins of ``Session``.

Output is batched: frames accumulate in a buffer that is written with one ``sendall``
when it reaches 256 KiB, before any engine work starts (so earlier replies never wait
behind a long statement) and whenever the session is about to block reading; replies to
a pipelined burst of protocol-only frames therefore leave in one write.
"""
from __future__ import annotations

import collections
import hashlib
import inspect
import json
import logging
import re
import struct
from typing import TYPE_CHECKING, Any, Callable, Dict, Mapping, NoReturn, Optional, cast

from scratchbird import _constants as C
from scratchbird._client_messages import parse_query
from scratchbird._impl import framing, rowcodec
from scratchbird._server_messages import (
    Column, encode_auth_ok, encode_auth_request, encode_command_complete, encode_error,
    encode_parameter_status, encode_ready_legacy, encode_ready_p1, encode_row_description_legacy,
    encode_row_description_p1, encode_server_info,
)
from scratchbird.errors import ProtocolError

from ._binding import BoundStore, statement_separators
from ._startup import (
    PROFILES, Negotiation, Profile, SessionConfig, StartupRejected, negotiate, new_session_uuid,
    startup_parameter_entries,
)
from . import _binary_results, _full_auth                    # the full profile (protocol.md 4)
from . import _notify                                           # NOTIFY delivery (protocol.md 7)
from ._watch import BAD_INPUT, RequestWatch
from . import _copy                                             # COPY FROM STDIN (7.8)
from ._extended import ExtendedProtocol                         # PARSE ... SYNC (5)
from ._session_frames import SessionFrames                      # PING, SET_OPTION, ... (6.6, 7)

if TYPE_CHECKING:
    from scratchbird._compression import Compressor

    from ._cache import ResultCache

__all__ = ["Profile", "PROFILES", "SessionConfig", "Session"]

log = logging.getLogger("scratchbird.devserver")

SEND_CHUNK = 256 * 1024        # flush threshold of the output buffer
RECV_CHUNK = 256 * 1024
_SAVEPOINT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_SCRIPT_TRAILER = struct.Struct("<IHHQII")      # magic, version, extra_flags, size, count, hint
_SCRIPT_MAGIC = 0x53514253


def _open_engine_session(engine, user: Optional[str]):
    """``open_session(user=...)`` when the engine takes the principal (it names it in
    DDL catalog rows, e.g. ``principal_name:<user>``), else the plain interface."""
    params: Mapping[str, Any]
    try:
        params = inspect.signature(engine.open_session).parameters
    except (TypeError, ValueError):
        params = {}
    if "user" in params:
        return engine.open_session(user=user)
    return engine.open_session()


class _Close(Exception):
    """End the connection now (after whatever was already queued is flushed)."""


class _WatchedResult:
    """A StatementResult whose batches are fetched as watched steps (``_watch``)."""

    __slots__ = ("_result", "_watch")

    def __init__(self, result, watch) -> None:
        self._result = result
        self._watch = watch

    def batches(self):
        return self._watch.iterate(self._result.batches())

    def __getattr__(self, name):
        return getattr(self._result, name)


class Session(ExtendedProtocol, SessionFrames):
    """Serves one connected socket until it closes. ``run()`` never raises."""

    def __init__(self, sock, config: SessionConfig, peer: str = "?") -> None:
        self.sock = sock
        self.cfg = config
        self.profile = config.profile
        self.peer = peer
        self.reader = framing.FrameReader(check_flags=False)
        self._out: list = []
        self._out_len = 0
        self.seq = 0
        self.attachment = C.ZERO_UUID
        self.session_id = C.ZERO_UUID
        self.es = None                  # engine session once authenticated
        self.nego: Optional[Negotiation] = None
        self.layout = "legacy"          # READY / ROW_DESCRIPTION layout (legacy until a P1 STARTUP)
        self.features = 0
        self.version = 0x0101
        self.user: Optional[str] = None
        self.partial: Optional[bytearray] = None
        self.statements = BoundStore("prepared statement")
        self.portals = BoundStore("bound portal")
        self.options: Dict[str, str] = {}
        self.trace: Optional[str] = None
        self.ready_since_extended = True
        self.compressor: Optional[Compressor] = None    # full profile: once bit 0 is granted (2.4)
        self._held: collections.deque = collections.deque()   # frames read during a request
        self.watch: Optional[RequestWatch] = None              # CANCEL / lost peer (_watch)
        self.copy_in: Optional[_copy.CopyIn] = None     # the COPY in progress (7.8)
        self.notify_inbox: Optional[collections.deque] = None  # full profile, once subscribed
        self._handlers: Dict[int, Callable] = {
            C.STARTUP: self._on_startup, C.AUTH_RESPONSE: self._on_unsupported,
            C.QUERY: self._on_query, C.PARSE: self._on_parse, C.BIND: self._on_bind,
            C.DESCRIBE: self._on_describe, C.EXECUTE: self._on_execute, C.CLOSE: self._on_close,
            C.SYNC: self._on_sync, C.CANCEL: self._on_cancel, C.TERMINATE: self._on_terminate,
            C.COPY_DATA: self._on_copy, C.COPY_DONE: self._on_copy, C.COPY_FAIL: self._on_copy,
            C.SBLR_EXECUTE: self._on_sblr_execute, C.SUBSCRIBE: self._on_subscribe,
            C.UNSUBSCRIBE: self._on_subscribe, C.TXN_BEGIN: self._on_begin,
            C.TXN_COMMIT: self._on_commit, C.TXN_ROLLBACK: self._on_rollback,
            C.TXN_SAVEPOINT: self._on_savepoint, C.TXN_RELEASE: self._on_savepoint,
            C.TXN_ROLLBACK_TO: self._on_savepoint, C.PING: self._on_ping,
            C.SET_OPTION: self._on_set_option, C.RESET_SESSION: self._on_reset,
            C.REAUTH: self._on_reauth, C.TRACE_CONTEXT: self._on_trace_context,
            C.TXN_STATUS: self._on_txn_status, C.LOB_CLOSE: self._on_lob_close,
            C.HEARTBEAT: self._on_unsupported,
        }

    # ------------------------------------------------------------ plumbing

    @property
    def txn(self) -> int:
        return self.es.txn_id if self.es is not None else 0

    def run(self) -> None:
        try:
            while True:
                self._dispatch(self._next_frame())
        except _Close:
            pass
        except (OSError, EOFError) as exc:      # the peer went away (ssl.SSLError is an OSError)
            log.debug("%s: connection lost: %s", self.peer, exc)
        except Exception:                       # a bug must not take the server down
            log.exception("%s: session failed", self.peer)
        finally:
            if self.watch is not None:
                self.watch.stop()
            _notify.drop(self)
            try:
                self._flush()
            except OSError:
                pass
            self._end_engine_session()

    def _end_engine_session(self) -> None:
        es, self.es = self.es, None
        if es is not None:
            try:
                es.close()                      # rolls back whatever is open
            except Exception:
                log.exception("%s: closing the engine session failed", self.peer)

    def _next_frame(self):
        """The next complete client frame; header problems and EOF end the session silently."""
        while True:
            if self._held:                      # read while the engine worked (_watch)
                frame = self._held.popleft()
                if frame is BAD_INPUT:
                    raise _Close()
                return frame
            if self.watch is not None and self.watch.peer_gone:
                raise _Close()
            try:
                frame = self.reader.next_frame()
            except ProtocolError as exc:        # bad magic/version/length: silent close (2.2)
                log.debug("%s: %s", self.peer, exc)
                raise _Close() from None
            if frame is not None:
                return frame
            self._flush()                       # about to block: send what is queued
            if self.notify_inbox is not None:   # a listener: deliver while it waits
                _notify.wait_readable(self)
            data = self.sock.recv(RECV_CHUNK)
            if not data:                        # EOF, possibly mid-frame: silent close
                raise _Close()
            self.reader.feed(data)

    def _write(self, data: bytes) -> None:
        self._out.append(data)
        self._out_len += len(data)
        if self._out_len >= SEND_CHUNK:
            self._flush()

    def _flush(self) -> None:
        if self._out:
            data = self._out[0] if len(self._out) == 1 else b"".join(self._out)
            self._out.clear()
            self._out_len = 0
            self.sock.sendall(data)

    def _send(self, msg_type: int, payload: bytes = b"") -> None:
        flags = 0
        if self.compressor is not None:
            payload, flags = self.compressor.compress_payload(payload)
        self._write(framing.encode_header(msg_type, len(payload), self.seq, self.attachment,
                                          self.txn, flags) + payload)
        self.seq += 1

    def _error(self, sqlstate: str, message: str, detail: str = "") -> None:
        self._send(C.ERROR, encode_error((("S", "ERROR"), ("C", sqlstate), ("M", message),
                                          ("D", detail))))

    def _fatal(self, sqlstate: str, message: str, detail: str = "") -> NoReturn:
        self._error(sqlstate, message, detail)
        self._flush()
        raise _Close()

    def _not_negotiated(self, msg_type: int) -> NoReturn:
        # The real server prints the type in decimal after "0x" (REFERENCE 2.2, 12.A.18).
        self._fatal("08P01", "SBWP.FEATURE.NOT_NEGOTIATED",
                    f"frame 0x{msg_type} requires a feature that was not negotiated for this session")

    def _ready(self, reason: int) -> None:
        if self.layout == "p1":
            payload = encode_ready_p1(self.session_id, self.txn, reason, self.features, self.version)
        else:
            payload = encode_ready_legacy(self.txn)
        self._send(C.READY, payload)
        self.ready_since_extended = True

    def _parameter_status(self, entries) -> None:
        if self.layout == "p1":                 # legacy sessions never get PARAMETER_STATUS
            self._send(C.PARAMETER_STATUS, encode_parameter_status(entries))

    def _txn_mismatch(self, frame, name: str) -> None:
        """ERROR 25000 + READY(3) on a wrong nonzero txn_id; the request runs anyway (12.A.2)."""
        current = self.txn
        if frame.txn_id and current and frame.txn_id != current:
            self._error("25000", "SBWP.TRANSACTION_ID_MISMATCH",
                        f"{name} frame transaction does not match the current engine transaction")
            self._ready(3)

    def _need_auth(self, ready: Optional[int] = 2) -> bool:
        """True when authenticated; otherwise answers 28000 (+ READY unless ``ready`` is None)."""
        if self.es is not None:
            return True
        self._error("28000", "authentication required")
        if ready is not None:
            self._ready(ready)
        return False

    # ------------------------------------------------------------ dispatch (2.2)

    def _dispatch(self, frame) -> None:
        msg_type, flags = frame.msg_type, frame.flags
        if flags & C.FLAG_RESERVED_MASK:
            self._fatal("08P01", "SBWP.HEADER.RESERVED_BITS_SET",
                        "SBWP frame flags failed closed before payload dispatch")
        if flags & C.FLAG_COMPRESSED:
            if self.reader.decompress is None:
                self._fatal("08P01", "SBWP.COMPRESSION.UNNEGOTIATED_FRAME",
                            "compressed SBWP frame received but compression was not negotiated")
            try:                                # negotiated (full profile, 2.4 [SPEC])
                frame.payload = memoryview(self.reader.decompress(frame.payload))
            except ProtocolError as exc:
                self._fatal("08P01", "SBWP.COMPRESSION.INVALID_FRAME", str(exc))
        payload = frame.payload
        if flags & (C.FLAG_CONTINUED | C.FLAG_FINAL) or self.partial is not None:
            payload = self._fragment(frame)
            if payload is None:
                return
        if msg_type not in C.CLIENT_MESSAGE_TYPES:
            self._fatal("08P01", "NATIVE_WIRE.PROTOCOL_FATAL",
                        "unknown SBWP frame type is not recoverable")
        need = C.GATED_CLIENT_FRAMES.get(msg_type)
        if msg_type == C.EXTENSION or (need and not self.features & need):
            self._not_negotiated(msg_type)
        self._handlers.get(msg_type, self._on_unsupported)(frame, payload)

    def _fragment(self, frame):
        """QUERY fragments (2.3): joined until FINAL; anything else while open is fatal."""
        if frame.msg_type != C.QUERY:
            self._fatal("08P01", "SBWP.PARTIAL_QUERY.INVALID_MESSAGE",
                        "partial frames are accepted only for QUERY")
        if not self.features & C.FEATURE_STREAMING:
            self._not_negotiated(frame.msg_type)
        if self.partial is None:
            self.partial = bytearray()
        self.partial += frame.payload
        if len(self.partial) > C.MAX_PAYLOAD:
            self._fatal("54000", "SBWP.PARTIAL_QUERY.PAYLOAD_TOO_LARGE",
                        "joined partial QUERY exceeds the 64 MiB frame limit")
        if frame.flags & C.FLAG_FINAL or not frame.flags & C.FLAG_CONTINUED:
            data, self.partial = bytes(self.partial), None
            return memoryview(data)
        return None

    # ------------------------------------------------------------ startup (3.4-3.14)

    def _reset_connection_state(self) -> None:
        self._end_engine_session()
        self.attachment = self.session_id = C.ZERO_UUID
        self.nego, self.layout, self.features, self.version = None, "legacy", 0, 0x0101
        self.compressor = self.reader.decompress = None
        self.statements.clear()
        self.portals.clear()
        self.options.clear()
        self.trace = None
        self.copy_in = None

    def _on_startup(self, frame, payload) -> None:
        if self.es is not None:                 # a second STARTUP restarts the handshake
            self._reset_connection_state()
        try:
            nego = negotiate(payload, self.profile.supported_features)
        except StartupRejected as exc:
            self._fatal(exc.sqlstate, exc.code, exc.detail)
        auth_info = b""
        user: Optional[str]
        if self.profile.auth == "scram":        # full profile (3.10 [SPEC], _full_auth)
            user, auth_info = _full_auth.scram_handshake(self, nego, self._check_database)
        else:
            self._send(C.AUTH_REQUEST, encode_auth_request(C.AUTH_METHOD_PASSWORD))
            response = self._next_frame()          # not flag-checked (2.1)
            if response.msg_type != C.AUTH_RESPONSE:
                self._fatal("08P01", "expected AUTH_RESPONSE after AUTH_REQUEST")
            user = nego.params.get("user") or None
            self._check_database(nego)
            if not self.cfg.users.verify(user, bytes(response.payload)):
                log.info("%s: authentication failed for user %r", self.peer, user)
                self._fatal("28000", "Authentication failed.", "SECURITY.AUTHENTICATION.FAILED")
        try:
            es = _open_engine_session(self.cfg.engine, user)
        except Exception:
            log.exception("%s: could not open an engine session", self.peer)
            self._fatal("25000", "PARSER_SERVER_IPC.ATTACH_TRANSACTION_REQUIRED",
                        "engine attach did not publish a transaction")
        if self.profile.name == "full" and hasattr(es, "spec_shapes"):
            es.spec_shapes = True       # the design spec's result shapes (docs/protocol.md)
        self.es, self.nego, self.user = es, nego, user
        es.spec_semantics = self.profile.spec_semantics
        if self.watch is not None:              # a second STARTUP (restarted handshake)
            self.watch.stop()
        self.watch = RequestWatch(self, interrupt_on_cancel=self.profile.spec_semantics)
        self.session_id = self.attachment = new_session_uuid()
        self.layout, self.features, self.version = nego.layout, nego.features, nego.selected_version
        self._send(C.AUTH_OK, encode_auth_ok(self.session_id, auth_info))
        if self.layout == "p1":
            p = self.profile
            self._send(C.SERVER_INFO, encode_server_info(self.session_id, p.product, p.channel,
                                                         p.dialect, p.supported_features))
            name = cast(str, user)              # verified: an unnamed user never gets here
            self._parameter_status(startup_parameter_entries(
                nego, name, self.cfg.users.uuid_of(name), self.txn))
        self._ready(C.READY_STARTUP)
        if self.features & C.FEATURE_COMPRESSION:    # full profile: from here on (2.4 [SPEC])
            from scratchbird._compression import Compressor, Decompressor
            self.compressor, self.reader.decompress = Compressor(), Decompressor()
        log.debug("%s: %s session for %r, features 0x%x", self.peer, self.layout, user, self.features)

    def _check_database(self, nego: Negotiation) -> None:
        requested = nego.params.get("database") or ""
        if self.cfg.dbname and requested and requested != self.cfg.dbname:
            self._fatal("28000", "Authentication requested a database that is not associated "
                        "with this server route.", "PARSER_SERVER_IPC.AUTH_DATABASE_MISMATCH")

    def _on_unsupported(self, frame, payload) -> None:
        """HEARTBEAT, or AUTH_RESPONSE outside the handshake (7.11, appendix A)."""
        self._error("08P01", "unsupported SBWP frame")
        self._ready(2)

    def _on_terminate(self, frame, payload) -> None:
        raise _Close()

    # ------------------------------------------------------------ simple query (4)

    def _on_query(self, frame, payload) -> None:
        if not self._need_auth():
            return
        self._txn_mismatch(frame, "QUERY")
        query = parse_query(payload)
        if _copy.is_copy_from_stdin(query.sql):
            self._start_copy(query.sql)
            return
        if self.profile.spec_semantics and _notify.run_notify(self, query.sql):
            return
        flags = query.flags | self._script_trailer_flags(payload)
        script = bool(flags & 0x180) or statement_separators(query.sql) > 0
        if flags & 0x10:
            self._return_sblr(query.sql)
            return
        binary = bool(flags & C.QUERY_FLAG_BINARY_RESULT
                      and self.features & C.FEATURE_BINARY_VALUES)
        self._run_sql(query.sql, autocommit=bool(flags & C.QUERY_FLAG_AUTOCOMMIT),
                      script=script, summary=bool(flags & 0x200), ready=True, binary=binary)

    @staticmethod
    def _script_trailer_flags(payload) -> int:
        """extra_flags of the optional 24-byte "SBQS" trailer right after the NUL (4.1)."""
        data = bytes(payload[12:])
        end = data.find(b"\x00")
        if end < 0 or len(data) - end - 1 < _SCRIPT_TRAILER.size:
            return 0
        magic, version, extra, _size, _count, _hint = _SCRIPT_TRAILER.unpack_from(data, end + 1)
        return extra if magic == _SCRIPT_MAGIC and version == 1 else 0

    def _run_sql(self, sql: str, *, autocommit: bool, script: bool, summary: bool,
                 ready: bool, binary: bool = False, params: Optional[list] = None) -> None:
        """Run SQL through the engine and send its result frames (4.1, 4.2, 5.4).

        ``binary``: results in binary values, ``params``: bound parameters (full profile)."""
        from ._engine import EngineError
        cache, keep = self.cfg.result_cache, None
        # A QUERY's and an EXECUTE's (ready False: SYNC sends the READY) answer alike.
        if cache is not None and not script and not summary and params is None:
            replayed, keep, commit_seq = cache.serve(self, sql, binary)
            if replayed:
                if ready:
                    self._ready(2)
                return
        if ready:
            # earlier replies must not wait behind this engine work; an EXECUTE's
            # PARSE/BIND/CLOSE_COMPLETE go out with its result, in one write with the
            # READY of the SYNC sent with it (docs/protocol.md 8.5)
            self._flush()
        failed = False
        results = None
        watch = cast(RequestWatch, self.watch)      # set at STARTUP, before any SQL
        watch.begin_request()
        try:
            results = watch.iterate(
                _binary_results.run_native(self.es, sql, autocommit, params) if binary
                else self.es.execute_script(sql, autocommit=autocommit))
            total = 0
            for result in results:
                watched = _WatchedResult(result, watch)
                if summary:
                    for _batch in watched.batches():
                        pass
                    total += result.rows
                elif binary:
                    _binary_results.send_binary_result(self, watched, keep)
                else:
                    self._send_result(watched, keep=keep)
                if keep is not None and not getattr(result, "describe_empty", False):
                    cast("ResultCache", cache).store(sql, result, keep, commit_seq, self.cfg.engine,
                                                   self.es)    # keep comes from the cache
                    keep = None             # only a first (and only) result is kept
            if summary:
                self._send(C.COMMAND_COMPLETE, encode_command_complete("SCRIPT", total))
        except EngineError as exc:
            failed = True
            self._error(getattr(exc, "sqlstate", None) or "42000",
                        getattr(exc, "message", None) or str(exc) or "operation rejected",
                        getattr(exc, "code", None) or "SBSQL.EXECUTION.REJECTED")
        except (OSError, _Close):
            raise
        except Exception as exc:                # engine bug: report it, keep the connection
            log.exception("%s: engine failure on %r", self.peer, sql[:200])
            failed = True
            self._error("42000", str(exc) or "operation rejected", "SBSQL.EXECUTION.REJECTED")
        finally:
            watch.end_request()
            close = getattr(results, "close", None)
            if close is not None:
                try:
                    close()
                except Exception:
                    log.debug("%s: closing the result iterator failed", self.peer, exc_info=True)
        if ready:
            self._ready(3 if failed and script else 2)

    def _send_result(self, result, keep: Optional[list] = None, batches=None) -> None:
        """[ROW_DESCRIPTION, DATA_ROW...] COMMAND_COMPLETE. No RD for zero rows (4.2).

        ``keep`` collects the batches for the result cache; ``batches`` replays a cached
        result's rows instead of asking the engine."""
        described = False
        for batch in result.batches() if batches is None else batches:
            if not batch:
                continue
            if keep is not None:
                keep.append(batch)
            if not described:
                self._send(C.ROW_DESCRIPTION, self._row_description(result))
                described = True
            if self.compressor is not None:     # full profile: each frame through zstd
                for row in batch:
                    self._send(C.DATA_ROW, rowcodec.encode_data_row(row))
                continue
            data, self.seq = rowcodec.encode_data_row_frames(batch, self.seq, self.attachment,
                                                             self.txn)
            self._write(data)
        if not described and getattr(result, "describe_empty", False):   # full profile, 0 rows
            self._send(C.ROW_DESCRIPTION, self._row_description(result))
        # read after the batches: a COMMIT's completion already carries the new txn (12.B.4)
        self._send(C.COMMAND_COMPLETE, encode_command_complete(result.tag, result.rows))

    def _row_description(self, result) -> bytes:
        columns = [Column(name, oid) for name, oid in zip(result.columns, result.type_oids)]
        if self.layout == "p1":
            return encode_row_description_p1(columns)
        return encode_row_description_legacy(columns)

    def _return_sblr(self, sql: str) -> None:
        """QUERY flag 0x10: compile only. The dev server has no SBLR compiler, so the
        envelope is a JSON stand-in with the real frame shape (7.10)."""
        if statement_separators(sql.strip().rstrip(";")) > 0:
            self._error("0A000", "SBWP.RETURN_SBLR.MULTI_STATEMENT_REFUSED",
                        "RETURN_SBLR accepts exactly one statement")
            self._ready(3)
            return
        envelope = json.dumps({"envelope": "SBLRExecutionEnvelope.v3", "dialect": "sbsql",
                               "source": "scratchbird.devserver", "sql": sql}).encode()
        digest = struct.unpack("<Q", hashlib.sha256(sql.encode()).digest()[:8])[0]
        self._send(C.SBLR_COMPILED, struct.pack("<QII", digest, 3, len(envelope)) + envelope)
        self._send(C.COMMAND_COMPLETE, encode_command_complete("SBLR_COMPILED", 0))
        self._ready(2)

    # ------------------------------------------------------------ transactions (6)

    def _engine_call(self, fn, tag: str) -> None:
        from ._engine import EngineError
        self._flush()
        try:
            fn()
        except EngineError as exc:
            self._error(getattr(exc, "sqlstate", None) or "42000", exc.message, exc.code)
            self._ready(2)
            return
        self._send(C.COMMAND_COMPLETE, encode_command_complete(tag, 0))
        self._ready(2)

    def _on_begin(self, frame, payload) -> None:
        if self._need_auth():                   # payload ignored, no txn check (6.2)
            self._engine_call(self.es.begin, "BEGIN")

    def _on_commit(self, frame, payload) -> None:
        if not self._need_auth():
            return
        self._txn_mismatch(frame, "TXN_COMMIT")
        data = bytes(payload)
        if not ((len(data) == 4 and data[1:4] == b"\x00\x00\x00") or len(data) >= 36):
            self._error("08P01", "SBWP.COMMIT.IDEMPOTENCY_PAYLOAD_INVALID",
                        "TxnCommit finality/idempotency payload is truncated or unsupported")
            self._ready(3)
            return
        self._engine_call(self.es.commit, "COMMIT")

    def _on_rollback(self, frame, payload) -> None:
        if self._need_auth():                   # payload ignored (6.4)
            self._txn_mismatch(frame, "TXN_ROLLBACK")
            self._engine_call(self.es.rollback, "ROLLBACK")

    def _on_savepoint(self, frame, payload) -> None:
        name, sql = {C.TXN_SAVEPOINT: ("TXN_SAVEPOINT", "SAVEPOINT"),
                     C.TXN_RELEASE: ("TXN_RELEASE", "RELEASE SAVEPOINT"),
                     C.TXN_ROLLBACK_TO: ("TXN_ROLLBACK_TO", "ROLLBACK TO SAVEPOINT")}[frame.msg_type]
        if not self._need_auth():
            return
        self._txn_mismatch(frame, name)
        data = bytes(payload)
        ident = None
        if len(data) >= 4 and struct.unpack_from("<I", data)[0] == len(data) - 4:
            ident = data[4:].decode("utf-8", "replace")
        if ident is None or not _SAVEPOINT_NAME.match(ident):
            self._error("08P01", "SBWP.SAVEPOINT.INVALID_PAYLOAD",
                        "savepoint frames require one simple identifier payload")
            self._ready(3)
            return
        # The real server runs the SQL (6.5): tags SAVEPOINT / RELEASE / ROLLBACK, and an
        # unknown savepoint is an engine error + READY(2). Nothing is undone (12.A.8).
        self._run_sql(f"{sql} {ident}", autocommit=False, script=False, summary=False, ready=True)

    # ------------------------------------------------------------ COPY frames (7.8)

    def _start_copy(self, sql: str) -> None:
        _copy.start(self, sql)

    def _on_copy(self, frame, payload) -> None:
        """COPY frames (7.8, ``_copy``); with no COPY in progress, ASYNC-011 (12.B.7.7)."""
        if self.copy_in is not None:
            _copy.on_frame(self, frame, payload)
            return
        if frame.msg_type == C.COPY_FAIL:
            self._error("57014", "SBSQL.COPY.CLIENT_ABORTED", "client aborted the active COPY stream")
        else:
            name = "COPY_DATA" if frame.msg_type == C.COPY_DATA else "COPY_DONE"
            self._txn_mismatch(frame, name)
            self._error("08P01", "ASYNC-011",
                        f"{name} arrived without a prior accepted COPY initiation")
        self._ready(3)
