#!/usr/bin/env bash
# Where the outbox beats inline for native calls (bench/results/bigcalls-notes.md):
# per payload size, AF_UNIX seqpacket, then bench-ipc ubinder-native with the
# payload pushed inline (on the heap) and with it in the outbox, alternated,
# ROUNDS times (default 3), every process on CPU 0, against one ubinderd.
# usage: bench/ipc/outbox-crossover.sh [BUILD_DIR] [ITERATIONS] [SIZE...]
# Prints "roundN SIZE unix=NS inline=NS outbox=NS" (medians).
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
iterations=${2:-2000}
shift 2 || true
sizes=("$@")
((${#sizes[@]})) || sizes=(4096 8192 16384 32768 65536)
bench=$build/bench/ipc/bench-ipc
dir=$(mktemp -d)
taskset -c 0 "$build/src/daemon/ubinderd" --socket "$dir/binder" &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
sleep 0.3
median() { awk '{ print $3 }'; }
for round in $(seq "${ROUNDS:-3}"); do
	for p in "${sizes[@]}"; do
		mode=unix-seqpacket
		((p > 65536)) && mode=unix-stream
		u=$(taskset -c 0 "$bench" "$mode" "$p" "$iterations" | median)
		i=$(BENCH_OUTBOX_MIN=$((1 << 40)) taskset -c 0 "$bench" ubinder-native "$p" "$iterations" \
			"$dir/binder" | median)
		o=$(BENCH_OUTBOX_MIN=1 taskset -c 0 "$bench" ubinder-native "$p" "$iterations" \
			"$dir/binder" | median)
		echo "round$round $p unix=$u inline=$i outbox=$o"
	done
done
