#!/usr/bin/env bash
# What one small call costs, counted rather than timed: the instructions the
# daemon and the client processes execute per call of PAYLOAD bytes each way
# (128 by default; callgrind), and
# their system calls and context switches per call (perf stat's
# raw_syscalls:sys_enter and context-switches), every process on CPU 0. The
# counts do not move with the load of a shared machine the way medians do,
# so a change to the hot path can be judged by them in one run. Three
# clients, as in bench/ipc.sh: native (bench-ipc ubinder-native), raw
# (bench-ipc ubinder) and the /dev/binder emulation (bench-ioctl under
# ubinder-run). The clients' columns add the caller and the replier (a
# forked child) and leave out the benchmark's own sorting of its samples.
# With BASE_BUILD_DIR, the same rows for that build beside them (a build of
# an earlier commit, e.g. a git worktree), and the new/base ratio.
# Writes bench/results/call-cost.md.
#
# usage: bench/call-cost.sh [BUILD_DIR] [BASE_BUILD_DIR]   (default: build, none)
# Environment: CALLS (default 10000), PAYLOAD (default 128), OUT (default
# bench/results/call-cost.md).
# Needs valgrind; the system-call columns need perf (Debian's linux-perf,
# scripts/deps.sh --bench) and say so when it is missing.
set -euo pipefail
if [[ ${1:-} == -h || ${1:-} == --help ]]; then
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
	exit 0
fi
cd "$(dirname "$0")/.."
build=${1:-build}
base=${2:-}
calls=${CALLS:-10000}
payload=${PAYLOAD:-128}
out=${OUT:-bench/results/call-cost.md}
warmup=200 # bench-ipc's and bench-ioctl's warm-up calls, counted too

for b in "$build" ${base:+"$base"}; do
	for f in src/daemon/ubinderd bench/ipc/bench-ipc bench/ipc/bench-ioctl preload/ubinder-run; do
		[[ -x $b/$f ]] || { echo "build first: meson setup $b && ninja -C $b ($b/$f missing)" >&2; exit 2; }
	done
done
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 2; }
perf_note=
if ! command -v perf >/dev/null; then
	perf_note="perf is not installed (scripts/deps.sh --bench)"
elif ! perf stat -e raw_syscalls:sys_enter,context-switches true >/dev/null 2>&1; then
	perf_note="perf cannot count raw_syscalls:sys_enter here (tracefs or perf_event_paranoid)"
fi

dir=$(mktemp -d)
cleanup() {
	pkill -f -- "--socket $dir/" 2>/dev/null || true
	sleep 0.5
	rm -rf "$dir"
}
trap cleanup EXIT

# The client command of mode $2 for build $1, against socket directory $3.
client() {
	case $2 in
	native) echo "$1/bench/ipc/bench-ipc ubinder-native $payload $calls $3/binder" ;;
	raw) echo "$1/bench/ipc/bench-ipc ubinder $payload $calls $3/binder" ;;
	emulation) echo "$1/preload/ubinder-run -s $3 $1/bench/ipc/bench-ioctl $payload $calls" ;;
	esac
}

# Instructions in callgrind file $1, less the benchmark's sorting.
instructions() {
	callgrind_annotate "$1" 2>/dev/null | awk '
		/PROGRAM TOTALS/ { gsub(",", "", $1); total = $1 }
		/msort|cmp_u64/ { gsub(",", "", $1); sorting += $1 }
		END { print total - sorting }'
}

# "daemon clients" instructions per call of mode $2, build $1.
count_instructions() {
	local d=$dir/cg-$RANDOM sum=0 f
	mkdir -p "$d"
	taskset -c 0 valgrind --tool=callgrind --callgrind-out-file="$d/daemon.cg" \
		"$1/src/daemon/ubinderd" --socket "$d/binder" 2>/dev/null &
	local dpid=$!
	for _ in $(seq 100); do [[ -S $d/binder ]] && break; sleep 0.1; done
	# shellcheck disable=SC2046
	taskset -c 0 valgrind --tool=callgrind --trace-children=yes \
		--callgrind-out-file="$d/client.%p.cg" $(client "$1" "$2" "$d") >/dev/null 2>&1
	kill "$dpid"
	wait "$dpid" 2>/dev/null || true
	for f in "$d"/client.*.cg; do sum=$((sum + $(instructions "$f"))); done
	echo "$(($(instructions "$d/daemon.cg") / (calls + warmup))) $((sum / (calls + warmup)))"
}

# "daemon-syscalls daemon-switches client-syscalls client-switches" per call.
count_syscalls() {
	local d=$dir/sc-$RANDOM events=raw_syscalls:sys_enter,context-switches
	mkdir -p "$d"
	taskset -c 0 perf stat -e "$events" -x, -o "$d/daemon.stat" \
		"$1/src/daemon/ubinderd" --socket "$d/binder" &
	local ppid=$!
	for _ in $(seq 100); do [[ -S $d/binder ]] && break; sleep 0.1; done
	# shellcheck disable=SC2046
	taskset -c 0 perf stat -e "$events" -x, -o "$d/client.stat" $(client "$1" "$2" "$d") >/dev/null
	# The daemon only: perf writes its counts once its child is gone.
	pkill -f -- "^$1/src/daemon/ubinderd --socket $d/binder"
	wait "$ppid" 2>/dev/null || true
	awk -F, -v n=$((calls + warmup)) '
		FNR == 1 { file++ }
		/raw_syscalls/ { v[file, "s"] = $1 }
		/context-switches/ { v[file, "c"] = $1 }
		END { printf "%.2f %.2f %.2f %.2f\n", v[1, "s"] / n, v[1, "c"] / n, v[2, "s"] / n, v[2, "c"] / n }
	' "$d/daemon.stat" "$d/client.stat"
}

declare -A row
for mode in native raw emulation; do
	for b in "$build" ${base:+"$base"}; do
		echo "measuring $mode with $b" >&2
		row[$b,$mode,i]=$(count_instructions "$b" "$mode")
		if [[ -z $perf_note ]]; then
			row[$b,$mode,s]=$(count_syscalls "$b" "$mode")
		else
			row[$b,$mode,s]="- - - -"
		fi
	done
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0 && a != "-") printf "%.2f", a / b; else print "-" }'; }

{
	echo "# What a call costs: instructions, system calls, context switches"
	echo
	echo "One synchronous call of $payload bytes and its reply of as many, every process on CPU 0,"
	echo "counted over $calls calls and $warmup warm-up calls (per call: the totals"
	echo "over both, daemon start-up included). Instructions: callgrind (the clients'"
	echo "column adds the caller and the replier, less the benchmark's sorting of its"
	echo "samples). System calls and context switches: perf stat"
	echo "(raw_syscalls:sys_enter, context-switches)${perf_note:+; not measured: $perf_note}."
	echo
	echo "- machine: $(nproc) vCPU ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)), Linux $(uname -r)"
	echo "- date: $(date -u +%Y-%m-%d)"
	echo "- command: \`${CALLS:+CALLS=$calls }${PAYLOAD:+PAYLOAD=$payload }bench/call-cost.sh $build${base:+ $base}\`"
	echo "- build: $build at $(git -C "$(dirname "$build")" describe --always --dirty 2>/dev/null || echo unknown)${base:+; base: $base at $(git -C "$(dirname "$base")" describe --always --dirty 2>/dev/null || echo unknown)}"
	echo
	echo "| client | build | daemon instructions | client instructions | daemon system calls | daemon switches | client system calls | client switches |"
	echo "|---|---|---|---|---|---|---|---|"
	for mode in native raw emulation; do
		for b in "$build" ${base:+"$base"}; do
			read -r di ci <<< "${row[$b,$mode,i]}"
			read -r ds dc cs cc <<< "${row[$b,$mode,s]}"
			echo "| $mode | $b | $di | $ci | $ds | $dc | $cs | $cc |"
		done
		if [[ -n $base ]]; then
			read -r di ci <<< "${row[$build,$mode,i]}"
			read -r bdi bci <<< "${row[$base,$mode,i]}"
			read -r ds dc cs cc <<< "${row[$build,$mode,s]}"
			read -r bds bdc bcs bcc <<< "${row[$base,$mode,s]}"
			echo "| $mode | new/base | $(ratio "$di" "$bdi") | $(ratio "$ci" "$bci") | $(ratio "$ds" "$bds") | $(ratio "$dc" "$bdc") | $(ratio "$cs" "$bcs") | $(ratio "$cc" "$bcc") |"
		fi
	done
} > "$out"
echo "wrote $out" >&2
