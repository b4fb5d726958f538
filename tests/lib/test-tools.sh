#!/usr/bin/env bash
# ubinderctl and ubinder-servicemanager against a real daemon: every
# subcommand, the typed arguments of `call`, and the error messages (no
# daemon, unknown name, bad usage). TAP output.
# Usage: test-tools.sh UBINDERD SERVICEMANAGER UBINDERCTL KVSTORE_SERVICE
set -uo pipefail

ubinderd=$1 servicemanager=$2 ctl=$3 kvservice=$4
dir=$(mktemp -d /tmp/ubinder-tools.XXXXXX)
sock=$dir/binder
pids=()
source "$(dirname "${BASH_SOURCE[0]}")/tap.sh"

cleanup() {
	stop_pids "${pids[@]}"
	rm -rf "$dir"
}
trap cleanup EXIT

# expect DESCRIPTION EXIT-STATUS PATTERN COMMAND...: status and output (stdout+stderr) match.
expect() {
	local what=$1 status=$2 pattern=$3 out rc
	shift 3
	out=$("$@" 2>&1)
	rc=$?
	if ((rc != status)) || ! grep -qE -- "$pattern" <<<"$out"; then
		printf '# %s: exit %d (want %d), output:\n%s\n' "$what" "$rc" "$status" "$out" | sed '2,$s/^/#   /'
		ok "$what" 1
	else
		ok "$what" 0
	fi
}

wait_for() {
	for _ in $(seq 100); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

echo "1..49"
expect "help" 0 "Usage: ubinderctl" "$ctl" --help
expect "usage error" 2 "missing command" "$ctl"
expect "unknown command" 2 "unknown command 'frobnicate'" "$ctl" --socket "$sock" frobnicate
expect "no daemon: list" 1 "no ubinderd at $sock \(is the daemon running\?\)" "$ctl" --socket "$sock" list
expect "no daemon: stats" 1 "no ubinderd at $sock" "$ctl" --socket "$sock" stats
expect "servicemanager help" 0 "context manager" "$servicemanager" --help

"$ubinderd" --socket "$sock" 2>"$dir/daemon.log" &
pids+=($!)
wait_for test -S "$sock"
expect "no service manager" 1 "no service manager is running" "$ctl" --socket "$sock" list

"$servicemanager" --socket "$sock" &
pids+=($!)
wait_for "$ctl" --socket "$sock" list
expect "empty list" 0 "^$" "$ctl" --socket "$sock" list
expect "second service manager refused" 1 "another one is running" "$servicemanager" --socket "$sock"
expect "unknown name: ping" 1 "no service named 'nothing.here'" "$ctl" --socket "$sock" ping nothing.here
expect "unknown name: call" 1 "no service named 'nothing.here'" "$ctl" --socket "$sock" call nothing.here 1

UBINDER_SOCKET=$sock "$kvservice" >/dev/null &
pids+=($!)
wait_for "$ctl" --socket "$sock" ping kvstore
expect "list" 0 "^kvstore$" "$ctl" --socket "$sock" list
expect "list via UBINDER_SOCKET" 0 "^kvstore$" env UBINDER_SOCKET="$sock" "$ctl" list
expect "list via --context beside --socket" 0 "^kvstore$" "$ctl" --socket "$sock" --context binder list
expect "ping" 0 "kvstore: alive, interface 'org.ubinder.example.IKeyValue'" \
	"$ctl" --socket "$sock" ping kvstore
expect "call put (typed string args)" 0 "ex: 0 \(no exception\)" \
	"$ctl" --socket "$sock" call --reply ex kvstore 1 s:colour s:blue
expect "call get, decoded reply" 0 's: "blue"' \
	"$ctl" --socket "$sock" call --reply ex,s kvstore 2 s:colour
expect "call count, raw dump" 0 "0000: 00000000 00000001" "$ctl" --socket "$sock" call kvstore 3
expect "call oneway" 0 "sent \(oneway\)" "$ctl" --socket "$sock" call --oneway kvstore 4 s:note
expect "call INTERFACE code" 0 's: "org.ubinder.example.IKeyValue"' \
	"$ctl" --socket "$sock" call --reply s kvstore INTERFACE
expect "call unknown code" 1 "UNKNOWN_TRANSACTION" "$ctl" --socket "$sock" call kvstore 77
expect "call bad typed argument" 2 "bad value in 'i32:zz'" "$ctl" --socket "$sock" call kvstore 3 i32:zz
expect "call without token is refused by the service" 1 "BAD_TYPE" \
	"$ctl" --socket "$sock" call --no-token kvstore 3 i32:1 u64:2 bool:true d:1.5 s8:x bytes:0aff null
expect "dump: the service writes to our stdout" 0 "^colour=blue$" "$ctl" --socket "$sock" dump kvstore -a
for level in 28 29 30 31 33 34 35 36; do
	expect "list --api-level $level" 0 "^kvstore$" "$ctl" --socket "$sock" --api-level "$level" list
	expect "ping --api-level $level" 0 "kvstore: alive" "$ctl" --socket "$sock" -a "$level" ping kvstore
done
expect "bad --api-level" 2 "takes 28 to 36" "$ctl" --socket "$sock" --api-level 27 list
expect "servicemanager: bad --api-level" 2 "takes 28 to 36" "$servicemanager" --api-level 40
expect "servicemanager: bad declared file" 1 "expected 'package.IName/instance" \
	bash -c "echo 'no-slash' > '$dir/declared' && '$servicemanager' --socket '$sock' --declared '$dir/declared'"
expect "stats" 0 "^procs: 2$" "$ctl" --socket "$sock" stats
expect "state and proc" 0 "proc $$|proc [0-9]+" "$ctl" --socket "$sock" proc "${pids[2]}"
expect "transactions and shrink" 0 "released [0-9]+ pages" \
	bash -c "'$ctl' --socket '$sock' transactions && '$ctl' --socket '$sock' state >/dev/null && '$ctl' --socket '$sock' shrink all"
# The daemon's socket reached through a symlinked directory: nobody trusts it.
ln -s "$dir" "$dir.link"
expect "symlinked directory: admin refused" 1 "refusing $dir.link/binder: the directory $dir.link is a symlink" \
	"$ctl" --socket "$dir.link/binder" stats
expect "symlinked directory: list refused" 1 "refusing .* is a symlink" "$ctl" --socket "$dir.link/binder" list
expect "symlinked directory: servicemanager refused" 1 "refusing .* is a symlink" \
	"$servicemanager" --socket "$dir.link/binder"
rm -f "$dir.link"
((failed == 0))
