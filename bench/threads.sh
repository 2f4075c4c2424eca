#!/usr/bin/env bash
# Dump and restore wall time of a process with N idle threads (little memory), with the
# 1-thread time as the baseline of the same run. Usage: bench/threads.sh [N ...] (default 1 64 512).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d /var/tmp/jcriu-bench-threads.XXXXXX)"
trap 'rm -rf "$work"' EXIT
cat > "$work/idle.c" <<'C'
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
static void *idle(void *a) { for (;;) pause(); return a; }
int main(int argc, char **argv) {
    int n = atoi(argv[1]);
    for (int i = 1; i < n; i++) { pthread_t t; pthread_attr_t at; pthread_attr_init(&at);
        pthread_attr_setstacksize(&at, 64 * 1024); if (pthread_create(&t, &at, idle, NULL)) return 1; }
    printf("ready\n"); fflush(stdout);
    for (;;) pause();
}
C
gcc -O1 -pthread -o "$work/idle" "$work/idle.c"
"$here/jcriu" --version >/dev/null
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
base_d=""; base_r=""
printf "%-8s %9s %9s %12s %12s\n" threads dump_s restore_s dump/1thr restore/1thr
for n in "${@:-1 64 512}"; do
    for m in $n; do
        d="$work/$m"; mkdir -p "$d"; cd "$d"
        ( for fd in $(ls /proc/$BASHPID/fd); do [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done
          setsid -f /bin/sh -c 'echo $$ > pid; exec "$0" "$1" > out.log 2>&1 < /dev/null' "$work/idle" "$m" )
        while ! grep -q ready out.log 2>/dev/null; do sleep 0.1; done
        pid=$(cat pid)
        t0=$(now); "$here/jcriu" dump -t "$pid" -D "$d/img" -v0; t1=$(now)
        while [ -e "/proc/$pid" ]; do sleep 0.05; done
        t2=$(now); "$here/jcriu" restore -d -D "$d/img" -v0; t3=$(now)
        got=$(ls "/proc/$pid/task" | wc -l)
        [ "$got" = "$m" ] || { echo "restored $got threads, expected $m"; exit 1; }
        kill -9 "$pid"
        dd=$(secs "$t0" "$t1"); rr=$(secs "$t2" "$t3")
        [ -n "$base_d" ] || { base_d=$dd; base_r=$rr; }
        printf "%-8s %9s %9s %12s %12s\n" "$m" "$dd" "$rr" \
            "$(awk -v a="$dd" -v b="$base_d" 'BEGIN{printf "%.2f", a/b}')" \
            "$(awk -v a="$rr" -v b="$base_r" 'BEGIN{printf "%.2f", a/b}')"
        while [ -e "/proc/$pid" ]; do sleep 0.05; done
    done
done
