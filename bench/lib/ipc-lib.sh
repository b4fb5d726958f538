#!/usr/bin/env bash
# libubinder round-trip latency and throughput against AF_UNIX, in the same
# run, same-core (every process on CPU 0) and unpinned (design.md section 7).
# Writes bench/results/ipc-lib.md.
#
# usage: bench/lib/ipc-lib.sh [BUILD_DIR] [ITERATIONS] [SECONDS]
#        (defaults: build, 2000 calls per latency figure, 2 s per throughput figure)
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
iterations=${2:-2000}
seconds=${3:-2}
sizes=(128 4096 65536)
threads=(1 4 16)
bench=$build/bench/lib/ubinder-bench-ipc-lib
raw=$build/bench/ipc/bench-ipc # the raw-protocol benchmark (bench/ipc), if built
daemon=$build/src/daemon/ubinderd
[[ -x $bench && -x $daemon ]] || {
	echo "build first: meson setup $build && ninja -C $build" >&2
	exit 2
}

dir=$(mktemp -d)
pid=
trap '[[ -n $pid ]] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$dir"' EXIT
load_before=$(cut -d' ' -f1 /proc/loadavg)

run() { # scenario prefix...
	local scenario=$1 s t
	shift
	"$@" "$daemon" --socket "$dir/binder" --log-level error &
	pid=$!
	for _ in $(seq 100); do [[ -S $dir/binder ]] && break; sleep 0.05; done
	for s in "${sizes[@]}"; do
		echo "$scenario latency $s ubinder $("$@" "$bench" latency ubinder "$dir/binder" "$s" "$iterations")"
		echo "$scenario latency $s unix $("$@" "$bench" latency unix "$s" "$iterations")"
		if [[ -x $raw ]]; then
			# "ubinder SIZE MEDIAN_NS P99_NS": the same call without the library.
			{ "$@" "$raw" ubinder-native "$s" "$iterations" "$dir/binder" 2>/dev/null || true; } |
				awk -v sc="$scenario" -v s="$s" '{ printf "%s latency %s raw %.1f %.1f\n", sc, s, $3 / 1000, $4 / 1000 }'
		fi
	done >>"$dir/results"
	for t in "${threads[@]}"; do
		echo "$scenario throughput $t ubinder $("$@" "$bench" throughput ubinder "$dir/binder" 128 "$t" "$seconds")"
		echo "$scenario throughput $t unix $("$@" "$bench" throughput unix 128 "$t" "$seconds")"
	done >>"$dir/results"
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	pid=
}
: >"$dir/results"
run same-core taskset -c 0
run unpinned env

field() { # scenario kind key transport column
	awk -v s="$1" -v k="$2" -v key="$3" -v t="$4" -v c="$5" \
		'$1 == s && $2 == k && $3 == key && $4 == t { print $(4 + c) }' "$dir/results"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1fx", a / b }'; }
size_name() { (($1 >= 1024)) && echo "$(($1 / 1024)) KiB" || echo "$1 B"; }

out=bench/results/ipc-lib.md
{
	echo "# libubinder round trips and throughput against AF_UNIX"
	echo
	echo "A synchronous call through libubinder (\`ubinder_binder_transact()\` on a proxy)"
	echo "carrying a byte array of PAYLOAD bytes, which the service's handler reads and"
	echo "writes back in its reply; the client reads the reply and frees it. The service"
	echo "is the context manager (no service manager) and serves on libubinder's thread"
	echo "pool (up to 16 threads). Baseline, measured in the same run: an AF_UNIX"
	echo "SOCK_SEQPACKET ping-pong of the same payload between two processes, one server"
	echo "thread per client thread. \`bench/lib/bench-ipc-lib.c\`. For reference, the last"
	echo "column is the floor under the library: the same call made with the raw Binder"
	echo "protocol, hand-written, with what libubinder does on top of the kernel's"
	echo "semantics (\`bench/ipc\` in its \`ubinder-native\` mode, same session: reply"
	echo "freed with the next call, the replier's completion held until the next call;"
	echo "its payload is not parsed, the library's is a parcel)."
	echo
	echo "- machine: $(nproc) vCPU $(lscpu | sed -n 's/^Model name: *//p' | head -n1),"
	echo "  $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr); shared with other"
	echo "  engineers' builds (load average $load_before when the run started)"
	echo "- build: \`$build\`, buildtype $(meson introspect "$build" --buildoptions 2>/dev/null |
		grep -o '"name": "buildtype", "value": "[a-z]*"' | sed 's/.*"\([a-z]*\)"$/\1/'), $(${CC:-cc} --version | head -n1)"
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD)"
	echo "- command: \`bench/lib/ipc-lib.sh $build $iterations $seconds\`"
	echo "- latency: median and p99 of $iterations calls after 200 warm-up calls, in"
	echo "  microseconds; throughput: calls per second of 128-byte calls summed over the"
	echo "  client threads (one process), each thread calling for $seconds s after 200"
	echo "  warm-up calls"
	for scenario in same-core unpinned; do
		echo
		if [[ $scenario == same-core ]]; then
			echo "## Same core (\`taskset -c 0\`: daemon, service and client on CPU 0)"
		else
			echo "## Unpinned"
		fi
		echo
		echo "| payload | libubinder median | libubinder p99 | AF_UNIX median | AF_UNIX p99 | median ratio | raw protocol median / p99 |"
		echo "|---|---|---|---|---|---|---|"
		for s in "${sizes[@]}"; do
			um=$(field $scenario latency "$s" ubinder 1)
			up=$(field $scenario latency "$s" ubinder 2)
			xm=$(field $scenario latency "$s" unix 1)
			xp=$(field $scenario latency "$s" unix 2)
			rm=$(field $scenario latency "$s" raw 1)
			rp=$(field $scenario latency "$s" raw 2)
			echo "| $(size_name "$s") | $um µs | $up µs | $xm µs | $xp µs | $(ratio "$um" "$xm") | ${rm:+$rm µs / $rp µs} |"
		done
		echo
		echo "| client threads | libubinder calls/s | AF_UNIX calls/s | AF_UNIX / libubinder |"
		echo "|---|---|---|---|"
		for t in "${threads[@]}"; do
			u=$(field $scenario throughput "$t" ubinder 1)
			x=$(field $scenario throughput "$t" unix 1)
			echo "| $t | $u | $x | $(ratio "$x" "$u") |"
		done
	done
} >"$out"
cat "$out"
