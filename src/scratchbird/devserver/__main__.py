"""``python -m scratchbird.devserver``: run the dev server until SIGINT/SIGTERM.

The first line on stdout is the DSN (flushed at once), so a parent process can read it;
everything else (logs) goes to stderr. A clean shutdown exits with status 0.
"""
from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from types import FrameType
from typing import List, Optional

from . import PROFILES, DevServer


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m scratchbird.devserver",
                                description="ScratchBird SBWP dev server over DuckDB.")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=3092, help="port (0 = any free port; default 3092)")
    p.add_argument("--profile", default="sbsql", choices=sorted(PROFILES),
                   help="server personality (default sbsql)")
    p.add_argument("--database", default=":memory:", help="DuckDB database (default :memory:)")
    p.add_argument("--user", default="sb", help="user name (default sb)")
    p.add_argument("--password", default="sb", help="password (default sb)")
    p.add_argument("--tls", default="required", choices=("required", "off"),
                   help="TLS 1.3 required, or plaintext (default required)")
    p.add_argument("--certfile", help="server certificate PEM (default: generated)")
    p.add_argument("--keyfile", help="server key PEM")
    p.add_argument("--tls-client-ca", metavar="FILE",
                   help="require client certificates signed by a CA in this PEM file")
    p.add_argument("--dbname", help="the only database name STARTUP may ask for")
    p.add_argument("--cache-results", action="store_true",
                   help="replay repeated read-only SELECTs until the next COMMIT (benchmarks)")
    p.add_argument("--demo", action="store_true",
                   help="create the README tour's tables (items) before serving")
    p.add_argument("--log-level", default="INFO", help="stderr log level (default INFO)")
    return p


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=args.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stop = threading.Event()

    def on_signal(signum: int, _frame: Optional[FrameType]) -> None:
        logging.getLogger("scratchbird.devserver").info("signal %d: shutting down", signum)
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        server = DevServer(host=args.host, port=args.port, profile=args.profile,
                           database=args.database, user=args.user, password=args.password,
                           tls=args.tls, certfile=args.certfile, keyfile=args.keyfile,
                           dbname=args.dbname, cache_results=args.cache_results,
                           demo=args.demo, tls_client_ca=args.tls_client_ca).start()
    except (OSError, ValueError) as exc:
        print(f"scratchbird.devserver: {exc}", file=sys.stderr)
        return 2
    try:
        sys.stdout.write(server.dsn + "\n")
        sys.stdout.flush()
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
