#!/bin/sh
# Runs a libFuzzer target for $UBINDER_FUZZ_SECONDS seconds (default 20) on a
# corpus kept in the build folder, seeded from the source tree. Any crash,
# leak or sanitizer report fails the run.
# Usage: run-fuzz.sh TARGET CORPUS_DIR [SEED_DIR]
set -eu
target=$1 corpus=$2 seeds=${3:-}
seconds=${UBINDER_FUZZ_SECONDS:-20}
mkdir -p "$corpus"
exec "$target" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 \
	-print_final_stats=1 -artifact_prefix="$corpus/../" "$corpus" ${seeds:+"$seeds"}
