#!/usr/bin/env bash
# What a dump and a restore of a tree cost per extra process, counted rather than timed (counts
# do not change with the machine's load): a tree of N1 and one of N2 idle processes (as
# bench/tree.sh) are dumped and restored with jcriu's JVM under strace -f, and the system calls
# it makes are counted by kind: ptrace requests (PTRACE_SYSCALL: two per call injected into a
# process), waits for stops, /proc files opened and read, image files written and read, fsyncs,
# processes and threads started. Prints N1, N2 and (N2 - N1) / (N2 - N1) per row: the cost of one
# more process. Usage: bench/tree-count.sh [N1 N2] (default 1 50). Needs strace.
# JCRIU_HOME=dir counts another build (a worktree where ./jcriu has built target/).
set -euo pipefail
here="${JCRIU_HOME:-$(cd "$(dirname "$0")/.." && pwd)}"
n1="${1:-1}"; n2="${2:-50}"
command -v strace >/dev/null || { echo "tree-count: strace is needed (apt-get install strace)" >&2; exit 2; }
"$here/jcriu" --version >/dev/null
work="$(mktemp -d /var/tmp/jcriu-bench-count.XXXXXX)"
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
# The JVM the launcher would exec (strace must follow the JVM's threads, and leave the restore's
# helper, which the JVM traces itself: -b execve lets it go at its exec).
java="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java"
libs=("$here"/target/lib/*.jar)
cp="$here/target/jcriu.jar$(printf ':%s' "${libs[@]}")"
jvm=("$java" -XX:-UsePerfData -XX:TieredStopAtLevel=1 --enable-native-access=ALL-UNNAMED
     --sun-misc-unsafe-memory-access=allow -cp "$cp" jcriu.cli.Main)
for m in "$n1" "$n2"; do
    d="$work/$m"; mkdir -p "$d"; cd "$d"
    ( for fd in $(ls /proc/$BASHPID/fd); do [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done
      setsid -f /bin/sh -c 'echo $$ > pid; exec "$0" "$1" > out.log 2>&1 < /dev/null' "$work/idle" "$m" )
    while ! grep -q ready out.log 2>/dev/null; do sleep 0.1; done
    pid=$(cat pid); pids="$pid $(cat /proc/$pid/task/$pid/children)"
    strace -f -b execve -qq -s 96 -o "$d/dump.st" "${jvm[@]}" dump -t "$pid" -D "$d/img" -v0
    for p in $pids; do while [ -e "/proc/$p" ]; do sleep 0.05; done; done
    strace -f -b execve -qq -s 96 -o "$d/restore.st" "${jvm[@]}" restore -d -D "$d/img" -v0
    got=$(( 1 + $(wc -w < /proc/$pid/task/$pid/children) ))
    for p in $pids; do kill -9 "$p" 2>/dev/null || true; done
    [ "$got" = "$m" ] || { echo "restored $got processes, expected $m" >&2; exit 1; }
    for p in $pids; do while [ -e "/proc/$p" ]; do sleep 0.05; done; done
done
python3 - "$work" "$n1" "$n2" <<'PY'
import collections, re, sys
work, n1, n2 = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
START = re.compile(r'^(\d+)\s+([a-z_0-9]+)\((.*)$')
RESUMED = re.compile(r'^(\d+)\s+<\.\.\. ([a-z_0-9]+) resumed>(.*)$')
READS = ('read', 'pread64', 'readv', 'preadv')
WRITES = ('write', 'pwrite64', 'writev', 'pwritev')

def count(path, img):
    c = collections.Counter(); fds = {}; pending = {}
    def kind(p):
        return 'proc' if p.startswith('/proc/') else 'image' if p.startswith(img) else 'other'
    def one(name, args, tail):
        m = re.search(r'=\s+(-?\d+)', tail)
        r = int(m.group(1)) if m else None
        c['system calls, all'] += 1
        if name in ('openat', 'open'):
            p = re.search(r'"([^"]*)"', args)
            k = kind(p.group(1) if p else '')
            c[f'{k} files opened'] += 1
            if r is not None and r >= 0: fds[r] = k
        elif name == 'close':
            f = re.match(r'(\d+)', args)
            if f: fds.pop(int(f.group(1)), None)
        elif name in READS or name in WRITES:
            f = re.match(r'(\d+)', args)
            k = fds.get(int(f.group(1)), 'other') if f else 'other'
            if k != 'other': c[f'{k} files: {"reads" if name in READS else "writes"}'] += 1
        elif name == 'ptrace':
            c['ptrace requests, all'] += 1
            c['  ' + args.split(',')[0]] += 1
        elif name in ('wait4', 'waitid'):
            c['waits (wait4)'] += 1
        elif name in ('fsync', 'fdatasync', 'syncfs'):
            c[name] += 1
        elif name in ('clone', 'clone3', 'vfork', 'fork'):
            c['threads started' if 'CLONE_THREAD' in args else 'processes started'] += 1
        elif name in ('kcmp', 'process_vm_readv', 'process_vm_writev', 'prlimit64'):
            c[name] += 1
    for line in open(path, errors='replace'):
        line = line.rstrip('\n')
        m = RESUMED.match(line)
        if m:
            pid, name, tail = m.groups()
            one(name, pending.pop((pid, name), ''), tail)
            continue
        m = START.match(line)
        if not m: continue
        pid, name, rest = m.groups()
        if rest.endswith('<unfinished ...>'): pending[(pid, name)] = rest
        else: one(name, rest, rest[rest.rfind(')'):])
    c['  calls injected (PTRACE_SYSCALL / 2)'] = c['  PTRACE_SYSCALL'] // 2
    return c

for phase in ('dump', 'restore'):
    a = count(f'{work}/{n1}/{phase}.st', f'{work}/{n1}/img')
    b = count(f'{work}/{n2}/{phase}.st', f'{work}/{n2}/img')
    print(f'{phase:40s} {"N=" + str(n1):>9s} {"N=" + str(n2):>9s} {"per extra":>10s}')
    keys = set(a) | set(b)
    sub = sorted(k for k in keys if k.startswith('  PTRACE_'))
    order = ['system calls, all', 'ptrace requests, all', '  calls injected (PTRACE_SYSCALL / 2)'] + sub + [
        'waits (wait4)', 'proc files opened', 'proc files: reads', 'proc files: writes', 'image files opened',
        'image files: reads', 'image files: writes', 'fsync', 'fdatasync', 'syncfs', 'processes started',
        'threads started', 'kcmp', 'process_vm_readv', 'process_vm_writev', 'prlimit64']
    for k in order:
        print(f'{k:40s} {a[k]:9d} {b[k]:9d} {(b[k] - a[k]) / (n2 - n1):10.2f}')
    print()
PY
