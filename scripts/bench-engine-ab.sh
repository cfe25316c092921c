#!/usr/bin/env bash
# A/B comparison of policy-engine bench binaries on a noisy machine:
# alternate the binaries for ROUNDS rounds and print min/median/max of
# criterion's middle estimate per binary.
#
#   cargo bench -p pi-policy --bench engine --no-run   # prints the binary path
#   cp target/release/deps/engine-<hash> /tmp/engine-before   # … per variant
#   scripts/bench-engine-ab.sh 6 'decision/indexed/10000$' /tmp/engine-before /tmp/engine-after
set -euo pipefail
rounds=$1
filter=$2
shift 2
declare -A results
for _ in $(seq "$rounds"); do
    for b in "$@"; do
        v=$("$b" --bench --warm-up-time 0.5 --measurement-time 1.5 "$filter" 2>&1 |
            grep -E "time:" | grep -v "%" | head -1 |
            sed -E 's/.*\[[^ ]+ [^ ]+ ([0-9.]+) ([a-zµ]+) .*/\1 \2/')
        results[$b]+="$v"$'\n'
    done
done
for b in "$@"; do
    printf '%s: ' "$b"
    printf '%s' "${results[$b]}" | grep -v '^$' | sort -n |
        awk '{a[NR]=$1; u=$2} END {printf "min %s  median %s  max %s %s (n=%d)\n", a[1], a[int((NR+1)/2)], a[NR], u, NR}'
done
