#!/usr/bin/env bash
# Survival of a process whose `jcriu dump -R` is killed with SIGKILL while it injects calls.
# ROUNDS times, a dump of busyregs (checks its own registers, masks and memory) is killed after
# a random delay spread uniformly over the window from the freeze to the end of the last
# injection (measured by an uninterrupted dump first); the process must then be let go, keep
# its mappings and every thread's blocked signals, answer SIGUSR1 with "verify ok", and never
# print "BAD". A harmed or dead process is replaced by a fresh one for the next round.
# With BASELINE (another checkout's ./jcriu, e.g. of main), the same is run with it in the same
# run, and both counts are printed.
# Usage: bench/kill-dump.sh [ROUNDS] [busy|idle] [BASELINE_JCRIU]   (default: 40 busy). Root, gcc.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
rounds="${1:-40}"
mode="${2:-busy}"
baseline="${3:-}"
work="$(mktemp -d /var/tmp/jcriu-kill.XXXXXX)"
chmod 700 "$work"
pid=""
trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$work"' EXIT
gcc -O1 -pthread -o "$work/busyregs" "$here/src/test/resources/workloads/busyregs.c"

start_target() {
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
  rm -f "$work/pid" "$work/out.log"
  (cd "$work" && setsid -f /bin/sh -c 'echo $$ > pid; exec "$0" 16 "$1" > out.log 2>&1 < /dev/null' \
      "$work/busyregs" "$mode")
  while ! grep -q ready "$work/out.log" 2>/dev/null; do sleep 0.05; done
  pid=$(cat "$work/pid")
}

state() { # mappings and every thread's SigBlk
  cat /proc/"$pid"/maps
  for t in /proc/"$pid"/task/*; do grep SigBlk "$t/status"; done
}

released() { # no thread traced or in a tracing stop
  for t in /proc/"$pid"/task/*; do
    grep -q "TracerPid:[[:space:]]*0$" "$t/status" || return 1
    grep -q "State:.*t (tracing" "$t/status" && return 1
  done
  return 0
}

# run JCRIU: prints "survived/ROUNDS"
run() {
  local jcriu="$1" survived=0
  "$jcriu" --version > /dev/null
  start_target
  "$jcriu" dump -t "$pid" -D "$work/img" -R -v4 > "$work/base.log" 2>&1
  ts() { grep -m1 "$1" "$work/base.log" | sed 's/^( *\([0-9.]*\)).*/\1/'; }
  local span
  span=$(awk -v a="$(ts freezing)" -v b="$(ts 'process attributes of')" 'BEGIN { printf "%.3f", b - a }')
  echo "  $jcriu: freeze to end of injection ${span} s in an uninterrupted dump" >&2
  for r in $(seq 1 "$rounds"); do
    local before delay j ok=1 n
    before="$(state)"
    delay=$(awk -v s="$span" -v r="$RANDOM" 'BEGIN { printf "%.3f", 1.1 * s * r / 32768 }')
    rm -rf "$work/img"
    "$jcriu" dump -t "$pid" -D "$work/img" -R -v4 > "$work/run.log" 2>&1 &
    j=$!
    while ! grep -q freezing "$work/run.log" 2>/dev/null && kill -0 "$j" 2>/dev/null; do sleep 0.005; done
    sleep "$delay"
    kill -9 "$j" 2>/dev/null || true
    wait "$j" 2>/dev/null || true
    for _ in $(seq 1 200); do ! [ -e /proc/"$pid" ] || released && break; sleep 0.05; done
    # a thread let go mid-call takes its mask back from the frame once it runs: give it 5 s
    for _ in $(seq 1 100); do [ -e /proc/"$pid" ] && [ "$(state 2>/dev/null)" = "$before" ] && break; sleep 0.05; done
    if ! [ -e /proc/"$pid" ]; then
      echo "  round $r: the process died: $(tail -1 "$work/out.log")" >&2; ok=0
    else
      [ "$(state)" = "$before" ] || { echo "  round $r: mappings or SigBlk changed" >&2; ok=0; }
      n=$(grep -c "verify " "$work/out.log" || true)
      kill -USR1 "$pid" 2>/dev/null || true
      for _ in $(seq 1 200); do [ "$(grep -c "verify " "$work/out.log" || true)" -gt "$n" ] && break; sleep 0.05; done
      tail -1 "$work/out.log" | grep -q "verify ok" || { echo "  round $r: $(tail -1 "$work/out.log")" >&2; ok=0; }
      grep -q "BAD" "$work/out.log" && { echo "  round $r: BAD in its output" >&2; ok=0; }
    fi
    if [ "$ok" = 1 ]; then survived=$((survived + 1)); else start_target; fi
  done
  kill -9 "$pid" 2>/dev/null || true # run in a subshell: the EXIT trap does not see this pid
  echo "$survived/$rounds"
}

echo "SIGKILL of jcriu dump -R during injection, busyregs $mode, $rounds rounds"
[ -n "$baseline" ] && echo "baseline ($baseline): $(run "$baseline") unharmed"
echo "this tree ($here/jcriu): $(run "$here/jcriu") unharmed"
