#!/usr/bin/env python3
"""Chart of add cost against cache size, libssl against sesscache, from bench/run.sh's results.

usage: bench/chart.py bench/out/results.tsv bench/add-cost.svg

A log-log SVG (no plotting library needed): one line per way (libssl, preloaded, native) and
add workload (equal timeouts, mixed timeouts, re-added with old times), median ns per add at
each cache size.
"""
import math
import statistics
import sys
from collections import defaultdict

WAYS = {"libssl": ("#c0392b", "libssl 3.0"), "preload": ("#2e86c1", "sesscache preloaded"), "native": ("#1e8449", "sesscache native")}
KINDS = {"add-mixed": ("", "mixed timeouts"), "add-old": ("6,3", "old times re-added"), "add-equal": ("2,3", "equal timeouts")}

W, H = 940, 560
L, R, T, B = 80, 300, 50, 60


def main():
    src, dst = sys.argv[1], sys.argv[2]
    vals = defaultdict(list)
    for line in open(src):
        if line.startswith("#") or line.startswith("job\t") or not line.strip():
            continue
        job, way, _run, value, unit, *_ = line.rstrip("\n").split("\t")
        kind, _, size = job.partition("/")
        if kind in KINDS and unit == "ns/add" and size.isdigit():
            vals[(kind, way, int(size))].append(float(value))
    series = defaultdict(list)
    for (kind, way, n), v in vals.items():
        series[(kind, way)].append((n, statistics.median(v)))
    if not series:
        sys.exit("chart: no add results")
    xs = [n for pts in series.values() for n, _ in pts]
    ys = [y for pts in series.values() for _, y in pts]
    x0, x1 = math.floor(math.log10(min(xs))), math.ceil(math.log10(max(xs)))
    y0, y1 = math.floor(math.log10(min(ys))), math.ceil(math.log10(max(ys)))
    if x0 == x1:
        x1 += 1
    if y0 == y1:
        y1 += 1

    def px(n):
        return L + (math.log10(n) - x0) / (x1 - x0) * (W - L - R)

    def py(y):
        return H - B - (math.log10(y) - y0) / (y1 - y0) * (H - T - B)

    def human(n):
        return f"{n // 1000000}M" if n >= 1000000 else f"{n // 1000}K" if n >= 1000 else str(n)

    def htime(ns):
        return f"{ns / 1e6:g} ms" if ns >= 1e6 else f"{ns / 1e3:g} µs" if ns >= 1e3 else f"{ns:g} ns"

    o = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="13">']
    o.append(f'<rect width="{W}" height="{H}" fill="white"/>')
    o.append(f'<text x="{L}" y="28" font-size="16" font-weight="bold">SSL_CTX_add_session: cost per add against cache size</text>')
    for e in range(y0, y1 + 1):
        y = py(10**e)
        o.append(f'<line x1="{L}" y1="{y:.1f}" x2="{W - R}" y2="{y:.1f}" stroke="#ddd"/>')
        o.append(f'<text x="{L - 8}" y="{y + 4:.1f}" text-anchor="end">{htime(10**e)}</text>')
    for e in range(x0, x1 + 1):
        x = px(10**e)
        o.append(f'<line x1="{x:.1f}" y1="{T}" x2="{x:.1f}" y2="{H - B}" stroke="#ddd"/>')
        o.append(f'<text x="{x:.1f}" y="{H - B + 18}" text-anchor="middle">{human(10**e)}</text>')
    o.append(f'<text x="{(L + W - R) / 2:.0f}" y="{H - 18}" text-anchor="middle">sessions in the cache (log scale)</text>')
    o.append(f'<text transform="translate(18,{(T + H - B) / 2:.0f}) rotate(-90)" text-anchor="middle">median time per add (log scale)</text>')
    o.append(f'<rect x="{L}" y="{T}" width="{W - L - R}" height="{H - T - B}" fill="none" stroke="#888"/>')
    ly = T + 10
    for kind, (dash, kdesc) in KINDS.items():
        for way, (color, wdesc) in WAYS.items():
            pts = sorted(series.get((kind, way), []))
            if not pts:
                continue
            d = " ".join(f"{'M' if i == 0 else 'L'}{px(n):.1f},{py(y):.1f}" for i, (n, y) in enumerate(pts))
            dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
            o.append(f'<path d="{d}" fill="none" stroke="{color}" stroke-width="2.2"{dash_attr}/>')
            for n, y in pts:
                o.append(f'<circle cx="{px(n):.1f}" cy="{py(y):.1f}" r="3.2" fill="{color}"><title>{wdesc}, {kdesc}, {human(n)}: {htime(round(y, 1))}</title></circle>')
            o.append(f'<line x1="{W - R + 14}" y1="{ly}" x2="{W - R + 44}" y2="{ly}" stroke="{color}" stroke-width="2.2"{dash_attr}/>')
            o.append(f'<text x="{W - R + 50}" y="{ly + 4}" font-size="11">{wdesc}, {kdesc}</text>')
            ly += 20
    o.append(f'<text x="{W - R + 14}" y="{ly + 16}" font-size="11" fill="#555">libssl inserts a session whose</text>')
    o.append(f'<text x="{W - R + 14}" y="{ly + 30}" font-size="11" fill="#555">expiry is not the newest by</text>')
    o.append(f'<text x="{W - R + 14}" y="{ly + 44}" font-size="11" fill="#555">walking its list: O(n).</text>')
    o.append("</svg>")
    with open(dst, "w") as f:
        f.write("\n".join(o) + "\n")


if __name__ == "__main__":
    main()
