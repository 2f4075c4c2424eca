#!/usr/bin/env bash
# Per-process cost of a tree (bench/tree.sh) for this build and for another git revision
# (default: main), run alternately on the same machine so that both see the same load; the
# ratio is this build's cost per extra process over the other's (below 1: this build is cheaper).
# Usage: bench/tree-vs.sh [REV] [ROUNDS] [N ...]   (default main 2 1 50)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
rev="${1:-main}"; rounds="${2:-2}"; shift $(( $# > 2 ? 2 : $# )) || true
sizes="${*:-1 50}"
base="$(mktemp -d /var/tmp/jcriu-bench-base.XXXXXX)"
cleanup() { git -C "$here" worktree remove --force "$base/src" >/dev/null 2>&1 || true; rm -rf "$base"; }
trap cleanup EXIT
git -C "$here" worktree add --detach "$base/src" "$rev" >/dev/null 2>&1
echo "building $rev in $base/src ..." >&2
"$base/src/jcriu" --version >/dev/null 2>&1
"$here/jcriu" --version >/dev/null 2>&1
last() { awk 'END { print $6, $7 }' "$1"; } # dump_ms/extra restore_ms/extra of the largest tree
printf "%-6s %-28s %-28s %s\n" round "$rev dump/restore ms/extra" "this dump/restore ms/extra" "ratio dump restore"
for r in $(seq 1 "$rounds"); do
    JCRIU="$base/src/jcriu" "$here/bench/tree.sh" $sizes > "$base/b.txt"
    JCRIU="$here/jcriu" "$here/bench/tree.sh" $sizes > "$base/n.txt"
    read -r bd br < <(last "$base/b.txt"); read -r nd nr < <(last "$base/n.txt")
    printf "%-6s %-28s %-28s %s %s\n" "$r" "$bd / $br" "$nd / $nr" \
        "$(awk -v a="$nd" -v b="$bd" 'BEGIN{printf "%.2f", a/b}')" "$(awk -v a="$nr" -v b="$br" 'BEGIN{printf "%.2f", a/b}')"
done
