#!/usr/bin/env bash
# What every command pays before it does anything: `jcriu --help`, `jcriu check` and the dump
# of a tiny process (sleep), each run N times (default 7), interleaved, median wall and CPU
# (user+sys) time. Three ways to start the same build, in the same run:
#   plain     the JVM as the launcher started it before the AOT cache (classes directory)
#   no-cache  ./jcriu with JCRIU_AOT=off
#   launcher  ./jcriu as it is (AOT cache)
# Ratios are against plain. Usage: bench/startup.sh [N]. Needs root (check, dump).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
n="${1:-7}"
work="$(mktemp -d /var/tmp/jcriu-bench-startup.XXXXXX)"
trap 'rm -rf "$work"' EXIT
"$here/jcriu" --version >/dev/null        # builds, and trains the cache, if needed
JAVA_HOME="${JAVA_HOME:-$(ls -d /usr/lib/jvm/temurin-25* 2>/dev/null | head -n1)}"
plain=("$JAVA_HOME/bin/java" -XX:-UsePerfData --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow
       -cp "$here/target/classes:$here/target/lib/*" jcriu.cli.Main)

# a tiny process to dump, with no fds of ours (a pipe would make the dump refuse)
tiny() {
    ( for fd in $(ls /proc/$BASHPID/fd); do [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done
      setsid -f /bin/sh -c 'echo $$ > "$0"; exec sleep 600' "$work/pid" </dev/null >/dev/null 2>&1 )
    while [ ! -s "$work/pid" ]; do sleep 0.01; done
    cat "$work/pid"; rm -f "$work/pid"
}

# one timed run: appends "wall cpu" to $work/<variant>.<cmd>
run() {
    local variant=$1 cmd=$2; shift 2
    local -a argv
    case "$cmd" in
        help) argv=(--help) ;;
        check) argv=(check) ;;
        dump) local pid; pid=$(tiny); rm -rf "$work/img"; argv=(dump -t "$pid" -D "$work/img" -v0) ;;
    esac
    local -a launch
    case "$variant" in
        plain) launch=("${plain[@]}") ;;
        no-cache) launch=(env JCRIU_AOT=off "$here/jcriu") ;;
        launcher) launch=("$here/jcriu") ;;
    esac
    /usr/bin/time -f "%e %U %S" -o "$work/t" "${launch[@]}" "${argv[@]}" >/dev/null 2>"$work/err" \
        || { echo "$variant $cmd failed:"; cat "$work/err"; exit 1; }
    tail -n1 "$work/t" | awk '{ printf "%.3f %.3f\n", $1, $2 + $3 }' >> "$work/$variant.$cmd"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

for i in $(seq 1 "$n"); do
    for cmd in help check dump; do
        for variant in plain no-cache launcher; do run "$variant" "$cmd"; done
    done
done
printf "%-8s %-9s %9s %9s %11s %10s\n" command variant wall_s cpu_s wall/plain cpu/plain
for cmd in help check dump; do
    pw=$(cut -d' ' -f1 "$work/plain.$cmd" | median); pc=$(cut -d' ' -f2 "$work/plain.$cmd" | median)
    for variant in plain no-cache launcher; do
        w=$(cut -d' ' -f1 "$work/$variant.$cmd" | median); c=$(cut -d' ' -f2 "$work/$variant.$cmd" | median)
        printf "%-8s %-9s %9.3f %9.3f %11.2f %10.2f\n" "$cmd" "$variant" "$w" "$c" \
            "$(awk -v a="$w" -v b="$pw" 'BEGIN { print a / b }')" "$(awk -v a="$c" -v b="$pc" 'BEGIN { print a / b }')"
    done
done
echo "($n runs each, medians; load average $(cut -d' ' -f1-3 /proc/loadavg))"
