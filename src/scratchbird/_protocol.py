"""The I/O-free client side of SBWP: bytes in, events and bytes out.

``ClientProtocol`` owns a FrameReader. The caller writes what the protocol returns
and feeds what it receives; the protocol never touches a socket. The same object
serves the blocking connection, and any other front end (asyncio, a replay of a
recorded conversation in the tests).

    proto = ClientProtocol(...)
    send(proto.startup_frame())
    while not proto.handshake_done:
        out = proto.advance_handshake()   # consumes received frames
        if out: send(out)
        if not proto.handshake_done: proto.feed(recv())
    send(proto.query_frame("SELECT 1"))
    while (response := proto.read_response()) is None:
        proto.feed(recv())
"""
from __future__ import annotations

import functools
import struct
from typing import (TYPE_CHECKING, Any, Callable, Dict, Iterable, List, Optional, Sequence,
                    Tuple, TypeVar, cast)

if TYPE_CHECKING:
    from typing_extensions import Concatenate, ParamSpec

    from scratchbird.adapters import AdaptersMap

from scratchbird import _auth_messages as am
from scratchbird import _client_messages as cm
from scratchbird import _constants as c
from scratchbird import _server_messages as sm
from scratchbird._compression import Compressor, Decompressor
from scratchbird._impl import bincodec, framing, responsecodec, rowcodec
from scratchbird import _mixed_rows
from scratchbird._scram import ScramClient
from scratchbird._typing import Buffer
from scratchbird.errors import (AuthenticationError, Error, InterfaceError, NotSupportedError,
                                OperationalError, ProtocolError, error_from_fields)

__all__ = ["ClientProtocol", "Result", "Response"]

_BANNER = b"ScratchBird SBSQL parser ready"
_RD_CACHE_SIZE = 128

# What the payload parsers raise for a payload that does not have its message's layout:
# MessageFormatError (a ValueError), and struct's or the decoders' own errors.
_MALFORMED = (ValueError, struct.error, IndexError)

# The Response/Result bookkeeping lives with the compiled response reader (responsecodec),
# which builds them without a Python-level call; they are exported from here as before.
if TYPE_CHECKING:      # the classes, for annotations (a module attribute is no type)
    from scratchbird._compiled.responsecodec import Response, Result
else:
    Result = responsecodec.Result
    Response = responsecodec.Response
_scan_response = responsecodec.scan_response
_SCAN_STOP = responsecodec.SCAN_STOP


_T = TypeVar("_T")
if TYPE_CHECKING:
    _P = ParamSpec("_P")
# a factory of a row sink: (description, decoder) -> (sink, read_data_rows); see set_row_sink
RowSinkFactory = Callable[[sm.RowDescription, Any], Tuple[Any, Any]]


def _breaks_on_malformed(
        method: "Callable[Concatenate[ClientProtocol, _P], _T]",
) -> "Callable[Concatenate[ClientProtocol, _P], _T]":
    """Every server frame the protocol parses is parsed under a method wrapped in this:
    a payload that does not parse becomes a ProtocolError naming its message, and any
    ProtocolError marks the protocol broken (the byte stream is out of step with it)."""
    @functools.wraps(method)
    def guarded(self: ClientProtocol, *args: _P.args, **kwargs: _P.kwargs) -> _T:
        try:
            return method(self, *args, **kwargs)
        except ProtocolError:
            self.broken = True
            raise
        except _MALFORMED as exc:
            raise self._malformed(exc) from None
    return cast("Callable[Concatenate[ClientProtocol, _P], _T]", guarded)


class ClientProtocol:
    """State of one SBWP client session, without I/O."""

    def __init__(self, *, user: str, password: Optional[str], database: str,
                 startup_params: Iterable[Tuple[str, str]] = (), layout: str = "p1",
                 features: int = c.CLIENT_OFFERED_FEATURES, allow_cleartext: bool = False,
                 null_markers: Iterable[bytes] = rowcodec.DEFAULT_NULL_MARKERS,
                 raw_text: bool = False, compression: bool = False, binary: bool = False,
                 json_loads: Optional[Callable[[str], Any]] = None,
                 batch_rows: int = 4096) -> None:
        if layout not in ("p1", "legacy"):
            raise InterfaceError(f"unknown STARTUP layout {layout!r}")
        self.user = user
        self._password = password
        self.database = database
        self.startup_params = list(startup_params)
        self.layout = layout
        if compression:
            features |= c.FEATURE_COMPRESSION
        if binary:
            features |= c.FEATURE_BINARY_VALUES
        self.json_loads = json_loads
        self.features_offered = features if layout == "p1" else 0
        self.allow_cleartext = allow_cleartext
        self.null_markers = tuple(null_markers)
        self.raw_text = raw_text
        self.batch_rows = batch_rows
        self.reader = framing.FrameReader()
        # Server frames are numbered 0, 1, 2, ... per connection (REFERENCE 2): a gap or
        # a repeat is a lost, duplicated or corrupted frame (docs/protocol.md 11.2).
        self.reader.expected_sequence = 0
        self.handshake_done = False
        self.session_id = c.ZERO_UUID
        self.txn_id = 0
        self.negotiated_features = 0
        self.protocol_version = 0x0101
        self.server_info: Optional[sm.ServerInfo] = None
        self.parameters: Dict[str, str] = {}
        self.auth_method: Optional[int] = None
        self._scram: Optional[ScramClient] = None
        self._compressor: Optional[Compressor] = None
        self.broken = False
        self._response: Optional[Response] = None
        self._result: Optional[Result] = None
        self._decoder: Any = None
        self._extra_ready = 0
        self._copy_open = False         # between COPY_IN_RESPONSE and the COPY's READY
        self._req_raw_text = raw_text
        self._req_adapters: Optional[AdaptersMap] = None
        self._req_sink: Optional[RowSinkFactory] = None
        self._read_rows: Callable[..., int] = rowcodec.read_data_rows
        # ROW_DESCRIPTION payload and raw_text -> (description, decoder, read_data_rows)
        self._rd_cache: Dict[Tuple[bytes, bool], Tuple[sm.RowDescription, Any, Any]] = {}
        # Parsed COMMAND_COMPLETE and READY payloads, by their bytes: a repeated statement
        # gets the same ones, and responsecodec.scan_response reads those without parsing.
        self._cc_cache: Dict[bytes, sm.CommandComplete] = {}
        self._ready_cache: Dict[bytes, sm.Ready] = {}
        self._frame_cache: Dict[Tuple[str, int], bytes] = {}
        self._frame_type = 0   # of the frame being parsed, for error messages
        # CANCEL (7.2) replies: CANCEL_ACK, CANCELLED, READY(6) after whatever the server
        # was doing; they are read wherever they arrive and never end a request.
        self.cancel_outcomes: List[Any] = []   # CancelOutcome of each CANCELLED read
        self._in_cancel_reply = False
        self._cancel_request = False
        self.frames_read = 0              # frames read by read_response (DATA_ROWs excepted)
        # NOTIFICATION payload layout: today's server's until listen() picks the session's
        # (notify/_messages.py)
        self.parse_notification = sm.parse_notification

    def __repr__(self) -> str:
        return (f"<ClientProtocol user={self.user!r} database={self.database!r} "
                f"layout={self.layout} txn={self.txn_id}>")

    # ------------------------------------------------------------ bytes in

    def feed(self, data: bytes) -> None:
        self.reader.feed(data)

    def receive(self, data: bytes, row_limit: Optional[int] = None) -> Optional[Response]:
        """``feed(data)`` then ``read_response(row_limit)``, in one compiled call when the
        response's frames are common ones (``responsecodec.receive``)."""
        return responsecodec.receive(self, data, row_limit)

    def _malformed(self, exc: BaseException) -> ProtocolError:
        """The ProtocolError for a payload that does not parse (the protocol is broken)."""
        self.broken = True
        name = c.MESSAGE_NAMES.get(self._frame_type, hex(self._frame_type))
        return ProtocolError(f"malformed {name} message from the server: {exc}")

    def _next_frame(self) -> Optional[framing.Frame]:
        try:
            frame = self.reader.next_frame()
            if frame is None:
                if self.reader.buffered >= 4 and self.reader.peek(4) != c.MAGIC:
                    # Check the magic before 40 bytes are in: the text banner is shorter.
                    framing.decode_header(self.reader.peek(4) + bytes(36))
            else:
                self._frame_type = frame.msg_type
            return frame
        except ProtocolError as exc:
            self.broken = True
            if self.reader.peek(len(_BANNER)).startswith(_BANNER[:4]):
                raise OperationalError(
                    "the server answered with its text-protocol banner ('ScratchBird SBSQL "
                    "parser ready'): it did not receive the SBWP STARTUP in time, or this "
                    "port does not speak SBWP in plaintext") from None
            raise exc

    # ------------------------------------------------------------ handshake (3.4-3.14)

    def _frame(self, msg_type: int, payload: bytes = b"") -> bytes:
        # Client frames carry txn_id 0: a stale id makes the live server answer an
        # error and then run the request anyway (REFERENCE 12.A.2).
        flags = 0
        if self._compressor is not None:
            payload, flags = self._compressor.compress_payload(payload)
        return framing.encode_frame(msg_type, payload, 0, self.session_id, 0, flags)

    def startup_frame(self) -> bytes:
        params = [("database", self.database), ("user", self.user)] + self.startup_params
        if self.layout == "legacy":
            return self._frame(c.STARTUP, cm.encode_startup_legacy(params))
        for key, _ in params:
            if key not in cm.ADMITTED_STARTUP_KEYS:
                raise InterfaceError(f"STARTUP key {key!r} is not admitted by the server")
        return self._frame(c.STARTUP, cm.encode_startup_p1(params, features=self.features_offered))

    @_breaks_on_malformed
    def advance_handshake(self) -> bytes:
        """Consume the frames received so far. Returns bytes to send (maybe empty).

        Sets ``handshake_done`` at the READY that ends the startup. Raises the mapped
        error when the server refuses (the server closes the connection after it).
        """
        out = []
        while not self.handshake_done:
            frame = self._next_frame()
            if frame is None:
                break
            t = frame.msg_type
            if t == c.AUTH_REQUEST:
                out.append(self._answer_auth(frame.payload))
            elif t == c.AUTH_CONTINUE:
                out.append(self._continue_scram(frame.payload))
            elif t == c.AUTH_OK:
                self.session_id = self._accept_auth_ok(frame.payload)
                self._frame_cache.clear()
                self.txn_id = frame.txn_id
            elif t == c.SERVER_INFO:
                self.server_info = sm.parse_server_info(frame.payload)
            elif t == c.PARAMETER_STATUS:
                self.parameters.update(sm.parse_parameter_status(frame.payload))
            elif t == c.READY:
                self._apply_ready(sm.parse_ready(frame.payload), frame)
                self.handshake_done = True
                self._password = None  # no longer needed; do not keep it around
            elif t == c.ERROR:
                self.broken = True
                raise error_from_fields(sm.parse_error(frame.payload))
            else:
                self.broken = True
                raise ProtocolError(
                    f"unexpected {c.MESSAGE_NAMES.get(t, hex(t))} frame during the connection handshake")
        return b"".join(out)

    def _fail(self, exc: Error) -> Error:
        self.broken = True
        self._password = None
        return exc

    def _answer_auth(self, payload: Buffer) -> bytes:
        request = sm.parse_auth_request(payload)
        self.auth_method = request.method
        password = self._password
        if request.method not in (c.AUTH_METHOD_PASSWORD, c.AUTH_METHOD_SCRAM_SHA_256):
            raise self._fail(NotSupportedError(
                f"the server asked for authentication method {request.method}; the driver "
                "supports password (1) and SCRAM-SHA-256 (3)"))
        if password is None:
            raise self._fail(AuthenticationError("the server asked for a password and none was given"))
        if request.method == c.AUTH_METHOD_SCRAM_SHA_256:
            # SCRAM never sends the password, so it is allowed on any transport.
            am.choose_mechanism(am.parse_scram_auth_request(payload))
            try:
                self._scram = ScramClient(self.user, password)
            except Error as exc:
                raise self._fail(exc) from None
            self._password = None
            return self._frame(c.AUTH_RESPONSE, am.encode_scram_auth_response(self._scram.client_first()))
        if not self.allow_cleartext:
            raise self._fail(AuthenticationError(
                "refusing to send the password over an unencrypted connection; the server "
                "is not using TLS here (use sslmode=require or stronger, or sslmode=disable "
                "to allow a cleartext password on a trusted network)"))
        if ";" in password or "scheme=" in password:
            raise self._fail(InterfaceError(
                "the password contains ';' or 'scheme=', which the server misreads as "
                "structured credential evidence (REFERENCE 3.9); it cannot be used"))
        return self._frame(c.AUTH_RESPONSE, cm.encode_auth_response(password))

    def _continue_scram(self, payload: Buffer) -> bytes:
        step = am.parse_auth_continue(payload)
        if self._scram is None or step.method != c.AUTH_METHOD_SCRAM_SHA_256 \
                or step.stage != am.STAGE_SERVER_FIRST:
            raise self._fail(ProtocolError("unexpected AUTH_CONTINUE: no SCRAM exchange is in progress"))
        try:
            return self._frame(c.AUTH_RESPONSE, am.encode_scram_auth_response(
                self._scram.client_final(step.data)))
        except Error as exc:
            raise self._fail(exc) from None

    def _accept_auth_ok(self, payload: Buffer) -> bytes:
        if self._scram is None:
            return sm.parse_auth_ok(payload).session_id
        session_id, server_final = am.parse_scram_auth_ok(payload)
        if not server_final:
            raise self._fail(AuthenticationError(
                "the server ended the SCRAM exchange without its signature; refusing the session"))
        try:
            self._scram.verify_server_final(server_final)
        except Error as exc:
            raise self._fail(exc) from None
        self._scram = None
        return session_id

    def _apply_ready(self, ready: sm.Ready, frame: framing.Frame) -> None:
        self.txn_id = ready.txn_id or frame.txn_id
        if ready.features is not None and ready.features != self.negotiated_features:
            self.negotiated_features = ready.features
            if ready.features & c.FEATURE_COMPRESSION and self._compressor is None:
                # Granted (feature bit 0, REFERENCE 2.4): both directions from now on.
                self.reader.decompress = Decompressor()
                self._compressor = Compressor()
        if ready.version is not None:
            self.protocol_version = ready.version

    # ------------------------------------------------------------ requests

    def _begin(self, raw_text: Optional[bool] = None, adapters: Optional[AdaptersMap] = None,
               row_sink: Optional[RowSinkFactory] = None) -> None:
        if not self.handshake_done:
            raise InterfaceError("the connection handshake has not finished")
        if self.broken:
            raise OperationalError("the connection is broken")
        if self._copy_open:
            raise InterfaceError("a COPY is in progress on this connection; finish it first")
        self._response = Response([])
        self._result = None
        self._decoder = None
        self._extra_ready = 0
        self._cancel_request = False
        # Decoding options of this request (a cursor may override the connection's).
        self._req_raw_text = self.raw_text if raw_text is None else raw_text
        self._req_adapters = adapters
        self._req_sink = row_sink

    def query_frame(self, sql: str, flags: int = 0, *, raw_text: Optional[bool] = None,
                    adapters: Optional[AdaptersMap] = None,
                    row_sink: Optional[RowSinkFactory] = None) -> bytes:
        """QUERY; ``raw_text`` and ``adapters`` (an AdaptersMap) apply to its results,
        ``row_sink`` to its first result's rows (see ``set_row_sink``)."""
        self._begin(raw_text, adapters, row_sink)
        # Client frames are the same bytes for the same SQL (sequence and txn_id are 0),
        # so a repeated statement reuses its frame.
        key = (sql, flags)
        frame = self._frame_cache.get(key)
        if frame is None:
            frame = self._frame(c.QUERY, cm.encode_query(sql, flags))
            if self._compressor is None and len(sql) < 4096:
                if len(self._frame_cache) >= _RD_CACHE_SIZE:
                    self._frame_cache.pop(next(iter(self._frame_cache)))
                self._frame_cache[key] = frame
        return frame

    def commit_frame(self) -> bytes:
        self._begin()
        return self._frame(c.TXN_COMMIT, cm.encode_txn_commit())

    def rollback_frame(self) -> bytes:
        self._begin()
        return self._frame(c.TXN_ROLLBACK, cm.encode_txn_rollback())

    def ping_frame(self, payload: bytes = b"") -> bytes:
        self._begin()
        return self._frame(c.PING, payload)

    def set_option_frame(self, name: str, value: str) -> bytes:
        self._begin()
        return self._frame(c.SET_OPTION, cm.encode_set_option(name, value))

    def terminate_frame(self) -> bytes:
        return self._frame(c.TERMINATE)

    def savepoint_frame(self, msg_type: int, name: str) -> bytes:
        """TXN_SAVEPOINT, TXN_RELEASE or TXN_ROLLBACK_TO (6.5; feature 9 must be granted)."""
        if msg_type not in (c.TXN_SAVEPOINT, c.TXN_RELEASE, c.TXN_ROLLBACK_TO):
            raise InterfaceError(f"not a savepoint frame type: {msg_type:#x}")
        self._begin()
        return self._frame(msg_type, cm.encode_savepoint(name))

    def reset_session_frame(self) -> bytes:
        """RESET_SESSION, 18 bytes with byte 17 = 1 (7.5; feature 21): ends at READY(4)."""
        self._begin()
        return self._frame(c.RESET_SESSION, cm.encode_reset_session(rollback=True))

    def subscribe_frame(self, channel: str, unsubscribe: bool = False) -> bytes:
        """SUBSCRIBE / UNSUBSCRIBE (7.9; feature 4): the server ignores the payload."""
        self._begin()
        return self._frame(c.UNSUBSCRIBE if unsubscribe else c.SUBSCRIBE, cm.lpstr(channel))

    def cancel_frame(self, cancel_id: bytes, target: bytes = b"") -> bytes:
        """CANCEL (7.2) sent while a request runs: it starts no request. 16 bytes of
        ``cancel_id``, then 16 of ``target`` (non-zero: "targeted"). The reply frames come
        after the running request's READY and are consumed by ``read_response``. The only
        shared state touched is the compressor: send it under the caller's send lock."""
        return self._frame(c.CANCEL, cm.encode_cancel(cancel_id, target))

    def cancel_request_frame(self, cancel_id: bytes, target: bytes = b"") -> bytes:
        """CANCEL sent between requests, as a request of its own ending at READY(6)."""
        self._begin()
        self._cancel_request = True
        return self._frame(c.CANCEL, cm.encode_cancel(cancel_id, target))
    # ------------------------------------------------------------ COPY FROM STDIN (7.8)

    @property
    def copy_open(self) -> bool:
        """True from COPY_IN_RESPONSE until the COPY's READY: only COPY frames may go out."""
        return self._copy_open

    def copy_data_frame(self, payload: bytes) -> bytes:
        """COPY_DATA: one text chunk or one SBNR/SBCP packet (REFERENCE 7.8)."""
        self._check_copy()
        return self._frame(c.COPY_DATA, payload)

    def copy_done_frame(self) -> bytes:
        """COPY_DONE (empty): the server answers with the import report and READY."""
        self._check_copy()
        return self._frame(c.COPY_DONE)

    def copy_fail_frame(self, reason: str) -> bytes:
        """COPY_FAIL with an lpstr reason: the server drops the whole COPY (57014)."""
        self._check_copy()
        return self._frame(c.COPY_FAIL, cm.lpstr(reason.encode("utf-8", "replace")))

    def _check_copy(self) -> None:
        if not self._copy_open:
            raise InterfaceError("no COPY is in progress")

    def fence_frame(self, payload: bytes) -> bytes:
        """A PING sent after a COPY ended early: the server answers every COPY frame sent
        after the one it refused with ASYNC-011 + READY (12.D); ``read_fence`` drops those
        replies up to this PING's PONG, so the stream is in step again."""
        return self._frame(c.PING, payload)

    def read_fence(self, payload: bytes) -> Optional[bool]:
        """Consume the replies before the fence's PONG. True at the PONG, None for more bytes."""
        while True:
            frame = self._next_frame()
            if frame is None:
                return None
            t = frame.msg_type
            if t == c.PONG and bytes(frame.payload) == payload:
                return True
            if t == c.READY:
                self._apply_ready(sm.parse_ready(frame.payload), frame)
            elif t == c.ERROR:
                fields = sm.parse_error(frame.payload)
                if "ASYNC-011" not in (fields.get("M"), fields.get("D")):
                    self.broken = True
                    raise ProtocolError(f"unexpected error while closing a failed COPY: {fields}")
            else:
                self.broken = True
                raise ProtocolError(f"unexpected {c.MESSAGE_NAMES.get(t, hex(t))} frame while "
                                    "closing a failed COPY")

    @property
    def busy(self) -> bool:
        return self._response is not None

    # ------------------------------------------------------------ responses (appendix D.6)

    def _start_result(self, description: Optional[sm.RowDescription]) -> Result:
        result = Result(description)
        assert self._response is not None       # only called while a request is read
        self._response.results.append(result)
        self._result = result
        if description is not None:
            self._decoder, self._read_rows = self._decoder_for(description.columns)
        else:
            self._decoder = None
        return result

    def _start_described_result(self, payload: Buffer) -> None:
        """A result with a ROW_DESCRIPTION. A repeated statement brings the same bytes
        again, so parsed descriptions and their decoders (stateless) are kept by payload."""
        key = (bytes(payload), self._req_raw_text)
        cached = self._rd_cache.get(key)
        if cached is None or self._req_adapters is not None and self._req_adapters.has_loaders:
            description = sm.parse_row_description(payload, self.layout)
            decoder, read_rows = self._decoder_for(description.columns)
            if decoder.__class__ is not _mixed_rows.MixedRowDecoder and not (
                    self._req_adapters is not None and self._req_adapters.has_loaders):
                if len(self._rd_cache) >= _RD_CACHE_SIZE:
                    self._rd_cache.pop(next(iter(self._rd_cache)))
                self._rd_cache[key] = (description, decoder, read_rows)
        else:
            description, decoder, read_rows = cached
        result = Result(description)
        assert self._response is not None       # only called while a request is read
        self._response.results.append(result)
        self._result = result
        self._decoder, self._read_rows = decoder, read_rows
        if self._req_sink is not None:
            self.set_row_sink(self._req_sink)

    def set_row_sink(self, make_sink: RowSinkFactory) -> None:
        """Decode the rows of the current result (or, when none is streaming, of the
        request's next described result) into a sink instead of tuples: a columnar
        decoder such as ``arrowcodec.ArrowSink``. ``make_sink(description, decoder)``
        returns ``(sink, read_data_rows)``; the sink becomes ``result.rows`` (it has a
        ``len()``, so ``row_limit`` still bounds a read) and its owner empties it."""
        result = self._result
        if result is None or result.complete or result.description is None \
                or self._decoder is None:
            self._req_sink = make_sink
            return
        self._req_sink = None
        self._decoder, self._read_rows = make_sink(result.description, self._decoder)
        result.rows = self._decoder

    def _decoder_for(self, columns: Sequence[sm.Column]) -> Tuple[Any, Callable[..., int]]:
        """The row decoder for a result, chosen once per result (and per column inside):
        text columns by their type code, binary columns (value_format 0) by their
        CanonicalTypeRef. Returns ``(decoder, read_data_rows)``."""
        loaders = None
        if self._req_adapters is not None and not self._req_raw_text:
            loaders = self._req_adapters.loaders_for(columns)
        binary = sum(1 for col in columns if col.format == 1)
        if not binary:
            return (rowcodec.TextRowDecoder([col.type_oid for col in columns], self.null_markers,
                                            self._req_raw_text, loaders), rowcodec.read_data_rows)
        if binary == len(columns) and loaders is None:
            return bincodec.BinaryRowDecoder(columns, self.json_loads), bincodec.read_data_rows
        return (_mixed_rows.MixedRowDecoder(columns, self.null_markers, self._req_raw_text,
                                            loaders, self.json_loads), _mixed_rows.read_data_rows)

    @property
    def binary_values(self) -> bool:
        """The session negotiated binary values (docs/protocol.md 1.1)."""
        return bool(self.negotiated_features & c.FEATURE_BINARY_VALUES)

    def extended_frames(self, sql: str, param_oids: Sequence[int],
                        values: Iterable[Sequence[Optional[bytes]]], *,
                        autocommit: bool = False, raw_text: Optional[bool] = None,
                        adapters: Optional[AdaptersMap] = None,
                        row_sink: Optional[RowSinkFactory] = None) -> bytes:
        """PARSE + (BIND + EXECUTE) per parameter set + SYNC, pipelined in one write
        (REFERENCE 5). ``values`` is a list of parameter sets (lists of bytes or None),
        all in binary format. The response ends at the READY that SYNC brings."""
        self._begin(raw_text, adapters, row_sink)
        parts = [self._frame(c.PARSE, cm.encode_parse("", sql, param_oids))]
        execute = cm.encode_execute("", 0, 1 if autocommit else None)
        formats = (1,) if param_oids else ()
        for row in values:
            parts.append(self._frame(c.BIND, cm.encode_bind("", "", row, formats)))
            parts.append(self._frame(c.EXECUTE, execute))
        parts.append(self._frame(c.SYNC))
        return b"".join(parts)

    def pipeline_frames(self, messages: Iterable[Tuple[int, bytes]], *,
                        raw_text: Optional[bool] = None,
                        adapters: Optional[AdaptersMap] = None) -> bytes:
        """An extended-protocol request: ``(msg_type, payload)`` pairs framed into one
        write (REFERENCE 5; the caller ends it with SYNC, whose READY ends the response).
        The prepared-statement layer (``scratchbird.prepared``) builds the messages."""
        self._begin(raw_text, adapters)
        return b"".join([self._frame(msg_type, payload) for msg_type, payload in messages])

    def prebuilt_request(self, frames: bytes, *, raw_text: Optional[bool] = None,
                         adapters: Optional[AdaptersMap] = None) -> bytes:
        """Begin a request whose frames were built elsewhere (a cached prepared
        statement's, ``scratchbird.prepared``; uncompressed sessions only)."""
        self._begin(raw_text, adapters)
        return frames

    @property
    def compressing(self) -> bool:
        return self._compressor is not None

    @_breaks_on_malformed
    def read_response(self, row_limit: Optional[int] = None) -> Optional[Response]:
        """Consume received frames of the current request; the Response at its READY.

        Returns None when more bytes are needed. PING is answered by PONG alone (no
        READY), so a PONG also completes a request. With ``row_limit`` (streaming), the
        unfinished Response (``done`` False) is also returned as soon as the current
        result holds ``row_limit`` rows; the caller takes them and calls again.
        """
        response = self._response
        if response is None:
            raise InterfaceError("no request is in progress")
        while True:
            # Rows and the common frames in one (compiled) call; it stops at the first
            # frame it leaves to the loop below (responsecodec explains which).
            scanned = _scan_response(self, response, row_limit)
            if scanned != _SCAN_STOP:
                return response     # SCAN_DONE: finished at READY; SCAN_ROWS: row_limit
            result = self._result
            frame = self._next_frame()
            if frame is None:
                return None
            self.frames_read += 1
            t = frame.msg_type
            if t == c.DATA_ROW:
                if result is None or result.description is None:
                    self.broken = True
                    raise ProtocolError("DATA_ROW arrived without a ROW_DESCRIPTION")
                continue  # dropped: its result already failed to decode
            if t == c.ROW_DESCRIPTION:
                self._start_described_result(frame.payload)
            elif t == c.COMMAND_COMPLETE:
                cc = self._parse_command_complete(frame.payload)
                if result is None or result.complete:
                    result = self._start_result(None)
                result.rowcount, result.tag = cc.rows, cc.tag
                result.last_insert_id, result.complete = cc.last_insert_id, True
                self.txn_id = frame.txn_id or self.txn_id
            elif t == c.ERROR:
                error = error_from_fields(sm.parse_error(frame.payload))
                if error.diag_code == "SBWP.TRANSACTION_ID_MISMATCH":
                    self._extra_ready += 1  # the live server still runs the request (12.A.2)
                if response.error is None:
                    response.error = error
                if result is not None:
                    result.complete = True
            elif t == c.READY:
                if self._in_cancel_reply and not self._cancel_request:
                    self._in_cancel_reply = False      # the end of a CANCEL's reply (7.2)
                    self._apply_ready(self._parse_ready(frame.payload), frame)
                    continue
                self._in_cancel_reply = False
                response.ready = self._parse_ready(frame.payload)
                self._apply_ready(response.ready, frame)
                if self._extra_ready:
                    self._extra_ready -= 1
                    continue
                return self._finish()
            elif t == c.PONG:
                response.pong = bytes(frame.payload)
                return self._finish()
            elif t == c.PARAMETER_STATUS:
                status = sm.parse_parameter_status(frame.payload)
                response.parameters.update(status)
                self.parameters.update(status)
            elif t == c.NOTIFICATION:
                response.notifications.append(self.parse_notification(frame.payload))
            elif t == c.CANCEL_ACK:
                self._in_cancel_reply = True
            elif t == c.CANCELLED:
                self._in_cancel_reply = True
                self.cancel_outcomes.append(sm.parse_cancelled(frame.payload))
                del self.cancel_outcomes[:-8]          # keep the last few
            elif t == c.COPY_IN_RESPONSE and not self._copy_open and not response.results:
                # The server now waits for COPY frames (7.8): hand the Response back
                # unfinished; the report, COMMAND_COMPLETE and READY follow COPY_DONE.
                try:
                    response.copy_in = sm.parse_copy_in_response(frame.payload)
                except ValueError as exc:
                    self.broken = True
                    raise ProtocolError(f"malformed COPY_IN_RESPONSE: {exc}") from None
                self._copy_open = True
                return response
            elif t == c.PARAMETER_DESCRIPTION:
                response.parameter_types = sm.parse_parameter_description(frame.payload, self.layout)
            elif t in (c.PARSE_COMPLETE, c.BIND_COMPLETE, c.CLOSE_COMPLETE, c.TXN_STATUS,
                       c.SBLR_COMPILED):
                continue
            else:
                self.broken = True
                raise ProtocolError(
                    f"unexpected {c.MESSAGE_NAMES.get(t, hex(t))} frame in a query response")

    def _parse_command_complete(self, payload: Buffer) -> sm.CommandComplete:
        key = bytes(payload)
        cc = self._cc_cache.get(key)
        if cc is None:
            cc = sm.parse_command_complete(key)
            if len(key) < 256:      # a tag and three numbers: kept small
                if len(self._cc_cache) >= _RD_CACHE_SIZE:
                    self._cc_cache.pop(next(iter(self._cc_cache)))
                self._cc_cache[key] = cc
        return cc

    def _parse_ready(self, payload: Buffer) -> sm.Ready:
        key = bytes(payload)
        ready = self._ready_cache.get(key)
        if ready is None:
            ready = sm.parse_ready(key)
            if len(self._ready_cache) >= _RD_CACHE_SIZE:
                self._ready_cache.pop(next(iter(self._ready_cache)))
            self._ready_cache[key] = ready
        return ready

    def _finish(self) -> Response:
        response = self._response
        assert response is not None             # only called while a request is read
        response.done = True
        self._copy_open = False
        self._response = None
        self._result = None
        self._decoder = None
        return response
