#!/usr/bin/env bash
# The window SIGKILL of jcriu leaves, measured: ROUNDS times, a `jcriu dump -R` (or pre-dump)
# of a process that checks its own registers, masks and memory (busyregs) is killed with
# SIGKILL after a random delay spread over the whole command, and the process is then
# checked: still there, let go by the kernel, same mappings and blocked signals in every
# thread, registers intact (it prints "regs BAD" otherwise), memory check passed. Prints
# where each kill landed (the last phase jcriu logged) and the count of harmed processes.
# The baseline in the same run is one uninterrupted dump (its duration sets the delays).
# Usage: bench/kill-dump.sh [ROUNDS] [dump|pre-dump]   (default: 40 dump). Needs root and gcc.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
rounds="${1:-40}"
cmd="${2:-dump}"
work="$(mktemp -d /var/tmp/jcriu-kill.XXXXXX)"
pid=""
trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$work"' EXIT
gcc -O1 -pthread -o "$work/busyregs" "$here/src/test/resources/workloads/busyregs.c"
"$here/jcriu" --version >/dev/null

now() { date +%s.%N; }
cd "$work"
( for fd in $(ls /proc/$BASHPID/fd); do [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done
  setsid -f /bin/sh -c 'echo $$ > pid; exec "$0" 16 > out.log 2>&1 < /dev/null' "$work/busyregs" )
while ! grep -q ready out.log 2>/dev/null; do sleep 0.1; done
pid=$(cat pid)

state() { # maps and every thread's SigBlk
  cat /proc/"$pid"/maps
  for t in /proc/"$pid"/task/*; do grep SigBlk "$t/status"; done
}
extra=(); [ "$cmd" = dump ] && extra=(-R)

"$here/jcriu" "$cmd" -t "$pid" -D "$work/img" "${extra[@]}" -v4 > base.log 2>&1
ts() { grep -m1 "$1" base.log | sed 's/^( *\([0-9.]*\)).*/\1/'; }
span=$(awk -v a="$(ts freezing)" -v b="$(ts 'done:')" 'BEGIN { printf "%.3f", b - a }')
echo "uninterrupted $cmd: ${span} s from freezing to done; kills land uniformly in that span (+10%)"

harmed=0
declare -A landed
for r in $(seq 1 "$rounds"); do
  before="$(state)"
  delay=$(awk -v s="$span" -v r="$RANDOM" 'BEGIN { printf "%.3f", 1.1 * s * r / 32768 }')
  "$here/jcriu" "$cmd" -t "$pid" -D "$work/img" "${extra[@]}" -v4 > run.log 2>&1 &
  j=$!
  while ! grep -q freezing run.log 2>/dev/null && kill -0 "$j" 2>/dev/null; do sleep 0.005; done
  sleep "$delay"
  kill -9 "$j" 2>/dev/null || true
  wait "$j" 2>/dev/null || true
  # where it was: the last line jcriu logged (or "not started" / "finished")
  where=$(grep -E '^\([ 0-9.]*\) phase ' run.log | tail -1 | sed 's/^([ 0-9.]*) phase /after /')
  [ -n "$where" ] || where="before the first phase"
  grep -q "done:" run.log && where="(finished)"
  landed["$where"]=$(( ${landed["$where"]:-0} + 1 ))
  ok=1
  for _ in $(seq 1 100); do
    grep -q "TracerPid:[[:space:]]*0" /proc/"$pid"/status 2>/dev/null && ! grep -q "State:.*t (tracing" /proc/"$pid"/status && break
    sleep 0.05
  done
  [ -e /proc/"$pid" ] || { echo "round $r: the process died (kill at: $where)"; harmed=$((harmed + 1)); break; }
  [ "$(state)" = "$before" ] || { echo "round $r: maps or SigBlk changed (kill at: $where)"; ok=0; }
  n=$(grep -c "verify " out.log || true)
  kill -USR1 "$pid"
  for _ in $(seq 1 200); do [ "$(grep -c "verify " out.log || true)" -gt "$n" ] && break; sleep 0.05; done
  tail -1 out.log | grep -q "verify ok" || { echo "round $r: $(tail -1 out.log) (kill at: $where)"; ok=0; }
  grep -q "BAD" out.log && { echo "round $r: BAD in the output (kill at: $where)"; ok=0; }
  [ "$ok" = 1 ] || harmed=$((harmed + 1))
done
echo "where the kills landed:"
for k in "${!landed[@]}"; do printf "  %3d  %s\n" "${landed[$k]}" "$k"; done | sort -rn
echo "$rounds kills of $cmd, $harmed harmed the process"
