"""A scripted SBWP server for the unhappy paths the dev server never produces: it speaks
a valid handshake and response frame by frame, and lets a test replace the payload of
any one frame (the frame header stays consistent, so only the payload is malformed)."""
from __future__ import annotations

import socket
import threading
from typing import Callable, Dict, List, Optional, Tuple

from scratchbird import _auth_messages as am
from scratchbird import _constants as c
from scratchbird import _server_messages as sm
from scratchbird._impl import framing
from scratchbird._scram import ScramServer, make_verifier
from scratchbird.errors import Error
from tests.sbwp_socket import read_frame

SID = bytes(range(1, 17))
TXN = 7

# (msg_type, payload) pairs of one scripted step
Frames = List[Tuple[int, bytes]]


def password_auth() -> List[Frames]:
    """The frames of a cleartext-password handshake, one list per server turn."""
    return [[(c.AUTH_REQUEST, sm.encode_auth_request(c.AUTH_METHOD_PASSWORD))]]


def after_auth() -> Frames:
    """AUTH_OK, SERVER_INFO, PARAMETER_STATUS, READY: the end of every handshake."""
    return [(c.SERVER_INFO, sm.encode_server_info(SID)),
            (c.PARAMETER_STATUS, sm.encode_parameter_status([("database", "default")])),
            (c.READY, sm.encode_ready_p1(SID, TXN, 1, 0))]


def query_response() -> Frames:
    """A one-column, zero-row SELECT, with a PARAMETER_STATUS and a NOTIFICATION inside."""
    return [(c.ROW_DESCRIPTION, sm.encode_row_description_p1([sm.Column("x", 23)])),
            (c.PARAMETER_STATUS, sm.encode_parameter_status([("search_path", "main")])),
            (c.NOTIFICATION, sm.encode_notification("chan", "hello", 1)),
            (c.COMMAND_COMPLETE, sm.encode_command_complete("SELECT 0", 0)),
            (c.READY, sm.encode_ready_p1(SID, TXN, 1, 0))]


class ScriptedServer:
    """Serves one connection per ``expect`` call on 127.0.0.1:<port>.

    ``mutate(phase, index, msg_type, payload)`` may return a replacement payload, or a
    ``(msg_type, payload)`` pair, for any frame (phase is "handshake" or "response"). SCRAM (``scram=True``) runs the real
    exchange with ``user``/``password``; otherwise the handshake asks for a password.
    """

    def __init__(self, user: str, password: str) -> None:
        self.user = user
        self.password = password
        self.verifier = make_verifier(password, iterations=4096)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.errors: List[BaseException] = []

    def expect(self, mutate: Optional[Callable] = None, *, scram: bool = False) -> threading.Thread:
        thread = threading.Thread(target=self._serve, args=(mutate, scram), daemon=True)
        thread.start()
        return thread

    def close(self) -> None:
        self.listener.close()

    def __enter__(self) -> "ScriptedServer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------ one connection

    def _serve(self, mutate, scram: bool) -> None:
        self.listener.settimeout(10)
        try:
            sock, _ = self.listener.accept()
        except OSError:
            return
        sock.settimeout(10)
        try:
            self._converse(sock, mutate, scram)
        except OSError:
            pass  # the client closed on us: that is what most scripts provoke
        except Error:
            pass  # our SCRAM half refused a client answered to a mutated message: hang up
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            self.errors.append(exc)
        finally:
            sock.close()

    def _converse(self, sock, mutate, scram: bool) -> None:
        reader = framing.FrameReader()
        seq = [0]
        sent: Dict[str, int] = {"handshake": 0, "response": 0}

        def send(phase: str, frames: Frames) -> None:
            out = []
            for msg_type, payload in frames:
                if mutate is not None:
                    replaced = mutate(phase, sent[phase], msg_type, payload)
                    if isinstance(replaced, tuple):
                        msg_type, payload = replaced
                    elif replaced is not None:
                        payload = replaced
                sent[phase] += 1
                out.append(framing.encode_frame(msg_type, payload, seq[0], SID, TXN))
                seq[0] += 1
            sock.sendall(b"".join(out))

        def receive():
            return read_frame(sock, reader)

        if receive() is None:                                   # STARTUP
            return
        if scram:
            server = ScramServer(self.verifier, self.user)
            send("handshake", [(c.AUTH_REQUEST, am.encode_scram_auth_request())])
            first = receive()
            if first is None:
                return
            send("handshake", [(c.AUTH_CONTINUE, am.encode_auth_continue(
                server.server_first(bytes(first.payload))))])
            final = receive()
            if final is None:
                return
            signature = server.server_final(bytes(final.payload))
            send("handshake", [(c.AUTH_OK, am.encode_scram_auth_ok(SID, signature))] + after_auth())
        else:
            for turn in password_auth():
                send("handshake", turn)
                if receive() is None:                           # AUTH_RESPONSE
                    return
            send("handshake", [(c.AUTH_OK, sm.encode_auth_ok(SID))] + after_auth())
        if receive() is None:                                   # QUERY
            return
        send("response", query_response())
        sock.shutdown(socket.SHUT_WR)  # nothing more will come: the client cannot wait forever
        while receive() is not None:   # TERMINATE, then the client's close
            pass
