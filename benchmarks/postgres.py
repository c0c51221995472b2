"""A throw-away local PostgreSQL for the psycopg and asyncpg contenders.

Uses ``pg_ctl``/``initdb`` from PATH or ``/usr/lib/postgresql/*/bin``; when they are
missing and we are root, installs Debian's ``postgresql`` package with apt-get. Then
``initdb`` into a temporary directory (trust authentication, UTF-8, C locale), and starts
the server on 127.0.0.1 on a free port. PostgreSQL refuses to run as root, so as root
``initdb`` and the server run as the ``postgres`` user (``runuser``).

Durability is switched off (``fsync``, ``synchronous_commit``, ``full_page_writes``):
the dev server keeps its data in memory and never syncs either, and the benchmark
measures drivers, not disks.

Anything that goes wrong raises :class:`PostgresUnavailable` with the reason; the
orchestrator prints it and carries on without the PostgreSQL contenders.
"""
from __future__ import annotations

import glob
import os
import pwd
import re
import shutil
import socket
import subprocess
from pathlib import Path
from typing import List, Optional

__all__ = ["PostgresServer", "PostgresUnavailable", "find_bindir"]

USER = "bench"
SETTINGS = ("-c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off -c shared_buffers=256MB -c max_connections=20")


class PostgresUnavailable(Exception):
    """Why there is no PostgreSQL in this run."""


def _version_key(path: str) -> float:
    m = re.search(r"/postgresql/([0-9.]+)/", path)
    try:
        return float(m.group(1)) if m else 0.0
    except ValueError:
        return 0.0


def find_bindir() -> Optional[Path]:
    """Directory holding pg_ctl and initdb, or None."""
    pg_ctl, initdb = shutil.which("pg_ctl"), shutil.which("initdb")
    if pg_ctl and initdb:
        return Path(pg_ctl).resolve().parent
    for bindir in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True):
        if os.path.exists(os.path.join(bindir, "pg_ctl")) and \
                os.path.exists(os.path.join(bindir, "initdb")):
            return Path(bindir)
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def install(log) -> None:
    """apt-get install postgresql (root only); raises PostgresUnavailable on failure."""
    if os.geteuid() != 0:
        raise PostgresUnavailable("pg_ctl/initdb not found, and not root: cannot apt-get "
                                  "install postgresql")
    if not shutil.which("apt-get"):
        raise PostgresUnavailable("pg_ctl/initdb not found and there is no apt-get")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    cmd = ["apt-get", "install", "-y", "-q", "--no-install-recommends", "postgresql"]
    log("PostgreSQL: installing Debian's postgresql package (apt-get) ...")
    for attempt in range(2):
        if attempt:
            subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, timeout=600)
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1200)
        if done.returncode == 0:
            return
    tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
    raise PostgresUnavailable("apt-get install postgresql failed: " + " | ".join(tail))


class PostgresServer:
    """initdb + pg_ctl start in ``workdir``; ``stop()`` removes everything."""

    def __init__(self, workdir: Path, log=print) -> None:
        self.workdir = Path(workdir)
        self.root = self.workdir / "postgres"
        self.data = self.root / "data"
        self.log = log
        self.bindir: Optional[Path] = None
        self.port: Optional[int] = None
        self.dsn: Optional[str] = None
        self.version: Optional[str] = None
        self.run_as: Optional[str] = None
        self._started = False

    # ------------------------------------------------------------ commands

    def _cmd(self, argv: List[str]) -> List[str]:
        if self.run_as:
            return ["runuser", "-u", self.run_as, "--"] + argv
        return argv

    def _run(self, argv: List[str], what: str, timeout: float = 180) -> str:
        try:
            done = subprocess.run(self._cmd(argv), capture_output=True, text=True,
                                  timeout=timeout, cwd=str(self.root))
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise PostgresUnavailable(f"{what} failed: {exc}") from None
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            raise PostgresUnavailable(f"{what} failed: " + " | ".join(tail))
        return done.stdout

    # ------------------------------------------------------------ lifecycle

    def start(self) -> str:
        bindir = find_bindir()
        if bindir is None:
            install(self.log)
            bindir = find_bindir()
            if bindir is None:
                raise PostgresUnavailable("postgresql installed, but pg_ctl/initdb not found")
        self.bindir = bindir
        self.root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            try:
                entry = pwd.getpwnam("postgres")
            except KeyError:
                raise PostgresUnavailable("running as root and there is no 'postgres' user "
                                          "to run the server as") from None
            if not shutil.which("runuser"):
                raise PostgresUnavailable("running as root and runuser is missing")
            self.run_as = "postgres"
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
            os.chmod(self.workdir, 0o755)          # let the postgres user reach its directory
        self._run([str(bindir / "initdb"), "-D", str(self.data), "-U", USER, "-A", "trust",
                   "-E", "UTF8", "--locale=C", "--no-sync"], "initdb")
        self.port = free_port()
        opts = f"-p {self.port} -k {self.root} {SETTINGS}"
        self._run([str(bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "log"),
                   "-w", "-t", "60", "-o", opts, "start"], "pg_ctl start")
        self._started = True
        self.version = self._run([str(bindir / "postgres"), "--version"], "postgres --version").strip()
        self.dsn = f"postgresql://{USER}@127.0.0.1:{self.port}/postgres"   # libpq and asyncpg
        return self.dsn

    def psql(self, script: str, what: str = "loading the data", timeout: float = 1800) -> None:
        """Run a psql script against the server (as the current user: the client side)."""
        psql = self.bindir / "psql" if self.bindir else None
        exe = str(psql) if psql and psql.exists() else shutil.which("psql")
        if not exe:
            raise PostgresUnavailable("psql not found")
        path = self.root / "load.sql"
        path.write_text(script)
        argv = [exe, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(self.port),
                "-U", USER, "-d", "postgres", "-f", str(path)]
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise PostgresUnavailable(f"{what} failed: {exc}") from None
        if done.returncode != 0:
            raise PostgresUnavailable(f"{what} failed: {done.stderr.strip()[-300:]}")

    def stop(self) -> None:
        if self._started and self.bindir is not None:
            try:
                self._run([str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w",
                           "stop"], "pg_ctl stop", timeout=60)
            except PostgresUnavailable as exc:
                self.log(f"PostgreSQL: {exc}")
            self._started = False
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> "PostgresServer":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
