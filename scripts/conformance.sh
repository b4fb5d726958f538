#!/usr/bin/env bash
# Differential conformance suite: the programs of tests/conformance/ against a driver.
#
#   scripts/conformance.sh BUILD_DIR [--driver kernel|ubinder] [--keep] [NAME...]
#
# Runs the conformance programs of tests/conformance/ and compares each
# transcript with tests/conformance/expected/NAME.txt (the kernel driver's
# transcript, reviewed). Transcripts land in BUILD_DIR/conformance/DRIVER/NAME.txt,
# diffs in NAME.diff beside them, and BUILD_DIR/conformance/summary gets
# "PASSED FAILED". Exit status is non-zero on any failure.
#
#   --driver kernel   (default) every NAME-static program runs inside ONE boot
#                     of the binder VM (../shared/tools/binder-vm, or
#                     $BINDER_VM), against the kernel's C Binder driver.
#   --driver ubinder  the dynamic builds run through ubinder-run against a
#                     private ubinderd: runs scripts/conformance-ubinder.sh,
#                     which also accepts the reviewed differences in
#                     tests/conformance/expected-ubinder/ (docs/conformance.md).
#   --update          write the transcripts into tests/conformance/expected/
#                     (review the diff before committing!).
#   NAME...           run only these programs.
#
# A transcript ends with the line "exit N" (the program's exit status); 77
# means the program skipped itself. If the VM is unavailable the run is
# skipped with summary "0 0" and exit status 0.
set -uo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
source "$src/scripts/conformance-lib.sh"
build=
driver=kernel
update=0
only=()
while (($#)); do
	case $1 in
	--driver) driver=${2:-}; shift 2 ;;
	--driver=*) driver=${1#--driver=}; shift ;;
	--update) update=1; shift ;;
	-h | --help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) echo "conformance: unknown option $1" >&2; exit 2 ;;
	*) if [[ -z $build ]]; then build=$1; else only+=("$1"); fi; shift ;;
	esac
done
build=$(conformance_build conformance "scripts/conformance.sh BUILD_DIR [--driver kernel|ubinder] [NAME...]" "$build") || exit 2

out=$build/conformance
mkdir -p "$out"
summary() { echo "$1 $2" > "$out/summary"; }
skip() { echo "conformance: SKIPPED ($*)"; summary 0 0; exit 0; }

mapfile -t names < <(conformance_programs "$src" "${only[@]}")
((${#names[@]})) || { echo "conformance: no programs selected" >&2; summary 0 1; exit 1; }

bindir=$build/tests/conformance
case $driver in
kernel)
	vm=${BINDER_VM:-$src/../shared/tools/binder-vm}
	[[ -x $vm ]] || skip "binder-vm not found at $vm"
	command -v qemu-system-x86_64 >/dev/null 2>&1 || skip "qemu-system-x86_64 is not installed"
	[[ -x /bin/busybox ]] || skip "/bin/busybox (static) is not installed"
	"$vm" prepare >/dev/null 2>&1 || skip "binder-vm cannot prepare the kernel"
	;;
ubinder)
	((update == 0)) || { echo "conformance: --update is for the kernel's transcripts only" >&2; exit 2; }
	exec "$src/scripts/conformance-ubinder.sh" "$build" "${only[@]}"
	;;
*) echo "conformance: unknown driver $driver" >&2; exit 2 ;;
esac

res=$out/$driver
rm -rf "$res"
mkdir -p "$res"

# One VM boot runs every program. Each line a program prints is framed as
# "@@|NAME|line" so console noise cannot leak into transcripts.
run_kernel() {
	local stage; stage=$(mktemp -d)
	trap "rm -rf '$stage'" RETURN
	local files=() n
	for n in "${names[@]}"; do
		if [[ ! -x $bindir/$n-static ]]; then
			printf 'missing static build %s\n' "$bindir/$n-static" > "$res/$n.txt"
			continue
		fi
		cp "$bindir/$n-static" "$stage/$n"
		files+=("$stage/$n")
	done
	{
		echo '#!/bin/sh'
		echo 'dmesg -n 1 2>/dev/null'
		echo 'cd /'
		for n in "${names[@]}"; do
			[[ -x $bindir/$n-static ]] || continue
			# Each program runs in a fresh working folder; its output
			# goes to a file first, then is framed line by line.
			printf '/%s > /tmp/%s.out 2>&1 < /dev/null; echo "exit $?" >> /tmp/%s.out\n' "$n" "$n" "$n"
			printf 'sed "s/^/@@|%s|/" /tmp/%s.out\n' "$n" "$n"
		done
		echo 'echo "@@END"'
	} > "$stage/run-all.sh"
	chmod +x "$stage/run-all.sh"
	local console=$stage/console
	local t0=$SECONDS
	BINDER_VM_FILES="${files[*]}" BINDER_VM_TIMEOUT=${BINDER_VM_TIMEOUT:-540} \
		"$vm" run "$stage/run-all.sh" > "$console" 2>&1
	local rc=$?
	echo "conformance: VM run took $((SECONDS - t0)) s (binder-vm status $rc)"
	grep -q '^@@END' "$console" || { echo "conformance: the VM run did not finish; console tail:"; tail -20 "$console"; }
	for n in "${names[@]}"; do
		[[ -f $res/$n.txt ]] && continue
		grep "^@@|$n|" "$console" | sed "s/^@@|$n|//" > "$res/$n.txt"
	done
}

run_kernel

passed=0
failed=0
skipped=0
for n in "${names[@]}"; do
	exp=$src/tests/conformance/expected/$n.txt
	got=$res/$n.txt
	if ((update)); then
		mkdir -p "$(dirname "$exp")"
		cp "$got" "$exp"
	fi
	transcript_verdict "$got" "$exp" "$driver/$n.txt" "$res/$n.diff"
	case $verdict in
	PASS) echo "PASS $n"; passed=$((passed + 1)) ;;
	SKIP) echo "SKIP $n: $why"; skipped=$((skipped + 1)) ;;
	*)
		echo "FAIL $n: $why"
		[[ -f $res/$n.diff ]] && cat "$res/$n.diff"
		failed=$((failed + 1))
		;;
	esac
done
summary "$passed" "$failed"
echo "conformance ($driver): $passed passed, $failed failed, $skipped skipped"
((failed == 0))
