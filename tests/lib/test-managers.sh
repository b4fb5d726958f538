#!/usr/bin/env bash
# The skeleton both context managers share (tools/common/manager_loop):
# ubinder-servicemanager and ubinder-hwservicemanager each report a missing
# daemon and a running manager in one line, log "ready" and "stopping" with
# --verbose, and exit 0 on SIGTERM and SIGINT. TAP output.
# Usage: test-managers.sh UBINDERD SERVICEMANAGER HWSERVICEMANAGER
set -uo pipefail

ubinderd=$1
dir=$(mktemp -d /tmp/ubinder-managers.XXXXXX)
daemon=
source "$(dirname "${BASH_SOURCE[0]}")/tap.sh"

cleanup() {
	if [[ -n $daemon ]]; then
		kill -TERM "$daemon" 2>/dev/null
		wait "$daemon" 2>/dev/null
	fi
	rm -rf "$dir"
}
trap cleanup EXIT

# stops PROG SOCKET SIGNAL: a verbose manager serves, then SIGNAL stops it with status 0.
stops() {
	local prog=$1 sock=$2 sig=$3 name pid rc log=$dir/log
	name=$(basename "$prog")
	"$prog" --socket "$sock" --verbose 2>"$log" &
	pid=$!
	wait_for grep -q "^$name: ready" "$log"
	ok "$name: ready" $?
	expect_line "$name: a second one is refused" 1 "^$name: cannot become the context manager: another one is running$" \
		"$prog" --socket "$sock"
	kill "-$sig" "$pid"
	wait_for gone "$pid"
	kill -KILL "$pid" 2>/dev/null
	wait "$pid"
	rc=$?
	((rc == 0)) && grep -q "^$name: stopping$" "$log"
	ok "$name: SIG$sig stops it with status 0 (exit $rc)" $?
}

echo "1..10"
shift
for prog in "$@"; do
	name=$(basename "$prog")
	expect_line "$name: no daemon" 1 "^$name: cannot open the context at $dir/none: " \
		"$prog" --socket "$dir/none"
	expect_line "$name: a bad --client-interval" 2 "^$name: .*--client-interval.*'5'" \
		"$prog" --socket "$dir/none" --client-interval 5
done

"$ubinderd" --socket "$dir/binder" --context binder --context hwbinder 2>"$dir/daemon.log" &
daemon=$!
wait_for test -S "$dir/hwbinder"
stops "$1" "$dir/binder" TERM
stops "$2" "$dir/hwbinder" INT
exit $((failed > 0))
