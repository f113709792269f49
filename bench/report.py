#!/usr/bin/env python3
"""Turns bench/run.sh's results.tsv into the markdown table of BENCHMARKS.md.

usage: bench/report.py bench/out/results.tsv

For each job and way: the median of the runs and their spread ((max - min) / median; over
more than SPREAD_RUNS runs (p90 - p10) / median, so that a few outliers among many do not
flag a row); the ratio to libssl: for times, libssl / way (above 1: faster than libssl); for
rates, way / libssl (above 1: more than libssl); for memory, way / libssl (below 1: smaller).
run.sh runs the ways of one run back to back, so the ratio is the median of the runs' own
ratios: the machine's drift between runs (this one's timings swing 2x) cancels out of each. A
spread above 20% is flagged as disturbed. Then the issue's targets, each checked.
"""
import statistics
import sys
from collections import defaultdict

WAYS = ["libssl", "preload", "native"]
TIME_UNITS = {"ns/add", "ns/remove", "us/flush", "us/handshake", "us/conn"}
RATE_UNITS = {"kiter/s", "conn/s"}
DISTURBED = 0.20
SPREAD_RUNS = 9

DESCRIPTIONS = {
    "add-equal": "add, equal timeouts",
    "add-mixed": "add, mixed timeouts",
    "add-old": "re-add with old times",
    "remove": "SSL_CTX_remove_session",
    "flush": "flush, 1% expired",
    "threads": "1 add + 4 lookups, threads",
    "spin": "calibration: private work, threads",
    "memspin": "calibration: random memory reads, threads",
    "threads-private": "1 add + 4 lookups, one SSL_CTX per thread, threads",
    "scaling-spin": "scaling, 2 threads ÷ 1 in one process: private work",
    "scaling-memspin": "scaling, 2 threads ÷ 1 in one process: random memory reads",
    "scaling-threads": "scaling, 2 threads ÷ 1 in one process: 1 add + 4 lookups",
    "memory": "RSS per cached session",
    "objects": "RSS per session object, no cache",
    "tls-resume": "TLS 1.2 resumed handshake",
    "tls-full": "TLS 1.2 full handshake",
    "tls-threads": "resumed handshake + add, threads",
    "s_time": "s_time -reuse vs s_server -www",
    "s_server-cpu": "s_server CPU time per s_time connection",
}


def load(path):
    meta, rows = [], defaultdict(list)
    units = {}
    order = []
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("#"):
                meta.append(line[2:])
                continue
            if line.startswith("job\t") or not line:
                continue
            job, way, run, value, unit, _count, load = line.split("\t")
            if job not in order:
                order.append(job)
            rows[(job, way)].append((float(value), float(load), run))
            units[job] = unit
    return meta, rows, units, order


def fmt(v):
    if v >= 100000:
        return f"{v:,.0f}"
    if v >= 100:
        return f"{v:.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def ratio(unit, libssl, other):
    if libssl is None or other is None or other == 0 or libssl == 0:
        return None
    if unit in TIME_UNITS:
        return libssl / other
    return other / libssl


def paired_ratio(unit, runs_libssl, runs_other):
    """The median of the per-run ratios, over the runs both ways made; None without any."""
    libssl = {run: v for v, _, run in runs_libssl}
    ratios = [ratio(unit, libssl[run], v) for v, _, run in runs_other if run in libssl]
    ratios = [r for r in ratios if r is not None]
    return statistics.median(ratios) if ratios else None


def fmt_ratio(r):
    if r is None:
        return "—"
    if r >= 100:
        return f"{r:,.0f}×"
    return f"{r:.2f}×"


def label(job):
    kind, _, size = job.partition("/")
    desc = DESCRIPTIONS.get(kind, kind)
    if size.startswith("t"):
        return f"{desc}: {size[1:]}"
    if size.isdigit():
        n = int(size)
        size = f"{n // 1000000}M" if n >= 1000000 else f"{n // 1000}K" if n >= 1000 else str(n)
        return f"{desc} @ {size}"
    return desc


def main():
    meta, rows, units, order = load(sys.argv[1])
    med = {}
    paired = {}
    out = []
    out.append("| workload | unit | libssl | preloaded | ratio | native | ratio |")
    out.append("|---|---|---:|---:|---:|---:|---:|")
    disturbed = []
    for job in order:
        unit = units[job]
        cells = {}
        for way in WAYS:
            vals = [v for v, _, _ in rows.get((job, way), [])]
            if not vals:
                cells[way] = None
                continue
            m = statistics.median(vals)
            if len(vals) > SPREAD_RUNS:
                deciles = statistics.quantiles(vals, n=10)
                lo, hi = deciles[0], deciles[-1]
                shown = f"{len(vals)} runs, p10 {fmt(lo)}, median {fmt(m)}, p90 {fmt(hi)}"
            else:
                lo, hi = min(vals), max(vals)
                shown = f"runs {', '.join(fmt(v) for v in vals)}"
            spread = (hi - lo) / m if m else 0.0
            med[(job, way)] = m
            flag = " ⚠" if spread > DISTURBED and len(vals) > 1 else ""
            if flag:
                disturbed.append(f"{label(job)} ({way}): {shown}")
            cells[way] = f"{m:.2f}× ±{spread * 100:.0f}%{flag}" if unit == "x" else f"{fmt(m)} ±{spread * 100:.0f}%{flag}"
        # A scaling row is a ratio already; one way against another says nothing.
        for way in ("preload", "native"):
            if unit != "x":
                paired[(job, way)] = paired_ratio(unit, rows.get((job, "libssl"), []), rows.get((job, way), []))
        r_pre, r_nat = paired.get((job, "preload")), paired.get((job, "native"))
        tls = job.startswith(("tls-", "s_time", "s_server"))
        native = cells["native"] if cells["native"] is not None else ("no TLS natively" if tls else "—")
        out.append(
            f"| {label(job)} | {unit} | {cells['libssl'] or '—'} | {cells['preload'] or '—'} | {fmt_ratio(r_pre)} "
            f"| {native} | {fmt_ratio(r_nat) if cells['native'] is not None else '—'} |"
        )
    print("\n".join(f"    {m}" for m in meta))
    print()
    print("\n".join(out))
    print()
    print(f"Medians of the runs; ±: (max − min) / median over the runs ((p90 − p10) / median over more than {SPREAD_RUNS}).")
    print("Ratio: the median of the runs'")
    print("own ratios (each run has the ways back to back): for times libssl ÷ way (above 1 = faster")
    print("than libssl), for rates way ÷ libssl (above 1 = more), for memory way ÷ libssl (below 1 =")
    print("smaller). ⚠: spread above 20%, the number is disturbed.")

    # Derived figures.
    print()
    derived = []
    for way in WAYS:
        m, o = med.get(("memory/1000000", way)), med.get(("objects/1000000", way))
        if m is not None and o is not None:
            derived.append(f"- cache structures alone ({way}): {m - o:.0f} B/session (memory − objects)")
    for prefix in ("spin", "memspin", "threads", "threads-private", "tls-threads"):
        for way in WAYS:
            # threads-private with 1 thread is threads with 1 thread: the same work.
            base = "threads" if prefix == "threads-private" else prefix
            t1 = med.get((f"{base}/t1", way))
            t2, t4 = (med.get((f"{prefix}/t{t}", way)) for t in (2, 4))
            if t1 and t2:
                derived.append(f"- {prefix} scaling ({way}): 2 threads {t2 / t1:.2f}× of 1" + (f", 4 threads {t4 / t1:.2f}×" if t4 else ""))
    if derived:
        print("Derived:")
        print("\n".join(derived))
        print()

    # The targets.
    def r(job, way):
        return paired.get((job, way))

    checks = []

    def check(name, value, ok, shown):
        if value is None:
            checks.append(f"| {name} | not measured | — |")
        else:
            checks.append(f"| {name} | {shown} | {'met' if ok else '**missed**'} |")

    for way in ("native", "preload"):
        x = r("add-mixed/100000", way)
        check(f"mixed-timeout add @ 100K, {way}: ≥ 1000× libssl", x, x is not None and x >= 1000, fmt_ratio(x))
    x = r("add-equal/1000000", "preload")
    check("equal-timeout add @ 1M, preloaded: ≥ 1.5× libssl", x, x is not None and x >= 1.5, fmt_ratio(x))
    x = r("add-equal/1000000", "native")
    check("equal-timeout add @ 1M, native: ≥ 3× libssl", x, x is not None and x >= 3, fmt_ratio(x))
    m, o = med.get(("memory/1000000", "native")), med.get(("objects/1000000", "native"))
    check("native memory per cached session ≤ 256 B (RSS growth / n, session objects included)", m, m is not None and m <= 256,
          f"{m:.0f} B" if m is not None else "")
    if m is not None and o is not None:
        check("… the same without the session objects (memory − objects)", m - o, m - o <= 256, f"{m - o:.0f} B")
    mp, ml = med.get(("memory/1000000", "preload")), med.get(("memory/1000000", "libssl"))
    check("preloaded process no larger than plain (RSS per cached session)", mp, mp is not None and ml is not None and mp <= ml,
          f"{mp:.0f} B vs {ml:.0f} B" if mp is not None and ml is not None else "")
    # Every cache operation, preloaded, at every size measured: at least libssl's own speed.
    cache_ops = [job for job in order if job.partition("/")[0] in ("add-equal", "add-mixed", "add-old", "remove", "flush")]
    # A row without a preloaded ratio cannot be the slowest shown, and leaves "every" unmet.
    measured = [job for job in cache_ops if r(job, "preload") is not None]
    unmeasured = len(cache_ops) - len(measured)
    if cache_ops:
        slowest = min(measured, key=lambda job: r(job, "preload"), default=None)
        x = r(slowest, "preload") if slowest else None
        gap = f" ({unmeasured} of {len(cache_ops)} rows not measured)" if unmeasured else ""
        check("every preloaded add, remove and flush ≥ 1.0× libssl (the slowest shown)", x,
              x is not None and x >= 1.0 and not unmeasured, f"{fmt_ratio(x)}, {label(slowest)}{gap}" if x is not None else "")
    x = r("s_time", "preload")
    check("s_time -reuse preloaded ≥ 0.97× plain", x, x is not None and x >= 0.97, fmt_ratio(x))
    x = r("s_server-cpu", "preload")
    check("… s_server CPU per connection, plain ÷ preloaded ≥ 0.97", x, x is not None and x >= 0.97, fmt_ratio(x))
    calib = [(name, med.get((f"scaling-{w}/x", "libssl"))) for name, w in (("private work", "spin"), ("random reads", "memspin"))]
    for way in ("native", "preload"):
        x = med.get(("scaling-threads/x", way))
        t1, t2 = med.get(("threads/t1", way)), med.get(("threads/t2", way))
        p2 = med.get(("threads-private/t2", way))
        notes = [f"{name} {v:.2f}×" for name, v in calib if v]
        if t1 and t2:
            notes.append(f"separate processes {t2 / t1:.2f}×")
        if t1 and p2:
            notes.append(f"one SSL_CTX per thread {p2 / t1:.2f}×")
        note = f" (same machine: {', '.join(notes)})" if notes else ""
        check(f"2 threads ≥ 1.6× 1 thread, add + lookup mix ({way})", x, x is not None and x >= 1.6, f"{x:.2f}×{note}" if x else "")
    t1, t2 = med.get(("tls-threads/t1", "preload")), med.get(("tls-threads/t2", "preload"))
    x = t2 / t1 if t1 and t2 else None
    check("2 threads ≥ 1.6× 1 thread, handshake + add mix (preload)", x, x is not None and x >= 1.6, f"{x:.2f}×" if x else "")
    print("| target | measured | |")
    print("|---|---|---|")
    print("\n".join(checks))
    if disturbed:
        print()
        print("Disturbed (spread above 20%):")
        for d in disturbed:
            print(f"- {d}")


if __name__ == "__main__":
    main()
