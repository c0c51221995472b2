"""Timing and memory of the client process, and the CPU the server spent meanwhile.

* wall: ``time.perf_counter()``;
* client CPU: ``time.process_time()`` of the worker process alone (user + system, all
  its threads), so a slow server shows in wall time but never in client CPU;
* server CPU: the server process's CPU time over the same interval, from
  ``/proc/<pid>/task/*/schedstat`` (nanoseconds, every thread: the dev server serves a
  connection on a thread; a PostgreSQL backend is one process), falling back to the
  10 ms ticks of ``/proc/<pid>/stat``;
* memory: resident set size from ``/proc/self/statm`` and its peak from ``getrusage``.

Every sample starts after a ``gc.collect()`` and ends before the result is released, so
neither an earlier result's garbage nor this one's deallocation is timed. The collector
stays enabled while timing, as in real use (every contender builds the same tuples).
"""
from __future__ import annotations

import gc
import os
import resource
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from typing import Callable, Dict, List, Optional, Tuple

__all__ = ["Sample", "cpu_seconds_of", "time_samples", "summarize", "rss_bytes",
           "peak_rss_bytes", "deep_size"]

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


@dataclass
class Sample:
    wall: float             # seconds
    cpu: float              # client process CPU seconds
    server_cpu: Optional[float]
    units: int              # rows (or round trips) counted in this sample

    def as_dict(self) -> dict:
        return asdict(self)


def cpu_seconds_of(pid: Optional[int]) -> Optional[float]:
    """CPU seconds a process has used so far (all its live threads), or None."""
    if not pid:
        return None
    total = 0
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
        for tid in tasks:
            try:
                with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                    total += int(f.read().split()[0])
            except (OSError, ValueError, IndexError):
                continue
        if tasks:
            return total / 1e9
    except OSError:
        pass
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICKS
    except (OSError, ValueError, IndexError):
        return None


def time_once(fn: Callable[[], Tuple[int, object]], server_pid: Optional[int]) -> Sample:
    """Run ``fn`` once; it returns (units, what it produced). The product is dropped only
    after the clocks stop."""
    gc.collect()
    s0 = cpu_seconds_of(server_pid)
    c0 = time.process_time()
    w0 = time.perf_counter()
    units, product = fn()
    w1 = time.perf_counter()
    c1 = time.process_time()
    s1 = cpu_seconds_of(server_pid)
    del product
    server = (s1 - s0) if s0 is not None and s1 is not None else None
    return Sample(w1 - w0, c1 - c0, server, int(units))


def time_samples(fn: Callable[[], Tuple[int, object]], repeats: int,
                 server_pid: Optional[int] = None,
                 between: Optional[Callable[[], None]] = None) -> List[Sample]:
    """``repeats`` timed samples; ``between`` runs untimed before each one (e.g. emptying
    the table an INSERT scenario fills)."""
    samples = []
    for _ in range(repeats):
        if between is not None:
            between()
        samples.append(time_once(fn, server_pid))
    return samples


def _stats(values: List[float]) -> Dict[str, float]:
    return {"best": min(values), "median": statistics.median(values)}


def summarize(samples: List[Sample]) -> Dict[str, object]:
    """Best (minimum) and median of wall and client CPU, each taken on its own, the rates
    they give, and the median shares of a core used by client and server."""
    if not samples:
        return {}
    units = samples[0].units
    wall = _stats([s.wall for s in samples])
    cpu = _stats([s.cpu for s in samples])
    out: Dict[str, object] = {
        "units": units,
        "wall_s": wall,
        "cpu_s": cpu,
        "rate_cpu": {k: units / v if v > 0 else None for k, v in cpu.items()},
        "rate_wall": {k: units / v if v > 0 else None for k, v in wall.items()},
        "client_share": statistics.median([s.cpu / s.wall for s in samples if s.wall > 0]),
    }
    server = [s.server_cpu / s.wall for s in samples if s.server_cpu is not None and s.wall > 0]
    out["server_share"] = statistics.median(server) if server else None
    server_cpu = [s.server_cpu for s in samples if s.server_cpu is not None]
    out["server_cpu_s"] = _stats(server_cpu) if server_cpu else None
    return out


def rss_bytes() -> int:
    """Current resident set size of this process."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return peak_rss_bytes()


def peak_rss_bytes() -> int:
    """Peak resident set size of this process so far (ru_maxrss: KiB on Linux)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def deep_size(rows) -> int:
    """Bytes of the Python objects a result is made of: the list, each row and each value,
    every distinct object counted once (shared ones, such as None, True or the small
    integers, are counted once, as they cost once)."""
    seen = set()
    total = sys.getsizeof(rows)
    getsizeof = sys.getsizeof
    for row in rows:
        if id(row) not in seen:
            seen.add(id(row))
            total += getsizeof(row)
        for value in row:
            key = id(value)
            if key not in seen:
                seen.add(key)
                total += getsizeof(value)
    return total
