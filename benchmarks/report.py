"""The report: a text table, the JSON of every figure, and a PNG plot.

Throughput figures are per scenario and contender: rows (or round trips) per second of
client CPU and of wall time, each from the best (fastest) of the repeated samples, with
the median beside it; ``cli%``/``srv%`` are the median CPU of client and server process
as a share of one core over the wall time of a sample.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

__all__ = ["format_report", "write_json", "plot"]

MB = 1_000_000


def _rate(v: Optional[float]) -> str:
    if v is None:
        return "-"
    if v >= 100:
        return f"{v:,.0f}"
    return f"{v:,.1f}"


def _pct(v: Optional[float]) -> str:
    return "-" if v is None else f"{100 * v:.0f}%"


def _machine(run: dict) -> List[str]:
    m = run.get("machine", {})
    v = m.get("versions", {})
    lines = [f"machine: {m.get('cpu')}, {m.get('cores')} cores "
             f"({m.get('cores_usable')} usable), {m.get('memory_gib')} GiB, {m.get('os')}",
             f"python: {m.get('python')}; " + "; ".join(f"{k} {val}" for k, val in v.items() if val)]
    load = run.get("load_average", {})
    if load:
        lines.append(f"load average (1/5/15 min) at start {load.get('start')}, "
                     f"at end {load.get('end')}")
    return lines


def throughput_table(run: dict) -> List[str]:
    header = (f"{'scenario':<38} {'contender':<19} {'cpu best':>12} {'cpu med':>12} "
              f"{'wall best':>12} {'wall med':>12} {'cli%':>5} {'srv%':>5}  check")
    lines = [header, "-" * len(header)]
    titles = {s["sid"]: s for s in run.get("scenarios", [])}
    last = None
    for r in run.get("results", []):
        sid = r["scenario"]
        sc = titles.get(sid, {})
        label = f"{sid:<3}{sc.get('title', '')}"[:38] if sid != last else ""
        last = sid
        if r.get("error"):
            lines.append(f"{label:<38} {r['contender']:<19} error: {r['error'][:60]}")
            continue
        s = r["summary"]
        check = r.get("check") or {}
        ok = "ok" if check.get("ok") else ("-" if not check else "WRONG")
        lines.append(f"{label:<38} {r['contender']:<19} {_rate(s['rate_cpu']['best']):>12} "
                     f"{_rate(s['rate_cpu']['median']):>12} {_rate(s['rate_wall']['best']):>12} "
                     f"{_rate(s['rate_wall']['median']):>12} {_pct(s['client_share']):>5} "
                     f"{_pct(s['server_share']):>5}  {ok}")
    return lines


def memory_table(run: dict) -> List[str]:
    memory = run.get("memory", {})
    lines = []
    groups = (("fetchall", "fetchall() of scenario 1 (mixed types)"),
              ("fetchall_1a", "fetchall() of scenario 1a (the floor builds the same objects)"),
              ("iterate", "iterating a large result row by row"))
    for key, title in groups:
        entries = memory.get(key) or []
        if not entries:
            continue
        lines.append(f"{title}:")
        for e in entries:
            name = e["contender"] + (f" {e['variant']}" if e.get("variant") else "")
            if e.get("error"):
                lines.append(f"  {name:<40} error: {e['error'][:70]}")
                continue
            text = (f"  {name:<40} {e['rows']:>11,} rows  peak RSS growth "
                    f"{e['peak_growth'] / MB:>8,.1f} MB  retained {e['retained_growth'] / MB:>8,.1f} MB")
            if e.get("objects_bytes"):
                text += (f"  objects {e['objects_bytes'] / MB:>8,.1f} MB  "
                         f"ratio {e['peak_growth'] / e['objects_bytes']:.2f}")
            lines.append(text)
    return lines


def _profiles(cfg: dict) -> str:
    """``sbsql`` or e.g. ``sbsql (1b: full)``: the dev server profile of each scenario."""
    main = cfg.get("profile")
    other = [f"{sid}: {p}" for sid, p in (cfg.get("scenario_profiles") or {}).items() if p != main]
    return f"{main}" + (f" ({', '.join(other)})" if other else "")


def format_report(run: dict) -> str:
    cfg = run.get("config", {})
    lines = [f"scratchbird benchmark ({'quick' if cfg.get('quick') else 'full'} run, profile "
             f"{_profiles(cfg)}, dev server TLS {'on' if cfg.get('tls') else 'off'}, "
             f"result cache {'on' if cfg.get('cache_results') else 'off'}, "
             f"{cfg.get('repeats')} samples each)"]
    lines += _machine(run)
    lines.append("")
    lines.append("rows/s (round trips/s for scenario 4): 'cpu' = per second of client process "
                 "CPU, 'wall' = per second of wall time;")
    lines.append("best = fastest sample, med = median sample; cli%/srv% = median CPU of client / "
                 "server process over the sample's wall time.")
    lines += throughput_table(run)
    mem = memory_table(run)
    if mem:
        lines += ["", "memory (peak RSS growth of a fresh client process; objects = "
                  "sys.getsizeof over the list, rows and distinct values):"] + mem
    targets = run.get("targets") or []
    if targets:
        lines += ["", "targets (ratios within this run):"]
        for t in targets:
            value = "-" if t["value"] is None else f"{t['value']:,.2f}"
            lines.append(f"  [{t['status']:<4}] {t['id']} {t['title']}: {value} "
                         f"({t['rule']}) - {t['detail']}")
    for skip in run.get("skipped") or []:
        lines.append(f"skipped {skip['contender']}: {skip['reason']}")
    notes = run.get("notes") or []
    if notes:
        lines += ["", "notes:"] + [f"  - {n}" for n in notes]
    return "\n".join(lines)


def write_json(run: dict, path: Path) -> None:
    path.write_text(json.dumps(run, indent=1, default=str) + "\n")


def plot(run: dict, path: Path) -> Optional[str]:
    """A PNG of rows/s per scenario and contender (by client CPU and by wall), log scale.
    Returns None, or why there is no plot."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except Exception as exc:                      # matplotlib missing: the JSON has it all
        return f"no plot: matplotlib unavailable ({exc})"
    results = [r for r in run.get("results", []) if r.get("summary")]
    if not results:
        return "no plot: no figures"
    sids = list(dict.fromkeys(r["scenario"] for r in results))
    contenders = list(dict.fromkeys(r["contender"] for r in results))
    by = {(r["scenario"], r["contender"]): r["summary"] for r in results}
    fig, axes = plt.subplots(2, 1, figsize=(max(8, 1.6 * len(sids) + 3), 9), sharex=True)
    width = 0.8 / max(1, len(contenders))
    for ax, key, label in ((axes[0], "rate_cpu", "per second of client CPU"),
                           (axes[1], "rate_wall", "per second of wall time")):
        for k, name in enumerate(contenders):
            xs, ys = [], []
            for i, sid in enumerate(sids):
                s = by.get((sid, name))
                if s and s[key]["best"]:
                    xs.append(i - 0.4 + width * (k + 0.5))
                    ys.append(s[key]["best"])
            ax.bar(xs, ys, width, label=name)
        ax.set_yscale("log")
        ax.set_ylabel(f"rows {label}\n(round trips for 4; best sample)")
        ax.grid(axis="y", which="major", alpha=0.3)
    axes[0].legend(fontsize=8, ncol=min(3, len(contenders)))
    titles = {s["sid"]: s["title"] for s in run.get("scenarios", [])}
    axes[1].set_xticks(range(len(sids)))
    axes[1].set_xticklabels([f"{sid}\n{_wrap(titles.get(sid, ''))}" for sid in sids], fontsize=7)
    m = run.get("machine", {})
    fig.suptitle(f"scratchbird vs peers (profile {_profiles(run.get('config', {}))}) - "
                 f"{m.get('cpu', '')}, {m.get('cores')} cores", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return None


def _wrap(text: str, width: int = 22) -> str:
    words, lines, line = text.split(), [], ""
    for w in words:
        if line and len(line) + 1 + len(w) > width:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}".strip()
    if line:
        lines.append(line)
    return "\n".join(lines)
