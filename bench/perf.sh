#!/usr/bin/env bash
# Dump and restore time and frozen time, in three sweeps, each point beside a baseline measured
# in the same run; every restore is verified by the restored process itself:
#   memory    N MiB of patterned memory (src/test/resources/workloads/memory.c), beside
#               cp+fsync     copying a file of that size (cached, as the memory is) and fsyncing it
#               first touch  a fresh process writing one byte per page of that much memory
#   threads   a process of N threads (bench/workloads/threads.c), beside its 1-thread point:
#             the cost per extra thread
#   mappings  a process of N one-page mappings (bench/workloads/maps.c), beside its first
#             point: the cost per extra mapping
# With CRIU=/path/to/criu, CRIU's dump (+ sync, since it does not fsync) and restore of the same
# workloads run beside jcriu's. Each figure is the best of ROUNDS (default 2). Frozen times are
# read from each tool's stats-dump. Writes bench/out/perf-TIME.{md,svg}; the tables also go to
# stdout. An empty list skips a sweep (THREADS= MAPS= bench/perf.sh 256: memory only).
# Usage: [CRIU=...] [ROUNDS=N] [THREADS="1 64 512"] [MAPS="10 1000 10000"] bench/perf.sh [MiB ...]
#        (default MiB: 64 256 1024 4096). Root, gcc, python3.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
sizes=("${@:-64 256 1024 4096}"); sizes=(${sizes[*]})
threads=(${THREADS-1 64 512})
maps=(${MAPS-10 1000 10000})
rounds="${ROUNDS:-2}"
criu="${CRIU:-}"
work="$(mktemp -d /var/tmp/jcriu-perf.XXXXXX)"
trap 'rm -rf "$work"' EXIT
out="$here/bench/out"; mkdir -p "$out"
stamp="$(date +%Y%m%d-%H%M%S)"
gcc -O1 -pthread -o "$work/memory" "$here/src/test/resources/workloads/memory.c"
gcc -O1 -pthread -o "$work/threads" "$here/bench/workloads/threads.c"
gcc -O1 -o "$work/maps" "$here/bench/workloads/maps.c"
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

# start a workload (memory, threads or maps) detached, without our fds (a pipe would make the
# dump refuse); memory takes a seed after its size
start() {
    local dir=$1 kind=$2 n=$3
    ( for fd in $(ls /proc/$BASHPID/fd); do [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done
      cd "$dir" && setsid -f /bin/sh -c 'echo $$ > pid; exec "$@" > out.log 2>&1 < /dev/null' sh "$work/$kind" "$n" \
          $([ "$kind" = memory ] && echo 7) )
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

# one round of one tool on one workload: "dump restore frozen"
round() {
    local tool=$1 kind=$2 n=$3 d="$work/$1-$2-$3" pid t0 t1 t2 t3 f
    rm -rf "$d"; mkdir -p "$d/img"
    pid=$(start "$d" "$kind" "$n")
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
# best of $rounds for each tool: lines "kind n tool dump restore frozen base1 base2"
sweep() {
    local kind=$1 n=$2 b1=$3 b2=$4 tool bd br bf d r f
    for tool in "${tools[@]}"; do
        bd="" br="" bf=""
        for _ in $(seq 1 "$rounds"); do
            read -r d r f < <(round "$tool" "$kind" "$n")
            bd=$(min "$bd" "$d"); br=$(min "$br" "$r"); bf=$(min "$bf" "$f")
        done
        echo "$kind $n $tool $bd $br $bf $b1 $b2" >> "$results"
    done
}
for mib in "${sizes[@]}"; do
    read -r cp touch < <(baseline "$mib")
    sweep memory "$mib" "$cp" "$touch"
done
for n in "${threads[@]}"; do sweep threads "$n" - -; done
for n in "${maps[@]}"; do sweep maps "$n" - -; done

python3 "$here/bench/perf-report.py" "$results" "$out/perf-$stamp.md" "$out/perf-$stamp.svg" "$rounds" \
    "$(cut -d' ' -f1-3 /proc/loadavg)"
