#!/usr/bin/env bash
# Runs the whole ubinder test suite, the way CI does:
#   1. gcc build: unit, integration and tool tests, and the bounded chaos run
#      (45 s, beside the others), with the default client transport (the
#      shared-memory rings where the daemon offers them); then the
#      client-facing suites again over the thread sockets only
#      (`meson test --setup socket`, UBINDER_TRANSPORT=socket: integration,
#      lib, preload and the conformance programs through the preload, about
#      a minute; tests/meson.build says what it leaves out and why);
#   2. clang build with ASan+UBSan: the same tests (chaos for 20 s), plus the
#      libFuzzer targets run for a bounded time;
#   3. the kernel-driver conformance suite, where the binder VM is available.
# Ends with one line "N passed, N failed" and exits non-zero on any failure.
#
# Environment: UBINDER_FUZZ_SECONDS (per fuzz target, default 20),
#              UBINDER_SKIP_VM=1 to leave out the VM phase.
set -uo pipefail
cd "$(dirname "$0")/.."
# Some tests run the daemon as another uid (nobody): it must reach the build
# tree even when the clone sits in a private directory (mktemp -d is 0700).
if [[ $(id -u) == 0 ]]; then chmod go+x . ; fi

scripts/deps.sh --vm || { echo "0 passed, 1 failed"; exit 1; }

passed=0
failed=0
skipped=0

# Adds the results of the last `meson test` in build folder $1 (exit status $2;
# $3 the test setup it ran with, if any: its log is testlog-SETUP) to the totals.
count_results() {
	local log=$1/meson-logs/testlog${3:+-$3}.junit.xml rc=$2 t=0 f=0 e=0 s=0
	if [[ -f $log ]]; then
		read -r t e f < <(sed -n 's/.*<testsuites tests="\([0-9]*\)" errors="\([0-9]*\)" failures="\([0-9]*\)".*/\1 \2 \3/p' "$log" | head -n1)
		s=$(grep -o 'skipped="[0-9]*"' "$log" | tr -dc '0-9\n' | awk '{n += $1} END {print n + 0}')
	fi
	t=${t:-0} e=${e:-0} f=${f:-0} s=${s:-0}
	local bad=$((e + f))
	# A failing run that the log does not explain still counts as one failure.
	if ((rc != 0 && bad == 0)); then bad=1; fi
	passed=$((passed + t - e - f - s))
	if ((bad > 0)); then
		failures+=("$(failed_cases "$log" "${log%.junit.xml}.json" "$1${3:+ --setup $3}")")
	fi
	failed=$((failed + bad))
	skipped=$((skipped + s))
}

failures=()
# Prints "  SUITE: CASE (where)" for each failed or errored test case in the
# junit log $1, and "  SUITE: RESULT (where)" for each test the json log $2
# records as failed with no such case (a crash, a timeout); $3 says which
# build and setup ran them.
failed_cases() {
	[[ -f $1 || -f $2 ]] || { echo "  $3: the run failed before writing its logs"; return; }
	python3 - "$1" "$2" "$3" <<-'EOF'
	import json, sys, xml.etree.ElementTree as ET
	junit, log, where = sys.argv[1:4]
	named = set()
	try:
	    for case in ET.parse(junit).iter("testcase"):
	        if case.find("failure") is not None or case.find("error") is not None:
	            suite = case.get("classname", "").split(".", 1)[-1]
	            named.add(suite)
	            print(f"  {suite}: {case.get('name')} ({where})")
	except (OSError, ET.ParseError):
	    pass
	try:
	    with open(log) as f:
	        for line in f:
	            test = json.loads(line)
	            if test.get("result") not in ("OK", "SKIP", "EXPECTEDFAIL") and test.get("name") not in named:
	                print(f"  {test.get('name')}: {test.get('result')} ({where})")
	except (OSError, ValueError):
	    pass
	EOF
}

phase() { printf '\n=== %s\n' "$*"; }

phase "gcc build and tests"
if CC=gcc meson setup build-gcc --wipe >/dev/null 2>&1 || CC=gcc meson setup build-gcc >/dev/null; then
	if ninja -C build-gcc >/dev/null; then
		meson test -C build-gcc --print-errorlogs --num-processes 2
		count_results build-gcc $?
		phase "gcc build, socket transport (UBINDER_TRANSPORT=socket)"
		# A stale log of an earlier run must not be counted if this one dies early.
		rm -f build-gcc/meson-logs/testlog-socket.junit.xml
		meson test -C build-gcc --setup socket --print-errorlogs --num-processes 2
		count_results build-gcc $? socket
	else
		ninja -C build-gcc | tail -40; failed=$((failed + 1))
	fi
else
	failed=$((failed + 1))
fi

phase "clang build with ASan+UBSan, tests and fuzzing"
if CC=clang meson setup build-asan --wipe -Db_sanitize=address,undefined -Db_lundef=false \
	-Dfuzzing=true >/dev/null 2>&1 || CC=clang meson setup build-asan -Db_sanitize=address,undefined \
	-Db_lundef=false -Dfuzzing=true >/dev/null; then
	if ninja -C build-asan >/dev/null; then
		UBINDER_FUZZ_SECONDS=${UBINDER_FUZZ_SECONDS:-20} \
			meson test -C build-asan --print-errorlogs --num-processes 2 --timeout-multiplier 3
		count_results build-asan $?
	else
		ninja -C build-asan | tail -40; failed=$((failed + 1))
	fi
else
	failed=$((failed + 1))
fi

if [[ ${UBINDER_SKIP_VM:-0} != 1 && -x scripts/conformance.sh ]]; then
	phase "conformance against the kernel driver"
	scripts/conformance.sh build-gcc | tee build-gcc/conformance.out
	rc=${PIPESTATUS[0]}
	while read -r _ n; do failures+=("  conformance (kernel): ${n%%:*}"); done < <(grep '^FAIL ' build-gcc/conformance.out)
	if [[ -f build-gcc/conformance/summary ]]; then
		read -r cp cf < build-gcc/conformance/summary
		passed=$((passed + cp)); failed=$((failed + cf))
		((rc != 0 && cf == 0)) && failed=$((failed + 1))
	elif ((rc != 0)); then
		failed=$((failed + 1))
	fi
fi

echo
if ((${#failures[@]} > 0)); then
	echo "failed tests:"
	printf '%s\n' "${failures[@]}" | sed '/^$/d'
fi
((skipped > 0)) && echo "($skipped skipped)"
echo "$passed passed, $failed failed"
((failed == 0))
