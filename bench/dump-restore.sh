#!/usr/bin/env bash
# Dump and restore wall time for a process with N MiB of touched memory, against a plain
# cp of a file that size (and cp + sync, since jcriu fsyncs its images) in the same run.
# Usage: bench/dump-restore.sh [MiB ...]   (default: 256 1024). Needs root and gcc.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d /var/tmp/jcriu-bench.XXXXXX)"
trap 'rm -rf "$work"' EXIT
gcc -O1 -pthread -o "$work/memory" "$here/src/test/resources/workloads/memory.c"
"$here/jcriu" --version >/dev/null

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

printf "%-6s %10s %10s %10s %10s %12s %14s\n" MiB dump_s restore_s cp_s cp+sync_s dump/cp+sync restore/cp
for mib in "${@:-256 1024}"; do
  for m in $mib; do
    d="$work/$m"; mkdir -p "$d"; cd "$d"
    # fds beyond 0-2 inherited from the caller (pipes) would make the dump refuse: close them
    ( for fd in $(ls /proc/$BASHPID/fd); do [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done
      setsid -f /bin/sh -c 'echo $$ > pid; exec "$0" "$1" 3 > out.log 2>&1 < /dev/null' "$work/memory" "$m" )
    while ! grep -q ready out.log 2>/dev/null; do sleep 0.2; done
    pid=$(cat pid)
    t0=$(now); "$here/jcriu" dump -t "$pid" -D "$d/img" -v0; t1=$(now)
    while [ -e "/proc/$pid" ]; do sleep 0.05; done
    t2=$(now); "$here/jcriu" restore -d -D "$d/img" -v0; t3=$(now)
    kill -USR1 "$pid"
    for _ in $(seq 1 300); do grep -q "verify " out.log && break; sleep 0.1; done
    grep -q "verify ok" out.log || { echo "memory check failed after restore:"; tail -3 out.log; exit 1; }
    kill -9 "$pid"
    sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
    t4=$(now); cp "$d/img/pages-1.img" "$d/copy"; t5=$(now); sync; t6=$(now)
    rm -f "$d/copy"
    dump=$(secs "$t0" "$t1"); rest=$(secs "$t2" "$t3"); cp=$(secs "$t4" "$t5"); cps=$(secs "$t4" "$t6")
    printf "%-6s %10.2f %10.2f %10.2f %10.2f %12.2f %14.2f\n" "$m" "$dump" "$rest" "$cp" "$cps" \
      "$(ratio "$dump" "$cps")" "$(ratio "$rest" "$cp")"
    rm -rf "$d"
  done
done
