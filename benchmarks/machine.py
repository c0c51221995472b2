"""What the figures were measured on: CPU, cores, memory, OS, Python and the versions of
everything in the comparison."""
from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Dict, Optional

__all__ = ["describe", "load_average"]

REPO = Path(__file__).resolve().parents[1]


def _read(path: str) -> str:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def _cpu_model() -> str:
    for line in _read("/proc/cpuinfo").splitlines():
        if line.lower().startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def _memory_gib() -> Optional[float]:
    for line in _read("/proc/meminfo").splitlines():
        if line.startswith("MemTotal:"):
            return round(int(line.split()[1]) / 1024 / 1024, 1)
    return None


def _os_name() -> str:
    for line in _read("/etc/os-release").splitlines():
        if line.startswith("PRETTY_NAME="):
            return line.split("=", 1)[1].strip().strip('"') + f" (kernel {platform.release()})"
    return platform.platform()


def load_average() -> Optional[list]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _version(module: str, attr: str = "__version__") -> Optional[str]:
    try:
        mod = __import__(module)
        return str(getattr(mod, attr))
    except Exception:
        return None


def _scratchbird_version() -> str:
    version = None
    try:
        from importlib.metadata import version as dist_version
        version = dist_version("scratchbird")
    except Exception:
        text = _read(str(REPO / "pyproject.toml"))
        for line in text.splitlines():
            if line.startswith("version"):
                version = line.split("=", 1)[1].strip().strip('"')
                break
    try:
        commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        commit = ""
    return f"{version or '?'}" + (f" (git {commit}, working tree)" if commit else "")


def _psycopg() -> Optional[str]:
    try:
        import psycopg
        return f"{psycopg.__version__} (impl {psycopg.pq.__impl__}, libpq {psycopg.pq.version()})"
    except Exception:
        return None


def describe(postgres_version: Optional[str] = None) -> Dict[str, object]:
    try:
        affinity = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        affinity = None
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "cores_usable": affinity,
        "memory_gib": _memory_gib(),
        "os": _os_name(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "versions": {
            "scratchbird": _scratchbird_version(),
            "duckdb": _version("duckdb"),
            "asyncpg": _version("asyncpg"),
            "psycopg": _psycopg(),
            "postgresql": postgres_version,
            "cython": _version("Cython"),
            "matplotlib": _version("matplotlib"),
        },
        "python_executable": sys.executable,
    }
