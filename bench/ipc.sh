#!/usr/bin/env bash
# IPC round-trip latency of ubinder against AF_UNIX ping-pong of the same
# payload, measured in the same run, same-core (every process on CPU 0) and
# unpinned (design.md section 7). Three ubinder clients:
#   ubinder         the raw Binder protocol through lib/transport (bench-ipc);
#   ubinder-native  the same with the native fast paths: replies held for the
#                   next read (UBW_WR_HOLD_COMPLETE) and the outbox (one copy
#                   by the daemon from a shared send buffer);
#   ioctl           an unmodified kernel-API program (open/mmap/ioctl,
#                   bench-ioctl) under ubinder-run, the /dev/binder emulation;
#   seccomp         the same program, statically linked where the build has
#                   it, under ubinder-run --seccomp (the daemon serves its
#                   trapped system calls);
#   fuse            the same program in a private mount namespace whose
#                   /dev/binder is the daemon's FUSE device (ubinderd
#                   --fuse-dev, scripts/fuse-namespace.sh; root only, else
#                   the column says why it is empty).
# Beside them, in the same run: a D-Bus method call through dbus-daemon with
# sd-bus (bench-dbus; skipped with the reason when dbus-daemon or
# libsystemd-dev is missing: scripts/deps.sh --bench), and the floor of a
# brokered call (hop-floor from the shared tools, built into the build dir):
# bare 2- and 4-hop chains over AF_UNIX, futexes and eventfds.
# For reference, when the binder VM is available, the kernel's own Binder
# driver against AF_UNIX inside one VM boot with one vCPU (software emulation:
# only the ratio means something).
# Two client transports, in the same run and on the same core: the default
# (the shared-memory rings, wherever the daemon offers them) and the thread
# sockets only (the same binaries with UBINDER_TRANSPORT=socket; "-socket"
# modes in the results): ubinder, native and ioctl, and the throughput sweep.
# The targets of issue 12 are checked in a table at the end, each run's
# figure beside the others'.
# Writes bench/results/ipc.md and bench/results/ipc.png (gnuplot).
#
# usage: bench/ipc.sh [BUILD_DIR] [ITERATIONS]     (default: build, 2000)
# The latency figures are taken in CHUNKS rounds (default 5) of
# ITERATIONS / CHUNKS calls per client, every client once per round in
# turn, and each is the median of its rounds' medians (and p99s): a burst of
# load on the shared machine then spoils a round, not the figure.
# Environment: PAYLOADS (default "128 4096 65536 1048576"), SCENARIOS
# (default "same-core unpinned"), OUT (default bench/results/ipc.md),
# SHARED_TOOLS (where binder-vm and hop-floor.c are, default ../shared/tools,
# else ../../shared/tools for a worktree beside the main clone),
# NO_VM=1 skips the kernel-driver reference, THREADS (default "1 4 16 64")
# the client threads of the throughput sweep and TPUT_SECONDS (default 2) its
# length per figure (THREADS= skips it), RUNS (default 1) how many times the
# whole measurement is repeated: the tables show the first run, the targets
# table every run's figure (the machine is shared: how much they move).
# Throughput sweep: 128-byte calls per second summed over THREADS client
# threads of one process through libubinder (the native path:
# bench/lib/bench-ipc-lib.c) against AF_UNIX SEQPACKET ping-pong with as many
# server threads, and the daemon's CPU time (utime + stime from
# /proc/PID/stat) per call over the ubinder figure.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
iterations=${2:-2000}
vm_iterations=500
read -r -a payloads <<< "${PAYLOADS:-128 4096 65536 1048576}"
read -r -a scenarios <<< "${SCENARIOS:-same-core unpinned}"
out=${OUT:-bench/results/ipc.md}
tools=${SHARED_TOOLS:-../shared/tools}
[[ -n ${SHARED_TOOLS:-} || -d $tools ]] || tools=../../shared/tools
runs=${RUNS:-1}
chunks=${CHUNKS:-5}
((chunks >= 1)) || { echo "CHUNKS must be at least 1" >&2; exit 2; }
chunk_iterations=$(((iterations + chunks - 1) / chunks))
bench=$build/bench/ipc/bench-ipc
ioctl_bench=$build/bench/ipc/bench-ioctl
seccomp_bench=$build/bench/ipc/bench-ioctl-static
[[ -x $seccomp_bench ]] || seccomp_bench=$ioctl_bench
run_preloaded=$build/preload/ubinder-run
daemon=$build/src/daemon/ubinderd
dbus_bench=$build/bench/ipc/bench-dbus
hop_floor=$build/bench/hop-floor
lib_bench=$build/bench/lib/ubinder-bench-ipc-lib
read -r -a tput_threads <<< "${THREADS-1 4 16 64}"
tput_seconds=${TPUT_SECONDS:-2}
[[ -x $lib_bench ]] || tput_threads=()
vm=${BINDER_VM:-$tools/binder-vm}
for f in "$bench" "$ioctl_bench" "$run_preloaded" "$daemon"; do
	[[ -x $f ]] || { echo "build first: meson setup $build && ninja -C $build ($f missing)" >&2; exit 2; }
done

dir=$(mktemp -d)
pid=
bus_pid=
# Every step may fail (errexit is on in the trap too: a failed umount of a
# folder never mounted used to end it with status 32, leaving $dir behind).
cleanup() {
	[[ -n $pid ]] && kill "$pid" 2>/dev/null
	[[ -n $bus_pid ]] && kill "$bus_pid" 2>/dev/null
	wait 2>/dev/null
	mountpoint -q "$dir/dev" && umount -l "$dir/dev" 2>/dev/null
	rm -rf "$dir"
	return 0
}
trap 'cleanup || true' EXIT
# One results file per run: "SCENARIO MODE PAYLOAD MEDIAN_NS P99_NS" lines.
results=$dir/results-1.txt
# Whether this daemon has rings at all (before it, both columns are sockets).
if "$daemon" --help 2>&1 | grep -q -- --rings; then
	rings_note="ubinderd offers rings (--rings on, the default)"
else
	rings_note="this ubinderd has no rings yet (no --rings option): both columns are the socket"
fi

dbus_note=
if ! command -v dbus-daemon >/dev/null; then
	dbus_note="dbus-daemon is not installed (scripts/deps.sh --bench)"
elif [[ ! -x $dbus_bench ]]; then
	dbus_note="bench-dbus was not built: libsystemd-dev is missing (scripts/deps.sh --bench, then reconfigure)"
fi
fuse_note=
if [[ $(id -u) != 0 ]]; then
	fuse_note="FUSE mounts need root"
elif [[ ! -c /dev/fuse ]]; then
	fuse_note="no /dev/fuse"
fi
fuse_args=()
[[ -z $fuse_note ]] && mkdir -p "$dir/dev" && fuse_args=(--fuse-dev "$dir/dev")
floor_note=
if [[ ! -r $tools/hop-floor.c ]]; then
	floor_note="$tools/hop-floor.c not found (set SHARED_TOOLS)"
elif ! cc -O2 -o "$hop_floor" "$tools/hop-floor.c" 2>"$dir/hop-floor.log"; then
	floor_note="hop-floor.c did not build: $(head -1 "$dir/hop-floor.log")"
fi

# utime + stime of process $1, in clock ticks.
daemon_cpu_ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }

unix_mode() { if (($1 > 65536)); then echo unix-stream; else echo unix-seqpacket; fi; }

run() { # scenario prefix...
	local scenario=$1; shift
	"$@" "$daemon" --socket "$dir/binder" "${fuse_args[@]}" &
	pid=$!
	sleep 0.3
	for _ in $(seq 50); do
		[[ -n $fuse_note ]] || mountpoint -q "$dir/dev" && break
		sleep 0.1
	done
	local chunk final=$results
	results=$dir/chunks.txt
	: > "$results"
	for ((chunk = 1; chunk <= chunks; chunk++)); do
	for p in "${payloads[@]}"; do
		echo "$scenario $("$@" "$bench" "$(unix_mode "$p")" "$p" "$chunk_iterations")" >> "$results"
		# Each client over the default transport, then over the sockets only.
		for mode in ubinder ubinder-native; do
			echo "$scenario $("$@" "$bench" "$mode" "$p" "$chunk_iterations" "$dir/binder")" >> "$results"
			echo "$scenario $("$@" env UBINDER_TRANSPORT=socket "$bench" "$mode" "$p" "$chunk_iterations" \
				"$dir/binder" | sed "s/^$mode /$mode-socket /")" >> "$results"
		done
		echo "$scenario $("$@" "$run_preloaded" -s "$dir" "$ioctl_bench" "$p" "$chunk_iterations")" >> "$results"
		echo "$scenario $("$@" env UBINDER_TRANSPORT=socket "$run_preloaded" -s "$dir" "$ioctl_bench" \
			"$p" "$chunk_iterations" | sed 's/^ioctl /ioctl-socket /')" >> "$results"
		echo "$scenario $("$@" "$run_preloaded" -s "$dir" --seccomp "$seccomp_bench" "$p" "$chunk_iterations" |
			sed 's/^ioctl /seccomp /')" >> "$results"
		[[ -n $fuse_note ]] ||
			echo "$scenario $("$@" scripts/fuse-namespace.sh "$dir/dev" "$seccomp_bench" "$p" "$chunk_iterations" |
				sed 's/^ioctl /fuse /')" >> "$results"
	done
	done
	# Each measure's median and p99: the medians of its chunks' (a burst of
	# load on the shared machine spoils one chunk, not the figure).
	sort -k1,1 -k2,2 -k3,3n "$results" | awk '
		function middle(a, n,    i, j, v) {
			for (i = 2; i <= n; i++) { v = a[i]; for (j = i - 1; j >= 1 && a[j] + 0 > v + 0; j--) a[j + 1] = a[j]; a[j + 1] = v }
			return a[int((n + 1) / 2)]
		}
		function flush() { if (n) print key, middle(m, n), middle(q, n); n = 0 }
		{ k = $1 " " $2 " " $3; if (k != key) { flush(); key = k } n++; m[n] = $4; q[n] = $5 }
		END { flush() }' >> "$final"
	results=$final
	for t in "${tput_threads[@]}"; do
		local cpu0 cpu1 rate transport
		for transport in default socket; do
			local envs=() suffix=
			[[ $transport == socket ]] && envs=(UBINDER_TRANSPORT=socket) suffix=-socket
			cpu0=$(daemon_cpu_ticks "$pid")
			rate=$("$@" env "${envs[@]}" "$lib_bench" throughput ubinder "$dir/binder" 128 "$t" "$tput_seconds")
			cpu1=$(daemon_cpu_ticks "$pid")
			# "SCENARIO tput-ubinder[-socket] THREADS CALLS_PER_S DAEMON_NS_PER_CALL"
			echo "$scenario tput-ubinder$suffix $t $rate $(awk -v c=$((cpu1 - cpu0)) -v hz="$(getconf CLK_TCK)" \
				-v r="$rate" -v s="$tput_seconds" 'BEGIN { printf "%.0f", c * 1e9 / hz / (r * s) }')" >> "$results"
		done
		echo "$scenario tput-unix $t $("$@" "$lib_bench" throughput unix 128 "$t" "$tput_seconds") 0" >> "$results"
	done
	kill "$pid"; wait "$pid" 2>/dev/null || true
	pid=
	if [[ -z $dbus_note ]]; then
		# The session configuration; its fd-limit warning needs root to avoid.
		"$@" dbus-daemon --session --nofork --address="unix:path=$dir/bus" 2>/dev/null &
		bus_pid=$!
		sleep 0.3
		for p in "${payloads[@]}"; do
			echo "$scenario $("$@" "$dbus_bench" "unix:path=$dir/bus" "$p" "$iterations")" >> "$results"
		done
		kill "$bus_pid"; wait "$bus_pid" 2>/dev/null || true
		bus_pid=
	fi
	if [[ -z $floor_note ]]; then
		# "NAME median X us p99 Y us" per design, 128-byte messages.
		"$@" "$hop_floor" "$iterations" |
			awk -v s="$scenario" '{printf "%s floor-%s 128 %.0f %.0f\n", s, $1, $3 * 1000, $6 * 1000}' >> "$results"
	fi
}
for ((r = 1; r <= runs; r++)); do
	results=$dir/results-$r.txt
	: > "$results"
	for scenario in "${scenarios[@]}"; do
		case $scenario in
		same-core) run same-core taskset -c 0 ;;
		unpinned) run unpinned env ;;
		*) echo "unknown scenario $scenario" >&2; exit 2 ;;
		esac
	done
done
# The tables show the first run (and the kernel's reference joins it).
results=$dir/results-1.txt

# The kernel driver: one boot, one vCPU (as same-core), every payload.
vm_note="not run (binder VM or static builds unavailable)"
if [[ -z ${NO_VM:-} && -x $vm && -x $build/bench/ipc/bench-ioctl-static && -x $build/bench/ipc/bench-ipc-static ]] &&
	"$vm" prepare >/dev/null 2>&1; then
	{
		echo '#!/bin/sh'
		echo 'echo "@@kernel $(uname -r)"'
		for p in "${payloads[@]}"; do
			echo "/bench-ipc-static $(unix_mode "$p") $p $vm_iterations | sed 's/^/@@ /'"
			echo "/bench-ioctl-static $p $vm_iterations /dev/binder | sed 's/^/@@ /'"
		done
	} > "$dir/vm-run.sh"
	chmod +x "$dir/vm-run.sh"
	if BINDER_VM_CPUS=1 BINDER_VM_FILES="$build/bench/ipc/bench-ioctl-static $build/bench/ipc/bench-ipc-static" \
		"$vm" run "$dir/vm-run.sh" > "$dir/vm-console" 2>&1; then
		sed -n 's/^@@ /kernel-vm /p' "$dir/vm-console" >> "$results"
		vm_note="Debian's kernel $(sed -n 's/^@@kernel //p' "$dir/vm-console") under QEMU TCG, 1 vCPU, $vm_iterations calls"
	else
		vm_note="failed (binder-vm status $?)"
	fi
fi

# cell SCENARIO MODE PAYLOAD: sets $text ("median / p99" in µs) and $median (ns).
# MODE "unix" stands for either AF_UNIX mode. Not for $(...): it sets globals.
cell() {
	local line p99
	line=$(awk -v s="$1" -v m="$2" -v p="$3" '$1==s && ($2==m || (m=="unix" && $2 ~ /^unix/)) && $3==p {print $4, $5; exit}' "$results")
	read -r median p99 <<< "${line:-0 0}"
	text=$(awk -v m="$median" -v q="$p99" 'BEGIN { if (m > 0) printf "%.1f / %.1f", m/1000, q/1000; else printf "-" }')
}
dbus_text=$dbus_note
[[ -n $dbus_text ]] || dbus_text="dbus-daemon $(dbus-daemon --version | awk 'NR==1 {print $NF}'), its session configuration"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0 && a > 0) printf "%.2fx", a/b; else printf "-" }'; }

# med FILE SCENARIO MODE KEY: the median in ns (calls/s for tput-*), or nothing.
med() {
	awk -v s="$2" -v m="$3" -v p="$4" \
		'$1==s && ($2==m || (m=="unix" && $2 ~ /^unix/)) && $3==p && $4 > 0 {print $4; exit}' "$1"
}
# The mode measuring the same as MODE over the sockets only (baselines stay).
socket_mode() { case $1 in unix | dbus | tput-unix) echo "$1" ;; *) echo "$1-socket" ;; esac; }
# target_row WHAT SCENARIO A B KEY OP LIMIT TARGET: one row of the targets
# table: A's figure over B's at KEY (payload or threads) in every run, for
# the default transport and for the socket, and whether OP LIMIT holds.
target_row() {
	local what=$1 sc=$2 a=$3 b=$4 key=$5 op=$6 limit=$7 target=$8 r f q m
	local ring=() sock=() yes=0 no=0 met
	for ((r = 1; r <= runs; r++)); do
		f=$dir/results-$r.txt
		for m in default socket; do
			if [[ $m == default ]]; then
				q=$(ratio "$(med "$f" "$sc" "$a" "$key")" "$(med "$f" "$sc" "$b" "$key")")
				ring+=("$q")
				[[ $q == - ]] && continue
				if awk -v q="${q%x}" -v l="$limit" -v op="$op" \
					'BEGIN { exit !((op == "<=" && q <= l) || (op == ">=" && q >= l)) }'; then
					yes=$((yes + 1))
				else
					no=$((no + 1))
				fi
			else
				sock+=("$(ratio "$(med "$f" "$sc" "$(socket_mode "$a")" "$key")" \
					"$(med "$f" "$sc" "$(socket_mode "$b")" "$key")")")
			fi
		done
	done
	if ((yes + no == 0)); then met="not measured"
	elif ((no == 0)); then met=yes
	elif ((yes == 0)); then met=no
	else met="in $yes of $((yes + no)) runs"
	fi
	local IFS=/
	echo "| $what | $sc | $target | ${ring[*]} | $met | ${sock[*]} |"
}

{
	echo "# IPC round-trip latency: ubinder vs AF_UNIX"
	echo
	echo "A synchronous call carrying PAYLOAD bytes and its reply of the same size (the"
	echo "replier frees the request and replies in one write; the caller frees the"
	echo "previous reply with its next call, as libbinder does), against an AF_UNIX"
	echo "ping-pong of the same payload (SOCK_SEQPACKET up to 64 KiB, SOCK_STREAM above)"
	echo "measured in the same run. Cells: median / p99 in µs over $chunks chunks of"
	echo "$chunk_iterations calls (each after 200 warm-up calls; every client, AF_UNIX included,"
	echo "runs once per chunk, in turn): the median of the chunks' medians and of their"
	echo "p99s, so that a burst of load spoils a chunk rather than a figure;"
	echo "ratio = median / AF_UNIX median (lower is better)."
	echo
	echo "- transports: every ubinder column below uses the client's default transport, the"
	echo "  shared-memory rings where the daemon offers them ($rings_note);"
	echo "  the tables \"ring against socket\" run the same binaries with UBINDER_TRANSPORT=socket"
	echo "  (the thread sockets only) beside them, in the same run."
	echo "- ubinder: raw Binder commands through lib/transport and ubinderd."
	echo "- native: the same with replies held for the next read and the outbox (docs/protocol.md)."
	echo "- ioctl: bench-ioctl, a program written only against the kernel API, under ubinder-run;"
	echo "  ioctl/native is its median over native's."
	echo "- seccomp: the same program (statically linked) under ubinder-run --seccomp: no library,"
	echo "  the daemon serves its trapped system calls (docs/emulation.md, SECCOMP)."
	echo "- fuse: the same program in a mount namespace whose /dev/binder is ubinderd's FUSE"
	echo "  device (docs/emulation.md, FUSE)${fuse_note:+: not run, $fuse_note}."
	echo "- D-Bus: bench-dbus, a method call echoing the payload through dbus-daemon with"
	echo "  sd-bus on both sides: $dbus_text."
	echo
	echo "- machine: $(nproc) vCPU ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr); shared and noisy"
	echo "- load: other work ran on the machine during the run; compare the ratios within"
	echo "  this run, not absolute figures across runs."
	echo "- date: $(date -u +%Y-%m-%d)"
	echo "- command: \`RUNS=$runs CHUNKS=$chunks PAYLOADS=\"${payloads[*]}\" SCENARIOS=\"${scenarios[*]}\" bench/ipc.sh $build $iterations\`"
	echo "- runs: $runs; the tables show the first, the targets table every run"
	echo
	echo "## targets of issue 12"
	echo
	echo "Ratios within one run (median over median; throughput: calls/s over calls/s),"
	echo "each run's figure in turn (run 1 / run 2 / ...). met: whether the default"
	echo "transport's figure meets the target in every run; the socket column is the same"
	echo "measure with UBINDER_TRANSPORT=socket, for comparison. Why a target is missed:"
	echo "\"What limits it\" below."
	echo
	echo "| measure | scenario | target | ring | met | socket |"
	echo "|---|---|---|---|---|---|"
	target_row "native, 128 B" same-core ubinder-native unix 128 '<=' 2.0 "≤ 2.0x AF_UNIX"
	target_row "native, 4 KiB" same-core ubinder-native unix 4096 '<=' 2.0 "≤ 2.0x AF_UNIX"
	target_row "native, 128 B" same-core ubinder-native unix 128 '<=' 1.7 "moonshot: ≤ 1.7x (futex floor)"
	target_row "emulation, 128 B" same-core ioctl unix 128 '<=' 2.3 "≤ 2.3x AF_UNIX"
	target_row "emulation, 4 KiB" same-core ioctl unix 4096 '<=' 2.3 "≤ 2.3x AF_UNIX"
	target_row "emulation / native, 128 B" same-core ioctl ubinder-native 128 '<=' 1.2 "≤ 1.2x native"
	target_row "emulation / native, 4 KiB" same-core ioctl ubinder-native 4096 '<=' 1.2 "≤ 1.2x native"
	target_row "raw transport, 128 B" same-core ubinder unix 128 '<=' 2.3 "≤ 2.3x AF_UNIX"
	target_row "raw transport, 4 KiB" same-core ubinder unix 4096 '<=' 2.3 "≤ 2.3x AF_UNIX"
	target_row "native, 64 KiB" same-core ubinder-native unix 65536 '<=' 1.5 "≤ 1.5x AF_UNIX"
	target_row "emulation, 64 KiB" same-core ioctl unix 65536 '<=' 1.5 "≤ 1.5x AF_UNIX"
	target_row "native, 1 MiB" same-core ubinder-native unix 1048576 '<=' 0.33 "≥ 3x faster than AF_UNIX stream (≤ 0.33x)"
	target_row "emulation, 1 MiB" same-core ioctl unix 1048576 '<=' 0.77 "≥ 1.3x faster (≤ 0.77x)"
	target_row "native / D-Bus, 128 B" same-core ubinder-native dbus 128 '<=' 0.3 "≤ 0.3x dbus-daemon + sd-bus"
	target_row "emulation / D-Bus, 128 B" same-core ioctl dbus 128 '<=' 0.3 "≤ 0.3x dbus-daemon + sd-bus"
	target_row "throughput, 16 threads" same-core tput-ubinder tput-unix 16 '>=' 0.8 "≥ 0.8x AF_UNIX"
	target_row "throughput, 16 threads" same-core tput-ubinder tput-unix 16 '>=' 1.0 "moonshot: ≥ 1.0x"
	target_row "native, 128 B" unpinned ubinder-native unix 128 '<=' 1.0 "reported; moonshot ≤ 1.0x AF_UNIX unpinned"
	target_row "emulation, 128 B" unpinned ioctl unix 128 '<=' 1.0 "reported; moonshot ≤ 1.0x AF_UNIX unpinned"
	echo
	for scenario in "${scenarios[@]}"; do
		echo "## $scenario"
		echo
		echo "| payload | AF_UNIX | D-Bus | ratio | ubinder | ratio | native | ratio | ioctl | ratio | ioctl/native | seccomp | ratio | fuse | ratio |"
		echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
		for p in "${payloads[@]}"; do
			cell $scenario unix "$p"
			row="| $p B | $text |"
			base=$median
			for mode in dbus ubinder ubinder-native ioctl; do
				cell $scenario $mode "$p"
				row+=" $text | $(ratio "$median" "$base") |"
				[[ $mode == ubinder-native ]] && native=$median
			done
			row+=" $(ratio "$median" "$native") |"
			cell $scenario seccomp "$p"
			row+=" $text | $(ratio "$median" "$base") |"
			cell $scenario fuse "$p"
			echo "$row $text | $(ratio "$median" "$base") |"
		done
		echo
		echo "### $scenario: ring against socket"
		echo
		echo "The default transport (ring) and UBINDER_TRANSPORT=socket, each client in turn at"
		echo "each payload; ratio = median / the AF_UNIX median above; socket/ring = the"
		echo "socket's median over the ring's (above 1: the ring is faster)."
		echo
		echo "| payload | ubinder ring | ratio | ubinder socket | ratio | native ring | ratio | native socket | ratio | socket/ring | ioctl ring | ratio | ioctl socket | ratio | socket/ring | ioctl/native ring | ioctl/native socket |"
		echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
		for p in "${payloads[@]}"; do
			cell $scenario unix "$p"
			base=$median
			row="| $p B |"
			for mode in ubinder ubinder-socket ubinder-native ubinder-native-socket ioctl ioctl-socket; do
				cell $scenario $mode "$p"
				row+=" $text | $(ratio "$median" "$base") |"
				case $mode in
				ubinder-native) native=$median ;;
				ubinder-native-socket) native_socket=$median; row+=" $(ratio "$median" "$native") |" ;;
				ioctl) ioctl=$median ;;
				ioctl-socket) row+=" $(ratio "$median" "$ioctl") | $(ratio "$ioctl" "$native") | $(ratio "$median" "$native_socket") |" ;;
				esac
			done
			echo "$row"
		done
		echo
	done
	echo "## floor of a brokered call"
	echo
	if [[ -n $floor_note ]]; then
		echo "Not run: $floor_note."
	else
		echo "hop-floor (the shared tools' hop-floor.c, built by this script): 128-byte"
		echo "messages through bare chains with no processing, $iterations round trips after"
		echo "500 warm-up ones; ratio = median / the 2-hop AF_UNIX ping-pong (unix2) of the"
		echo "same scenario, and / bench-ipc's AF_UNIX at 128 B above."
		echo
		echo "| scenario | design | median / p99 µs | vs unix2 | vs AF_UNIX 128 B |"
		echo "|---|---|---|---|---|"
		for scenario in "${scenarios[@]}"; do
			cell $scenario floor-unix2 128
			floor_base=$median
			cell $scenario unix 128
			unix_base=$median
			for design in unix2 unix4 futex2 futex4 efd4; do
				cell $scenario floor-$design 128
				echo "| $scenario | $design | $text | $(ratio "$median" "$floor_base") | $(ratio "$median" "$unix_base") |"
			done
		done
		echo
		echo "unix2: AF_UNIX SEQPACKET ping-pong (2 hops); unix4: client → broker → server"
		echo "→ broker → client over AF_UNIX SEQPACKET; futex2/futex4: the same over futex"
		echo "words in shared memory; efd4: the 4-hop chain over eventfds."
	fi
	echo
	if ((${#tput_threads[@]})); then
		echo "## throughput"
		echo
		echo "128-byte calls per second summed over the client threads of one process, each"
		echo "calling for $tput_seconds s after 200 warm-up calls: libubinder (the native path,"
		echo "bench/lib/bench-ipc-lib.c: a proxy's transact to the context manager, served by"
		echo "its thread pool of up to 16 threads) against AF_UNIX SEQPACKET ping-pong with"
		echo "one server thread per client thread; ratio = ubinder / AF_UNIX (higher is"
		echo "better). Daemon CPU: ubinderd's utime + stime over the ubinder figure, per call."
		echo "ring: the default transport; socket: the same with UBINDER_TRANSPORT=socket, measured"
		echo "right after it at the same thread count."
		echo
		echo "| scenario | client threads | AF_UNIX calls/s | ring calls/s | ratio | daemon CPU µs/call | socket calls/s | ratio | daemon CPU µs/call |"
		echo "|---|---|---|---|---|---|---|---|---|"
		for scenario in "${scenarios[@]}"; do
			for t in "${tput_threads[@]}"; do
				cell $scenario tput-unix "$t"
				x=$median
				row="| $scenario | $t | $x |"
				for mode in tput-ubinder tput-ubinder-socket; do
					cell $scenario $mode "$t"
					u=$median
					cpu=$(awk -v s="$scenario" -v m=$mode -v t="$t" '$1==s && $2==m && $3==t {printf "%.1f", $5/1000; exit}' "$results")
					row+=" $u | $(ratio "$u" "$x") | ${cpu:--} |"
				done
				echo "$row"
			done
		done
		echo
	fi
	echo "## reference: the kernel's Binder driver"
	echo
	echo "bench-ioctl (the same program as the ioctl column) against the real driver, and"
	echo "bench-ipc's AF_UNIX mode, in one VM boot: $vm_note. Software emulation"
	echo "makes the absolute figures meaningless; the ratio shows what the kernel driver"
	echo "itself costs over AF_UNIX on the same (emulated) machine."
	echo
	echo "| payload | AF_UNIX | kernel Binder | ratio |"
	echo "|---|---|---|---|"
	for p in "${payloads[@]}"; do
		cell kernel-vm unix "$p"
		row="| $p B | $text |"
		base=$median
		cell kernel-vm ioctl "$p"
		echo "$row $text | $(ratio "$median" "$base") |"
	done
	cat <<'TEXT'

## What limits it

- Small payloads, same core: with the rings a call is four hand-overs through
  the broker (client, daemon, server, daemon, client), each an eventfd
  doorbell or a futex wake on shared memory, and four context switches.
  Counted per call (strace, perf stat): the daemon makes about 2.2
  epoll_wait and 2.2 FUTEX_WAKE, the clients 2.2 doorbell writes and 2.2
  FUTEX_WAIT, as many as the bare four-hop futex chain (hop-floor's futex4,
  1.4-1.8x AF_UNIX here). A cpu-clock profile puts 84 % of the daemon's
  samples in the kernel, 60 % in finish_task_switch alone, and its own code
  at 9.5 %: native's 2.0-2.3x is the floor's four switches plus the
  library's and the daemon's work per hop, and no allocation or clock read
  left to remove is worth more than 0.5 µs (docs/architecture.md).
- The emulation over native: the kernel API returns a replier's
  BR_TRANSACTION_COMPLETE from the ioctl that carries its BC_REPLY. The
  daemon now promises that outcome beforehand where its state makes it
  certain, with a ticket in the replier's ring and room reserved in the
  caller's region (docs/protocol.md, "The local completion"), and the
  emulation returns the completion without waiting: on one CPU, 128 B calls
  went from 1.28-1.32x native to 1.15-1.20x in interleaved runs
  (bench/results/localtc-ab.md). Replies it does not cover (larger than
  the room offered, which follows the thread's last reply up to 256 KiB,
  with objects, or when a BR_SPAWN_LOOPER could be due) still sleep
  once more per call than a native looper, which holds the completion for
  its next read. The lazy read (docs/protocol.md) removed the doorbell of
  the replier's next, pure read (doorbells per call 2.45 -> 1.98).
- Unpinned: cross-core wake-ups cost 30-60 µs on this VM. The daemon polls
  the rings it just served and every party spins up to 30 µs, yielding,
  before it sleeps (--spin, UBINDER_SPIN; never on a thread bound to one
  CPU, and not while the spins miss), so a call crosses cores with no
  wake-up at all when a core is free. The AF_UNIX reference is itself
  bimodal unpinned (9-13 µs when its two processes share a CPU, 50-100 µs
  when they do not), so the unpinned ratio moves with where the scheduler
  put it.
- Throughput: the daemon's CPU per call (6-11 µs same core) is mostly the
  kernel's switching and waking (two thirds of its samples); the ratio at
  16 client threads moves with the machine's other load (0.6x to 1.1x for
  the same build on one day). The daemon sends the wake-ups a batch owes
  in one io_uring submission (two per FUTEX_WAKE_OP where io_uring cannot),
  which cut its preemptions by the wakees from 0.8 to 0.13 per call and the
  context switches from 3.0 to 2.3 per call (AF_UNIX: 2.05), and polls the
  latest 32 rings it served, which halved the doorbells at 16 threads (2.0
  to 1.0 per call). Scheduling the daemon
  otherwise (SCHED_BATCH, a longer EEVDF slice, nice -5 to -20) changed the
  switches per call but not the calls per second
  (bench/results/throughput-notes.md).
- Large payloads: native clients build the payload in the outbox, and the
  emulation stages transactions of 16 KiB and more there with its guarded
  copy (docs/emulation.md), so the daemon copies once with memcpy from a
  mapping it holds: at 64 KiB as many copies as AF_UNIX makes, and what is
  left over it is the emulation's fixed cost per call and its staging
  copy on each side, from the program's memory, which the daemon does not
  map, into the outbox (bench/results/call-cost-64k.md). AF_UNIX copies twice
  per message (into the socket buffer and out of it), which is why 1 MiB is
  several times faster through ubinder.

## libubinder

Round trips through the client library (parcels, proxies, the thread pool)
and throughput with 1, 4 and 16 client threads, each against AF_UNIX in the
same run: bench/results/ipc-lib.md (`bench/lib/ipc-lib.sh`).
TEXT
} > "$out"

if [[ $out == bench/results/ipc.md ]] && command -v gnuplot >/dev/null; then
	# Same-core ratios to AF_UNIX against the payload.
	for mode in dbus ubinder ubinder-native ioctl ubinder-native-socket ioctl-socket; do
		awk -v m=$mode '$1=="same-core" && $2 ~ /^unix/ {u[$3]=$4}
			$1=="same-core" && $2==m {r[$3]=$4}
			END {for (p in r) if (u[p]) print (p + 0 ? p : 1), r[p]/u[p]}' "$results" | sort -n > "$dir/$mode.dat"
	done
	awk '$1=="kernel-vm" && $2 ~ /^unix/ {u[$3]=$4} $1=="kernel-vm" && $2=="ioctl" {r[$3]=$4}
		END {for (p in r) if (u[p]) print (p + 0 ? p : 1), r[p]/u[p]}' "$results" | sort -n > "$dir/kernel.dat"
	gnuplot <<PLOT
set terminal pngcairo size 900,500 noenhanced
set output "bench/results/ipc.png"
set title "Round trip, same core: median latency / AF_UNIX median (lower is better; dotted: sockets only)"
set logscale x
set xrange [0.7:2e6]
set xlabel "payload (bytes; 0 plotted at 1)"
set ylabel "ratio to AF_UNIX"
set key right top
set grid
plot "$dir/dbus.dat" w lp t "dbus-daemon + sd-bus", \
     "$dir/ubinder.dat" w lp t "ubinder (transport)", \
     "$dir/ubinder-native.dat" w lp t "ubinder native", \
     "$dir/ioctl.dat" w lp t "kernel API under ubinder-run", \
     "$dir/ubinder-native-socket.dat" w lp dt 3 t "ubinder native, UBINDER_TRANSPORT=socket", \
     "$dir/ioctl-socket.dat" w lp dt 3 t "kernel API under ubinder-run, UBINDER_TRANSPORT=socket", \
     "$dir/kernel.dat" w lp t "kernel Binder driver (VM, reference)", \
     1 w l dt 2 lc rgb "gray" t "AF_UNIX"
PLOT
	if ((${#tput_threads[@]})); then
		for m in ubinder ubinder-socket unix; do
			awk -v m=tput-$m '$1=="same-core" && $2==m {print $3, $4}' "$results" | sort -n > "$dir/tput-$m.dat"
		done
		gnuplot <<PLOT
set terminal pngcairo size 900,500 noenhanced
set output "bench/results/ipc-throughput.png"
set title "Throughput, same core: 128-byte calls per second (higher is better)"
set logscale x 2
set xrange [0.8:80]
set xlabel "client threads"
set ylabel "calls/s"
set yrange [0:*]
set key right top
set grid
plot "$dir/tput-unix.dat" w lp t "AF_UNIX SEQPACKET ping-pong", \
     "$dir/tput-ubinder.dat" w lp t "ubinder native (libubinder), default transport", \
     "$dir/tput-ubinder-socket.dat" w lp dt 3 t "ubinder native (libubinder), UBINDER_TRANSPORT=socket"
PLOT
	fi
fi
cat "$out"
