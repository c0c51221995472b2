"""``python -m fuzz``: run every harness (or one) under atheris, one process each.

    python -m fuzz --seconds 15               # every harness, 15 s each
    python -m fuzz --harness framing --runs 1000000
    python -m fuzz --instrumented --seconds 600   # compiled twins built with clang coverage

Each harness starts from its seeds (fuzz/corpus/<name>/, plus the harness's own
``seeds()``) and writes what it learns into a work corpus (default
fuzz/.work/<name>/, git-ignored). A crash or contract violation stops that harness,
leaves ``crash-*`` in the work folder and makes the exit status 1. Without atheris
installed the command says so and exits 0 when ``--optional`` is given (CI on a machine
where atheris has no wheel), else 2.
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from fuzz.harnesses import HARNESSES

ROOT = Path(__file__).resolve().parent.parent
WORK = Path(__file__).resolve().parent / ".work"
INSTRUMENTED = WORK / "instrumented"


def build_instrumented() -> Path:
    """Build ext/*.pyx with SCRATCHBIRD_FUZZ=1 (clang, -fsanitize=fuzzer-no-link) into
    fuzz/.work/instrumented; returns the folder holding the extensions."""
    build_lib, build_tmp = INSTRUMENTED / "lib", INSTRUMENTED / "tmp"
    env = dict(os.environ, SCRATCHBIRD_FUZZ="1")
    subprocess.run([sys.executable, "setup.py", "-q", "build_ext", "--build-lib", str(build_lib),
                    "--build-temp", str(build_tmp)], cwd=ROOT, env=env, check=True)
    return build_lib / "scratchbird" / "_compiled"


def write_seeds(name: str, folder: Path) -> int:
    """Write the harness's seeds into ``folder`` (in a child: it imports scratchbird)."""
    code = ("import sys, hashlib; from pathlib import Path; from fuzz.harnesses import load\n"
            "folder = Path(sys.argv[2]); folder.mkdir(parents=True, exist_ok=True)\n"
            "seeds = load(sys.argv[1])[1]()\n"
            "for s in seeds: (folder / ('seed-' + hashlib.sha1(s).hexdigest())).write_bytes(s)\n"
            "print(len(seeds))")
    out = subprocess.run([sys.executable, "-c", code, name, str(folder)], cwd=ROOT,
                         env=_env(None), check=True, capture_output=True, text=True)
    return int(out.stdout.strip() or 0)


def _env(compiled_dir):
    env = dict(os.environ, SCRATCHBIRD_IMPL="python")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), str(ROOT / "src"),
                                                      env.get("PYTHONPATH")]))
    if compiled_dir is not None:
        env["FUZZ_COMPILED_DIR"] = str(compiled_dir)
    return env


def run_harness(name: str, seconds: float, runs: int, compiled_dir, work: Path) -> dict:
    corpus = work / name
    corpus.mkdir(parents=True, exist_ok=True)
    write_seeds(name, corpus)
    committed = ROOT / "fuzz" / "corpus" / name
    flags = [f"-max_total_time={int(seconds)}", "-timeout=20", "-rss_limit_mb=2048",
             f"-artifact_prefix={corpus}/", "-print_final_stats=1", "-max_len=65536"]
    if runs:
        flags.append(f"-runs={runs}")
    folders = [str(corpus)] + ([str(committed)] if committed.is_dir() else [])
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "fuzz.run", name, *flags, *folders],
                          cwd=ROOT, env=_env(compiled_dir), capture_output=True, text=True)
    log = proc.stdout + proc.stderr
    (work / f"{name}.log").write_text(log)
    stats = {"name": name, "status": proc.returncode, "seconds": time.monotonic() - started}
    for key in ("number_of_executed_units", "average_exec_per_sec", "peak_rss_mb"):
        m = re.search(rf"stat::{key}:\s*(\d+)", log)
        stats[key] = int(m.group(1)) if m else None
    cov = re.findall(r"cov: (\d+) ft: (\d+)", log)
    stats["cov"], stats["ft"] = (int(cov[-1][0]), int(cov[-1][1])) if cov else (None, None)
    return stats


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fuzz", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20, help="time per harness")
    parser.add_argument("--runs", type=int, default=0, help="stop a harness after N inputs")
    parser.add_argument("--harness", action="append", choices=sorted(HARNESSES),
                        help="run only this harness (repeatable)")
    parser.add_argument("--instrumented", action="store_true",
                        help="build the compiled twins with clang coverage first")
    parser.add_argument("--work", type=Path, default=WORK, help="work corpus folder")
    parser.add_argument("--optional", action="store_true",
                        help="exit 0 (with a notice) when atheris is not installed")
    args = parser.parse_args(argv)
    try:
        import atheris  # noqa: F401
    except ImportError:
        print("python -m fuzz: atheris is not installed (pip install atheris); "
              + ("skipping the fuzz pass" if args.optional else "cannot fuzz"))
        return 0 if args.optional else 2
    compiled_dir = build_instrumented() if args.instrumented else None
    failed = 0
    print(f"{'harness':<18}{'status':>7}{'execs':>11}{'exec/s':>8}{'cov':>7}{'ft':>7}{'rss MB':>8}")
    for name in args.harness or list(HARNESSES):
        stats = run_harness(name, args.seconds, args.runs, compiled_dir, args.work)
        failed |= stats["status"] != 0
        print(f"{name:<18}{'ok' if stats['status'] == 0 else 'FAIL':>7}"
              f"{stats['number_of_executed_units'] or 0:>11}{stats['average_exec_per_sec'] or 0:>8}"
              f"{stats['cov'] or 0:>7}{stats['ft'] or 0:>7}{stats['peak_rss_mb'] or 0:>8}",
              flush=True)
        if stats["status"] != 0:
            print(f"  see {args.work / (name + '.log')} and crash-* in {args.work / name}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
