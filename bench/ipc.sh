#!/usr/bin/env bash
# IPC round-trip latency of ubinder against AF_UNIX ping-pong of the same
# payload, measured in the same run, same-core (every process on CPU 0) and
# unpinned (design.md section 7). Three ubinder clients:
#   ubinder         the raw Binder protocol through lib/transport (bench-ipc);
#   ubinder-native  the same with the native fast paths: replies held for the
#                   next read (UBW_WR_HOLD_COMPLETE) and the outbox (one copy
#                   by the daemon from a shared send buffer);
#   ioctl           an unmodified kernel-API program (open/mmap/ioctl,
#                   bench-ioctl) under ubinder-run, the /dev/binder emulation.
# For reference, when the binder VM is available, the kernel's own Binder
# driver against AF_UNIX inside one VM boot with one vCPU (software emulation:
# only the ratio means something).
# Writes bench/results/ipc.md and bench/results/ipc.png (gnuplot).
#
# usage: bench/ipc.sh [BUILD_DIR] [ITERATIONS]     (default: build, 2000)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
iterations=${2:-2000}
vm_iterations=500
payloads=(0 128 4096 65536 1048576)
bench=$build/bench/ipc/bench-ipc
ioctl_bench=$build/bench/ipc/bench-ioctl
run_preloaded=$build/preload/ubinder-run
daemon=$build/src/daemon/ubinderd
vm=${BINDER_VM:-../shared/tools/binder-vm}
for f in "$bench" "$ioctl_bench" "$run_preloaded" "$daemon"; do
	[[ -x $f ]] || { echo "build first: meson setup $build && ninja -C $build ($f missing)" >&2; exit 2; }
done

dir=$(mktemp -d)
pid=
trap '[[ -n $pid ]] && kill $pid 2>/dev/null; wait 2>/dev/null || true; rm -rf "$dir"' EXIT
results=$dir/results.txt
: > "$results"

unix_mode() { if (($1 > 65536)); then echo unix-stream; else echo unix-seqpacket; fi; }

run() { # scenario prefix...
	local scenario=$1; shift
	"$@" "$daemon" --socket "$dir/binder" &
	pid=$!
	sleep 0.3
	for p in "${payloads[@]}"; do
		echo "$scenario $("$@" "$bench" "$(unix_mode "$p")" "$p" "$iterations")" >> "$results"
		for mode in ubinder ubinder-native; do
			echo "$scenario $("$@" "$bench" "$mode" "$p" "$iterations" "$dir/binder")" >> "$results"
		done
		echo "$scenario $("$@" "$run_preloaded" -s "$dir" "$ioctl_bench" "$p" "$iterations")" >> "$results"
	done
	kill "$pid"; wait "$pid" 2>/dev/null || true
	pid=
}
run same-core taskset -c 0
run unpinned env

# The kernel driver: one boot, one vCPU (as same-core), every payload.
vm_note="not run (binder VM or static builds unavailable)"
if [[ -x $vm && -x $build/bench/ipc/bench-ioctl-static && -x $build/bench/ipc/bench-ipc-static ]] &&
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
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0 && a > 0) printf "%.2fx", a/b; else printf "-" }'; }

out=bench/results/ipc.md
{
	echo "# IPC round-trip latency: ubinder vs AF_UNIX"
	echo
	echo "A synchronous call carrying PAYLOAD bytes and its reply of the same size (the"
	echo "replier frees the request and replies in one write; the caller frees the"
	echo "previous reply with its next call, as libbinder does), against an AF_UNIX"
	echo "ping-pong of the same payload (SOCK_SEQPACKET up to 64 KiB, SOCK_STREAM above)"
	echo "measured in the same run. Cells: median / p99 in µs of $iterations calls after"
	echo "200 warm-up calls; ratio = median / AF_UNIX median (lower is better)."
	echo
	echo "- ubinder: raw Binder commands through lib/transport and ubinderd."
	echo "- native: the same with replies held for the next read and the outbox (docs/protocol.md)."
	echo "- ioctl: bench-ioctl, a program written only against the kernel API, under ubinder-run."
	echo
	echo "- machine: $(nproc) vCPU ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr); shared and noisy"
	echo "- date: $(date -u +%Y-%m-%d)"
	echo "- command: \`bench/ipc.sh $build $iterations\`"
	echo
	for scenario in same-core unpinned; do
		echo "## $scenario"
		echo
		echo "| payload | AF_UNIX | ubinder | ratio | native | ratio | ioctl | ratio |"
		echo "|---|---|---|---|---|---|---|---|"
		for p in "${payloads[@]}"; do
			cell $scenario unix "$p"
			row="| $p B | $text |"
			base=$median
			for mode in ubinder ubinder-native ioctl; do
				cell $scenario $mode "$p"
				row+=" $text | $(ratio "$median" "$base") |"
			done
			echo "$row"
		done
		echo
	done
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

- Small payloads: a brokered call makes four socket hops where AF_UNIX
  ping-pong makes two, and four context switches where it makes two. Per round
  trip the daemon makes exactly six system calls (epoll_wait, recvmsg and
  sendmsg per hop: counted with strace -c), the clients four, as AF_UNIX's.
  Inline payloads already save the process_vm_readv of the naive design
  (design.md section 7); native clients also save the separate
  BR_TRANSACTION_COMPLETE read. On this machine a bare system call costs about
  0.17 µs, so io_uring (one io_uring_enter per hop) would save the entries of
  four calls but not the socket work or the switches: a few percent. The
  remaining lever, shared-memory command rings with futex wake-ups, changes
  the client protocol and still needs the four switches of a broker.
- The emulation (ioctl column) adds the checks the kernel makes on user
  pointers, done with process_vm_readv/writev on the program itself (five per
  BINDER_WRITE_READ, docs/emulation.md), and the replier's second
  BINDER_WRITE_READ for the BR_TRANSACTION_COMPLETE of its reply, which the
  kernel API implies (with the kernel driver too) and native clients avoid.
- Large payloads: native clients build the payload in the outbox and repliers
  forward from their region, so the daemon copies once with memcpy from a
  mapping it holds; the plain transport copies with process_vm_readv on a copy
  worker (pinning the sender's pages), and AF_UNIX copies twice (into the
  socket buffer and out of it).

## libubinder

Round trips through the client library (parcels, proxies, the thread pool)
and throughput with 1, 4 and 16 client threads, each against AF_UNIX in the
same run: bench/results/ipc-lib.md (`bench/lib/ipc-lib.sh`).
TEXT
} > "$out"

if command -v gnuplot >/dev/null; then
	# Same-core ratios to AF_UNIX against the payload.
	for mode in ubinder ubinder-native ioctl; do
		awk -v m=$mode '$1=="same-core" && $2 ~ /^unix/ {u[$3]=$4}
			$1=="same-core" && $2==m {r[$3]=$4}
			END {for (p in r) if (u[p]) print (p + 0 ? p : 1), r[p]/u[p]}' "$results" | sort -n > "$dir/$mode.dat"
	done
	awk '$1=="kernel-vm" && $2 ~ /^unix/ {u[$3]=$4} $1=="kernel-vm" && $2=="ioctl" {r[$3]=$4}
		END {for (p in r) if (u[p]) print (p + 0 ? p : 1), r[p]/u[p]}' "$results" | sort -n > "$dir/kernel.dat"
	gnuplot <<PLOT
set terminal pngcairo size 900,500 noenhanced
set output "bench/results/ipc.png"
set title "Round trip, same core: median latency / AF_UNIX median (lower is better)"
set logscale x
set xrange [0.7:2e6]
set xlabel "payload (bytes; 0 plotted at 1)"
set ylabel "ratio to AF_UNIX"
set key right top
set grid
plot "$dir/ubinder.dat" w lp t "ubinder (transport)", \
     "$dir/ubinder-native.dat" w lp t "ubinder native", \
     "$dir/ioctl.dat" w lp t "kernel API under ubinder-run", \
     "$dir/kernel.dat" w lp t "kernel Binder driver (VM, reference)", \
     1 w l dt 2 lc rgb "gray" t "AF_UNIX"
PLOT
fi
cat "$out"
