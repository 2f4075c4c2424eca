#!/usr/bin/env bash
# A dump through a long-lived `jcriu service` (CRIU's RPC, one JVM for every request) against
# `jcriu dump` on the command line (a JVM started per dump), same process, same run. Each
# dump leaves the process running and writes a fresh images directory; the service's first
# request is counted apart (its JVM is not warm yet). The baseline is the command line.
# Usage: bench/rpc-service.sh [N dumps each] (default 10). Needs root, gcc and Debian's criu
# package (pycriu, for the client).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d /var/tmp/jcriu-bench-rpc.XXXXXX)"
n="${1:-10}"
svc=""
cleanup() { [ -n "$svc" ] && kill "$svc" 2>/dev/null; [ -f "$work/pid" ] && kill -9 "$(cat "$work/pid")" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
gcc -O1 -o "$work/counter" "$here/src/test/resources/workloads/counter.c"
"$here/jcriu" --version >/dev/null
cd "$work"
( for fd in $(ls /proc/$BASHPID/fd); do [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done
  setsid -f /bin/sh -c 'echo $$ > pid; exec "$0" > out.log 2>&1 < /dev/null' "$work/counter" )
while ! grep -q ready out.log 2>/dev/null; do sleep 0.2; done
pid=$(cat pid)

cli_ms=()
for i in $(seq "$n"); do
    t0=$(date +%s%N)
    "$here/jcriu" dump -t "$pid" -D "$work/cli-$i" --leave-running
    cli_ms+=($(( ($(date +%s%N) - t0) / 1000000 )))
done

"$here/jcriu" service --address "$work/svc.sock" --pidfile "$work/svc.pid" -W "$work" -o svc.log &
svc=$!
while [ ! -s "$work/svc.pid" ]; do sleep 0.1; done
/usr/bin/python3 - "$work/svc.sock" "$pid" "$work" "$n" > rpc.times <<'PY'
import os, sys, time, pycriu
sock, pid, work, n = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
for i in range(n + 1):
    c = pycriu.criu()
    c.use_sk(sock)
    d = "%s/rpc-%d" % (work, i)
    os.mkdir(d)
    c.opts.images_dir_fd = os.open(d, os.O_DIRECTORY)
    c.opts.pid = pid
    c.opts.leave_running = True
    t0 = time.perf_counter()
    c.dump()
    print(int((time.perf_counter() - t0) * 1000))
PY
first=$(head -1 rpc.times)
mapfile -t rpc_ms < <(tail -n +2 rpc.times)
avg() { local s=0; for v in "$@"; do s=$((s + v)); done; echo $((s / $#)); }
cli=$(avg "${cli_ms[@]}"); rpc=$(avg "${rpc_ms[@]}")
printf "%-40s %10s %8s\n" "" ms/dump ratio
printf "%-40s %10d %8.2f\n" "jcriu dump (command line, baseline)" "$cli" 1
printf "%-40s %10d %8.2f\n" "jcriu service, first request" "$first" "$(awk -v a="$first" -v b="$cli" 'BEGIN{print a/b}')"
printf "%-40s %10d %8.2f\n" "jcriu service, next $n requests" "$rpc" "$(awk -v a="$rpc" -v b="$cli" 'BEGIN{print a/b}')"
