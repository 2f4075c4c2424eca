#!/usr/bin/env bash
# Dump and restore wall time of a tree of N idle processes (a parent and N-1 forked
# children, little memory each), with the 1-process tree of the same run as the baseline,
# and the cost per extra process. Usage: bench/tree.sh [N ...] (default 1 10 100).
# JCRIU=path runs another build's launcher (bench/tree-vs.sh compares two builds this way).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d /var/tmp/jcriu-bench-tree.XXXXXX)"
trap 'rm -rf "$work"' EXIT
cat > "$work/idle.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
int main(int argc, char **argv) {
    int n = atoi(argv[1]);
    for (int i = 1; i < n; i++) { pid_t p = fork(); if (p < 0) return 1; if (p == 0) for (;;) pause(); }
    printf("ready\n"); fflush(stdout);
    for (;;) pause();
}
C
gcc -O1 -o "$work/idle" "$work/idle.c"
jcriu="${JCRIU:-$here/jcriu}"
"$jcriu" --version >/dev/null
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
base_d=""; base_r=""; base_n=""
printf "%-10s %9s %9s %10s %10s %16s %16s\n" processes dump_s restore_s dump/1 restore/1 dump_ms/extra restore_ms/extra
for m in ${@:-1 10 100}; do
    d="$work/$m"; mkdir -p "$d"; cd "$d"
    ( for fd in $(ls /proc/$BASHPID/fd); do [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done
      setsid -f /bin/sh -c 'echo $$ > pid; exec "$0" "$1" > out.log 2>&1 < /dev/null' "$work/idle" "$m" )
    while ! grep -q ready out.log 2>/dev/null; do sleep 0.1; done
    pid=$(cat pid)
    pids="$pid $(cat /proc/$pid/task/$pid/children)"
    t0=$(now); "$jcriu" dump -t "$pid" -D "$d/img" -v0; t1=$(now)
    for p in $pids; do while [ -e "/proc/$p" ]; do sleep 0.05; done; done
    t2=$(now); "$jcriu" restore -d -D "$d/img" -v0; t3=$(now)
    got=$(( 1 + $(wc -w < /proc/$pid/task/$pid/children) ))
    [ "$got" = "$m" ] || { echo "restored $got processes, expected $m"; exit 1; }
    for p in $pids; do kill -9 "$p" 2>/dev/null || true; done
    dd=$(secs "$t0" "$t1"); rr=$(secs "$t2" "$t3")
    [ -n "$base_d" ] || { base_d=$dd; base_r=$rr; base_n=$m; }
    per() { awk -v a="$1" -v b="$2" -v n="$m" -v bn="$base_n" 'BEGIN{ if (n == bn) print "-"; else printf "%.1f", 1000 * (a - b) / (n - bn) }'; }
    printf "%-10s %9s %9s %10s %10s %16s %16s\n" "$m" "$dd" "$rr" \
        "$(awk -v a="$dd" -v b="$base_d" 'BEGIN{printf "%.2f", a/b}')" \
        "$(awk -v a="$rr" -v b="$base_r" 'BEGIN{printf "%.2f", a/b}')" "$(per "$dd" "$base_d")" "$(per "$rr" "$base_r")"
    for p in $pids; do while [ -e "/proc/$p" ]; do sleep 0.05; done; done
done
