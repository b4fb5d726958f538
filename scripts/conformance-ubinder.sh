#!/usr/bin/env bash
# The conformance suite against ubinderd, through the /dev/binder emulation
# (docs/emulation.md).
#
#   scripts/conformance-ubinder.sh [--seccomp | --fuse] BUILD_DIR [NAME...]
#
# With --seccomp, through the seccomp path instead (ubinder-run --seccomp):
# the statically linked NAME-static programs (NAME where the build has no
# static ones; meson runs it only in builds that have them), results in BUILD_DIR/conformance/seccomp, expected
# transcripts and KNOWN-FAILURES in tests/conformance/expected-seccomp (then
# expected-ubinder: the daemon's own differences show through both paths),
# the summary in BUILD_DIR/conformance/seccomp-summary.
#
# With --fuse, through the FUSE devices (ubinderd --fuse-dev, root only):
# the same static programs, each in a private mount namespace whose /dev is
# a tmpfs with the FUSE mount bind-mounted at /dev/binderfs and /dev/binder,
# /dev/hwbinder, /dev/vndbinder symlinks into it (as binderfs is set up);
# expected transcripts in tests/conformance/expected-fuse, results in
# BUILD_DIR/conformance/fuse. Skipped where FUSE cannot be mounted.
#
# Starts a private ubinderd (BUILD_DIR/src/daemon/ubinderd, contexts binder,
# hwbinder and vndbinder, sockets in a temporary folder), then runs each
# dynamically linked program BUILD_DIR/tests/conformance/NAME through
# BUILD_DIR/preload/ubinder-run, one at a time and in the order the kernel run
# uses (one daemon for the whole run, as one VM boot serves the kernel run).
#
# The transcript (output + "exit N") goes to BUILD_DIR/conformance/ubinder/NAME.txt
# and is compared with tests/conformance/expected-ubinder/NAME.txt when that
# exists (an intentional difference, explained in docs/conformance.md), else
# with tests/conformance/expected/NAME.txt (the kernel's). Differences go to
# NAME.diff, the daemon's log to ubinderd.log, and
# BUILD_DIR/conformance/ubinder-summary gets "PASSED FAILED".
#
# The client transport is the preload's default (the shared-memory rings where
# the daemon offers them); with UBINDER_TRANSPORT=socket in the environment
# (`meson test --setup socket`, the second pass of scripts/test.sh) every
# program keeps to its thread sockets, and the results go to
# BUILD_DIR/conformance/MODE-socket (summary MODE-socket-summary), compared
# with the same expected transcripts: both transports must show the kernel's.
#
# tests/conformance/expected-ubinder/KNOWN-FAILURES lists programs that fail
# because of a known daemon bug (filed as an issue): they still count
# as FAILED, but are reported as KNOWN and do not make the exit status
# non-zero. A known failure that passes is reported (remove it from the list).
#
# Bounds: each program 90 s (UBINDER_CONF_TIMEOUT; its own alarm() of 20-60 s
# comes first), the whole run 540 s (UBINDER_CONF_BUDGET), as the VM run; every
# process is reaped, the daemon stopped and the temporary folder removed on any
# exit. A program that exits 77 skipped itself (ctxmgr-uid when not root).
#
# Exit status 0 when nothing failed unexpectedly. If the build lacks ubinderd,
# ubinder-run or the preload library, the run is skipped with summary "0 0"
# and status 0 (77 with --strict).
set -uo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
source "$src/scripts/conformance-lib.sh"
source "$src/tests/lib/tap.sh" # stop_pids
strict=0
seccomp=0
fuse=0
build=
only=()
for arg; do
	case $arg in
	--strict) strict=1 ;;
	--seccomp) seccomp=1 ;;
	--fuse) fuse=1 ;;
	-h | --help) sed -n '2,53p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) echo "conformance-ubinder: unknown option $arg" >&2; exit 2 ;;
	*) [[ -z $build ]] && build=$arg || only+=("$arg") ;;
	esac
done
build=$(conformance_build conformance-ubinder "scripts/conformance-ubinder.sh [--seccomp | --fuse] BUILD_DIR [NAME...]" "$build") || exit 2

out=$build/conformance
mode=ubinder
((seccomp)) && mode=seccomp
((fuse)) && mode=fuse
# Results of the socket transport apart, so that neither pass overwrites the other's.
label=$mode
[[ ${UBINDER_TRANSPORT:-} == socket ]] && label=$mode-socket
res=$out/$label
mkdir -p "$out"
summary() { echo "$1 $2" > "$out/$label-summary"; }
# Transcripts that differ from the kernel's on purpose (docs/conformance.md).
differs=$src/tests/conformance/expected-$mode
skip() {
	echo "conformance-ubinder: SKIPPED ($*)"
	summary 0 0
	((strict)) && exit 77
	exit 0
}

daemon=$build/src/daemon/ubinderd
run=$build/preload/ubinder-run
bindir=$build/tests/conformance
[[ -x $daemon ]] || skip "no $daemon"
[[ -x $run ]] || skip "no $run"
((seccomp || fuse)) || [[ -f $build/preload/libubinder-preload.so ]] || skip "no libubinder-preload.so"
if ((fuse)); then
	[[ $(id -u) == 0 ]] || skip "FUSE mounts need root"
	[[ -c /dev/fuse ]] || skip "no /dev/fuse"
	unshare -m true 2>/dev/null || skip "no mount namespaces (unshare -m)"
fi
per_program=${UBINDER_CONF_TIMEOUT:-90}
budget=${UBINDER_CONF_BUDGET:-540}

mapfile -t names < <(conformance_programs "$src" "${only[@]}")
((${#names[@]})) || { echo "conformance-ubinder: no programs selected" >&2; summary 0 1; exit 1; }

# Known failures: "NAME reason..." lines.
declare -A known=()
if [[ -f $differs/KNOWN-FAILURES ]]; then
	while read -r n reason; do
		[[ -z $n || $n == \#* ]] && continue
		known[$n]=$reason
	done < "$differs/KNOWN-FAILURES"
fi

# Programs this path cannot run at all: "NAME reason..." lines in SKIP.
declare -A skipped_here=()
if [[ -f $differs/SKIP ]]; then
	while read -r n reason; do
		[[ -z $n || $n == \#* ]] && continue
		skipped_here[$n]=$reason
	done < "$differs/SKIP"
fi

rm -rf "$res"
mkdir -p "$res"
tmp=$(mktemp -d /tmp/ubconf.XXXXXX) || exit 1
# Other uids reach the sockets (0666) as they reach the device nodes that
# ctxmgr-uid chmods in the VM.
chmod 0755 "$tmp"
daemon_pid=
prog_pid=

stop_daemon() {
	[[ -n $daemon_pid ]] || return 0
	stop_pids "$daemon_pid"
	daemon_pid=
}
cleanup() {
	if [[ -n $prog_pid ]]; then
		# timeout passes the signal on to the program's process group.
		kill -TERM "$prog_pid" 2>/dev/null
		wait "$prog_pid" 2>/dev/null
	fi
	stop_daemon
	# A dead server's mount fails mountpoint(1) too (ENOTCONN): always detach.
	((fuse)) && umount -l "$tmp/dev" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_daemon() {
	local fuse_args=()
	rm -f "$tmp"/binder "$tmp"/hwbinder "$tmp"/vndbinder
	if ((fuse)); then
		umount -l "$tmp/dev" 2>/dev/null
		mkdir -p "$tmp/dev"
		fuse_args=(--fuse-dev "$tmp/dev")
	fi
	"$daemon" --socket "$tmp/binder" -c binder -c hwbinder -c vndbinder "${fuse_args[@]}" \
		>> "$res/ubinderd.log" 2>&1 < /dev/null &
	daemon_pid=$!
	for _ in $(seq 100); do
		[[ -S $tmp/binder && -S $tmp/hwbinder && -S $tmp/vndbinder ]] &&
			{ ((!fuse)) || mountpoint -q "$tmp/dev"; } && return 0
		kill -0 "$daemon_pid" 2>/dev/null || break
		sleep 0.1
	done
	echo "conformance-ubinder: ubinderd did not start; log tail:"
	tail -5 "$res/ubinderd.log"
	stop_daemon
	return 1
}

start_daemon || { summary 0 ${#names[@]}; exit 1; }

t0=$SECONDS
for n in "${names[@]}"; do
	got=$res/$n.txt
	prog=$bindir/$n
	launch=("$run" -s "$tmp")
	if ((seccomp)); then
		[[ -x $bindir/$n-static ]] && prog=$bindir/$n-static
		launch+=(--seccomp)
	elif ((fuse)); then
		[[ -x $bindir/$n-static ]] && prog=$bindir/$n-static
		launch=("$src/scripts/fuse-namespace.sh" "$tmp/dev")
	fi
	if [[ ! -x $prog ]]; then
		printf 'missing build %s\n' "$prog" > "$got"
		continue
	fi
	if [[ -n ${skipped_here[$n]+x} ]]; then
		printf '%s (%s)\nexit 77\n' "${skipped_here[$n]}" "$differs/SKIP" > "$got"
		continue
	fi
	left=$((budget - (SECONDS - t0)))
	if ((left <= 0)); then
		echo "the run's time budget of $budget s was used up before $n" > "$got"
		continue
	fi
	if ! kill -0 "$daemon_pid" 2>/dev/null; then
		echo "conformance-ubinder: ubinderd died before $n; restarting it" | tee -a "$res/ubinderd.log"
		wait "$daemon_pid" 2>/dev/null
		daemon_pid=
		start_daemon || break
	fi
	limit=$((per_program < left ? per_program : left))
	# A fresh working folder; timeout kills the program's whole process group.
	mkdir -p "$tmp/work-$n"
	(cd "$tmp/work-$n" && exec timeout -k 5 "$limit" "${launch[@]}" "$prog") \
		> "$got" 2>&1 < /dev/null &
	prog_pid=$!
	wait "$prog_pid"
	echo "exit $?" >> "$got"
	prog_pid=
done

passed=0
failed=0
unexpected=0
skipped=0
for n in "${names[@]}"; do
	exp=$differs/$n.txt
	# The daemon's own differences show through either path.
	[[ -f $exp ]] || exp=$src/tests/conformance/expected-ubinder/$n.txt
	[[ -f $exp ]] || exp=$src/tests/conformance/expected/$n.txt
	transcript_verdict "$res/$n.txt" "$exp" "$label/$n.txt" "$res/$n.diff"
	if [[ $verdict == SKIP ]]; then
		echo "SKIP $n: $why"
		skipped=$((skipped + 1))
	elif [[ $verdict == PASS ]]; then
		passed=$((passed + 1))
		if [[ -n ${known[$n]+x} ]]; then
			echo "PASS $n (listed in KNOWN-FAILURES: remove it there)"
		else
			echo "PASS $n"
		fi
	elif [[ -n ${known[$n]+x} ]]; then
		failed=$((failed + 1))
		echo "KNOWN-FAIL $n: $why; ${known[$n]}"
	else
		failed=$((failed + 1))
		unexpected=$((unexpected + 1))
		echo "FAIL $n: $why"
		[[ -f $res/$n.diff ]] && cat "$res/$n.diff"
	fi
done
summary "$passed" "$failed"
echo "conformance ($label): $passed passed, $failed failed ($((failed - unexpected)) known), $skipped skipped, $((SECONDS - t0)) s"
((unexpected == 0))
