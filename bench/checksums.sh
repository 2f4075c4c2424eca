#!/usr/bin/env bash
# Cost of the image checksums (CRC32C per MiB of every file, computed as the images are
# written): dumps of one process with N MiB of touched memory, with checksums and without
# (the baseline, -Djcriu.bench.skipChecksums=true), alternated ROUNDS times in the same run
# so that both see the same machine. The process is dumped with --leave-running, so every
# dump writes the same memory. Reports the median frozen time (what the dump costs the
# process: freeze to images durable and published) and the median wall time of the command,
# and their ratios; then the time a restore spends checking the set (its CRC32C pass).
# Usage: bench/checksums.sh [MiB] [ROUNDS]   (default: 1024 5). Needs root and gcc.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
mib="${1:-1024}"
rounds="${2:-5}"
work="$(mktemp -d /var/tmp/jcriu-bench.XXXXXX)"
pid=""
trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$work"' EXIT
gcc -O1 -pthread -o "$work/memory" "$here/src/test/resources/workloads/memory.c"
"$here/jcriu" --version >/dev/null

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

cd "$work"
# fds beyond 0-2 inherited from the caller (pipes) would make the dump refuse: close them
( for fd in $(ls /proc/$BASHPID/fd); do [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done
  setsid -f /bin/sh -c 'echo $$ > pid; exec "$0" "$1" 7 > out.log 2>&1 < /dev/null' "$work/memory" "$mib" )
while ! grep -q ready out.log 2>/dev/null; do sleep 0.2; done
pid=$(cat pid)

# one dump; prints "frozen_ms wall_s crc_ms" (crc_ms: time the dump itself spent on checksums)
dump() {
  rm -rf "$work/img"
  local t0 t1 log
  t0=$(now)
  log=$(JAVA_TOOL_OPTIONS="$1" "$here/jcriu" dump -R -t "$pid" -D "$work/img" -v3 2>&1)
  t1=$(now)
  echo "$log" | sed -n 's/.*frozen for \([0-9]*\) ms.*/\1/p' | tail -1 | tr '\n' ' '
  secs "$t0" "$t1"
  echo " $(echo "$log" | sed -n 's/.*checksums: [0-9]* MiB in \([0-9]*\) ms.*/\1/p' | tail -1)"
}

: > with.txt; : > without.txt
for r in $(seq 1 "$rounds"); do
  # which goes first alternates, so that a drift of the machine's load favours neither
  if [ $((r % 2)) = 1 ]; then
    dump "" >> with.txt; dump "-Djcriu.bench.skipChecksums=true" >> without.txt
  else
    dump "-Djcriu.bench.skipChecksums=true" >> without.txt; dump "" >> with.txt
  fi
done
echo "raw (frozen_ms command_s checksum_ms), with checksums:"; cat with.txt
echo "raw, baseline:"; cat without.txt
# a restore checks every chunk before it creates anything, and says how long that took; the
# PID is still in use, so it stops right after (the set of the last checksummed dump, read
# warm from the page cache as by a restore right after a dump)
dump "" > /dev/null
check=$( ("$here/jcriu" restore -d -D "$work/img" -v3 2>&1 || true) | sed -n 's/.*\(checked .*\)/\1/p' | head -1)

fw=$(cut -d' ' -f1 with.txt | median); fo=$(cut -d' ' -f1 without.txt | median)
ww=$(cut -d' ' -f2 with.txt | median); wo=$(cut -d' ' -f2 without.txt | median)
printf "%s MiB, %s rounds (medians)\n" "$mib" "$rounds"
printf "%-22s %12s %12s %8s\n" "" "checksums" "baseline" "ratio"
printf "%-22s %12s %12s %8s\n" "frozen (ms)" "$fw" "$fo" "$(awk -v a="$fw" -v b="$fo" 'BEGIN { printf "%.3f", a / b }')"
printf "%-22s %12s %12s %8s\n" "dump command (s)" "$ww" "$wo" "$(awk -v a="$ww" -v b="$wo" 'BEGIN { printf "%.3f", a / b }')"
cw=$(cut -d' ' -f3 with.txt | median)
printf "%-22s %12s %12s %8s\n" "checksum time (ms)" "$cw" "-" "$(awk -v a="$cw" -v b="$fw" 'BEGIN { printf "%.3f", a / b }')"
printf "(the last ratio: the time the dump spends computing checksums, measured inside it, over its frozen time)\n"
printf "restore's check of the set: %s\n" "$check"
