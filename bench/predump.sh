#!/usr/bin/env bash
# How long a process stays frozen for its final dump, with and without a pre-dump first:
# N MiB of touched memory, of which CHANGED MiB are rewritten between the pre-dump and the
# dump. The full dump (--leave-running) is the baseline of the same run.
# Usage: bench/predump.sh [MiB] (default 1024). Needs root and gcc.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d /var/tmp/jcriu-bench-predump.XXXXXX)"
trap 'rm -rf "$work"' EXIT
mib="${1:-1024}"
gcc -O1 -o "$work/memory" "$here/src/test/resources/workloads/memory.c"
"$here/jcriu" --version >/dev/null
cd "$work"
( for fd in $(ls /proc/$BASHPID/fd); do [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done
  setsid -f /bin/sh -c 'echo $$ > pid; exec "$0" "$1" 3 > out.log 2>&1 < /dev/null' "$work/memory" "$mib" )
while ! grep -q ready out.log 2>/dev/null; do sleep 0.2; done
pid=$(cat pid)
frozen() { sed -n 's/.*frozen for \([0-9]*\) ms.*/\1/p' "$1" | tail -1; }
"$here/jcriu" dump -t "$pid" -D "$work/full" --leave-running -v3 -o dump.log
"$here/jcriu" pre-dump -t "$pid" -D "$work/pre" -v3 -o pre.log
"$here/jcriu" dump -t "$pid" -D "$work/inc" --prev-images-dir ../pre --leave-running -v3 -o dump.log
kill -9 "$pid"
full=$(frozen "$work/full/dump.log"); pre=$(frozen "$work/pre/pre.log"); inc=$(frozen "$work/inc/dump.log")
fb=$(stat -c %s "$work/full/pages-1.img"); ib=$(stat -c %s "$work/inc/pages-1.img")
printf "%-28s %10s %12s %8s\n" "" frozen_ms pages_MiB ratio
printf "%-28s %10d %12d %8.2f\n" "full dump" "$full" $((fb >> 20)) 1
printf "%-28s %10d %12s %8.2f\n" "pre-dump" "$pre" "-" "$(awk -v a="$pre" -v b="$full" 'BEGIN{print a/b}')"
printf "%-28s %10d %12d %8.2f\n" "dump after the pre-dump" "$inc" $((ib >> 20)) "$(awk -v a="$inc" -v b="$full" 'BEGIN{print a/b}')"
