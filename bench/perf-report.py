#!/usr/bin/env python3
"""Tables (Markdown) and a chart (SVG) from bench/perf.sh's results.

Input lines: "kind n tool dump_s restore_s frozen_s base1 base2", kind one of memory, threads,
maps; for memory, base1/base2 are cp+fsync and first-touch seconds, for the others "-" (their
baseline is the sweep's first point of the same tool).
Usage: perf-report.py RESULTS OUT.md OUT.svg ROUNDS LOADAVG
"""
import sys

rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
md, svg, rounds, load = sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]

data = {}   # kind -> n -> tool -> (dump, restore, frozen)
base = {}   # n -> (cp, touch), memory only
for kind, n, tool, d, r, f, b1, b2 in rows:
    data.setdefault(kind, {}).setdefault(int(n), {})[tool] = (float(d), float(r), float(f))
    if kind == 'memory':
        base[int(n)] = (float(b1), float(b2))
tools = [t for t in ('jcriu', 'criu') if any(t in p for k in data.values() for p in k.values())]
vs = 'criu' in tools
out = []


def speed(kind, n, i):
    """CRIU's time over jcriu's (above 1: jcriu is faster)."""
    p = data[kind][n]
    return p['criu'][i] / p['jcriu'][i]


if 'memory' in data:
    out += ["### Memory", "",
            "| MiB | tool | dump s | dump GB/s | dump / cp+fsync | frozen s | restore s | restore GB/s | restore / first touch |"
            + (" jcriu speed vs CRIU (dump, restore) |" if vs else ""),
            "|---|---|---|---|---|---|---|---|---|" + ("---|" if vs else "")]
    for mib in sorted(data['memory']):
        cp, touch = base[mib]
        gb = mib * 1048576 / 1e9
        out.append(f"| {mib} | cp+fsync / first touch | {cp:.3f} | {gb / cp:.2f} | 1.00 | | {touch:.3f} | {gb / touch:.2f} | 1.00 |"
                   + (" |" if vs else ""))
        for t in tools:
            d, r, f = data['memory'][mib][t]
            extra = (f" {speed('memory', mib, 0):.2f}, {speed('memory', mib, 1):.2f} |" if t == 'jcriu' else " |") if vs else ""
            out.append(f"| {mib} | {t} | {d:.3f} | {gb / d:.2f} | {d / cp:.2f} | {f:.3f} | {r:.3f} | {gb / r:.2f} | {r / touch:.2f} |" + extra)
    out.append("")

for kind, title, unit, scale in (('threads', 'Threads', 'ms per extra thread', 1e3),
                                 ('maps', 'Mappings', 'us per extra mapping', 1e6)):
    if kind not in data:
        continue
    ns = sorted(data[kind])
    first = ns[0]
    out += [f"### {title}", "",
            f"| {kind} | tool | dump s | frozen s | restore s | dump {unit} | restore {unit} |"
            + (" jcriu speed vs CRIU (dump, restore) |" if vs else ""),
            "|---|---|---|---|---|---|---|" + ("---|" if vs else "")]
    for n in ns:
        for t in tools:
            d, r, f = data[kind][n][t]
            bd, br, _ = data[kind][first][t]
            per = lambda x, b: f"{(x - b) / (n - first) * scale:.1f}" if n > first else "(baseline)"
            extra = (f" {speed(kind, n, 0):.2f}, {speed(kind, n, 1):.2f} |" if t == 'jcriu' else " |") if vs else ""
            out.append(f"| {n} | {t} | {d:.3f} | {f:.3f} | {r:.3f} | {per(d, bd)} | {per(r, br)} |" + extra)
    out.append("")

out.append(f"Best of {rounds} rounds per figure; dump includes making the images durable (jcriu: O_DIRECT + fsync;"
           f" CRIU: its dump, then sync); load average at the end {load}." + (" Speed vs CRIU > 1 means jcriu is faster." if vs else ""))
text = "\n".join(out) + "\n"
open(md, 'w').write(text)
print(text)

# chart: one row per sweep, two panels (dump, restore), grouped bars of seconds with labels
colors = {'jcriu': '#1f77b4', 'criu': '#d62728', 'base': '#999999'}
W, RH, pad = 900, 330, 50
sweeps = []
if 'memory' in data:
    ms = sorted(data['memory'])
    sweeps.append(("memory", [f"{m} MiB" for m in ms],
                   [('cp+fsync', colors['base'], [base[m][0] for m in ms])] +
                   [(t, colors[t], [data['memory'][m][t][0] for m in ms]) for t in tools],
                   [('first touch', colors['base'], [base[m][1] for m in ms])] +
                   [(t, colors[t], [data['memory'][m][t][1] for m in ms]) for t in tools]))
for kind, label in (('threads', 'threads'), ('maps', 'mappings')):
    if kind in data:
        ns = sorted(data[kind])
        sweeps.append((label, [f"{n} {label}" for n in ns],
                       [(t, colors[t], [data[kind][n][t][0] for n in ns]) for t in tools],
                       [(t, colors[t], [data[kind][n][t][1] for n in ns]) for t in tools]))


def panel(x0, y0, title, cats, series):
    top = max(max(v) for _, _, v in series) * 1.15 or 1
    pw, ph = W / 2 - pad - 20, RH - 2 * pad
    gw = pw / len(cats)
    bw = gw * 0.8 / len(series)
    yb = y0 + RH - pad
    s = [f'<text x="{x0 + pw / 2}" y="{y0 + 20}" text-anchor="middle" font-weight="bold">{title}</text>',
         f'<line x1="{x0}" y1="{y0 + pad}" x2="{x0}" y2="{yb}" stroke="black"/>',
         f'<line x1="{x0}" y1="{yb}" x2="{x0 + pw}" y2="{yb}" stroke="black"/>']
    for k in range(5):
        s.append(f'<text x="{x0 - 4}" y="{yb - ph * k / 4 + 4}" text-anchor="end" font-size="10">{top * k / 4:.2f}s</text>')
    for i, c in enumerate(cats):
        gx = x0 + i * gw + gw * 0.1
        for j, (_, col, vals) in enumerate(series):
            v = vals[i]; h = ph * v / top; x = gx + j * bw
            s.append(f'<rect x="{x:.1f}" y="{yb - h:.1f}" width="{bw - 1:.1f}" height="{h:.1f}" fill="{col}"/>')
            s.append(f'<text x="{x + bw / 2:.1f}" y="{yb - h - 3:.1f}" text-anchor="middle" font-size="8">{v:.2f}</text>')
        s.append(f'<text x="{x0 + i * gw + gw / 2:.1f}" y="{yb + 14}" text-anchor="middle" font-size="11">{c}</text>')
    for j, (name, col, _) in enumerate(series):
        s.append(f'<rect x="{x0 + 10 + j * 110}" y="{y0 + RH - 18}" width="10" height="10" fill="{col}"/>'
                 f'<text x="{x0 + 24 + j * 110}" y="{y0 + RH - 9}" font-size="11">{name}</text>')
    return "\n".join(s)


H = RH * max(1, len(sweeps))
parts = [panel(pad + 10, k * RH, f"{name}: dump (images durable), seconds", cats, d) + "\n" +
         panel(W / 2 + pad, k * RH, f"{name}: restore, seconds", cats, r)
         for k, (name, cats, d, r) in enumerate(sweeps)]
open(svg, 'w').write(f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif">\n'
                     f'<rect width="100%" height="100%" fill="white"/>\n' + "\n".join(parts) + "\n</svg>\n")
print(f"table: {md}\nchart: {svg}")
