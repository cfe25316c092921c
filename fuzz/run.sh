#!/usr/bin/env bash
# Build the fuzz targets with libFuzzer's coverage instrumentation (stable
# Rust: the flags cargo-fuzz passes, without a sanitizer) and run each one.
#
#   fuzz/run.sh                 # every target, 60 s each
#   SECONDS_PER_TARGET=10 fuzz/run.sh policy_match
#
# Corpora grow in fuzz/corpus/<target> (not committed); a crash leaves
# fuzz/artifacts/<target>/crash-* and makes the script fail.
set -euo pipefail
cd "$(dirname "$0")"
SECONDS_PER_TARGET=${SECONDS_PER_TARGET:-60}
TARGET=$(rustc -vV | sed -n 's/^host: //p')
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks"
cargo build --locked --release --target "$TARGET" --target-dir target/cov
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(policy_params policy_match pi_cfg time_range)
fi
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" "artifacts/$t"
    echo "== $t (${SECONDS_PER_TARGET}s)"
    "target/cov/$TARGET/release/$t" "corpus/$t" -artifact_prefix="artifacts/$t/" \
        -max_total_time="$SECONDS_PER_TARGET" -max_len=4096 -print_final_stats=1 2>&1 |
        grep -E '^(#[0-9]+[[:space:]]+DONE|stat::number_of_executed_units|==[0-9]+== ERROR)|panicked' || true
    if compgen -G "artifacts/$t/crash-*" > /dev/null; then
        echo "crash in $t: $(ls artifacts/$t/crash-*)" >&2
        exit 1
    fi
done
