"""An embedded ScratchBird server for development and tests.

``DevServer`` speaks SBWP v1.1 over real TCP (and real TLS 1.3) and runs real SQL in
DuckDB. On the wire it behaves like today's real ScratchBird server, profile ``sbsql``
(the ``sbp_sbsql`` worker described in the protocol REFERENCE, section 12 included)::

    with DevServer(tls="off") as srv:
        conn = scratchbird.connect(srv.dsn)

Run it stand-alone with ``python -m scratchbird.devserver``.
"""
from __future__ import annotations

# DevServer is public API: fully strict here, though the dev server's internals are not (the
# override in pyproject.toml, whose section also covers this package module).
# mypy: disallow-untyped-defs, disallow-incomplete-defs, disallow-untyped-calls
# mypy: disallow-any-generics, warn-return-any

import logging
import shutil
import tempfile
import threading
from typing import TYPE_CHECKING, Dict, Optional
from urllib.parse import quote

from ._session import PROFILES, SessionConfig
from ._startup import UserStore, user_store_for  # noqa: F401 (UserStore: public name)

if TYPE_CHECKING:                      # imported lazily at start(): DuckDB loads only then
    from ._cache import ResultCache
    from ._engine import Engine
    from ._server import Listener

__all__ = ["DevServer", "PROFILES"]

log = logging.getLogger("scratchbird.devserver")

_TLS_MODES = ("required", "off")


class DevServer:
    """A ScratchBird-compatible SBWP server on a background thread.

    Parameters: ``host``/``port`` to bind (port 0 picks a free port); ``profile``:
    ``"sbsql"`` (today's real server) or ``"full"`` (the SBWP v1.1 design spec: SCRAM-SHA-256,
    zstd compression, binary values; docs/protocol.md section 4); ``database`` (a DuckDB
    path, ``":memory:"`` by default);
    ``user``/``password`` plus optional extra ``users`` (name -> password);
    ``tls``: ``"required"`` (TLS 1.3 only) or ``"off"`` (plaintext with the 100 ms
    SBWP sniff); ``certfile``/``keyfile`` (otherwise a self-signed certificate is
    generated in a temporary directory that ``stop()`` removes); ``dbname``: when set,
    a STARTUP that names another database is refused; ``cache_results``: replay the
    answer of a repeated read-only SELECT without running it again, until the next COMMIT
    (off by default; for benchmarks, see ``_cache``); ``demo``: create and commit the
    README tour's tables (``items``, see ``_demo``) before accepting connections;
    ``tls_client_ca``: a PEM of CAs the server requires and verifies client certificates
    against (TLS only).

    After ``start()``: ``port`` is the bound port, ``cafile`` the PEM to trust (None
    without TLS) and ``dsn`` a connection string for the driver.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, profile: str = "sbsql",
                 database: str = ":memory:", user: str = "sb", password: str = "sb",
                 tls: str = "required", certfile: Optional[str] = None,
                 keyfile: Optional[str] = None, dbname: Optional[str] = None,
                 users: Optional[Dict[str, str]] = None, cache_results: bool = False,
                 demo: bool = False, tls_client_ca: Optional[str] = None) -> None:
        if profile not in PROFILES:
            raise ValueError(f"unknown dev server profile {profile!r} "
                             f"(available: {', '.join(sorted(PROFILES))})")
        tls_mode = str(tls).strip().lower()
        if tls_mode not in _TLS_MODES:
            raise ValueError(f"tls must be 'required' or 'off', not {tls!r}")
        if keyfile and not certfile:
            raise ValueError("keyfile given without certfile")
        if certfile and tls_mode == "off":
            raise ValueError("certfile/keyfile need tls='required'")
        if tls_client_ca and tls_mode == "off":
            raise ValueError("tls_client_ca needs tls='required'")
        if not user:
            raise ValueError("user must not be empty")
        self.host = host
        self.port = int(port)
        self.profile = profile
        self.database = database
        self.user = user
        self.password = password
        self.tls = tls_mode
        self.certfile = certfile
        self.keyfile = keyfile
        self.tls_client_ca = tls_client_ca
        self.dbname = dbname
        self.users = dict(users or {})
        self.users[user] = password
        self.cache_results = bool(cache_results)
        self.demo = bool(demo)
        self.result_cache: Optional[ResultCache] = None
        self.cafile: Optional[str] = certfile if tls_mode == "required" else None
        self._engine: Optional[Engine] = None
        self._listener: Optional[Listener] = None
        self._tmpdir: Optional[str] = None
        self._lock = threading.Lock()

    # ------------------------------------------------------------ lifecycle

    @property
    def running(self) -> bool:
        return self._listener is not None

    def start(self) -> "DevServer":
        """Bind, listen and serve on background threads. Idempotent; returns self."""
        with self._lock:
            if self._listener is not None:
                return self
            try:
                self._start()
            except BaseException:
                self._cleanup()
                raise
        return self

    def _start(self) -> None:
        from ._engine import Engine
        from ._server import Listener
        context = None
        if self.tls == "required":
            from ._tls import generate_certificate, server_context
            certfile, keyfile = self.certfile, self.keyfile
            if not certfile:
                self._tmpdir = tempfile.mkdtemp(prefix="sbdev-tls-")
                certfile, keyfile = generate_certificate(self._tmpdir)
            context = server_context(certfile, keyfile, self.tls_client_ca)
            self.cafile = certfile
        self._engine = Engine(self.database)
        if self.demo:
            from ._demo import create_demo_tables
            create_demo_tables(self._engine)
        if self.cache_results:
            from ._cache import ResultCache
            self.result_cache = ResultCache()
        profile = PROFILES[self.profile]
        config = SessionConfig(self._engine, user_store_for(profile, self.users), profile,
                               self.dbname, result_cache=self.result_cache)
        listener = Listener(self.host, self.port, config, context)
        listener.start()
        self._listener = listener
        self.port = listener.port

    def stop(self) -> None:
        """Stop accepting, close every connection (rolling back), free the engine. Idempotent."""
        with self._lock:
            self._cleanup()

    def _cleanup(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.stop()
        engine, self._engine = self._engine, None
        if engine is not None:
            try:
                engine.close()
            except Exception:
                log.exception("closing the engine failed")
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None
            if self.certfile is None:
                self.cafile = None

    def __enter__(self) -> "DevServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<DevServer {self.profile} {self.host}:{self.port} tls={self.tls} {state}>"

    # ------------------------------------------------------------ connection string

    @property
    def dsn(self) -> str:
        """``scratchbird://user:password@host:port/db?sslmode=...`` for the primary user."""
        host = self.host
        if host in ("", "0.0.0.0", "::"):
            host = "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        auth = f"{quote(self.user, safe='')}:{quote(self.password, safe='')}"
        base = f"scratchbird://{auth}@{host}:{self.port}/{quote(self.dbname or 'default', safe='')}"
        if self.tls == "off":
            return base + "?sslmode=disable"
        return base + f"?sslmode=verify-full&sslrootcert={quote(self.cafile or '', safe='/')}"
