#!/usr/bin/env bash
# Nested synchronous calls across the bridge, both directions, several call
# chains at once. Side B serves an INest (rpc-nest.c), exported over a Unix
# socket and TCP with its layout given in a file; side A imports both. On
# A, 4 threads each call ping(own INest, 5) 20 times: every call is a chain
# of 5 calls alternating A->B and B->A, each waiting inside the previous, so
# a reply given to the wrong chain shows as a wrong depth. Afterwards the
# callers' objects that crossed are given back (DEC_STRONG) and neither
# daemon holds more refs than before the calls. TAP output.
# Usage: test-rpc-nest.sh UBINDERD SERVICEMANAGER UBINDERCTL UBINDER_RPC RPC_NEST
set -uo pipefail

ubinderd=$1 servicemanager=$2 ctl=$3 rpc=$4 nest=$5
source "$(dirname "${BASH_SOURCE[0]}")/../lib/tap.sh"
test_dir rpc-nest

source "$(dirname "${BASH_SOURCE[0]}")/rpc-sides.sh"


# wait_equal WANT COMMAND...: up to 10 s for COMMAND to print WANT.
wait_equal() {
	local want=$1 got
	shift
	for _ in $(seq 100); do
		got=$("$@")
		[[ $got == "$want" ]] && return 0
		sleep 0.1
	done
	echo "# wanted $want, got $got"
	return 1
}

echo "1..15"
b=$dir/b/binder a=$dir/a/binder
cat >"$dir/layouts" <<'LAYOUT'
# INest.ping(INest peer, int depth) -> int
org.ubinder.test.INest 1 request binder:org.ubinder.test.INest i32
LAYOUT
echo "org.ubinder.test.INest one request binder" >"$dir/bad-layouts"
expect_output "a bad layout file is refused, with its line" 2 "bad-layouts:1: not a layout" \
	"$rpc" --socket "$b" --layout "$dir/bad-layouts" export --listen "unix:$dir/x" --service x
expect_output "a missing layout file is refused" 2 "cannot read $dir/none" \
	"$rpc" --socket "$b" --layout "$dir/none" export --listen "unix:$dir/x" --service x

start_side "$b" "$dir/daemon-b.log"
start_side "$a" "$dir/daemon-a.log"
UBINDER_SOCKET=$b "$nest" serve nest 2>"$dir/nest.log" &
pids+=($!)
wait_for "$ctl" --socket "$b" ping nest
"$rpc" --socket "$b" --layout "$dir/layouts" export --listen "unix:$dir/rpc" --service nest \
	2>"$dir/export.log" &
pids+=($!)
"$rpc" --socket "$b" --layout "$dir/layouts" export --listen tcp:127.0.0.1:0 --service nest \
	2>"$dir/export-tcp.log" &
export_tcp=$!
pids+=($export_tcp)
wait_for test -S "$dir/rpc"
wait_for grep -q "serving 'nest' on tcp:127.0.0.1:[1-9]" "$dir/export-tcp.log"
port=$(sed -n "s/.*serving 'nest' on tcp:127.0.0.1:\([0-9]*\)$/\1/p" "$dir/export-tcp.log")
"$rpc" --socket "$a" --layout "$dir/layouts" import --connect "unix:$dir/rpc" --as nest \
	2>"$dir/import.log" &
import_unix=$!
pids+=($import_unix)
"$rpc" --socket "$a" --layout "$dir/layouts" import --connect "tcp:127.0.0.1:$port" --as nest-tcp \
	2>"$dir/import-tcp.log" &
pids+=($!)
wait_for "$ctl" --socket "$a" ping nest
wait_for "$ctl" --socket "$a" ping nest-tcp

for name in nest nest-tcp; do
	a_refs=$(active ref "$a")
	b_refs=$(active ref "$b")
	expect_output "A -> B ($name): depth 1, one thread" 0 "20 calls of depth 1, 0 failed" \
		env UBINDER_SOCKET="$a" "$nest" call "$name" 1 1
	expect_output "A -> B ($name): depth 5, 4 chains at once" 0 "80 calls of depth 5, 0 failed" \
		env UBINDER_SOCKET="$a" "$nest" call "$name" 5 4
	wait_equal "$a_refs" active ref "$a"
	ok "A ($name): the callers' objects were given back, refs as before ($a_refs)" $?
	wait_equal "$b_refs" active ref "$b"
	ok "B ($name): the stand-ins are gone, refs as before ($b_refs)" $?
	ok "A, B ($name): no transaction in flight" \
		"$(($(active transaction "$a") + $(active transaction "$b")))"
done
# A call in flight when the far side goes: B's TCP export dies while B's
# service holds A's call; the import's session ends, the import exits, and
# A's caller gets DEAD_OBJECT, as when a local service's process dies.
UBINDER_SOCKET=$a "$nest" hang nest-tcp >"$dir/hang.log" 2>&1 &
hang=$!
pids+=($hang)
wait_for grep -q "hanging" "$dir/nest.log"
kill -KILL "$export_tcp"
timeout 8 tail --pid="$hang" -f /dev/null
expect_output "a call in flight across the lost bridge fails with DEAD_OBJECT" 0 \
	"hang: dead object" cat "$dir/hang.log"

# The Unix session ends: the export's count of what each side held then
# shows only the root on the peer's side and nothing on ours.
kill "$import_unix"
wait_for grep -q "a session ended" "$dir/export.log"
expect_output "export: at the session's end the peer held only the root, we nothing" 0 \
	"held 1 of our objects, we 0 of its; 0 DEC_STRONG ignored" cat "$dir/export.log"
reports=$(grep -l "Sanitizer\|runtime error" "$dir"/*.log)
[[ -z $reports ]] || sed 's/^/# /' $reports | head -40
ok "no sanitizer report from the bridges and daemons" "$((${#reports} != 0))"
exit $((failed != 0))
