#!/usr/bin/env bash
# Runs every test with a JDK 25 (the same lookup as ./jcriu). Needs root; installs with apt-get
# what the tests use and the machine lacks (gcc, crit, python3, Maven, nft, iptables, the real programs).
set -euo pipefail
cd "$(dirname "$0")"
[ "$(id -u)" = 0 ] || { echo "test.sh: the tests ptrace and choose PIDs: run them as root" >&2; exit 2; }
need=()
command -v gcc >/dev/null || need+=(gcc libc6-dev)
command -v crit >/dev/null || need+=(criu)
command -v python3 >/dev/null || need+=(python3)
command -v mvn >/dev/null || need+=(maven)
command -v redis-server >/dev/null || need+=(redis-server)
command -v nginx >/dev/null || need+=(nginx-light)
command -v nft >/dev/null || need+=(nftables)
command -v iptables >/dev/null || need+=(iptables)
command -v node >/dev/null || need+=(nodejs)
if [ ${#need[@]} -gt 0 ]; then
    echo "test.sh: installing ${need[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi
java_major() { "$1/bin/java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1; }
if [ -z "${JAVA_HOME:-}" ] || [ "$(java_major "$JAVA_HOME" 2>/dev/null || echo 0)" -lt 25 ]; then
    for d in /usr/lib/jvm/*; do
        v="$(java_major "$d" 2>/dev/null || true)"
        if [ -n "$v" ] && [ "$v" -ge 25 ]; then export JAVA_HOME="$d"; fi
    done
fi
[ -n "${JAVA_HOME:-}" ] || { echo "test.sh: no JDK 25 found" >&2; exit 2; }
# PIDs are reused once the kernel's counter wraps at pid_max. At the 32768 of some machines a busy
# machine wraps within minutes, and a restore then finds an image's PID taken by an unrelated
# thread (it refuses, as it must); 4194304 (the 64-bit maximum, systemd's default) makes that rare.
if [ "$(cat /proc/sys/kernel/pid_max)" -lt 4194304 ]; then
    echo "test.sh: raising kernel.pid_max from $(cat /proc/sys/kernel/pid_max) to 4194304" >&2
    echo 4194304 > /proc/sys/kernel/pid_max || echo "test.sh: could not raise kernel.pid_max; tests may meet reused PIDs" >&2
fi
# Build first (and the launcher's AOT cache), so that tests running the command line do not
# wait for a build inside their time limit.
./jcriu --version >/dev/null
# JCRIU_TEST_LOAD=N: N CPU-bound loops run beside the tests (the tests must hold on a busy machine).
load="${JCRIU_TEST_LOAD:-0}"
[ "$load" -gt 0 ] 2>/dev/null || exec mvn -B test "$@"
busy=()
trap 'kill "${busy[@]}" 2>/dev/null' EXIT
for _ in $(seq 1 "$load"); do sh -c 'while :; do :; done' & busy+=($!); done
echo "test.sh: $load busy loops beside the tests (pids ${busy[*]})" >&2
mvn -B test "$@"
