#!/usr/bin/env bash
# ubinderctl and ubinder-servicemanager against a real daemon: every
# subcommand, the typed arguments of `call`, and the error messages (no
# daemon, unknown name, bad usage). TAP output.
# Usage: test-tools.sh UBINDERD SERVICEMANAGER UBINDERCTL KVSTORE_SERVICE
set -uo pipefail

ubinderd=$1 servicemanager=$2 ctl=$3 kvservice=$4
source "$(dirname "${BASH_SOURCE[0]}")/tap.sh"
test_dir tools
sock=$dir/binder

echo "1..49"
expect_line "help" 0 "Usage: ubinderctl" "$ctl" --help
expect_line "usage error" 2 "missing command" "$ctl"
expect_line "unknown command" 2 "unknown command 'frobnicate'" "$ctl" --socket "$sock" frobnicate
expect_line "no daemon: list" 1 "no ubinderd at $sock \(is the daemon running\?\)" "$ctl" --socket "$sock" list
expect_line "no daemon: stats" 1 "no ubinderd at $sock" "$ctl" --socket "$sock" stats
expect_line "servicemanager help" 0 "context manager" "$servicemanager" --help

"$ubinderd" --socket "$sock" 2>"$dir/daemon.log" &
pids+=($!)
wait_for test -S "$sock"
expect_line "no service manager" 1 "no service manager is running" "$ctl" --socket "$sock" list

"$servicemanager" --socket "$sock" &
pids+=($!)
wait_for "$ctl" --socket "$sock" list
expect_line "empty list" 0 "^$" "$ctl" --socket "$sock" list
expect_line "second service manager refused" 1 "another one is running" "$servicemanager" --socket "$sock"
expect_line "unknown name: ping" 1 "no service named 'nothing.here'" "$ctl" --socket "$sock" ping nothing.here
expect_line "unknown name: call" 1 "no service named 'nothing.here'" "$ctl" --socket "$sock" call nothing.here 1

UBINDER_SOCKET=$sock "$kvservice" >/dev/null &
pids+=($!)
wait_for "$ctl" --socket "$sock" ping kvstore
expect_line "list" 0 "^kvstore$" "$ctl" --socket "$sock" list
expect_line "list via UBINDER_SOCKET" 0 "^kvstore$" env UBINDER_SOCKET="$sock" "$ctl" list
expect_line "list via --context beside --socket" 0 "^kvstore$" "$ctl" --socket "$sock" --context binder list
expect_line "ping" 0 "kvstore: alive, interface 'org.ubinder.example.IKeyValue'" \
	"$ctl" --socket "$sock" ping kvstore
expect_line "call put (typed string args)" 0 "ex: 0 \(no exception\)" \
	"$ctl" --socket "$sock" call --reply ex kvstore 1 s:colour s:blue
expect_line "call get, decoded reply" 0 's: "blue"' \
	"$ctl" --socket "$sock" call --reply ex,s kvstore 2 s:colour
expect_line "call count, raw dump" 0 "0000: 00000000 00000001" "$ctl" --socket "$sock" call kvstore 3
expect_line "call oneway" 0 "sent \(oneway\)" "$ctl" --socket "$sock" call --oneway kvstore 4 s:note
expect_line "call INTERFACE code" 0 's: "org.ubinder.example.IKeyValue"' \
	"$ctl" --socket "$sock" call --reply s kvstore INTERFACE
expect_line "call unknown code" 1 "UNKNOWN_TRANSACTION" "$ctl" --socket "$sock" call kvstore 77
expect_line "call bad typed argument" 2 "bad value in 'i32:zz'" "$ctl" --socket "$sock" call kvstore 3 i32:zz
expect_line "call without token is refused by the service" 1 "BAD_TYPE" \
	"$ctl" --socket "$sock" call --no-token kvstore 3 i32:1 u64:2 bool:true d:1.5 s8:x bytes:0aff null
expect_line "dump: the service writes to our stdout" 0 "^colour=blue$" "$ctl" --socket "$sock" dump kvstore -a
for level in 28 29 30 31 33 34 35 36; do
	expect_line "list --api-level $level" 0 "^kvstore$" "$ctl" --socket "$sock" --api-level "$level" list
	expect_line "ping --api-level $level" 0 "kvstore: alive" "$ctl" --socket "$sock" -a "$level" ping kvstore
done
expect_line "bad --api-level" 2 "takes 28 to 36" "$ctl" --socket "$sock" --api-level 27 list
expect_line "servicemanager: bad --api-level" 2 "takes 28 to 36" "$servicemanager" --api-level 40
expect_line "servicemanager: bad declared file" 1 "expected 'package.IName/instance" \
	bash -c "echo 'no-slash' > '$dir/declared' && '$servicemanager' --socket '$sock' --declared '$dir/declared'"
expect_line "stats" 0 "^procs: 2$" "$ctl" --socket "$sock" stats
expect_line "state and proc" 0 "proc $$|proc [0-9]+" "$ctl" --socket "$sock" proc "${pids[2]}"
expect_line "transactions and shrink" 0 "released [0-9]+ pages" \
	bash -c "'$ctl' --socket '$sock' transactions && '$ctl' --socket '$sock' state >/dev/null && '$ctl' --socket '$sock' shrink all"
# The daemon's socket reached through a symlinked directory: nobody trusts it.
ln -s "$dir" "$dir.link"
expect_line "symlinked directory: admin refused" 1 "refusing $dir.link/binder: the directory $dir.link is a symlink" \
	"$ctl" --socket "$dir.link/binder" stats
expect_line "symlinked directory: list refused" 1 "refusing .* is a symlink" "$ctl" --socket "$dir.link/binder" list
expect_line "symlinked directory: servicemanager refused" 1 "refusing .* is a symlink" \
	"$servicemanager" --socket "$dir.link/binder"
rm -f "$dir.link"
((failed == 0))
