"""The dev server's extended protocol (REFERENCE section 5): PARSE, BIND (and P1 array
bind, 5.8), DESCRIBE, EXECUTE, CLOSE and SYNC.

A mixin of ``_session.Session``: it uses the session's state (``statements``, ``portals``,
``features``, ``layout``) and its reply helpers (``_send``, ``_error``, ``_ready``,
``_need_auth``, ``_txn_mismatch``, ``_run_sql``), which stay in ``_session``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from scratchbird import _constants as C
from scratchbird._server_messages import (
    encode_parameter_description_legacy, encode_parameter_description_p1,
)

from ._binding import (
    BindingError, PreparedStatement, array_bind_sql, formats_for, is_array_bind,
    parse_array_bind, parse_bind, parse_close, parse_describe, parse_execute, parse_parse,
    substitute, to_literal,
)
from . import _binary_params                                   # the full profile (protocol.md 4)

__all__ = ["ExtendedProtocol"]


if TYPE_CHECKING:                   # the session state this mixin uses, for mypy only
    from ._session_host import SessionHost as _Host
else:
    _Host = object


class ExtendedProtocol(_Host):
    """The section 5 frame handlers of a ``Session``."""

    def _on_parse(self, frame, payload) -> None:
        self.ready_since_extended = False
        try:
            name, sql, oids = parse_parse(payload)
            size = len(sql.encode("utf-8")) + 4 * len(oids) + len(name)
            self.statements.put(name, PreparedStatement(sql, oids, size), size)
        except BindingError as exc:
            self._error(exc.sqlstate, exc.message, exc.detail)
            return
        self._send(C.PARSE_COMPLETE)

    def _on_bind(self, frame, payload) -> None:
        self.ready_since_extended = False
        try:
            if is_array_bind(payload):
                self._array_bind(payload)
            else:
                portal, name, formats, values = parse_bind(payload)
                stmt = self.statements.get(name)
                if stmt is None:
                    raise BindingError("08P01", "invalid BIND payload")
                fmts = formats_for(formats, len(values))
                oids = stmt.param_oids
                if self.features & C.FEATURE_BINARY_VALUES and _binary_params.typed(oids):
                    bound = _binary_params.bind_parameters(stmt.sql, oids, fmts, values)
                    self.portals.put(portal, bound, bound.size + len(portal))
                else:
                    literals = [to_literal(v, fmts[i], oids[i] if i < len(oids) else 0)
                                for i, v in enumerate(values)]
                    sql = substitute(stmt.sql, literals)
                    self.portals.put(portal, sql, len(sql.encode("utf-8")) + len(portal))
        except BindingError as exc:
            self._error(exc.sqlstate, exc.message, exc.detail)
            return
        self._send(C.BIND_COMPLETE)

    def _array_bind(self, payload) -> None:
        """P1 array bind (5.8): rows for the one prepared rowset INSERT, into portal ""."""
        if not self.features & C.FEATURE_ARRAY_BIND:
            raise BindingError("08P01", "SBWP.FEATURE.NOT_NEGOTIATED",
                               "array BIND requires the ARRAY_BIND feature")
        sql = array_bind_sql(parse_array_bind(payload), self.statements.values())
        self.portals.put("", sql, len(sql.encode("utf-8")))

    def _on_describe(self, frame, payload) -> None:
        self.ready_since_extended = False
        _kind, name = parse_describe(payload)  # always looked up among statements (5.3)
        stmt = self.statements.get(name)
        oids = stmt.param_oids if stmt is not None else []
        if self.layout == "p1":
            describe = (_binary_params.parameter_description_p1
                        if self.features & C.FEATURE_BINARY_VALUES
                        else encode_parameter_description_p1)
            body = describe(oids, array_bind=bool(self.features & C.FEATURE_ARRAY_BIND))
        else:
            body = encode_parameter_description_legacy(oids)
        self._send(C.PARAMETER_DESCRIPTION, body)

    def _on_execute(self, frame, payload) -> None:
        self.ready_since_extended = False
        if not self._need_auth(ready=None):
            return
        portal, _max_rows, flags = parse_execute(payload)
        self._txn_mismatch(frame, "EXECUTE")
        sql = self.portals.get(portal)
        if sql is None:
            self._error("34000", "bound portal not found")
            return
        params = None
        if isinstance(sql, _binary_params.BoundParameters):     # full profile: real parameters
            params = sql.values
            sql = sql.sql
        self._run_sql(sql, autocommit=bool(flags & 0x01), script=False, summary=False,
                      ready=False, binary=bool(self.features & C.FEATURE_BINARY_VALUES),
                      params=params)

    def _on_close(self, frame, payload) -> None:
        self.ready_since_extended = False
        kind, name = parse_close(payload)
        if kind == "S":
            self.statements.pop(name)
        elif kind == "P":
            self.portals.pop(name)
        self._send(C.CLOSE_COMPLETE)

    def _on_sync(self, frame, payload) -> None:
        if not self.ready_since_extended:
            self._ready(2)
