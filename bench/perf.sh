#!/usr/bin/env bash
# Dump and restore time, throughput and frozen time for a process with N MiB of patterned
# memory (the memory workload; every restore is verified by the process itself), each size
# beside baselines measured in the same run:
#   cp+fsync     copying a file of that size (cached, as the memory is) and fsyncing the copy
#   first touch  a fresh process writing one byte per page of that much memory
# and, with CRIU=/path/to/criu, CRIU's dump (+ sync, since it does not fsync) and restore of the
# same workload. Each figure is the best of ROUNDS (default 2). Frozen times are read from
# each tool's stats-dump. Writes bench/out/perf-TIME.{md,svg}; the table also goes to stdout.
# Usage: [CRIU=...] [ROUNDS=N] bench/perf.sh [MiB ...]   (default: 64 256 1024 4096). Root, gcc, python3.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
sizes=("${@:-64 256 1024 4096}"); sizes=(${sizes[*]})
rounds="${ROUNDS:-2}"
criu="${CRIU:-}"
work="$(mktemp -d /var/tmp/jcriu-perf.XXXXXX)"
trap 'rm -rf "$work"' EXIT
out="$here/bench/out"; mkdir -p "$out"
stamp="$(date +%Y%m%d-%H%M%S)"
gcc -O1 -pthread -o "$work/memory" "$here/src/test/resources/workloads/memory.c"
cat > "$work/touch.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
/* touch MIB: nanoseconds to write one byte in every page of MIB MiB of fresh anonymous memory */
int main(int argc, char **argv) {
	size_t n = strtoull(argv[1], 0, 10) << 20;
	struct timespec a, b;
	char *m = mmap(0, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED) return 1;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (size_t i = 0; i < n; i += 4096) m[i] = 1;
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%.6f\n", (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9);
	return 0;
}
EOF
gcc -O1 -o "$work/touch" "$work/touch.c"
"$here/jcriu" --version >/dev/null     # builds (and trains the AOT cache) first if needed

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
min() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b + 0 < a + 0) print b; else print a }'; }
# frozen time in seconds from a stats-dump (both tools write CRIU's format)
frozen() { python3 - "$1" <<'EOF'
import struct, sys
d = open(sys.argv[1], 'rb').read()[12:]  # service magic, stats magic, entry length
# StatsEntry { 1: DumpStatsEntry { 2: frozen_time } }: walk the varints
def fields(b):
    i = 0
    while i < len(b):
        key = 0; s = 0
        while True:
            c = b[i]; i += 1; key |= (c & 0x7f) << s; s += 7
            if c < 0x80: break
        f, t = key >> 3, key & 7
        if t == 0:
            v = 0; s = 0
            while True:
                c = b[i]; i += 1; v |= (c & 0x7f) << s; s += 7
                if c < 0x80: break
            yield f, v
        elif t == 2:
            n = 0; s = 0
            while True:
                c = b[i]; i += 1; n |= (c & 0x7f) << s; s += 7
                if c < 0x80: break
            yield f, b[i:i + n]; i += n
        else:
            raise SystemExit("unexpected wire type")
for f, v in fields(d):
    if f == 1:
        print("%.3f" % (dict(fields(v))[2] / 1e6))
EOF
}

# start the workload detached, without our fds (a pipe would make the dump refuse)
start() {
    local dir=$1 mib=$2
    ( for fd in $(ls /proc/$BASHPID/fd); do [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done
      cd "$dir" && setsid -f /bin/sh -c 'echo $$ > pid; exec "$0" "$1" 7 > out.log 2>&1 < /dev/null' "$work/memory" "$mib" )
    while ! grep -q ready "$dir/out.log" 2>/dev/null; do sleep 0.1; done
    cat "$dir/pid"
}
gone() { while [ -e "/proc/$1" ]; do sleep 0.05; done; }
verify() {
    local dir=$1 pid=$2 at
    at=$(wc -l < "$dir/out.log")
    kill -USR1 "$pid"
    for _ in $(seq 1 600); do tail -n +"$((at + 1))" "$dir/out.log" | grep -qa "verify " && break; sleep 0.1; done
    tail -n +"$((at + 1))" "$dir/out.log" | grep -qa "verify ok" || { echo "memory check failed after restore ($dir)"; exit 1; }
    kill -9 "$pid"; gone "$pid"
}

# one round of one tool at one size: "dump restore frozen"
round() {
    local tool=$1 mib=$2 d="$work/$1-$2" pid t0 t1 t2 t3 f
    rm -rf "$d"; mkdir -p "$d/img"
    pid=$(start "$d" "$mib")
    if [ "$tool" = jcriu ]; then
        t0=$(now); "$here/jcriu" dump -t "$pid" -D "$d/img" -v0; t1=$(now)
    else
        t0=$(now); "$criu" dump -t "$pid" -D "$d/img" -o dump.log -v1 && sync "$d"/img/*; t1=$(now)
    fi
    f=$(frozen "$d/img/stats-dump")
    gone "$pid"
    if [ "$tool" = jcriu ]; then
        t2=$(now); "$here/jcriu" restore -d -D "$d/img" -v0; t3=$(now)
    else
        t2=$(now); "$criu" restore -d -D "$d/img" -o restore.log -v1; t3=$(now)
    fi
    verify "$d" "$pid"
    rm -rf "$d"
    echo "$(secs "$t0" "$t1") $(secs "$t2" "$t3") $f"
}

baseline() {
    local mib=$1 f="$work/base-$1" t0 t1 c=""
    head -c "$((mib << 20))" /dev/urandom > "$f"; cat "$f" > /dev/null
    for _ in $(seq 1 "$rounds"); do
        rm -f "$f.copy"; t0=$(now); cp "$f" "$f.copy"; sync "$f.copy"; t1=$(now)
        c=$(min "$c" "$(secs "$t0" "$t1")")
    done
    rm -f "$f" "$f.copy"
    local t="" x
    for _ in $(seq 1 "$rounds"); do x=$("$work/touch" "$mib"); t=$(min "$t" "$x"); done
    echo "$c $t"
}

results="$work/results"
: > "$results"
tools=(jcriu); [ -n "$criu" ] && tools+=(criu)
for mib in "${sizes[@]}"; do
    read -r cp touch < <(baseline "$mib")
    for tool in "${tools[@]}"; do
        bd="" br="" bf=""
        for _ in $(seq 1 "$rounds"); do
            read -r d r f < <(round "$tool" "$mib")
            bd=$(min "$bd" "$d"); br=$(min "$br" "$r"); bf=$(min "$bf" "$f")
        done
        echo "$mib $tool $bd $br $bf $cp $touch" >> "$results"
    done
done

python3 - "$results" "$out/perf-$stamp.md" "$out/perf-$stamp.svg" "$rounds" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'EOF'
import sys
rows = [l.split() for l in open(sys.argv[1])]
md, svg, rounds, load = sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
data = {}
for mib, tool, d, r, f, cp, touch in rows:
    data.setdefault(int(mib), {})[tool] = (float(d), float(r), float(f))
    data[int(mib)]['base'] = (float(cp), float(touch))
tools = [t for t in ('jcriu', 'criu') if any(t in v for v in data.values())]
lines = ["| MiB | tool | dump s | dump GB/s | dump / cp+fsync | frozen s | restore s | restore GB/s | restore / first touch |"
         + (" jcriu speed vs CRIU (dump, restore) |" if 'criu' in tools else ""),
         "|---|---|---|---|---|---|---|---|---|" + ("---|" if 'criu' in tools else "")]
for mib in sorted(data):
    cp, touch = data[mib]['base']
    gb = mib * 1048576 / 1e9
    lines.append(f"| {mib} | cp+fsync / first touch | {cp:.3f} | {gb / cp:.2f} | 1.00 | | {touch:.3f} | {gb / touch:.2f} | 1.00 |"
                 + (" |" if 'criu' in tools else ""))
    for t in tools:
        d, r, f = data[mib][t]
        extra = ""
        if 'criu' in tools:
            if t == 'jcriu':
                c = data[mib]['criu']
                extra = f" {c[0] / d:.2f}, {c[1] / r:.2f} |"
            else:
                extra = " |"
        lines.append(f"| {mib} | {t} | {d:.3f} | {gb / d:.2f} | {d / cp:.2f} | {f:.3f} | {r:.3f} | {gb / r:.2f} | {r / touch:.2f} |" + extra)
note = (f"\nBest of {rounds} rounds per figure; dump includes making the images durable (jcriu: O_DIRECT + fsync;"
        f" CRIU: its dump, then sync); load average at the end {load}. Speed vs CRIU > 1 means jcriu is faster.\n")
open(md, 'w').write("\n".join(lines) + "\n" + note)
print("\n".join(lines) + note)

# chart: two panels (dump, restore), grouped bars of seconds per size, value labels
series_d = [('cp+fsync', '#999999', lambda m: data[m]['base'][0])] + \
           [(t, c, (lambda t: lambda m: data[m][t][0])(t)) for t, c in (('jcriu', '#1f77b4'), ('criu', '#d62728')) if t in tools]
series_r = [('first touch', '#999999', lambda m: data[m]['base'][1])] + \
           [(t, c, (lambda t: lambda m: data[m][t][1])(t)) for t, c in (('jcriu', '#1f77b4'), ('criu', '#d62728')) if t in tools]
sizes = sorted(data)
W, H, pad = 900, 360, 50
def panel(x0, title, series):
    top = max(f(m) for _, _, f in series for m in sizes) * 1.15
    pw = (W / 2) - pad - 20
    ph = H - 2 * pad
    gw = pw / len(sizes)
    bw = gw * 0.8 / len(series)
    s = [f'<text x="{x0 + pw / 2}" y="20" text-anchor="middle" font-weight="bold">{title}</text>',
         f'<line x1="{x0}" y1="{pad}" x2="{x0}" y2="{H - pad}" stroke="black"/>',
         f'<line x1="{x0}" y1="{H - pad}" x2="{x0 + pw}" y2="{H - pad}" stroke="black"/>']
    for k in range(5):
        v = top * k / 4; y = H - pad - ph * k / 4
        s.append(f'<text x="{x0 - 4}" y="{y + 4}" text-anchor="end" font-size="10">{v:.2f}s</text>')
    for i, m in enumerate(sizes):
        gx = x0 + i * gw + gw * 0.1
        for j, (name, col, f) in enumerate(series):
            v = f(m); h = ph * v / top; x = gx + j * bw
            s.append(f'<rect x="{x:.1f}" y="{H - pad - h:.1f}" width="{bw - 1:.1f}" height="{h:.1f}" fill="{col}"/>')
            s.append(f'<text x="{x + bw / 2:.1f}" y="{H - pad - h - 3:.1f}" text-anchor="middle" font-size="8">{v:.2f}</text>')
        s.append(f'<text x="{x0 + i * gw + gw / 2:.1f}" y="{H - pad + 14}" text-anchor="middle" font-size="11">{m} MiB</text>')
    for j, (name, col, _) in enumerate(series):
        s.append(f'<rect x="{x0 + 10 + j * 110}" y="{H - 18}" width="10" height="10" fill="{col}"/>'
                 f'<text x="{x0 + 24 + j * 110}" y="{H - 9}" font-size="11">{name}</text>')
    return "\n".join(s)
open(svg, 'w').write(f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif">\n'
                     f'<rect width="100%" height="100%" fill="white"/>\n'
                     + panel(pad + 10, "dump (images durable), seconds", series_d) + "\n"
                     + panel(W / 2 + pad, "restore, seconds", series_r) + "\n</svg>\n")
print(f"table: {md}\nchart: {svg}")
EOF
