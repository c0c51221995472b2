"""The ScratchBird dev server as a separate process, so its CPU is not the client's.

``python -m scratchbird.devserver --port 0 --tls off --database FILE --cache-results``;
the first line it prints is the DSN. A run starts one per wire profile it needs
(``--profile``'s, and ``full`` for scenario 1b). The result cache (see
``scratchbird/devserver/_cache.py``) lets a repeated SELECT skip DuckDB, so the server is
not what limits the client's figures; every worker warms it once before timing.
"""
from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, Optional

__all__ = ["DevServerProcess"]

USER, PASSWORD = "bench", "bench-pw"


class DevServerProcess:

    def __init__(self, database: Path, env: Dict[str, str], log_path: Path, tls: bool = False,
                 cache_results: bool = True, profile: str = "sbsql") -> None:
        self.database = database
        self.env = env
        self.log_path = log_path
        self.tls = tls
        self.cache_results = cache_results
        self.profile = profile
        self.proc: Optional[subprocess.Popen] = None
        self.dsn: Optional[str] = None
        self._log = None

    @property
    def pid(self) -> Optional[int]:
        return self.proc.pid if self.proc is not None else None

    def command(self) -> list:
        cmd = [sys.executable, "-m", "scratchbird.devserver", "--port", "0",
               "--tls", "required" if self.tls else "off", "--profile", self.profile,
               "--database", str(self.database), "--user", USER, "--password", PASSWORD,
               "--log-level", "WARNING"]
        if self.cache_results:
            cmd.append("--cache-results")
        return cmd

    def start(self, timeout: float = 60.0) -> str:
        """Start the server and return its DSN."""
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.command(), stdout=subprocess.PIPE, stderr=self._log,
                                     env=self.env)
        deadline = time.monotonic() + timeout
        line = b""
        while not line.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.proc.poll() is not None:
                self.stop()
                raise RuntimeError("the dev server did not print its DSN; see " + str(self.log_path))
            ready, _w, _x = select.select([self.proc.stdout], [], [], remaining)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                if not chunk:
                    continue
                line += chunk
        self.dsn = line.decode().splitlines()[0].strip()
        return self.dsn

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        if proc is not None and proc.stdout is not None:
            proc.stdout.close()
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> "DevServerProcess":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
